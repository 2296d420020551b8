"""Straight lines at constant speed, reflected at the walls (or passing through them)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.components import choice, parameter
from generator.motion.base import EDGES, MOTIONS, Motion, Space, Track, appearing, speeds


@dataclass(frozen=True)
class Bouncing(Motion):
    """Straight lines at `step_length` per frame (a fraction of the free space), clamped and reflected
    at the walls (`edges=bounce`), or passing through them (`edges=pass`): then objects start anywhere
    from just outside one edge to just outside the other, and leave for good."""

    step_length: float | tuple[float, float] = parameter(
        0.1, 0, 1, "distance per frame, as a fraction of the free space", open_low=True, span=True)
    edges: str = choice("bounce", EDGES, "bounce off the canvas's edges, or pass through them (enter and leave)")
    appear: float = appearing()

    def confined(self) -> bool:
        return self.edges == "bounce"

    def track(self, state, num_frames: int, space: Space) -> Track:
        position, velocity = state["position"], state["velocity"]
        if self.edges == "bounce":
            return Track(bounce(position, velocity, num_frames), {})
        # from fully outside one edge (-size) to fully outside the other (free + size), in pixels
        position = (position * (space.free + 2 * space.sizes) - space.sizes) / space.free
        frames = np.arange(num_frames + 1, dtype=np.float64)[:, None, None]
        return Track(position[:, None] + frames * velocity[:, None], {})


@MOTIONS.register
@dataclass(frozen=True)
class Classic(Bouncing):
    """Srivastava et al. (2015): x, y ~ U[0, 1), theta ~ U[0, 2 pi), velocity = step_length * (cos, sin)."""

    name = "classic"

    def start(self, rng, shape, num_frames):
        draws = rng.random((*shape, 3))
        theta = draws[..., 2] * (2 * np.pi)
        direction = np.stack([np.cos(theta), np.sin(theta)], axis=-1)
        speed = speeds(rng, shape, self.step_length)
        return {"position": draws[..., :2].copy(), "velocity": np.asarray(speed)[..., None] * direction}


@MOTIONS.register
@dataclass(frozen=True)
class Notebook(Bouncing):
    """The seed notebook: x, y, vx, vy ~ U[0, 1) (so motion starts towards +x, +y), velocity = step_length * (vx, vy)."""

    name = "notebook"

    def start(self, rng, shape, num_frames):
        draws = rng.random((*shape, 4))
        speed = speeds(rng, shape, self.step_length)
        return {"position": draws[..., :2].copy(), "velocity": np.asarray(speed)[..., None] * draws[..., 2:]}


def bounce(position: np.ndarray, velocity: np.ndarray, num_frames: int) -> np.ndarray:
    """Step `num_frames` times: move, then clamp to [0, 1] and flip the velocity at a wall.

    position, velocity: (N, K, 2) float64. Returns the start and the position after each move,
    `(N, num_frames + 1, K, 2)` float64: frame 0 is already one step from the start.
    The loop runs over time only; each step is whole-array over all N * K sprites.
    """
    position, velocity = position.copy(), velocity.copy()
    out = np.empty((num_frames + 1, *position.shape))
    out[0] = position
    for t in range(1, num_frames + 1):
        position += velocity
        wall = (position <= 0) | (position >= 1)
        np.clip(position, 0, 1, out=position)
        np.negative(velocity, out=velocity, where=wall)
        out[t] = position
    return out.transpose(1, 0, 2, 3)
