"""Which points of the generation grid lie in a cavity, counted per output voxel.

The points are the centres of the F^3 cells of the counting grid (F = generation_size x
occupancy.samples): point (i, j, k) is at (i + 1/2, j + 1/2, k + 1/2) in cell units. An output
voxel is a block of B^3 cells (B = F / grid_size). Every function works inside a cavity's box,
block-aligned, so that the cost follows the cavity's size, not the grid's.
"""

from __future__ import annotations

import math

import numpy as np

# Cells evaluated at once, about: few enough to stay in the CPU cache, and to bound the memory of a
# large cavity on a fine grid.
SLAB_CELLS = 1 << 16
# Values of a ball's runs computed at once, about.
RUN_VALUES = 1 << 21


def box(centre: np.ndarray, extent: np.ndarray, cells: int, block: int) -> np.ndarray:
    """`(3, 2)` int: per axis the cells [lo, hi) that may hold a point within `extent (3,)` of `centre (3,)`
    (cell units), widened to whole blocks and cut to the grid."""
    lo = np.floor(centre - extent - 0.5).astype(np.int64)
    hi = np.ceil(centre + extent - 0.5).astype(np.int64) + 1
    lo = np.clip(lo // block * block, 0, cells)
    hi = np.clip(-(-hi // block) * block, 0, cells)
    return np.stack([lo, np.maximum(lo, hi)], axis=-1)


def ellipsoid_matrix(rotation: np.ndarray, semi_axes: np.ndarray) -> np.ndarray:
    """M `(3, 3)` with d^T M d <= 1 inside the ellipsoid: M[p, q] = sum_k R[p, k] R[q, k] / a_k^2,
    summed term by term (no matrix product, whose rounding could depend on the library)."""
    scaled = rotation / (semi_axes * semi_axes)  # R[p, k] / a_k^2
    return scaled[:, None, 0] * rotation[None, :, 0] + scaled[:, None, 1] * rotation[None, :, 1] \
        + scaled[:, None, 2] * rotation[None, :, 2]


def ellipsoid_extent(rotation: np.ndarray, semi_axes: np.ndarray) -> np.ndarray:
    """`(3,)` the half-widths along the grid's axes of the ellipsoid with `semi_axes` along the body axes."""
    spread = rotation * semi_axes
    return np.sqrt((spread * spread).sum(axis=1))


def ellipsoid_runs(centre: np.ndarray, matrix: np.ndarray, squared_scales: np.ndarray, rows: np.ndarray,
                   cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points of the ellipsoids d^T M d <= s^2 (d: from `centre`) on the lines along axis 2 through
    cells (i, j), i in `rows`, j in `cols`: one run of cells k per line, `first, last (S, I, J)` int64
    inclusive (last < first: none), for each squared scale s^2 of `squared_scales (S,)`.

    On a line, d = (d0, d1, z) and M22 z^2 + 2 beta z + gamma <= s^2, an interval of z in closed form.
    """
    d0 = (rows + 0.5 - centre[0])[:, None]
    d1 = (cols + 0.5 - centre[1])[None, :]
    m = matrix
    beta = m[0, 2] * d0 + m[1, 2] * d1
    gamma = m[0, 0] * d0 * d0 + 2 * m[0, 1] * d0 * d1 + m[1, 1] * d1 * d1
    base = beta * beta - m[2, 2] * gamma
    disc = base + m[2, 2] * squared_scales[:, None, None]
    root = np.sqrt(np.maximum(disc, 0))
    middle = centre[2] - 0.5 - beta / m[2, 2]
    first = np.ceil(middle - root / m[2, 2]).astype(np.int64)
    last = np.where(disc >= 0, np.floor(middle + root / m[2, 2]).astype(np.int64), first - 1)
    return first, last


def run_counts(first: np.ndarray, last: np.ndarray, lo: int, hi: int, block: int) -> np.ndarray:
    """`(..., (hi - lo) / block)` int16: the cells of runs [first, last] (`(...)` each) in each block of
    cells [lo, hi) along the line (in int16, which holds any count of a grid of at most 2^15 cells an edge)."""
    starts = np.arange(0, hi - lo, block, dtype=np.int16)
    ends = np.clip(last + 1 - lo, 0, hi - lo).astype(np.int16)[..., None] - starts
    begins = np.clip(first - lo, 0, hi - lo).astype(np.int16)[..., None] - starts
    np.clip(ends, 0, block, out=ends)
    np.clip(begins, 0, block, out=begins)
    ends -= begins
    return ends


def torus_inside(centre: np.ndarray, axis: np.ndarray, ring: float, tube: float, cells: np.ndarray) -> np.ndarray:
    """`(I, J, K)` bool: whether each cell's point of the box `cells (3, 2)` is in the solid torus about
    `centre` with unit `axis`, ring radius R and tube radius r (cell units; R > r).

    With d the point minus the centre, q = |d|^2 and h = d . axis, the point is within r of the ring
    where (sqrt(q - h^2) - R)^2 + h^2 <= r^2, that is (q + R^2 - r^2)^2 <= 4 R^2 (q - h^2) (both sides of
    2 R sqrt(q - h^2) >= q + R^2 - r^2 > 0, squared). Evaluated in float32.
    """
    d = [(np.arange(lo, hi) + 0.5 - c).astype(np.float32) for (lo, hi), c in zip(cells, centre)]
    n = axis.astype(np.float32)
    d0 = d[0][:, None, None]
    h = n[0] * d0 + (n[1] * d[1][:, None] + n[2] * d[2][None, :])
    q = d0 * d0 + (d[1][:, None] * d[1][:, None] + d[2][None, :] * d[2][None, :])
    h *= h
    np.subtract(q, h, out=h)
    h *= np.float32(4 * ring * ring)
    q += np.float32(ring * ring - tube * tube)
    q *= q
    return q <= h


def slabs(cells: np.ndarray, block: int):
    """The box `cells (3, 2)` (block-aligned) cut along axis 0 into boxes of about SLAB_CELLS cells each: whole
    blocks of rows, or, where one block of rows holds more, an equal part of a block's rows."""
    (lo, hi), plane = cells[0], (cells[1, 1] - cells[1, 0]) * (cells[2, 1] - cells[2, 0])
    fit = SLAB_CELLS // max(1, plane)
    if fit >= block:
        rows = fit // block * block
    else:
        rows = max(d for d in range(1, fit + 1) if block % d == 0) if fit else 1
    for top in range(lo, hi, rows):
        part = cells.copy()
        part[0] = top, min(hi, top + rows)
        yield part


def block_counts(inside: np.ndarray, block: int) -> np.ndarray:
    """`(I/B, J/B, K/B)` int64: the True cells of `inside (I, J, K)` (C-contiguous) in each block of B^3
    cells; `(1, J/B, K/B)` for I < B, a part of one block's rows.

    Along axis 2 the cells are read w bytes at a time (w = 8, 4, 2 or 1, the largest dividing B) as
    one unsigned integer: times 0x0101..01, its top byte is the sum of its w bytes, each 0 or 1.
    """
    i, j, k = inside.shape
    rows = min(i, block)
    width = math.gcd(block, 8)
    word = np.dtype(f"u{width}")
    ones = word.type(int.from_bytes(b"\x01" * width, "little"))
    per_word = (inside.view(word) * ones) >> word.type(8 * (width - 1))
    counts = per_word.reshape(i // rows, rows, j // block, block, k // block, block // width)
    return np.add.reduce(np.add.reduce(np.add.reduce(counts, axis=5), axis=3), axis=1).astype(np.int64)
