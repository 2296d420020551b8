"""Trajectories: where each sprite is in each frame.

Positions are fractions of the free space (image_size - sprite size) in [0, 1], as in the
original data handler of Srivastava et al. (2015); `pixel_offsets` turns them into pixels.
"""

from __future__ import annotations

import numpy as np

MOTIONS = ("classic", "notebook")


def start_state(motion: str, rng: np.random.Generator, shape: tuple[int, int], step_length: float):
    """Draw start positions and per-frame velocities for `shape = (N, K)` sprites.

    classic: x, y ~ U[0, 1), theta ~ U[0, 2 pi), velocity = step_length * (cos theta, sin theta).
    notebook: x, y, vx, vy ~ U[0, 1) (so motion starts towards +x, +y), velocity = step_length * (vx, vy).

    Returns `position (N, K, 2)` and `velocity (N, K, 2)` float64, both as (x, y).
    """
    if motion == "classic":
        draws = rng.random((*shape, 3))
        theta = draws[..., 2] * (2 * np.pi)
        direction = np.stack([np.cos(theta), np.sin(theta)], axis=-1)
    elif motion == "notebook":
        draws = rng.random((*shape, 4))
        direction = draws[..., 2:]
    else:
        raise ValueError(f"motion={motion!r} is not allowed: choose one of {', '.join(MOTIONS)}")
    return draws[..., :2].copy(), step_length * direction


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


def pixel_offsets(position: np.ndarray, free_space: int) -> np.ndarray:
    """Top-left corners `(..., 2)` int16 as (row, col) from positions `(..., 2)` as (x, y).

    Truncation, as in the original `int(free_space * position)`.
    """
    return (position[..., ::-1] * free_space).astype(np.int16)
