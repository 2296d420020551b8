"""The generation parameters of a dataset, as one frozen, validated object."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Self

from generator.backgrounds import BACKGROUNDS
from generator.components import Component, bounds, integer, not_allowed, span
from generator.compositing import COMPOSITINGS
from generator.corruptions import DROPS, NOISES, OCCLUSIONS
from generator.motion import MOTIONS
from generator.sampling import SAMPLINGS
from generator.sources import SOURCES
from generator.transform import TRANSFORMS

# field -> the registry of its components
COMPONENTS = {
    "source": SOURCES,
    "motion": MOTIONS,
    "transform": TRANSFORMS,
    "compositing": COMPOSITINGS,
    "sampling": SAMPLINGS,
    "background": BACKGROUNDS,
    "occlusion": OCCLUSIONS,
    "noise": NOISES,
    "drop": DROPS,
}

# field -> (smallest, largest) allowed value. The maxima are far beyond any published use and are
# checked before any memory is taken, so that a typo fails at once instead of eating the machine.
# Frames, splits and seed are bounded alike for every kind of spec (`SpecBase`); volumes add their own.
COMMON_BOUNDS = {
    "num_frames": (2, 1000),
    "num_input_frames": (1, 999),
    "num_train": (0, 10_000_000),
    "num_validation": (0, 10_000_000),
    "num_test": (0, 10_000_000),
    "seed": (0, 2**128 - 1),
}
BOUNDS = {"num_objects": (1, 64), "image_size": (1, 1024), **COMMON_BOUNDS}

# Ground truth a dataset may add on request (`annotations`), each one or more fields of `generator.fields`.
ANNOTATIONS = ("centres", "velocities", "boxes", "masks", "tracks")

# Flat parameters of version 1.0 cards and calls, and the component that now holds each.
LEGACY = {"step_length": "motion"}

# Bytes of one whole sequence at most (256 MiB): a sequence is generated, encoded and written as
# one piece, and Arrow's 32-bit list offsets must hold a batch of them.
MAX_SEQUENCE_PIXELS = 2**28


class SpecBase:
    """What every kind of spec (`Spec`, `generator.volumes.VolumeSpec`) does with its parameters alike.
    Subclasses are frozen dataclasses naming their components' registries in `_components` (field -> registry)."""

    _components: dict = {}
    _kind = "spec"  # what the errors call it

    @classmethod
    def from_dict(cls, parameters: dict) -> Self:
        """A spec from `as_dict()`'s form; parameters with a default (`_defaults`) may be left out."""
        parameters = {**cls._defaults(), **parameters}
        missing = [f.name for f in fields(cls) if f.name not in parameters]
        if missing:
            raise ValueError(f"{missing[0]} is missing: a {cls._kind} needs {', '.join(f.name for f in fields(cls))}")
        parameters = cls._current(parameters)
        cls._check_names(parameters)
        return cls(**parameters)

    def replace(self, **overrides) -> Self:
        """This spec with some parameters changed. A component given as a dict without "name", or with
        its current name, keeps its other parameters: `replace(motion={"step_length": 0.2})`."""
        overrides = self._current(overrides)
        self._check_names(overrides)
        for kind, registry in self._components.items():
            if kind in overrides:
                overrides[kind] = registry.create(overrides[kind], base=getattr(self, kind))
        return dataclasses.replace(self, **overrides)

    @property
    def num_output_frames(self) -> int:
        return self.num_frames - self.num_input_frames

    def split_sizes(self) -> dict[str, int]:
        """Samples per split, non-empty splits only."""
        sizes = {"train": self.num_train, "validation": self.num_validation, "test": self.num_test}
        return {split: n for split, n in sizes.items() if n > 0}

    def as_dict(self) -> dict:
        """Plain values: components as `{"name": ..., parameter: value}`."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def _defaults(cls) -> dict:
        return {f.name: f.default for f in fields(cls) if f.default is not dataclasses.MISSING}

    @staticmethod
    def _current(parameters: dict) -> dict:
        """`parameters` as this version spells them (a new dict)."""
        return dict(parameters)

    @classmethod
    def _check_names(cls, parameters: dict) -> None:
        known = [f.name for f in fields(cls)]
        for name in parameters:
            if name not in known:
                raise not_allowed("parameter", name, known)


@dataclass(frozen=True)
class Spec(SpecBase):
    """Everything that determines the bytes of a generated dataset.

    source: what the sprites are (`generator.sources`), with its parameters.
    num_objects: objects per sequence: a number K, or a (min, max) pair drawn per sequence (then K is
        max and the `num_objects` field says how many of the K are real).
    num_frames: frames per sequence (T); the first `num_input_frames` are inputs, the rest outputs.
    image_size: the canvas is `image_size x image_size` pixels (H = W).
    motion: how the sprites move (`generator.motion`), with its parameters.
    transform: how the sprites turn and scale over time (`generator.transform`).
    compositing: how overlapping sprites combine (`generator.compositing`).
    sampling: which source images each sequence uses (`generator.sampling`).
    background: what is behind the sprites (`generator.backgrounds`).
    occlusion, noise, drop: how the input frames are corrupted, in this order (`generator.corruptions`);
        the targets never are.
    annotations: optional ground truth fields to add: any of `ANNOTATIONS`.
    num_train, num_validation, num_test: sequences per split; 0 omits the split.
    seed: the root of every random stream.

    Components may be given by name, as `{"name": ..., parameter: value}` or as objects.
    """

    source: Component
    num_objects: int | tuple[int, int]
    num_frames: int
    num_input_frames: int
    image_size: int
    motion: Component
    transform: Component = dataclasses.field(default="none", kw_only=True)
    compositing: Component
    sampling: Component
    background: Component
    occlusion: Component = dataclasses.field(default="none", kw_only=True)
    noise: Component = dataclasses.field(default="none", kw_only=True)
    drop: Component = dataclasses.field(default="none", kw_only=True)
    annotations: tuple[str, ...] = dataclasses.field(default=(), kw_only=True)
    num_train: int
    num_validation: int
    num_test: int
    seed: int

    def __post_init__(self):
        for name, registry in COMPONENTS.items():
            object.__setattr__(self, name, registry.create(getattr(self, name)))
        for name, (minimum, maximum) in BOUNDS.items():
            value = getattr(self, name)
            value = span(name, value, integer, minimum, maximum) if name == "num_objects" else integer(name, value, minimum, maximum)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "annotations", _annotations(self.annotations))
        if self.num_input_frames >= self.num_frames:
            raise ValueError(
                f"num_input_frames={self.num_input_frames!r} must be smaller than "
                f"num_frames={self.num_frames!r}, so that at least one output frame remains"
            )
        rows, cols = self.box()
        if self.image_size < max(rows, cols):
            raise ValueError(
                f"image_size={self.image_size!r} must be at least the {self.source.name} sprite size {rows}x{cols}"
                + ("" if self.transform.name == "none" else f" (its box under transform={self.transform.name!r})")
            )
        if self.transform.name != "none" and self.source.opaque:
            raise ValueError(
                f"transform={self.transform.name!r} is not allowed with source={self.source.name!r}, whose sprites are "
                f"opaque rectangles: choose none, or a source of ink on black (mnist, fashion_mnist, numbers, doodles)"
            )
        self.source.check_with(self.num_frames)
        self.occlusion.check_with(self.image_size)
        self.motion.check_with(self.num_frames, self.image_size, (rows, cols), self.max_objects)
        if self.sampling.name != "random" and self.source.files is None:
            raise ValueError(
                f"sampling={self.sampling.name!r} is not allowed with source={self.source.name!r}, which draws "
                f"its sprites instead of taking images: choose random"
            )
        pixels = self.num_frames * self.channels * self.image_size**2
        if pixels > MAX_SEQUENCE_PIXELS:
            raise ValueError(
                f"num_frames={self.num_frames} x {self.channels} channels x image_size={self.image_size}^2 is "
                f"{pixels:,} bytes per sequence; at most {MAX_SEQUENCE_PIXELS:,} (256 MiB) are allowed"
            )
        if self.num_train + self.num_validation + self.num_test == 0:
            raise ValueError("num_train, num_validation and num_test are all 0: no split to build")

    _components = COMPONENTS

    @classmethod
    def _defaults(cls) -> dict:
        # an older card's: version 1.0's had no background, transform, corruptions or annotations
        return {**super()._defaults(), "background": "none"}

    @staticmethod
    def _current(parameters: dict) -> dict:
        return _modern(parameters)

    @property
    def max_objects(self) -> int:
        """K: the objects per sequence, or the most a sequence may have."""
        return bounds(self.num_objects)[1]

    def box(self) -> tuple[int, int]:
        """The largest sprite's box (rows, cols), after the transform."""
        return self.transform.box(self.source.sprite_shape())

    @property
    def channels(self) -> int:
        """1 (gray frames) or 3 (RGB, from an RGB source or background)."""
        return max(self.source.channels, self.background.channels)

    def frame_shape(self) -> tuple[int, ...]:
        """One frame's shape: (H, W) gray, (3, H, W) RGB."""
        canvas = (self.image_size, self.image_size)
        return canvas if self.channels == 1 else (3, *canvas)

    def files(self) -> list[str]:
        """The collections (`generator.files.SOURCE_FILES`) this spec reads."""
        return list(dict.fromkeys(c.files for c in (self.source, self.background) if c.files is not None))


def flatten(parameters: dict) -> dict:
    """`as_dict()`'s form with components spread out, as the command line and tables spell them:
    `{"motion": {"name": "classic", "step_length": 0.1}}` -> `{"motion": "classic", "motion.step_length": 0.1}`."""
    flat = {}
    for key, value in parameters.items():
        if isinstance(value, dict):
            flat[key] = value["name"]
            flat.update((f"{key}.{k}", v) for k, v in value.items() if k != "name")
        else:
            flat[key] = value
    return flat


def spelled(value, key: str = "") -> str:
    """A flattened parameter's value as `--set key=...` takes it: `0.05,0.15` for a range, `all` for no class
    filter, `none` for no threshold."""
    if value is None:
        return "none" if key == "threshold" else "all"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value)) or "none"  # annotations: none
    return str(value)


def _modern(parameters: dict) -> dict:
    """Version 1.0's flat parameters (`step_length=0.5`) moved into their components."""
    parameters = dict(parameters)
    for name, kind in LEGACY.items():
        if name in parameters:
            value = parameters.get(kind, {})
            value = {"name": value} if isinstance(value, str) else dict(value)
            parameters[kind] = {**value, name: parameters.pop(name)}
    return parameters


def _annotations(value) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValueError(f"annotations={value!r} must be a list of names from {', '.join(ANNOTATIONS)}")
    for name in value:
        if name not in ANNOTATIONS:
            raise not_allowed("annotations", name, ANNOTATIONS)
    return tuple(name for name in ANNOTATIONS if name in value)  # one order: the field order


def _plain(value):
    if isinstance(value, Component):
        return value.as_dict()
    return list(value) if isinstance(value, tuple) else value
