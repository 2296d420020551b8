"""The metrics: SSIM and PSNR as scikit-image computes them, MSE and MAE from their definitions, the
Jaccard distance on hand-made masks and volumes, on real generated frames, read a block at a time."""

import json
from pathlib import Path

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

import moving_mnist_metrics as metrics
from generator import generate
from generator.cifar import read_cifar10
from generator.presets import PRESETS

SSIM = dict(data_range=255, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)


@pytest.fixture(scope="module")
def classic(mnist_pools):
    """12 real `classic` test sequences: `(inputs (12, 10, 64, 64), targets (12, 10, 64, 64))` uint8."""
    spec = PRESETS["classic"].spec.replace(num_test=12)
    frames = generate(spec, {"mnist": mnist_pools}, "test", 0, 12).frames
    return frames[:, :10], frames[:, 10:]


@pytest.fixture(scope="module")
def rgb(mnist_pools, cifar_archive):
    """6 real `mnist_cifar` test sequences (MNIST digits over CIFAR-10 photographs): `(6, 20, 3, 64, 64)` uint8."""
    spec = PRESETS["mnist_cifar"].spec.replace(num_test=6)
    return generate(spec, {"mnist": mnist_pools, "cifar10": read_cifar10(str(cifar_archive))}, "test", 0, 6).frames


def _last_frame(inputs, num_frames):
    return np.repeat(inputs[:, -1:], num_frames, axis=1)


def _per_frame(function, predictions, targets):
    """`function(prediction, target)` of every frame `(N, T)`."""
    return np.array([[function(p, t) for p, t in zip(ps, ts)] for ps, ts in zip(predictions, targets)])


def test_ssim_and_psnr_are_scikit_images_on_real_gray_frames(classic):
    inputs, targets = classic
    for predictions in (_last_frame(inputs, 10), np.roll(targets, 3, axis=-1), inputs):
        scores = metrics.score(predictions, targets)
        ssim = _per_frame(lambda p, t: structural_similarity(t, p, **SSIM), predictions, targets)
        psnr = _per_frame(lambda p, t: peak_signal_noise_ratio(t, p, data_range=255), predictions, targets)
        np.testing.assert_allclose(scores.curves["ssim"], ssim.mean(axis=0), rtol=0, atol=1e-12)
        np.testing.assert_allclose(scores.curves["psnr"], psnr.mean(axis=0), rtol=1e-12)
        assert scores.averages["ssim"] == pytest.approx(ssim.mean(), abs=1e-12)
        assert 0 < scores.averages["ssim"] < 1


def test_rgb_ssim_is_the_mean_of_the_channels_and_psnr_takes_the_whole_frame(rgb):
    predictions, targets = rgb[:, 9:10].repeat(10, axis=1), rgb[:, 10:]
    scores = metrics.score(predictions, targets)
    ssim = _per_frame(lambda p, t: structural_similarity(t, p, channel_axis=0, **SSIM), predictions, targets)
    psnr = _per_frame(lambda p, t: peak_signal_noise_ratio(t, p, data_range=255), predictions, targets)
    np.testing.assert_allclose(scores.curves["ssim"], ssim.mean(axis=0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(scores.curves["psnr"], psnr.mean(axis=0), rtol=1e-12)
    assert "jaccard_distance" not in scores.curves  # RGB frames are not binary


def test_mse_and_mae_per_pixel_and_per_frame_follow_their_definitions(classic, rgb):
    for predictions, targets in ((_last_frame(classic[0], 10), classic[1]), (rgb[:, 9:10].repeat(10, 1), rgb[:, 10:])):
        difference = predictions / 255 - targets / 255  # values on [0, 1]
        axes = tuple(range(2, difference.ndim))
        values = np.prod(difference.shape[2:])  # 64 * 64 gray, 3 * 64 * 64 RGB
        scores = metrics.score(predictions, targets)
        expected = {
            "mse_per_pixel": (difference**2).mean(axis=axes),
            "mae_per_pixel": np.abs(difference).mean(axis=axes),
            "mse_per_frame": (difference**2).sum(axis=axes),
            "mae_per_frame": np.abs(difference).sum(axis=axes),
            "psnr": 10 * np.log10(values / (difference**2).sum(axis=axes)),
        }
        for name, per_frame in expected.items():
            np.testing.assert_allclose(scores.curves[name], per_frame.mean(axis=0), rtol=1e-12, err_msg=name)
            assert scores.averages[name] == pytest.approx(per_frame.mean(), rel=1e-12), name


def test_float_predictions_on_0_1_score_as_the_bytes_they_stand_for(classic):
    inputs, targets = classic
    as_bytes = metrics.score(_last_frame(inputs, 10), targets).curves
    for dtype in (np.float32, np.float64):
        as_floats = metrics.score((_last_frame(inputs, 10) / 255).astype(dtype), targets).curves
        for name in as_bytes:
            np.testing.assert_allclose(as_floats[name], as_bytes[name], rtol=1e-6, atol=1e-9, err_msg=name)


def test_an_exact_prediction_scores_perfectly_and_its_psnr_is_that_of_one_byte_off(classic):
    targets = classic[1]
    scores = metrics.score(targets.copy(), targets)
    one_byte_off = 10 * np.log10(255**2 * 64 * 64)  # 84.3 dB: the most an inexact prediction of bytes can score
    assert scores.averages == {"mse_per_pixel": 0, "mae_per_pixel": 0, "mse_per_frame": 0, "mae_per_frame": 0,
                               "psnr": pytest.approx(one_byte_off, rel=1e-15), "ssim": 1.0, "jaccard_distance": 0}
    off = targets.copy()
    off[0, 0, 5, 7] ^= 1
    psnr = metrics.score(off, targets).curves["psnr"]
    assert psnr[0] == pytest.approx(one_byte_off, rel=1e-15)
    assert peak_signal_noise_ratio(targets[0, 0], off[0, 0], data_range=255) == pytest.approx(one_byte_off, rel=1e-12)


def _masks(*boxes, size=8):
    """`(1, len(boxes), size, size)` uint8 frames, 255 inside each (row0, row1, col0, col1) box, 0 outside."""
    frames = np.zeros((1, len(boxes), size, size), np.uint8)
    for t, box in enumerate(boxes):
        if box:
            frames[0, t, box[0] : box[1], box[2] : box[3]] = 255
    return frames


def test_jaccard_distance_on_hand_made_masks():
    # identical, disjoint, half of the union shared, a third shared, both empty, one empty
    predictions = _masks((0, 4, 0, 4), (0, 4, 0, 4), (0, 8, 0, 4), (0, 8, 0, 4), None, (0, 2, 0, 2))
    targets = _masks((0, 4, 0, 4), (4, 8, 4, 8), (0, 8, 0, 2), (0, 8, 2, 6), None, None)
    distances = metrics.score(predictions, targets).curves["jaccard_distance"]
    np.testing.assert_allclose(distances, [0, 1, 0.5, 1 - 16 / 48, 0, 1], rtol=0, atol=1e-15)


def test_jaccard_counts_values_from_half_the_scale():
    targets = _masks((0, 8, 0, 8))  # all on
    for value, distance in ((127, 1.0), (128, 0.0), (255, 0.0)):
        predictions = np.full_like(targets, value)
        assert metrics.score(predictions, targets).averages["jaccard_distance"] == distance, value
    for value, distance in ((0.499, 1.0), (0.5, 0.0)):
        predictions = np.full(targets.shape, value)
        assert metrics.score(predictions, targets).averages["jaccard_distance"] == distance, value


def test_volumes_score_errors_and_jaccard_per_time_point_but_not_ssim():
    rng = np.random.default_rng(4)
    targets = np.where(rng.random((3, 5, 16, 16, 16)) < 0.3, 255, 0).astype(np.uint8)
    predictions = targets.copy()
    predictions[:, :, :8] = 0  # the prediction misses the first half of every volume along one axis
    scores = metrics.score(predictions, targets)
    assert set(scores.curves) == {"mse_per_pixel", "mae_per_pixel", "mse_per_frame", "mae_per_frame", "psnr",
                                  "jaccard_distance"}
    on = targets >= 128
    kept = on.copy()
    kept[:, :, :8] = False
    expected = 1 - kept.sum(axis=(2, 3, 4)) / on.sum(axis=(2, 3, 4))  # the intersection is what was kept
    np.testing.assert_allclose(scores.curves["jaccard_distance"], expected.mean(axis=0), rtol=1e-12)
    missed = on.sum(axis=(2, 3, 4)) - kept.sum(axis=(2, 3, 4))  # each missed voxel is an error of 1
    np.testing.assert_allclose(scores.curves["mse_per_frame"], missed.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(scores.curves["mae_per_pixel"], (missed / 16**3).mean(axis=0), rtol=1e-12)


def test_frame_kinds_follow_the_shape():
    assert metrics.frame_kind((64, 64)) == "gray"
    assert metrics.frame_kind((3, 64, 64)) == "rgb"
    assert metrics.frame_kind((16, 16, 16)) == "volume"
    assert metrics.frame_kind((3, 3, 3)) == "volume"
    for shape in ((64,), (2, 64, 64), (4, 16, 16, 16), (16, 16, 8)):
        with pytest.raises(ValueError, match=r"expected gray \(H, W\), RGB \(3, H, W\) or volumes"):
            metrics.frame_kind(shape)
    assert "ssim" not in metrics.metrics_of("gray", (10, 64))  # no 11 x 11 window fits
    assert "ssim" in metrics.metrics_of("gray", (11, 11))


def test_scores_do_not_depend_on_the_block_size_or_on_reading_from_a_memory_map(classic, tmp_path, monkeypatch):
    inputs, targets = classic
    predictions = _last_frame(inputs, 10)
    whole = metrics.score(predictions, targets)
    np.save(tmp_path / "predictions.npy", predictions)
    mapped = np.load(tmp_path / "predictions.npy", mmap_mode="r")
    for values in (64 * 64 * 25, 64 * 64 * 3, 1):  # 2 sequences and a half; 3 frames; one frame at a time
        monkeypatch.setattr(metrics, "READ_VALUES", values)
        done = []
        blocks = metrics.score(mapped, targets, progress=done.append)
        assert sum(done) == 12
        for name in whole.curves:
            np.testing.assert_allclose(blocks.curves[name], whole.curves[name], rtol=1e-13, err_msg=name)


def test_baselines_predict_the_last_input_frame_and_zeros(classic):
    inputs, targets = classic
    scores = metrics.baselines(inputs, targets)
    assert list(scores) == ["last input frame", "zeros"]
    for name, predictions in (("last input frame", _last_frame(inputs, 10)), ("zeros", np.zeros_like(targets))):
        expected = metrics.score(predictions, targets)
        for metric in expected.curves:
            np.testing.assert_array_equal(scores[name].curves[metric], expected.curves[metric])
    zero = (targets / 255.0) ** 2
    assert scores["zeros"].averages["mse_per_frame"] == pytest.approx(zero.sum(axis=(2, 3)).mean(), rel=1e-12)
    assert scores["zeros"].averages["jaccard_distance"] == 1.0  # every target frame has ink


@pytest.mark.parametrize(
    ("predictions", "targets", "words"),
    [
        (np.zeros((2, 3, 8, 8), np.uint8), np.zeros((2, 4, 8, 8), np.uint8), ["(2, 3, 8, 8)", "(2, 4, 8, 8)", "match"]),
        (np.zeros((2, 8, 8), np.uint8), np.zeros((2, 8, 8), np.uint8), ["(2, 8, 8)", "(N, T, *frame)"]),
        (np.zeros((0, 3, 8, 8), np.uint8), np.zeros((0, 3, 8, 8), np.uint8), ["(0, 3, 8, 8)", "N, T >= 1"]),
        (np.zeros((2, 3, 8, 8), bool), np.zeros((2, 3, 8, 8), np.uint8), ["predictions", "bool"]),
        (np.full((2, 3, 8, 8), 1.5), np.zeros((2, 3, 8, 8), np.uint8), ["predictions", "1.5", "[0, 1]"]),
        (np.full((2, 3, 8, 8), np.nan), np.zeros((2, 3, 8, 8), np.uint8), ["predictions", "nan", "[0, 1]"]),
        (np.full((2, 3, 8, 8), 256), np.zeros((2, 3, 8, 8), np.uint8), ["predictions", "int64", "256", "0 .. 255"]),
        (np.zeros((2, 3, 8, 8), np.uint8), np.full((2, 3, 8, 8), -1, np.int16), ["targets", "-1", "0 .. 255"]),
        (np.zeros((2, 3, 5, 8, 8), np.uint8), np.zeros((2, 3, 5, 8, 8), np.uint8), ["(5, 8, 8)", "volumes"]),
    ],
)
def test_what_cannot_be_scored_is_refused_with_both_sides_named(predictions, targets, words):
    with pytest.raises(ValueError) as error:
        metrics.score(predictions, targets)
    for word in words:
        assert word in str(error.value), (word, str(error.value))


def test_the_readme_baselines_score_every_preset_on_its_first_1000_evaluation_sequences():
    presets = json.loads((Path(__file__).parent.parent / "docs" / "baselines.json").read_text())["presets"]
    assert list(presets) == list(PRESETS), "run python scripts/readme_tables.py --baselines"
    for name, entry in presets.items():
        sizes = PRESETS[name].spec.split_sizes()
        split = "test" if "test" in sizes else "validation"
        assert (entry["split"], entry["num_sequences"]) == (split, min(1000, sizes[split])), name
        assert list(entry["scores"]) == ["last input frame", "zeros"], name


def test_the_readme_baselines_of_classic_are_those_of_its_first_1000_test_sequences(mnist_pools):
    """docs/baselines.json (the README's table) holds what the definitions give, for the code as it is."""
    entry = json.loads((Path(__file__).parent.parent / "docs" / "baselines.json").read_text())["presets"]["classic"]
    assert (entry["split"], entry["num_sequences"]) == ("test", 1000)
    spec = PRESETS["classic"].spec
    sums = {"last input frame": {}, "zeros": {}}
    for start in range(0, 1000, 100):
        frames = generate(spec, {"mnist": mnist_pools}, "test", start, start + 100).frames
        targets = frames[:, 10:]
        for predictor, predictions in (("last input frame", _last_frame(frames[:, :10], 10)),
                                       ("zeros", np.zeros_like(targets))):
            x, y = predictions.reshape(-1, 64, 64), targets.reshape(-1, 64, 64)  # every frame
            difference = x / 255 - y / 255
            squared, a, b = (difference**2).sum(axis=(1, 2)), x >= 128, y >= 128
            values = {
                "mse_per_pixel": squared / 4096,
                "mae_per_pixel": np.abs(difference).mean(axis=(1, 2)),
                "mse_per_frame": squared,
                "mae_per_frame": np.abs(difference).sum(axis=(1, 2)),
                "psnr": [peak_signal_noise_ratio(t, p, data_range=255) if (p != t).any() else 10 * np.log10(255**2 * 4096)
                         for p, t in zip(x, y)],
                "ssim": [structural_similarity(t, p, **SSIM) for p, t in zip(x, y)],
                "jaccard_distance": 1 - (a & b).sum(axis=(1, 2)) / (a | b).sum(axis=(1, 2)),
            }
            for name, per_frame in values.items():
                sums[predictor][name] = sums[predictor].get(name, 0) + np.sum(per_frame)
    for predictor, totals in sums.items():
        expected = {name: total / 10_000 for name, total in totals.items()}
        assert entry["scores"][predictor] == pytest.approx(expected, rel=1e-5), predictor  # kept to 6 digits
