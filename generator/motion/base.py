"""What every motion is: its parameters, the space it moves in, and the track it returns.

A motion works in the coordinates of the original data handler (Srivastava et al. 2015): each axis
of an object's free space (canvas size - sprite size) is [0, 1], so that 0 puts the sprite against
the left (top) edge and 1 against the right (bottom) edge, and (x, y) is (across, down).
`generate` turns positions into pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from generator.components import Component, Registry, bounds, choice, parameter

MOTIONS = Registry("motion")

# the edges of the canvas: objects bounce off them, or pass through them, entering and leaving
EDGES = ("bounce", "pass")


class Space(NamedTuple):
    """Where a range of sequences' objects move.

    free: (N, K, 2) float64, each object's free space in pixels as (x, y): canvas - sprite size.
    sizes: (N, K, 2) float64, each object's sprite (box) size in pixels as (x, y).
    present: (N, K) bool, whether the object exists (False: padding past the sequence's object count).
    """

    free: np.ndarray
    sizes: np.ndarray
    present: np.ndarray


class Track(NamedTuple):
    """A motion's result for a range of sequences.

    positions: (N, T + 1, K, 2) float64 (x, y) in units of the free space; `positions[:, 0]` is
        where each object was one frame before the first frame (never drawn: velocities start from it),
        `positions[:, t + 1]` is frame t.
    truth: the motion's own ground truth by field name (`generator.fields`), each `(N, ...)`.
    """

    positions: np.ndarray
    truth: dict[str, np.ndarray]


@dataclass(frozen=True)
class Motion(Component):
    """How objects move. `start` draws, per block of sequences, everything random the motion needs;
    `track` turns a range's draws into positions, deterministically.

    Every motion has the parameter `appear` (declared by `appearing()`, last of its parameters): the
    chance that an object first shows at a random frame instead of the first frame.
    """

    def start(self, rng: np.random.Generator, shape: tuple[int, int], num_frames: int) -> dict[str, np.ndarray]:
        """The random draws of a block: arrays `(N, ...)` for `shape = (N, K)` objects, so that a range is a slice."""
        raise NotImplementedError

    def track(self, state: dict[str, np.ndarray], num_frames: int, space: Space) -> Track:
        raise NotImplementedError

    def confined(self) -> bool:
        """Whether every position stays in [0, 1], so that each object is always wholly in sight."""
        return True

    def check_with(self, num_frames: int, image_size: int, box: tuple[int, int], max_objects: int) -> None:
        """Checks against the rest of the spec (box: the largest sprite, (rows, cols)); ValueError if they clash."""

    def first_frames(self, rng: np.random.Generator, shape: tuple[int, int], num_frames: int) -> np.ndarray:
        """`(N, K)` int16: the frame each object first shows in (0 unless it appears late; `appear` stream)."""
        draws = rng.random((*shape, 2))
        late = draws[..., 0] < self.appear
        return np.where(late, np.floor(draws[..., 1] * num_frames), 0).astype(np.int16)


def appearing():
    """The `appear` parameter, which every motion has."""
    return parameter(0.0, 0, 1, "the chance that an object first shows at a random frame, not the first")


def edging():
    """The `edges` parameter of motions that may bounce off the canvas's edges or pass through them."""
    return choice("bounce", EDGES, "bounce off the canvas's edges, or pass through them (enter and leave)")


def fold(positions: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Positions unfolded past the walls, folded back into [0, 1] like a mirror: q = p % 2, min(2 - q, q).

    out: where to write them (may be `positions` itself); a new array if None. q is computed as
    p - 2 floor(p / 2), then the result is raised to at least 0: the same bytes as numpy's `%` for
    every float64 p (which takes r = fmod(p, 2), exact, and adds 2 where r < 0).
    For p >= 0, 2 floor(p / 2) <= p < 2 floor(p / 2) + 2, so the subtraction is exact (Sterbenz) and
    equals r; for p < 0 both round the same real number, r + 2, once. The one exception is the
    smallest negative float, whose half rounds to -0: q = p there, and the raise gives numpy's 0.
    (numpy's float remainder is ten times slower than these seven passes.)
    """
    q = np.multiply(positions, 0.5)
    np.floor(q, out=q)
    q *= 2
    np.subtract(positions, q, out=q)
    folded = np.subtract(2, q, out=out)
    np.minimum(folded, q, out=folded)
    return np.maximum(folded, 0, out=folded)


def speeds(rng: np.random.Generator, shape: tuple[int, ...], step_length) -> np.ndarray | float:
    """Each object's speed: `step_length`, or for a (min, max) pair one U[min, max) draw per object.

    A single number draws nothing, so that a preset's draws do not change when speeds became pairs.
    """
    if not isinstance(step_length, tuple):
        return step_length
    low, high = bounds(step_length)
    return low + (high - low) * rng.random(shape)


def pixel_offsets(position: np.ndarray, free_space) -> np.ndarray:
    """Top-left corners `(..., 2)` int16 as (row, col) from positions `(..., 2)` as (x, y).

    free_space: the free (rows, cols) in pixels, an int or anything broadcasting to `(..., 2)`.
    The floor, as the original `int(free_space * position)` for positions inside the canvas.
    """
    return np.floor(position[..., ::-1] * free_space).astype(np.int16)
