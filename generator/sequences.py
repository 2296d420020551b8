"""Sequences: a spec, a split and an index range in, frames and their ground truth out.

Randomness is keyed, never carried (see `generator.streams`): the draws for sequence i come from its
block's streams, so the result for index i depends only on (spec, split, i), whatever range, batch
size or process asked for it.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from generator import streams
from generator.files import Pool
from generator.motion import Space, pixel_offsets
from generator.render import render
from generator.spec import Spec
from generator.streams import BLOCK_SIZE, SPLITS

# Frames rendered at once: small enough that a block of canvases stays in the CPU cache.
_RENDER_FRAMES = 256


class Sequences(NamedTuple):
    """A range of sequences with their ground truth.

    frames: (N, T, H, W) uint8, or (N, T, 3, H, W) for RGB.
    truth: per-sequence ground truth by field name (`generator.fields`), each `(N, ...)`:
        positions (N, T, K, 2) int16 and what the source and background record.
    indices: (N,) int64, the position of each sequence in its split.
    """

    frames: np.ndarray
    truth: dict[str, np.ndarray]
    indices: np.ndarray


def pool_of(split: str) -> str:
    """Which pool a split draws from: train from train images, the others from test images."""
    if split not in SPLITS:
        raise ValueError(f"split={split!r} is not allowed: choose one of {', '.join(SPLITS)}")
    return "train" if split == "train" else "test"


def generate(spec: Spec, pools: dict[str, dict[str, Pool]], split: str, start: int, stop: int) -> Sequences:
    """Generate sequences `start <= i < stop` of `split`.

    pools: `{collection: {"train": Pool, "test": Pool}}` for each of `spec.files()`; the split's pool
    is chosen here, so that no caller can feed train images to an evaluation split.
    """
    size = spec.split_sizes().get(split, 0)
    if not 0 <= start <= stop <= size:
        raise ValueError(f"range [{start}, {stop}) is outside the {split} split of {size} sequences")
    pool = pool_of(split)
    source_pool, background_pool = (pools[c.files][pool] if c.files else None for c in (spec.source, spec.background))
    indices = np.arange(start, stop, dtype=np.int64)
    state, drawn = _draw(spec, source_pool, background_pool, split, start, stop)

    truth = spec.source.describe(drawn, source_pool)
    rows, cols = spec.source.sprite_shape()
    widths = np.broadcast_to(spec.source.widths(truth), (len(indices), spec.num_objects))
    free = np.stack([np.full(widths.shape, spec.image_size - rows), spec.image_size - widths], axis=-1)
    sizes = np.stack([widths, np.full(widths.shape, rows)], axis=-1).astype(np.float64)
    space = Space(free[..., ::-1].astype(np.float64), sizes, np.ones(widths.shape, bool))
    track = spec.motion.track(state, spec.num_frames, space)
    positions = truth["positions"] = pixel_offsets(track.positions[:, 1:], free[:, None])
    if "background_index" in drawn:
        truth["background_index"] = drawn["background_index"]

    c, h = spec.channels, spec.image_size
    # empty, then filled chunk by chunk while in cache: np.zeros would page-fault on every frame
    frames = np.empty((len(indices), spec.num_frames, c, h, h), np.uint8)
    # Sprites of different widths are padded to the widest with zeros, which may reach past the
    # right edge: those are drawn on a canvas as much wider, then cropped.
    overhang = max(0, int(positions[..., 1].max(initial=0)) + cols - h)
    # all at once, not per chunk: drawing doodles and resizing backgrounds have a cost per call
    sprites = spec.source.sprites(truth, source_pool)
    backgrounds = spec.background.paint(truth, background_pool, h)
    chunk = max(1, _RENDER_FRAMES // spec.num_frames)
    canvas = np.empty((min(chunk, len(indices)), spec.num_frames, c, h, h + overhang), np.uint8) if overhang else None
    for lo in range(0, len(indices), chunk):
        part = slice(lo, lo + chunk)
        out = frames[part] if canvas is None else canvas[: len(positions[part])]
        if backgrounds is None:
            out.fill(0)
        else:
            out[..., :h] = backgrounds[part, None]
            out[..., h:] = 0
        render(sprites[part], positions[part], out, spec.compositing, spec.source.opaque, blank=backgrounds is None)
        if canvas is not None:
            frames[part] = out[..., :h]
    return Sequences(frames[:, :, 0] if c == 1 else frames, truth, indices)


def _draw(spec: Spec, source_pool, background_pool, split: str, start: int, stop: int):
    """Motion start states and source and background draws for `start <= i < stop`, from their blocks."""
    parts = []
    first_block = start // BLOCK_SIZE
    for block in range(first_block, max(first_block + 1, -(-stop // BLOCK_SIZE))):  # one even for no sequence
        first = block * BLOCK_SIZE
        keep = slice(max(start, first) - first, min(stop, first + BLOCK_SIZE) - first)
        state, drawn = _draw_block(spec, source_pool, background_pool, split, block)
        parts.append(({name: a[keep] for name, a in state.items()}, {name: a[keep] for name, a in drawn.items()}))
    states, draws = zip(*parts)
    state = {name: np.concatenate([s[name] for s in states]) for name in states[0]}
    drawn = {name: np.concatenate([d[name] for d in draws]) for name in draws[0]}
    return state, drawn


@functools.lru_cache(maxsize=4)  # consecutive ranges usually fall in the same block
def _draw_block(spec: Spec, source_pool, background_pool, split: str, block: int):
    """One block's motion start state `(BLOCK_SIZE, K, 2)` arrays and its source and background draws."""
    shape = (BLOCK_SIZE, spec.num_objects)

    def rng(stream: str) -> np.random.Generator:
        return streams.rng(spec.seed, split, block, stream)

    state = spec.motion.start(rng("motion"), shape, spec.num_frames)
    drawn = spec.source.choose(rng, block, shape, spec.sampling, source_pool)
    drawn.update(spec.background.choose(rng, block, BLOCK_SIZE, background_pool))
    return state, drawn
