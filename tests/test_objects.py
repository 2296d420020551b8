"""Objects that come and go: variable counts with padding, late appearance, entering and leaving,
and the float centres and velocities. Frames are checked against an independent re-rendering that
pastes each shown sprite, clipped to the canvas, with plain numpy slicing."""

from dataclasses import replace

import numpy as np
import pytest

from generator import FIELDS, Pool, Spec, fields_of, generate
from generator.presets import CLASSIC

SMALL = replace(CLASSIC, num_train=300, num_validation=0, num_test=40)


def _paste(canvas, sprite, row, col, how):
    """Combine `sprite` into `canvas` with its top-left corner at (row, col), clipped to the canvas."""
    h, w = sprite.shape[-2:]
    top, left = max(row, 0), max(col, 0)
    bottom, right = min(row + h, canvas.shape[-2]), min(col + w, canvas.shape[-1])
    if top >= bottom or left >= right:
        return
    part = sprite[..., top - row : bottom - row, left - col : right - col]
    region = canvas[..., top:bottom, left:right]
    if how == "max":
        np.maximum(region, part, out=region)
    else:  # an opaque sprite over anything is the sprite
        region[...] = part


def _re_render(images, truth, shown, size, how="max"):
    """The frames, pasting image `source_indices[n, k]` at `positions[n, t, k]` where shown, object by object."""
    n, t, k = shown.shape
    frames = np.zeros((n, t, *images.shape[1:-2], size, size), np.uint8)
    for i in range(n):
        for f in range(t):
            for j in range(k):
                if shown[i, f, j]:
                    row, col = (int(v) for v in truth["positions"][i, f, j])
                    _paste(frames[i, f], images[truth["source_indices"][i, j]], row, col, how)
    return frames


def test_counts_lie_in_the_range_and_padding_holds_the_declared_fills(pools):
    spec = replace(SMALL, num_objects=(1, 3), annotations=("centres", "velocities"))
    seqs = generate(spec, pools, "train", 0, 300)
    counts = seqs.truth["num_objects"]
    assert counts.shape == (300,) and set(counts.tolist()) == {1, 2, 3}  # each count drawn, none outside
    present = np.arange(3) < counts[:, None]
    fills = {f.name: f for f in FIELDS}
    for name in ("labels", "source_indices", "positions", "centres", "velocities"):
        value = seqs.truth[name]
        axis = fills[name].objects
        padding = np.moveaxis(value, 1 + axis, 1)[~present]
        assert padding.size and np.array_equal(padding, np.full_like(padding, fills[name].fill), equal_nan=True), name
        real = np.moveaxis(value, 1 + axis, 1)[present]
        assert not np.isin(real, [fills[name].fill]).any() and not np.isnan(real.astype(float)).any(), name
    assert seqs.truth["labels"].shape == (300, 3)
    assert np.array_equal(seqs.frames, _re_render(pools["mnist"]["train"].images, seqs.truth,
                                                  np.broadcast_to(present[:, None], (300, 20, 3)), 64))


def test_a_count_range_is_the_same_whatever_range_of_sequences_is_asked_for(pools):
    spec = replace(SMALL, num_objects=(2, 4), num_train=2100)
    whole = generate(spec, pools, "train", 1000, 1100)
    parts = [generate(spec, pools, "train", a, b) for a, b in ((1000, 1024), (1024, 1050), (1050, 1100))]
    assert np.array_equal(whole.frames, np.concatenate([p.frames for p in parts]))
    for name, value in whole.truth.items():
        assert np.array_equal(value, np.concatenate([p.truth[name] for p in parts])), name


def test_late_objects_are_hidden_until_they_appear(pools):
    spec = replace(SMALL, num_objects=3, motion={"name": "classic", "appear": 0.7})
    assert "visible" in [f.name for f in fields_of(spec)]
    seqs = generate(spec, pools, "train", 0, 200)
    visible = seqs.truth["visible"]
    first = visible.argmax(axis=1)  # the first frame each object shows in
    late = first > 0
    assert 0.5 < late.mean() < 0.8  # about 70% draw a late start, of which 1 in 20 is frame 0 again
    frames = np.arange(20)[None, :, None]
    assert np.array_equal(visible, frames >= first[:, None, :])  # once shown, shown to the end (bounce keeps it in)
    assert np.array_equal(seqs.frames, _re_render(pools["mnist"]["train"].images, seqs.truth, visible, 64))


def test_passing_objects_enter_and_leave_and_are_clipped_to_the_canvas(pools):
    spec = replace(SMALL, motion={"name": "classic", "edges": "pass", "step_length": 0.15},
                   annotations=("centres", "velocities"))
    seqs = generate(spec, pools, "train", 0, 300)
    positions, visible = seqs.truth["positions"], seqs.truth["visible"]
    assert positions.min() < -28 and positions.max() > 64  # some start or end wholly outside
    inside = ((positions + 28 > 0) & (positions < 64)).all(axis=-1)
    assert np.array_equal(visible, inside) and 0.1 < visible.mean() < 0.9
    assert np.array_equal(seqs.frames, _re_render(pools["mnist"]["train"].images, seqs.truth, visible, 64))
    # straight lines: the same step every frame, 0.15 of the free space (36 px)
    velocities = seqs.truth["velocities"].astype(np.float64)
    assert np.allclose(np.linalg.norm(velocities, axis=-1), 0.15 * 36, atol=1e-4)
    assert np.array_equal(velocities, np.broadcast_to(velocities[:, :1], velocities.shape))


def test_centres_and_velocities_agree_with_positions_and_each_other(pools):
    spec = replace(SMALL, annotations=("velocities", "centres"))
    assert spec.annotations == ("centres", "velocities")  # one order, whatever order they were asked in
    seqs = generate(spec, pools, "train", 0, 300)
    centres = seqs.truth["centres"].astype(np.float64)
    assert centres.dtype == np.float64 and seqs.truth["centres"].dtype == np.float32
    # the rendered corner is the floor of the float corner: the centre lies within a pixel of it
    offset = centres - 14 - seqs.truth["positions"]
    assert offset.min() >= -1e-4 and offset.max() < 1 + 1e-4
    velocities = seqs.truth["velocities"].astype(np.float64)
    assert np.allclose(velocities[:, 1:], np.diff(centres, axis=1), atol=1e-4)
    # classic: 3.6 px per frame, except where a wall clamped the move
    speed = np.linalg.norm(velocities, axis=-1)
    at_wall = (centres <= 14 + 1e-4) | (centres >= 50 - 1e-4)
    free = ~at_wall.any(axis=-1)
    free[:, 1:] &= ~at_wall[:, :-1].any(axis=-1)
    assert free.mean() > 0.5 and np.allclose(speed[free], 3.6, atol=1e-4)


def test_padding_objects_are_never_pasted_by_opaque_sprites(cifar_images):
    images, labels = cifar_images
    pool = Pool(images, labels)
    spec = replace(SMALL, source="cifar10", compositing="over", num_objects=(1, 3), num_train=100)
    seqs = generate(spec, {"cifar10": {"train": pool, "test": pool}}, "train", 0, 100)
    counts = seqs.truth["num_objects"]
    shown = np.broadcast_to((np.arange(3) < counts[:, None])[:, None], (100, 20, 3))
    assert np.array_equal(seqs.frames, _re_render(images, seqs.truth, shown, 64, how="over"))


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(num_objects=(3, 1)), "num_objects: min=3 must not exceed max=1"),
        (dict(num_objects=(0, 2)), "num_objects=0 must be an integer from 1 to 64"),
        (dict(num_objects=(1, 2, 3)), "num_objects=(1, 2, 3) must be a number or a (min, max) pair"),
        (dict(annotations=("centres", "box")),
         "annotations='box' is not allowed: choose one of centres, velocities, boxes, masks, tracks (did you mean 'boxes'?)"),
        (dict(annotations="centres"),
         "annotations='centres' must be a list of names from centres, velocities, boxes, masks, tracks"),
        (dict(motion={"name": "classic", "edges": "wrap"}), "motion.edges='wrap' is not allowed: choose one of bounce, pass"),
        (dict(motion={"name": "classic", "appear": 1.5}), "motion.appear=1.5 must be a number in [0, 1]"),
        (dict(motion={"name": "classic", "step_length": (0.3, 0.1)}), "motion.step_length: min=0.3 must not exceed max=0.1"),
    ],
)
def test_invalid_counts_annotations_and_motion_options_name_what_is_allowed(change, message):
    with pytest.raises(ValueError) as error:
        Spec.from_dict({**SMALL.as_dict(), **change})
    assert str(error.value) == message


@pytest.mark.parametrize("motion", ["classic", "notebook"])
def test_a_speed_range_draws_one_speed_per_object_after_the_same_start(motion):
    from generator.motion import MOTIONS

    fixed = MOTIONS[motion](step_length=1.0).start(np.random.default_rng(4), (2000, 3), 20)
    ranged = MOTIONS[motion](step_length=(0.05, 0.2)).start(np.random.default_rng(4), (2000, 3), 20)
    assert np.array_equal(ranged["position"], fixed["position"])  # the speeds are drawn after the start
    speed = np.linalg.norm(ranged["velocity"], axis=-1) / np.linalg.norm(fixed["velocity"], axis=-1)
    assert speed.min() >= 0.05 and speed.max() < 0.2
    assert abs(speed.mean() - 0.125) < 0.005 and abs(speed.std() - 0.15 / 12**0.5) < 0.005  # U[0.05, 0.2)


def test_turned_and_scaled_digits_are_drawn_at_their_box_corners(pools):
    """mmnist_pp's wiring: each real digit, warped by its recorded angle and scale (the warp has its own
    tests against a pure-Python bilinear rule), is pasted at its recorded box corner; padding never."""
    from generator.presets import PRESETS
    from generator.warp import warp

    spec = replace(PRESETS["mmnist_pp"].spec, num_train=60)
    seqs = generate(spec, pools, "train", 0, 60)
    truth, size = seqs.truth, spec.box()[0]
    assert size == 38 and spec.box() == (38, 38)  # 28 px at scale 1.3, an even margin
    present = np.arange(3) < truth["num_objects"][:, None]
    angles = np.where(present[:, None], truth["angles"], 0)  # padding holds NaN: warp something finite
    scales = np.where(present[:, None], truth["scales"], 1)
    images = pools["mnist"]["train"].images[np.where(present, truth["source_indices"], 0)]
    warped = warp(images[:, None, :, None], angles, scales, size)[:, :, :, 0]  # (N, T, K, 38, 38)
    expected = np.zeros_like(seqs.frames)
    for i in range(60):
        for t in range(20):
            for k in range(truth["num_objects"][i]):
                _paste(expected[i, t], warped[i, t, k], *(int(v) for v in truth["positions"][i, t, k]), "max")
    assert np.array_equal(seqs.frames, expected)
    assert truth["positions"][present[:, None].repeat(20, 1)].max() <= 64 - 38  # boxes stay on the canvas
    real = truth["scales"][present[:, None].repeat(20, 1)]
    assert real.min() >= 0.7 - 1e-6 and real.max() <= 1.3 + 1e-6
