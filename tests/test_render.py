"""Compositing: `render` and the frames of `generate` against a plain per-sprite slicing loop."""

from dataclasses import replace

import numpy as np
import pytest

import moving_mnist
from generator import SOURCES, generate, load_pools, render
from generator.sequences import pool_of

CLASSIC = moving_mnist.PRESETS["classic"].spec
NOTEBOOK = moving_mnist.PRESETS["notebook"].spec


@pytest.fixture(scope="module")
def fashion_pools(fashion_dir):
    return load_pools({role: str(fashion_dir / f.name) for role, f in SOURCES["fashion_mnist"].files.items()})


def paint(images, source_indices, positions, image_size, compositing):
    """Frames drawn one sprite at a time with numpy slicing, in int64 (sum not yet clipped)."""
    n, t, k, _ = positions.shape
    s = images.shape[-1]
    canvas = np.zeros((n, t, image_size, image_size), np.int64)
    for i in range(n):
        for f in range(t):
            for j in range(k):
                r, c = (int(v) for v in positions[i, f, j])
                assert 0 <= r <= image_size - s and 0 <= c <= image_size - s
                sprite = images[source_indices[i, j]].astype(np.int64)
                window = canvas[i, f, r : r + s, c : c + s]
                if compositing == "max":
                    np.maximum(window, sprite, out=window)
                else:
                    window += sprite
    return canvas


# --- render on hand-made sprites ---------------------------------------------------------------

A = [[200, 10], [0, 180]]
B = [[100, 250], [5, 0]]


def _render_two_frames(compositing):
    sprites = np.array([[A, B]], np.uint8)  # (N=1, K=2, 2, 2)
    # frame 0: A at (0, 0), B at (1, 1) overlap in pixel (1, 1);
    # frame 1: A in the bottom-right corner (the very end of the buffer), B at (2, 0) beside it.
    offsets = np.array([[[[0, 0], [1, 1]], [[2, 2], [2, 0]]]], np.int16)
    out = np.zeros((1, 2, 4, 4), np.uint8)
    result = render(sprites, offsets, out, compositing)
    assert result is out
    return out


FRAME_1 = [[0, 0, 0, 0], [0, 0, 0, 0], [100, 250, 200, 10], [5, 0, 0, 180]]


def test_render_max_takes_the_pixelwise_maximum():
    out = _render_two_frames("max")
    assert out[0, 0].tolist() == [[200, 10, 0, 0], [0, 180, 250, 0], [0, 5, 0, 0], [0, 0, 0, 0]]
    assert out[0, 1].tolist() == FRAME_1


def test_render_sum_adds_and_clips_at_255():
    out = _render_two_frames("sum")
    # pixel (1, 1): 180 + 100 = 280 -> 255
    assert out[0, 0].tolist() == [[200, 10, 0, 0], [0, 255, 250, 0], [0, 5, 0, 0], [0, 0, 0, 0]]
    assert out[0, 1].tolist() == FRAME_1


def test_render_rejects_an_unknown_compositing():
    with pytest.raises(ValueError, match="compositing='over'"):
        render(np.zeros((1, 1, 2, 2), np.uint8), np.zeros((1, 1, 1, 2), np.int16), np.zeros((1, 1, 4, 4), np.uint8), "over")


# --- generate's frames against the slicing loop ------------------------------------------------


def _check_frames(spec, pools, split, start, stop):
    pool = pools[pool_of(split)]
    seqs = generate(spec, pools, split, start, stop)
    canvas = paint(pool.images, seqs.source_indices, seqs.positions, spec.image_size, spec.compositing)
    expected = np.clip(canvas, 0, 255).astype(np.uint8)
    assert seqs.frames.dtype == np.uint8
    assert seqs.frames.shape == expected.shape
    assert seqs.frames.tobytes() == expected.tobytes()
    return canvas


@pytest.mark.parametrize("compositing", ["max", "sum"])
@pytest.mark.parametrize("split", ["train", "validation", "test"])
def test_classic_frames_are_the_sprites_drawn_at_their_positions(mnist_pools, compositing, split):
    spec = replace(CLASSIC, compositing=compositing, num_train=40, num_validation=40, num_test=40, seed=3)
    canvas = _check_frames(spec, mnist_pools, split, 0, 40)
    assert canvas.max() >= 255  # real digits, not blank sprites


def test_sum_clips_where_overlapping_sprites_exceed_255(mnist_pools):
    # 4 digits in a 40 x 40 canvas overlap most of the time
    spec = replace(CLASSIC, num_objects=4, image_size=40, compositing="sum", num_train=30, seed=1)
    canvas = _check_frames(spec, mnist_pools, "train", 0, 30)
    assert (canvas > 255).sum() > 1000  # the test data really exercises the clipping


def test_max_differs_from_sum_where_sprites_overlap(mnist_pools):
    base = replace(CLASSIC, num_objects=4, image_size=40, num_train=30, seed=1)
    by_max = generate(replace(base, compositing="max"), mnist_pools, "train", 0, 30)
    by_sum = generate(replace(base, compositing="sum"), mnist_pools, "train", 0, 30)
    assert np.array_equal(by_max.positions, by_sum.positions)
    assert np.array_equal(by_max.source_indices, by_sum.source_indices)
    assert (by_sum.frames >= by_max.frames).all()
    assert (by_sum.frames > by_max.frames).any()


def test_notebook_frames_are_one_digit_drawn_at_its_positions(mnist_pools):
    spec = replace(NOTEBOOK, num_train=20, num_validation=20)
    _check_frames(spec, mnist_pools, "train", 0, 20)
    _check_frames(spec, mnist_pools, "validation", 0, 20)


@pytest.mark.parametrize("compositing", ["max", "sum"])
def test_fashion_mnist_frames_are_the_sprites_drawn_at_their_positions(fashion_pools, compositing):
    spec = replace(CLASSIC, source="fashion_mnist", num_objects=3, compositing=compositing, num_train=20, num_test=20)
    canvas = _check_frames(spec, fashion_pools, "train", 0, 20)
    _check_frames(spec, fashion_pools, "test", 0, 20)
    if compositing == "sum":
        assert (canvas > 255).any()


@pytest.mark.parametrize("image_size", [28, 29, 33, 100])
def test_frames_at_other_canvas_sizes(mnist_pools, image_size):
    spec = replace(CLASSIC, image_size=image_size, num_objects=3, compositing="sum", step_length=0.3, num_train=10)
    _check_frames(spec, mnist_pools, "train", 0, 10)


def test_a_28_pixel_canvas_holds_every_sprite_at_the_origin(mnist_pools):
    spec = replace(CLASSIC, image_size=28, num_objects=1, num_train=5)
    seqs = generate(spec, mnist_pools, "train", 0, 5)
    assert (seqs.positions == 0).all()
    for i in range(5):
        assert (seqs.frames[i] == mnist_pools["train"].images[seqs.source_indices[i, 0]]).all()


# --- labels ------------------------------------------------------------------------------------


@pytest.mark.parametrize("split", ["train", "validation", "test"])
def test_labels_are_the_source_labels_of_the_drawn_sprites(mnist_pools, split):
    spec = replace(CLASSIC, num_objects=3, image_size=32, num_frames=3, num_input_frames=1,
                   num_train=500, num_validation=500, num_test=500)
    pool = mnist_pools[pool_of(split)]
    seqs = generate(spec, mnist_pools, split, 0, 500)
    assert seqs.labels.dtype == np.uint8
    assert seqs.labels.shape == (500, 3)
    assert np.array_equal(seqs.labels, pool.labels[seqs.source_indices])
    assert set(seqs.labels.ravel().tolist()) == set(range(10))


def test_fashion_labels_are_the_source_labels(fashion_pools):
    spec = replace(CLASSIC, source="fashion_mnist", image_size=28, num_frames=2, num_input_frames=1, num_train=300)
    seqs = generate(spec, fashion_pools, "train", 0, 300)
    assert np.array_equal(seqs.labels, fashion_pools["train"].labels[seqs.source_indices])
