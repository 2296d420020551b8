"""Sources: what the sprites are.

A source draws, per block of sequences, what it needs from its random streams (`choose`), says what
each object is (`describe`: the ground truth recorded with the data) and draws the sprites from that
ground truth alone (`sprites`), so that they can be re-rendered from a dataset's own columns.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.lib.stride_tricks import as_strided

from generator import doodles, morph
from generator.components import Component, Registry, choice, integer, ordered, parameter, set_field
from generator.files import SOURCE_FILES, Pool

SOURCES = Registry("source")


@dataclass(frozen=True)
class Images(Component):
    """Sprites that are the images of a published collection, one per object.

    classes: keep only images of these classes (label numbers), or None for all.
    """

    classes: tuple[int, ...] | None = dataclasses.field(
        default=None, metadata={"meaning": "keep only images of these classes (label numbers); None: all",
                                "allowed": "None or distinct class numbers"})

    files: ClassVar[str]  # the collection in `generator.files.SOURCE_FILES`
    channels: ClassVar[int] = 1
    opaque: ClassVar[bool] = False  # alpha: the whole rectangle (True) or the ink (False)
    image_shape: ClassVar[tuple[int, int]] = (28, 28)

    def check(self):
        if self.classes is not None:
            names = self.class_names
            if isinstance(self.classes, (str, bytes, dict)) or not hasattr(self.classes, "__iter__"):
                raise ValueError(f"source.classes={self.classes!r} must be a list of class numbers 0 to {len(names) - 1}")
            classes = [integer("source.classes", c, 0, len(names) - 1) for c in self.classes]
            if not classes or len(set(classes)) != len(classes):
                raise ValueError(f"source.classes={self.classes!r} must be distinct class numbers 0 to {len(names) - 1}, at least one")
            set_field(self, "classes", tuple(sorted(classes)))

    @property
    def collection(self):
        return SOURCE_FILES[self.files]

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.collection.class_names

    def check_with(self, num_frames: int) -> None:
        """Checks against the rest of the spec; ValueError if they clash."""

    def sprite_shape(self) -> tuple[int, int]:
        """The largest sprite, (rows, cols)."""
        return self.image_shape

    def draws(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return shape  # one image per object

    def choose(self, rng, block: int, shape: tuple[int, int], sampling, pool: Pool, num_frames: int) -> dict[str, np.ndarray]:
        """The block's random draws: `source_indices` into the pool. The same for any `num_frames`."""
        allowed = _allowed(pool, self.classes)
        picks = sampling.choose(lambda: rng("source"), block, self.draws(shape), len(allowed))
        return {"source_indices": picks if self.classes is None else allowed[picks]}

    def describe(self, drawn: dict[str, np.ndarray], pool: Pool) -> dict[str, np.ndarray]:
        """The ground truth of the objects: `labels` and `source_indices`, (N, K)."""
        return {"labels": pool.labels[drawn["source_indices"]], **drawn}

    def widths(self, truth: dict[str, np.ndarray]) -> np.ndarray | int:
        return self.image_shape[1]

    def sprites(self, truth: dict[str, np.ndarray], pool: Pool) -> np.ndarray:
        """`(N, 1, K, C, h, w)` uint8, the same in every frame."""
        images = pool.images[truth["source_indices"]]  # (N, K, [3,] h, w)
        n, k = images.shape[:2]
        return images.reshape(n, 1, k, self.channels, *self.image_shape)


@SOURCES.register
@dataclass(frozen=True)
class Mnist(Images):
    """MNIST handwritten digits (LeCun et al. 1998), 28x28 gray."""

    name = "mnist"
    files = "mnist"


@SOURCES.register
@dataclass(frozen=True)
class FashionMnist(Images):
    """Fashion-MNIST clothes (Xiao et al. 2017), 28x28 gray."""

    name = "fashion_mnist"
    files = "fashion_mnist"


@SOURCES.register
@dataclass(frozen=True)
class Cifar10(Images):
    """CIFAR-10 photographs (Krizhevsky 2009), 32x32 RGB, opaque squares."""

    name = "cifar10"
    files = "cifar10"
    channels = 3
    opaque = True
    image_shape = (32, 32)


@SOURCES.register
@dataclass(frozen=True)
class Numbers(Images):
    """Multi-digit numbers: `digits_per_number` MNIST digits side by side, left to right.

    The gap between neighbouring digits is drawn from U{spacing_min .. spacing_max} pixels, so a
    number is 28 pixels high and 28 * digits + its gaps wide. `value` is its digits read as a decimal
    integer (leading zeros allowed).
    """

    name = "numbers"
    files = "mnist"
    digits_per_number: int = parameter(3, 1, 10, "digits side by side in each number")
    spacing_min: int = parameter(0, 0, 28, "the smallest gap between two digits, in pixels")
    spacing_max: int = parameter(4, 0, 28, "the largest gap between two digits, in pixels")

    def check(self):
        super().check()
        ordered("source", "spacing_min", self.spacing_min, "spacing_max", self.spacing_max)

    def sprite_shape(self) -> tuple[int, int]:
        d = self.digits_per_number
        return 28, 28 * d + (d - 1) * self.spacing_max

    def draws(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return (*shape, self.digits_per_number)

    def choose(self, rng, block, shape, sampling, pool, num_frames):
        drawn = super().choose(rng, block, shape, sampling, pool, num_frames)
        gaps = (*shape, self.digits_per_number - 1)
        drawn["spacing"] = rng("spacing").integers(self.spacing_min, self.spacing_max + 1, gaps).astype(np.int16)
        return drawn

    def describe(self, drawn, pool):
        truth = super().describe(drawn, pool)  # labels and source_indices (N, K, digits)
        powers = 10 ** np.arange(self.digits_per_number - 1, -1, -1, dtype=np.int64)
        truth["value"] = truth["labels"].astype(np.int64) @ powers  # integer matmul: exact
        return truth

    def widths(self, truth):
        return 28 * self.digits_per_number + truth["spacing"].sum(axis=-1, dtype=np.int64)

    def sprites(self, truth, pool):
        digits = pool.images[truth["source_indices"]]  # (N, K, D, 28, 28)
        n, k, d = digits.shape[:3]
        width = self.sprite_shape()[1]
        lefts = np.zeros((n * k, d), np.int64)
        lefts[:, 1:] = 28 * np.arange(1, d) + np.cumsum(truth["spacing"].reshape(n * k, d - 1), axis=-1)
        out = np.zeros((n * k, 28, width), np.uint8)
        rows = as_strided(out.reshape(-1), (out.size - 27, 28), (1, 1), writeable=True)  # 28 pixels from anywhere
        row_starts = (np.arange(n * k) * (28 * width))[:, None] + np.arange(28) * width  # (N * K, 28)
        for j in range(d):  # digits never overlap (gaps >= 0): placing one is copying its rows
            rows[row_starts + lefts[:, j, None]] = digits[:, :, j].reshape(n * k, 28, 28)
        return out.reshape(n, 1, k, 1, 28, width)


@SOURCES.register
@dataclass(frozen=True)
class Doodles(Component):
    """Procedural doodles (lines, quadratic Bezier curves, ellipses), drawn anti-aliased; no files.

    size: the sprite is size x size pixels. Each sprite has U{min_strokes .. max_strokes} strokes of
    width U[min_width, max_width] pixels; `generator.doodles` defines the strokes and how they are drawn.
    morph: "none", the same doodle in every frame; or the doodle changes shape, passing through
    `keyframes` keyframe doodles spread over the frames along "linear", "bridge" (Brownian bridge of
    `morph_sigma` pixels per frame) or "spline" paths, as `generator.morph` defines.
    """

    name = "doodles"
    size: int = parameter(32, 8, 128, "the sprite is size x size pixels")
    min_strokes: int = parameter(1, 1, 16, "the fewest strokes in a sprite")
    max_strokes: int = parameter(4, 1, 16, "the most strokes in a sprite")
    min_width: float = parameter(1.0, 0.5, 8, "the thinnest stroke, in pixels")
    max_width: float = parameter(3.0, 0.5, 8, "the widest stroke, in pixels")
    morph: str = choice("none", ("none", *morph.PATHS),
                        "how a doodle changes shape between keyframe doodles (none: it does not)")
    keyframes: int = parameter(4, 2, 16, "morph: the keyframe doodles each doodle passes through, the first at "
                               "frame 0, the last at the last frame")
    morph_sigma: float = parameter(0.5, 0, 4, "morph bridge: the standard deviation of the random walk "
                                   "added to stroke coordinates, in pixels per frame")

    files: ClassVar[None] = None
    channels: ClassVar[int] = 1
    opaque: ClassVar[bool] = False
    class_names: ClassVar[None] = None

    def check(self):
        ordered("source", "min_strokes", self.min_strokes, "max_strokes", self.max_strokes)
        ordered("source", "min_width", self.min_width, "max_width", self.max_width)
        if self.max_width > self.size / 4:  # wider strokes would reach past the sprite's edges
            raise ValueError(f"source.max_width={self.max_width!r} must be at most size / 4 = {self.size / 4:g}")

    def check_with(self, num_frames: int) -> None:
        """Checks against the spec's `num_frames`: a morphing doodle's keyframes need frames of their own."""
        if self.morph != "none" and self.keyframes > num_frames:
            raise ValueError(f"source.keyframes={self.keyframes!r} must be at most num_frames={num_frames!r} "
                             f"(one frame per keyframe) when source.morph={self.morph!r}")

    def sprite_shape(self) -> tuple[int, int]:
        return self.size, self.size

    def choose(self, rng, block, shape, sampling, pool, num_frames):
        """`strokes`: `(N, K, max_strokes, 8)` float32 (morph "none", the "doodles" stream only), or
        `(N, T, K, max_strokes, 8)` float32, every frame's (the "doodles" stream, then the "morph" stream)."""
        count = int(np.prod(shape))
        widths = self.min_width, self.max_width
        strokes = doodles.sample_strokes(rng("doodles"), count, self.size, self.min_strokes, self.max_strokes, *widths)
        if self.morph == "none":
            return {"strokes": strokes.reshape(*shape, *strokes.shape[1:])}
        draws = rng("morph")  # one generator: the keyframes, then the bridge's steps
        keys = morph.keyframes(draws, strokes, self.keyframes, self.size, *widths)
        shaking = self.morph == "bridge"
        steps = morph.bridge_steps(draws, strokes[..., 0], num_frames, self.morph_sigma) if shaking else None
        frames = morph.animate(keys, num_frames, self.morph, self.size, *widths, steps=steps)  # (N * K, T, S, 8)
        return {"strokes": np.ascontiguousarray(frames.reshape(*shape, *frames.shape[1:]).swapaxes(1, 2))}

    def describe(self, drawn, pool):
        return dict(drawn)

    def widths(self, truth):
        return self.size

    def sprites(self, truth, pool):
        """`(N, 1, K, 1, size, size)` uint8 (morph "none": the same in every frame), or `(N, T, K, 1, size, size)`."""
        strokes = truth["strokes"] if self.morph != "none" else truth["strokes"][:, None]
        n, t, k = strokes.shape[:3]
        drawn = doodles.draw(strokes.reshape(n * t * k, *strokes.shape[3:]), self.size)
        return drawn.reshape(n, t, k, 1, self.size, self.size)


@functools.lru_cache(maxsize=8)
def _allowed(pool: Pool, classes: tuple[int, ...] | None) -> np.ndarray:
    """Indices of the pool's images of `classes` (all of them for None)."""
    if classes is None:
        return np.arange(len(pool.labels))
    allowed = np.flatnonzero(np.isin(pool.labels, classes))
    if allowed.size == 0:
        raise ValueError(f"source.classes={list(classes)} leaves no image in a pool of {len(pool.labels)} images")
    return allowed
