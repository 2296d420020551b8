"""Quaternions, rotations and the growth profile of cavities, in plain arithmetic.

Only +, -, *, / and sqrt (correctly rounded everywhere) decide a value, so that no maths library or
processor changes a byte. Quaternions are (w, x, y, z) on the last axis, float64.
"""

from __future__ import annotations

import numpy as np


def unit(vectors: np.ndarray) -> np.ndarray:
    """`vectors (..., n)` divided by their length."""
    return vectors / np.sqrt((vectors * vectors).sum(axis=-1, keepdims=True))


def product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The quaternion product a b (the rotation b, then a), `(..., 4)` each."""
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ], axis=-1)


def rotation(q: np.ndarray) -> np.ndarray:
    """The rotation matrices `(..., 3, 3)` of quaternions `q (..., 4)` (normalised here): column k is the
    body's axis k in grid coordinates."""
    w, x, y, z = np.moveaxis(unit(q), -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], axis=-1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], axis=-1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=-1),
    ], axis=-2)


def between(q0: np.ndarray, q1: np.ndarray, u: np.ndarray) -> np.ndarray:
    """The orientation at lifetime fraction `u (S,)` from `q0` to `q1` (`(4,)` each, q0 . q1 >= 0):
    normalised linear interpolation, `(S, 4)`; it turns about one fixed axis, from q0 at u = 0 to q1 at u = 1."""
    return unit((1 - u)[:, None] * q0 + u[:, None] * q1)


def scale(u: np.ndarray, min_scale: float) -> np.ndarray:
    """A cavity's size at lifetime fraction `u` in [0, 1], as a fraction of its widest:
    sqrt(1 - (1 - min_scale^2) (2u - 1)^2): min_scale at u = 0 and 1, 1 at u = 1/2.

    It is the slice of a 4D ellipsoid whose time semi-axis is half the lifetime / sqrt(1 - min_scale^2).
    """
    v = 2 * u - 1
    return np.sqrt(1 - (1 - min_scale * min_scale) * (v * v))


def lifetime_fractions(first: int, last: int, time_factor: int) -> np.ndarray:
    """`u (S,)` float64 of the generated time steps of a cavity living from output time point `first` to
    `last` (inclusive): step s (the generated steps s * time_factor .. of time point s // time_factor)
    is at u = (s + 1/2 - first * time_factor) / ((last - first + 1) * time_factor), in (0, 1)."""
    steps = (last - first + 1) * time_factor
    return (np.arange(steps, dtype=np.float64) + 0.5) / steps
