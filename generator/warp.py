"""Rotating and scaling sprites: an affine warp about each sprite's centre, bilinear, in exact integers.

A sprite of h x w pixels is drawn into a box of size x size pixels, its top-left corner at
(oy, ox) = ((size - h) // 2, (size - w) // 2), so that with angle 0 and scale 1 the box holds an
exact copy of it. Positive angles turn it counter-clockwise as seen on screen (x to the right,
y downwards): +90 degrees is `np.rot90(sprite, k=1)` for a square sprite. The bytes are defined by
the following rule, in which every step after the first is exact integer arithmetic:

    coefficients, per sprite and frame, from the float32 angle (degrees) and scale, in float64:
        q = round(angle / 90) (half to even);  r = angle - 90 * q           (r in [-45, 45])
        (c, s) = `generator.doodles.cos_sin`(r * (pi / 180)), turned by q quarter turns:
                 (c, s), (-s, c), (-c, -s) or (s, -c) for q mod 4 = 0, 1, 2, 3
        A = floor(c / scale * 2^15 + 0.5);  B = floor(s / scale * 2^15 + 0.5)
    per output pixel (row i, column j), its offset from the sprite's centre in half pixels:
        u = 2 * j - (2 * ox + w - 1);  v = 2 * i - (2 * oy + h - 1)
    the source position it samples, in units of 2^-16 pixel (pixel (row, col) centred at (col, row)),
    plus 128 to round it to the nearest 1/256 pixel (half up):
        x = (w - 1) * 2^15 + A * u - B * v + 128;  y = (h - 1) * 2^15 + B * u + A * v + 128
    clamped to x in [-2^16, w * 2^16], y in [-2^16, h * 2^16] (beyond, all four neighbours lie
    outside the sprite, as at the clamped position), then split into pixel and 1/256 fraction:
        j0 = x >> 16;  fx = (x >> 8) & 255;  i0 = y >> 16;  fy = (y >> 8) & 255
    bilinear, with p(i, j) the sprite's pixel and 0 outside it, rounded half up:
        top = p(i0, j0) * (256 - fx) + p(i0, j0 + 1) * fx
        bottom = p(i0 + 1, j0) * (256 - fx) + p(i0 + 1, j0 + 1) * fx
        pixel = (top * (256 - fy) + bottom * fy + 32768) >> 16

The box's corners cut whatever the turned and scaled sprite puts beyond them. The quarter turns
make multiples of 90 degrees exact (c, s in {-1, 0, 1}), so those turns move whole pixels.

The warp is whole-array numpy: it loops only over chunks of sprite frames small enough for the
CPU cache, into buffers allocated once (fresh arrays per step cost more than the arithmetic), and
over channels. One 32-bit gather fetches all four neighbours of a pixel, packed per source pixel;
the two rows are then interpolated at once, in two 16-bit halves of the same 32-bit integer.
"""

from __future__ import annotations

import numpy as np

from generator.doodles import cos_sin

_ONE = 1 << 16  # one pixel in source positions
_CHUNK_PIXELS = 1 << 16  # output pixels warped at once: fastest measured (2^15..2^17 alike, 2^13 1.8x slower)


def warp(sprites: np.ndarray, angles: np.ndarray, scales: np.ndarray, size: int) -> np.ndarray:
    """Turn and scale `sprites (n, Ts, K, C, h, w) uint8` into `(n, T, K, C, size, size) uint8`.

    angles, scales: (n, T, K), read as float32: degrees counter-clockwise and size factors per frame.
    Ts = 1 (the same sprite in every frame) or T. The rule is the module's docstring.
    """
    angles, scales = np.asarray(angles, np.float32), np.asarray(scales, np.float32)
    _check(sprites, angles, scales, size)
    n, ts, k, channels, h, w = sprites.shape
    t = angles.shape[1]
    a, b = (c.reshape(-1, 1) for c in _coefficients(angles, scales))  # (n * T * K, 1) each
    u = 2 * np.arange(size) - (2 * ((size - w) // 2) + w - 1)  # (size,) half pixels right of the centre
    v = 2 * np.arange(size) - (2 * ((size - h) // 2) + h - 1)  # (size,) half pixels below the centre
    reach = (np.abs(a) + np.abs(b)).max(initial=0) * max(np.abs(u).max(), np.abs(v).max())
    if reach + (max(h, w) + 2) * _ONE >= 2**31:
        raise ValueError(f"scales down to {scales.min():g} reach too far from a {h}x{w} sprite in a box of "
                         f"{size}: source positions must fit 32 bits")
    # x and y are each a term per column plus a term per row; positions in the sprite padded by
    # one pixel (+ _ONE), rounded to 1/256 pixel (+ 128)
    x_columns = (a * u + ((w - 1) * _ONE // 2 + _ONE + 128)).astype(np.int32)[:, None, :]
    x_rows = (-b * v).astype(np.int32)[:, :, None]
    y_columns = (b * u).astype(np.int32)[:, None, :]
    y_rows = (a * v + ((h - 1) * _ONE // 2 + _ONE + 128)).astype(np.int32)[:, :, None]
    sprite = np.arange(n)[:, None, None] * ts + (np.arange(t)[:, None] if ts > 1 else 0)
    sprite = np.broadcast_to(sprite * k + np.arange(k), (n, t, k)).reshape(-1)  # each frame's sprite

    sprites = sprites.reshape(n * ts * k, channels, h, w)
    out = np.empty((n * t * k, channels, size, size), np.uint8)
    step = max(1, _CHUNK_PIXELS // (size * size))
    sampler = _Sampler((channels, h, w), min(step, len(out)), size)
    for lo in range(0, len(out), step):
        part = slice(lo, lo + step)
        first, last = sprite[part].min(), sprite[part].max() + 1  # packed per chunk: 4 bytes a pixel
        quads = _quads(sprites[first:last]).reshape(-1)
        x_terms, y_terms = (x_columns[part], x_rows[part]), (y_columns[part], y_rows[part])
        sampler(quads, sprite[part] - first, x_terms, y_terms, out[part])
    return out.reshape(n, t, k, channels, size, size)


def _check(sprites, angles, scales, size) -> None:
    if not (isinstance(sprites, np.ndarray) and sprites.dtype == np.uint8 and sprites.ndim == 6):
        got = f"{sprites.dtype} {sprites.shape}" if isinstance(sprites, np.ndarray) else type(sprites).__name__
        raise ValueError(f"sprites must be a uint8 array of shape (n, Ts, K, C, h, w), got {got}")
    n, ts, k = sprites.shape[:3]
    shapes_match = angles.shape == scales.shape and angles.ndim == 3 and angles.shape[::2] == (n, k)
    if not (shapes_match and ts in (1, angles.shape[1])):
        raise ValueError(f"angles {angles.shape} and scales {scales.shape} must be (n, T, K) with the "
                         f"n and K of sprites {sprites.shape}, whose Ts must be 1 or T")
    if not (np.isfinite(angles).all() and np.isfinite(scales).all() and (scales > 0).all()):
        raise ValueError("angles must be finite and scales finite and positive")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size={size!r} must be a positive number of pixels")


def _coefficients(angles: np.ndarray, scales: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A, B) int64 of the rule, each shaped like `angles`: cos and sin over scale, times 2^15."""
    degrees = angles.astype(np.float64)
    turns = np.round(degrees / 90)
    c, s = cos_sin((degrees - 90 * turns) * (np.pi / 180))
    quarter = (turns % 4).astype(np.intp)
    cos = np.choose(quarter, (c, -s, -c, s))
    sin = np.choose(quarter, (s, c, -s, -c))
    scale = scales.astype(np.float64)
    return (np.floor(cos / scale * 2**15 + 0.5).astype(np.int64),
            np.floor(sin / scale * 2**15 + 0.5).astype(np.int64))


class _Sampler:
    """Bilinear samples of sprites at source positions, chunk after chunk, into temporaries made once."""

    def __init__(self, sprite_shape: tuple[int, int, int], count: int, size: int):
        """sprite_shape: (C, h, w); count: the most sprite frames of `size x size` pixels per call."""
        channels, h, w = sprite_shape
        self.plane, self.width = (h + 2) * (w + 2), w + 2  # values per channel, per row of a packed sprite
        self.limits = ((w + 1) * _ONE, (h + 1) * _ONE)  # the clamp's upper ends for x and y
        self.sprite_values = channels * self.plane
        shape = (count, size, size)
        self.x, self.y = np.empty(shape, np.int32), np.empty(shape, np.int32)
        self.fx, self.gx, self.fy, self.gy = (np.empty(shape, np.uint32) for _ in range(4))
        self.index = np.empty(shape, np.intp)
        self.left, self.right = np.empty(shape, np.uint32), np.empty(shape, np.uint32)

    def __call__(self, quads: np.ndarray, sprite: np.ndarray, x_terms, y_terms, out: np.ndarray) -> None:
        """Sample the sprites `sprite (f,)` of `quads` (`_quads`, flat) into `out (f, C, S, S) uint8`
        at x = x_terms[0] + x_terms[1] and y = y_terms[0] + y_terms[1] (a column term (f, 1, S) and
        a row term (f, S, 1) int32 each, in padded pixels of 2^-16)."""
        f = len(sprite)
        x, y, fx, gx, fy, gy, index, left, right = (
            a[:f] for a in (self.x, self.y, self.fx, self.gx, self.fy, self.gy, self.index, self.left, self.right))
        for position, terms, limit, weight, rest in zip((x, y), (x_terms, y_terms), self.limits, (fx, fy), (gx, gy)):
            np.add(*terms, out=position)
            np.clip(position, 0, limit, out=position)
            np.right_shift(position.view(np.uint32), 8, out=weight)  # >= 0 now: the same bits, one dtype
            weight &= 255
            np.subtract(256, weight, out=rest)
            position >>= 16
        y *= self.width
        y += x
        np.add(y, (sprite * self.sprite_values)[:, None, None], out=index)
        for channel in range(out.shape[1]):
            if channel:
                index += self.plane
            quads.take(index, out=left)
            # left: p(i0, j0) and p(i0 + 1, j0) in 16-bit halves; right: p(i0, j0 + 1) and p(i0 + 1, j0 + 1)
            np.right_shift(left, 8, out=right)
            right &= 0x00FF00FF
            left &= 0x00FF00FF
            right *= fx
            left *= gx
            left += right  # the top row's blend in the low half, the bottom row's in the high one: each < 2^16
            np.bitwise_and(left, 0xFFFF, out=right)
            left >>= 16
            left *= fy
            right *= gy
            right += left
            right += 32768
            right >>= 16
            np.copyto(out[:, channel], right, casting="unsafe")


def _quads(sprites: np.ndarray) -> np.ndarray:
    """`(..., h, w) uint8` -> `(..., h + 2, w + 2) uint32`: each pixel of the sprite padded with zeros
    (one row and column before, two after) packed with its right, lower and lower-right neighbours
    as bytes 0, 1, 2, 3."""
    *lead, h, w = sprites.shape
    padded = np.zeros((*lead, h + 3, w + 3), np.uint32)
    padded[..., 1 : h + 1, 1 : w + 1] = sprites
    quads = padded[..., :-1, :-1] | padded[..., :-1, 1:] << 8
    quads |= padded[..., 1:, :-1] << 16
    quads |= padded[..., 1:, 1:] << 24
    return quads
