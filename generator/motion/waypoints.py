"""Paths through random waypoints (seed 002's animations): a Brownian bridge, a cubic spline.

Each object passes through `waypoints` points W drawn U[0, 1)^2 (fractions of its free space), at
the keyframes `paths.key_frames(W, -1, T - 1)`: from frame -1 (one frame before the first, never
drawn) to the last frame T - 1, spread evenly and rounded to whole frames. Track index i is frame i - 1.

Positions are not clamped: between waypoints a path may swing past the edges of the free space,
so that part of an object leaves the canvas for a while (the renderer draws what is inside).

Ground truth: `waypoints (K, W, 2) float32` (x, y) and `waypoint_frames (W,) int16`, the keyframes;
the path is computed from the float32 waypoints, so that it passes through the record exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator import paths
from generator.components import parameter
from generator.motion.base import MOTIONS, Motion, Track, appearing


@dataclass(frozen=True)
class Waypoints(Motion):
    """A path through W random waypoints per object; subclasses say which path."""

    waypoints: int = parameter(
        4, 2, 16, "points each object passes through, from one frame before the first to the last")

    def start(self, rng, shape, num_frames):
        """`waypoints (N, K, W, 2) float32`: U[0, 1)^2, rounded to float32 (the recorded values)."""
        return {"waypoints": rng.random((*shape, self.waypoints, 2)).astype(np.float32)}

    def confined(self) -> bool:
        return False  # a spline overshoots its waypoints, a bridge wanders

    def check_with(self, num_frames, image_size, box, max_objects):
        if self.waypoints > num_frames + 1:
            raise ValueError(
                f"motion.waypoints={self.waypoints} must be at most num_frames + 1 = {num_frames + 1}: "
                "each waypoint has a frame of its own, from one frame before the first to the last")

    def track(self, state, num_frames, space):
        key_frames = paths.key_frames(self.waypoints, -1, num_frames - 1)
        keys = state["waypoints"].astype(np.float64)  # (N, K, W, 2)
        positions = self.path(keys, key_frames, state).transpose(0, 2, 1, 3)  # (N, K, T + 1, 2) -> (N, T + 1, K, 2)
        frames = np.tile(key_frames.astype(np.int16), (len(keys), 1))
        return Track(positions, {"waypoints": state["waypoints"], "waypoint_frames": frames})

    def path(self, keys: np.ndarray, key_frames: np.ndarray, state: dict) -> np.ndarray:
        """`(N, K, T + 1, 2)` float64 through `keys (N, K, W, 2)` at `key_frames (W,)`."""
        raise NotImplementedError


@MOTIONS.register
@dataclass(frozen=True)
class Bridge(Waypoints):
    """Straight lines from waypoint to waypoint at constant speed, plus a Brownian bridge (seed 002).

    In a segment from keyframe a to keyframe b, per axis, position(f) = linear(f) + Y_f with
    Y_f = X_f - (f - a) / (b - a) * X_b, where X is a Gaussian random walk that is 0 at a and takes
    one step of standard deviation `sigma` per frame. Y is 0 at every waypoint, and given that, its
    steps have variance sigma^2 (1 - 1 / (b - a)); sigma = 0 is the straight path.
    The walk's steps are drawn in `start`: `steps (N, K, T + 1, 2)` float64, standard normal
    (the first frame's is not used).
    """

    name = "bridge"

    sigma: float = parameter(
        0.05, 0, 1, "standard deviation of the random walk's step per frame, as a fraction of the free space")
    appear: float = appearing()

    def start(self, rng, shape, num_frames):
        state = super().start(rng, shape, num_frames)
        state["steps"] = rng.standard_normal((*shape, num_frames + 1, 2))
        return state

    def path(self, keys, key_frames, state):
        return paths.bridge(keys, key_frames, self.sigma * state["steps"])


@MOTIONS.register
@dataclass(frozen=True)
class Spline(Waypoints):
    """The natural cubic spline through the waypoints (seed 002): per axis a cubic in the frame
    between keyframes, equal to each waypoint at its keyframe, with continuous first and second
    derivatives, and second derivative 0 at the first and last waypoint."""

    name = "spline"

    appear: float = appearing()

    def path(self, keys, key_frames, state):
        return paths.spline(keys, key_frames)
