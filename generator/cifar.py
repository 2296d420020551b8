"""CIFAR-10: its train and test pools read from the published `cifar-10-python.tar.gz`.

The archive holds batches pickled by Python 2 (protocol 2). They are read with an unpickler that
admits only numpy's array reconstruction, so a tampered archive is refused before it can run code.
"""

from __future__ import annotations

import gzip
import os
import pickle
import tarfile
from typing import IO

import numpy as np

from generator.files import Pool

FOLDER = "cifar-10-batches-py"
_CLASSES = 10
BATCHES = {"train": tuple(f"data_batch_{i}" for i in range(1, 6)), "test": ("test_batch",)}
IMAGE_SHAPE = (3, 32, 32)  # channel-first RGB; a batch row is the red plane, then green, then blue

_reconstruct = np.zeros(0).__reduce__()[0]  # numpy's array reconstructor, whichever module holds it
# The only globals a pickled uint8 array refers to, under numpy 1's and numpy 2's module names.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class ArchiveError(ValueError):
    """A CIFAR-10 archive that is truncated, corrupt, incomplete or not in the published format."""


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles one batch; a global other than numpy's array reconstruction is refused, never imported."""

    def __init__(self, file: IO[bytes], where: str):
        super().__init__(file, encoding="bytes")  # Python 2 strings stay bytes: keys b"data", b"labels"
        self.where = where

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED_GLOBALS[module, name]
        except KeyError:
            raise ArchiveError(
                f"{self.where} refers to {module}.{name}, which a CIFAR-10 batch never does; refusing to load it"
            ) from None


def read_cifar10(path: str | os.PathLike) -> dict[str, Pool]:
    """Read `{"train": Pool, "test": Pool}` from the archive, without extracting it to disk.

    Train is `data_batch_1..5` in that order, test is `test_batch`: `images (N, 3, 32, 32) uint8`,
    `labels (N,) uint8` (50000 and 10000 images in the published archive). A truncated or corrupt
    archive, a missing batch or a batch of the wrong shape raises `ArchiveError` (a `ValueError`)
    naming the file.
    """
    batches = _read_batches(path)
    pools = {}
    for split, names in BATCHES.items():
        missing = [f"{FOLDER}/{name}" for name in names if name not in batches]
        if missing:
            raise ArchiveError(f"{path} lacks {', '.join(missing)}: it is not a complete cifar-10-python.tar.gz")
        parts = [batches[name] for name in names]
        if len(parts) == 1:
            pools[split] = parts[0]
        else:
            pools[split] = Pool(np.concatenate([p.images for p in parts]), np.concatenate([p.labels for p in parts]))
    return pools


def _read_batches(path: str | os.PathLike) -> dict[str, Pool]:
    """The batches of `BATCHES` found in the archive, by name, read in one pass in the archive's order."""
    wanted = {f"{FOLDER}/{name}": name for names in BATCHES.values() for name in names}
    batches: dict[str, Pool] = {}
    member = "its start"
    with open(path, "rb") as file, gzip.GzipFile(fileobj=file) as unzipped:
        try:
            # Stream mode: the published archive is not in name order, and seeking back in gzip restarts it
            with tarfile.open(fileobj=unzipped, mode="r|") as archive:
                for info in archive:
                    member = info.name
                    if info.isfile() and member in wanted:
                        batches[wanted[member]] = _read_batch(archive.extractfile(info), f"{path}: {member}")
            member = "its end"
            while unzipped.read(1 << 20):  # to the end, where gzip checks the CRC of all the bytes read
                pass
        except ArchiveError:
            raise
        except Exception as error:  # any failure to decompress, untar or unpickle means damaged bytes
            raise ArchiveError(
                f"{path} is truncated or corrupt (at {member}): {type(error).__name__}: {error}"
            ) from None
    return batches


def _read_batch(file: IO[bytes], where: str) -> Pool:
    """One pickled batch: `b"data"` (N, 3072) uint8 becomes `images (N, 3, 32, 32)`, `b"labels"` `labels (N,)`."""
    batch = _BatchUnpickler(file, where).load()
    if not isinstance(batch, dict):
        raise ArchiveError(f"{where} holds a {type(batch).__name__}, not a batch dict")
    data = batch.get(b"data")
    row = int(np.prod(IMAGE_SHAPE))
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != row:
        got = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
        raise ArchiveError(f"{where}: b'data' is {got}, expected a uint8 array of shape (N, {row})")
    labels = np.asarray(batch.get(b"labels"))
    if labels.shape != data.shape[:1] or labels.dtype.kind not in "iu":
        raise ArchiveError(f"{where}: b'labels' is {labels.dtype} {labels.shape}, expected {len(data)} integers")
    if len(labels) and not (labels.min() >= 0 and labels.max() < _CLASSES):
        raise ArchiveError(
            f"{where}: b'labels' holds {labels.min()}..{labels.max()}, expected 0..{_CLASSES - 1}"
        )
    return Pool(data.reshape(-1, *IMAGE_SHAPE), labels.astype(np.uint8))
