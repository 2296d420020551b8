"""Samplings: which images of a pool the sprites of each sequence are."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.components import Component, Registry

SAMPLINGS = Registry("sampling")


@SAMPLINGS.register
@dataclass(frozen=True)
class Random(Component):
    """Uniform with replacement, from the `source` stream."""

    name = "random"

    def choose(self, rng, block: int, shape: tuple[int, ...], pool_size: int) -> np.ndarray:
        """Indices `shape = (BLOCK_SIZE, K, ...)` int64 into a pool of `pool_size` images for one block."""
        return rng().integers(0, pool_size, shape)


@SAMPLINGS.register
@dataclass(frozen=True)
class Sequential(Component):
    """Each image in turn: image j of object k of sequence i is number (i * K + k) * J + j, modulo the pool."""

    name = "sequential"

    def choose(self, rng, block: int, shape: tuple[int, ...], pool_size: int) -> np.ndarray:
        first = block * shape[0] * int(np.prod(shape[1:]))
        return (first + np.arange(int(np.prod(shape)))).reshape(shape) % pool_size
