"""Occupancies: how much of a generation voxel a cavity fills, each a registered component.

A voxel's occupancy is the fraction of its `samples`^3 evenly spaced points (at the centres of its
`samples`^3 equal sub-cubes) that lie in a cavity: `binary` looks at the voxel's centre only, so
that at full resolution a voxel is 0 or 255; `fraction` supersamples, so that the boundary's voxels
get values in between. Either way the engine counts those points per output voxel, never stores
them: `fraction` is `binary` on a grid `samples` times finer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from generator.components import Component, Registry, parameter

OCCUPANCIES = Registry("occupancy")


@OCCUPANCIES.register
@dataclass(frozen=True)
class Binary(Component):
    """A voxel is cavity (255) if its centre is in a cavity, else material (0)."""

    name = "binary"
    samples: ClassVar[int] = 1


@OCCUPANCIES.register
@dataclass(frozen=True)
class Fraction(Component):
    """A voxel holds the fraction of it in a cavity, 0 .. 255, estimated at samples^3 points."""

    name = "fraction"
    samples: int = parameter(4, 2, 8, "points per voxel edge: a voxel's value is the fraction of its samples^3 "
                             "points in a cavity")
