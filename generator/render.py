"""Compositing sprites onto canvases, whole-array over blocks of frames."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

COMPOSITINGS = ("max", "sum")


def render(sprites: np.ndarray, offsets: np.ndarray, out: np.ndarray, compositing: str) -> np.ndarray:
    """Draw every sprite of every frame into `out`.

    sprites: (N, K, S, S) uint8, sprite k of sequence n (the same in all its frames).
    offsets: (N, T, K, 2) integer (row, col) of each sprite's top-left corner; the sprite must fit.
    out: (N, T, H, H) uint8, C-contiguous and all zero; it is filled in place and returned.
    compositing: "max" (pixel-wise maximum) or "sum" (add, then clip at 255).

    Each sprite is laid out as a strip of rows H pixels apart, padded with zeros, so that
    placing it is one contiguous copy into the flattened frame. The zero padding falls on
    other pixels of the same frame, where max and saturated sum leave them unchanged.
    """
    if compositing not in COMPOSITINGS:
        raise ValueError(f"compositing={compositing!r} is not allowed: choose one of {', '.join(COMPOSITINGS)}")
    n, k, s, _ = sprites.shape
    h = out.shape[-1]
    strip_length = (s - 1) * h + s
    strips = np.zeros((n, k, s, h), np.uint8)
    strips[..., :s] = sprites
    strips = strips.reshape(n, k, s * h)[:, :, None, :strip_length]  # (N, K, 1, L): broadcast over T

    flat = out.reshape(-1)
    windows = as_strided(flat, (flat.size - strip_length + 1, strip_length), (1, 1), writeable=True)
    frame_starts = np.arange(n * out.shape[1]).reshape(n, -1) * (h * h)
    offsets = offsets.astype(np.intp)  # int16 would overflow in row * h
    starts = frame_starts[..., None] + offsets[..., 0] * h + offsets[..., 1]  # (N, T, K)

    windows[starts[..., 0]] = strips[:, 0]
    for i in range(1, k):
        below, sprite = windows[starts[..., i]], strips[:, i]
        if compositing == "max":
            np.maximum(below, sprite, out=below)
        else:
            below += np.minimum(sprite, 255 - below)
        windows[starts[..., i]] = below
    return out
