"""Real CIFAR-10 images for the tests, and archives in the canonical `cifar-10-python.tar.gz` format.

foolbox's wheel ships 20 real CIFAR-10 test images as PNG (`foolbox/data/cifar10_NN_LABEL.png`);
the archive writer here pickles them the way the published batches were pickled (Python 2,
protocol 2), with its own small pickle writer, independent of the reader under test.
"""

from __future__ import annotations

import gzip
import importlib.util
import io
import math
import struct
import tarfile
from pathlib import Path

import numpy as np

FOLDER = "cifar-10-batches-py"
ARCHIVE = "cifar-10-python.tar.gz"
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
# The published archive lists its batches in this order (and a readme.html, left out here)
PUBLISHED_ORDER = (
    "data_batch_4", "test_batch", "data_batch_3", "batches.meta", "data_batch_2", "data_batch_5", "data_batch_1"
)
MTIME = 1244234400  # a fixed member date (June 2009), so that the archive's bytes never change


def foolbox_cifar_pngs() -> list[Path]:
    """foolbox's 20 real CIFAR-10 test images, `cifar10_NN_LABEL.png`, in file-name order."""
    spec = importlib.util.find_spec("foolbox")
    assert spec is not None, "real CIFAR-10 test images are missing: run scripts/test-data.sh"
    paths = sorted((Path(spec.submodule_search_locations[0]) / "data").glob("cifar10_??_*.png"))
    assert len(paths) == 20, paths
    return paths


def foolbox_cifar_images() -> tuple[np.ndarray, np.ndarray]:
    """The 20 real CIFAR-10 test images in file-name order: `images (20, 3, 32, 32) uint8`, `labels (20,) uint8`."""
    import imageio.v3 as iio  # here: the datasets 3.x suite shares this conftest without imageio

    paths = foolbox_cifar_pngs()
    images = np.stack([iio.imread(path).transpose(2, 0, 1) for path in paths])  # (32, 32, 3) -> (3, 32, 32)
    labels = np.array([int(path.stem.split("_")[2]) for path in paths], np.uint8)
    return images, labels


def write_cifar_archive(folder: str | Path, train, test) -> Path:
    """Write `folder/cifar-10-python.tar.gz` holding the pools `train` and `test`, each `(images (N, 3, 32, 32)
    uint8, labels (N,))`: `train` split as evenly as possible over data_batch_1..5."""
    return write_archive(folder, cifar_members(train, test))


def cifar_members(train, test) -> dict[str, bytes]:
    """The archive's members, path -> bytes, in the order of the published archive (not name order)."""
    train_parts = zip(np.array_split(train[0], 5), np.array_split(train[1], 5))
    batches = {f"data_batch_{i}": batch(f"training batch {i} of 5", *part) for i, part in enumerate(train_parts, 1)}
    batches["test_batch"] = batch("testing batch 1 of 1", *test)
    batches["batches.meta"] = python2_pickle(
        {b"label_names": [name.encode() for name in CLASS_NAMES], b"num_cases_per_batch": 10000, b"num_vis": 3072}
    )
    return {f"{FOLDER}/{name}": batches[name] for name in PUBLISHED_ORDER}


def batch(batch_label: str, images: np.ndarray, labels: np.ndarray) -> bytes:
    """One pickled batch: `images (N, 3, 32, 32) uint8` as `b"data"` rows of 3072 (red, green, blue planes)."""
    return python2_pickle({
        b"batch_label": batch_label.encode(),
        b"labels": [int(label) for label in labels],
        b"data": np.ascontiguousarray(images, np.uint8).reshape(len(images), -1),
        b"filenames": [f"image_{i:05d}.png".encode() for i in range(len(images))],
    })


def write_archive(folder: str | Path, members: dict[str, bytes]) -> Path:
    """Write `folder/cifar-10-python.tar.gz` with a directory entry and `members`, path -> bytes, in order.

    Fixed dates, owners and modes, and a gzip header without date or name: equal inputs give equal bytes.
    """
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.GNU_FORMAT) as archive:
        archive.addfile(_member(FOLDER, tarfile.DIRTYPE, 0o755))
        for name, data in members.items():
            archive.addfile(_member(name, tarfile.REGTYPE, 0o644, len(data)), io.BytesIO(data))
    path = Path(folder) / ARCHIVE
    path.write_bytes(gzip.compress(tar_bytes.getvalue(), compresslevel=9, mtime=0))
    return path


def _member(name: str, kind: bytes, mode: int, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.size, info.mtime = kind, mode, size, MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


# --- Pickles as Python 2's cPickle wrote them (protocol 2): str is bytes, numpy under numpy 1's names --------


def python2_pickle(value) -> bytes:
    """Pickle dicts, lists, ints, bytes and 2-D uint8 arrays with the opcodes Python 2 used for them."""
    return b"\x80\x02" + _opcodes(value) + b"."  # PROTO 2 ... STOP


def _opcodes(value) -> bytes:
    if isinstance(value, bytes):  # a Python 2 str: SHORT_BINSTRING or BINSTRING
        if len(value) < 256:
            return b"U" + bytes([len(value)]) + value
        return b"T" + struct.pack("<i", len(value)) + value
    if isinstance(value, int):  # BININT1, BININT2 or BININT
        if 0 <= value < 256:
            return b"K" + bytes([value])
        if 0 <= value < 65536:
            return b"M" + struct.pack("<H", value)
        return b"J" + struct.pack("<i", value)
    if isinstance(value, list):  # EMPTY_LIST, MARK, items, APPENDS
        return b"](" + b"".join(_opcodes(item) for item in value) + b"e"
    if isinstance(value, dict):  # EMPTY_DICT, MARK, keys and values, SETITEMS
        return b"}(" + b"".join(_opcodes(k) + _opcodes(v) for k, v in value.items()) + b"u"
    if isinstance(value, np.ndarray) and value.dtype == np.uint8 and value.ndim == 2:
        return _uint8_array(value)
    raise TypeError(f"python2_pickle cannot write {type(value).__name__}")


def _uint8_array(array: np.ndarray) -> bytes:
    """`_reconstruct(ndarray, (0,), "b")`, then BUILD with `(1, shape, dtype("u1"), False, raw bytes)`."""
    dtype = (
        b"cnumpy\ndtype\n" + _opcodes(b"u1") + b"\x89\x88\x87R"  # dtype("u1", False, True)
        + b"(K\x03" + _opcodes(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"  # its state, BUILD
    )
    rows, columns = array.shape
    shape = _opcodes(rows) + _opcodes(columns) + b"\x86"  # TUPLE2
    return (
        b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85" + _opcodes(b"b") + b"\x87R"
        + b"(K\x01" + shape + dtype + b"\x89" + _opcodes(array.tobytes()) + b"tb"
    )


def reference_resize(images, height, width):
    """Per-pixel pure Python bilinear interpolation, half-pixel centres, clamped edges, rounded half up."""

    def taps(i, size, new_size):
        source = min(max((i + 0.5) * size / new_size - 0.5, 0.0), size - 1)
        lower = math.floor(source)
        return lower, min(lower + 1, size - 1), source - lower

    count, channels, h, w = images.shape
    pixels = images.tolist()
    out = np.zeros((count, channels, height, width), np.uint8)
    for n in range(count):
        for c in range(channels):
            plane = pixels[n][c]
            for y in range(height):
                y0, y1, ty = taps(y, h, height)
                for x in range(width):
                    x0, x1, tx = taps(x, w, width)
                    left = plane[y0][x0] * (1 - ty) + plane[y1][x0] * ty
                    right = plane[y0][x1] * (1 - ty) + plane[y1][x1] * ty
                    out[n, c, y, x] = math.floor(left * (1 - tx) + right * tx + 0.5)
    return out
