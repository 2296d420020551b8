"""Parametric curves: each object runs along a line, circle, sine wave, spiral or figure-8.

An object's curve is a row of `curves (K, 7) float32`, with the columns `COLUMNS`:

    kind       0 line, 1 circle, 2 sine, 3 spiral, 4 figure8 (`KINDS`)
    x, y       the centre (cx, cy below), as fractions of the free space
    size       the curve's radius (the sine: half its wavelength), as a fraction of the free space
    speed      radians of phase per frame; its sign says which way round
    phase      radians, the phase one frame before the first
    direction  radians, the angle of the curve's first axis u from +x towards +y (y is down)

The positions are defined by the following rule, evaluated in IEEE float64 from the float32
values, one operation at a time as written (left to right, parentheses first), for the frames
t = -1, 0, ..., T - 1 (frame -1 is one frame before the first, never drawn):

    s = speed * t + phase
    (c, n) = full_cos_sin(s);  (c4, n4) = full_cos_sin(s / 4);  (du, dv) = full_cos_sin(direction)
    (a, b) along the axes u = (du, dv) and v = (-dv, du), by kind:
        line     (c, 0)                   back and forth along a segment of half-length size
        circle   (c, n)
        sine     (s / pi, n / 2)          travels size / pi per radian; waves size / 2 high either side
        spiral   (n4 * c, n4 * n)         radius size * sin(s / 4): one turn out, one back in, every 4 pi
        figure8  (c, n * c)               the lemniscate of Gerono
    x = cx + size * (a * du - b * dv)
    y = cy + size * (a * dv + b * du)

where full_cos_sin(angle) is (cos angle, sin angle) from `generator.doodles.cos_sin` (plain
arithmetic, the same bytes on every machine), which works modulo pi: its two values are negated
where round(angle / pi) is odd (round half to even).
Then each coordinate p meets the edges: `edges=bounce` folds it back into [0, 1] like a mirror,
p = p % 2 then p = min(2 - p, p) (as TFDS's moving_sequence); `edges=clip` clamps it to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.components import choice, parameter
from generator.doodles import cos_sin
from generator.motion.base import MOTIONS, Motion, Track, appearing, speeds

KINDS = ("line", "circle", "sine", "spiral", "figure8")  # kind codes 0 .. 4
COLUMNS = ("kind", "x", "y", "size", "speed", "phase", "direction")  # the 7 numbers of a curve
EDGES = ("bounce", "clip")


@MOTIONS.register
@dataclass(frozen=True)
class Path(Motion):
    """Parametric curves (the module's rule) with a random centre ~ U[0, 1)^2, size and speed drawn
    per object from their ranges, speed's sign +-1 with equal chance, phase and direction ~ U[0, 2 pi);
    the kind is `curve`, or for "any" one of `KINDS` with equal chance per object."""

    name = "path"

    curve: str = choice("any", ("any", *KINDS), "the curve objects run along; any: one drawn per object")
    size: float | tuple[float, float] = parameter(
        (0.2, 0.4), 0, 1, "the curve's radius, as a fraction of the free space", open_low=True, span=True)
    speed: float | tuple[float, float] = parameter(
        (0.1, 0.3), 0, np.pi, "radians of the curve's phase per frame", open_low=True, span=True)
    edges: str = choice("bounce", EDGES, "fold positions back into the canvas like a mirror, or clamp them to it")
    appear: float = appearing()

    def start(self, rng, shape, num_frames):
        """`curves (N, K, 7) float32`, the recorded curves (`COLUMNS`)."""
        draws = rng.random((*shape, 6))
        kind = np.floor(draws[..., 0] * len(KINDS)) if self.curve == "any" else KINDS.index(self.curve)
        way = np.where(draws[..., 5] < 0.5, -1.0, 1.0)  # which way round
        size = speeds(rng, shape, self.size)  # one draw per object for a (min, max) pair
        speed = way * speeds(rng, shape, self.speed)
        phase, direction = draws[..., 3] * (2 * np.pi), draws[..., 4] * (2 * np.pi)
        columns = (kind, draws[..., 1], draws[..., 2], size, speed, phase, direction)
        return {"curves": np.stack(np.broadcast_arrays(*columns), axis=-1).astype(np.float32)}

    def track(self, state, num_frames, space):
        curves = state["curves"].astype(np.float64)[:, None]  # (N, 1, K, 7): broadcast over frames
        kind, cx, cy, size, speed, phase, direction = np.moveaxis(curves, -1, 0)
        t = np.arange(-1, num_frames, dtype=np.float64)[:, None]  # (T + 1, 1)
        s = speed * t + phase  # (N, T + 1, K)
        c, n = full_cos_sin(s)
        c4, n4 = full_cos_sin(s / 4)
        du, dv = full_cos_sin(direction)
        zero = np.zeros_like(s)
        a = np.choose(kind.astype(np.int64), [c, c, s / np.pi, n4 * c, c])
        b = np.choose(kind.astype(np.int64), [zero, n, n / 2, n4 * n, n * c])
        x = cx + size * (a * du - b * dv)
        y = cy + size * (a * dv + b * du)
        positions = np.stack([x, y], axis=-1)
        if self.edges == "bounce":
            positions = positions % 2
            positions = np.minimum(2 - positions, positions)
        else:
            positions = np.clip(positions, 0, 1)
        return Track(positions, {"curves": state["curves"]})


def full_cos_sin(angle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin of `angle` (float64, any shape) by `cos_sin`, which works modulo pi: both are
    negated where round(angle / pi) is odd (`cos_sin` took off an odd number of half turns)."""
    c, n = cos_sin(angle)
    odd = np.round(angle / np.pi) % 2 == 1
    return np.where(odd, -c, c), np.where(odd, -n, n)
