"""The random streams: part of the definition of the data.

The draws for sequence i of a split come from

    numpy.random.default_rng([seed, split, i // BLOCK_SIZE, stream])

with split 0 (train), 1 (validation) or 2 (test), so they depend only on (spec, split, i), whatever
range, batch size, process or machine asked for them. Each component draws from its own stream.

Streams marked "per sequence" draw too much for a whole block at once (a value per byte of every
frame), so they are keyed by the sequence's index instead of its block:

    numpy.random.default_rng([seed, split, i, stream])

The table is append-only: an id, once given, never changes meaning, and a new component takes a
new id, so that adding one never changes the bytes of a dataset that does not use it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# Sequences per random block. Changing it would change every byte.
BLOCK_SIZE = 1024

SPLITS = ("train", "validation", "test")


class Stream(NamedTuple):
    id: int
    draws: str


STREAMS = {
    "motion": Stream(0, "start positions and velocities"),
    "source": Stream(1, "which source images (`random` sampling)"),
    "spacing": Stream(2, "`numbers`: the gaps between digits"),
    "doodles": Stream(3, "`doodles`: the strokes of each sprite"),
    "background": Stream(4, "which background image"),
    "count": Stream(5, "how many objects a sequence has (`num_objects` a range)"),
    "appear": Stream(6, "the frame each object first shows in (`motion.appear`)"),
    "transform": Stream(7, "each object's rotation and scale over time (`transform`)"),
    "morph": Stream(8, "`doodles`: the keyframe doodles a morphing doodle passes through"),
    "occlusion": Stream(9, "the size and place of each input frame's occluding patch (`occlusion`)"),
    "drop": Stream(10, "which input frames are dropped (`drop`)"),
    "noise": Stream(11, "the noise of every byte of the input frames (`noise`); per sequence"),
    "cavities": Stream(12, "volumes: each cavity's family, lifetime, size, orientations and drift (`cavities`)"),
    "cavity_places": Stream(13, "volumes: the places each cavity tries, in order"),
    "cavity_count": Stream(14, "volumes: how many cavities a sample has (`num_cavities` a range)"),
}


def rng(seed: int, split: str, block: int, stream: str) -> np.random.Generator:
    """The generator of `stream` for one block of a split."""
    return np.random.default_rng([seed, SPLITS.index(split), block, STREAMS[stream].id])


def sequence_rng(seed: int, split: str, index: int, stream: str) -> np.random.Generator:
    """The generator of a per-sequence `stream` for sequence `index` of a split."""
    return rng(seed, split, index, stream)
