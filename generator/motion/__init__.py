"""Motions: where each object is in each frame. Each is a registered component (`MOTIONS`).

`base` says what a motion is; the other modules hold the motions, one family each.
"""

from generator.motion.base import MOTIONS, Motion, Space, Track, pixel_offsets
from generator.motion.bouncing import bounce
from generator.motion import bouncing, stochastic, waypoints, curves, collisions  # noqa: F401, I001  (each registers its motions, in this order)

__all__ = ["MOTIONS", "Motion", "Space", "Track", "bounce", "pixel_offsets"]
