"""Motions: where each object is in each frame. Each is a registered component (`MOTIONS`).

`base` says what a motion is; the other modules hold the motions, one family each.
"""

from generator.motion.base import MOTIONS, Motion, Space, Track, pixel_offsets
from generator.motion.bouncing import bounce
from generator.motion import bouncing  # noqa: F401  (registers its motions)
from generator.motion import curves, waypoints  # noqa: F401  (registers their motions)
from generator.motion import collisions, stochastic  # noqa: F401  (register their motions)

__all__ = ["MOTIONS", "Motion", "Space", "Track", "bounce", "pixel_offsets"]
