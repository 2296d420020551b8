"""`moving-mnist evaluate`: saved predictions scored against a built split, as a table and as JSON."""

import json

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

import moving_mnist
import moving_mnist_metrics as metrics
from helpers import cli_fails
from moving_mnist_cli import main

SIZES = dict(num_train=3, num_validation=4, num_test=7, seed=11)
SETS = [arg for key, value in SIZES.items() for arg in ("--set", f"{key}={value}")]


@pytest.fixture
def build(mnist_dir, tmp_path):
    return ["--data-dir", str(mnist_dir), "--cache-dir", str(tmp_path / "cache"), *SETS]


def _split(mnist_dir, tmp_path, split="test", **overrides):
    """`(input_frames, output_frames)` of a split of the same dataset, read through the Python API."""
    ds = moving_mnist.load("classic", data_dir=str(mnist_dir), cache_dir=str(tmp_path / "cache"), **{**SIZES, **overrides})
    rows = ds[split].with_format("numpy", columns=["input_frames", "output_frames"], dtype=np.uint8)[:]
    return rows["input_frames"], rows["output_frames"]


def _expected(predictions, targets) -> dict[str, float]:
    """Each metric's mean over sequences and frames, from its definition (SSIM and PSNR: scikit-image's)."""
    x, y = predictions / 255, targets / 255
    squared, absolute = ((x - y) ** 2).sum(axis=(2, 3)), np.abs(x - y).sum(axis=(2, 3))
    a, b = predictions >= 128, targets >= 128
    frames = [(p, t) for ps, ts in zip(predictions, targets) for p, t in zip(ps, ts)]
    return {
        "mse_per_pixel": squared.mean() / 4096,
        "mae_per_pixel": absolute.mean() / 4096,
        "mse_per_frame": squared.mean(),
        "mae_per_frame": absolute.mean(),
        "psnr": np.mean([peak_signal_noise_ratio(t, p, data_range=255) for p, t in frames]),
        "ssim": np.mean([
            structural_similarity(t, p, data_range=255, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
            for p, t in frames
        ]),
        "jaccard_distance": (1 - (a & b).sum(axis=(2, 3)) / (a | b).sum(axis=(2, 3))).mean(),
    }


def test_evaluate_scores_a_copy_of_the_last_input_frame_as_the_baseline(build, mnist_dir, tmp_path, capsys):
    inputs, targets = _split(mnist_dir, tmp_path)
    predictions = np.repeat(inputs[:, -1:], 10, axis=1)
    np.save(tmp_path / "pred.npy", predictions)
    out = tmp_path / "scores" / "last.json"
    assert main(["evaluate", str(tmp_path / "pred.npy"), "classic", *build, "--json", str(out)]) == 0

    record = json.loads(out.read_text())
    assert (record["config"], record["split"], record["num_sequences"]) == ("classic", "test", 7)
    expected = _expected(predictions, targets)
    assert record["averages"] == pytest.approx(expected, rel=1e-12)
    assert {name: len(curve) for name, curve in record["per_frame"].items()} == {name: 10 for name in expected}
    assert record["per_frame"]["mse_per_frame"][0] == pytest.approx(((predictions[:, 0] / 255 - targets[:, 0] / 255) ** 2).sum() / 7)
    assert set(record["metrics"]) == set(expected) and record["parameters"]["num_test"] == 7
    # the numbers the card gives as the "last input frame" baseline
    assert record["averages"] == metrics.baselines(inputs, targets)["last input frame"].averages
    assert [p.name for p in out.parent.iterdir()] == ["last.json"]  # no temporary file left

    lines = capsys.readouterr().out.splitlines()
    header = lines.index(next(line for line in lines if line.split()[:2] == ["frame", "mse_per_pixel"]))
    assert [line.split()[0] for line in lines[header + 1 : header + 12]] == [*map(str, range(1, 11)), "mean"]
    mean = lines[header + 11].split()[1:]
    assert mean == [format(record["averages"][name], metrics.METRICS[name][1]) for name in record["averages"]]


def test_evaluate_defaults_to_validation_when_there_is_no_test_split(build, mnist_dir, tmp_path):
    inputs, targets = _split(mnist_dir, tmp_path, "validation", num_test=0)
    np.save(tmp_path / "zeros.npy", np.zeros_like(targets))
    out = tmp_path / "zeros.json"
    assert main(["evaluate", str(tmp_path / "zeros.npy"), "classic", *build, "--set", "num_test=0", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert (record["split"], record["num_sequences"]) == ("validation", 4)
    assert record["averages"] == pytest.approx(_expected(np.zeros_like(targets), targets), rel=1e-12)
    assert record["averages"]["jaccard_distance"] == 1.0


def test_float_predictions_on_0_1_are_the_bytes_they_stand_for(build, mnist_dir, tmp_path):
    inputs, targets = _split(mnist_dir, tmp_path, "train")
    np.save(tmp_path / "pred.npy", (np.repeat(inputs[:, -1:], 10, axis=1) / 255).astype(np.float32))
    out = tmp_path / "floats.json"
    assert main(["evaluate", str(tmp_path / "pred.npy"), "classic", "--split", "train", *build, "--json", str(out)]) == 0
    expected = _expected(np.repeat(inputs[:, -1:], 10, axis=1), targets)
    assert json.loads(out.read_text())["averages"] == pytest.approx(expected, rel=1e-6)


def test_a_prediction_of_the_wrong_shape_is_one_line_naming_both_shapes_and_builds_nothing(build, tmp_path, capsys):
    np.save(tmp_path / "pred.npy", np.zeros((7, 9, 64, 64), np.uint8))
    line = cli_fails(["evaluate", str(tmp_path / "pred.npy"), "classic", *build], capsys)
    assert "(7, 9, 64, 64)" in line and "(7, 10, 64, 64)" in line and "test" in line, line
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", ["not a .npy file"]),
        (b"frame,value\n0,1\n", ["not a .npy file"]),
        (None, ["not a readable .npy array", "mmap length"]),  # truncated
        ("npz", ["not a .npy file"]),
        ("missing", ["cannot read it"]),
    ],
)
def test_a_bad_prediction_file_is_one_line_naming_it(build, tmp_path, capsys, content, words):
    path = tmp_path / "pred.npy"
    if content is None:
        np.save(path, np.zeros((7, 10, 64, 64), np.uint8))
        path.write_bytes(path.read_bytes()[:5000])
    elif content == "npz":
        with open(path, "wb") as file:
            np.savez(file, frames=np.zeros((7, 10, 64, 64), np.uint8))
    elif content != "missing":
        path.write_bytes(content)
    line = cli_fails(["evaluate", str(path), "classic", *build], capsys)
    assert str(path) in line, line
    for word in words:
        assert word in line, (word, line)
    assert not (tmp_path / "cache").exists()


def test_values_out_of_range_are_one_line(build, tmp_path, capsys):
    np.save(tmp_path / "pred.npy", np.full((7, 10, 64, 64), 2.0, np.float32))
    line = cli_fails(["evaluate", str(tmp_path / "pred.npy"), "classic", *build], capsys)
    assert "predictions of dtype float32" in line and "[0, 1]" in line, line


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--split", "dev"], ["--split", "dev"]),
        (["--set", "num_validation=0", "--split", "validation"], ["--split validation", "no such split"]),
        (["--json", "FOLDER"], ["--json", "a folder"]),
        (["--set", "seed=x"], ["seed", "'x'"]),
    ],
)
def test_bad_options_are_one_line(build, tmp_path, capsys, argv, words):
    np.save(tmp_path / "pred.npy", np.zeros((7, 10, 64, 64), np.uint8))  # the test split's shape
    argv = [str(tmp_path) if a == "FOLDER" else a for a in argv]
    line = cli_fails(["evaluate", str(tmp_path / "pred.npy"), "classic", *build, *argv], capsys)
    for word in words:
        assert word in line, (word, line)
    assert not (tmp_path / "cache").exists()
