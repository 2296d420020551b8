"""Random velocities: a new random direction at each wall hit (`stochastic`), or a Gaussian random walk (`brownian`).

Both draw every random number of a block in `start` (per frame and object), so that `track` is
arithmetic on a slice of the draws, the same whatever range of sequences asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.components import choice, parameter
from generator.doodles import cos_sin
from generator.motion.base import EDGES, MOTIONS, Motion, Space, Track, appearing
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
        position, velocity, speed = state["position"].copy(), state["velocity"].copy(), state["speed"]
        turns = state["turns"][:, :num_frames]
        # the new directions of every possible hit, computed at once: (N, T, K) each
        across, along = cos_sin(np.pi * (turns - 0.5))
        corner = np.abs(along)
        out = np.empty((num_frames + 1, *position.shape))
        out[0] = position
        for t in range(num_frames):
            position += velocity
            away = (position <= 0).astype(np.float64) - (position >= 1)  # +1, -1 or 0 per axis
            np.clip(position, 0, 1, out=position)
            hit = away != 0
            hit_x, hit_y = hit[..., 0], hit[..., 1]
            new_x = np.where(hit_x, away[..., 0] * across[:, t], along[:, t])
            new_y = np.where(hit_y, away[..., 1] * np.where(hit_x, corner[:, t], across[:, t]), along[:, t])
            turned = hit_x | hit_y
            velocity = np.where(turned[..., None], speed[..., None] * np.stack([new_x, new_y], axis=-1), velocity)
            out[t + 1] = position
        return Track(out.transpose(1, 0, 2, 3), {})


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
    edges: str = choice("bounce", EDGES, "bounce off the canvas's edges, or pass through them (enter and leave)")
    appear: float = appearing()

    def confined(self) -> bool:
        return self.edges == "bounce"

    def check(self):
        fastest = max(self.step_length) if isinstance(self.step_length, tuple) else self.step_length
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
        kicks = self.sigma * state["kicks"][:, :num_frames]
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
