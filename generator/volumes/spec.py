"""The generation parameters of a dataset of volumes, as one frozen, validated object."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from generator.components import Component, bounds, integer, not_allowed, number, span
from generator.spec import COMMON_BOUNDS, MAX_SEQUENCE_PIXELS, SpecBase
from generator.volumes.cavities import CAVITIES
from generator.volumes.occupancy import OCCUPANCIES

# The data this family regenerates (seed 004).
CITATION = """@article{hannouch2023topology,
  title={Topology Estimation of Simulated 4D Image Data by Combining Downscaling and Convolutional Neural Networks},
  author={Hannouch, Khalil Mathieu and Chalup, Stephan}, journal={arXiv preprint arXiv:2306.14442}, year={2023}
}"""

# field -> the registry of its components
COMPONENTS = {"cavities": CAVITIES, "occupancy": OCCUPANCIES}

# field -> (smallest, largest) allowed value, checked before any memory is taken.
BOUNDS = {"num_cavities": (1, 16), "grid_size": (1, 256), "generation_size": (1, 1024), "time_factor": (1, 64),
          **COMMON_BOUNDS}

# How overlapping cavities are handled.
OVERLAPS = ("separate", "merge")

# Points counted per edge of the generation grid at most (generation_size x occupancy.samples).
MAX_POINTS_PER_EDGE = 2048


@dataclass(frozen=True)
class VolumeSpec(SpecBase):
    """Everything that determines the bytes of a generated dataset of volumes.

    A sample is T time points of a D x D x D grid (`frames (T, D, D, D) uint8`): solid material
    (0) with cavities in it (255), generated on a finer G x G x G grid and downscaled by block mean.

    cavities: which solids are cut out (`generator.volumes.cavities`), with their parameters.
    num_cavities: cavities per sample: a number C, or a (min, max) pair drawn per sample. A cavity
        that finds no free place is left out, so a sample may have fewer (`cavity_counts` says).
    num_frames: time points per sample (T); the first `num_input_frames` are inputs, the rest outputs.
    grid_size: the output grid's edge D, in voxels.
    generation_size: the generation grid's edge G, a multiple of D: each output voxel is the mean of
        (G / D)^3 generation voxels.
    time_factor: generated time steps per output time point, averaged into it (1: none).
    occupancy: what a generation voxel holds (`generator.volumes.occupancy`): binary or fraction.
    threshold: None keeps the block means (0 .. 255, rounded); a number in (0, 1] makes an output voxel
        255 where at least that fraction of it is cavity, else 0.
    overlap: "separate" keeps cavities alive at the same time `cavities.gap` apart, so that the
        topology labels hold; "merge" lets them overlap, and has no `betti_numbers`.
    num_train, num_validation, num_test: samples per split; 0 omits the split.
    seed: the root of every random stream.
    """

    cavities: Component
    num_cavities: int | tuple[int, int]
    num_frames: int
    num_input_frames: int
    grid_size: int
    generation_size: int
    time_factor: int = dataclasses.field(default=1, kw_only=True)
    occupancy: Component = dataclasses.field(default="binary", kw_only=True)
    threshold: float | None = dataclasses.field(default=None, kw_only=True)
    overlap: str = dataclasses.field(default="separate", kw_only=True)
    num_train: int
    num_validation: int
    num_test: int
    seed: int

    def __post_init__(self):
        for name, registry in COMPONENTS.items():
            object.__setattr__(self, name, registry.create(getattr(self, name)))
        for name, (minimum, maximum) in BOUNDS.items():
            value = getattr(self, name)
            if name == "num_cavities":
                value = span(name, value, integer, minimum, maximum)
            else:
                value = integer(name, value, minimum, maximum)
            object.__setattr__(self, name, value)
        if self.threshold is not None:
            object.__setattr__(self, "threshold", number("threshold", self.threshold, 0, 1, open_low=True))
        if self.overlap not in OVERLAPS:
            raise not_allowed("overlap", self.overlap, OVERLAPS)
        if self.num_input_frames >= self.num_frames:
            raise ValueError(
                f"num_input_frames={self.num_input_frames!r} must be smaller than "
                f"num_frames={self.num_frames!r}, so that at least one output frame remains"
            )
        if self.generation_size % self.grid_size:
            raise ValueError(
                f"generation_size={self.generation_size!r} must be a multiple of grid_size={self.grid_size!r}, "
                f"so that each output voxel is the mean of whole generation voxels"
            )
        points = self.generation_size * self.occupancy.samples
        if points > MAX_POINTS_PER_EDGE:
            raise ValueError(
                f"generation_size={self.generation_size} x occupancy.samples={self.occupancy.samples} is {points} "
                f"points per edge; at most {MAX_POINTS_PER_EDGE} are allowed"
            )
        self.cavities.check_with(self.generation_size)
        voxels = self.num_frames * self.grid_size**3
        if voxels > MAX_SEQUENCE_PIXELS:
            raise ValueError(
                f"num_frames={self.num_frames} x grid_size={self.grid_size}^3 is {voxels:,} bytes per sample; "
                f"at most {MAX_SEQUENCE_PIXELS:,} (256 MiB) are allowed"
            )
        if self.num_train + self.num_validation + self.num_test == 0:
            raise ValueError("num_train, num_validation and num_test are all 0: no split to build")

    _components = COMPONENTS
    _kind = "volume spec"

    @property
    def max_cavities(self) -> int:
        """C: the cavities per sample, or the most a sample may have."""
        return bounds(self.num_cavities)[1]

    def frame_shape(self) -> tuple[int, int, int]:
        """(D, D, D): one time point of a sample."""
        return (self.grid_size,) * 3

    def files(self) -> list[str]:
        """No source files: volumes are drawn from their equations."""
        return []
