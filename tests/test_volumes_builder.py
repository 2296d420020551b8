"""Volumes through the builder, the command line, the pictures and the card: what `cavities` users meet."""

import datasets
import imageio.v3 as iio
import numpy as np
import pytest
from huggingface_hub import DatasetCard

import moving_mnist
from generator import generate
from moving_mnist_cli import main
from moving_mnist_hub import pictures

SIZES = {"num_train": 5, "num_validation": 0, "num_test": 3}
SETS = [arg for key, value in SIZES.items() for arg in ("--set", f"{key}={value}")]


def _frames(ds) -> np.ndarray:
    rows = ds.with_format("numpy", columns=["input_frames", "output_frames"], dtype=np.uint8)[:]
    return np.concatenate([rows["input_frames"], rows["output_frames"]], axis=1)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """cavities at small counts, built with 1 and with 2 processes."""
    folder = tmp_path_factory.mktemp("volumes")
    return {n: moving_mnist.load("cavities", cache_dir=str(folder / f"cache{n}"), num_proc=n, **SIZES) for n in (1, 2)}


def test_a_cavities_build_holds_the_engines_volumes_as_array4d(built):
    ds = built[1]
    spec = moving_mnist.PRESETS["cavities"].spec.replace(**SIZES)
    assert ds["train"].features["input_frames"] == datasets.Array4D((16, 16, 16, 16), "uint8")
    assert ds["train"].features["output_frames"] == datasets.Array4D((16, 16, 16, 16), "uint8")
    assert ds["train"].features["betti_numbers"] == datasets.Array2D((32, 3), "int16")
    for split, n in (("train", 5), ("test", 3)):
        expected = generate(spec, {}, split, 0, n)  # the engine itself, no builder in between
        assert np.array_equal(_frames(ds[split]), expected.frames)
        rows = ds[split].with_format("numpy")[:]
        for name, values in expected.truth.items():
            np.testing.assert_array_equal(rows[name], values, err_msg=name)
    assert _frames(ds["train"]).max() == 255  # cavities are there to see


def test_a_cavities_build_is_the_same_bytes_with_one_or_two_processes(built):
    for split in ("train", "test"):
        one, two = (built[n][split].with_format("numpy")[:] for n in (1, 2))
        assert one.keys() == two.keys()
        for name in one:
            np.testing.assert_array_equal(one[name], two[name], err_msg=name)


def test_preview_and_stats_show_volumes_as_slices_and_time_points(tmp_path, capsys):
    cache = ["--cache-dir", str(tmp_path / "cache")]
    assert main(["preview", "cavities", *SETS, *cache, "--num", "2", "--output", str(tmp_path)]) == 0
    video = iio.imread(tmp_path / "cavities-train.gif", index=None)
    # 2 rows of 4 panels of 16 voxels (and 3 gap columns) at scale 2 x 4, 32 time points
    assert video.shape[:3] == pictures.preview_shape(2, 32, 16, 4 * 16 + 3, 8)[:3]
    assert main(["stats", "cavities", *SETS, *cache, "--output", str(tmp_path)]) == 0
    assert (tmp_path / "cavities" / "time_points.png").is_file()
    assert sorted(p.name for p in (tmp_path / "cavities").iterdir()) == ["time_points.png"]


def test_a_staged_cavities_config_loads_without_a_script_and_the_card_describes_it(tmp_path):
    stage = tmp_path / "stage"
    argv = ["publish", "cavities", "--repo-id", "alice/volumes", "--dry-run", *SETS,
            "--cache-dir", str(tmp_path / "cache"), "--stage", str(stage)]
    assert main(argv) == 0
    loaded = datasets.load_dataset(str(stage), "cavities", cache_dir=str(tmp_path / "load"))
    local = moving_mnist.load("cavities", cache_dir=str(tmp_path / "cache"), **SIZES)
    for split in ("train", "test"):
        assert loaded[split].features == local[split].features
        assert np.array_equal(_frames(loaded[split]), _frames(local[split]))
    card = DatasetCard.load(stage / "README.md")
    assert "volumes" in card.data.tags and card.data.license == "cc0-1.0"
    assert "Hannouch" in card.text and "`betti_numbers` | (T, 3) | int16" in card.text
    assert "previews/cavities/time_points.png" in card.text and (stage / "previews" / "cavities" / "time_points.png").is_file()
    assert "D = 16 (generated at 64), C = 3" in card.text


@pytest.mark.parametrize("overrides, words", [
    ({"image_size": 32}, "parameter='image_size' is not allowed"),
    ({"grid_size": 15}, "generation_size=64 must be a multiple of grid_size=15"),
    ({"threshold": 0.0}, "threshold=0.0 must be a number in (0, 1]"),
])
def test_bad_volume_parameters_are_refused_before_anything_is_built(overrides, words, tmp_path):
    with pytest.raises(ValueError) as error:
        moving_mnist.load("cavities", cache_dir=str(tmp_path), **overrides)
    assert words in str(error.value)
    assert not any(tmp_path.iterdir())


def test_set_takes_volume_parameters_with_their_types(tmp_path, capsys):
    cache = ["--cache-dir", str(tmp_path)]
    assert main(["build", "cavities", *SETS, "--set", "threshold=0.5", "--set", "cavities=ball", *cache]) == 0
    assert "(16, 16, 16, 16)" in capsys.readouterr().out
    ds = moving_mnist.load("cavities", cache_dir=str(tmp_path), threshold=0.5, cavities={"name": "ball"}, **SIZES)
    frames = _frames(ds["train"])
    assert set(np.unique(frames)) <= {0, 255}  # thresholded
    assert (ds["train"].with_format("numpy")[:]["cavity_families"] <= 0).all()  # balls only (-1: padding)


def test_evaluate_scores_volumes_by_errors_and_jaccard_distance(tmp_path):
    import json

    local = moving_mnist.load("cavities", cache_dir=str(tmp_path / "cache"), **SIZES)
    rows = local["test"].with_format("numpy", columns=["input_frames", "output_frames"], dtype=np.uint8)[:]
    predictions = np.repeat(rows["input_frames"][:, -1:], 16, axis=1)  # the last input volume, 16 times
    np.save(tmp_path / "pred.npy", predictions)
    out = tmp_path / "scores.json"
    argv = ["evaluate", str(tmp_path / "pred.npy"), "cavities", *SETS, "--cache-dir", str(tmp_path / "cache"),
            "--json", str(out)]
    assert main(argv) == 0
    record = json.loads(out.read_text())
    x, y = predictions / 255, rows["output_frames"] / 255
    a, b = predictions >= 128, rows["output_frames"] >= 128
    union = (a | b).sum(axis=(2, 3, 4))
    jaccard = np.where(union == 0, 0.0, 1 - (a & b).sum(axis=(2, 3, 4)) / np.maximum(union, 1))
    assert record["averages"]["mse_per_frame"] == pytest.approx(((x - y) ** 2).sum(axis=(2, 3, 4)).mean(), rel=1e-12)
    assert record["averages"]["mae_per_pixel"] == pytest.approx(np.abs(x - y).mean(), rel=1e-12)
    assert record["averages"]["jaccard_distance"] == pytest.approx(jaccard.mean(), rel=1e-12)
    assert "ssim" not in record["averages"]  # no 3D SSIM


def test_npy_export_of_volumes_is_time_first_as_for_frames(tmp_path):
    out = tmp_path / "out"
    assert main(["export", "cavities", "--format", "npy", "--output", str(out), *SETS, "--cache-dir", str(tmp_path / "cache")]) == 0
    local = moving_mnist.load("cavities", cache_dir=str(tmp_path / "cache"), **SIZES)
    frames = np.load(out / "test.npy")
    assert frames.shape == (32, 3, 16, 16, 16)
    assert np.array_equal(frames, _frames(local["test"]).swapaxes(0, 1))
    np.testing.assert_array_equal(np.load(out / "test.betti_numbers.npy"), local["test"].with_format("numpy")[:]["betti_numbers"])


def test_coco_export_of_volumes_is_refused_in_one_line(tmp_path, capsys):
    from helpers import cli_fails

    message = cli_fails(["export", "cavities", "--format", "coco", "--output", str(tmp_path / "out"), *SETS], capsys)
    assert "format=coco exports frames with boxes and tracks: volumes have none" in message
