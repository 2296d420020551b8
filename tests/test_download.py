"""Getting the source files: from a mirror into the builder's download cache, or from data_dir.

The mirror is a loopback HTTP server (tests/httpserver.py) serving the real canonical MNIST files,
so every check here runs on the published bytes and their published sha256. It also misbehaves on
request (statuses, redirect loops, cut bodies, silence), and a closed port refuses connections.
"""

import gzip
import hashlib
import http.client
import shutil
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import datasets
import numpy as np
import pytest
from helpers import arrow_leaves, cli_fails
from httpserver import Cut, FileServer, Hang, Redirect, Status, closed_port

import moving_mnist
from generator import SOURCE_FILES, ChecksumError, download
from generator.download import DownloadError
from generator.files import verify

MNIST = SOURCE_FILES["mnist"]
NAMES = [f.name for f in MNIST.files.values()]
PATHS = [f"/mnist/{name}" for name in NAMES]
TRAIN_IMAGES = "/mnist/train-images-idx3-ubyte.gz"
TRAIN_LABELS = "/mnist/train-labels-idx1-ubyte.gz"
TRAIN_IMAGES_SHA256 = "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
SMALL = dict(num_train=40, num_validation=10, num_test=20, seed=3)
ADVICE = (
    "Set MOVING_MNIST_MIRROR to a mirror that serves <mirror>/mnist/<file name>, or pass --data-dir (data_dir) "
    "a folder holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
    "t10k-labels-idx1-ubyte.gz (or mnist.npz)."
)


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


@pytest.fixture(autouse=True)
def waits(monkeypatch) -> list[float]:
    """A short read timeout, and the backoff waits recorded instead of slept."""
    slept = []
    monkeypatch.setattr(download, "CONNECT_TIMEOUT", 30.0)  # longer than a Hang: only the read timeout ends one
    monkeypatch.setattr(download, "READ_TIMEOUT", 0.3)
    monkeypatch.setattr(download, "sleep", slept.append)
    return slept


def _downloaded(cache: Path) -> dict[str, Path]:
    """sha256 -> path of every file in `<cache>/downloads`, whatever its name."""
    folder = cache / "downloads"
    return {_sha256(p.read_bytes()): p for p in folder.rglob("*") if p.is_file()}


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


def test_file_server_faults_answer_as_asked():
    with FileServer({"/f": b"hello"}) as server:
        server.queue("/f", Status(503), Redirect("/g"), Cut(3))
        with pytest.raises(urllib.error.HTTPError) as refused:
            _fetch(server.url + "/f")
        assert refused.value.code == 503
        with pytest.raises(urllib.error.HTTPError) as redirected:  # followed to /g, which is not there
            _fetch(server.url + "/f")
        assert redirected.value.code == 404
        with pytest.raises(http.client.IncompleteRead) as cut:
            _fetch(server.url + "/f")
        assert cut.value.partial == b"hel" and cut.value.expected == 2
        assert _fetch(server.url + "/f")[2] == b"hello"
        assert server.requests == ["/f", "/f", "/g", "/f", "/f"]


# -- downloading from a mirror -------------------------------------------------------------


def test_download_from_mirror_fetches_each_file_once_and_equals_a_data_dir_build(serve, reference, tmp_path):
    server = serve()
    cache = tmp_path / "cache"
    builder = moving_mnist.MovingMNIST(config_name="classic", cache_dir=str(cache), **SMALL)
    builder.download_and_prepare()
    ds = builder.as_dataset()

    assert sorted(server.requests) == sorted(PATHS)
    _assert_same_data(ds, reference)

    # into the builder's download cache, under their own names, and nothing else
    assert _downloaded(cache) == {
        file.checksum.split(":")[1]: cache / "downloads" / "moving_mnist" / "mnist" / file.name
        for file in MNIST.files.values()
    }

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


@pytest.mark.parametrize("kind", ["flip-crc", "truncated", "flip-deflate"])  # flip-deflate: zlib.error, not OSError
def test_corrupt_download_raises_checksum_error_leaves_nothing_and_recovers(serve, canonical, reference, tmp_path, kind):
    server = serve()
    good = canonical[TRAIN_IMAGES]
    bad = _corrupt(good, kind)
    server.set(TRAIN_IMAGES, bad)
    cache = tmp_path / "cache"
    builder = moving_mnist.MovingMNIST(config_name="classic", cache_dir=str(cache), **SMALL)

    with pytest.raises(ChecksumError) as failure:
        builder.download_and_prepare()
    assert isinstance(failure.value, ValueError)  # the CLI's one-line errors
    assert str(failure.value) == (
        f"train-images-idx3-ubyte.gz from {server.url}{TRAIN_IMAGES} is corrupt or not the published file: "
        f"expected sha256 {TRAIN_IMAGES_SHA256}, got {_sha256(bad)} ({len(bad)} bytes). "
        f"It was fetched twice and deleted. {ADVICE}"
    )

    # fetched, found bad, fetched once more, found bad again, gave up
    assert server.requests == [TRAIN_IMAGES, TRAIN_IMAGES]

    # nothing half-built, and no copy of the bad bytes kept to be trusted later
    _assert_no_dataset(cache, builder)
    assert _downloaded(cache) == {}

    # once the mirror is fixed, a new build fetches the files and succeeds
    server.set(TRAIN_IMAGES, good)
    server.clear()
    retry = moving_mnist.MovingMNIST(config_name="classic", cache_dir=str(cache), **SMALL)
    retry.download_and_prepare()
    assert server.requests == PATHS
    _assert_same_data(retry.as_dataset(), reference)


def test_a_bad_first_fetch_is_fetched_again_and_the_build_succeeds(serve, canonical, reference, tmp_path):
    server = serve()
    server.queue(TRAIN_IMAGES, _corrupt(canonical[TRAIN_IMAGES], "truncated"))
    builder = moving_mnist.MovingMNIST(config_name="classic", cache_dir=str(tmp_path / "cache"), **SMALL)
    builder.download_and_prepare()
    assert server.requests == [TRAIN_IMAGES] + PATHS
    _assert_same_data(builder.as_dataset(), reference)
    assert len(_downloaded(tmp_path / "cache")) == 4


def test_a_stored_file_damaged_later_is_fetched_again(serve, reference, tmp_path):
    server = serve()
    cache = tmp_path / "cache"
    moving_mnist.MovingMNIST(config_name="classic", cache_dir=str(cache), **SMALL).download_and_prepare()
    stored = cache / "downloads" / "moving_mnist" / "mnist" / "train-images-idx3-ubyte.gz"
    stored.write_bytes(_corrupt(stored.read_bytes(), "flip-crc"))
    server.clear()
    builder = moving_mnist.MovingMNIST(config_name="classic", cache_dir=str(cache), **{**SMALL, "num_train": 41})
    builder.download_and_prepare()
    assert server.requests == [TRAIN_IMAGES]
    assert _sha256(stored.read_bytes()) == TRAIN_IMAGES_SHA256


# -- faults: one line naming the file, what happened and what to do; transient ones retried ------


def _stored(cache: Path) -> list[str]:
    """Names of every file in `<cache>/downloads`, partial or not."""
    return sorted(p.name for p in (cache / "downloads").rglob("*") if p.is_file())


def _download_fails(cache: Path) -> str:
    builder = moving_mnist.MovingMNIST(config_name="classic", cache_dir=str(cache), **SMALL)
    with pytest.raises(DownloadError) as failure:
        builder.download_and_prepare()
    assert isinstance(failure.value, ConnectionError)  # the CLI's one-line errors
    _assert_no_dataset(cache, builder)
    return str(failure.value)


@pytest.mark.parametrize("code", [404, 403])
def test_a_refused_file_fails_at_once_with_the_status_and_what_to_do(serve, tmp_path, waits, code):
    server = serve()
    server.set(TRAIN_LABELS, Status(code))
    message = _download_fails(tmp_path / "cache")
    reason = {404: "Not Found", 403: "Forbidden"}[code]
    assert message == (
        f"could not download train-labels-idx1-ubyte.gz from {server.url}{TRAIN_LABELS}: HTTP {code} {reason}. {ADVICE}"
    )
    assert server.requests == [TRAIN_IMAGES, TRAIN_LABELS] and waits == []  # not retried
    assert _stored(tmp_path / "cache") == ["train-images-idx3-ubyte.gz"]  # the good file stays, nothing partial


def test_a_redirect_loop_fails_at_once(serve, tmp_path, waits):
    server = serve()
    server.set(TRAIN_LABELS, Redirect(TRAIN_LABELS))
    message = _download_fails(tmp_path / "cache")
    assert message == (
        f"could not download train-labels-idx1-ubyte.gz from {server.url}{TRAIN_LABELS}: "
        f"a redirect loop (HTTP 302 more than 10 times). {ADVICE}"
    )
    assert server.count(TRAIN_LABELS) == 1 + download.MAX_REDIRECTS and waits == []
    assert _stored(tmp_path / "cache") == ["train-images-idx3-ubyte.gz"]


def test_a_redirect_to_the_file_is_followed(serve, canonical, reference, tmp_path):
    server = serve()
    server.set("/elsewhere/labels.gz", canonical[TRAIN_LABELS])
    server.queue(TRAIN_LABELS, Redirect("/elsewhere/labels.gz"))
    builder = moving_mnist.MovingMNIST(config_name="classic", cache_dir=str(tmp_path / "cache"), **SMALL)
    builder.download_and_prepare()
    assert server.requests == [TRAIN_IMAGES, TRAIN_LABELS, "/elsewhere/labels.gz"] + PATHS[2:]
    _assert_same_data(builder.as_dataset(), reference)


LABELS_SIZE = 28881  # bytes of train-labels-idx1-ubyte.gz
TRANSIENT = {
    "500": (Status(500), "HTTP 500 Internal Server Error"),
    "503": (Status(503), "HTTP 503 Service Unavailable"),
    "429": (Status(429), "HTTP 429 Too Many Requests"),
    "cut mid-body": (Cut(1000), f"the connection closed after 1000 of {LABELS_SIZE} bytes"),
    "silent mid-body": (Hang(after=1000), "the server was silent for 0.3 s"),
    "silent before answering": (Hang(), "the server was silent for 0.3 s"),
}


@pytest.mark.parametrize("fault,what", TRANSIENT.values(), ids=TRANSIENT.keys())
def test_a_lasting_transient_fault_is_retried_with_backoff_then_fails_with_one_line(
    serve, canonical, tmp_path, waits, fault, what
):
    assert len(canonical[TRAIN_LABELS]) == LABELS_SIZE
    server = serve()
    server.queue(TRAIN_LABELS, *[fault] * download.ATTEMPTS)
    message = _download_fails(tmp_path / "cache")
    assert message == (
        f"could not download train-labels-idx1-ubyte.gz from {server.url}{TRAIN_LABELS}: {what} (4 attempts). {ADVICE}"
    )
    assert server.count(TRAIN_LABELS) == 4 and waits == [1, 2, 4]
    assert _stored(tmp_path / "cache") == ["train-images-idx3-ubyte.gz"]


@pytest.mark.parametrize("fault", [fault for fault, _ in TRANSIENT.values()], ids=TRANSIENT.keys())
def test_a_passing_transient_fault_is_retried_and_the_build_succeeds(serve, reference, tmp_path, waits, fault):
    server = serve()
    server.queue(TRAIN_LABELS, fault, fault)
    cache = tmp_path / "cache"
    builder = moving_mnist.MovingMNIST(config_name="classic", cache_dir=str(cache), **SMALL)
    builder.download_and_prepare()
    assert server.count(TRAIN_LABELS) == 3 and waits == [1, 2]
    _assert_same_data(builder.as_dataset(), reference)
    assert _stored(cache) == sorted(NAMES)


def test_connection_refused_is_retried_then_fails_with_one_line(monkeypatch, tmp_path, waits):
    mirror = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("MOVING_MNIST_MIRROR", mirror)
    message = _download_fails(tmp_path / "cache")
    assert message == (
        f"could not download train-images-idx3-ubyte.gz from {mirror}{TRAIN_IMAGES}: connection refused (4 attempts). "
        f"{ADVICE}"
    )
    assert waits == [1, 2, 4]
    assert _stored(tmp_path / "cache") == []


def test_the_cli_prints_one_line_and_exits_2(serve, tmp_path, capsys, waits):
    server = serve()
    server.set(TRAIN_IMAGES, Status(500))
    line = cli_fails(["build", "classic", "--cache-dir", str(tmp_path / "cache"), "--set", "num_train=40"], capsys)
    assert line == (
        f"moving-mnist: error: could not download train-images-idx3-ubyte.gz from {server.url}{TRAIN_IMAGES}: "
        f"HTTP 500 Internal Server Error (4 attempts). {ADVICE}"
    )
    assert server.requests == [TRAIN_IMAGES] * 4


def test_without_network_the_cli_prints_one_line_and_exits_2(tmp_path, monkeypatch):
    """A real network namespace with nothing in it: the canonical host cannot even be resolved."""
    if subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("this platform cannot make a network namespace (unshare -n)")
    monkeypatch.delenv("MOVING_MNIST_MIRROR", raising=False)
    run = "from generator import download; download.sleep = print; import moving_mnist_cli; moving_mnist_cli.main()"
    argv = ["build", "classic", "--cache-dir", str(tmp_path / "cache")]
    result = subprocess.run(["unshare", "-n", sys.executable, "-c", run, *argv], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stdout.split() == ["1.0", "2.0", "4.0"]  # the backoff waits, printed rather than slept
    url = MNIST.base_url + "train-images-idx3-ubyte.gz"
    estimate, line = result.stderr.splitlines()  # what the build would take, then what stopped it
    assert estimate.startswith("classic: about 1839.0 MB to build into ")
    prefix = f"moving-mnist: error: could not download train-images-idx3-ubyte.gz from {url}: cannot resolve the host name ("
    assert line.startswith(prefix) and line.endswith(f"; no network?) (4 attempts). {ADVICE}"), line
    assert _stored(tmp_path / "cache") == []


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> Path:
    """A folder with a self-signed certificate for 127.0.0.1, cert.pem and key.pem."""
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", folder / "key.pem", "-out", folder / "cert.pem"],
        check=True, capture_output=True,
    )
    return folder


def test_https_checks_the_certificate_and_bounds_silence(canonical, certificate, reference, tmp_path, monkeypatch, waits):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate / "cert.pem", certificate / "key.pem")
    with FileServer(canonical, tls=context) as server:
        assert server.url.startswith("https://")
        monkeypatch.setenv("MOVING_MNIST_MIRROR", server.url)
        message = _download_fails(tmp_path / "untrusted")
        assert message == (
            f"could not download train-images-idx3-ubyte.gz from {server.url}{TRAIN_IMAGES}: "
            f"the server's TLS certificate is not trusted (self-signed certificate). {ADVICE}"
        )
        assert server.requests == [] and waits == []  # refused before any request, and not retried

        monkeypatch.setenv("SSL_CERT_FILE", str(certificate / "cert.pem"))
        server.queue(TRAIN_LABELS, Hang(after=1000))
        builder = moving_mnist.MovingMNIST(config_name="classic", cache_dir=str(tmp_path / "cache"), **SMALL)
        builder.download_and_prepare()
        assert server.requests == [TRAIN_IMAGES, TRAIN_LABELS] + PATHS[1:] and waits == [1]
        _assert_same_data(builder.as_dataset(), reference)


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
    monkeypatch.setenv("MOVING_MNIST_MIRROR", f"http://127.0.0.1:{closed_port()}")  # any download would fail
    cache = tmp_path / "cache"
    builder = moving_mnist.MovingMNIST(config_name="classic", data_dir=str(mnist_dir), cache_dir=str(cache), **SMALL)
    builder.download_and_prepare()
    _assert_same_data(builder.as_dataset(), reference)
    assert not (cache / "downloads").exists()


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
    assert ds["train"].features["labels"].feature.names == list(SOURCE_FILES["fashion_mnist"].class_names)


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
