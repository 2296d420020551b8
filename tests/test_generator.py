"""`generate`: positions from keyed start states, source pools, sampling and determinism."""

import hashlib
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

import moving_mnist
from generator import BLOCK_SIZE, SPLITS, Sequences, Spec, generate
from generator import sequences
from generator.sequences import pool_of
from helpers import reference_path

CLASSIC = moving_mnist.PRESETS["classic"].spec
NOTEBOOK = moving_mnist.PRESETS["notebook"].spec
# small frames, so that thousands of sequences stay cheap
TINY = replace(CLASSIC, image_size=32, num_frames=4, num_input_frames=2)


def _draw(spec, pool, split, start, stop):
    """The engine's keyed draws for sequences start..stop: position, velocity (N, K, 2) and source_indices (N, K)."""
    draws = sequences._draw(spec, pool, None, split, start, stop)
    return draws["motion"]["position"], draws["motion"]["velocity"], draws["source"]["source_indices"]


# --- positions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, split, start, stop",
    [
        (replace(CLASSIC, num_train=50), "train", 0, 50),
        (replace(CLASSIC, num_test=1100, seed=9), "test", 1015, 1035),  # across a random block
        (replace(NOTEBOOK, num_train=30), "train", 0, 30),
        (replace(CLASSIC, num_objects=3, image_size=50, motion={"name": "classic", "step_length": 0.27},
                 num_validation=25), "validation", 0, 25),
    ],
    ids=["classic", "classic-block-boundary", "notebook", "other-size-and-step"],
)
def test_positions_follow_the_original_loop_from_the_drawn_start(mnist_pools, spec, split, start, stop):
    seqs = generate(spec, {"mnist": mnist_pools}, split, start, stop)
    position, velocity, _ = _draw(spec, mnist_pools[pool_of(split)], split, start, stop)
    free = spec.image_size - 28
    positions = seqs.truth["positions"]
    assert positions.dtype == np.int16
    assert positions.shape == (stop - start, spec.num_frames, spec.num_objects, 2)
    for i in range(stop - start):
        for k in range(spec.num_objects):
            rows, cols = reference_path(*position[i, k], *velocity[i, k], spec.num_frames, free)
            assert positions[i, :, k, 0].tolist() == rows, (i, k)
            assert positions[i, :, k, 1].tolist() == cols, (i, k)


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("motion", ["classic", "notebook"])
def test_start_states_and_sprites_come_from_the_documented_keys(mnist_pools, motion, split):
    # README: sequence i's start state and sprite choice come from
    # default_rng([seed, split, i // 1024, stream]), stream 0 motion, stream 1 sprites.
    spec = replace(CLASSIC, motion=motion, num_objects=2, seed=12345, num_train=3000, num_validation=3000, num_test=3000)
    position, velocity, sources = _draw(spec, mnist_pools["test"], split, 2040, 2060)  # 10000 images
    for i in range(2040, 2060):
        key = [12345, SPLITS.index(split), i // 1024]
        draws = np.random.default_rng(key + [0]).random((1024, 2, 3 if motion == "classic" else 4))[i % 1024]
        chosen = np.random.default_rng(key + [1]).integers(0, 10000, (1024, 2))[i % 1024]
        assert np.array_equal(position[i - 2040], draws[:, :2])
        assert np.array_equal(sources[i - 2040], chosen)
        if motion == "classic":
            theta = draws[:, 2] * 2 * np.pi
            expected = 0.1 * np.stack([np.cos(theta), np.sin(theta)], axis=-1)
        else:
            expected = 0.1 * draws[:, 2:]
        np.testing.assert_allclose(velocity[i - 2040], expected, rtol=0, atol=1e-15)


def test_notebook_velocities_start_towards_plus_x_and_plus_y(mnist_pools):
    spec = replace(NOTEBOOK, num_train=5000)
    _, velocity, _ = _draw(spec, mnist_pools["train"], "train", 0, 5000)
    assert (velocity >= 0).all()
    assert (velocity < 0.5).all()
    assert velocity.max() > 0.49  # U[0, 1) scaled by step_length 0.5


@pytest.mark.parametrize("motion", ["classic", "notebook"])
@pytest.mark.parametrize("image_size, step_length", [(64, 0.1), (64, 1.0), (28, 0.5), (45, 0.77), (128, 0.03)])
def test_generated_positions_stay_on_the_canvas(mnist_pools, motion, image_size, step_length):
    spec = replace(CLASSIC, motion={"name": motion, "step_length": step_length}, image_size=image_size,
                   num_frames=30, num_objects=3, num_train=200)
    positions = generate(spec, {"mnist": mnist_pools}, "train", 0, 200).truth["positions"]
    assert positions.min() >= 0
    assert positions.max() <= image_size - 28


def test_classic_moves_step_length_times_36_px_per_frame_away_from_walls(mnist_pools):
    # Compared with the angle drawn from the documented key, not with the code's own velocity.
    spec = replace(CLASSIC, num_train=300, seed=4)
    seqs = generate(spec, {"mnist": mnist_pools}, "train", 0, 300)
    theta = np.random.default_rng([4, 0, 0, 0]).random((1024, 2, 3))[:300, :, 2] * 2 * np.pi
    speed_px = 0.1 * 36 * np.stack([np.abs(np.sin(theta)), np.abs(np.cos(theta))], axis=-1)  # (row, col)
    pos = seqs.truth["positions"].astype(int)  # (N, T, K, 2) as (row, col)
    moved = np.abs(pos[:, 1:] - pos[:, :-1])
    # a clamp puts a sprite exactly on 0 or 36: strictly inside, no wall was hit on this step
    inside = ((pos[:, 1:] > 0) & (pos[:, 1:] < 36)).all(axis=-1)
    assert inside.mean() > 0.5
    errors = np.abs(moved - speed_px[:, None])[inside]
    assert (errors < 1).all()


# --- source pools ------------------------------------------------------------------------------


def test_pool_of_maps_train_to_train_images_and_the_others_to_test_images():
    assert pool_of("train") == "train"
    assert pool_of("validation") == "test"
    assert pool_of("test") == "test"


def test_pool_of_rejects_an_unknown_split():
    with pytest.raises(ValueError, match="split='valid'"):
        pool_of("valid")


def test_each_split_draws_only_from_its_own_pool(mnist_pools):
    assert len(mnist_pools["train"].images) == 60000 and len(mnist_pools["test"].images) == 10000
    spec = replace(CLASSIC, image_size=28, num_frames=2, num_input_frames=1,
                   num_train=2000, num_validation=2000, num_test=2000)
    indices = {}
    for split in SPLITS:
        source_indices = generate(spec, {"mnist": mnist_pools}, split, 0, 2000).truth["source_indices"]
        assert source_indices.min() >= 0
        indices[split] = source_indices
    assert indices["train"].max() < 60000
    assert indices["train"].max() > 10000  # the whole train pool is used, not just its first 10000
    assert indices["validation"].max() < 10000
    assert indices["test"].max() < 10000


def test_random_sampling_is_uniform_with_replacement_over_the_pool(mnist_pools):
    spec = replace(TINY, num_test=5000)
    sources = _draw(spec, mnist_pools["test"], "test", 0, 5000)[2]  # 10000 draws from 10000 images
    counts = np.bincount(sources.ravel(), minlength=10000)
    assert counts.max() >= 2  # with replacement: some image drawn twice
    assert 0.55 < (counts > 0).mean() < 0.71  # expected 1 - 1/e = 0.632 of the images seen


def test_sequential_sequence_i_uses_images_i_times_k_plus_k_modulo_the_pool(mnist_pools):
    spec = replace(TINY, num_objects=3, sampling="sequential", num_test=3400)
    truth = generate(spec, {"mnist": mnist_pools}, "test", 3330, 3340).truth
    i = np.arange(3330, 3340)[:, None]
    assert np.array_equal(truth["source_indices"], (i * 3 + np.arange(3)) % 10000)
    # hand-worked: 3333 * 3 = 9999, then wraps around the 10000 test images
    assert truth["source_indices"][3].tolist() == [9999, 0, 1]
    assert truth["source_indices"][4].tolist() == [2, 3, 4]
    assert np.array_equal(truth["labels"], mnist_pools["test"].labels[truth["source_indices"]])


def test_sequential_sampling_across_a_block_boundary(mnist_pools):
    spec = replace(TINY, num_objects=2, sampling="sequential", num_train=1100)
    source_indices = generate(spec, {"mnist": mnist_pools}, "train", 1020, 1030).truth["source_indices"]
    assert source_indices.tolist() == [[2 * i, 2 * i + 1] for i in range(1020, 1030)]


def test_notebook_preset_uses_each_digit_exactly_once(mnist_pools):
    assert (NOTEBOOK.num_train, NOTEBOOK.num_validation) == (60000, 10000)
    train = _draw(NOTEBOOK, mnist_pools["train"], "train", 0, 60000)[2]
    validation = _draw(NOTEBOOK, mnist_pools["test"], "validation", 0, 10000)[2]
    assert np.array_equal(train[:, 0], np.arange(60000))
    assert np.array_equal(validation[:, 0], np.arange(10000))
    seqs = generate(NOTEBOOK, {"mnist": mnist_pools}, "train", 59995, 60000)
    assert seqs.truth["source_indices"][:, 0].tolist() == [59995, 59996, 59997, 59998, 59999]
    assert seqs.frames.shape == (5, 40, 64, 64)


# --- ranges ------------------------------------------------------------------------------------


def test_indices_are_the_positions_in_the_split(mnist_pools):
    seqs = generate(replace(TINY, num_train=100), {"mnist": mnist_pools}, "train", 17, 42)
    assert seqs.indices.dtype == np.int64
    assert seqs.indices.tolist() == list(range(17, 42))


def test_an_empty_range_gives_empty_arrays_of_the_right_shapes(mnist_pools):
    seqs = generate(replace(TINY, num_train=100), {"mnist": mnist_pools}, "train", 7, 7)
    assert seqs.frames.shape == (0, 4, 32, 32)
    assert sorted(seqs.truth) == ["labels", "positions", "source_indices"]
    assert seqs.truth["labels"].shape == (0, 2)
    assert seqs.truth["source_indices"].shape == (0, 2)
    assert seqs.truth["positions"].shape == (0, 4, 2, 2)
    assert seqs.indices.shape == (0,)


@pytest.mark.parametrize("motion", ["classic", {"name": "classic", "edges": "pass"}])  # on the canvas, or past it
def test_input_and_output_frames_are_separate_buffers_of_the_same_sequences(mnist_pools, motion):
    spec = replace(TINY, num_train=40).replace(motion=motion, num_frames=6, num_input_frames=4)
    seqs = generate(spec, {"mnist": mnist_pools}, "train", 0, 40)
    assert seqs.input_frames.shape == (40, 4, 32, 32) and seqs.output_frames.shape == (40, 2, 32, 32)
    for frames in (seqs.input_frames, seqs.output_frames):
        assert frames.dtype == np.uint8 and frames.flags.c_contiguous
    assert not np.shares_memory(seqs.input_frames, seqs.output_frames)
    # where the sequences are cut into inputs and targets changes none of their frames
    for num_input_frames in (1, 5):
        cut = generate(spec.replace(num_input_frames=num_input_frames), {"mnist": mnist_pools}, "train", 0, 40)
        assert cut.input_frames.shape[1] == num_input_frames
        assert np.array_equal(np.concatenate([cut.input_frames, cut.output_frames], axis=1), seqs.frames)


@pytest.mark.parametrize("split, start, stop", [("train", 0, 101), ("train", -1, 5), ("train", 5, 4), ("validation", 0, 1)])
def test_ranges_outside_the_split_are_rejected(mnist_pools, split, start, stop):
    spec = replace(TINY, num_train=100, num_validation=0)
    with pytest.raises(ValueError, match=rf"range \[{start}, {stop}\) is outside the {split} split"):
        generate(spec, {"mnist": mnist_pools}, split, start, stop)


# --- determinism -------------------------------------------------------------------------------

TRUTH = ("labels", "source_indices", "positions")


def _arrays(seqs):
    """input and output frames, every field of the ground truth and indices, by name."""
    assert sorted(seqs.truth) == sorted(TRUTH)
    return {"input_frames": seqs.input_frames, "output_frames": seqs.output_frames, **seqs.truth,
            "indices": seqs.indices}


def _assert_identical(a, b):
    x, y = _arrays(a), _arrays(b)
    for name in x:
        assert x[name].dtype == y[name].dtype and x[name].shape == y[name].shape, name
        assert x[name].tobytes() == y[name].tobytes(), name


def test_the_same_seed_gives_identical_bytes(mnist_pools):
    spec = replace(CLASSIC, num_train=40, seed=77)
    first = generate(spec, {"mnist": mnist_pools}, "train", 0, 40)
    sequences._draw_block.cache_clear()
    second = generate(spec, {"mnist": mnist_pools}, "train", 0, 40)
    third = generate(spec, {"mnist": mnist_pools}, "train", 0, 40)  # from the block cache
    _assert_identical(first, second)
    _assert_identical(first, third)


def test_sequence_i_is_the_same_whatever_range_or_batch_asked_for_it(mnist_pools):
    spec = replace(TINY, num_train=3000, seed=2)
    whole = generate(spec, {"mnist": mnist_pools}, "train", 0, 3000)
    pieces = []
    for start, stop in [(0, 1), (1, 1025), (1025, 2999), (2999, 3000)]:  # across blocks at 1024, 2048
        sequences._draw_block.cache_clear()
        pieces.append(generate(spec, {"mnist": mnist_pools}, "train", start, stop))
    joined = Sequences(
        np.concatenate([p.input_frames for p in pieces]),
        np.concatenate([p.output_frames for p in pieces]),
        {name: np.concatenate([p.truth[name] for p in pieces]) for name in TRUTH},
        np.concatenate([p.indices for p in pieces]),
    )
    _assert_identical(whole, joined)
    single, whole = _arrays(generate(spec, {"mnist": mnist_pools}, "train", 2047, 2049)), _arrays(whole)
    for name in single:
        assert np.array_equal(single[name], whole[name][2047:2049]), name


def test_the_split_size_does_not_change_earlier_sequences(mnist_pools):
    small = generate(replace(TINY, num_train=50), {"mnist": mnist_pools}, "train", 0, 50)
    large = generate(replace(TINY, num_train=5000), {"mnist": mnist_pools}, "train", 0, 50)
    _assert_identical(small, large)


def test_another_seed_gives_different_bytes(mnist_pools):
    a = generate(replace(CLASSIC, num_train=20, seed=0), {"mnist": mnist_pools}, "train", 0, 20)
    b = generate(replace(CLASSIC, num_train=20, seed=1), {"mnist": mnist_pools}, "train", 0, 20)
    assert a.frames.tobytes() != b.frames.tobytes()
    assert not np.array_equal(a.truth["positions"], b.truth["positions"])
    assert not np.array_equal(a.truth["source_indices"], b.truth["source_indices"])


def test_validation_and_test_differ_although_they_share_the_test_pool(mnist_pools):
    spec = replace(CLASSIC, num_validation=20, num_test=20)
    validation = generate(spec, {"mnist": mnist_pools}, "validation", 0, 20)
    test = generate(spec, {"mnist": mnist_pools}, "test", 0, 20)
    assert validation.frames.tobytes() != test.frames.tobytes()
    assert not np.array_equal(validation.truth["positions"], test.truth["positions"])
    assert not np.array_equal(validation.truth["source_indices"], test.truth["source_indices"])


def test_train_and_test_trajectories_differ(mnist_pools):
    spec = replace(CLASSIC, num_train=20, num_test=20)
    train = _draw(spec, mnist_pools["test"], "train", 0, 20)  # the same pool: only the split differs
    test = _draw(spec, mnist_pools["test"], "test", 0, 20)
    assert not np.array_equal(train[0], test[0])


_DIGEST_SCRIPT = """
import hashlib, sys
from generator import SOURCE_FILES, Spec, load_pools, generate
folder = sys.argv[1]
files = {r: f"{folder}/{f.name}" for r, f in SOURCE_FILES["mnist"].files.items()}
pools = {"mnist": load_pools(files)}
spec = Spec(source="mnist", num_objects=2, num_frames=20, num_input_frames=10, image_size=64,
            motion={"name": "classic", "step_length": 0.1}, compositing="max", sampling="random", background="none",
            num_train=10000, num_validation=1000, num_test=30, seed=11)
seqs = generate(spec, pools, "test", 0, 30)
truth = seqs.truth
data = seqs.frames.tobytes() + truth["positions"].tobytes() + truth["source_indices"].tobytes()
print(hashlib.sha256(data).hexdigest())
"""


def test_another_process_gives_the_same_bytes(mnist_pools, mnist_dir):
    spec = replace(CLASSIC, num_test=30, seed=11)
    seqs = generate(spec, {"mnist": mnist_pools}, "test", 0, 30)
    truth = seqs.truth
    here = hashlib.sha256(seqs.frames.tobytes() + truth["positions"].tobytes() + truth["source_indices"].tobytes())
    here = here.hexdigest()
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    there = subprocess.run([sys.executable, "-c", _DIGEST_SCRIPT, str(mnist_dir)], env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert there == here


def test_block_size_is_1024():
    # part of the definition of the data (README: default_rng([seed, split, i // 1024, stream]))
    assert BLOCK_SIZE == 1024


# --- golden hashes of several configurations ---------------------------------------------------
#
# A REGRESSION LOCK (correctness rests on the reference tests above and in test_motion/test_render):
# recorded with the code of commit 8300326, before the engine was touched for reliability, and
# equal to what the current code gives. Every train range crosses a random block (1018..1030).
# GOLDEN_BASE keeps version 1.0's flat spelling (step_length beside motion, no background) on
# purpose: `Spec.from_dict` must still read it, to the same bytes.

GOLDEN_BASE = dict(
    source="mnist", num_objects=2, num_frames=20, num_input_frames=10, image_size=64, motion="classic",
    step_length=0.1, compositing="max", sampling="random", num_train=1030, num_validation=6, num_test=6, seed=0,
)
GOLDEN_CONFIGS = {
    "notebook": (dict(num_objects=1, num_frames=40, num_input_frames=20, motion="notebook", step_length=0.5,
                      sampling="sequential"), "7269e175be6fc16b863cba9b2318469d269cc9b198684115d41afd541fda6339"),
    "fashion_sum_3_objects_48px": (dict(source="fashion_mnist", num_objects=3, num_frames=7, num_input_frames=3,
                                        image_size=48, compositing="sum", seed=9),
                                   "41b66c3237483b0173b3a1d4b763a3880375d9252ae8d53a4ea213bead58c941"),
    "classic_seed_123456789": (dict(seed=123456789), "0864c6a8c027e4f857aecf641579482ead6e0301279ba3e3d52dc00e687cae5e"),
    "sequential_sum_no_free_space": (dict(image_size=28, sampling="sequential", compositing="sum", num_frames=5,
                                          num_input_frames=2, seed=3),
                                     "0e8469d7e0fa5198503c5a3b5051ccd4e2b2c2015d3f0753d65b88afb04c5aa3"),
    "big_seed_step_1_four_objects_100px": (dict(seed=2**100 + 7, step_length=1.0, num_objects=4, image_size=100),
                                           "a38292199ca701b7b406b9f84590a79dcf2aa37af61f16c5f5b5f1962e342bc7"),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CONFIGS))
def test_golden_hashes_of_several_configurations(name, pools):
    change, expected = GOLDEN_CONFIGS[name]
    spec = Spec.from_dict({**GOLDEN_BASE, **change})
    digest = hashlib.sha256()
    for split, (lo, hi) in {"train": (1018, 1030), "validation": (0, 6), "test": (0, 6)}.items():
        seqs = generate(spec, pools, split, lo, hi)
        truth = seqs.truth
        for array, dtype in ((seqs.frames, "<u1"), (truth["positions"], "<i2"), (truth["source_indices"], "<i8"),
                             (truth["labels"], "<u1")):
            digest.update(np.ascontiguousarray(array, dtype).tobytes())
    assert digest.hexdigest() == expected
