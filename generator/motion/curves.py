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
from typing import NamedTuple

import numpy as np

from generator.components import choice, parameter
from generator.doodles import cos_sin_reduced
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
        spiral = kind == 3  # g = n4 for the spiral only: the others' quarter angles are not computed
        quarters = np.stack([first[spiral], speed[spiral]]) / 4  # (2, M): s / 4 at frame -1, its step
        cos, sin = full_cos_sin(np.concatenate([first, speed, direction, quarters], axis=None))  # one call: it costs
        (c, c4), (n, n4) = (np.split(values, [3 * kind.size]) for values in (cos, sin))
        c, n = c.reshape(3, *kind.shape), n.reshape(3, *kind.shape)  # of first, speed, direction
        rotation = np.empty((2, 2, 2, *kind.shape))  # at frame -1 and per frame: cos, sin: of s, of s / 4
        rotation[:, 0, 0], rotation[:, 1, 0] = c[:2], n[:2]
        quarter = rotation[:, :, 1]
        quarter[...] = _QUARTER  # for all but the spiral: the quarter angle (0, 1), turned by (1, 0)
        quarter[..., spiral] = np.stack([c4.reshape(2, -1), n4.reshape(2, -1)], axis=1)
        curve = _Curve(
            turn=rotation[0], step_cos=rotation[1, 0], step_sin=np.stack([-rotation[1, 1], rotation[1, 1]]),
            weights=np.array(WEIGHTS)[:, kind.astype(np.intp)], speed=speed, phase=phase,
            axes=np.stack([c[2], n[2], -n[2], c[2]]).reshape(2, 2, 1, *kind.shape), size=size,
            centre=np.stack([cx, cy])[:, None])
        positions = np.empty((num_frames + 1, *kind.shape, 2))  # (T + 1, N, K, 2), filled a few frames at a time
        step = max(1, _CHUNK_VALUES // kind.size)
        buffers = _Buffers(min(step, num_frames + 1), kind.shape)
        for lo in range(0, num_frames + 1, step):
            part = positions[lo : lo + step]
            xy = curve.draw(np.arange(lo - 1, lo - 1 + len(part), dtype=np.float64), buffers)
            if self.edges == "bounce":
                fold(xy, out=xy)
            else:
                np.clip(xy, 0, 1, out=xy)
            part[..., 0], part[..., 1] = xy  # faster than folding into the strided views
        return Track(positions.transpose(1, 0, 2, 3), {"curves": state["curves"]})


WEIGHTS = ((1, 1, 0, 1, 1), (0, 0, 1 / np.pi, 0, 0), (0, 1, 0.5, 1, 0), (0, 0, 0, 0, 1))  # wc, ws, wn, wf by kind
_QUARTER = np.array([[0.0, 1.0], [1.0, 0.0]]).reshape(2, 2, 1, 1)  # (c4, n4) at frame -1, (C4, S4) for g = 1
_CHUNK_VALUES = 16384  # frames x objects drawn at once: their work buffers stay in the CPU cache


class _Buffers:
    """Work buffers for up to F frames of (N, K) objects, allocated once per track."""

    def __init__(self, frames: int, shape: tuple[int, int]):
        self.turns = np.empty((frames + 1, 2, 2, *shape))  # (c, c4), (n, n4) in the frame before, then per frame
        self.turned = np.empty((2, 2, *shape))  # the second product of a rotation step
        self.s, self.a, self.b = (np.empty((frames, *shape)) for _ in range(3))
        self.xy, self.by = np.empty((2, frames, *shape)), np.empty((2, frames, *shape))


class _Curve(NamedTuple):
    """Each object's curve, prepared for the rule: (N, K) arrays, or stacks of them as noted."""

    turn: np.ndarray  # (2, 2, N, K): (c, c4), (n, n4) at frame -1
    step_cos: np.ndarray  # (2, N, K): C, C4
    step_sin: np.ndarray  # (2, 2, N, K): (-S, -S4), (S, S4): the rotation step adds these products
    weights: np.ndarray  # (4, N, K): wc, ws, wn, wf
    speed: np.ndarray
    phase: np.ndarray
    axes: np.ndarray  # (2, 2, 1, N, K): what a, then b, are multiplied by for x and y: (du, dv), (-dv, du)
    size: np.ndarray
    centre: np.ndarray  # (2, 1, N, K): cx, cy

    def draw(self, frames: np.ndarray, buffers: _Buffers) -> np.ndarray:
        """The positions before the edges, `(2, F, N, K)` (x, then y), at `frames (F,)` t (-1 for the first
        frame ever), in `buffers`; the rotation starts at t = -1 or continues from the previous call's last frame."""
        turns = buffers.turns
        for i, t in enumerate(frames, start=1):
            if t == -1:
                turns[i] = self.turn
            else:  # c' = c C + n (-S), n' = n C + c S: the same bytes as c C - n S, n C + c S
                np.multiply(turns[i - 1], self.step_cos, out=turns[i])
                np.multiply(turns[i - 1, ::-1], self.step_sin, out=buffers.turned)
                turns[i] += buffers.turned
        c, n, g = (turns[1 : len(frames) + 1, row, column] for row, column in ((0, 0), (1, 0), (1, 1)))
        wc, ws, wn, wf = self.weights
        s, a, b = (array[: len(frames)] for array in (buffers.s, buffers.a, buffers.b))
        xy, by = buffers.xy[:, : len(frames)], buffers.by[:, : len(frames)]
        np.multiply(frames[:, None, None], self.speed, out=s)
        s += self.phase
        s *= ws
        np.multiply(c, wc, out=a)  # a = g (wc c) + ws s
        a *= g
        a += s
        np.multiply(c, wf, out=b)  # b = g ((wn + wf c) n)
        b += wn
        b *= n
        b *= g
        np.multiply(a, self.axes[0], out=xy)  # x = cx + size (a du + b (-dv)), y = cy + size (a dv + b du)
        np.multiply(b, self.axes[1], out=by)
        xy += by
        xy *= self.size
        xy += self.centre
        turns[0] = turns[len(frames)]  # where the next call continues
        return xy


def full_cos_sin(angle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin of `angle` (float64, any shape) by `cos_sin`, which works modulo pi: both are
    negated where round(angle / pi) is odd (`cos_sin` took off an odd number of half turns)."""
    turns = np.round(angle / np.pi)
    c, n = cos_sin_reduced(angle - np.pi * turns)  # = cos_sin(angle)
    halves = turns * 0.5
    odd = halves - np.floor(halves) == 0.5  # as turns % 2 == 1, also for NaN and infinities (False)
    flip = np.left_shift(odd, 63, dtype=np.uint64)  # negated where odd: the sign bit (no branch per value)
    c.view(np.uint64)[...] ^= flip
    n.view(np.uint64)[...] ^= flip
    return c, n
