"""Getting the source files: from a mirror through datasets' download manager, or from data_dir.

The mirror is a loopback HTTP server (tests/httpserver.py) serving the real canonical MNIST files,
so every check here runs on the published bytes and their published sha256.
"""

import gzip
import hashlib
import json
import shutil
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import datasets
import numpy as np
import pytest
from helpers import arrow_leaves
from httpserver import FileServer

import moving_mnist
from generator import SOURCES, ChecksumError
from generator.sources import verify

MNIST = SOURCES["mnist"]
NAMES = [f.name for f in MNIST.files.values()]
PATHS = [f"/mnist/{name}" for name in NAMES]
TRAIN_IMAGES = "/mnist/train-images-idx3-ubyte.gz"
TRAIN_IMAGES_SHA256 = "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
SMALL = dict(num_train=40, num_validation=10, num_test=20, seed=3)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _assert_same_data(a: datasets.DatasetDict, b: datasets.DatasetDict) -> None:
    assert sorted(a) == sorted(b)
    for split in a:
        assert a[split].features == b[split].features, split
        assert a[split].num_rows == b[split].num_rows, split
        for column in a[split].column_names:
            x, y = arrow_leaves(a[split].data.table[column]), arrow_leaves(b[split].data.table[column])
            assert x.dtype == y.dtype and x.shape == y.shape, (split, column)
            assert np.array_equal(x, y), (split, column)


def _flip(data: bytes, offset: int) -> bytes:
    bad = bytearray(data)
    bad[offset] ^= 0xFF
    return bytes(bad)


def _corrupt(data: bytes, kind: str) -> bytes:
    if kind == "flip-crc":  # a byte in the middle of the deflate stream: gzip's CRC check fails
        return _flip(data, len(data) // 2)
    if kind == "flip-deflate":  # a byte early in the deflate stream: zlib itself fails to decode
        return _flip(data, 1000)
    if kind == "truncated":
        return data[: len(data) // 2]
    raise AssertionError(kind)


@pytest.fixture(scope="module")
def canonical(mnist_dir) -> dict[str, bytes]:
    """URL path on the mirror -> the canonical bytes."""
    return {f"/mnist/{name}": (mnist_dir / name).read_bytes() for name in NAMES}


@pytest.fixture
def serve(canonical, monkeypatch):
    """Start a mirror of the canonical files and point MOVING_MNIST_MIRROR at it."""
    servers = []

    def start(etag: bool = True) -> FileServer:
        server = FileServer(canonical, etag=etag).start()
        servers.append(server)
        monkeypatch.setenv("MOVING_MNIST_MIRROR", server.url)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def reference(mnist_dir, tmp_path_factory) -> datasets.DatasetDict:
    """The SMALL config built from data_dir, without any server."""
    builder = moving_mnist.MovingMNIST(
        config_name="classic", data_dir=str(mnist_dir), cache_dir=str(tmp_path_factory.mktemp("reference")), **SMALL
    )
    builder.download_and_prepare()
    return builder.as_dataset()


def _downloaded(cache: Path) -> dict[str, Path]:
    """sha256 -> path of every downloaded data file in `<cache>/downloads`."""
    folder = cache / "downloads"
    if not folder.is_dir():
        return {}
    return {
        _sha256(p.read_bytes()): p
        for p in folder.iterdir()
        if p.is_file() and not p.name.endswith((".json", ".lock", ".incomplete"))
    }


def _assert_no_dataset(cache: Path, builder) -> None:
    assert not Path(builder.cache_dir).exists()
    assert list(cache.rglob("dataset_info.json")) == []
    assert list(cache.rglob("*.arrow")) == []


# -- the loopback server itself ------------------------------------------------------------


def _fetch(url: str, method: str = "GET"):
    with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def test_file_server_serves_counts_swaps_queues_and_stops(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.bin").write_bytes(b"hello")
    with FileServer.from_folder(tmp_path, prefix="/x") as server:
        assert server.url.startswith("http://127.0.0.1:") and server.port > 0
        status, headers, body = _fetch(server.url + "/x/sub/a.bin")
        assert (status, body, headers["Content-Length"]) == (200, b"hello", "5")
        etag = headers["ETag"]
        status, headers, body = _fetch(server.url + "/x/sub/a.bin", "HEAD")
        assert (status, body, headers["Content-Length"], headers["ETag"]) == (200, b"", "5", etag)
        with pytest.raises(urllib.error.HTTPError) as missing:
            _fetch(server.url + "/x/nope")
        assert missing.value.code == 404
        server.set("/x/sub/a.bin", b"changed!")
        _, headers, body = _fetch(server.url + "/x/sub/a.bin")
        assert body == b"changed!" and headers["Content-Length"] == "8" and headers["ETag"] != etag
        server.queue("/x/sub/a.bin", b"one", b"two")
        assert [_fetch(server.url + "/x/sub/a.bin")[2] for _ in range(3)] == [b"one", b"two", b"changed!"]
        assert server.requests == ["/x/sub/a.bin", "/x/nope", "/x/sub/a.bin"] + ["/x/sub/a.bin"] * 3
        assert server.head_requests == ["/x/sub/a.bin"]
        assert server.count("/x/sub/a.bin") == 5 and server.count("x/nope") == 1
        server.clear()
        assert server.requests == [] and server.count("/x/sub/a.bin") == 0
        url = server.url
    with pytest.raises(urllib.error.URLError):
        _fetch(url + "/x/sub/a.bin")


def test_file_server_without_etag():
    with FileServer({"/f": b"abc"}, etag=False) as server:
        _, headers, body = _fetch(server.url + "/f")
        assert body == b"abc" and "ETag" not in headers


# -- downloading from a mirror -------------------------------------------------------------


def test_download_from_mirror_fetches_each_file_once_and_equals_a_data_dir_build(serve, reference, tmp_path):
    server = serve()
    cache = tmp_path / "cache"
    builder = moving_mnist.MovingMNIST(config_name="classic", cache_dir=str(cache), **SMALL)
    builder.download_and_prepare()
    ds = builder.as_dataset()

    assert sorted(server.requests) == sorted(PATHS)
    _assert_same_data(ds, reference)

    # fetched by datasets' download manager, into the builder's cache: each file with its meta
    downloaded = _downloaded(cache)
    for role, file in MNIST.files.items():
        path = downloaded[file.checksum.split(":")[1]]
        meta = json.loads(Path(str(path) + ".json").read_text())
        assert meta["url"] == f"{server.url}/mnist/{file.name}", role
    assert len(downloaded) == 4

    # a second build of the same configuration fetches nothing at all
    server.clear()
    again = moving_mnist.MovingMNIST(config_name="classic", cache_dir=str(cache), **SMALL)
    again.download_and_prepare()
    assert server.requests == []
    _assert_same_data(again.as_dataset(), reference)


def test_mirror_url_may_end_with_a_slash(serve, monkeypatch, reference, tmp_path):
    server = serve()
    monkeypatch.setenv("MOVING_MNIST_MIRROR", server.url + "/")
    builder = moving_mnist.MovingMNIST(config_name="classic", cache_dir=str(tmp_path / "cache"), **SMALL)
    builder.download_and_prepare()
    assert sorted(server.requests) == sorted(PATHS)
    _assert_same_data(builder.as_dataset(), reference)


@pytest.mark.parametrize(
    "kind,etag",
    [
        ("flip-crc", True),
        ("flip-crc", False),
        ("truncated", True),
        ("truncated", False),
        ("flip-deflate", True),  # gzip raises zlib.error for these bytes, not OSError
    ],
)
def test_corrupt_download_raises_checksum_error_leaves_nothing_and_recovers(
    serve, canonical, reference, tmp_path, kind, etag
):
    server = serve(etag=etag)
    good = canonical[TRAIN_IMAGES]
    bad = _corrupt(good, kind)
    server.set(TRAIN_IMAGES, bad)
    cache = tmp_path / "cache"
    builder = moving_mnist.MovingMNIST(config_name="classic", cache_dir=str(cache), **SMALL)

    with pytest.raises(ChecksumError) as failure:
        builder.download_and_prepare()
    assert isinstance(failure.value, ValueError)
    message = str(failure.value)
    assert "train-images-idx3-ubyte.gz" in message
    assert TRAIN_IMAGES_SHA256 in message
    assert _sha256(bad) in message

    # fetched, found bad, fetched once more, found bad again, gave up
    assert server.count(TRAIN_IMAGES) == 2
    assert sorted(set(server.requests)) == sorted(PATHS)
    assert all(server.count(path) == 1 for path in PATHS if path != TRAIN_IMAGES)

    # nothing half-built, and no copy of the bad bytes kept to be trusted later
    _assert_no_dataset(cache, builder)
    downloaded = _downloaded(cache)
    assert _sha256(bad) not in downloaded
    assert TRAIN_IMAGES_SHA256 not in downloaded
    assert len(downloaded) == 3  # the three good files stay

    # once the mirror is fixed, a new build fetches the file again (only it) and succeeds
    server.set(TRAIN_IMAGES, good)
    server.clear()
    retry = moving_mnist.MovingMNIST(config_name="classic", cache_dir=str(cache), **SMALL)
    retry.download_and_prepare()
    assert server.requests == [TRAIN_IMAGES]
    _assert_same_data(retry.as_dataset(), reference)


@pytest.mark.parametrize("etag", [True, False])
def test_a_bad_first_fetch_is_fetched_again_and_the_build_succeeds(serve, canonical, reference, tmp_path, etag):
    server = serve(etag=etag)
    server.queue(TRAIN_IMAGES, _corrupt(canonical[TRAIN_IMAGES], "truncated"))
    builder = moving_mnist.MovingMNIST(config_name="classic", cache_dir=str(tmp_path / "cache"), **SMALL)
    builder.download_and_prepare()
    assert server.count(TRAIN_IMAGES) == 2
    assert sorted(server.requests) == sorted(PATHS + [TRAIN_IMAGES])
    _assert_same_data(builder.as_dataset(), reference)
    assert _sha256(canonical[TRAIN_IMAGES][: len(canonical[TRAIN_IMAGES]) // 2]) not in _downloaded(tmp_path / "cache")


def test_a_missing_file_on_the_mirror_fails_the_build(serve, tmp_path):
    server = serve()
    server.remove("/mnist/t10k-labels-idx1-ubyte.gz")
    cache = tmp_path / "cache"
    builder = moving_mnist.MovingMNIST(config_name="classic", cache_dir=str(cache), **SMALL)
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte.gz"):
        builder.download_and_prepare()
    _assert_no_dataset(cache, builder)


def test_verify_reports_a_corrupt_deflate_stream_as_checksum_error(mnist_dir, tmp_path):
    bad = _corrupt((mnist_dir / "train-images-idx3-ubyte.gz").read_bytes(), "flip-deflate")
    with pytest.raises(zlib.error):  # what gzip raises for these bytes: neither OSError nor EOFError
        gzip.decompress(bad)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(bad)
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz"):
        verify(str(path), MNIST.files["train_images"])


# -- data_dir ------------------------------------------------------------------------------


def test_data_dir_build_needs_no_server_and_no_download(mnist_dir, reference, tmp_path, monkeypatch):
    monkeypatch.delenv("MOVING_MNIST_MIRROR", raising=False)

    def no_download(*args, **kwargs):
        raise AssertionError("a data_dir build must not download")

    monkeypatch.setattr(datasets.DownloadManager, "download", no_download)
    cache = tmp_path / "cache"
    builder = moving_mnist.MovingMNIST(config_name="classic", data_dir=str(mnist_dir), cache_dir=str(cache), **SMALL)
    builder.download_and_prepare()
    _assert_same_data(builder.as_dataset(), reference)
    assert _downloaded(cache) == {}


def _copy(mnist_dir: Path, folder: Path, names=NAMES) -> Path:
    folder.mkdir()
    for name in names:
        shutil.copyfile(mnist_dir / name, folder / name)
    return folder


@pytest.mark.parametrize("kind", ["flip-crc", "truncated"])
def test_data_dir_with_a_corrupt_file_raises_checksum_error(mnist_dir, tmp_path, kind):
    folder = _copy(mnist_dir, tmp_path / "data")
    target = folder / "train-images-idx3-ubyte.gz"
    bad = _corrupt(target.read_bytes(), kind)
    target.write_bytes(bad)
    cache = tmp_path / "cache"
    builder = moving_mnist.MovingMNIST(config_name="classic", data_dir=str(folder), cache_dir=str(cache), **SMALL)
    with pytest.raises(ChecksumError) as failure:
        builder.download_and_prepare()
    message = str(failure.value)
    assert str(target) in message
    assert TRAIN_IMAGES_SHA256 in message and _sha256(bad) in message
    _assert_no_dataset(cache, builder)
    assert target.read_bytes() == bad  # a user's own file is never deleted


def test_data_dir_with_missing_files_names_the_expected_files(mnist_dir, tmp_path):
    folder = _copy(mnist_dir, tmp_path / "data", NAMES[:3])
    cache = tmp_path / "cache"
    builder = moving_mnist.MovingMNIST(config_name="classic", data_dir=str(folder), cache_dir=str(cache), **SMALL)
    with pytest.raises(FileNotFoundError) as failure:
        builder.download_and_prepare()
    message = str(failure.value)
    assert str(folder) in message
    for name in NAMES + ["mnist.npz"]:
        assert name in message
    _assert_no_dataset(cache, builder)


def test_data_dir_with_a_wrong_npz_raises_checksum_error(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    np.savez(folder / "mnist.npz", x_train=np.zeros((1, 28, 28), np.uint8))
    builder = moving_mnist.MovingMNIST(config_name="classic", data_dir=str(folder), cache_dir=str(tmp_path / "c"), **SMALL)
    with pytest.raises(ChecksumError, match=r"mnist\.npz.*731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"):
        builder.download_and_prepare()


def test_data_dir_accepts_recompressed_copies_with_the_published_content(fashion_dir, tmp_path):
    """Debian's Fashion-MNIST .gz bytes differ from the published ones; their content does not."""
    builder = moving_mnist.MovingMNIST(
        config_name="classic", source="fashion_mnist", data_dir=str(fashion_dir), cache_dir=str(tmp_path / "c"),
        num_train=8, num_validation=8, num_test=8,
    )
    builder.download_and_prepare()
    ds = builder.as_dataset()
    assert {split: ds[split].num_rows for split in ds} == {"train": 8, "validation": 8, "test": 8}
    assert ds["train"].features["labels"].feature.names == list(SOURCES["fashion_mnist"].class_names)


def test_streaming_from_the_mirror_equals_the_prepared_dataset(serve, reference, tmp_path):
    server = serve()
    cache = tmp_path / "cache"
    builder = moving_mnist.MovingMNIST(config_name="classic", cache_dir=str(cache), **SMALL)
    streamed = builder.as_streaming_dataset()
    assert sorted(server.requests) == sorted(PATHS)
    assert sorted(streamed) == sorted(reference)
    for split in reference:
        examples = list(streamed[split])
        assert len(examples) == reference[split].num_rows
        for column in reference[split].column_names:
            values = np.stack([np.asarray(example[column]) for example in examples])
            expected = arrow_leaves(reference[split].data.table[column]).reshape(values.shape)
            assert np.array_equal(values, expected), (split, column)
    assert not Path(builder.cache_dir).exists()
    assert list(cache.rglob("dataset_info.json")) == [] and list(cache.rglob("*.arrow")) == []
