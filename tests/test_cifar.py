"""CIFAR-10 archives (read from real images, refused when tampered or damaged) and deterministic resizing."""

import hashlib
import pickle
import shlex
import struct
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest
import skimage.transform
from cifar import (
    FOLDER, cifar_members, foolbox_cifar_pngs, python2_pickle, reference_resize, write_archive, write_cifar_archive,
)

from generator.cifar import read_cifar10
from generator.resize import resize

# --- Reading the archive ------------------------------------------------------------------------------


def test_train_pool_is_the_first_ten_pngs_in_order(cifar_archive, cifar_images):
    images, labels = cifar_images
    train = read_cifar10(cifar_archive)["train"]
    assert train.images.dtype == np.uint8 and train.images.shape == (10, 3, 32, 32)
    np.testing.assert_array_equal(train.images, images[:10])
    assert train.labels.dtype == np.uint8
    assert train.labels.tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]  # the labels in foolbox's file names


def test_test_pool_is_the_last_ten_pngs_in_order(cifar_archive, cifar_images):
    images, labels = cifar_images
    test = read_cifar10(cifar_archive)["test"]
    assert test.images.dtype == np.uint8 and test.images.shape == (10, 3, 32, 32)
    np.testing.assert_array_equal(test.images, images[10:])
    assert test.labels.dtype == np.uint8
    assert test.labels.tolist() == [0, 9, 5, 7, 9, 8, 5, 7, 8, 6]


def test_a_batch_row_is_the_red_then_green_then_blue_plane_of_the_png(tmp_path, cifar_images):
    """The published layout: 1024 red values row by row, then 1024 green, then 1024 blue."""
    pixels = np.stack([iio.imread(path) for path in foolbox_cifar_pngs()])  # (20, 32, 32, 3) as in the PNGs
    rows = np.concatenate([pixels[..., channel].reshape(20, 1024) for channel in range(3)], axis=1)
    members = cifar_members(cifar_images, cifar_images)
    members[f"{FOLDER}/test_batch"] = python2_pickle({b"labels": cifar_images[1].tolist(), b"data": rows})
    test = read_cifar10(write_archive(tmp_path, members))["test"]
    for channel in range(3):
        np.testing.assert_array_equal(test.images[:, channel], pixels[..., channel])


def test_train_batches_are_read_in_their_numbered_order_whatever_the_archive_order(tmp_path, cifar_images):
    images, labels = cifar_images
    # Five batches of 4: batch k holds images 4(k-1)..4k-1; the archive lists them 4, 3, 2, 5, 1
    members = cifar_members((images, labels), (images[:1], labels[:1]))
    train = read_cifar10(write_archive(tmp_path, members))["train"]
    assert [name.rsplit("/", 1)[1] for name in members][:3] == ["data_batch_4", "test_batch", "data_batch_3"]
    np.testing.assert_array_equal(train.images, images)
    np.testing.assert_array_equal(train.labels, labels)


def test_batches_pickled_by_python_3_read_the_same(tmp_path, cifar_images):
    """Protocol 4, with numpy 2's module name (numpy._core) when numpy 2 pickles them."""
    images, labels = cifar_images
    members = cifar_members((images[:10], labels[:10]), (images[10:], labels[10:]))
    members[f"{FOLDER}/test_batch"] = pickle.dumps(
        {b"labels": labels[10:].tolist(), b"data": images[10:].reshape(10, -1)}, protocol=4
    )
    test = read_cifar10(write_archive(tmp_path, members))["test"]
    np.testing.assert_array_equal(test.images, images[10:])
    np.testing.assert_array_equal(test.labels, labels[10:])


def test_archive_bytes_are_the_same_when_written_twice(tmp_path, cifar_archive, cifar_images):
    images, labels = cifar_images
    again = write_cifar_archive(tmp_path, (images[:10], labels[:10]), (images[10:], labels[10:]))
    assert _sha256(again) == _sha256(cifar_archive)


# --- Archives that must be refused ----------------------------------------------------------------------


def test_a_batch_calling_os_system_is_refused_without_running_it(tmp_path, cifar_images):
    marker = tmp_path / "it-ran"
    command = f"touch {shlex.quote(str(marker))}".encode()
    # os.system(command), as a tampered batch would hold it: GLOBAL, BINSTRING, TUPLE1, REDUCE, STOP
    payload = b"\x80\x02cos\nsystem\nT" + struct.pack("<i", len(command)) + command + b"\x85R."
    members = cifar_members(cifar_images, cifar_images)
    members[f"{FOLDER}/data_batch_3"] = payload
    archive = write_archive(tmp_path, members)
    with pytest.raises(ValueError, match="os.system") as error:
        read_cifar10(archive)
    assert f"{archive}: {FOLDER}/data_batch_3 refers to os.system" in str(error.value)
    assert not marker.exists()
    # The payload is live: an unrestricted unpickler runs it
    unrestricted = [sys.executable, "-c", "import pickle, sys; pickle.load(sys.stdin.buffer)"]
    subprocess.run(unrestricted, input=payload, check=True)
    assert marker.exists()


def test_a_truncated_archive_is_refused_naming_the_file(tmp_path, cifar_archive):
    data = cifar_archive.read_bytes()
    truncated = tmp_path / cifar_archive.name
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt") as error:
        read_cifar10(truncated)
    assert str(truncated) in str(error.value)


def test_an_archive_with_one_changed_byte_is_refused(tmp_path, cifar_archive):
    data = bytearray(cifar_archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged = tmp_path / cifar_archive.name
    damaged.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="truncated or corrupt") as error:
        read_cifar10(damaged)
    assert str(damaged) in str(error.value)


def test_an_archive_without_test_batch_is_refused_naming_the_file(tmp_path, cifar_images):
    members = cifar_members(cifar_images, cifar_images)
    del members[f"{FOLDER}/test_batch"]
    archive = write_archive(tmp_path, members)
    with pytest.raises(ValueError, match=f"lacks {FOLDER}/test_batch") as error:
        read_cifar10(archive)
    assert str(archive) in str(error.value)


def test_a_batch_of_the_wrong_width_is_refused(tmp_path, cifar_images):
    images, labels = cifar_images
    members = cifar_members(cifar_images, cifar_images)
    rows = images.reshape(20 * 3, 1024)  # one row per colour plane
    members[f"{FOLDER}/test_batch"] = python2_pickle({b"labels": labels.tolist(), b"data": rows})
    with pytest.raises(ValueError, match=r"test_batch: b'data' is uint8 \(60, 1024\), expected a uint8 array of shape"):
        read_cifar10(write_archive(tmp_path, members))


def test_labels_that_do_not_match_the_images_are_refused(tmp_path, cifar_images):
    images, labels = cifar_images
    members = cifar_members(cifar_images, cifar_images)
    members[f"{FOLDER}/data_batch_2"] = python2_pickle({b"labels": [3, 8, 8], b"data": images[:4].reshape(4, -1)})
    with pytest.raises(ValueError, match=r"data_batch_2: b'labels' is \w+ \(3,\), expected 4 integers"):
        read_cifar10(write_archive(tmp_path, members))


def test_labels_outside_the_ten_classes_are_refused(tmp_path, cifar_images):
    images, labels = cifar_images
    members = cifar_members(cifar_images, cifar_images)
    members[f"{FOLDER}/test_batch"] = python2_pickle({b"labels": [3, 10], b"data": images[:2].reshape(2, -1)})
    with pytest.raises(ValueError, match=r"test_batch: b'labels' holds 3..10, expected 0..9"):
        read_cifar10(write_archive(tmp_path, members))


# --- Resizing -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("height, width", [(64, 64), (128, 128), (48, 80), (20, 20), (32, 32), (1, 7), (33, 31)])
def test_resize_equals_the_per_pixel_reference(cifar_images, height, width):
    images = cifar_images[0][:3]
    resized = resize(images, height, width)
    assert resized.dtype == np.uint8 and resized.shape == (3, 3, height, width)
    np.testing.assert_array_equal(resized, reference_resize(images, height, width))


@pytest.mark.parametrize("height, width", [(64, 64), (128, 128), (48, 80), (20, 20)])
def test_resize_is_within_one_of_scikit_image(cifar_images, height, width):
    images = cifar_images[0]
    theirs = skimage.transform.resize(
        images, (20, 3, height, width), order=1, mode="edge", anti_aliasing=False, preserve_range=True
    )
    difference = resize(images, height, width).astype(int) - np.rint(theirs).astype(int)
    assert np.abs(difference).max() <= 1


def test_resize_to_the_same_size_changes_nothing(cifar_images):
    np.testing.assert_array_equal(resize(cifar_images[0], 32, 32), cifar_images[0])


def test_resize_of_many_images_equals_resizing_each(cifar_images):
    images = np.concatenate([cifar_images[0]] * 30)  # 600 images: more than one block of work
    resized = resize(images, 100, 90)
    for n in (0, 1, 299, 599):
        np.testing.assert_array_equal(resized[n], resize(images[n : n + 1], 100, 90)[0])


@pytest.mark.parametrize(
    "name, value", [("height", 0), ("width", 0), ("height", 4097), ("width", -3), ("height", 2.5), ("width", True)]
)
def test_resize_refuses_sizes_outside_1_to_4096(cifar_images, name, value):
    sizes = {"height": 64, "width": 64, name: value}
    with pytest.raises(ValueError, match=rf"^{name}={value!r} must be an integer in \[1, 4096\]$"):
        resize(cifar_images[0], **sizes)


@pytest.mark.parametrize(
    "images", [np.zeros((3, 32, 32), np.uint8), np.zeros((1, 3, 32, 32), np.float32), np.zeros((1, 3, 0, 32), np.uint8)]
)
def test_resize_refuses_what_is_not_uint8_images(images):
    with pytest.raises(ValueError, match=r"images must be a uint8 array of shape \(N, C, h, w\)"):
        resize(images, 64, 64)


def _sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()
