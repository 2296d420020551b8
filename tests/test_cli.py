"""The `moving-mnist` command: presets, build summary, exports and one-line user errors."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

import moving_mnist
from moving_mnist_cli import main
from helpers import cli_fails

SMALL = ["--set", "num_train=30", "--set", "num_validation=5", "--set", "num_test=12", "--set", "seed=5"]


@pytest.fixture
def build_args(mnist_dir, tmp_path):
    return [*SMALL, "--data-dir", str(mnist_dir), "--cache-dir", str(tmp_path / "cache")]


def _load(mnist_dir, tmp_path):
    """The same small dataset through the Python API, for comparison."""
    return moving_mnist.load(
        "classic", num_train=30, num_validation=5, num_test=12, seed=5,
        data_dir=str(mnist_dir), cache_dir=str(tmp_path / "cache"),
    )


def test_console_script_is_installed():
    script = shutil.which("moving-mnist", path=os.path.dirname(sys.executable))  # the venv's bin
    assert script, "the moving-mnist console script is not installed"
    result = subprocess.run([script, "configs"], capture_output=True, text=True, check=True)
    assert "classic" in result.stdout and "notebook" in result.stdout


def test_configs_lists_every_parameter_of_every_preset(capsys):
    assert main(["configs"]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert rows["parameter"] == ["classic", "notebook"]
    for key in moving_mnist.Spec.__dataclass_fields__:
        expected = [str(getattr(moving_mnist.PRESETS[name], key)) for name in ("classic", "notebook")]
        assert rows[key] == expected, key


def test_build_prints_splits_rows_shapes_bytes_and_cache_path(build_args, tmp_path, capsys):
    assert main(["build", "classic", *build_args]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "cache") in out
    table = {line.split()[0]: line for line in out.splitlines() if line.split()[:1] in (["train"], ["validation"], ["test"])}
    assert table["train"].split()[1] == "30"
    assert table["validation"].split()[1] == "5"
    assert table["test"].split()[1] == "12"
    assert "(10, 64, 64)" in table["train"] and "(20, 2, 2)" in table["train"]
    assert " MB" in table["train"] and "on disk" in out and " s" in out.splitlines()[-1]


def test_build_defaults_to_classic_and_reuses_the_cache(build_args, capsys, monkeypatch):
    assert main(["build", *build_args]) == 0
    first = capsys.readouterr().out

    def no_generation(*args, **kwargs):
        raise AssertionError("the second build regenerated the data")

    monkeypatch.setattr(moving_mnist.MovingMNIST, "_generate_examples", no_generation)
    assert main(["build", *build_args]) == 0
    assert capsys.readouterr().out.splitlines()[1] == first.splitlines()[1]  # same config and cache path


def test_export_npy_is_time_first_like_mnist_test_seq(build_args, mnist_dir, tmp_path):
    out = tmp_path / "out"
    assert main(["export", "classic", "--format", "npy", "--output", str(out), *build_args]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["test.npy", "train.npy", "validation.npy"]
    expected = _load(mnist_dir, tmp_path)["test"].with_format("numpy", dtype=np.uint8)[:]
    frames = np.load(out / "test.npy")
    assert frames.shape == (20, 12, 64, 64) and frames.dtype == np.uint8
    sequences = np.concatenate([expected["input_frames"], expected["output_frames"]], axis=1)
    np.testing.assert_array_equal(frames, sequences.swapaxes(0, 1))


def test_export_parquet_holds_every_field(build_args, mnist_dir, tmp_path):
    out = tmp_path / "out"
    assert main(["export", "classic", "--format", "parquet", "--output", str(out), *build_args]) == 0
    table = pq.read_table(out / "train.parquet")
    expected = _load(mnist_dir, tmp_path)["train"]
    assert table.column_names == list(expected.features)
    assert table.to_pylist() == expected.to_list()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["build", "nope"], ["nope", "classic", "notebook"]),
        (["build", "--set", "colour=red"], ["colour", "unknown key"]),
        (["build", "--set", "seed"], ["seed", "KEY=VALUE"]),
        (["build", "--set", "seed=seven"], ["seed", "int", "seven"]),
        (["build", "--set", "step_length=fast"], ["step_length", "float", "fast"]),
        (["build", "--set", "motion=zigzag"], ["motion", "zigzag", "classic"]),
        (["build", "--set", "num_frames=1"], ["num_frames", "1"]),
        (["build", "--set", "num_input_frames=20"], ["num_input_frames", "num_frames"]),
        (["build", "--num-proc", "0"], ["--num-proc", "0"]),
        (["build", "--data-dir", "/no/such/folder"], ["--data-dir", "/no/such/folder"]),
        (["export", "classic", "--format", "csv", "--output", "x"], ["--format", "csv"]),
    ],
)
def test_user_errors_print_one_line_and_exit_2(argv, words, capsys):
    line = cli_fails(argv, capsys)
    assert line.startswith(("moving-mnist: error:", "moving-mnist export: error:")), line
    for word in words:
        assert word in line, (word, line)


def test_data_dir_without_the_files_is_a_one_line_error(tmp_path, capsys):
    line = cli_fails(["build", *SMALL, "--data-dir", str(tmp_path), "--cache-dir", str(tmp_path / "c")], capsys)
    assert "train-images-idx3-ubyte.gz" in line and str(tmp_path) in line


def test_unwritable_output_is_a_one_line_error(build_args, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    line = cli_fails(["export", "classic", "--format", "npy", "--output", str(blocker / "out"), *build_args], capsys)
    assert str(blocker) in line
