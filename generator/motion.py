"""Motions: where each sprite is in each frame.

Positions are fractions of the free space (canvas size - sprite size) in [0, 1], as in the
original data handler of Srivastava et al. (2015); `pixel_offsets` turns them into pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.components import Component, Registry, parameter

MOTIONS = Registry("motion")


@dataclass(frozen=True)
class Bouncing(Component):
    """Straight lines at constant speed, reflected at the walls.

    step_length: distance per frame as a fraction of the free space, in (0, 1].
    """

    step_length: float = parameter(0.1, 0, 1, "distance per frame, as a fraction of the free space", open_low=True)

    def trajectories(self, state, num_frames: int) -> np.ndarray:
        """`(N, num_frames, K, 2)` float64 positions as (x, y) from a start `state`."""
        return bounce(*state, num_frames)


@MOTIONS.register
@dataclass(frozen=True)
class Classic(Bouncing):
    """Srivastava et al. (2015): x, y ~ U[0, 1), theta ~ U[0, 2 pi), velocity = step_length * (cos, sin)."""

    name = "classic"

    def start(self, rng: np.random.Generator, shape: tuple[int, int]):
        """Start positions and velocities `(N, K, 2)` float64 as (x, y) for `shape = (N, K)` sprites."""
        draws = rng.random((*shape, 3))
        theta = draws[..., 2] * (2 * np.pi)
        direction = np.stack([np.cos(theta), np.sin(theta)], axis=-1)
        return draws[..., :2].copy(), self.step_length * direction


@MOTIONS.register
@dataclass(frozen=True)
class Notebook(Bouncing):
    """The seed notebook: x, y, vx, vy ~ U[0, 1) (so motion starts towards +x, +y), velocity = step_length * (vx, vy)."""

    name = "notebook"

    def start(self, rng: np.random.Generator, shape: tuple[int, int]):
        draws = rng.random((*shape, 4))
        return draws[..., :2].copy(), self.step_length * draws[..., 2:]


def bounce(position: np.ndarray, velocity: np.ndarray, num_frames: int) -> np.ndarray:
    """Step `num_frames` times: move, then clamp to [0, 1] and flip the velocity at a wall.

    position, velocity: (N, K, 2) float64. Returns the position after each move,
    `(N, num_frames, K, 2)` float64: frame 0 is already one step from the start.
    The loop runs over time only; each step is whole-array over all N * K sprites.
    """
    position, velocity = position.copy(), velocity.copy()
    out = np.empty((num_frames, *position.shape))
    for t in range(num_frames):
        position += velocity
        wall = (position <= 0) | (position >= 1)
        np.clip(position, 0, 1, out=position)
        np.negative(velocity, out=velocity, where=wall)
        out[t] = position
    return out.transpose(1, 0, 2, 3)


def pixel_offsets(position: np.ndarray, free_space) -> np.ndarray:
    """Top-left corners `(..., 2)` int16 as (row, col) from positions `(..., 2)` as (x, y).

    free_space: the free (rows, cols) in pixels, an int or anything broadcasting to `(..., 2)`.
    Truncation, as in the original `int(free_space * position)`.
    """
    return (position[..., ::-1] * free_space).astype(np.int16)
