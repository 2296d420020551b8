"""Source files (`generator.files`): IDX parsing, published-hash checks, keras' npz and finding files in a folder."""

import gzip
import hashlib
import os
import struct

import numpy as np
import pytest

from generator import SOURCE_FILES, ChecksumError, load_pools
from generator.files import check_files, local_files, read_idx, verify

MNIST = SOURCE_FILES["mnist"]
FASHION = SOURCE_FILES["fashion_mnist"]


def parse_idx_gz(path):
    """An independent IDX reader: magic 0x0000 08 <ndim>, big-endian uint32 dims, then the bytes."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    assert (zero, dtype) == (0, 8)
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return np.frombuffer(data[4 + 4 * ndim :], np.uint8).reshape(shape)


def _copy(path, folder, data=None):
    target = folder / os.path.basename(path)
    target.write_bytes(open(path, "rb").read() if data is None else data)
    return str(target)


# --- Fashion-MNIST from Debian -----------------------------------------------------------------


@pytest.mark.parametrize(
    "role, shape",
    [("train_images", (60000, 28, 28)), ("train_labels", (60000,)), ("test_images", (10000, 28, 28)), ("test_labels", (10000,))],
)
def test_fashion_idx_files_parse_to_their_published_shapes(fashion_dir, role, shape):
    array = read_idx(str(fashion_dir / FASHION.files[role].name))
    assert array.shape == shape
    assert array.dtype == np.uint8
    assert np.array_equal(array, parse_idx_gz(fashion_dir / FASHION.files[role].name))


def test_fashion_labels_are_ten_balanced_classes(fashion_dir):
    train = read_idx(str(fashion_dir / "train-labels-idx1-ubyte.gz"))
    test = read_idx(str(fashion_dir / "t10k-labels-idx1-ubyte.gz"))
    assert np.bincount(train).tolist() == [6000] * 10
    assert np.bincount(test).tolist() == [1000] * 10
    assert train[0] == 9  # the first training image is an ankle boot
    assert len(FASHION.class_names) == 10 and FASHION.class_names[9] == "Ankle boot"


def test_fashion_pools_load_from_the_debian_folder(fashion_dir):
    pools = load_pools(local_files(FASHION, str(fashion_dir)))
    assert pools["train"].images.shape == (60000, 28, 28)
    assert pools["test"].images.shape == (10000, 28, 28)
    assert pools["train"].labels.shape == (60000,) and pools["test"].labels.shape == (10000,)
    assert pools["train"].images.max() == 255 and pools["train"].images.min() == 0


@pytest.mark.parametrize("role", list(FASHION.files))
def test_recompressed_fashion_files_pass_by_their_content_hash(fashion_dir, role):
    file = FASHION.files[role]
    path = fashion_dir / file.name
    data = path.read_bytes()
    algorithm, published = file.checksum.split(":")
    assert algorithm == "md5"
    assert hashlib.md5(data).hexdigest() != published  # Debian's gz bytes are not Zalando's ...
    assert hashlib.sha256(gzip.decompress(data)).hexdigest() == file.content_sha256  # ... the content is
    verify(str(path), file)  # no error


def test_check_files_accepts_the_debian_fashion_folder(fashion_dir):
    check_files(FASHION, local_files(FASHION, str(fashion_dir)))


@pytest.mark.parametrize("role", list(MNIST.files))
def test_canonical_mnist_files_pass_by_their_published_sha256(mnist_dir, role):
    file = MNIST.files[role]
    data = (mnist_dir / file.name).read_bytes()
    assert file.checksum == "sha256:" + hashlib.sha256(data).hexdigest()
    verify(str(mnist_dir / file.name), file)


# --- corrupt copies ----------------------------------------------------------------------------


def _assert_names_file_and_hashes(error, file, data):
    message = str(error.value)
    algorithm, expected = file.checksum.split(":")
    assert file.name in message
    assert f"expected {algorithm} {expected}" in message
    assert f"got {hashlib.new(algorithm, data).hexdigest()}" in message


def test_a_changed_byte_in_the_content_raises_checksum_error(fashion_dir, tmp_path):
    file = FASHION.files["train_labels"]
    content = bytearray(gzip.decompress((fashion_dir / file.name).read_bytes()))
    content[1000] = (content[1000] + 1) % 10  # one label changed, then compressed again
    data = gzip.compress(bytes(content))
    path = _copy(fashion_dir / file.name, tmp_path, data)
    with pytest.raises(ChecksumError) as error:
        verify(path, file)
    _assert_names_file_and_hashes(error, file, data)


@pytest.mark.parametrize("source, role", [("fashion_mnist", "test_images"), ("mnist", "test_labels")])
def test_a_truncated_copy_raises_checksum_error(fashion_dir, mnist_dir, tmp_path, source, role):
    file = SOURCE_FILES[source].files[role]
    folder = fashion_dir if source == "fashion_mnist" else mnist_dir
    data = (folder / file.name).read_bytes()
    data = data[: len(data) // 2]
    path = _copy(folder / file.name, tmp_path, data)
    with pytest.raises(ChecksumError) as error:
        verify(path, file)
    _assert_names_file_and_hashes(error, file, data)
    assert f"({len(data)} bytes)" in str(error.value)


def test_a_non_gzip_download_raises_checksum_error(tmp_path):
    file = MNIST.files["train_images"]
    data = b"<html><body>404 Not Found</body></html>"
    path = tmp_path / file.name
    path.write_bytes(data)
    with pytest.raises(ChecksumError) as error:
        verify(str(path), file, origin="https://mirror.example/mnist/train-images-idx3-ubyte.gz")
    _assert_names_file_and_hashes(error, file, data)
    assert "https://mirror.example/mnist/train-images-idx3-ubyte.gz" in str(error.value)


@pytest.mark.parametrize(
    "source, offset",
    [
        ("fashion_mnist", 20000),  # this one breaks the gzip CRC (OSError): handled
        ("mnist", 16510),
        ("fashion_mnist", 16510),  # these two corrupt the deflate stream (zlib.error)
        ("mnist", 100),
    ],
)
def test_a_flipped_byte_in_the_compressed_file_raises_checksum_error(fashion_dir, mnist_dir, tmp_path, source, offset):
    file = SOURCE_FILES[source].files["train_labels"]
    folder = fashion_dir if source == "fashion_mnist" else mnist_dir
    data = bytearray((folder / file.name).read_bytes())
    data[offset] ^= 0xFF
    path = _copy(folder / file.name, tmp_path, bytes(data))
    with pytest.raises(ChecksumError) as error:
        verify(path, file)
    _assert_names_file_and_hashes(error, file, bytes(data))


# --- read_idx ----------------------------------------------------------------------------------


def test_mnist_idx_files_hold_the_known_digits(mnist_dir):
    train = read_idx(str(mnist_dir / "train-labels-idx1-ubyte.gz"))
    test = read_idx(str(mnist_dir / "t10k-labels-idx1-ubyte.gz"))
    # the well-known class counts of MNIST, and its first labels (a 5, and a 7 in the test set)
    assert np.bincount(train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert (train[0], test[0]) == (5, 7)
    images = read_idx(str(mnist_dir / "t10k-images-idx3-ubyte.gz"))
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert np.array_equal(images, parse_idx_gz(mnist_dir / "t10k-images-idx3-ubyte.gz"))


def test_read_idx_reads_an_uncompressed_file_too(mnist_dir, tmp_path):
    raw = gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(raw)
    labels = read_idx(str(path))
    assert labels.shape == (10000,)
    assert np.array_equal(labels, np.frombuffer(raw[8:], np.uint8))


def test_read_idx_reads_a_hand_made_file(tmp_path):
    path = tmp_path / "tiny"
    path.write_bytes(bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6]))
    assert read_idx(str(path)).tolist() == [[1, 2, 3], [4, 5, 6]]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, this is not an IDX file",
        b"PK\x03\x04" + bytes(100),  # a zip (npz)
        bytes([0, 0, 0x0D, 1, 0, 0, 0, 1]) + bytes(4),  # IDX of float32, not unsigned bytes
    ],
    ids=["empty", "text", "zip", "float-idx"],
)
@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
def test_read_idx_rejects_a_file_that_is_not_idx_of_bytes(tmp_path, data, compress):
    path = tmp_path / "bad"
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(ValueError, match="is not an IDX file of unsigned bytes") as error:
        read_idx(str(path))
    assert str(path) in str(error.value)


@pytest.mark.parametrize("payload", [100, 3 * 28 * 28 - 1, 3 * 28 * 28 + 1])
@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
def test_read_idx_rejects_a_payload_that_does_not_match_its_header(tmp_path, payload, compress):
    data = bytes([0, 0, 8, 3]) + struct.pack(">3I", 3, 28, 28) + bytes(payload)
    path = tmp_path / "short-idx"
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(ValueError, match=rf"holds {payload} bytes of data, its header says \(3, 28, 28\)") as error:
        read_idx(str(path))
    assert str(path) in str(error.value)


def test_load_pools_rejects_images_and_labels_of_different_lengths(mnist_dir):
    paths = {role: str(mnist_dir / f.name) for role, f in MNIST.files.items()}
    paths["train_labels"] = paths["test_labels"]
    with pytest.raises(ValueError, match=r"train images \(60000, 28, 28\) and labels \(10000,\) do not match"):
        load_pools(paths)


# --- keras' mnist.npz and finding files --------------------------------------------------------


@pytest.fixture(scope="module")
def mnist_npz(mnist_dir, tmp_path_factory):
    """keras' layout: x_train (60000, 28, 28), y_train, x_test, y_test, from the canonical IDX files."""
    path = tmp_path_factory.mktemp("keras") / "mnist.npz"
    np.savez(
        path,
        x_train=parse_idx_gz(mnist_dir / "train-images-idx3-ubyte.gz"),
        y_train=parse_idx_gz(mnist_dir / "train-labels-idx1-ubyte.gz"),
        x_test=parse_idx_gz(mnist_dir / "t10k-images-idx3-ubyte.gz"),
        y_test=parse_idx_gz(mnist_dir / "t10k-labels-idx1-ubyte.gz"),
    )
    return path


def test_npz_pools_equal_the_idx_pools(mnist_npz, mnist_pools):
    pools = load_pools({"npz": str(mnist_npz)})
    for part in ("train", "test"):
        assert pools[part].images.dtype == np.uint8 and pools[part].labels.dtype == np.uint8
        assert np.array_equal(pools[part].images, mnist_pools[part].images)
        assert np.array_equal(pools[part].labels, mnist_pools[part].labels)


def _link(folder, sources):
    folder.mkdir()
    for source in sources:
        os.symlink(source, folder / os.path.basename(source))
    return folder


def test_local_files_prefers_the_four_idx_files(mnist_dir, mnist_npz, tmp_path):
    idx = [str(mnist_dir / f.name) for f in MNIST.files.values()]
    folder = _link(tmp_path / "both", [*idx, str(mnist_npz)])
    assert local_files(MNIST, str(folder)) == {role: str(folder / f.name) for role, f in MNIST.files.items()}


def test_local_files_falls_back_to_mnist_npz(mnist_dir, mnist_npz, tmp_path):
    three_idx = [str(mnist_dir / f.name) for f in MNIST.files.values()][:3]
    folder = _link(tmp_path / "npz", [*three_idx, str(mnist_npz)])
    assert local_files(MNIST, str(folder)) == {"npz": str(folder / "mnist.npz")}


def test_local_files_names_the_files_when_none_are_there(mnist_dir, tmp_path):
    folder = _link(tmp_path / "partial", [str(mnist_dir / "train-images-idx3-ubyte.gz")])
    with pytest.raises(FileNotFoundError) as error:
        local_files(MNIST, str(folder))
    message = str(error.value)
    assert str(folder) in message
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                 "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "mnist.npz"):
        assert name in message


def test_local_files_for_fashion_has_no_npz_alternative(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        local_files(FASHION, str(tmp_path))
    assert "t10k-images-idx3-ubyte.gz" in str(error.value)
    assert "npz" not in str(error.value)


def test_a_self_made_npz_is_not_the_published_keras_file(mnist_npz):
    with pytest.raises(ChecksumError, match="mnist.npz"):
        check_files(MNIST, {"npz": str(mnist_npz)})
