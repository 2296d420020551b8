"""The published image collections the sources read: where their files live, how to check and read them.

Each collection has a train and a test pool of `images (N, h, w)` or `(N, 3, h, w)` uint8 with
`labels (N,) uint8`. MNIST and Fashion-MNIST are the canonical IDX `.gz` files (MNIST also keras'
`mnist.npz`); CIFAR-10 is the canonical `cifar-10-python.tar.gz`.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass

import numpy as np


class ChecksumError(ValueError):
    """A source file's bytes are not the published ones (corrupt, truncated or altered)."""


@dataclass(frozen=True)
class RemoteFile:
    """One published file.

    `checksum` is "<algorithm>:<hex>" as the publisher gives it (sha256, or md5 where only md5
    is published). `content_sha256` is the sha256 of the decompressed bytes, so that a copy that
    was merely recompressed (as Debian's Fashion-MNIST is) is recognised as the same data.
    """

    name: str
    checksum: str
    content_sha256: str | None = None


@dataclass(frozen=True)
class SourceFiles:
    """A published image collection: its files, classes, licence and citation."""

    name: str
    pretty_name: str
    base_url: str
    files: dict[str, RemoteFile]  # role ("train_images", ...) -> file
    class_names: tuple[str, ...]
    license: str
    citation: str
    npz: RemoteFile | None = None  # a single-file alternative (keras' mnist.npz)

    def url(self, role: str, mirror: str | None = None) -> str:
        """The canonical URL of a file, or `<mirror>/<source>/<file name>` for a mirror."""
        name = self.files[role].name
        if mirror:
            return f"{mirror.rstrip('/')}/{self.name}/{name}"
        return self.base_url + name


_MNIST_CITATION = """@article{lecun1998gradient,
  title={Gradient-based learning applied to document recognition},
  author={LeCun, Yann and Bottou, L{\\'e}on and Bengio, Yoshua and Haffner, Patrick},
  journal={Proceedings of the IEEE}, volume={86}, number={11}, pages={2278--2324}, year={1998}
}"""

_FASHION_CITATION = """@article{xiao2017fashion,
  title={Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms},
  author={Xiao, Han and Rasul, Kashif and Vollgraf, Roland},
  journal={arXiv preprint arXiv:1708.07747}, year={2017}
}"""

_CIFAR_CITATION = """@techreport{krizhevsky2009learning,
  title={Learning Multiple Layers of Features from Tiny Images},
  author={Krizhevsky, Alex}, institution={University of Toronto}, year={2009}
}"""

SOURCE_FILES: dict[str, SourceFiles] = {
    "mnist": SourceFiles(
        name="mnist",
        pretty_name="MNIST",
        base_url="https://ossci-datasets.s3.amazonaws.com/mnist/",
        files={
            "train_images": RemoteFile(
                "train-images-idx3-ubyte.gz",
                "sha256:440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            ),
            "train_labels": RemoteFile(
                "train-labels-idx1-ubyte.gz",
                "sha256:3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            ),
            "test_images": RemoteFile(
                "t10k-images-idx3-ubyte.gz",
                "sha256:8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            ),
            "test_labels": RemoteFile(
                "t10k-labels-idx1-ubyte.gz",
                "sha256:f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            ),
        },
        class_names=tuple("0123456789"),
        license="cc-by-sa-3.0",
        citation=_MNIST_CITATION,
        npz=RemoteFile(
            "mnist.npz", "sha256:731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
        ),
    ),
    "fashion_mnist": SourceFiles(
        name="fashion_mnist",
        pretty_name="Fashion-MNIST",
        base_url="https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        # Zalando publishes md5 only; the content hashes identify recompressed copies.
        files={
            "train_images": RemoteFile(
                "train-images-idx3-ubyte.gz",
                "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            ),
            "train_labels": RemoteFile(
                "train-labels-idx1-ubyte.gz",
                "md5:25c81989df183df01b3e8a0aad5dffbe",
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            ),
            "test_images": RemoteFile(
                "t10k-images-idx3-ubyte.gz",
                "md5:bef4ecab320f06d8554ea6380940ec79",
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            ),
            "test_labels": RemoteFile(
                "t10k-labels-idx1-ubyte.gz",
                "md5:bb300cfdad3c16e7a12a480ee83cd310",
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            ),
        },
        class_names=(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
        ),
        license="mit",
        citation=_FASHION_CITATION,
    ),
    "cifar10": SourceFiles(
        name="cifar10",
        pretty_name="CIFAR-10",
        base_url="https://www.cs.toronto.edu/~kriz/",
        files={
            "archive": RemoteFile(
                "cifar-10-python.tar.gz",
                "sha256:6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
            ),
        },
        class_names=("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
        license="unknown",  # none stated by the authors
        citation=_CIFAR_CITATION,
    ),
}


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: random draws are cached per pool
class Pool:
    """The images a split may draw from: `images (N, h, w)` or `(N, 3, h, w)` uint8, `labels (N,) uint8`."""

    images: np.ndarray
    labels: np.ndarray


def verify(path: str, file: RemoteFile, origin: str | None = None, remedy: str | None = None) -> None:
    """Raise `ChecksumError` unless the file at `path` (fetched from `origin`) holds the published bytes.

    The message ends with `remedy`, what to do about it (by default: fetch it again or use another copy).
    """
    with open(path, "rb") as f:
        data = f.read()
    algorithm, expected = file.checksum.split(":")
    actual = hashlib.new(algorithm, data).hexdigest()
    if actual == expected:
        return
    if file.content_sha256 and _content_sha256(data) == file.content_sha256:
        return
    raise ChecksumError(
        f"{file.name} from {origin or path} is corrupt or not the published file: expected {algorithm} "
        f"{expected}, got {actual} ({len(data)} bytes). "
        + (remedy or "Delete it and fetch it again, or point MOVING_MNIST_MIRROR / data_dir at a good copy.")
    )


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 of a file's bytes, read in blocks (files may be larger than memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def _content_sha256(data: bytes) -> str | None:
    try:
        return hashlib.sha256(_gunzip(data, "data")).hexdigest()
    except ValueError:
        return None


def _gunzip(data: bytes, name: str) -> bytes:
    """Decompress gzip bytes; a file that is not gzip, truncated or corrupt raises `ValueError`."""
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"{name} is not a readable gzip file: {error}") from None


def read_idx(path: str) -> np.ndarray:
    """Read an IDX file (gzipped or not) of unsigned bytes into an array of its shape."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, path)
    if len(data) < 4 or data[:3] != b"\x00\x00\x08":
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    header = 4 + 4 * ndim
    if len(data) != header + int(np.prod(shape)):
        raise ValueError(f"{path} holds {len(data) - header} bytes of data, its header says {shape}")
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def local_files(source: SourceFiles, folder: str) -> dict[str, str]:
    """Find a source's files in a folder: the four IDX files, or else keras' npz (role "npz")."""
    paths = {role: os.path.join(folder, file.name) for role, file in source.files.items()}
    if all(os.path.isfile(p) for p in paths.values()):
        return paths
    if source.npz and os.path.isfile(os.path.join(folder, source.npz.name)):
        return {"npz": os.path.join(folder, source.npz.name)}
    wanted = ", ".join(f.name for f in source.files.values())
    alternative = f" (or {source.npz.name})" if source.npz else ""
    raise FileNotFoundError(f"{folder} does not hold the {source.pretty_name} files {wanted}{alternative}")


def check_files(source: SourceFiles, paths: dict[str, str]) -> None:
    """Verify every file of `paths` (as returned by `local_files`) against its published hash."""
    for role, path in paths.items():
        verify(path, source.npz if role == "npz" else source.files[role])


def load_pools(paths: dict[str, str]) -> dict[str, Pool]:
    """Read the "train" and "test" pools from the four IDX files, one keras npz or the CIFAR-10 archive."""
    if "archive" in paths:
        from generator.cifar import read_cifar10  # noqa: PLC0415 -- pickle and tarfile only when needed

        return read_cifar10(paths["archive"])
    if "npz" in paths:
        with np.load(paths["npz"]) as npz:
            return {
                "train": Pool(npz["x_train"].astype(np.uint8), npz["y_train"].astype(np.uint8)),
                "test": Pool(npz["x_test"].astype(np.uint8), npz["y_test"].astype(np.uint8)),
            }
    pools = {}
    for part in ("train", "test"):
        images, labels = read_idx(paths[f"{part}_images"]), read_idx(paths[f"{part}_labels"])
        if images.ndim != 3 or labels.shape != images.shape[:1]:
            raise ValueError(f"{part} images {images.shape} and labels {labels.shape} do not match")
        pools[part] = Pool(images, labels)
    return pools
