"""datasets 3.x still runs dataset scripts: the same `moving_mnist.py` loads with `load_dataset(path)`.

Run by `scripts/test-datasets3.sh` in a virtual environment with datasets 3.6.0; the main suite
(datasets >= 4, which refuses scripts) leaves this folder out.
"""

import dataclasses
from pathlib import Path

import datasets
import numpy as np

import moving_mnist
from generator import generate

SCRIPT = str(Path(moving_mnist.__file__))
SIZES = {"num_train": 20, "num_validation": 4, "num_test": 9}


def test_this_is_datasets_3():
    assert datasets.__version__.startswith("3.")


def test_script_loads_every_split_with_the_generators_bytes(mnist_dir, mnist_pools, tmp_path):
    ds = datasets.load_dataset(
        SCRIPT, "classic", trust_remote_code=True, data_dir=str(mnist_dir), cache_dir=str(tmp_path), seed=3, **SIZES
    )
    spec = dataclasses.replace(moving_mnist.PRESETS["classic"].spec, seed=3, **SIZES)
    assert list(ds) == ["train", "validation", "test"]
    for split, n in zip(ds, SIZES.values()):
        expected = generate(spec, {"mnist": mnist_pools}, split, 0, n)
        rows = ds[split].with_format("numpy")[:]
        assert ds[split].features["input_frames"] == datasets.Array3D((10, 64, 64), "uint8")
        np.testing.assert_array_equal(rows["input_frames"], expected.frames[:, :10])
        np.testing.assert_array_equal(rows["output_frames"], expected.frames[:, 10:])
        np.testing.assert_array_equal(rows["labels"], expected.truth["labels"])
        np.testing.assert_array_equal(rows["source_indices"], expected.truth["source_indices"])
        np.testing.assert_array_equal(rows["positions"], expected.truth["positions"])
        np.testing.assert_array_equal(rows["index"], np.arange(n))


def test_notebook_preset_loads_with_its_shapes(mnist_dir, tmp_path):
    ds = datasets.load_dataset(
        SCRIPT, "notebook", trust_remote_code=True, data_dir=str(mnist_dir), cache_dir=str(tmp_path), **SIZES
    )
    assert ds["train"].features["output_frames"] == datasets.Array3D((20, 64, 64), "uint8")
    assert ds["train"].features["labels"].length == 1
    assert ds.num_rows == {"train": 20, "validation": 4, "test": 9}


def test_component_parameters_pass_through_load_dataset(mnist_dir, tmp_path):
    ds = datasets.load_dataset(
        SCRIPT, "numbers", trust_remote_code=True, data_dir=str(mnist_dir), cache_dir=str(tmp_path),
        source={"digits_per_number": 2, "classes": [1, 3, 5]}, motion={"step_length": 0.2}, **SIZES
    )
    rows = ds["train"].with_format("numpy")[:]
    assert set(rows["labels"].ravel()) <= {1, 3, 5}
    assert rows["value"].tolist() == (rows["labels"][..., 0] * 10 + rows["labels"][..., 1]).tolist()
