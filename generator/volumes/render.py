"""A sample's frames from its cavities' records: count, per output voxel and time point, the points in cavities.

Counts are exact integers, so the bytes do not depend on the order of the cavities or on how the
work is split. An output voxel at time point t holds round(255 * count / (B^3 * time_factor)), the
block mean of its generation voxels over the time point's generated steps (or, with a threshold,
255 where count >= threshold * B^3 * time_factor, else 0).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from generator.volumes import voxels
from generator.volumes.cavities import BALL, COLUMNS, TORUS
from generator.volumes.geometry import between, lifetime_fractions, rotation, scale

_AT = dict(zip((name for name, _ in COLUMNS), np.cumsum([0] + [w for _, w in COLUMNS]).tolist()))


class Grid(NamedTuple):
    """The counting grid: `cells` points per edge, `block` cells per output voxel edge, time steps per time point."""

    cells: int
    block: int
    time_factor: int

    @classmethod
    def of(cls, spec) -> Grid:
        cells = spec.generation_size * spec.occupancy.samples
        return cls(cells, cells // spec.grid_size, spec.time_factor)


class Slice(NamedTuple):
    """One cavity at one generated time step: its box of cells `(3, 2)`, block-aligned, and `points(part)`:
    whether each cell of a box `part (3, 2)` within it is in the cavity, `(I, J, K)` bool."""

    box: np.ndarray
    points: Callable[[np.ndarray], np.ndarray]


def render(spec, family: np.ndarray, lifetimes: np.ndarray, record: np.ndarray) -> np.ndarray:
    """`frames (T, D, D, D) uint8` of one sample from its cavities: `family (C,)`, `lifetimes (C, 2)`, `record
    (C, NUM_COLUMNS)` float32 as stored (left-out cavities: family -1)."""
    grid = Grid.of(spec)
    counts = np.zeros((spec.num_frames, *spec.frame_shape()), np.int64)
    cavities = [(f, first, last, _columns(r))
                for f, (first, last), r in zip(family.tolist(), lifetimes.tolist(), record) if f >= 0]
    min_scale = spec.cavities.min_scale
    if spec.overlap == "separate":  # apart: each cavity's points add up
        for f, first, last, r in cavities:
            _ADD[f](r, first, last, min_scale, grid, counts)
    else:
        _add_union(cavities, min_scale, grid, counts)
    total = grid.block**3 * grid.time_factor
    if spec.threshold is None:
        return ((510 * counts + total) // (2 * total)).astype(np.uint8)
    return np.where(counts >= spec.threshold * total, 255, 0).astype(np.uint8)


def _columns(record: np.ndarray) -> dict[str, np.ndarray]:
    """A cavity's record `(NUM_COLUMNS,)` float32 by column name, float64."""
    return {name: record[_AT[name]: _AT[name] + width].astype(np.float64) for name, width in COLUMNS}


def _add(cube: np.ndarray, pieces: list[Slice], block: int, counts: np.ndarray) -> None:
    """Add to `counts (D, D, D)` the cells of the box `cube (3, 2)` in any of `pieces`, slab by slab."""
    for part in voxels.slabs(cube, block):
        if len(pieces) == 1:
            points = pieces[0].points(part)
        else:
            points = np.zeros(part[:, 1] - part[:, 0], bool)
            for piece in pieces:
                lo, hi = np.maximum(part[:, 0], piece.box[:, 0]), np.minimum(part[:, 1], piece.box[:, 1])
                if (lo < hi).all():
                    points[tuple(slice(a, b) for a, b in zip(lo - part[:, 0], hi - part[:, 0]))] |= \
                        piece.points(np.stack([lo, hi], axis=-1))
        found = voxels.block_counts(points, block)
        i, j, k = part[:, 0] // block
        counts[i: i + found.shape[0], j: j + found.shape[1], k: k + found.shape[2]] += found


def _add_ball(r, first, last, min_scale, grid: Grid, counts) -> None:
    """Add a ball's points to `counts (T, D, D, D)`, many steps at once: one run of cells per line."""
    cells, block, f = grid
    centre, turn, semi_axes = r["centre_first"] * cells, rotation(r["orientation_first"]), r["size"] * cells
    scales = scale(lifetime_fractions(first, last, f), min_scale)
    extent = voxels.ellipsoid_extent(turn, semi_axes) * scales.max()
    (i0, i1), (j0, j1), (k0, k1) = voxels.box(centre, extent, cells, block)
    matrix = voxels.ellipsoid_matrix(turn, semi_axes)
    cols = np.arange(j0, j1)
    per_row = len(cols) * (k1 - k0) // block  # run counts per row of lines and step
    rows = max(block, voxels.RUN_VALUES // max(1, per_row) // block * block)
    steps = max(1, voxels.RUN_VALUES // (rows * per_row))
    times = first + np.arange(len(scales)) // f
    for top in range(i0, i1, rows):
        lines = np.arange(top, min(i1, top + rows))
        for lo in range(0, len(scales), steps):
            s, t = scales[lo: lo + steps], times[lo: lo + steps]
            runs = voxels.run_counts(*voxels.ellipsoid_runs(centre, matrix, s * s, lines, cols), k0, k1, block)
            shape = (len(s), len(lines) // block, block, len(cols) // block, block, runs.shape[-1])
            found = runs.reshape(shape).sum(axis=(2, 4), dtype=np.int64)
            found = np.add.reduceat(found, np.flatnonzero(np.diff(t, prepend=-1)), axis=0)  # steps into time points
            counts[t[0]: t[-1] + 1, top // block: top // block + shape[1], j0 // block: j1 // block,
                   k0 // block: k1 // block] += found


def _ball_slices(r, first, last, min_scale, grid: Grid):
    """A ball's `Slice` at each of its generated steps, in order (for `merge`, which needs its points)."""
    cells, block, f = grid
    centre, turn, semi_axes = r["centre_first"] * cells, rotation(r["orientation_first"]), r["size"] * cells
    matrix = voxels.ellipsoid_matrix(turn, semi_axes)
    extent = voxels.ellipsoid_extent(turn, semi_axes)

    def points(part, s):
        (i0, i1), (j0, j1), (k0, k1) = part
        lo, hi = voxels.ellipsoid_runs(centre, matrix, np.array([s * s]), np.arange(i0, i1), np.arange(j0, j1))
        k = np.arange(k0, k1)
        return (lo[0, ..., None] <= k) & (k <= hi[0, ..., None])

    for s in scale(lifetime_fractions(first, last, f), min_scale):
        yield Slice(voxels.box(centre, extent * s, cells, block), lambda part, s=s: points(part, s))


def _torus_slices(r, first, last, min_scale, grid: Grid):
    """A torus's `Slice` at each of its generated steps, in order."""
    cells, block, f = grid
    u = lifetime_fractions(first, last, f)
    centres = (r["centre_first"] * (1 - u)[:, None] + r["centre_last"] * u[:, None]) * cells
    axes = rotation(between(r["orientation_first"], r["orientation_last"], u))[:, :, 2]
    ring_first, ring_last, tube = r["size"] * cells
    rings = ring_first + (ring_last - ring_first) * u
    tubes = tube * scale(u, min_scale)
    for centre, axis, ring, tube in zip(centres, axes, rings, tubes):
        extent = ring * np.sqrt(np.maximum(0, 1 - axis * axis)) + tube
        yield Slice(voxels.box(centre, extent, cells, block),
                    lambda part, c=centre, a=axis, R=ring, t=tube: voxels.torus_inside(c, a, R, t, part))


def _add_torus(r, first, last, min_scale, grid: Grid, counts) -> None:
    """Add a torus's points to `counts (T, D, D, D)`, a generated step at a time."""
    for step, piece in enumerate(_torus_slices(r, first, last, min_scale, grid)):
        _add(piece.box, [piece], grid.block, counts[first + step // grid.time_factor])


def _add_union(cavities, min_scale, grid: Grid, counts) -> None:
    """Add the points in any cavity to `counts (T, D, D, D)` (`merge`: overlapping cavities count once),
    a generated step at a time, in the box around that step's cavities."""
    f = grid.time_factor
    lives = [(first * f, (last + 1) * f, _SLICES[family](r, first, last, min_scale, grid))
             for family, first, last, r in cavities]
    for step in range(counts.shape[0] * f):
        pieces = [next(slices) for begin, end, slices in lives if begin <= step < end]
        if pieces:
            boxes = np.stack([p.box for p in pieces])
            _add(np.stack([boxes[..., 0].min(axis=0), boxes[..., 1].max(axis=0)], axis=-1), pieces, grid.block,
                 counts[step // f])


# family -> how its points are added up, and its `Slice`s
_ADD = {BALL: _add_ball, TORUS: _add_torus}
_SLICES = {BALL: _ball_slices, TORUS: _torus_slices}
