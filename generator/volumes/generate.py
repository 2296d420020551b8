"""Volumes: a spec, a split and an index range in, 4D frames and their ground truth out.

As for `generator.sequences`, the draws for sample i come from its block's streams, so the result
for index i depends only on (spec, split, i), whatever range, batch size or process asked for it.
"""

from __future__ import annotations

import functools

import numpy as np

from generator import streams
from generator.fields import pad
from generator.components import not_allowed
from generator.sequences import Sequences
from generator.streams import BLOCK_SIZE, SPLITS
from generator.volumes.cavities import FAMILIES, TORUS
from generator.volumes.placement import place
from generator.volumes.render import render
from generator.volumes.spec import VolumeSpec


def generate(spec: VolumeSpec, split: str, start: int, stop: int) -> Sequences:
    """Generate samples `start <= i < stop` of `split`: input and output frames `(N, T_in or T_out, D, D, D)
    uint8` (255 cavity, 0 material), their ground truth (`generator.volumes.fields`) and indices."""
    if split not in SPLITS:
        raise not_allowed("split", split, SPLITS)
    size = spec.split_sizes().get(split, 0)
    if not 0 <= start <= stop <= size:
        raise ValueError(f"range [{start}, {stop}) is outside the {split} split of {size} samples")
    truth = _truth(spec, split, start, stop)
    t_in = spec.num_input_frames
    inputs = np.empty((stop - start, t_in, *spec.frame_shape()), np.uint8)
    outputs = np.empty((stop - start, spec.num_output_frames, *spec.frame_shape()), np.uint8)
    cavities = zip(truth["cavity_families"], truth["cavity_lifetimes"], truth["cavity_parameters"])
    for j, (family, lifetimes, record) in enumerate(cavities):
        frames = render(spec, family, lifetimes, record)
        inputs[j], outputs[j] = frames[:t_in], frames[t_in:]
    return Sequences(inputs, outputs, truth, np.arange(start, stop, dtype=np.int64))


def _truth(spec: VolumeSpec, split: str, start: int, stop: int) -> dict[str, np.ndarray]:
    """The ground truth of `start <= i < stop`, from their blocks' cavities."""
    parts = []
    first_block = start // BLOCK_SIZE
    for block in range(first_block, max(first_block + 1, -(-stop // BLOCK_SIZE))):
        lo = block * BLOCK_SIZE
        keep = slice(max(start, lo) - lo, min(stop, lo + BLOCK_SIZE) - lo)
        parts.append({name: value[keep] for name, value in _block(spec, split, block).items()})
    truth = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    present = truth["cavity_families"] >= 0
    pad(spec, truth, present)
    return truth


@functools.lru_cache(maxsize=4)  # consecutive ranges usually fall in the same block
def _block(spec: VolumeSpec, split: str, block: int) -> dict[str, np.ndarray]:
    """One block's cavities and labels, each `(BLOCK_SIZE, ...)`, placed cavities first in each sample."""
    shape = (BLOCK_SIZE, spec.max_cavities)

    def rng(stream: str) -> np.random.Generator:
        return streams.rng(spec.seed, split, block, stream)

    draws = spec.cavities.draw(rng("cavities"), shape, spec.num_frames)
    count = np.full(BLOCK_SIZE, spec.max_cavities)
    if isinstance(spec.num_cavities, tuple):
        count = rng("cavity_count").integers(spec.num_cavities[0], spec.num_cavities[1] + 1, BLOCK_SIZE)
    middle, placed = place(rng("cavity_places"), draws, count, spec.cavities.gap, spec.overlap == "separate")
    half = draws["drift"] / 2
    q = draws["orientations"]
    record = np.concatenate([middle - half, middle + half, q[..., 0, :], q[..., 1, :], draws["size"]], axis=-1)
    order = np.argsort(~placed, axis=1, kind="stable")  # placed cavities first, in their order
    take = functools.partial(np.take_along_axis, indices=order, axis=1)
    placed, family = take(placed), take(draws["family"])
    lifetimes = np.take_along_axis(draws["lifetimes"], order[..., None], axis=1)
    record = np.take_along_axis(record, order[..., None], axis=1).astype(np.float32)
    family = np.where(placed, family, -1).astype(np.int8)
    truth = {
        "cavity_counts": np.stack([(family == f).sum(axis=1) for f in range(len(FAMILIES))], axis=-1).astype(np.int64),
        "cavity_families": family,
        "cavity_lifetimes": lifetimes,
        "cavity_parameters": record,
    }
    if spec.overlap == "separate":
        t = np.arange(spec.num_frames)[:, None]
        alive = placed[:, None] & (lifetimes[:, None, :, 0] <= t) & (t <= lifetimes[:, None, :, 1])  # (N, T, C)
        tori = (alive & (family == TORUS)[:, None]).sum(axis=-1)
        truth["betti_numbers"] = np.stack([np.ones_like(tori), tori, alive.sum(axis=-1)], axis=-1).astype(np.int16)
    return truth
