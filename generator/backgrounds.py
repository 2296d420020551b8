"""Backgrounds: what the canvas shows behind the sprites."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from generator.components import Component, Registry
from generator.files import Pool
from generator.resize import resize

BACKGROUNDS = Registry("background")


@BACKGROUNDS.register
@dataclass(frozen=True)
class Blank(Component):
    """A black canvas (the original)."""

    name = "none"
    files: ClassVar[None] = None
    channels: ClassVar[int] = 1

    def choose(self, rng, block: int, size: int, pool: Pool | None) -> dict[str, np.ndarray]:
        return {}

    def paint(self, truth: dict[str, np.ndarray], pool: Pool | None, size: int) -> np.ndarray | None:
        return None


@BACKGROUNDS.register
@dataclass(frozen=True)
class Cifar10(Component):
    """A static CIFAR-10 image per sequence, from the split's own pool, resized bilinearly to the canvas.

    `background_index` records which image of the pool (train images for train, test images otherwise).
    """

    name = "cifar10"
    files: ClassVar[str] = "cifar10"
    channels: ClassVar[int] = 3

    def choose(self, rng, block, size, pool):
        return {"background_index": rng("background").integers(0, len(pool.labels), size)}

    def paint(self, truth, pool, size):
        """`(N, 3, size, size)` uint8."""
        return resize(pool.images[truth["background_index"]], size, size)
