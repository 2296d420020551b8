"""Morphing doodles (seed 002's animations, without its autoencoder): strokes that move between keyframe doodles.

A morphing doodle passes through W keyframe doodles, `(W, max_strokes, 8) float32` each in the
layout of `generator.doodles`, at the frames `paths.key_frames(W, 0, T - 1)`. Keyframe 0 is a
static doodle; the others have the same kind of stroke in every slot (a line stays a line, an
unused slot stays unused), their other values drawn as `doodles.sample_strokes` draws them, except
that an ellipse's rotation is turned by a multiple of pi (the same ellipse) to within a quarter turn
of the previous keyframe's, so that it turns the short way.

Each stroke value (the columns x0 .. width) moves from keyframe to keyframe along a
`generator.paths` path (`PATHS`):

    linear  straight, at constant speed;
    bridge  linear plus a Brownian bridge, zero at every keyframe, whose steps have a standard
            deviation of sigma pixels per frame on the geometry in pixels (line and Bezier points,
            ellipse centres and semi-axes); widths and rotations go straight;
    spline  the natural cubic spline through the keyframes.

At the keyframes the strokes are the keyframes, exactly. Between them a path may leave what a
doodle allows (a spline overshoots, a bridge wanders), so every other frame is made valid again by
the rule of `valid`: each value clamped to the range sampling draws it from, so that every stroke
and its anti-aliasing stays inside the sprite, as sampled strokes do.
"""

from __future__ import annotations

import numpy as np

from generator import doodles, paths

PATHS = paths.KINDS  # "linear", "bridge", "spline"
# Which geometry columns (x0, y0, x1, y1, x2, y2) a bridge shakes, by kind code: line, Bezier, ellipse, unused (-1).
_SHAKEN = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0]], np.float64)


def keyframes(rng: np.random.Generator, first: np.ndarray, count: int, size: int, min_width: float,
              max_width: float) -> np.ndarray:
    """`count` keyframe doodles per sprite, the first being `first`: `(M, count, max_strokes, 8) float32`.

    first: `(M, max_strokes, 8) float32` strokes. Keyframes 1.. take `first`'s kinds slot by slot
    and the rest from `(M, count - 1, max_strokes, 7)` uniforms of `rng`, shaped by
    `doodles.shape_strokes`; then, in keyframe order, each ellipse's rotation r becomes
    r_prev + (d - pi * round(d / pi)) with d = r - r_prev, r_prev the previous keyframe's.
    """
    m, slots = first.shape[:2]
    kinds = np.broadcast_to(first[:, None, :, 0], (m, count - 1, slots))
    drawn = doodles.shape_strokes(kinds, rng.random((m, count - 1, slots, 7)), size, min_width, max_width)
    keys = np.concatenate([first[:, None], drawn], axis=1)
    ellipse = first[..., 0] == 2
    for j in range(1, count):  # an ellipse turned by pi is the same ellipse
        before = keys[:, j - 1, :, 5].astype(np.float64)
        turn = keys[:, j, :, 5] - before
        keys[:, j, :, 5] = np.where(ellipse, before + (turn - np.pi * np.round(turn / np.pi)), keys[:, j, :, 5])
    return keys


def bridge_steps(rng: np.random.Generator, kinds: np.ndarray, num_frames: int, sigma: float) -> np.ndarray:
    """The bridge's random-walk steps for strokes of `kinds (M, max_strokes)`: `(M, max_strokes, T, 7)` float64.

    `(M, max_strokes, T, 6)` standard normals from `rng` (as many whatever the kinds), times sigma on
    the columns a bridge shakes and 0 on the others (unused columns and slots, rotations); 0 for widths.
    """
    normal = rng.standard_normal((*kinds.shape, num_frames, 6))
    shaken = _SHAKEN[kinds.astype(np.intp)]
    steps = np.zeros((*kinds.shape, num_frames, 7))
    steps[..., :6] = normal * (sigma * shaken[..., None, :])
    return steps


def animate(keys: np.ndarray, num_frames: int, path: str, size: int, min_width: float, max_width: float,
            steps: np.ndarray | None = None) -> np.ndarray:
    """The strokes of every frame: `keys (M, W, max_strokes, 8)` -> `(M, T, max_strokes, 8) float32`.

    path: one of `PATHS`; "bridge" takes `steps` from `bridge_steps`. The keys sit at the frames
    `paths.key_frames(W, 0, T - 1)` (W <= T) and are recorded there as they are; every other frame
    is `valid` of the path's values.
    """
    frames = paths.key_frames(keys.shape[1], 0, num_frames - 1)
    values = keys[..., 1:].astype(np.float64).transpose(0, 2, 1, 3)  # (M, S, W, 7): paths run along W
    if path == "bridge":
        moved = paths.bridge(values, frames, steps)
    else:
        moved = {"linear": paths.linear, "spline": paths.spline}[path](values, frames)
    kinds = np.broadcast_to(keys[:, :1, :, 0], (len(keys), num_frames, keys.shape[2]))
    strokes = valid(kinds, moved.transpose(0, 2, 1, 3), size, min_width, max_width)
    strokes[:, frames] = keys
    return strokes


def valid(kinds: np.ndarray, values: np.ndarray, size: int, min_width: float, max_width: float) -> np.ndarray:
    """Strokes that a doodle allows, from `kinds (...)` and `values (..., 7)` float64 (x0 .. width): `(..., 8) float32`.

    In this order, each value rounded to float32 as soon as it is set, the later bounds computed
    (float64) from the rounded values:

        width                clamped to [min_width, max_width]; h = width / 2 + 0.5
        line, Bezier points  each coordinate clamped to [h, size - h]
        ellipse x1           clamped to [size / 8, size / 2 - h]
        ellipse y1           clamped to [MIN_AXIS_RATIO * x1, x1]
        ellipse x0, y0       clamped to [h + x1, size - h - x1]
        ellipse x2           (the rotation) as it is
        the rest             0: a line's x2, y2, an ellipse's y2, every column of an unused slot

    These are the ranges `doodles.sample_strokes` draws from (given max_width <= size / 4), which
    keep every stroke and its anti-aliasing inside the sprite.
    """
    width = np.clip(values[..., 6], min_width, max_width).astype(np.float32)
    h = width.astype(np.float64) * 0.5 + 0.5
    points = np.clip(values[..., :6], (h)[..., None], (size - h)[..., None]).astype(np.float32)
    major = np.clip(values[..., 2], size / 8, size / 2 - h).astype(np.float32)
    minor = np.clip(values[..., 3], doodles.MIN_AXIS_RATIO * major, major).astype(np.float32)
    reach = h + major
    centre = np.clip(values[..., :2], reach[..., None], (size - reach)[..., None]).astype(np.float32)
    rotation = values[..., 4].astype(np.float32)

    strokes = np.zeros((*kinds.shape, len(doodles.COLUMNS)), np.float32)
    strokes[..., 0] = kinds
    line, bezier, ellipse = (kinds == code for code in range(len(doodles.KINDS)))
    strokes[line, 1:5] = points[line, :4]
    strokes[bezier, 1:7] = points[bezier]
    strokes[ellipse, 1:3] = centre[ellipse]
    strokes[ellipse, 3] = major[ellipse]
    strokes[ellipse, 4] = minor[ellipse]
    strokes[ellipse, 5] = rotation[ellipse]
    strokes[kinds >= 0, 7] = width[kinds >= 0]
    return strokes
