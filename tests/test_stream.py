"""Training on the fly (`moving_mnist.stream`, `moving_mnist_torch.StreamDataset`) on real MNIST.

Expected bytes come from real builds (`moving_mnist.load`, read back from the Arrow files) with the
seed README.md gives for each epoch, computed here from that definition; DataLoader workers and a gloo
process group of 2 ranks are real.
"""

import hashlib
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import datasets
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import moving_mnist
from generator import BLOCK_SIZE, SOURCE_FILES, load_pools
from helpers import arrow_leaves
from httpserver import FileServer
from moving_mnist_stream import open_stream, shard
from moving_mnist_torch import StreamDataset

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
SMALL = dict(num_train=300, num_validation=40, num_test=70, seed=5)
# a split of 3 random blocks, in short sequences: cheap enough to read many times over
BLOCKS = dict(num_train=3 * BLOCK_SIZE - 72, num_frames=4, num_input_frames=2, seed=11)


def seed_of_epoch(seed: int, epoch: int) -> int:
    """README: epoch 0 keeps the seed; epoch e > 0 takes the first 16 bytes of sha256(f"{seed}:{epoch}"), big-endian."""
    return seed if epoch == 0 else int.from_bytes(hashlib.sha256(f"{seed}:{epoch}".encode()).digest()[:16], "big")


def joined(batches) -> dict[str, np.ndarray]:
    """A stream's batches joined into one `(N, ...)` array per field."""
    batches = list(batches)
    return {name: np.concatenate([b[name] for b in batches]) for name in batches[0]}


def built(name: str, split: str, mnist_dir, cache_dir, **overrides) -> dict[str, np.ndarray]:
    """Every column of a real build's split, read from its Arrow files: `(N, *shape)` of the stored dtype."""
    ds = moving_mnist.load(name, data_dir=mnist_dir, cache_dir=cache_dir, **overrides)[split]
    return {column: arrow_leaves(ds.data.table[column]).reshape((ds.num_rows, *_shape(ds.features[column])))
            for column in ds.column_names}


def _shape(feature) -> tuple:
    if hasattr(feature, "shape"):  # ArrayND
        return tuple(feature.shape)
    if hasattr(feature, "length"):  # List(..., length=k)
        return (feature.length, *_shape(feature.feature))
    return ()


def assert_same(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for name in a:
        assert a[name].dtype == b[name].dtype, name
        assert a[name].shape == b[name].shape, name
        assert np.array_equal(a[name], b[name], equal_nan=a[name].dtype.kind == "f"), name


def digests(batches) -> dict[int, str]:
    """{index: sha256 of the sequence's fields}, as tests/stream_rank.py computes it."""
    seen = {}
    for batch in batches:
        for j, index in enumerate(np.asarray(batch["index"]).tolist()):
            digest = hashlib.sha256()
            for name, values in batch.items():
                digest.update(name.encode() + np.asarray(values[j]).tobytes())
            seen[index] = digest.hexdigest()
    return seen


# -- epochs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["classic", "crowded"])
@pytest.mark.parametrize("split", ["train", "validation", "test"])
def test_epoch_0_is_the_built_split_byte_for_byte(name, split, mnist_dir, tmp_path_factory):
    cache = tmp_path_factory.getbasetemp() / f"built-{name}"
    expected = built(name, split, mnist_dir, cache, **SMALL)
    streamed = joined(moving_mnist.stream(name, split, batch_size=64, epoch=0, data_dir=mnist_dir, **SMALL))
    assert_same(streamed, expected)


@pytest.mark.parametrize("epoch", [1, 7])
def test_epoch_e_is_the_split_built_with_the_epoch_seed(epoch, mnist_dir, tmp_path):
    seed = seed_of_epoch(SMALL["seed"], epoch)
    assert seed >= 2**64  # a 128-bit seed, as the definition says
    expected = built("classic", "train", mnist_dir, tmp_path, **{**SMALL, "seed": seed})
    streamed = joined(moving_mnist.stream("classic", "train", batch_size=50, epoch=epoch, data_dir=mnist_dir, **SMALL))
    assert_same(streamed, expected)


def test_epochs_differ_in_every_sequence_and_repeat_exactly(mnist_dir):
    epochs = [joined(moving_mnist.stream("classic", "train", epoch=e, data_dir=mnist_dir, **SMALL)) for e in range(3)]
    for a, b in ((0, 1), (1, 2), (0, 2)):
        frames_a, frames_b = epochs[a]["input_frames"], epochs[b]["input_frames"]
        assert not (frames_a == frames_b).reshape(len(frames_a), -1).all(axis=1).any(), (a, b)
    again = joined(moving_mnist.stream("classic", "train", epoch=2, data_dir=mnist_dir, **SMALL))
    assert_same(again, epochs[2])
    assert np.array_equal(epochs[1]["index"], np.arange(SMALL["num_train"]))


@pytest.mark.parametrize("split, pool", [("train", "train"), ("validation", "test"), ("test", "test")])
def test_every_epoch_draws_only_from_its_splits_images(split, pool, mnist_dir):
    # one digit per sequence on a black canvas: its box in frame 0 is exactly its source image
    images = load_pools({role: str(mnist_dir / f.name) for role, f in SOURCE_FILES["mnist"].files.items()})[pool]
    for epoch in (3, 12):
        seqs = joined(moving_mnist.stream("classic", split, epoch=epoch, data_dir=mnist_dir, num_objects=1, **SMALL))
        for frames, (row, col), index, label in zip(
            seqs["input_frames"][:, 0], seqs["positions"][:, 0, 0], seqs["source_indices"][:, 0], seqs["labels"][:, 0]
        ):
            assert np.array_equal(frames[row : row + 28, col : col + 28], images.images[index])
            assert label == images.labels[index]


# -- batches, parts, workers and ranks ----------------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 7, 64, 256, 300, 1000])
def test_the_bytes_do_not_depend_on_the_batch_size(batch_size, mnist_dir):
    def batches_of(size):
        return list(moving_mnist.stream("classic", "train", batch_size=size, epoch=4, data_dir=mnist_dir, **SMALL))

    whole = joined(batches_of(SMALL["num_train"]))
    batches = batches_of(batch_size)
    sizes = [len(b["index"]) for b in batches]
    full, rest = divmod(SMALL["num_train"], batch_size)
    assert sizes == [batch_size] * full + ([rest] if rest else [])
    assert_same(joined(batches), whole)


@pytest.mark.parametrize("size", [1, 1000, BLOCK_SIZE, BLOCK_SIZE + 1, 5 * BLOCK_SIZE - 3])
@pytest.mark.parametrize("parts", [1, 2, 3, 4, 7])
def test_parts_cover_a_split_once_cut_only_between_blocks(size, parts):
    ranges = [shard(size, part, parts) for part in range(parts)]
    assert [r[0] for r in ranges] == [0] + [r[1] for r in ranges[:-1]]  # contiguous, in order
    assert ranges[-1][1] == size
    assert all(start % BLOCK_SIZE == 0 or start == size for start, _ in ranges)
    blocks = [-(-stop // BLOCK_SIZE) - start // BLOCK_SIZE for start, stop in ranges]
    assert max(blocks) - min(blocks) <= 1


def test_parts_of_an_epoch_join_into_the_epoch(mnist_dir):
    stream = open_stream("classic", "train", batch_size=100, data_dir=mnist_dir, **BLOCKS)
    whole = joined(stream.batches(6))
    parts = [joined(stream.batches(6, *shard(stream.size, part, 3))) for part in range(3)]
    assert_same({name: np.concatenate([p[name] for p in parts]) for name in whole}, whole)


def test_dataloader_workers_read_each_sequence_once_with_the_same_bytes(mnist_dir):
    expected = digests(moving_mnist.stream("classic", "train", batch_size=100, epoch=2, data_dir=mnist_dir, **BLOCKS))
    assert sorted(expected) == list(range(BLOCKS["num_train"]))
    dataset = StreamDataset("classic", "train", batch_size=100, epoch=2, data_dir=mnist_dir, **BLOCKS)
    for workers in (0, 1, 2):
        batches = list(DataLoader(dataset, batch_size=None, num_workers=workers))
        assert all(v.dtype == torch.uint8 for b in batches for k, v in b.items() if k.endswith("frames"))
        indices = np.concatenate([b["index"].numpy() for b in batches])
        assert sorted(indices.tolist()) == list(range(BLOCKS["num_train"])), workers  # each once
        assert digests(batches) == expected, workers
    dataset.set_epoch(3)
    assert digests(DataLoader(dataset, batch_size=None, num_workers=2)) == digests(
        moving_mnist.stream("classic", "train", batch_size=100, epoch=3, data_dir=mnist_dir, **BLOCKS))


def test_two_gloo_ranks_with_two_workers_each_read_each_sequence_once(mnist_dir, tmp_path):
    expected = digests(moving_mnist.stream("classic", "train", batch_size=64, epoch=5, data_dir=mnist_dir, **BLOCKS))
    with socket.socket() as probe:  # a free loopback port for the group's rendezvous
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    arguments = json.dumps(dict(name="classic", split="train", batch_size=64, epoch=5, num_workers=2,
                                data_dir=str(mnist_dir), **BLOCKS))
    out = tmp_path / "gathered.json"
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    ranks = [subprocess.Popen([sys.executable, str(ROOT / "tests" / "stream_rank.py"), str(rank), "2", str(port), str(out),
                               arguments], env=env, stderr=subprocess.PIPE, text=True) for rank in range(2)]
    for rank in ranks:
        _, err = rank.communicate(timeout=300)
        assert rank.returncode == 0, err
    gathered = [{int(i): d for i, d in seen.items()} for seen in json.loads(out.read_text())]
    assert all(gathered), "a rank read nothing"
    assert not set(gathered[0]) & set(gathered[1])
    assert {**gathered[0], **gathered[1]} == expected


# -- arguments, files and caches ----------------------------------------------------------------


@pytest.mark.parametrize("arguments, message", [
    (dict(name="clasic"), "name='clasic' is not allowed: choose one of classic, notebook"),
    (dict(split="training"), "split='training' is not allowed: choose one of train, validation, test"),
    (dict(name="notebook", split="test"), "split='test' is not allowed: num_test is 0"),
    (dict(batch_size=0), "batch_size=0 must be an integer from 1 to 13107"),
    (dict(batch_size=13108), "batch_size=13108 must be an integer from 1 to 13107"),
    (dict(batch_size=2.0), "batch_size=2.0 must be an integer"),
    (dict(batch_size=True), "batch_size=True must be an integer"),
    (dict(epoch=-1), "epoch=-1 must be an integer from 0 to 9223372036854775807"),
    (dict(epoch=2**63), "epoch=9223372036854775808 must be an integer from 0"),
    (dict(epoch="1"), "epoch='1' must be an integer"),
    (dict(num_train=-5), "num_train=-5 must be an integer from 0 to 10000000"),
    (dict(num_train=None), "num_train=None is not allowed"),
    (dict(motion={"step_length": 2}), "motion.step_length=2"),
    (dict(colour="red"), "parameter='colour' is not allowed"),
])
def test_bad_arguments_raise_a_value_error_naming_them(arguments, message, mnist_dir):
    for make in (moving_mnist.stream, StreamDataset):
        with pytest.raises(ValueError) as error:
            make(**{"data_dir": mnist_dir, **arguments})
        assert message in str(error.value), (make, str(error.value))


def test_set_epoch_checks_the_epoch(mnist_dir):
    dataset = StreamDataset("classic", data_dir=mnist_dir, **SMALL)
    with pytest.raises(ValueError, match=r"epoch=-2 must be an integer from 0"):
        dataset.set_epoch(-2)


def test_a_corrupt_source_file_is_refused_before_any_batch(mnist_dir, tmp_path):
    for f in SOURCE_FILES["mnist"].files.values():
        (tmp_path / f.name).write_bytes((mnist_dir / f.name).read_bytes())
    damaged = tmp_path / SOURCE_FILES["mnist"].files["test_labels"].name
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(moving_mnist.ChecksumError, match=re.escape(damaged.name) + " from .* is corrupt"):
        moving_mnist.stream("classic", "test", data_dir=tmp_path)


def test_a_stream_downloads_as_a_build_does_and_writes_nothing_else(mnist_dir, tmp_path, monkeypatch):
    with FileServer.from_folder(mnist_dir, prefix="/mnist") as mirror:
        monkeypatch.setenv("MOVING_MNIST_MIRROR", mirror.url)
        cache = tmp_path / "cache"
        first = joined(moving_mnist.stream("classic", "validation", epoch=1, cache_dir=cache, **SMALL))
        files = sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file())
        assert files == sorted(f"downloads/moving_mnist/mnist/{f.name}" for f in SOURCE_FILES["mnist"].files.values())
        moving_mnist.load("classic", cache_dir=cache, **SMALL)  # the builder finds them where the stream put them
        again = joined(moving_mnist.stream("classic", "validation", epoch=1, cache_dir=cache, **SMALL))
        assert all(mirror.count(f"/mnist/{f.name}") == 1 for f in SOURCE_FILES["mnist"].files.values())
    assert_same(again, first)


# -- README.md ----------------------------------------------------------------------------------


def _snippet(heading: str, start: str) -> str:
    """The first python block under a README heading that starts with `start`."""
    section = README.split(f"\n### {heading}\n", 1)[1].split("\n### ", 1)[0]
    blocks = [b for b in re.findall(r"```python\n(.*?)```", section, re.S) if b.startswith(start)]
    assert blocks, (heading, start)
    return blocks[0]


def _smaller(snippet: str, old: str, new: str) -> str:
    assert snippet.count(old) == 1, old
    return snippet.replace(old, new)


def test_the_readme_training_on_the_fly_snippets_run(mnist_dir, tmp_path, monkeypatch):
    # the default download cache, in a folder of this test's own, fed by a loopback mirror
    monkeypatch.setattr(datasets.config, "DOWNLOADED_DATASETS_PATH", tmp_path / "downloads")
    with FileServer.from_folder(mnist_dir, prefix="/mnist") as mirror:
        monkeypatch.setenv("MOVING_MNIST_MIRROR", mirror.url)
        size = ", batch_size=32, num_train=500, num_test=10"
        numpy_loop = _smaller(_snippet("Training on the fly", "import moving_mnist"), ", batch_size=32", size)
        scope = {}
        exec(numpy_loop, scope)
        assert scope["x"].shape == scope["y"].shape == (500 % 32, 10, 64, 64) and scope["x"].dtype == np.uint8
        torch_loop = _smaller(_snippet("Training on the fly", "from torch"), ", batch_size=32", size)
        scope = {}
        exec(torch_loop, scope)
        assert scope["x"].dtype == torch.float32 and scope["x"].shape[1:] == (10, 64, 64)
        assert scope["train"].epoch == 2
        assert all(mirror.count(f"/mnist/{f.name}") == 1 for f in SOURCE_FILES["mnist"].files.values())


def test_the_readme_dataloader_recipe_reads_every_sequence_once(mnist_dir, tmp_path):
    ds = moving_mnist.load("classic", data_dir=mnist_dir, cache_dir=tmp_path, **SMALL)
    scope = {"ds": ds}
    exec(_snippet("PyTorch `DataLoader`", "import numpy"), scope)
    assert scope["x"].dtype == torch.float32 and scope["x"].shape[1:] == (10, 64, 64)
    assert 0 <= scope["x"].min() and scope["x"].max() <= 1
    batches = list(scope["loader"])
    assert sorted(len(b["input_frames"]) for b in batches) == [SMALL["num_train"] % 32] + [32] * (SMALL["num_train"] // 32)
    read = {name: torch.cat([b[name] for b in batches]).numpy() for name in ("input_frames", "output_frames")}
    cache = built("classic", "train", mnist_dir, tmp_path, **SMALL)
    for name, frames in read.items():
        assert frames.dtype == np.uint8
        assert sorted(map(bytes, frames)) == sorted(map(bytes, cache[name])), name
