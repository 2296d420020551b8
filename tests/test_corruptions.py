"""Corrupted inputs, clean targets: occlusion, noise and dropped frames on real MNIST.

Expected values come from the documented definitions (the stream keys and each component's rule),
computed here in plain code, never from the engine's helpers.
"""

import math
from dataclasses import replace

import datasets
import numpy as np
import pytest

import moving_mnist
from generator import Spec, fields_of, generate
from generator.cifar import read_cifar10
from generator.presets import PRESETS
from moving_mnist_cli import main

CLASSIC = PRESETS["classic"].spec
BASE = replace(CLASSIC, num_train=1100, num_validation=30, num_test=30, seed=11)
SALT_PEPPER = {"name": "salt_pepper", "probability": 0.5}
PATCH = {"name": "patch", "size": (5, 40), "value": 77}
DROP = {"name": "frames", "probability": 0.3}
ALL = BASE.replace(occlusion=PATCH, noise=SALT_PEPPER, drop=DROP)
SPLIT_IDS = {"train": 0, "validation": 1, "test": 2}
RANGES = [("train", 1010, 1040), ("test", 0, 30)]  # the first across the block boundary at 1024


def _refused(action) -> str:
    with pytest.raises(ValueError) as error:
        action()
    return str(error.value)


def _block_draws(seed, split, index, stream, shape):
    """Sequence `index`'s row of its block's draw of U[0, 1) of shape (1024, *shape): the documented key."""
    return np.random.default_rng([seed, SPLIT_IDS[split], index // 1024, stream]).random((1024, *shape))[index % 1024]


def _noise_generator(seed, split, index):
    """The documented per-sequence key of the noise stream (id 11)."""
    return np.random.default_rng([seed, SPLIT_IDS[split], index, 11])


def expected_boxes(spec, split, indices):
    """(N, T_in, 4) boxes from the documented rule, in plain Python: width, height, x_min, y_min from u0..u3."""
    low, high = spec.occlusion.size
    boxes = []
    for i in indices:
        u = _block_draws(spec.seed, split, i, 9, (spec.num_input_frames, 4))
        frames = []
        for u0, u1, u2, u3 in u.tolist():
            width, height = low + math.floor(u0 * (high - low + 1)), low + math.floor(u1 * (high - low + 1))
            x, y = math.floor(u2 * (spec.image_size - width + 1)), math.floor(u3 * (spec.image_size - height + 1))
            frames.append([x, y, x + width, y + height])
        boxes.append(frames)
    return np.array(boxes)


def expected_dropped(spec, split, indices):
    return np.array([_block_draws(spec.seed, split, i, 10, (spec.num_input_frames,)) < spec.drop.probability
                     for i in indices])


def salt_and_pepper(clean, u, p):
    """The rule: u < p/2 gives 0, p/2 <= u < p gives 255 (compared in float32), else the clean byte."""
    p = np.float32(p)
    return np.where(u < p / 2, 0, np.where(u < p, 255, clean)).astype(np.uint8)


def expected_inputs(spec, clean, split, indices):
    """Every corruption applied by hand, in the documented order: occlusion, then noise, then drop."""
    inputs = clean.copy()
    if spec.occlusion.name == "patch":
        for n, frames in enumerate(expected_boxes(spec, split, indices)):
            for t, (x0, y0, x1, y1) in enumerate(frames):
                inputs[n, t, ..., y0:y1, x0:x1] = spec.occlusion.value
    if spec.noise.name == "salt_pepper":
        for n, i in enumerate(indices):
            u = _noise_generator(spec.seed, split, i).random(inputs[n].shape, dtype=np.float32)
            inputs[n] = salt_and_pepper(inputs[n], u, spec.noise.probability)
    if spec.drop.name == "frames":
        inputs[expected_dropped(spec, split, indices)] = 0
    return inputs


# --- off by default ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n, p in PRESETS.items() if n != "denoise" and isinstance(p.spec, Spec)])
def test_no_preset_but_denoise_corrupts_or_has_the_new_fields(name):
    spec = PRESETS[name].spec
    assert (spec.occlusion.name, spec.noise.name, spec.drop.name) == ("none", "none", "none")
    assert not {"clean_input_frames", "occlusion_boxes", "dropped"} & {f.name for f in fields_of(spec)}


def test_a_card_without_corruptions_loads_with_none_of_them():
    plain = CLASSIC.as_dict()
    for kind in ("occlusion", "noise", "drop"):
        assert plain.pop(kind) == {"name": "none"}
    assert Spec.from_dict(plain) == CLASSIC


def test_each_corruption_adds_its_fields_after_the_others():
    names = [f.name for f in fields_of(CLASSIC)]
    assert [f.name for f in fields_of(ALL)] == [*names, "clean_input_frames", "occlusion_boxes", "dropped"]
    assert [f.name for f in fields_of(BASE.replace(noise="gaussian"))] == [*names, "clean_input_frames"]
    shapes = {f.name: (f.dtype, f.shape(ALL)) for f in fields_of(ALL)}
    assert shapes["clean_input_frames"] == ("uint8", (10, 64, 64))
    assert shapes["occlusion_boxes"] == ("int16", (10, 4)) and shapes["dropped"] == ("bool", (10,))


# --- targets and clean inputs stay clean ------------------------------------------------------------


@pytest.mark.parametrize("split, start, stop", RANGES)
@pytest.mark.parametrize("corruptions", [
    dict(noise=SALT_PEPPER), dict(noise={"name": "gaussian", "sigma": 30}), dict(occlusion=PATCH), dict(drop=DROP),
    dict(occlusion=PATCH, noise=SALT_PEPPER, drop=DROP),
], ids=["salt_pepper", "gaussian", "occlusion", "drop", "all"])
def test_targets_and_clean_inputs_equal_the_uncorrupted_build(pools, split, start, stop, corruptions):
    clean = generate(BASE, pools, split, start, stop)
    corrupt = generate(BASE.replace(**corruptions), pools, split, start, stop)
    t_in = BASE.num_input_frames
    assert np.array_equal(corrupt.frames[:, t_in:], clean.frames[:, t_in:])
    assert np.array_equal(corrupt.truth["clean_input_frames"], clean.frames[:, :t_in])
    assert corrupt.truth["clean_input_frames"].dtype == np.uint8
    for name, value in clean.truth.items():
        assert np.array_equal(corrupt.truth[name], value), name
    assert not np.array_equal(corrupt.frames[:, :t_in], clean.frames[:, :t_in])


# --- each corruption's rule ----------------------------------------------------------------------------


@pytest.mark.parametrize("split, start, stop", RANGES)
def test_salt_and_pepper_is_the_documented_rule_on_the_documented_stream(pools, split, start, stop):
    spec = BASE.replace(noise=SALT_PEPPER)
    seqs = generate(spec, pools, split, start, stop)
    clean = seqs.truth["clean_input_frames"]
    inputs = seqs.frames[:, : spec.num_input_frames]
    assert np.array_equal(inputs, expected_inputs(spec, clean, split, range(start, stop)))
    changed = inputs != clean
    assert set(np.unique(inputs[changed]).tolist()) == {0, 255}


@pytest.mark.parametrize("p", [0.5, 0.1])
def test_salt_and_pepper_rates_match_p_within_five_sigma(pools, p):
    spec = BASE.replace(noise={"name": "salt_pepper", "probability": p})
    seqs = generate(spec, pools, "train", 0, 100)
    clean, noisy = seqs.truth["clean_input_frames"], seqs.frames[:, : spec.num_input_frames]

    def within_five_sigma(hits, n, q):
        return abs(hits.sum() - n * q) <= 5 * math.sqrt(n * q * (1 - q))

    # salt can be seen where the clean byte is not 255, pepper where it is not 0: each has chance p/2
    assert within_five_sigma(noisy[clean != 255] == 255, np.count_nonzero(clean != 255), p / 2)
    assert within_five_sigma(noisy[clean != 0] == 0, np.count_nonzero(clean != 0), p / 2)
    ink = (clean != 0) & (clean != 255)
    assert within_five_sigma(noisy[ink] != clean[ink], np.count_nonzero(ink), p)  # replaced: p in all


@pytest.mark.parametrize("split, start, stop", RANGES)
def test_gaussian_noise_is_value_plus_sigma_normal_rounded_and_clipped(pools, split, start, stop):
    spec = BASE.replace(noise={"name": "gaussian", "sigma": 30})
    seqs = generate(spec, pools, split, start, stop)
    clean = seqs.truth["clean_input_frames"]
    for n, i in enumerate(range(start, stop)):
        z = _noise_generator(spec.seed, split, i).standard_normal(clean[n].shape, dtype=np.float32)
        expected = np.clip(np.rint(clean[n].astype(np.float32) + np.float32(30) * z), 0, 255)
        assert np.array_equal(seqs.frames[n, : spec.num_input_frames], expected), i


def test_gaussian_residuals_have_mean_zero_and_standard_deviation_sigma_where_unclipped(pools):
    sigma = 10.0
    seqs = generate(BASE.replace(noise={"name": "gaussian", "sigma": sigma}), pools, "train", 0, 200)
    clean = seqs.truth["clean_input_frames"].astype(np.int64)
    residual = seqs.frames[:, :10].astype(np.int64) - clean
    unclipped = (clean >= 6 * sigma) & (clean <= 255 - 6 * sigma)  # clipping would need 6 sigma
    r = residual[unclipped]
    assert r.size > 50_000
    # rounding a whole number plus sigma z adds a uniform error: variance sigma^2 + 1/12
    std = math.sqrt(sigma**2 + 1 / 12)
    assert abs(r.mean()) <= 5 * std / math.sqrt(r.size)
    assert abs(r.std() / std - 1) <= 5 / math.sqrt(2 * r.size)
    background = residual[clean == 0]  # clipped at 0: every draw that rounds to 0 or less gives 0
    q = 0.5 * (1 + math.erf(0.5 / sigma / math.sqrt(2)))  # P(sigma z <= 1/2)
    assert abs(np.count_nonzero(background == 0) - background.size * q) <= 5 * math.sqrt(background.size * q * (1 - q))


@pytest.mark.parametrize("split, start, stop", RANGES)
def test_occlusion_paints_the_recorded_box_of_the_documented_draw_and_nothing_else(pools, split, start, stop):
    spec = BASE.replace(occlusion=PATCH)
    seqs = generate(spec, pools, split, start, stop)
    boxes = seqs.truth["occlusion_boxes"]
    assert boxes.dtype == np.int16 and boxes.shape == (stop - start, 10, 4)
    assert np.array_equal(boxes, expected_boxes(spec, split, range(start, stop)))
    clean, inputs = seqs.truth["clean_input_frames"], seqs.frames[:, :10]
    for n, t in np.ndindex(boxes.shape[:2]):
        x0, y0, x1, y1 = boxes[n, t].tolist()
        inside = np.zeros((64, 64), bool)
        inside[y0:y1, x0:x1] = True
        assert (inputs[n, t][inside] == 77).all(), (n, t)
        assert np.array_equal(inputs[n, t][~inside], clean[n, t][~inside]), (n, t)


def test_occlusion_boxes_lie_inside_the_canvas_with_sides_from_min_to_max(pools):
    boxes = generate(BASE.replace(occlusion=PATCH), pools, "train", 0, 1100).truth["occlusion_boxes"].astype(int)
    widths, heights = boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1]
    for sides in (widths, heights):
        assert set(np.unique(sides).tolist()) == set(range(5, 41))  # every side from min to max
    assert boxes[..., :2].min() == 0 and boxes[..., 2:].max() == 64
    assert (boxes[..., :2] >= 0).all() and (boxes[..., 2:] <= 64).all()


def test_one_number_is_a_fixed_patch_size(pools):
    boxes = generate(BASE.replace(occlusion={"name": "patch", "size": 12}), pools, "train", 0, 50).truth["occlusion_boxes"]
    assert (boxes[..., 2] - boxes[..., 0] == 12).all() and (boxes[..., 3] - boxes[..., 1] == 12).all()


@pytest.mark.parametrize("split, start, stop", RANGES)
def test_dropped_frames_are_the_documented_draw_and_all_zero(pools, split, start, stop):
    spec = BASE.replace(drop=DROP)
    seqs = generate(spec, pools, split, start, stop)
    dropped = seqs.truth["dropped"]
    assert dropped.dtype == bool and dropped.shape == (stop - start, 10)
    assert np.array_equal(dropped, expected_dropped(spec, split, range(start, stop)))
    assert dropped.any() and not dropped.all()
    inputs, clean = seqs.frames[:, :10], seqs.truth["clean_input_frames"]
    assert not inputs[dropped].any()
    assert np.array_equal(inputs[~dropped], clean[~dropped])


def test_the_drop_rate_matches_p_within_five_sigma(pools):
    dropped = generate(BASE.replace(drop=DROP), pools, "train", 0, 1100).truth["dropped"]
    assert abs(dropped.sum() - dropped.size * 0.3) <= 5 * math.sqrt(dropped.size * 0.3 * 0.7)


@pytest.mark.parametrize("split, start, stop", RANGES)
def test_all_three_apply_in_order_occlusion_noise_drop(pools, split, start, stop):
    seqs = generate(ALL, pools, split, start, stop)
    expected = expected_inputs(ALL, seqs.truth["clean_input_frames"], split, range(start, stop))
    assert np.array_equal(seqs.frames[:, :10], expected)


def test_rgb_frames_are_corrupted_in_every_channel(cifar_archive, pools):
    pools = {**pools, "cifar10": read_cifar10(str(cifar_archive))}
    spec = replace(PRESETS["mnist_cifar"].spec, num_train=6, num_validation=0, num_test=4, seed=2).replace(
        occlusion=PATCH, noise=SALT_PEPPER, drop=DROP)
    for split, stop in (("train", 6), ("test", 4)):
        seqs = generate(spec, pools, split, 0, stop)
        assert seqs.frames.shape == (stop, 20, 3, 64, 64)
        clean = seqs.truth["clean_input_frames"]
        assert clean.shape == (stop, 10, 3, 64, 64)
        assert np.array_equal(seqs.frames[:, :10], expected_inputs(spec, clean, split, range(stop)))


# --- independent streams and ranges -------------------------------------------------------------------


@pytest.mark.parametrize("split, start, stop", RANGES)
def test_turning_one_corruption_on_never_changes_anothers_draws(pools, split, start, stop):
    alone = {kind: generate(BASE.replace(**{kind: value}), pools, split, start, stop)
             for kind, value in (("occlusion", PATCH), ("noise", SALT_PEPPER), ("drop", DROP))}
    together = generate(ALL, pools, split, start, stop)
    assert np.array_equal(together.truth["occlusion_boxes"], alone["occlusion"].truth["occlusion_boxes"])
    assert np.array_equal(together.truth["dropped"], alone["drop"].truth["dropped"])
    # outside the patches of kept frames, the bytes are the noise-only inputs
    outside = np.ones((stop - start, 10, 64, 64), bool)
    for n, t in np.ndindex(outside.shape[:2]):
        x0, y0, x1, y1 = together.truth["occlusion_boxes"][n, t].tolist()
        outside[n, t, y0:y1, x0:x1] = False
    outside[together.truth["dropped"]] = False
    assert np.array_equal(together.frames[:, :10][outside], alone["noise"].frames[:, :10][outside])


@pytest.mark.parametrize("start, stop", [(0, 1100), (1000, 1050), (1023, 1025), (7, 8)])
def test_a_range_equals_the_same_sequences_of_the_whole_split(pools, start, stop):
    whole = generate(ALL, pools, "train", 0, 1100)
    part = generate(ALL, pools, "train", start, stop)
    assert np.array_equal(part.frames, whole.frames[start:stop])
    assert part.truth.keys() == whole.truth.keys()
    for name, value in part.truth.items():
        assert np.array_equal(value, whole.truth[name][start:stop]), name


def test_splits_draw_different_corruptions(pools):
    train, test = (generate(ALL, pools, split, 0, 30) for split in ("train", "test"))
    assert not np.array_equal(train.truth["occlusion_boxes"], test.truth["occlusion_boxes"])
    assert not np.array_equal(train.truth["dropped"], test.truth["dropped"])


# --- parameters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, value, expected",
    [
        ("noise", {"name": "salt_pepper", "probability": 1.5}, "noise.probability=1.5 must be a number in [0, 1]"),
        ("noise", {"name": "salt_pepper", "probability": -0.1}, "noise.probability=-0.1 must be a number in [0, 1]"),
        ("noise", {"name": "salt_pepper", "probability": "0.5"}, "noise.probability='0.5' must be a number in [0, 1]"),
        ("noise", {"name": "gaussian", "sigma": 0}, "noise.sigma=0 must be a number in (0, 255]"),
        ("noise", {"name": "gaussian", "sigma": 300}, "noise.sigma=300 must be a number in (0, 255]"),
        ("noise", {"name": "gaussian", "probability": 0.5},
         "noise.probability is not a parameter of noise 'gaussian': its parameters are sigma"),
        ("occlusion", {"name": "patch", "size": 0}, "occlusion.size=0 must be an integer from 1 to 1024"),
        ("occlusion", {"name": "patch", "size": (32, 16)}, "occlusion.size: min=32 must not exceed max=16"),
        ("occlusion", {"name": "patch", "size": 2.5}, "occlusion.size=2.5 must be an integer from 1 to 1024"),
        ("occlusion", {"name": "patch", "value": 256}, "occlusion.value=256 must be an integer from 0 to 255"),
        ("occlusion", {"name": "patch", "size": (16, 65)},
         "occlusion.size=(16, 65) must be at most image_size=64: the patch lies inside the canvas"),
        ("drop", {"name": "frames", "probability": 2}, "drop.probability=2 must be a number in [0, 1]"),
        ("noise", "salt_peper", "noise='salt_peper' is not allowed: choose one of none, salt_pepper, gaussian "
                                "(did you mean 'salt_pepper'?)"),
        ("drop", "frame", "drop='frame' is not allowed: choose one of none, frames (did you mean 'frames'?)"),
    ],
)
def test_bad_parameters_are_refused_naming_them(kind, value, expected):
    assert _refused(lambda: BASE.replace(**{kind: value})) == expected


def test_a_patch_larger_than_a_smaller_canvas_is_refused_at_spec_time():
    spec = BASE.replace(occlusion={"name": "patch", "size": 40})
    assert _refused(lambda: replace(spec, image_size=32)) == (
        "occlusion.size=40 must be at most image_size=32: the patch lies inside the canvas"
    )


# --- the denoise preset -------------------------------------------------------------------------


def test_denoise_is_classic_with_half_salt_and_pepper_on_the_inputs(pools):
    denoise = PRESETS["denoise"].spec
    assert denoise == CLASSIC.replace(noise={"name": "salt_pepper", "probability": 0.5})
    assert [n for n, p in PRESETS.items() if isinstance(p.spec, Spec)][-1] == "denoise"  # the newest of frames
    small = replace(denoise, num_train=40)
    seqs, classic = generate(small, pools, "train", 0, 40), generate(replace(CLASSIC, num_train=40), pools, "train", 0, 40)
    assert np.array_equal(seqs.frames[:, 10:], classic.frames[:, 10:])
    assert np.array_equal(seqs.truth["clean_input_frames"], classic.frames[:, :10])
    assert np.array_equal(seqs.frames[:, :10], expected_inputs(small, classic.frames[:, :10], "train", range(40)))


# --- through the datasets builder and the command line ----------------------------------------------


def test_the_builder_writes_the_corrupted_inputs_and_the_new_columns(mnist_dir, tmp_path, pools):
    sizes = dict(num_train=12, num_validation=0, num_test=5, seed=11)
    builder = moving_mnist.MovingMNIST(config_name="denoise", data_dir=str(mnist_dir), cache_dir=str(tmp_path),
                                       occlusion=PATCH, drop=DROP, **sizes)
    builder.download_and_prepare()
    ds = builder.as_dataset()
    spec = builder.config.spec
    assert spec == replace(ALL, **sizes)
    features = ds["train"].features
    assert list(features) == [f.name for f in fields_of(spec)]
    assert features["input_frames"] == features["clean_input_frames"] == datasets.Array3D((10, 64, 64), "uint8")
    assert features["occlusion_boxes"] == datasets.Array2D((10, 4), "int16")
    assert features["dropped"].feature == datasets.Value("bool") and features["dropped"].length == 10
    for split, size in (("train", 12), ("test", 5)):
        rows = ds[split].with_format("numpy")[:]
        expected = generate(spec, pools, split, 0, size)
        assert np.array_equal(rows["input_frames"], expected.frames[:, :10])
        assert np.array_equal(rows["output_frames"], expected.frames[:, 10:])
        for name in ("clean_input_frames", "occlusion_boxes", "dropped"):
            assert np.array_equal(rows[name], expected.truth[name]), name
        assert rows["dropped"].dtype == bool


def test_set_reaches_the_corruptions(mnist_dir, tmp_path, capsys):
    sets = ["noise=salt_pepper", "noise.probability=0.25", "occlusion=patch", "occlusion.size=8,20",
            "occlusion.value=0", "drop=frames", "drop.probability=0.5", "num_train=6", "num_validation=0", "num_test=0"]
    argv = ["build", "classic", "--data-dir", str(mnist_dir), "--cache-dir", str(tmp_path)]
    assert main([*argv, *(item for pair in sets for item in ("--set", pair))]) == 0
    builder = moving_mnist.MovingMNIST(
        config_name="classic", cache_dir=str(tmp_path), num_train=6, num_validation=0, num_test=0,
        noise={"name": "salt_pepper", "probability": 0.25}, occlusion={"name": "patch", "size": [8, 20], "value": 0},
        drop={"name": "frames", "probability": 0.5})
    spec = builder.config.spec
    assert spec.occlusion.size == (8, 20) and spec.noise.probability == 0.25 and spec.drop.probability == 0.5
    assert f"{builder.config_id}  ->  {builder.cache_dir}" in capsys.readouterr().out  # the same cache entry


def test_configs_lists_the_corruptions_of_every_preset(capsys):
    assert main(["configs"]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines() if line.strip()}
    names = rows["parameter"]
    assert dict(zip(names, rows["noise"]))["denoise"] == "salt_pepper"
    assert dict(zip(names, rows["noise.probability"]))["denoise"] == "0.5"
    frames = [i for i, n in enumerate(names) if isinstance(PRESETS[n].spec, Spec)]  # volumes have no corruptions: "-"
    assert {rows["occlusion"][i] for i in frames} == {rows["drop"][i] for i in frames} == {"none"}


def test_the_card_describes_the_corrupted_config_and_regenerates_it(mnist_dir, tmp_path):
    from moving_mnist_hub import card

    builder = moving_mnist.MovingMNIST(config_name="denoise", data_dir=str(mnist_dir), cache_dir=str(tmp_path),
                                       num_train=6, num_validation=2, num_test=3, drop=DROP)
    builder.download_and_prepare()
    info = datasets.DatasetInfo(features=builder.info.features, splits=builder.info.splits)
    record = card.ConfigRecord("denoise", builder.config.description, builder.config.spec, info, "1.0.0",
                               builder.hash, "abc123", "https://github.com/moving-mnist/moving-mnist")
    body = card.render(card.card_data([record]), "alice/mm").split("\n---\n", 1)[1]
    for needle in (
        "| `clean_input_frames` | (T_in, H, W) gray, (T_in, 3, H, W) RGB | uint8 |", "| `dropped` | (T_in,) | bool |",
        "`clean_input_frames` (10, 64, 64)", "`dropped` (10,)",
        "| `noise` | salt_pepper |", "| `noise.probability` | 0.5 |", "| `drop.probability` | 0.3 |",
        "--set occlusion=none --set noise=salt_pepper --set noise.probability=0.5 --set drop=frames "
        "--set drop.probability=0.3 --set annotations=none",
    ):
        assert needle in body, needle
    assert "`occlusion_boxes`" not in body.split("## Configurations")[0]  # not a field of this config
