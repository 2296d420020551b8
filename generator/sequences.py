"""Sequences: a spec, a split and an index range in, frames and their ground truth out.

Randomness is keyed, never carried: the start state and sprite choice of sequence i come from
`numpy.random.default_rng([seed, split, i // BLOCK_SIZE, stream])`, so the result for index i
depends only on (spec, split, i), whatever range, batch size or process asked for it.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from generator.motion import bounce, pixel_offsets, start_state
from generator.render import render
from generator.sources import Pool
from generator.spec import Spec

SPLITS = ("train", "validation", "test")
SAMPLINGS = ("random", "sequential")

# Sequences per random block. Part of the definition of the data: changing it changes every byte.
BLOCK_SIZE = 1024
_MOTION_STREAM, _SOURCE_STREAM = 0, 1

# Frames rendered at once: small enough that a block of canvases stays in the CPU cache.
_RENDER_FRAMES = 256


class Sequences(NamedTuple):
    """A range of sequences with their ground truth.

    frames: (N, T, H, W) uint8.
    labels: (N, K) uint8, the class of each sprite.
    source_indices: (N, K) int64, each sprite's index in its source pool (train or test images).
    positions: (N, T, K, 2) int16, (row, col) of each sprite's top-left corner in each frame.
    indices: (N,) int64, the position of each sequence in its split.
    """

    frames: np.ndarray
    labels: np.ndarray
    source_indices: np.ndarray
    positions: np.ndarray
    indices: np.ndarray


def pool_of(split: str) -> str:
    """Which source pool a split draws from: train from train images, the others from test images."""
    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not allowed: choose one of {', '.join(SPLITS)}")
    return "train" if split == "train" else "test"


def generate(spec: Spec, pools: dict[str, Pool], split: str, start: int, stop: int) -> Sequences:
    """Generate sequences `start <= i < stop` of `split`.

    pools: {"train": Pool, "test": Pool} of the source; the split's pool is chosen here, so that
    no caller can feed train images to an evaluation split.
    """
    pool = pools[pool_of(split)]
    size = spec.split_sizes().get(split, 0)
    if not 0 <= start <= stop <= size:
        raise ValueError(f"range [{start}, {stop}) is outside the {split} split of {size} sequences")
    indices = np.arange(start, stop, dtype=np.int64)
    position, velocity, source_indices = _draw(spec, len(pool.images), split, start, stop)

    free_space = spec.image_size - pool.images.shape[-1]
    positions = pixel_offsets(bounce(position, velocity, spec.num_frames), free_space)
    # empty, then zeroed chunk by chunk while in cache: np.zeros would page-fault on every frame
    frames = np.empty((len(indices), spec.num_frames, spec.image_size, spec.image_size), np.uint8)
    chunk = max(1, _RENDER_FRAMES // spec.num_frames)
    for lo in range(0, len(indices), chunk):
        out = frames[lo : lo + chunk]
        out.fill(0)
        render(pool.images[source_indices[lo : lo + chunk]], positions[lo : lo + chunk], out, spec.compositing)
    return Sequences(frames, pool.labels[source_indices], source_indices, positions, indices)


def _draw(spec: Spec, pool_size: int, split: str, start: int, stop: int):
    """Start states and sprite choices for `start <= i < stop`, gathered from their blocks."""
    parts = []
    for block in range(start // BLOCK_SIZE, -(-stop // BLOCK_SIZE)):
        first = block * BLOCK_SIZE
        keep = slice(max(start, first) - first, min(stop, first + BLOCK_SIZE) - first)
        parts.append([array[keep] for array in _draw_block(spec, pool_size, split, block)])
    if not parts:
        empty = np.empty((0, spec.num_objects, 2))
        return empty, empty, np.empty((0, spec.num_objects), np.int64)
    return tuple(np.concatenate(arrays) for arrays in zip(*parts))


@functools.lru_cache(maxsize=4)  # consecutive ranges usually fall in the same block
def _draw_block(spec: Spec, pool_size: int, split: str, block: int):
    """`position, velocity (BLOCK_SIZE, K, 2)` float64 and `source_indices (BLOCK_SIZE, K)` int64."""
    shape = (BLOCK_SIZE, spec.num_objects)
    key = [spec.seed, SPLITS.index(split), block]
    motion_rng = np.random.default_rng(key + [_MOTION_STREAM])
    position, velocity = start_state(spec.motion, motion_rng, shape, spec.step_length)
    if spec.sampling == "random":
        sources = np.random.default_rng(key + [_SOURCE_STREAM]).integers(0, pool_size, shape)
    else:
        sequence = block * BLOCK_SIZE + np.arange(BLOCK_SIZE)
        sources = (sequence[:, None] * spec.num_objects + np.arange(spec.num_objects)) % pool_size
    return position, velocity, sources
