"""Deterministic, seeded numpy engine for Moving MNIST and its relatives.

One direction of flow: source images -> trajectories -> frames. Each variant is a registered
component (`generator.components`); nothing here imports `datasets` or `huggingface_hub`, and
`moving_mnist.py` adapts this engine to them.
"""

from generator.backgrounds import BACKGROUNDS
from generator.compositing import COMPOSITINGS
from generator.fields import FIELDS, fields_of
from generator.files import SOURCE_FILES, ChecksumError, Pool, RemoteFile, SourceFiles, load_pools
from generator.motion import MOTIONS, bounce, pixel_offsets
from generator.render import render
from generator.sampling import SAMPLINGS
from generator.sequences import Sequences, generate
from generator.sources import SOURCES
from generator.spec import COMPONENTS, Spec
from generator.streams import BLOCK_SIZE, SPLITS, STREAMS

__all__ = [
    "BACKGROUNDS",
    "BLOCK_SIZE",
    "COMPONENTS",
    "COMPOSITINGS",
    "FIELDS",
    "MOTIONS",
    "SAMPLINGS",
    "SOURCES",
    "SOURCE_FILES",
    "SPLITS",
    "STREAMS",
    "ChecksumError",
    "Pool",
    "RemoteFile",
    "Sequences",
    "SourceFiles",
    "Spec",
    "bounce",
    "fields_of",
    "generate",
    "load_pools",
    "pixel_offsets",
    "render",
]
