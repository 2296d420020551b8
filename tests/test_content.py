"""CIFAR-10 content and backgrounds, built for real: from a canonical archive of real CIFAR-10 images
served over loopback, re-rendered independently from the recorded ground truth, without leakage;
and every preset identical whatever the number of processes."""

import numpy as np
import pyarrow as pa
import pytest
from cifar import reference_resize
from httpserver import FileServer

import moving_mnist
from generator import SOURCE_FILES, ChecksumError, fields_of
from generator.cifar import read_cifar10
from generator.files import load_pools, local_files
from generator.presets import PRESETS

SMALL = dict(num_train=24, num_validation=4, num_test=12)


@pytest.fixture
def sources_dir(tmp_path, mnist_dir, test_cifar):
    """One folder with the MNIST files and the test CIFAR-10 archive (accepted as CIFAR-10)."""
    folder = tmp_path / "sources"
    folder.mkdir()
    for path in list(mnist_dir.iterdir()) + [test_cifar / "cifar-10-python.tar.gz"]:
        (folder / path.name).symlink_to(path)
    return folder


@pytest.fixture
def cifar_pools(cifar_archive):
    return read_cifar10(str(cifar_archive))


def _rows(ds, *names):
    return ds.with_format("numpy", columns=list(names))[:]


def _frames(ds):
    rows = ds.with_format("numpy", columns=["input_frames", "output_frames"], dtype=np.uint8)[:]
    return np.concatenate([rows["input_frames"], rows["output_frames"]], axis=1)


def _bytes(table) -> bytes:
    """A table's whole content as Arrow IPC bytes."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _over(below, colour, alpha):
    """Porter-Duff over with premultiplied colour, in integers: c + round_half_up(below * (255 - a) / 255)."""
    return colour + (below.astype(np.int64) * (255 - alpha) + 127) // 255


# --- CIFAR-10 sprites ------------------------------------------------------------------------------


def test_cifar10_builds_from_a_loopback_mirror_and_re_renders_exactly(tmp_path, monkeypatch, test_cifar, cifar_pools):
    with FileServer.from_folder(test_cifar, prefix="/cifar10") as server:
        monkeypatch.setenv("MOVING_MNIST_MIRROR", server.url)
        ds = moving_mnist.load("cifar10", cache_dir=str(tmp_path / "cache"), **SMALL)
        assert server.requests == ["/cifar10/cifar-10-python.tar.gz"]
    assert ds["train"].features["input_frames"].shape == (10, 3, 64, 64)
    assert ds["train"].features["labels"].feature.names[3] == "cat"
    for split, ds_split in ds.items():
        pool = cifar_pools["train" if split == "train" else "test"]
        truth = _rows(ds_split, "labels", "source_indices", "positions")
        frames = _frames(ds_split)
        for n in range(ds_split.num_rows):
            expected = np.zeros((20, 3, 64, 64), np.uint8)
            for t in range(20):
                for k in range(2):  # opaque sprites, drawn in order: the later one hides the earlier
                    row, col = truth["positions"][n, t, k]
                    expected[t, :, row : row + 32, col : col + 32] = pool.images[truth["source_indices"][n, k]]
            assert np.array_equal(frames[n], expected), (split, n)
        assert np.array_equal(truth["labels"], pool.labels[truth["source_indices"]])


def test_production_refuses_the_test_archive(tmp_path, monkeypatch, mnist_dir, cifar_archive):
    # no override: the published sha256 is checked, whether the file comes from a folder or a mirror
    with pytest.raises(ChecksumError, match="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"):
        moving_mnist.load("cifar10", cache_dir=str(tmp_path / "a"), data_dir=str(cifar_archive.parent), **SMALL)
    with FileServer.from_folder(cifar_archive.parent, prefix="/cifar10") as server:
        monkeypatch.setenv("MOVING_MNIST_MIRROR", server.url)
        with pytest.raises(ChecksumError, match="cifar-10-python.tar.gz"):
            moving_mnist.load("cifar10", cache_dir=str(tmp_path / "b"), **SMALL)
    assert SOURCE_FILES["cifar10"].files["archive"].checksum.endswith("fe0b5c001ce")


def test_class_filter_on_cifar10(tmp_path, sources_dir, cifar_pools):
    ds = moving_mnist.load("cifar10", cache_dir=str(tmp_path), data_dir=str(sources_dir), source={"classes": [3, 6]},
                           **SMALL)
    for split, part in ds.items():
        labels = _rows(part, "labels")["labels"]
        assert set(labels.ravel()) <= {3, 6}
        pool = cifar_pools["train" if split == "train" else "test"]
        assert set(pool.labels[_rows(part, "source_indices")["source_indices"].ravel()]) <= {3, 6}


# --- MNIST over a CIFAR-10 background ---------------------------------------------------------------------


def test_mnist_over_cifar_backgrounds_re_renders_exactly_without_leakage(tmp_path, sources_dir, mnist_dir, cifar_pools):
    ds = moving_mnist.load("mnist_cifar", cache_dir=str(tmp_path), data_dir=str(sources_dir), **SMALL)
    mnist = load_pools(local_files(SOURCE_FILES["mnist"], str(mnist_dir)))
    assert ds["train"].features["output_frames"].shape == (10, 3, 64, 64)
    for split, part in ds.items():
        pool = "train" if split == "train" else "test"
        truth = _rows(part, "source_indices", "positions", "background_index")
        frames = _frames(part)
        # backgrounds come from the split's own pool: indices within it, images resized from it
        assert truth["background_index"].max() < len(cifar_pools[pool].labels)
        backgrounds = reference_resize(cifar_pools[pool].images[truth["background_index"]], 64, 64)
        for n in range(part.num_rows):
            expected = np.repeat(backgrounds[n][None].astype(np.int64), 20, axis=0)  # (T, 3, H, W)
            for t in range(20):
                for k in range(2):  # white ink: colour and alpha are the digit's gray value
                    row, col = truth["positions"][n, t, k]
                    digit = mnist[pool].images[truth["source_indices"][n, k]].astype(np.int64)
                    window = expected[t, :, row : row + 28, col : col + 28]
                    window[...] = _over(window, digit, digit)
            assert np.array_equal(frames[n], expected), (split, n)


def test_evaluation_splits_never_show_a_train_image(tmp_path, sources_dir, cifar_pools):
    ds = moving_mnist.load("mnist_cifar", cache_dir=str(tmp_path), data_dir=str(sources_dir), **SMALL)
    train_images = {image.tobytes() for image in cifar_pools["train"].images}
    for split in ("validation", "test"):
        indices = _rows(ds[split], "background_index")["background_index"]
        shown = {cifar_pools["test"].images[i].tobytes() for i in indices}
        assert shown and not shown & train_images


# --- every preset, whatever the number of processes ---------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_identical_across_one_and_two_processes(name, tmp_path, sources_dir, fashion_dir):
    data_dir = fashion_dir if name == "fashion" else sources_dir
    sizes = dict(num_train=40, num_validation=0 if name == "notebook" else 4, num_test=0 if name == "notebook" else 12)
    builds = []
    for num_proc in (1, 2):
        builder = moving_mnist.MovingMNIST(config_name=name, cache_dir=str(tmp_path / str(num_proc)),
                                           data_dir=str(data_dir), **sizes)
        builder.download_and_prepare(num_proc=num_proc)
        builds.append(builder.as_dataset())
    for split in builds[0]:
        one, two = (b[split].with_format("arrow")[:].combine_chunks() for b in builds)
        assert _bytes(one) == _bytes(two), split  # bytes, not equals(): padding holds NaN, which equals nothing
        assert one.column_names == [f.name for f in fields_of(PRESETS[name].spec)]
