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
    (c, n) ~ (cos s, sin s), and for the spiral (c4, n4) ~ (cos s/4, sin s/4), by rotation frame by
    frame: at t = -1 full_cos_sin(phase - speed) (resp. full_cos_sin((phase - speed) / 4)), then
    with (C, S) = full_cos_sin(speed) (resp. full_cos_sin(speed / 4)):
        c_(t+1) = c_t * C - n_t * S,   n_(t+1) = n_t * C + c_t * S
    (within ~1e-15 * (t + 2) of cos and sin); (du, dv) = full_cos_sin(direction)
    g = n4 for the spiral, 1 for the other kinds (exactly: their quarter rotation is (0, 1) by (1, 0))
    a = g * (wc * c) + ws * s,   b = g * ((wn + wf * c) * n)   with per kind (wc, ws, wn, wf):
        line     (1, 0, 0, 0)         (c, 0): back and forth along a segment of half-length size
        circle   (1, 0, 1, 0)         (c, n)
        sine     (0, 1 / pi, 1/2, 0)  (s / pi, n / 2): travels size / pi per radian; waves size / 2 high
        spiral   (1, 0, 1, 0)         (n4 c, n4 n): radius size * sin(s / 4), one turn out, one back in, every 4 pi
        figure8  (1, 0, 0, 1)         (c, c n): the lemniscate of Gerono
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
from generator.motion.base import MOTIONS, Motion, Track, appearing, fold, speeds

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
        kind, cx, cy, size, speed, phase, direction = np.moveaxis(state["curves"].astype(np.float64), -1, 0)
        first = phase - speed  # s at frame -1
        cos, sin = full_cos_sin(np.stack([first, first / 4, speed, speed / 4, direction]))  # (5, N, K)
        spiral = kind == 3
        cos[1], sin[1], cos[3], sin[3] = (np.where(spiral, v, other) for v, other in zip(
            (cos[1], sin[1], cos[3], sin[3]), (0.0, 1.0, 1.0, 0.0)))  # g = 1 for the other kinds
        (c, _), (n, g) = rotations(cos[:2], sin[:2], cos[2:4], sin[2:4], num_frames + 1)  # (N, T + 1, K)
        wc, ws, wn, wf = (np.array(w)[kind.astype(np.int64)][:, None] for w in WEIGHTS)  # (N, 1, K)
        s = speed[:, None] * np.arange(-1, num_frames, dtype=np.float64)[:, None] + phase[:, None]
        a = g * (wc * c) + ws * s
        b = g * ((wn + wf * c) * n)
        du, dv, size = cos[4][:, None], sin[4][:, None], size[:, None]
        positions = np.empty((*c.shape, 2))
        positions[..., 0] = cx[:, None] + size * (a * du - b * dv)
        positions[..., 1] = cy[:, None] + size * (a * dv + b * du)
        positions = fold(positions) if self.edges == "bounce" else np.clip(positions, 0, 1)
        return Track(positions, {"curves": state["curves"]})


WEIGHTS = ((1, 1, 0, 1, 1), (0, 0, 1 / np.pi, 0, 0), (0, 1, 0.5, 1, 0), (0, 0, 0, 0, 1))  # wc, ws, wn, wf by kind


def rotations(cos, sin, step_cos, step_sin, count):
    """`(cos, sin)` of `(..., N, K)`, rotated `count - 1` times by `(step_cos, step_sin)`, frame by frame:
    `(2, ..., N, count, K)`, the cos and sin at each frame (the module's rule)."""
    out = np.empty((2, *cos.shape[:-1], count, cos.shape[-1]))
    out[0, ..., 0, :], out[1, ..., 0, :] = cos, sin
    for t in range(1, count):
        c, n = out[0, ..., t - 1, :], out[1, ..., t - 1, :]
        out[0, ..., t, :] = c * step_cos - n * step_sin
        out[1, ..., t, :] = n * step_cos + c * step_sin
    return out


def full_cos_sin(angle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin of `angle` (float64, any shape) by `cos_sin`, which works modulo pi: both are
    negated where round(angle / pi) is odd (`cos_sin` took off an odd number of half turns)."""
    c, n = cos_sin(angle)
    odd = np.round(angle / np.pi) % 2 == 1
    return np.where(odd, -c, c), np.where(odd, -n, n)
