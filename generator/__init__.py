"""Deterministic, seeded numpy engine for Moving MNIST and its relatives.

One direction of flow: source images -> trajectories -> frames. Nothing here imports
`datasets` or `huggingface_hub`; `moving_mnist.py` adapts this engine to them.
"""

from generator.motion import MOTIONS, bounce, pixel_offsets, start_state
from generator.render import COMPOSITINGS, render
from generator.sequences import BLOCK_SIZE, SAMPLINGS, SPLITS, Sequences, generate
from generator.sources import SOURCES, ChecksumError, Pool, RemoteFile, Source, load_pools
from generator.spec import Spec

__all__ = [
    "BLOCK_SIZE",
    "COMPOSITINGS",
    "MOTIONS",
    "SAMPLINGS",
    "SOURCES",
    "SPLITS",
    "ChecksumError",
    "Pool",
    "RemoteFile",
    "Sequences",
    "Source",
    "Spec",
    "bounce",
    "generate",
    "load_pools",
    "pixel_offsets",
    "render",
    "start_state",
]
