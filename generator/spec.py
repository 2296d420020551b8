"""The generation parameters of a dataset, as one frozen, validated object."""

from __future__ import annotations

import numbers
from dataclasses import dataclass, fields

from generator.sources import SOURCES

CHOICES = {
    "source": tuple(SOURCES),
    "motion": ("classic", "notebook"),
    "compositing": ("max", "sum"),
    "sampling": ("random", "sequential"),
}

# field -> (smallest, largest) allowed value. The maxima are far beyond any published use and are
# checked before any memory is taken, so that a typo fails at once instead of eating the machine.
BOUNDS = {
    "num_objects": (1, 64),
    "num_frames": (2, 1000),
    "num_input_frames": (1, 999),
    "image_size": (1, 1024),
    "num_train": (0, 10_000_000),
    "num_validation": (0, 10_000_000),
    "num_test": (0, 10_000_000),
    "seed": (0, 2**128 - 1),
}

# Pixels of one whole sequence at most (256 MiB of uint8): a sequence is generated, encoded and
# written as one piece, and Arrow's 32-bit list offsets must hold a batch of them.
MAX_SEQUENCE_PIXELS = 2**28


@dataclass(frozen=True)
class Spec:
    """Everything that determines the bytes of a generated dataset.

    source: "mnist" or "fashion_mnist", the sprite images.
    num_objects: sprites per sequence (K).
    num_frames: frames per sequence (T); the first `num_input_frames` are inputs, the rest outputs.
    image_size: the canvas is `image_size x image_size` pixels (H = W).
    motion: "classic" (Srivastava et al. 2015) or "notebook" (the seed notebook's variant).
    step_length: distance per frame as a fraction of the free space (image_size - sprite size).
    compositing: "max" (the original) or "sum" (add, then clip at 255).
    sampling: "random" (uniform with replacement) or "sequential" (sequence i uses images i*K..).
    num_train, num_validation, num_test: sequences per split; 0 omits the split.
    seed: the root of every random stream.
    """

    source: str
    num_objects: int
    num_frames: int
    num_input_frames: int
    image_size: int
    motion: str
    step_length: float
    compositing: str
    sampling: str
    num_train: int
    num_validation: int
    num_test: int
    seed: int

    def __post_init__(self):
        for name, allowed in CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"{name}={value!r} is not allowed: choose one of {', '.join(allowed)}")
        for name, (minimum, maximum) in BOUNDS.items():
            value = getattr(self, name)
            if not _is_integer(value) or not minimum <= value <= maximum:
                raise ValueError(f"{name}={value!r} must be an integer from {minimum} to {maximum}")
            object.__setattr__(self, name, int(value))  # numpy integers become plain ints
        step = self.step_length
        if isinstance(step, bool) or not isinstance(step, numbers.Real) or not 0 < step <= 1:
            raise ValueError(f"step_length={step!r} must be a number in (0, 1]")
        if self.num_input_frames >= self.num_frames:
            raise ValueError(
                f"num_input_frames={self.num_input_frames!r} must be smaller than "
                f"num_frames={self.num_frames!r}, so that at least one output frame remains"
            )
        sprite = SOURCES[self.source].sprite_size
        if self.image_size < sprite:
            raise ValueError(
                f"image_size={self.image_size!r} must be at least the {self.source} sprite size {sprite}"
            )
        pixels = self.num_frames * self.image_size**2
        if pixels > MAX_SEQUENCE_PIXELS:
            raise ValueError(
                f"num_frames={self.num_frames} x image_size={self.image_size}^2 is {pixels:,} pixels per "
                f"sequence; at most {MAX_SEQUENCE_PIXELS:,} (256 MiB) are allowed"
            )
        if self.num_train + self.num_validation + self.num_test == 0:
            raise ValueError("num_train, num_validation and num_test are all 0: no split to build")
        object.__setattr__(self, "step_length", float(step))

    @property
    def num_output_frames(self) -> int:
        return self.num_frames - self.num_input_frames

    def split_sizes(self) -> dict[str, int]:
        """Sequences per split, non-empty splits only."""
        sizes = {"train": self.num_train, "validation": self.num_validation, "test": self.num_test}
        return {split: n for split, n in sizes.items() if n > 0}

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _is_integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)
