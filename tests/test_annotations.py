"""Annotations for detection and tracking: masks, visible and full boxes, visible fractions, track ids.

Everything is recomputed here from the definition, one frame at a time: each shown object's sprite is
pasted alone on a canvas of its own (clipped), the documented ownership rule picks each pixel's owner,
and boxes come from `np.nonzero` of the owned pixels.
"""

from dataclasses import replace

import numpy as np
import pytest

from generator import MOTIONS, Pool, generate
from generator.presets import CLASSIC, PRESETS

ALL = ("centres", "velocities", "boxes", "masks", "tracks")
SMALL = replace(CLASSIC, num_train=60, num_validation=0, num_test=20, annotations=ALL)


def _layer(sprite, row: int, col: int, size: int) -> np.ndarray:
    """`sprite (h, w)` alone on a `size x size` canvas, its corner at (row, col), clipped."""
    canvas = np.zeros((size, size), np.int64)
    h, w = sprite.shape
    top, left, bottom, right = max(row, 0), max(col, 0), min(row + h, size), min(col + w, size)
    if top < bottom and left < right:
        canvas[top:bottom, left:right] = sprite[top - row : bottom - row, left - col : right - col]
    return canvas


def _box(pixels) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(pixels)
    return (0, 0, 0, 0) if rows.size == 0 else (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)


def _expected(sprites, positions, shown, size, compositing, opaque=False):
    """One frame's annotations from the definition.

    sprites: per object the (h, w) value as drawn (channels' maximum); positions (K, 2); shown (K,).
    Returns masks (size, size), visible boxes (K, 4), full boxes (K, 4), visible fractions (K,).
    """
    k = len(sprites)
    values = np.zeros((k, size, size), np.int64)
    inks = np.zeros((k, size, size), bool)
    full = np.zeros((k, 4), np.int64)
    totals = np.zeros(k)
    for j in range(k):
        if not shown[j]:
            continue
        ink = np.ones(sprites[j].shape, bool) if opaque else sprites[j] > 0
        row, col = (int(v) for v in positions[j])
        values[j] = _layer(sprites[j], row, col, size)
        inks[j] = _layer(ink, row, col, size) > 0
        totals[j] = ink.sum()
        x0, y0, x1, y1 = _box(ink)  # the whole sprite's ink box, then cut to the canvas
        box = np.clip([col + x0, row + y0, col + x1, row + y1], 0, size)
        full[j] = box if ink.any() and box[2] > box[0] and box[3] > box[1] else 0
    owners = np.zeros((size, size), np.int64)  # 0: nobody; j + 1: object j
    best = np.full((size, size), -1)
    for j in range(k):  # in drawing order: a later claim replaces an earlier one
        if compositing == "max":
            won = inks[j] & (values[j] >= best)
            best[won] = values[j][won]
        else:  # over: the topmost with alpha; sum: the mask shows the last drawn
            won = inks[j]
        owners[won] = j + 1
    seen = inks if compositing == "sum" else owners == np.arange(1, k + 1)[:, None, None]
    visible = np.array([_box(seen[j]) for j in range(k)])
    fraction = np.where(totals > 0, seen.sum(axis=(1, 2)) / np.maximum(totals, 1), 0)
    return owners, visible, full, fraction


def _check(seqs, sprite_of, size, compositing, opaque=False):
    """Every frame's annotations against `_expected`; `sprite_of(i, t, j)` is the value drawn."""
    truth = seqs.truth
    n, t, k = truth["visible_boxes"].shape[:3]
    present = truth["track_ids"][:, 0] >= 0
    # objects out of sight (not yet appeared, or off the canvas) draw nothing
    shown = np.broadcast_to(present[:, None], (n, t, k)) & truth.get("visible", True)
    for i in range(n):
        for f in range(t):
            real = np.flatnonzero(present[i])
            sprites = [sprite_of(i, f, j) for j in real]
            owners, visible, full, fraction = _expected(sprites, truth["positions"][i, f, real], shown[i, f, real],
                                                        size, compositing, opaque)
            assert np.array_equal(truth["masks"][i, f], owners), (i, f)
            assert np.array_equal(truth["visible_boxes"][i, f, real], visible), (i, f)
            assert np.array_equal(truth["full_boxes"][i, f, real], full), (i, f)
            assert np.array_equal(truth["visible_fraction"][i, f, real], fraction.astype(np.float32)), (i, f)


def _mnist_sprites(images, truth):
    return lambda i, f, j: images[truth["source_indices"][i, j]]


@pytest.mark.parametrize("compositing", ["max", "sum", "over"])
def test_annotations_follow_each_compositings_ownership_rule(pools, compositing):
    spec = replace(SMALL, num_objects=4, compositing=compositing)  # 4 digits on 64 px overlap often
    seqs = generate(spec, pools, "test", 0, 20)
    _check(seqs, _mnist_sprites(pools["mnist"]["test"].images, seqs.truth), 64, compositing)
    fraction = seqs.truth["visible_fraction"]
    if compositing == "sum":
        assert (fraction == 1).all()  # confined and shared: every ink pixel is seen
    else:
        assert (fraction < 1).mean() > 0.2  # the rule was exercised: many objects are partly hidden


def test_annotations_with_padding_late_objects_and_objects_leaving(pools):
    spec = replace(SMALL, num_objects=(1, 4), compositing="over",
                   motion={"name": "classic", "edges": "pass", "appear": 0.5, "step_length": 0.3})
    seqs = generate(spec, pools, "train", 0, 60)
    _check(seqs, _mnist_sprites(pools["mnist"]["train"].images, seqs.truth), 64, "over")
    truth = seqs.truth
    real = truth["track_ids"] >= 0
    hidden = real & ~truth["visible"]
    assert hidden.any() and (truth["visible_fraction"][hidden] == 0).all()
    assert (truth["visible_boxes"][hidden] == 0).all() and (truth["full_boxes"][hidden] == 0).all()
    cut = real & truth["visible"] & (truth["visible_fraction"] < 1)
    assert cut.any()
    # padding objects hold the declared fills
    assert (truth["visible_boxes"][~real] == -1).all() and np.isnan(truth["visible_fraction"][~real]).all()


def test_annotations_of_turning_and_growing_sprites(pools):
    spec = replace(PRESETS["mmnist_pp"].spec, num_train=30, annotations=ALL, compositing="max")
    seqs = generate(spec, pools, "train", 0, 30)
    truth = seqs.truth
    images = pools["mnist"]["train"].images
    present = truth["track_ids"][:, 0] >= 0
    # the sprites as drawn: each digit turned and scaled by the recorded angle and scale, in its box
    turned = spec.transform.apply(images[np.maximum(truth["source_indices"], 0)][:, None, :, None],
                                  {"angles": np.nan_to_num(truth["angles"]), "scales": np.nan_to_num(truth["scales"], nan=1)})
    assert present.sum() > 30
    _check(seqs, lambda i, f, j: turned[i, f, j, 0], 64, "max")


def test_annotations_of_opaque_sprites_cover_their_whole_rectangle(cifar_images):
    images, labels = cifar_images
    pool = Pool(images, labels)
    spec = replace(SMALL, source="cifar10", compositing="over", num_objects=3, num_train=20)
    seqs = generate(spec, {"cifar10": {"train": pool, "test": pool}}, "train", 0, 20)
    _check(seqs, lambda i, f, j: images[seqs.truth["source_indices"][i, j]].max(axis=0), 64, "over", opaque=True)
    full = seqs.truth["full_boxes"]
    assert ((full[..., 2] - full[..., 0]) == 32).all() and ((full[..., 3] - full[..., 1]) == 32).all()


@pytest.mark.parametrize("motion", list(MOTIONS))
def test_annotations_agree_with_the_masks_and_frames_for_every_motion(pools, motion):
    spec = replace(SMALL, num_objects=3, compositing="over").replace(motion=motion)
    seqs = generate(spec, pools, "train", 0, 16)
    truth, k = seqs.truth, 3
    masks, visible, full = truth["masks"], truth["visible_boxes"], truth["full_boxes"]
    owned = masks[:, :, None] == np.arange(1, k + 1)[:, None, None]  # (N, T, K, H, W)
    assert np.array_equal((seqs.frames > 0), masks > 0)  # over, ink on black: exactly the drawn pixels are owned
    for i, f, j in np.ndindex(16, spec.num_frames, k):
        assert tuple(visible[i, f, j]) == _box(owned[i, f, j])
    area = owned.sum(axis=(-2, -1))
    ink = (pools["mnist"]["train"].images[truth["source_indices"]] > 0).sum(axis=(-2, -1))  # (N, K)
    assert np.array_equal(truth["visible_fraction"], (area / ink[:, None]).astype(np.float32))
    # amodal boxes contain visible ones
    some = area > 0
    assert (full[..., :2][some] <= visible[..., :2][some]).all() and (full[..., 2:][some] >= visible[..., 2:][some]).all()
    # track ids: constant over frames, unique in the split
    ids = truth["track_ids"]
    assert (ids == ids[:, :1]).all() and np.array_equal(ids[:, 0].ravel(), np.arange(16 * k))


def test_track_ids_are_unique_across_ranges_and_do_not_depend_on_the_range(pools):
    spec = replace(SMALL, num_train=2100, num_objects=2)
    whole = generate(spec, pools, "train", 1020, 1030)
    part = generate(spec, pools, "train", 1025, 1030)
    for name in ("track_ids", "masks", "visible_boxes", "full_boxes", "visible_fraction"):
        assert np.array_equal(whole.truth[name][5:], part.truth[name]), name
    assert np.array_equal(part.truth["track_ids"][:, 0], [[2 * i, 2 * i + 1] for i in range(1025, 1030)])


def test_objects_absent_from_every_sequence_of_a_range(pools):
    spec = replace(SMALL, num_objects=(1, 3))
    whole = generate(spec, pools, "train", 0, 60)
    single = int(np.flatnonzero(whole.truth["num_objects"] == 1)[0])
    alone = generate(spec, pools, "train", single, single + 1)  # objects 1 and 2 drawn nowhere
    for name in ("masks", "visible_boxes", "full_boxes", "visible_fraction"):
        assert np.array_equal(alone.truth[name], whole.truth[name][single : single + 1], equal_nan=True), name


def test_annotations_off_change_nothing(pools):
    plain = generate(replace(SMALL, annotations=()), pools, "train", 0, 30)
    annotated = generate(SMALL, pools, "train", 0, 30)
    assert np.array_equal(plain.frames, annotated.frames)
    assert set(annotated.truth) - set(plain.truth) == {
        "centres", "velocities", "visible_boxes", "full_boxes", "visible_fraction", "masks", "track_ids"}
    for name, value in plain.truth.items():
        assert np.array_equal(value, annotated.truth[name]), name
