"""Doodle sprites: `draw` against a per-pixel pure-Python renderer of the documented rule; the sampler's ranges."""

import hashlib
import math

import numpy as np
import pytest

from generator.doodles import BEZIER_SEGMENTS, COLUMNS, KINDS, cos_sin, draw, sample_strokes


# --- an independent renderer: the module docstring's rule, one pixel at a time, in Python floats ---


def reference_cos_sin(angle):
    x = angle - math.pi * float(round(angle / math.pi))
    x2 = x * x
    c = s = 1.0
    for k in range(22, 0, -2):
        c = 1.0 - x2 / (k * (k - 1)) * c
    for k in range(23, 1, -2):
        s = 1.0 - x2 / (k * (k - 1)) * s
    return c, x * s


def segment_distance(px, py, xa, ya, xb, yb):
    dx = xb - xa
    dy = yb - ya
    length = math.sqrt(dx * dx + dy * dy)
    ux, uy = (dx / length, dy / length) if length > 0 else (1.0, 0.0)
    ax = px - xa
    ay = py - ya
    s = ax * ux + ay * uy
    c = ay * ux - ax * uy
    e = s - min(max(s, 0.0), length)
    return math.sqrt(c * c + e * e)


def bezier_points(x0, y0, x1, y1, x2, y2):
    points = []
    for k in range(BEZIER_SEGMENTS + 1):
        t = k / BEZIER_SEGMENTS
        w0, w1, w2 = (1 - t) * (1 - t), (2 * (1 - t)) * t, t * t
        points.append((w0 * x0 + w1 * x1 + w2 * x2, w0 * y0 + w1 * y1 + w2 * y2))
    return points


def ellipse_distance(px, py, x0, y0, x1, y1, co, si):
    ax = px - x0
    ay = py - y0
    u = ax * co + ay * si
    v = ay * co - ax * si
    q = u / x1
    r = v / y1
    k0 = math.sqrt(q * q + r * r)
    q1 = q / x1
    r1 = r / y1
    k1 = math.sqrt(q1 * q1 + r1 * r1)
    radius = max(k0 / k1, y1) if k1 != 0 else y1
    return abs(k0 - 1) * radius


def stroke_distance(stroke):
    """The distance function p -> d of one stroke (a row of 8 Python floats)."""
    kind, x0, y0, x1, y1, x2, y2, _ = stroke
    if kind == 0:
        return lambda px, py: segment_distance(px, py, x0, y0, x1, y1)
    if kind == 1:
        points = bezier_points(x0, y0, x1, y1, x2, y2)
        pieces = list(zip(points, points[1:]))
        return lambda px, py: min(segment_distance(px, py, *a, *b) for a, b in pieces)
    co, si = reference_cos_sin(x2)
    return lambda px, py: ellipse_distance(px, py, x0, y0, x1, y1, co, si)


def reference_sprite(strokes, size):
    """One sprite (size, size) uint8 from its strokes (K, 8), pixel by pixel."""
    image = np.zeros((size, size), np.uint8)
    for stroke in strokes.astype(np.float64).tolist():
        if stroke[0] == -1:
            continue
        distance = stroke_distance(stroke)
        h = stroke[7] * 0.5 + 0.5
        for i in range(size):
            for j in range(size):
                ink = math.floor(255 * min(max(h - distance(j + 0.5, i + 0.5), 0.0), 1.0) + 0.5)
                image[i, j] = max(image[i, j], ink)
    return image


# --- drawing follows the rule exactly -------------------------------------------------------------

HAND_MADE = np.array(
    [
        # a dot (L = 0); a horizontal line
        [[0, 5.5, 5.5, 5.5, 5.5, 0, 0, 3.0], [0, 1.0, 20.0, 22.0, 20.0, 0, 0, 0.5]],
        # a straight curve; a curve that is a point
        [[1, 2.0, 2.0, 12.0, 12.0, 22.0, 22.0, 2.0], [1, 3.0, 18.0, 3.0, 18.0, 3.0, 18.0, 4.0]],
        # an anchor off the sprite; an unused slot
        [[1, 2.0, 20.0, 12.0, -10.0, 21.0, 20.0, 1.5], [-1, 0, 0, 0, 0, 0, 0, 0]],
        # an ellipse centred on a pixel centre; a circle
        [[2, 11.5, 11.5, 6.0, 3.0, 0.3, 0, 4.0], [2, 12.0, 12.0, 9.0, 9.0, 2.0, 0, 1.0]],
        # rotations outside [-pi/2, pi/2)
        [[2, 10.0, 13.0, 7.0, 5.0, 40.0, 0, 2.5], [2, 14.0, 9.0, 8.0, 2.0, -1.5707964, 0, 1.2]],
    ],
    np.float32,
)


def test_hand_made_strokes_match_the_per_pixel_rule():
    sprites = draw(HAND_MADE, 23)
    for strokes, sprite in zip(HAND_MADE, sprites):
        np.testing.assert_array_equal(sprite, reference_sprite(strokes, 23))
    assert sprites[3, 11, 11] == 0 and sprites[3].max() == 255  # the ring's centre pixel is far from it


@pytest.mark.parametrize(
    "size, min_strokes, max_strokes, min_width, max_width, count",
    [(32, 1, 4, 1.0, 3.0, 160), (23, 0, 3, 0.5, 8.0, 80), (17, 2, 2, 0.25, 1.0, 60)],
)
def test_sampled_sprites_match_the_per_pixel_rule(size, min_strokes, max_strokes, min_width, max_width, count):
    strokes = sample_strokes(np.random.default_rng(size), count, size, min_strokes, max_strokes, min_width, max_width)
    sprites = draw(strokes, size)
    assert sprites.shape == (count, size, size) and sprites.dtype == np.uint8
    for code in range(len(KINDS)):
        assert (strokes[..., 0] == code).sum() >= count // 3  # every kind is exercised
    for stroke_rows, sprite in zip(strokes, sprites):
        np.testing.assert_array_equal(sprite, reference_sprite(stroke_rows, size))


def test_cos_sin_is_within_1e15_of_the_maths_library_modulo_a_half_turn():
    angle = np.concatenate([np.linspace(-10, 10, 2001), [np.pi / 2, -np.pi / 2, np.pi, 0.0]])
    sign = np.where(np.round(angle / np.pi) % 2 == 0, 1.0, -1.0)  # cos_sin turns the angle by a multiple of pi
    co, si = cos_sin(angle)
    np.testing.assert_allclose(co, sign * np.cos(angle), rtol=0, atol=1e-15)
    np.testing.assert_allclose(si, sign * np.sin(angle), rtol=0, atol=1e-15)


# --- where the ink can be -------------------------------------------------------------------------


def test_each_stroke_inks_only_within_its_bounds_plus_its_width():
    """Line and Bezier: the box of their control points (a Bezier lies in their convex hull); ellipse: centre +- x1.

    Plus half the width and one pixel of anti-aliasing, on the pixel centres.
    """
    size = 32
    strokes = sample_strokes(np.random.default_rng(7), 400, size, 1, 4, 0.5, 6.0)
    single = strokes[strokes[..., 0] >= 0][:, None, :]
    sprites = draw(single, size)
    centres = np.arange(size) + 0.5
    for (kind, x0, y0, x1, y1, x2, y2, width), sprite in zip(single[:, 0].astype(np.float64), sprites):
        rows, cols = np.nonzero(sprite)
        assert len(rows) > 0
        if kind == 2:
            xs, ys = [x0 - x1, x0 + x1], [y0 - x1, y0 + x1]
        else:
            xs, ys = ([x0, x1], [y0, y1]) if kind == 0 else ([x0, x1, x2], [y0, y1, y2])
        margin = width / 2 + 1
        assert min(xs) - margin <= centres[cols].min() and centres[cols].max() <= max(xs) + margin
        assert min(ys) - margin <= centres[rows].min() and centres[rows].max() <= max(ys) + margin


def test_sampled_strokes_keep_their_ink_inside_the_sprite():
    size = 32
    strokes = sample_strokes(np.random.default_rng(8), 500, size, 1, 4, 1.0, 3.0)
    single = strokes[strokes[..., 0] >= 0][:, None, :]
    moved = single.copy()  # 4 pixels right and down, on a canvas 8 pixels larger
    moved[..., 1:3] += 4
    moved[single[:, 0, 0] != 2, :, 3:7] += 4  # columns an ellipse does not use for its centre
    sprites = draw(moved, size + 8).astype(np.int64)
    assert (sprites[:, 4 : 4 + size, 4 : 4 + size].sum(axis=(1, 2)) == sprites.sum(axis=(1, 2))).all()


# --- byte stability -------------------------------------------------------------------------------

GOLDEN_STROKES = "32a01f293b934fdc844073738fbb3f9d58c00bdfdde83330b0277885a6e47314"
GOLDEN_SPRITES = "4b787e5cdd38f2dd16a715961d6fa2b4b01d55d19da95934b419d9e4e03aa2d7"


def test_golden_bytes_for_a_fixed_seed():
    strokes = sample_strokes(np.random.default_rng([2, 0, 0]), 256, 32, 1, 4, 1.0, 3.0)
    sprites = draw(strokes, 32)
    assert hashlib.sha256(strokes.tobytes()).hexdigest() == GOLDEN_STROKES
    assert hashlib.sha256(sprites.tobytes()).hexdigest() == GOLDEN_SPRITES


def test_drawing_in_one_block_or_in_pieces_gives_the_same_bytes():
    strokes = sample_strokes(np.random.default_rng(3), 1500, 32, 1, 4, 1.0, 3.0)
    whole = draw(strokes, 32)
    pieces = np.concatenate([draw(strokes[a:b], 32) for a, b in [(0, 1), (1, 97), (97, 1001), (1001, 1500)]])
    np.testing.assert_array_equal(whole, pieces)
    unused = np.zeros((1500, 3, len(COLUMNS)), np.float32)
    unused[..., 0] = -1
    np.testing.assert_array_equal(draw(np.concatenate([unused[:, :1], strokes, unused], axis=1), 32), whole)


# --- sampling -------------------------------------------------------------------------------------


def test_sampled_counts_kinds_and_widths_are_within_their_ranges():
    strokes = sample_strokes(np.random.default_rng(4), 2000, 32, 2, 5, 1.25, 2.5)
    assert strokes.shape == (2000, 5, len(COLUMNS)) and strokes.dtype == np.float32
    kind = strokes[..., 0]
    used = kind >= 0
    counts = used.sum(axis=1)
    assert counts.min() == 2 and counts.max() == 5
    assert (used == (np.arange(5) < counts[:, None])).all()  # strokes fill the first slots
    assert set(np.unique(kind[used])) == {0, 1, 2}
    assert (strokes[~used][:, 0] == -1).all() and (strokes[~used][:, 1:] == 0).all()
    width = strokes[used][:, 7]
    assert width.min() >= np.float32(1.25) and width.max() <= np.float32(2.5)
    lines = strokes[kind == 0]
    assert (lines[:, 5:7] == 0).all()
    ellipses = strokes[kind == 2]
    major, minor = ellipses[:, 3], ellipses[:, 4]
    assert (major >= minor).all() and (minor >= major * np.float32(0.5 - 1e-6)).all()
    assert (np.abs(ellipses[:, 5]) <= np.float32(np.pi / 2)).all() and (ellipses[:, 6] == 0).all()


def test_sampling_takes_the_same_number_of_draws_whatever_the_values():
    a, b = np.random.default_rng(5), np.random.default_rng(5)
    sample_strokes(a, 100, 32, 1, 4, 1.0, 3.0)
    sample_strokes(b, 100, 20, 4, 4, 0.5, 0.5)
    assert a.random() == b.random()
    first, again = (sample_strokes(np.random.default_rng(6), 50, 32, 1, 4, 1.0, 3.0) for _ in range(2))
    np.testing.assert_array_equal(first, again)


# --- refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "strokes, message",
    [
        (np.zeros((4, 3, 7), np.float32), r"shape \(4, 3, 7\)"),
        (np.zeros((3, 8), np.float32), r"shape \(3, 8\)"),
        (np.array([[[3, 1, 1, 2, 2, 0, 0, 1]]], np.float32), "kind 3 is not allowed"),
        (np.array([[[2, 8, 8, 3, 4, 0, 0, 1]]], np.float32), "x1=3, y1=4 are not allowed"),
        (np.array([[[2, 8, 8, 3, 0, 0, 0, 1]]], np.float32), "x1=3, y1=0 are not allowed"),
        (np.array([[[0, 8, np.nan, 3, 4, 0, 0, 1]]], np.float32), "not finite"),
    ],
)
def test_draw_refuses_strokes_the_rule_does_not_define(strokes, message):
    with pytest.raises(ValueError, match=message):
        draw(strokes, 16)


def test_draw_refuses_a_size_below_one_and_draws_no_sprites():
    with pytest.raises(ValueError, match="size=0 is not allowed"):
        draw(HAND_MADE, 0)
    assert draw(np.zeros((0, 4, len(COLUMNS)), np.float32), 9).shape == (0, 9, 9)
