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


def _pieces(key_frames: np.ndarray):
    """Per segment i: (i, first, last, t), the path's frame indices first:last (from key i, up to but not
    including key i + 1; the last segment includes the last key) and `t (last - first,)` float64, the
    fraction of the segment done at each: distance from key i / segment length."""
    w = len(key_frames)
    for i in range(w - 1):
        first, end = key_frames[i] - key_frames[0], key_frames[i + 1] - key_frames[0]
        last = end + 1 if i == w - 2 else end
        yield i, first, last, np.arange(last - first, dtype=np.float64) / (end - first)


def linear(keys: np.ndarray, key_frames: np.ndarray) -> np.ndarray:
    """Straight lines from each key to the next at constant speed."""
    return np.moveaxis(_linear(frames_first(keys), key_frames), 0, -2)


def frames_first(values: np.ndarray) -> np.ndarray:
    """`(..., F, D)` -> a new contiguous `(F, ..., D)`: each frame one block, where a value per frame
    broadcasts along one long run. Rows of D values move as single items: numpy's own copy of a
    transpose with a short last axis is several times slower."""
    values = np.ascontiguousarray(values)
    rows = values.view(np.dtype((np.void, values.shape[-1] * values.itemsize)))[..., 0]
    moved = np.moveaxis(rows, -1, 0).copy()
    return moved.view(values.dtype).reshape(moved.shape + values.shape[-1:])


def _linear(keys: np.ndarray, key_frames: np.ndarray) -> np.ndarray:
    """`linear` with the keys and frames on the first axis (each frame one contiguous block). Written
    into preallocated arrays: a fresh large temporary costs more than the arithmetic here."""
    path = np.empty((key_frames[-1] - key_frames[0] + 1, *keys.shape[1:]))
    scratch = np.empty(path.shape)
    for i, first, last, t in _pieces(key_frames):  # t = 0 at a key: key * 1 + next * 0 is the key exactly
        t = t.reshape(-1, *[1] * (keys.ndim - 1))
        np.multiply(keys[i], 1 - t, out=path[first:last])
        path[first:last] += np.multiply(keys[i + 1], t, out=scratch[first:last])
    return path


def bridge(keys: np.ndarray, key_frames: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """`linear` plus a Brownian bridge that is zero at every key.

    steps: `(..., F, D)` the random walk's increments (Gaussian, already scaled by the standard
    deviation), one per frame; the first frame's is not used. In each segment from frame a to frame b
    the walk X starts at 0 at a, and the bridge is Y_f = X_f - (f - a) / (b - a) * X_b (seed 002's
    construction, with the walk's end value X_b: zero at both ends). In float64, with W the running
    sum of the steps from the first frame (W_f = W_(f-1) + step_f): X_f = W_f - W_a, and the path
    is linear + (X_f - t X_b) with t = (f - a) / (b - a).
    """
    walk = frames_first(steps)
    for f in range(1, len(walk)):  # the running sum in place, frame by frame: numpy's cumsum down axis 0 is slower
        walk[f] += walk[f - 1]
    path = _linear(frames_first(keys), key_frames)
    x, spread = np.empty(walk.shape), np.empty(walk.shape)
    for i, first, last, t in _pieces(key_frames):
        t = t.reshape(-1, *[1] * (keys.ndim - 1))
        x_end = walk[key_frames[i + 1] - key_frames[0]] - walk[first]  # X_b (b starts the next segment)
        np.subtract(walk[first:last], walk[first], out=x[first:last])
        x[first:last] -= np.multiply(t, x_end, out=spread[first:last])
        path[first:last] += x[first:last]
    return np.moveaxis(path, 0, -2)


def spline(keys: np.ndarray, key_frames: np.ndarray) -> np.ndarray:
    """The natural cubic spline through the keys (second derivative 0 at the first and last key).

    Its second derivatives M solve the usual tridiagonal system; each segment is evaluated as
    key + d (b + d (c + d e)) with d the frames since its key, so that it is the key at d = 0.
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
    keys, b, c, e = (frames_first(values) for values in (keys, b, c, e))  # per segment, each frame one block
    path = np.empty((key_frames[-1] - key_frames[0] + 1, *keys.shape[1:]))
    for i, first, last, _ in _pieces(key_frames):
        d = np.arange(last - first, dtype=np.float64).reshape(-1, *[1] * (keys.ndim - 1))
        piece = np.multiply(d, e[i], out=path[first:last])  # in place, innermost first: c + d e, ...
        piece += c[i]
        piece *= d
        piece += b[i]
        piece *= d
        piece += keys[i]
    path[-1] = keys[-1]  # the last key, not the last segment's end
    return np.moveaxis(path, 0, -2)


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
