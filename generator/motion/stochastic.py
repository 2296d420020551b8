"""Random velocities: a new random direction at each wall hit (`stochastic`), or a Gaussian random walk (`brownian`).

Both draw every random number of a block in `start` (per frame and object), so that `track` is
arithmetic on a slice of the draws, the same whatever range of sequences asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.components import bounds, parameter
from generator.doodles import cos_sin_reduced
from generator.motion.base import MOTIONS, Motion, Space, Track, appearing, edging
from generator.motion.bouncing import entering, launch, stepping


@MOTIONS.register
@dataclass(frozen=True)
class Stochastic(Motion):
    """Denton & Fergus (SVG, 2018): straight lines, and a new random direction at each wall hit.

    Start x, y ~ U[0, 1), theta ~ U[0, 2 pi), speed `step_length` (per object for a range).
    Each frame: move by the velocity; on each axis where the position is <= 0 or >= 1, clamp it to
    [0, 1]: a hit. After a hit the velocity is speed * a new direction, pointing away from the wall(s)
    hit, from the frame's draw u ~ U[0, 1) for the object (sx = +1 for a hit at 0, -1 at 1):
      - on x only: (sx cos phi, sin phi), phi = pi (u - 1/2): uniform over the half-plane away from the wall;
      - on y only: (sin phi, sy cos phi);
      - on both (a corner): (sx cos phi, sy |sin phi|): uniform over the quadrant away from both walls.
    Between hits the velocity is constant; the speed never changes.
    """

    name = "stochastic"

    step_length: float | tuple[float, float] = stepping()
    appear: float = appearing()

    def start(self, rng, shape, num_frames):
        position, direction, speed = launch(rng, shape, self.step_length)
        turns = rng.random((shape[0], num_frames, shape[1]))
        return {"position": position, "speed": speed, "velocity": speed[..., None] * direction, "turns": turns}

    def track(self, state, num_frames: int, space: Space) -> Track:
        n, k = state["speed"].shape
        flat = n * k  # every object of every sequence on one axis: (N * K, ...) views
        velocity = state["velocity"].reshape(flat, 2).copy()
        speed = state["speed"].reshape(flat)
        angles = (np.pi * (state["turns"] - 0.5)).transpose(1, 0, 2).reshape(num_frames, flat)  # phi, (T, N * K)
        out = np.empty((num_frames + 1, flat, 2))
        out[0] = state["position"].reshape(flat, 2)
        low, high, away = (np.empty((flat, 2), np.int8) for _ in range(3))  # low, high: bools, as int8 to subtract
        hit = np.empty(flat, bool)
        for t in range(num_frames):
            position = out[t + 1]
            np.add(out[t], velocity, out=position)
            np.less_equal(position, 0, out=low.view(bool))
            np.greater_equal(position, 1, out=high.view(bool))
            np.clip(position, 0, 1, out=position)
            np.subtract(low, high, out=away)  # +1 (hit at 0), -1 (hit at 1) or 0 per axis
            np.not_equal(away.view(np.uint16)[:, 0], 0, out=hit)  # a hit on either axis
            turned = hit.nonzero()[0]
            if turned.size:  # the new directions of these only: most objects hit nothing in a frame
                across, along = cos_sin_reduced(angles[t, turned])
                moving = speed[turned]
                across *= moving
                along *= moving
                _turn(velocity, turned, away[turned], across, along)
        return Track(out.reshape(num_frames + 1, n, k, 2).transpose(1, 0, 2, 3), {})


def _turn(velocity: np.ndarray, turned: np.ndarray, away: np.ndarray, across: np.ndarray, along: np.ndarray) -> None:
    """Set `velocity (N * K, 2)` of the objects `turned (M,)`, hit on the axes where `away (M, 2)` int8 is +1
    (at 0) or -1 (at 1), to speed * their new direction, from speed * cos phi (`across`) and speed * sin phi
    (`along`), (M,) each: the same bytes as speed * the direction `Stochastic` defines (speed > 0, and a sign
    or an absolute value taken before or after the product gives the same product)."""
    hit_x, hit_y = away[:, 0] != 0, away[:, 1] != 0
    velocity[turned, 0] = np.where(hit_x, away[:, 0] * across, along)
    velocity[turned, 1] = np.where(hit_y, away[:, 1] * np.where(hit_x, np.abs(along), across), along)


@MOTIONS.register
@dataclass(frozen=True)
class Brownian(Motion):
    """A velocity that follows a Gaussian random walk, reflected at the walls (or passing through them).

    Start x, y ~ U[0, 1) (with `edges=pass`, spread from fully outside one edge to fully outside the
    other, as `classic`), theta ~ U[0, 2 pi), velocity `step_length` * (cos theta, sin theta).
    Each frame: v += sigma * (z_x, z_y), z ~ N(0, 1) per axis; with `max_speed` > 0, a v longer than
    max_speed is scaled to max_speed (v * (max_speed / |v|)); move by v; then, with `edges=bounce`, on
    each axis where the position is <= 0 or >= 1, clamp it to [0, 1] and negate that velocity component.
    """

    name = "brownian"

    step_length: float | tuple[float, float] = stepping()
    sigma: float = parameter(0.02, 0, 1, "standard deviation of each frame's velocity change per axis, "
                                         "as a fraction of the free space per frame per frame")
    max_speed: float = parameter(0.0, 0, 1, "the largest speed, as a fraction of the free space per frame (0: no cap)")
    edges: str = edging()
    appear: float = appearing()

    def confined(self) -> bool:
        return self.edges == "bounce"

    def check(self):
        fastest = bounds(self.step_length)[1]
        if 0 < self.max_speed < fastest:
            raise ValueError(f"{self.kind}.max_speed={self.max_speed!r} must be 0 (no cap) or at least "
                             f"step_length's largest value {fastest!r}")

    def start(self, rng, shape, num_frames):
        position, direction, speed = launch(rng, shape, self.step_length)
        kicks = rng.standard_normal((shape[0], num_frames, shape[1], 2))
        return {"position": position, "velocity": speed[..., None] * direction, "kicks": kicks}

    def track(self, state, num_frames: int, space: Space) -> Track:
        position, velocity = state["position"].copy(), state["velocity"].copy()
        if self.edges == "pass":
            position = entering(position, space)
        kicks = self.sigma * state["kicks"]
        out = np.empty((num_frames + 1, *position.shape))
        out[0] = position
        for t in range(num_frames):
            velocity += kicks[:, t]
            if self.max_speed:
                speed = np.sqrt(velocity[..., 0] * velocity[..., 0] + velocity[..., 1] * velocity[..., 1])
                scale = np.where(speed > self.max_speed, self.max_speed / np.maximum(speed, self.max_speed), 1.0)
                velocity *= scale[..., None]
            position += velocity
            if self.edges == "bounce":
                wall = (position <= 0) | (position >= 1)
                np.clip(position, 0, 1, out=position)
                np.negative(velocity, out=velocity, where=wall)
            out[t + 1] = position
        return Track(out.transpose(1, 0, 2, 3), {})
