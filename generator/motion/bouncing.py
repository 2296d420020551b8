"""Straight lines at constant speed, reflected at the walls (or passing through them), stepped or in closed form."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.components import parameter
from generator.doodles import cos_sin
from generator.motion.base import MOTIONS, Motion, Space, Track, appearing, edging, fold, speeds


def stepping():
    """The `step_length` parameter: a speed, or a (min, max) range of speeds drawn per object."""
    return parameter(0.1, 0, 1, "distance per frame, as a fraction of the free space", open_low=True, span=True)


@dataclass(frozen=True)
class Bouncing(Motion):
    """Straight lines at `step_length` per frame (a fraction of the free space), clamped and reflected
    at the walls (`edges=bounce`), or passing through them (`edges=pass`): then objects start anywhere
    from just outside one edge to just outside the other, and leave for good."""

    step_length: float | tuple[float, float] = stepping()
    edges: str = edging()
    appear: float = appearing()

    def confined(self) -> bool:
        return self.edges == "bounce"

    def track(self, state, num_frames: int, space: Space) -> Track:
        position, velocity = state["position"], state["velocity"]
        if self.edges == "bounce":
            return Track(bounce(position, velocity, num_frames), {})
        position = entering(position, space)
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


def entering(position: np.ndarray, space: Space) -> np.ndarray:
    """Start positions `(N, K, 2)` U[0, 1) draws spread from fully outside one edge to fully outside the
    other (`edges=pass`): `(position * (free + 2 size) - size) / free`, -size .. free + size in pixels."""
    return (position * (space.free + 2 * space.sizes) - space.sizes) / space.free


def launch(rng: np.random.Generator, shape: tuple[int, int], step_length) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Classic's start in plain arithmetic: the same draws, with `cos_sin` for the direction.

    Returns position `(N, K, 2)` ~ U[0, 1), direction `(N, K, 2)` = (cos theta, sin theta) for
    theta = 2 pi u, u ~ U[0, 1), and speed `(N, K)` float64 from `step_length` (one per object for a range).
    """
    draws = rng.random((*shape, 3))
    # `cos_sin` gives (cos, sin) up to a turn by pi: take the half angle, then cos 2a = c^2 - s^2, sin 2a = 2 c s
    cos, sin = cos_sin(draws[..., 2] * np.pi)
    direction = np.stack([cos * cos - sin * sin, 2 * cos * sin], axis=-1)
    speed = np.broadcast_to(speeds(rng, shape, step_length), shape).copy()
    return draws[..., :2].copy(), direction, speed


@MOTIONS.register
@dataclass(frozen=True)
class Mirror(Motion):
    """TensorFlow Datasets' `image_as_moving_sequence`: straight lines reflected exactly at the walls, in closed form.

    Start x, y ~ U[0, 1), theta ~ U[0, 2 pi), velocity v = step_length * (cos theta, sin theta).
    Frame t (t = -1 for the entry before the first frame) unfolds to p = start + v t, so frame 0 is
    the start itself, and folds into [0, 1] per axis by q = p % 2, min(2 - q, q): a path that overshoots a
    wall by d ends d inside it (no clamping, so it touches a wall only where it lands exactly on one).
    Pixels are floored as for every motion (`pixel_offsets`), where TFDS rounds.
    """

    name = "mirror"

    step_length: float | tuple[float, float] = stepping()
    appear: float = appearing()

    def start(self, rng, shape, num_frames):
        position, direction, speed = launch(rng, shape, self.step_length)
        return {"position": position, "velocity": speed[..., None] * direction}

    def track(self, state, num_frames: int, space: Space) -> Track:
        frames = np.arange(-1, num_frames, dtype=np.float64)[:, None, None]
        return Track(fold(state["position"][:, None] + frames * state["velocity"][:, None]), {})
