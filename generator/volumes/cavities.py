"""Cavities: the families of analytic solids cut out of the material, each a registered component.

A volume is solid material with cavities in it. Each cavity lives from an output time point `first`
to `last` (inclusive); at lifetime fraction u in (0, 1) (`geometry.lifetime_fractions`) its size is
`geometry.scale(u, min_scale)` of its widest: it appears small, grows, and shrinks away again.

- ball: a 4D ellipsoid. Its slices are 3D ellipsoids with semi-axes `size * scale(u)` along the
  body axes of its fixed orientation, about a fixed centre.
- torus: a solid torus: the points within the tube radius r(u) = `size[2] * scale(u)` of a circle of
  radius R(u) = size[0] + (size[1] - size[0]) u about its axis. Its centre moves on a straight line
  from `centre_first` to `centre_last`, and its orientation turns from `orientation_first` to
  `orientation_last` (`geometry.between`); its axis is the body's axis 2.
- mixed: each cavity is a torus with probability `torus_fraction`, else a ball.

Every length is a fraction of the grid's edge, so a cavity is the same shape at any resolution.
Each component draws everything about a block's cavities but their places (`generator.volumes.placement`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from generator.components import Component, Registry, bounds, parameter
from generator.doodles import cos_sin
from generator.volumes.geometry import product, rotation, unit

CAVITIES = Registry("cavities")

# A cavity's family number is its place here.
FAMILIES = ("ball", "torus")
BALL, TORUS = range(len(FAMILIES))

# The columns of a cavity's record (the `cavity_parameters` field), in order, and their widths.
COLUMNS = (
    ("centre_first", 3),  # its centre at its first time point (axis 0, 1, 2 of the grid)
    ("centre_last", 3),  # its centre at its last time point (balls: the same)
    ("orientation_first", 4),  # a quaternion (w, x, y, z) turning the body axes into the grid's
    ("orientation_last", 4),  # (balls: the same)
    ("size", 3),  # ball: its semi-axes at its widest; torus: R first, R last, tube radius at its widest
)
NUM_COLUMNS = sum(width for _, width in COLUMNS)

# The finest feature a cavity may have (its smallest radius of curvature, or a torus's hole), in voxels
# of the generation grid, and the least gap: below these the voxels' topology could differ from the
# cavities' (a thin tube could break into pieces, a flat ellipsoid get holes).
MIN_FEATURE_VOXELS = 2.0
MIN_GAP_VOXELS = 1.0


@dataclass(frozen=True)
class Cavities(Component):
    """What every family shares: when its cavities live, how small they start and end, and how far apart they stay."""

    lifetime: float | tuple[float, float] = parameter(
        (0.3, 0.8), 0.0, 1.0, "the fraction of the time points each cavity lives (at least one), drawn per cavity",
        open_low=True, span=True)
    min_scale: float = parameter(
        0.65, 0.0, 1.0, "the size each cavity is born and vanishes at, as a fraction of its widest (balls: "
        "every semi-axis; tori: the tube radius)", open_low=True)
    gap: float = parameter(
        0.03, 0.0, 0.25, "the least material between two cavities alive at the same time (unless `overlap` is "
        "merge), and between a cavity and the grid's faces, as a fraction of the grid's edge")

    reach_words: ClassVar[str]  # which parameters make the reach

    def reach(self) -> float:
        """The farthest any point of a cavity is from its centre, as a fraction of the grid's edge."""
        raise NotImplementedError

    def largest_drift(self) -> float:
        """The farthest a cavity's centre moves over its life."""
        return 0.0

    def smallest_feature(self) -> float:
        """The finest feature any cavity has at any time: its smallest radius of curvature, or a torus's
        hole (R - r), as a fraction of the grid's edge."""
        raise NotImplementedError

    def check(self):
        room = 1 - 2 * (self.gap + self.reach()) - self.largest_drift()
        if room < 0:
            raise ValueError(
                f"cavities {self.name!r} do not fit in the grid: a cavity may reach {self.reach():g} of the grid's "
                f"edge from its centre ({self.reach_words}), keep cavities.gap={self.gap:g} from the faces and move "
                f"{self.largest_drift():g} (the largest drift); 2 x (reach + gap) + drift is {1 - room:g}, and must be "
                f"at most 1"
            )

    def check_with(self, generation_size: int) -> None:
        """Refuse a generation grid too coarse for the voxels to show the cavities' topology."""
        for what, length, least in (("smallest feature", self.smallest_feature(), MIN_FEATURE_VOXELS),
                                    ("gap", self.gap, MIN_GAP_VOXELS)):
            if length * generation_size < least:
                raise ValueError(
                    f"generation_size={generation_size!r} is too coarse for cavities {self.name!r}: their {what}, "
                    f"{length:.4g} of the grid's edge, would span {length * generation_size:.2f} voxels, and at least "
                    f"{least:g} are needed for the topology labels to hold: use generation_size >= "
                    f"{math.ceil(least / length)}"
                )

    def draw(self, rng: np.random.Generator, shape: tuple[int, int], num_frames: int) -> dict[str, np.ndarray]:
        """The random draws of `shape = (N, C)` cavities, each `(N, C, ...)`:

        family int8 (`FAMILIES`), lifetimes int16 (first, last) output time points, size float64 (3),
        orientations float64 (2, 4): first and last, drift float64 (3): last centre minus first,
        reach float64: the farthest the cavity gets from its centre.
        """
        low, high = bounds(self.lifetime)
        u = rng.random((*shape, 2))
        length = np.clip(np.floor((low + (high - low) * u[..., 0]) * num_frames + 0.5), 1, num_frames)
        first = np.floor(u[..., 1] * (num_frames - length + 1))
        q0 = unit(rng.standard_normal((*shape, 4)))
        family, size, q1, drift, reach = self.shapes(rng, shape, q0)
        return {
            "family": family.astype(np.int8),
            "lifetimes": np.stack([first, first + length - 1], axis=-1).astype(np.int16),
            "size": size,
            "orientations": np.stack([q0, q1], axis=-2),
            "drift": drift,
            "reach": reach,
        }

    def shapes(self, rng, shape, q0):
        """(family, size, last orientation, drift, reach) of `shape` cavities whose first orientation is `q0`."""
        raise NotImplementedError


@CAVITIES.register
@dataclass(frozen=True)
class Ball(Cavities):
    """4D ellipsoids: 3D ellipsoids that grow, then shrink, in place."""

    name = "ball"
    reach_words = "the largest radius"
    radius: float | tuple[float, float] = parameter(
        (0.1, 0.16), 0.0, 0.5, "each semi-axis of a ball at its widest, drawn per semi-axis, as a fraction of the "
        "grid's edge", open_low=True, span=True)

    def reach(self):
        return bounds(self.radius)[1]

    def smallest_feature(self):
        # the sharpest curvature: an ellipsoid with semi-axes a >= b >= c curves with radius c^2 / a at its tips
        low, high = bounds(self.radius)
        return low * low / high * self.min_scale

    def shapes(self, rng, shape, q0):
        low, high = bounds(self.radius)
        size = low + (high - low) * rng.random((*shape, 3))
        return np.full(shape, BALL), size, q0, np.zeros((*shape, 3)), size.max(axis=-1)


@CAVITIES.register
@dataclass(frozen=True)
class Torus(Cavities):
    """Solid tori whose tube swells, then thins, while their ring radius, centre and axis drift."""

    name = "torus"
    reach_words = "the largest ring_radius + tube_radius"
    ring_radius: float | tuple[float, float] = parameter(
        (0.12, 0.16), 0.0, 0.5, "a torus's ring radius R (centre to tube centre), drawn at its first and at its "
        "last time point, as a fraction of the grid's edge", open_low=True, span=True)
    tube_radius: float | tuple[float, float] = parameter(
        (0.05, 0.07), 0.0, 0.5, "a torus's tube radius r at its widest, drawn per torus; it must stay below "
        "ring_radius, so that every torus has a hole", open_low=True, span=True)
    drift: float | tuple[float, float] = parameter(
        (0.0, 0.1), 0.0, 1.0, "how far a torus's centre moves over its life, in a random direction, as a fraction "
        "of the grid's edge", span=True)
    turn: float | tuple[float, float] = parameter(
        (0.0, 90.0), 0.0, 180.0, "how many degrees a torus's axis turns over its life, about a random axis "
        "across it", span=True)

    def check(self):
        ring, tube = bounds(self.ring_radius)[0], bounds(self.tube_radius)[1]
        if tube >= ring:
            raise ValueError(
                f"cavities.tube_radius={self.tube_radius!r} must stay below cavities.ring_radius={self.ring_radius!r} "
                f"(largest tube {tube:g}, smallest ring {ring:g}), so that every torus has a hole"
            )
        super().check()

    def reach(self):
        return bounds(self.ring_radius)[1] + bounds(self.tube_radius)[1]

    def largest_drift(self):
        return bounds(self.drift)[1]

    def smallest_feature(self):
        ring, tube = bounds(self.ring_radius), bounds(self.tube_radius)
        return min(tube[0] * self.min_scale, ring[0] - tube[1])

    def shapes(self, rng, shape, q0):
        (r0, r1), (t0, t1) = bounds(self.ring_radius), bounds(self.tube_radius)
        (d0, d1), (a0, a1) = bounds(self.drift), bounds(self.turn)
        u = rng.random((*shape, 5))
        ring = r0 + (r1 - r0) * u[..., 0:2]
        tube = t0 + (t1 - t0) * u[..., 2]
        drift = (d0 + (d1 - d0) * u[..., 3])[..., None] * unit(rng.standard_normal((*shape, 3)))
        # turn about an axis k across the torus's first axis n: the quaternion (cos a/2, sin a/2 k), then q0
        n = rotation(q0)[..., :, 2]
        w = rng.standard_normal((*shape, 3))
        k = unit(w - (w * n).sum(axis=-1, keepdims=True) * n)
        c, s = cos_sin(np.radians(a0 + (a1 - a0) * u[..., 4]) / 2)
        q1 = product(np.concatenate([c[..., None], s[..., None] * k], axis=-1), q0)
        size = np.concatenate([ring, tube[..., None]], axis=-1)
        return np.full(shape, TORUS), size, q1, drift, ring.max(axis=-1) + tube


@CAVITIES.register
@dataclass(frozen=True)
class Mixed(Ball, Torus):
    """Balls and tori together: each cavity's family is drawn."""

    name = "mixed"
    reach_words = "the largest radius, or ring_radius + tube_radius"
    torus_fraction: float = parameter(0.5, 0.0, 1.0, "the probability that a cavity is a torus (else a ball)")

    def reach(self):
        return max(Ball.reach(self), Torus.reach(self))

    def smallest_feature(self):
        return min(Ball.smallest_feature(self), Torus.smallest_feature(self))

    def shapes(self, rng, shape, q0):
        torus = rng.random(shape) < self.torus_fraction
        balls, tori = Ball.shapes(self, rng, shape, q0), Torus.shapes(self, rng, shape, q0)
        return tuple(np.where(torus.reshape(shape + (1,) * (b.ndim - 2)), t, b) for b, t in zip(balls, tori))
