"""Paths through keyframes (seed 002's animations): linear, Brownian bridge and cubic spline.

Each takes `keys (..., W, D)`, the values at W keyframes, and `key_frames (W,)`, the increasing
integer frames they belong to, and returns the path at every frame from the first keyframe to the
last, `(..., F, D)` float64 with F = key_frames[-1] - key_frames[0] + 1. Every path equals its key,
exactly, at each keyframe.
"""

from __future__ import annotations

import numpy as np

KINDS = ("linear", "bridge", "spline")


def key_frames(count: int, first: int, last: int) -> np.ndarray:
    """`count` keyframes spread evenly from frame `first` to frame `last`, rounded to whole frames."""
    return np.round(np.linspace(first, last, count)).astype(np.int64)


def _segments(key_frames: np.ndarray):
    """For each frame: its segment i (key_frames[i] <= frame, i < W - 1) and its distance from key_frames[i]."""
    frames = np.arange(key_frames[0], key_frames[-1] + 1)
    segment = np.clip(np.searchsorted(key_frames, frames, side="right") - 1, 0, len(key_frames) - 2)
    return segment, (frames - key_frames[segment]).astype(np.float64)


def linear(keys: np.ndarray, key_frames: np.ndarray) -> np.ndarray:
    """Straight lines from each key to the next at constant speed."""
    segment, d = _segments(key_frames)
    t = (d / np.diff(key_frames)[segment])[:, None]  # 0 at a key: key * 1 + next * 0 is the key exactly
    return keys[..., segment, :] * (1 - t) + keys[..., segment + 1, :] * t


def bridge(keys: np.ndarray, key_frames: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """`linear` plus a Brownian bridge that is zero at every key.

    steps: `(..., F, D)` the random walk's increments (Gaussian, already scaled by the standard
    deviation), one per frame; the first frame's is not used. In each segment from frame a to frame b
    the walk X starts at 0 at a, and the bridge is Y_f = X_f - (f - a) / (b - a) * X_b (seed 002's
    construction, with the walk's end value X_b: zero at both ends).
    """
    segment, d = _segments(key_frames)
    walk = np.cumsum(steps, axis=-2)
    starts = key_frames[segment] - key_frames[0]
    ends = key_frames[segment + 1] - key_frames[0]
    x = walk - walk[..., starts, :]  # X_f: 0 at each segment's first frame
    x_end = walk[..., ends, :] - walk[..., starts, :]  # X_b (not x at b: b starts the next segment, x is 0 there)
    t = (d / np.diff(key_frames)[segment])[:, None]
    return linear(keys, key_frames) + (x - t * x_end)


def spline(keys: np.ndarray, key_frames: np.ndarray) -> np.ndarray:
    """The natural cubic spline through the keys (second derivative 0 at the first and last key).

    Its second derivatives M solve the usual tridiagonal system; each segment is evaluated as
    key + b d + c d^2 + e d^3 with d the frames since its key, so that it is the key at d = 0.
    """
    h = np.diff(key_frames).astype(np.float64)  # (W - 1,)
    w = len(key_frames)
    slopes = np.diff(keys, axis=-2) / h[:, None]  # (..., W - 1, D)
    m = np.zeros(keys.shape)
    if w > 2:
        rhs = 6 * (slopes[..., 1:, :] - slopes[..., :-1, :])  # (..., W - 2, D)
        m[..., 1:-1, :] = _tridiagonal(h[1:-1], 2 * (h[:-1] + h[1:]), rhs)
    b = slopes - h[:, None] * (2 * m[..., :-1, :] + m[..., 1:, :]) / 6
    c = m[..., :-1, :] / 2
    e = (m[..., 1:, :] - m[..., :-1, :]) / (6 * h[:, None])
    segment, d = _segments(key_frames)
    d = d[:, None]
    path = keys[..., segment, :] + d * (b[..., segment, :] + d * (c[..., segment, :] + d * e[..., segment, :]))
    path[..., key_frames[-1] - key_frames[0], :] = keys[..., -1, :]  # the last key, not the last segment's end
    return path


def _tridiagonal(off: np.ndarray, diagonal: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve the symmetric tridiagonal system (Thomas algorithm) for `rhs (..., n, D)`.

    Plain elementwise arithmetic in a fixed order, not LAPACK, so that the bytes are the same on every
    machine. The system is diagonally dominant: no pivoting is needed.
    """
    n = len(diagonal)
    diag = diagonal.astype(np.float64).copy()
    rhs = rhs.copy()
    for i in range(1, n):  # eliminate below the diagonal
        factor = off[i - 1] / diag[i - 1]
        diag[i] = diag[i] - factor * off[i - 1]
        rhs[..., i, :] = rhs[..., i, :] - factor * rhs[..., i - 1, :]
    out = np.empty(rhs.shape)
    out[..., n - 1, :] = rhs[..., n - 1, :] / diag[n - 1]
    for i in range(n - 2, -1, -1):
        out[..., i, :] = (rhs[..., i, :] - off[i] * out[..., i + 1, :]) / diag[i]
    return out
