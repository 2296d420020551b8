"""The `datasets` builder on real MNIST: features, content, splits, caching, num_proc, streaming.

Every build here reads the canonical MNIST files from data_dir (see test_download.py for the
mirror). Configs are small so that a build takes well under a second.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings

import moving_mnist
from generator import SOURCE_FILES, generate, load_pools
from generator.files import local_files
from generator.sequences import pool_of
from helpers import arrow_leaves, valid_spec
from moving_mnist import MovingMNIST

SMALL = dict(num_train=40, num_validation=10, num_test=20, seed=7)
COLUMNS = ["input_frames", "output_frames", "labels", "source_indices", "positions", "index"]


# -- helpers ---------------------------------------------------------------------------------


def _shape(feature) -> tuple:
    if hasattr(feature, "shape"):  # Array3D
        return tuple(feature.shape)
    if hasattr(feature, "length"):  # List(..., length=k)
        return (feature.length,)
    return ()


def _arrays(ds: datasets.Dataset) -> dict[str, np.ndarray]:
    """Every column as one array `(num_rows, *feature shape)` of its stored dtype."""
    out = {}
    for column in ds.column_names:
        values = arrow_leaves(ds.data.table[column])
        out[column] = values.reshape((ds.num_rows, *_shape(ds.features[column])))
    return out


def _assert_same_data(a, b) -> None:
    """Same splits, features, and the same values of the same dtype in every column of every row."""
    assert sorted(a) == sorted(b)
    for split in a:
        assert a[split].features == b[split].features, split
        x, y = _arrays(a[split]), _arrays(b[split])
        assert sorted(x) == sorted(y) == sorted(COLUMNS)
        for column in COLUMNS:
            assert x[column].dtype == y[column].dtype, (split, column)
            assert x[column].shape == y[column].shape, (split, column)
            assert np.array_equal(x[column], y[column]), (split, column)


def _build(mnist_dir, cache, config_name="classic", num_proc=None, **overrides) -> MovingMNIST:
    builder = MovingMNIST(config_name=config_name, data_dir=str(mnist_dir), cache_dir=str(cache), **overrides)
    builder.download_and_prepare(num_proc=num_proc)
    return builder


@pytest.fixture(scope="module")
def classic(mnist_dir, tmp_path_factory):
    """(builder, DatasetDict) of the SMALL classic config."""
    builder = _build(mnist_dir, tmp_path_factory.mktemp("classic"), **SMALL)
    return builder, builder.as_dataset()


# -- features and content --------------------------------------------------------------------


def test_features_dtypes_and_shapes(classic):
    builder, ds = classic
    assert {split: ds[split].num_rows for split in ds} == {"train": 40, "validation": 10, "test": 20}
    assert {name: split.num_examples for name, split in builder.info.splits.items()} == {
        "train": 40, "validation": 10, "test": 20,
    }
    features = ds["train"].features
    assert list(features) == COLUMNS
    assert features["input_frames"] == datasets.Array3D((10, 64, 64), "uint8")
    assert features["output_frames"] == datasets.Array3D((10, 64, 64), "uint8")
    assert features["positions"] == datasets.Array3D((20, 2, 2), "int16")
    assert features["index"] == datasets.Value("int64")
    assert isinstance(features["labels"].feature, datasets.ClassLabel)
    assert features["labels"].feature.names == list("0123456789")
    assert features["labels"].length == 2
    assert features["source_indices"].feature == datasets.Value("int32")
    assert features["source_indices"].length == 2
    for split in ds:
        arrays = _arrays(ds[split])
        n = ds[split].num_rows
        assert arrays["input_frames"].shape == (n, 10, 64, 64) and arrays["input_frames"].dtype == np.uint8
        assert arrays["output_frames"].shape == (n, 10, 64, 64) and arrays["output_frames"].dtype == np.uint8
        assert arrays["positions"].shape == (n, 20, 2, 2) and arrays["positions"].dtype == np.int16
        assert arrays["labels"].shape == (n, 2)
        assert arrays["source_indices"].shape == (n, 2) and arrays["source_indices"].dtype == np.int32
        assert arrays["index"].tolist() == list(range(n))
    # the python view agrees with the Arrow one
    row = ds["test"].with_format("numpy")[3]
    assert row["input_frames"].shape == (10, 64, 64) and row["positions"].shape == (20, 2, 2)
    assert ds["test"][3]["index"] == 3


def test_content_equals_the_engine_on_real_digits(classic, mnist_pools):
    builder, ds = classic
    spec = builder.config.spec
    assert spec.seed == 7 and spec.num_train == 40
    for split in ("train", "validation", "test"):
        n = ds[split].num_rows
        expected = generate(spec, {"mnist": mnist_pools}, split, 0, n)
        arrays = _arrays(ds[split])
        frames = np.concatenate([arrays["input_frames"], arrays["output_frames"]], axis=1)
        assert np.array_equal(frames, expected.frames), split
        assert sorted(expected.truth) == ["labels", "positions", "source_indices"]
        for name in ("positions", "source_indices", "labels"):
            assert np.array_equal(arrays[name], expected.truth[name]), (split, name)
        assert np.array_equal(arrays["labels"], mnist_pools[pool_of(split)].labels[arrays["source_indices"]]), split
        assert np.array_equal(arrays["index"], expected.indices), split
        assert frames.any(axis=(2, 3)).all(), split  # every frame shows a digit


def test_a_split_of_size_zero_is_omitted(mnist_dir, mnist_pools, tmp_path):
    builder = _build(mnist_dir, tmp_path / "nb", "notebook", num_train=12, num_validation=5)
    ds = builder.as_dataset()
    assert sorted(ds) == ["train", "validation"]
    assert sorted(builder.info.splits) == ["train", "validation"]
    features = ds["train"].features
    assert features["input_frames"] == datasets.Array3D((20, 64, 64), "uint8")
    assert features["output_frames"] == datasets.Array3D((20, 64, 64), "uint8")
    assert features["positions"] == datasets.Array3D((40, 1, 2), "int16")
    assert features["labels"].length == 1
    for split, n in (("train", 12), ("validation", 5)):
        arrays = _arrays(ds[split])
        # the notebook preset samples sequentially: sequence i shows image i of its pool
        assert arrays["source_indices"][:, 0].tolist() == list(range(n))
        assert arrays["labels"][:, 0].tolist() == mnist_pools[pool_of(split)].labels[:n].tolist()

    classic = _build(mnist_dir, tmp_path / "cl", num_train=6, num_validation=0, num_test=4).as_dataset()
    assert sorted(classic) == ["test", "train"]


# -- the Arrow tables -----------------------------------------------------------------------------


def _ipc(table: pa.Table) -> bytes:
    """A table as one Arrow IPC record batch: equal bytes are equal schemas (metadata too), nesting and
    values, NaNs included, whatever the tables' chunks."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks())
    return sink.getvalue().to_pybytes()


@pytest.mark.parametrize(
    "config_name, overrides, source",
    [
        # gray, two chunks (256 + 4 sequences)
        ("classic", dict(image_size=40, num_train=260, num_validation=3, num_test=0), "mnist"),
        # RGB (T, 3, H, W) frames in chunks of 64
        ("cifar10", dict(num_train=70, num_validation=0, num_test=5), "cifar10"),
        # every annotation, 3 to 8 objects, objects that appear late and leave the canvas (`visible`, bools)
        ("crowded", dict(motion={"edges": "pass", "appear": 0.3}, num_train=40, num_validation=3, num_test=3), "mnist"),
        # lists of lists (labels of numbers), an int64 list, bool lists (dropped frames), corruptions' fields
        ("numbers", dict(occlusion="patch", drop="frames", num_train=70, num_validation=2, num_test=0), "mnist"),
        # waypoints (NaN for absent objects), a list of int16 (waypoint frames), a background
        ("mnist_cifar", dict(motion="bridge", num_objects=[1, 3], num_train=20, num_validation=0, num_test=2), "both"),
    ],
    ids=["gray", "rgb", "annotated", "lists", "waypoints"],
)
def test_the_tables_equal_the_engines_sequences_encoded_row_by_row_by_datasets(
    request, mnist_dir, tmp_path, config_name, overrides, source
):
    if source in ("cifar10", "both"):
        cifar = request.getfixturevalue("test_cifar")
        if source == "both":  # one data_dir for both collections
            for f in list(mnist_dir.iterdir()) + list(cifar.iterdir()):
                (tmp_path / "data").mkdir(exist_ok=True)
                (tmp_path / "data" / f.name).symlink_to(f)
        data_dir = cifar if source == "cifar10" else tmp_path / "data"
    else:
        data_dir = mnist_dir
    builder = _build(data_dir, tmp_path / "cache", config_name, **overrides)
    spec, features = builder.config.spec, builder.info.features
    pools = {name: load_pools(local_files(SOURCE_FILES[name], str(data_dir))) for name in spec.files()}
    built = builder.as_dataset()
    assert list(built) == list(spec.split_sizes())
    for split, size in spec.split_sizes().items():
        seqs = generate(spec, pools, split, 0, size)
        frames, cut = seqs.frames, spec.num_input_frames
        rows = []
        for i in range(size):  # each sequence as a user would give it to datasets: a dict of its values
            values = {"input_frames": frames[i, :cut], "output_frames": frames[i, cut:], "index": int(seqs.indices[i]),
                      **{name: truth[i] for name, truth in seqs.truth.items()}}
            rows.append({name: values[name] for name in features})
        expected = datasets.Dataset.from_list(rows, features=features).data.table
        table = built[split].data.table
        assert table.schema.equals(expected.schema, check_metadata=True), split
        for name in features:
            assert _ipc(table.select([name])) == _ipc(expected.select([name])), (split, name)
        assert _ipc(table) == _ipc(expected), split


# -- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides,named",
    [
        (dict(num_frames=0), "num_frames"),
        (dict(num_objects=0), "num_objects"),
        (dict(num_input_frames=0), "num_input_frames"),
        (dict(num_input_frames=20), "num_input_frames"),
        (dict(image_size=20), "image_size"),
        (dict(step_length=0.0), "motion.step_length=0.0"),
        (dict(step_length=1.5), "motion.step_length=1.5"),
        (dict(motion={"name": "notebook", "step_length": 0}), "motion.step_length=0"),
        (dict(motion={"sigma": 0.1}), "motion.sigma"),
        (dict(source={"name": "mnist", "classes": [3, 3]}), "source.classes"),
        (dict(source={"name": "numbers", "spacing_min": 5, "spacing_max": 4}), "spacing_min=5"),
        (dict(seed=-1), "seed"),
        (dict(num_train=-1), "num_train"),
        (dict(num_test=2.5), "num_test"),
        (dict(num_validation=True), "num_validation"),
        (dict(source="cifar100"), "source"),
        (dict(motion="random_walk"), "motion"),
        (dict(compositing="mean"), "compositing"),
        (dict(sampling="shuffled"), "sampling"),
        (dict(num_train=0, num_validation=0, num_test=0), "num_train"),
    ],
)
def test_bad_overrides_raise_value_error_naming_the_parameter(overrides, named, tmp_path):
    with pytest.raises(ValueError, match=named):
        MovingMNIST(config_name="classic", cache_dir=str(tmp_path), **overrides)


def test_bad_override_of_the_notebook_preset(tmp_path):
    with pytest.raises(ValueError, match="num_input_frames"):
        MovingMNIST(config_name="notebook", num_frames=20, cache_dir=str(tmp_path))  # keeps 20 input frames


def test_unknown_override_key_raises_value_error(tmp_path):
    with pytest.raises(ValueError, match="frames_per_second"):
        MovingMNIST(config_name="classic", frames_per_second=3, cache_dir=str(tmp_path))


def test_unknown_config_name_raises_value_error(tmp_path):
    with pytest.raises(ValueError, match="mnist_3d"):
        MovingMNIST(config_name="mnist_3d", cache_dir=str(tmp_path))


@pytest.mark.parametrize(
    "config_name, overrides, motion",
    [
        ("notebook", dict(motion={"step_length": 0.3}), {"name": "notebook", "step_length": 0.3}),
        ("notebook", dict(motion={"name": "notebook", "step_length": 0.3}), {"name": "notebook", "step_length": 0.3}),
        ("notebook", dict(step_length=0.3), {"name": "notebook", "step_length": 0.3}),  # version 1.0's spelling
        ("notebook", dict(motion="classic"), {"name": "classic", "step_length": 0.1}),  # another one: its defaults
        ("classic", dict(motion="notebook", step_length=0.7), {"name": "notebook", "step_length": 0.7}),
    ],
)
def test_a_component_override_changes_only_what_it_gives(tmp_path, config_name, overrides, motion):
    spec = MovingMNIST(config_name=config_name, cache_dir=str(tmp_path), **overrides).config.spec
    assert spec.motion.as_dict() == {**motion, "edges": "bounce", "appear": 0.0}
    preset = moving_mnist.PRESETS[config_name].spec
    assert (spec.source, spec.sampling, spec.num_frames) == (preset.source, preset.sampling, preset.num_frames)


def test_a_source_override_keeps_the_presets_source_parameters(tmp_path):
    builder = MovingMNIST(config_name="numbers", source={"spacing_max": 7}, cache_dir=str(tmp_path))
    preset = moving_mnist.PRESETS["numbers"].spec.source
    assert builder.config.spec.source.as_dict() == {**preset.as_dict(), "spacing_max": 7}


def test_presets_are_valid_and_the_default_is_classic(tmp_path):
    assert MovingMNIST(cache_dir=str(tmp_path)).config.name == "classic"
    for name, preset in moving_mnist.PRESETS.items():
        builder = MovingMNIST(config_name=name, cache_dir=str(tmp_path))
        assert builder.config.spec == preset.spec


# -- caching ---------------------------------------------------------------------------------------


def test_same_configuration_reuses_the_cache_without_generating(mnist_dir, tmp_path, monkeypatch):
    first = _build(mnist_dir, tmp_path / "cache", **SMALL)
    expected = first.as_dataset()

    def forbidden(*args, **kwargs):
        raise AssertionError("the cached dataset was generated again")

    monkeypatch.setattr(MovingMNIST, "_generate_tables", forbidden)
    monkeypatch.setattr(MovingMNIST, "_split_generators", forbidden)
    monkeypatch.setattr(moving_mnist, "generate", forbidden)
    second = _build(mnist_dir, tmp_path / "cache", **SMALL)
    assert second.cache_dir == first.cache_dir
    _assert_same_data(second.as_dataset(), expected)


def test_cache_folder_carries_the_code_hash(classic):
    builder, _ = classic
    assert Path(builder.cache_dir).name == moving_mnist._code_hash()
    assert len(moving_mnist._code_hash()) == 16


def test_different_overrides_get_different_cache_folders_and_data(mnist_dir, tmp_path):
    cache = tmp_path / "cache"
    seed7 = _build(mnist_dir, cache, **SMALL)
    seed8 = _build(mnist_dir, cache, **{**SMALL, "seed": 8})
    assert seed7.cache_dir != seed8.cache_dir
    a, b = seed7.as_dataset(), seed8.as_dataset()
    for split in a:
        x, y = _arrays(a[split]), _arrays(b[split])
        assert not np.array_equal(x["positions"], y["positions"]), split
        assert not np.array_equal(x["input_frames"], y["input_frames"]), split

    more = _build(mnist_dir, cache, **{**SMALL, "num_train": 50})
    assert more.cache_dir not in (seed7.cache_dir, seed8.cache_dir)
    c = more.as_dataset()
    assert c["train"].num_rows == 50
    # a sequence depends on (spec, split, index) only: growing one split keeps every other byte
    x, y = _arrays(a["train"]), _arrays(c["train"])
    for column in COLUMNS:
        assert np.array_equal(x[column], y[column][:40]), column
    _assert_same_data({s: a[s] for s in ("validation", "test")}, {s: c[s] for s in ("validation", "test")})


# -- num_proc --------------------------------------------------------------------------------------


def test_shards_are_the_random_blocks():
    for size in (1, 40, 1023, 1024, 1025, 3000, 16384, 100001):
        shards = moving_mnist._shards(size)
        starts, stops = shards["starts"], shards["stops"]
        assert starts == list(range(0, size, 1024))  # a block's draws are made by one worker only
        assert stops == starts[1:] + [size]
    assert moving_mnist._shards(2500) == {"starts": [0, 1024, 2048], "stops": [1024, 2048, 2500]}


# three splits of 5, 1 and 3 random blocks, in small frames
BLOCKS = dict(num_train=4100, num_validation=10, num_test=2100, seed=7, image_size=32, num_frames=3, num_input_frames=1)


@pytest.fixture(scope="module")
def blocks(mnist_dir, tmp_path_factory):
    """The DatasetDict of the BLOCKS config, built in one process."""
    return _build(mnist_dir, tmp_path_factory.mktemp("blocks"), **BLOCKS).as_dataset()


@pytest.mark.parametrize("num_proc", [1, 2, 4])
def test_num_proc_gives_identical_content(mnist_dir, tmp_path, blocks, num_proc):
    builder = _build(mnist_dir, tmp_path, num_proc=num_proc, **BLOCKS)
    for split, blocks_in_split in (("train", 5), ("validation", 1), ("test", 3)):
        # one Arrow file per worker: as many workers as asked, but never two on one block
        workers = min(num_proc, blocks_in_split)
        files = sorted(p.name for p in Path(builder.cache_dir).glob(f"moving_mnist-{split}*.arrow"))
        if workers == 1:
            assert files == [f"moving_mnist-{split}.arrow"]
        else:
            assert files == [f"moving_mnist-{split}-{i:05d}-of-{workers:05d}.arrow" for i in range(workers)]
    _assert_same_data(builder.as_dataset(), blocks)


# -- streaming -------------------------------------------------------------------------------------


def test_streaming_yields_the_prepared_examples_without_an_arrow_cache(mnist_dir, tmp_path, classic):
    _, expected = classic
    cache = tmp_path / "stream"
    builder = MovingMNIST(config_name="classic", data_dir=str(mnist_dir), cache_dir=str(cache), **SMALL)
    streamed = builder.as_streaming_dataset()
    assert sorted(streamed) == sorted(expected)
    for split in expected:
        arrays = _arrays(expected[split])
        examples = list(streamed[split])
        assert len(examples) == expected[split].num_rows
        for i, example in enumerate(examples):
            assert sorted(example) == sorted(COLUMNS)
            assert example["input_frames"].dtype == np.uint8
            assert example["positions"].dtype == np.int16
            for column in COLUMNS:
                assert np.array_equal(np.asarray(example[column]), arrays[column][i]), (split, i, column)
    assert not Path(builder.cache_dir).exists()
    assert list(cache.rglob("*.arrow")) == [] and list(cache.rglob("dataset_info.json")) == []


# -- load() ----------------------------------------------------------------------------------------


def test_load_returns_the_splits(mnist_dir, tmp_path, classic):
    _, expected = classic
    ds = moving_mnist.load("classic", data_dir=str(mnist_dir), cache_dir=str(tmp_path / "c"), **SMALL)
    assert isinstance(ds, datasets.DatasetDict)
    assert {split: ds[split].num_rows for split in ds} == {"train": 40, "validation": 10, "test": 20}
    _assert_same_data(ds, expected)

    notebook = moving_mnist.load(
        "notebook", num_train=9, num_validation=4, seed=1, data_dir=str(mnist_dir), cache_dir=str(tmp_path / "n")
    )
    assert {split: notebook[split].num_rows for split in notebook} == {"train": 9, "validation": 4}
    assert notebook["train"].features["input_frames"] == datasets.Array3D((20, 64, 64), "uint8")


# -- num_proc with the new components ------------------------------------------------------------


@pytest.mark.parametrize(
    "config_name, overrides",
    [
        ("numbers", dict(image_size=100, num_frames=6, num_input_frames=3)),
        ("classic", dict(source={"name": "mnist", "classes": [0, 4, 9]}, num_frames=6, num_input_frames=3)),
        ("notebook", dict(source={"name": "mnist", "classes": [2, 5]}, num_frames=6, num_input_frames=3)),
    ],
    ids=["numbers", "classic-classes", "notebook-classes"],
)
def test_new_components_give_identical_data_for_any_num_proc(mnist_dir, tmp_path, config_name, overrides):
    sizes = dict(num_train=24, num_validation=16, num_test=16 if config_name != "notebook" else 0, seed=5)
    built = {
        num_proc: moving_mnist.load(config_name, data_dir=str(mnist_dir), cache_dir=str(tmp_path / f"p{num_proc}"),
                                    num_proc=num_proc, **overrides, **sizes)
        for num_proc in (1, 2)
    }
    one, two = built[1], built[2]
    assert sorted(one) == sorted(two) == sorted(s for s in ("train", "validation", "test") if sizes[f"num_{s}"])
    for split in one:
        assert one[split].features == two[split].features, split
        assert one[split].column_names == two[split].column_names, split
        for column in one[split].column_names:
            x, y = arrow_leaves(one[split].data.table[column]), arrow_leaves(two[split].data.table[column])
            assert x.dtype == y.dtype and np.array_equal(x, y), (split, column)
        classes = MovingMNIST(config_name=config_name, **overrides).config.spec.source.classes
        if classes is not None:
            assert set(arrow_leaves(one[split].data.table["labels"]).tolist()) == set(classes), split


# -- the code hash ---------------------------------------------------------------------------------


def _hash_of_copy(folder: Path) -> str:
    """Import moving_mnist from `folder` in a fresh interpreter and return its _code_hash()."""
    code = (
        "import moving_mnist, generator, sys; "
        "print(moving_mnist.__file__); print(generator.__file__); print(moving_mnist._code_hash())"
    )
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=folder, env=env, capture_output=True, text=True, check=True, timeout=120
    )
    module_file, generator_file, digest = result.stdout.split()
    assert Path(module_file).resolve() == (folder / "moving_mnist.py").resolve()
    assert Path(generator_file).resolve() == (folder / "generator" / "__init__.py").resolve()
    return digest


def test_code_hash_follows_the_generator_sources(tmp_path):
    root = Path(moving_mnist.__file__).parent
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copyfile(root / "moving_mnist.py", copy / "moving_mnist.py")
    shutil.copytree(root / "generator", copy / "generator", ignore=shutil.ignore_patterns("__pycache__"))

    # the digest is of the files' bytes, not of where they are
    assert _hash_of_copy(copy) == moving_mnist._code_hash()

    # one byte of motion.py's docstring (it has no comments): no change to what the code does
    motion = copy / "generator" / "motion" / "base.py"
    text = motion.read_text()
    assert text.startswith('"""') and text[3].isalpha()
    edited = text[:3] + text[3].swapcase() + text[4:]
    motion.write_text(edited)
    changed = _hash_of_copy(copy)
    assert changed != moving_mnist._code_hash()
    assert len(changed) == 16

    # and so is moving_mnist.py itself
    motion.write_text(text)
    (copy / "moving_mnist.py").write_text((copy / "moving_mnist.py").read_text() + "\n# edited\n")
    assert _hash_of_copy(copy) not in (moving_mnist._code_hash(), changed)


def test_code_hash_follows_modules_in_subfolders_and_their_paths(tmp_path):
    root = Path(moving_mnist.__file__).parent
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copyfile(root / "moving_mnist.py", copy / "moving_mnist.py")
    shutil.copytree(root / "generator", copy / "generator", ignore=shutil.ignore_patterns("__pycache__"))
    original = _hash_of_copy(copy)
    assert original == moving_mnist._code_hash()

    # a component in a subfolder of the engine counts ...
    folder = copy / "generator" / "motions"
    folder.mkdir()
    module = folder / "brownian.py"
    module.write_text('"""Brownian motion."""\n\nSIGMA = 0.05\n')
    added = _hash_of_copy(copy)
    assert added != original

    # ... and so does an edit of it
    module.write_text('"""Brownian motion."""\n\nSIGMA = 0.06\n')
    edited = _hash_of_copy(copy)
    assert edited not in (original, added)

    # the same bytes under another path are another engine
    moved = copy / "generator" / "brownian.py"
    module.rename(moved)
    assert _hash_of_copy(copy) not in (original, added, edited)

    # and moved back, the same digest again
    moved.rename(module)
    assert _hash_of_copy(copy) == edited


# -- golden hashes -----------------------------------------------------------------------------
#
# A REGRESSION LOCK, not a proof of correctness: these digests were recorded from the builder
# itself. That the bytes are right rests on the independent tests -- positions against the scalar
# reference loop (tests/test_motion.py, tests/test_generator.py), frames re-rendered from sprites
# and positions (tests/test_render.py), and the content check above. Any intended change to the
# generated output must update these literals (the Arrow cache key changes by itself, since
# moving_mnist._code_hash digests the generator sources).

GOLDEN_CONFIG = dict(seed=0, num_train=24, num_validation=8, num_test=16)
GOLDEN = {
    "train": {
        "frames": "9a34f48c67348496d88fcbd32e5b8534ba820317e89680942e471f94cf22f31b",
        "positions": "c7c18e610ca3e631b654cf44f669d18ee6ab1e9117d958a895ae68cd44c5dee7",
        "source_indices": "01ca363d567a2823ba001100e16f1980d5ecf224f0e127ef3942ff6174da5611",
    },
    "validation": {
        "frames": "00d1a875ea3add68e4970202e20c42ea1c8f59033e73d9cdefe76f5717058553",
        "positions": "6d7cd85bf416c3555b38674c7cc965c8f7524673898d2ed8d78ca1321914cc52",
        "source_indices": "f4fef324dac441cdfeb718e76aeaacdc121ff939229457bcc67043b4383a553f",
    },
    "test": {
        "frames": "a424121847698db55f4bdcb4fa7dbf47b9ed1c2f403e80c9ee875bd5f1c74b4b",
        "positions": "176e11553fd4fbb6c397b537ba819388d0fe32a316f2761f56968d40fba459aa",
        "source_indices": "11838d19e544852dd1b487980b3911779503f075a8ed91bb5b0d4a55e45da9ca",
    },
}


def test_golden_hashes_of_a_small_classic_build(mnist_dir, tmp_path):
    ds = _build(mnist_dir, tmp_path / "golden", **GOLDEN_CONFIG).as_dataset()
    digests = {}
    for split in ds:
        arrays = _arrays(ds[split])
        frames = np.concatenate([arrays["input_frames"], arrays["output_frames"]], axis=1)  # (N, 20, 64, 64)
        digests[split] = {
            "frames": hashlib.sha256(np.ascontiguousarray(frames, "<u1").tobytes()).hexdigest(),
            "positions": hashlib.sha256(np.ascontiguousarray(arrays["positions"], "<i2").tobytes()).hexdigest(),
            "source_indices": hashlib.sha256(
                np.ascontiguousarray(arrays["source_indices"], "<i4").tobytes()
            ).hexdigest(),
        }
    assert digests == GOLDEN


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=valid_spec())
def test_a_valid_configuration_builds_with_the_right_shapes(mnist_dir, fashion_dir, spec):
    data_dir = mnist_dir if spec.source.name == "mnist" else fashion_dir
    t_in, t_out, size, k = spec.num_input_frames, spec.num_output_frames, spec.image_size, spec.num_objects
    with tempfile.TemporaryDirectory() as cache:
        builder = MovingMNIST(config_name="classic", data_dir=str(data_dir), cache_dir=cache, **spec.as_dict())
        assert builder.config.spec == spec
        builder.download_and_prepare()
        ds = builder.as_dataset()
        assert set(ds) == set(spec.split_sizes())
        for split, n in spec.split_sizes().items():
            rows = ds[split].with_format("numpy")[:]
            assert rows["input_frames"].shape == (n, t_in, size, size)
            assert rows["output_frames"].shape == (n, t_out, size, size)
            assert rows["labels"].shape == rows["source_indices"].shape == (n, k)
            assert set(rows["labels"].ravel().tolist()) <= set(spec.source.classes or range(10))
            assert rows["positions"].shape == (n, spec.num_frames, k, 2)
            assert rows["index"].tolist() == list(range(n))
