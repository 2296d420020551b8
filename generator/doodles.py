"""Procedural doodle sprites (seed 002): lines, quadratic Bezier curves and ellipses, anti-aliased.

A sprite is `size x size` gray pixels drawn from up to `max_strokes` strokes. Its ground truth
is `strokes (max_strokes, 8) float32`, one row per stroke slot, with the columns `COLUMNS`:

    kind     0 line, 1 quadratic Bezier curve, 2 ellipse; -1 an unused slot (all its columns 0)
    line     (x0, y0), (x1, y1): end points; x2 = y2 = 0
    bezier   (x0, y0), (x2, y2): end points; (x1, y1): anchor (the middle control point)
    ellipse  (x0, y0): centre; x1 >= y1 > 0: semi-axes; x2: rotation in radians of the x1 axis,
             from +x towards +y; y2 = 0
    width    stroke width in pixels

Coordinates are pixels: x to the right, y downwards; pixel (row i, col j) is the square
[j, j + 1] x [i, i + 1], with its centre at (x, y) = (j + 0.5, i + 0.5).

The bytes are defined by the following rule, evaluated in IEEE float64 from the float32 values,
one operation at a time as written (left to right, parentheses first), at each pixel centre
p = (px, py):

    h = width * 0.5 + 0.5
    intensity = floor(255 * min(max(h - d, 0), 1) + 0.5)       (255 on the stroke's centre line)
    pixel = max over the sprite's strokes of their intensity (0 without strokes)

where d is the distance from p to the stroke:

    segment A -> B:  dx = xB - xA;  dy = yB - yA;  L = sqrt(dx * dx + dy * dy)
                     (ux, uy) = (dx / L, dy / L), or (1, 0) when L = 0
                     ax = px - xA;  ay = py - yA
                     s = ax * ux + ay * uy              (how far along the segment)
                     c = ay * ux - ax * uy              (how far from its line)
                     e = s - min(max(s, 0), L)          (how far beyond an end)
                     d = sqrt(c * c + e * e)            (the exact distance to the segment)
    line:    d to the segment (x0, y0) -> (x1, y1).
    bezier:  d = min over the n = BEZIER_SEGMENTS = 8 segments of the polyline through the
             points B(t), t = k / n for k = 0..n, where per axis
             B(t) = ((1 - t) * (1 - t)) * P0 + ((2 * (1 - t)) * t) * P1 + (t * t) * P2
             with P0 = (x0, y0), P1 = (x1, y1), P2 = (x2, y2). The polyline is within
             |P0 - 2 * P1 + P2| / (4 * n * n) px of the curve.
    ellipse: (co, si) = cos_sin(x2), plain arithmetic (see `cos_sin`)
             ax = px - x0;  ay = py - y0
             u = ax * co + ay * si;  v = ay * co - ax * si    (along each semi-axis)
             q = u / x1;  r = v / y1;  k0 = sqrt(q * q + r * r)
             q1 = q / x1;  r1 = r / y1;  k1 = sqrt(q1 * q1 + r1 * r1)
             d = |k0 - 1| * max(k0 / k1, y1), the max being y1 where k1 = 0 (the centre).
             This is Quilez's first-order distance estimate: exact on circles; elsewhere within
             0.15 px of the true distance up to 1 px from the curve when x1 >= 4 and
             y1 >= x1 / 2 (the shapes sampled at size 32), and too large deep inside
             eccentric ellipses.

Sampling keeps each stroke and its anti-aliasing inside the sprite, and rounds its values to
float32 before anything is drawn from them, so that the record is the exact ground truth.

The rasteriser is whole-array numpy; it loops only over blocks of sprites and chunks of pixels.
Sprites are cut into TILE x TILE tiles; each line, Bezier segment and ellipse is evaluated only
on the tiles where the rule can give it ink (proofs in `_draw_segments` and `_draw_ellipses`),
and the results are merged by maximum, so the tiling changes no byte.
"""

from __future__ import annotations

import numpy as np

KINDS = ("line", "bezier", "ellipse")  # kind codes 0, 1, 2; -1 marks an unused stroke slot
COLUMNS = ("kind", "x0", "y0", "x1", "y1", "x2", "y2", "width")  # the 8 numbers of a stroke
BEZIER_SEGMENTS = 8
MIN_AXIS_RATIO = 0.5  # sampled ellipses have y1 / x1 in [0.5, 1]: eccentricity up to 0.87
TILE = 4
_TILE_REACH = (TILE - 1) / np.sqrt(2) + 0.01  # tile centre to its farthest pixel centre, plus rounding slack
# Work in pieces whose temporaries stay in the CPU cache: measured 20% faster than all at once.
_BLOCK_SLOTS = 2048  # stroke slots drawn at once
_CHUNK_PIXELS = 32768  # pixels evaluated at once


def sample_strokes(
    rng: np.random.Generator,
    count: int,
    size: int,
    min_strokes: int,
    max_strokes: int,
    min_width: float,
    max_width: float,
) -> np.ndarray:
    """Draw the strokes of `count` sprites of `size x size` pixels: `(count, max_strokes, 8) float32`.

    Per sprite, the number of strokes ~ U{min_strokes..max_strokes} fills its first slots. Per
    stroke, kind ~ U{line, bezier, ellipse} and width ~ U[min_width, max_width]; with
    h = width / 2 + 0.5, line and Bezier points ~ U[h, size - h]^2; an ellipse has its major
    semi-axis x1 ~ U[size / 8, size / 2 - h], y1 = x1 * U[MIN_AXIS_RATIO, 1], rotation
    ~ U[-pi/2, pi/2) and centre ~ U[h + x1, size - h - x1]^2.
    Everything comes from uniforms U[0, 1): (count,) for the stroke counts, then (count,
    max_strokes, 8) for width, geometry (6) and kind; an integer in {lo..hi} is
    lo + floor(u * (hi - lo + 1)).
    The number of draws is thus fixed by the call's shape (numpy's bounded integers would take a
    varying number), and the result depends only on the generator's state and the arguments.
    """
    counts = min_strokes + np.floor(rng.random(count) * (max_strokes - min_strokes + 1))
    u = rng.random((count, max_strokes, 8))
    kinds = np.floor(u[..., 7] * len(KINDS))
    kinds[np.arange(max_strokes) >= counts[:, None]] = -1
    return shape_strokes(kinds, u[..., :7], size, min_width, max_width)


def shape_strokes(kinds: np.ndarray, u: np.ndarray, size: int, min_width: float, max_width: float) -> np.ndarray:
    """Strokes of the given kinds from uniforms, as `sample_strokes` shapes them: `(..., 8) float32`.

    kinds: `(...)` codes, -1 for an unused slot (all its columns 0). u: `(..., 7)` U[0, 1) draws:
    the width, then the geometry (6) by the ranges of `sample_strokes`.
    """
    width = (min_width + u[..., 0] * (max_width - min_width)).astype(np.float32)
    h = width.astype(np.float64)[..., None] * 0.5 + 0.5
    points = h + u[..., 1:7] * (size - 2 * h)  # x0, y0, x1, y1, x2, y2 of lines and Bezier curves
    major = size / 8 + u[..., 1:2] * (size / 2 - h - size / 8)
    minor = major * (MIN_AXIS_RATIO + u[..., 2:3] * (1 - MIN_AXIS_RATIO))
    rotation = (u[..., 3:4] - 0.5) * np.pi
    centre = (h + major) + u[..., 4:6] * (size - 2 * (h + major))
    ellipse = np.concatenate([centre, major, minor, rotation, np.zeros_like(h)], axis=-1)

    strokes = np.zeros((*kinds.shape, len(COLUMNS)), np.float32)
    strokes[..., 0] = kinds
    kind = kinds[..., None]
    strokes[..., 1:7] = np.select([kind == 0, kind == 1], [points * [1, 1, 1, 1, 0, 0], points], ellipse)
    strokes[..., 7] = width
    unused = kinds == -1
    strokes[unused] = 0
    strokes[unused, 0] = -1
    return strokes


def draw(strokes: np.ndarray, size: int) -> np.ndarray:
    """Render sprites from their strokes: `(M, max_strokes, 8)` -> `(M, size, size) uint8`.

    The values are read as float32, as `sample_strokes` records them. A sprite's pixels depend
    only on its own strokes, whatever the block it is drawn in. Raises ValueError for a wrong
    shape, a size below 1 or values the rule does not define.
    """
    strokes = np.asarray(strokes)
    if strokes.ndim != 3 or strokes.shape[2] != len(COLUMNS):
        raise ValueError(f"strokes of shape {strokes.shape} is not allowed: it must be (M, max_strokes, 8)")
    if size < 1:
        raise ValueError(f"size={size} is not allowed: it must be a positive number of pixels")
    params = strokes.astype(np.float32).astype(np.float64)
    _check(params)
    canvas = -(-size // TILE) * TILE  # whole tiles; the margin is cut off at the end
    out = np.zeros((len(params), canvas, canvas), np.uint8)
    step = max(1, _BLOCK_SLOTS // max(1, params.shape[1]))
    for start in range(0, len(params), step):
        _draw_block(params[start : start + step], out[start : start + step])
    return np.ascontiguousarray(out[:, :size, :size])


def _draw_block(params: np.ndarray, out: np.ndarray) -> None:
    """Max the ink of the strokes `params (M, max_strokes, 8)` float64 into `out (M, C, C) uint8`."""
    kind = params[..., 0]
    sprite = np.broadcast_to(np.arange(len(params))[:, None], kind.shape)
    lines, beziers, ellipses = (params[kind == code] for code in range(len(KINDS)))
    segments = [_line_segments(lines, sprite[kind == 0]), _bezier_segments(beziers, sprite[kind == 1])]
    _draw_segments(out, np.concatenate(segments))
    _draw_ellipses(out, ellipses, sprite[kind == 2])


def cos_sin(angle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cos and sin of `angle` (float64, any shape) in plain arithmetic, so that no maths library decides a byte.

    x = angle - pi * round(angle / pi), in [-pi/2, pi/2] (round half to even; an ellipse turned
    by pi is the same ellipse); then, from c = s = 1 and with x2 = x * x, c = 1 - x2 / (k * (k - 1)) * c
    for k = 22, 20, ..., 2 and s = 1 - x2 / (k * (k - 1)) * s for k = 23, 21, ..., 3 (the Taylor
    polynomials in Horner form); returns (c, x * s), within 1e-15 of cos x and sin x.
    """
    return cos_sin_reduced(angle - np.pi * np.round(angle / np.pi))


def cos_sin_reduced(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`cos_sin` of an angle x already in [-pi/2, pi/2] (where its reduction leaves x as it is): its
    Taylor polynomials, c and s side by side in one array updated in place (the same operations)."""
    x2 = np.reshape(x * x, -1)
    divisors = _HORNER_DIVISORS.astype(x2.dtype, copy=False)
    both = np.ones((2, x2.size), x2.dtype)  # (c, s)
    # a few values: every quotient x2 / (k (k - 1)) in one call, as the per-term calls would cost more than the values
    quotients = x2 / divisors if x2.size <= 4096 else (x2 / d for d in divisors)
    for q in quotients:
        q *= both
        np.subtract(1.0, q, out=both)
    both[1] *= np.reshape(x, -1)
    return both[0].reshape(np.shape(x)), both[1].reshape(np.shape(x))


# k (k - 1) for cos_sin's c (k = 22, 20, ..., 2) and s (k = 23, 21, ..., 3), term by term: (11, 2, 1)
_HORNER_DIVISORS = np.array([[[k * (k - 1)], [(k + 1) * k]] for k in range(22, 0, -2)], np.float64)


def _check(params: np.ndarray) -> None:
    """Refuse values the rule does not define: unknown kinds, non-finite numbers, ellipses without x1 >= y1 > 0."""
    kind = params[..., 0]
    unknown = ~np.isin(kind, (-1, 0, 1, 2))
    if unknown.any():
        raise ValueError(
            f"stroke kind {kind[unknown][0]:g} is not allowed: kinds are -1 (unused), 0 line, 1 bezier, 2 ellipse"
        )
    if not np.isfinite(params).all():
        raise ValueError("strokes hold a value that is not finite: all must be finite numbers")
    axes = params[kind == 2][:, 3:5]
    bad = ~((axes[:, 0] >= axes[:, 1]) & (axes[:, 1] > 0))
    if bad.any():
        x1, y1 = axes[bad][0]
        raise ValueError(f"ellipse semi-axes x1={x1:g}, y1={y1:g} are not allowed: they must be x1 >= y1 > 0")


# --- segments (lines and the pieces of Bezier polylines) ------------------------------------------
# A segment is a row (sprite, xA, yA, xB, yB, h) of a (N, 6) float64 array.


def _line_segments(lines: np.ndarray, sprite: np.ndarray) -> np.ndarray:
    """lines (N, 8) float64 strokes of the sprites `sprite (N,)` -> (N, 6) segments."""
    return np.column_stack([sprite, lines[:, 1:5], lines[:, 7] * 0.5 + 0.5])


def _bezier_segments(beziers: np.ndarray, sprite: np.ndarray) -> np.ndarray:
    """beziers (N, 8) float64 strokes of the sprites `sprite (N,)` -> (N * BEZIER_SEGMENTS, 6) polyline segments."""
    t = np.arange(BEZIER_SEGMENTS + 1) / BEZIER_SEGMENTS
    weights = ((1 - t) * (1 - t), (2 * (1 - t)) * t, t * t)
    x = weights[0] * beziers[:, 1, None] + weights[1] * beziers[:, 3, None] + weights[2] * beziers[:, 5, None]
    y = weights[0] * beziers[:, 2, None] + weights[1] * beziers[:, 4, None] + weights[2] * beziers[:, 6, None]
    h = np.broadcast_to((beziers[:, 7] * 0.5 + 0.5)[:, None], (len(beziers), BEZIER_SEGMENTS))
    sprites = np.broadcast_to(sprite[:, None], h.shape)
    return np.stack([c.reshape(-1) for c in (sprites, x[:, :-1], y[:, :-1], x[:, 1:], y[:, 1:], h)], axis=1)


def _squared_segment_distance(px, py, xa, ya, ux, uy, length):
    """c * c + e * e of the rule in the module docstring, from points to segments; float64, broadcasting."""
    ax = px - xa
    ay = py - ya
    along = ax * ux
    along += ay * uy
    across = ay * ux
    across -= ax * uy
    end = np.maximum(along, 0)
    np.minimum(end, length, out=end)
    along -= end
    along *= along
    across *= across
    across += along
    return across


def _draw_segments(out: np.ndarray, segments: np.ndarray) -> None:
    """Max the ink of `segments (N, 6)` into `out (M, C, C) uint8`, C a multiple of TILE.

    Ink needs d < h, so a segment is evaluated on the tiles of its bounding box widened by h,
    and only those whose centre is within h + _TILE_REACH of it: distance is 1-Lipschitz, so
    every pixel of any other tile is at least h away and gets 0.
    """
    sprite, xa, ya, xb, yb, h = segments.T
    dx = xb - xa
    dy = yb - ya
    length = np.sqrt(dx * dx + dy * dy)
    point = length == 0
    safe = np.where(point, 1.0, length)
    ux, uy = np.where(point, 1.0, dx / safe), np.where(point, 0.0, dy / safe)

    x_lo, x_hi = np.minimum(xa, xb) - h, np.maximum(xa, xb) + h
    y_lo, y_hi = np.minimum(ya, yb) - h, np.maximum(ya, yb) + h
    index, tile_x, tile_y = _tiles_in_boxes(x_lo, x_hi, y_lo, y_hi, out.shape[1])
    i = index
    centre = _squared_segment_distance(tile_x + TILE / 2, tile_y + TILE / 2, xa[i], ya[i], ux[i], uy[i], length[i])
    near = centre < (h[i] + _TILE_REACH) ** 2
    index, tile_x, tile_y = index[near], tile_x[near], tile_y[near]

    for chunk in _chunks(len(index)):
        i = index[chunk]
        px, py = _pixel_centres(tile_x[chunk], tile_y[chunk])
        distance = _squared_segment_distance(px, py, xa[i], ya[i], ux[i], uy[i], length[i])
        np.sqrt(distance, out=distance)
        _max_into(out, sprite[i], tile_x[chunk], tile_y[chunk], _intensity(distance, h[i]))


# --- ellipses -------------------------------------------------------------------------------------


def _ellipse_distance(px, py, cx, cy, co, si, major, minor):
    """First-order distance from points to ellipses, by the rule of the module docstring; float64, broadcasting."""
    ax = px - cx
    ay = py - cy
    u = ax * co
    u += ay * si
    v = ay * co
    v -= ax * si
    u /= major
    v /= minor
    k0 = u * u
    k0 += v * v
    np.sqrt(k0, out=k0)
    u /= major
    v /= minor
    u *= u
    v *= v
    u += v
    k1 = np.sqrt(u, out=u)
    with np.errstate(invalid="ignore"):  # 0 / 0 at the centre, where fmax then takes y1
        radius = np.divide(k0, k1, out=k1)
    np.fmax(radius, minor, out=radius)
    k0 -= 1
    np.abs(k0, out=k0)
    k0 *= radius
    return k0


def _draw_ellipses(out: np.ndarray, ellipses: np.ndarray, sprite: np.ndarray) -> None:
    """Max the ink of `ellipses (N, 8)` float64 strokes of the sprites `sprite (N,)` into `out (M, C, C) uint8`.

    Since k0 / k1 >= y1, d >= |k0 - 1| * y1, so ink needs |k0 - 1| < h / y1: within x1 * (1 + h / y1)
    of the centre. And k0 changes by at most 1 / y1 per pixel moved, so a tile can have ink only
    if |k0 - 1| < (h + _TILE_REACH) / y1 at its centre.
    """
    cx, cy, major, minor = (ellipses[:, c] for c in (1, 2, 3, 4))
    co, si = cos_sin(ellipses[:, 5])
    h = ellipses[:, 7] * 0.5 + 0.5
    reach = major * (1 + h / minor)

    index, tile_x, tile_y = _tiles_in_boxes(cx - reach, cx + reach, cy - reach, cy + reach, out.shape[1])
    i = index
    ax = tile_x + TILE / 2 - cx[i]
    ay = tile_y + TILE / 2 - cy[i]
    k0 = np.hypot((ax * co[i] + ay * si[i]) / major[i], (ay * co[i] - ax * si[i]) / minor[i])
    near = np.abs(k0 - 1) < (h[i] + _TILE_REACH) / minor[i]
    index, tile_x, tile_y = index[near], tile_x[near], tile_y[near]

    for chunk in _chunks(len(index)):
        i = index[chunk]
        px, py = _pixel_centres(tile_x[chunk], tile_y[chunk])
        distance = _ellipse_distance(px, py, cx[i], cy[i], co[i], si[i], major[i], minor[i])
        _max_into(out, sprite[i], tile_x[chunk], tile_y[chunk], _intensity(distance, h[i]))


# --- tiles ----------------------------------------------------------------------------------------


def _tiles_in_boxes(x_lo, x_hi, y_lo, y_hi, canvas: int):
    """The tiles of a `canvas x canvas` sprite that meet each box [x_lo, x_hi] x [y_lo, y_hi], (N,) float64 each.

    Returns `(index, tile_x, tile_y)`, (I,) each: the box of each pair, and the top-left corner
    of its tile as float64.
    """
    last = canvas // TILE - 1
    col_lo, col_hi, row_lo, row_hi = (np.clip(v // TILE, 0, last).astype(np.intp) for v in (x_lo, x_hi, y_lo, y_hi))
    cols = col_hi - col_lo + 1
    count = cols * (row_hi - row_lo + 1)
    index = np.repeat(np.arange(len(count)), count)
    k = np.arange(len(index)) - np.repeat(np.cumsum(count) - count, count)  # position within the box
    cols = cols[index]
    tile_x = (col_lo[index] + k % cols) * TILE
    tile_y = (row_lo[index] + k // cols) * TILE
    return index, tile_x.astype(np.float64), tile_y.astype(np.float64)


def _pixel_centres(tile_x: np.ndarray, tile_y: np.ndarray):
    """x and y of the pixel centres of tiles with top-left corners (I,): (TILE * TILE, I) float64 each."""
    centre = np.arange(TILE) + 0.5
    return np.tile(centre, TILE)[:, None] + tile_x, np.repeat(centre, TILE)[:, None] + tile_y


def _chunks(n: int):
    step = _CHUNK_PIXELS // (TILE * TILE)
    return (slice(start, start + step) for start in range(0, n, step))


def _intensity(distance: np.ndarray, h: np.ndarray) -> np.ndarray:
    """floor(255 * min(max(h - d, 0), 1) + 0.5) as uint8, for distance (P, I) and h (I,) float64."""
    value = np.subtract(h, distance, out=distance)
    np.clip(value, 0, 1, out=value)
    value *= 255
    value += 0.5
    return value.astype(np.uint8)


def _max_into(out: np.ndarray, sprite, tile_x, tile_y, ink: np.ndarray) -> None:
    """out[sprite, pixels of the tile] = max(out, ink); sprite, tile_x, tile_y (I,), ink (TILE * TILE, I) uint8."""
    canvas = out.shape[1]
    corner = sprite.astype(np.intp) * (canvas * canvas) + tile_y.astype(np.intp) * canvas + tile_x.astype(np.intp)
    offset = (np.arange(TILE)[:, None] * canvas + np.arange(TILE)).reshape(-1, 1)
    np.maximum.at(out.reshape(-1), (corner + offset).reshape(-1), ink.reshape(-1))  # 1-D: numpy's fast path
