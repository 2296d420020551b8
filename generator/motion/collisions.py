"""Objects that bounce off each other as well as off the walls, so that their boxes never overlap.

A box is an object's sprite rectangle in pixels: top-left X = position * free (the product that
`pixel_offsets` floors), size w, and on each axis it covers [X, X + w). Two boxes overlap when they
overlap on both axes: X_a + w_a > X_b and X_b + w_b > X_a (sums in float64). Sizes are whole pixels,
so boxes that do not overlap have integer boxes [floor(X), floor(X) + w) that do not overlap either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from generator.motion.base import MOTIONS, Motion, Space, Track, appearing
from generator.motion.bouncing import launch, stepping


@MOTIONS.register
@dataclass(frozen=True)
class Collisions(Motion):
    """Straight lines at constant speed with elastic bounces off the walls and off each other (equal masses).

    Start: boxes apart, in distinct cells of a grid (`placed`); theta ~ U[0, 2 pi), velocity
    `step_length` * (cos theta, sin theta) of the free space per frame, kept in pixels per frame from
    then on. Each frame (`collide`): move, and bounce off the walls as `classic`; a pair whose boxes
    would overlap keeps its coordinates on its contact axis (wholly, where that is not enough) and, if
    closing, exchanges its velocity components on that axis. Objects not `present` take no part; an
    object that appears late (`appear`) takes part before it shows, so that it never shows overlapping.
    """

    name = "collisions"

    step_length: float | tuple[float, float] = stepping()
    appear: float = appearing()

    def start(self, rng, shape, num_frames):
        jitter, direction, speed = launch(rng, shape, self.step_length)
        return {"jitter": jitter, "velocity": speed[..., None] * direction, "cell": rng.random(shape)}

    def check_with(self, num_frames: int, image_size: int, box: tuple[int, int], max_objects: int) -> None:
        cells = ((image_size - 1) // box[0]) * ((image_size - 1) // box[1])
        if max_objects > cells:
            raise ValueError(
                f"num_objects={max_objects} boxes of {box[0]}x{box[1]} cannot be placed apart on "
                f"image_size={image_size} for motion {self.name!r}: at most {cells} fit (grid cells larger "
                f"than the largest sprite); use fewer objects or a larger image_size")

    def track(self, state, num_frames: int, space: Space) -> Track:
        # objects first and sequences last, (K, 2, N) and (K, N): an object's values are contiguous rows
        free, sizes, jitter, velocity = (_objects_first(a) for a in
                                         (space.free, space.sizes, state["jitter"], state["velocity"]))
        present, cell = space.present.T, state["cell"].T
        corner = placed(cell, jitter, present, free, sizes)
        free = np.where(present[:, None], free, 1.0)  # absent objects: any non-zero free space
        velocity = np.where(present[:, None], velocity * free, 0.0)
        positions = _collide(corner / free, velocity, free, sizes, present, num_frames)
        return Track(positions.transpose(3, 0, 1, 2), {})


def _objects_first(values: np.ndarray) -> np.ndarray:
    """`(N, K, 2)` -> `(K, 2, N)`, contiguous."""
    return np.ascontiguousarray(values.transpose(1, 2, 0))


def placed(cell: np.ndarray, jitter: np.ndarray, present: np.ndarray, free: np.ndarray,
           sizes: np.ndarray) -> np.ndarray:
    """Start top-left corners `(K, 2, N)` float64 in pixels (x, y), apart by construction, from the draws
    `cell (K, N)` and `jitter (K, 2, N)` of objects `present (K, N)` bool, with their `free` space and box
    `sizes` in pixels, `(K, 2, N)` each.

    Each axis of the canvas (C px) is cut into n = ceil(C / w) - 1 equal cells, w the sequence's largest
    present box on that axis, so that each cell is wider than any box; cells are numbered row by row.
    The present objects, in order, take distinct cells: the j-th takes the m-th still free cell,
    m = floor(cell * (cells - j)) for its draw cell ~ U[0, 1). In its cell (start c, slack s = cell size
    - its size) an object sits at c + s (1 + 2 u) / 4 for its jitter u ~ U[0, 1) per axis: boxes in
    different cells are at least a quarter of each slack apart (slack >= 1 / n px), far above rounding.
    Absent objects sit at 0. ValueError if a sequence has fewer cells than present objects.
    """
    canvas = np.where(present[:, None], free + sizes, 0).max(axis=0)  # (2, N)
    largest = np.maximum(np.where(present[:, None], sizes, 0).max(axis=0), 1)
    count = (canvas - 1) // largest  # cells per axis, so that count * largest < canvas
    cells = count[0] * count[1]
    crowded = present.sum(axis=0) > cells
    if crowded.any():
        i = int(np.argmax(crowded))
        (width, rows), (canvas_width, canvas_rows) = largest[:, i].astype(int), canvas[:, i].astype(int)
        raise ValueError(f"num_objects={int(present[:, i].sum())} boxes of up to {rows}x{width} cannot be placed "
                         f"apart on a {canvas_rows}x{canvas_width} image: at most {int(cells[i])} fit; use fewer "
                         f"objects or a larger image_size")
    count = np.maximum(count, 1)  # a sequence without objects has no cells to cut
    k, n = present.shape
    taken = np.full((k, n), np.iinfo(np.int64).max)  # cells taken so far, ascending
    index = np.zeros((k, n), np.int64)
    before = np.zeros(n, np.int64)  # present objects before the j-th
    for j in range(k):
        choices = np.maximum(cells - before, 1)
        m = np.minimum(np.floor(cell[j] * choices), choices - 1).astype(np.int64)
        for i in range(j):  # the m-th free cell: step over each taken cell at or before it
            m += taken[i] <= m
        index[j] = m
        taken[j] = np.where(present[j], m, taken[j])
        if 0 < j < k - 1:  # kept ascending for the next object (one is sorted, the last is not used)
            taken[: j + 1].sort(axis=0)
        before += present[j]
    row, column = np.divmod(index, count[0].astype(np.int64))
    grid = np.stack([column, row], axis=1)  # (K, 2, N)
    size = canvas / count  # (2, N) cell size
    slack = size - sizes
    corner = grid * size + slack * (1 + 2 * jitter) / 4
    return np.where(present[:, None], corner, 0.0)


def collide(position: np.ndarray, velocity: np.ndarray, space: Space, num_frames: int) -> np.ndarray:
    """Step `num_frames` times with bounces off the walls and between objects.

    position: (N, K, 2) float64 fractions of the free space, boxes apart; velocity: (N, K, 2) float64
    pixels per frame. Returns `(N, num_frames + 1, K, 2)` float64: the start, then the position after
    each step. One step, from positions p whose boxes are apart:
      1. propose q = p + v / free; where q <= 0 or q >= 1, clamp it to [0, 1] and negate that
         velocity component (a wall hit, as `classic`);
      2. the present pairs whose boxes overlap at q collide. A pair's contact axis is the axis on which
         its boxes were apart at p; if apart on both, the one on which they met later: x when
         gap_x * depth_y >= gap_y * depth_x (gap: how far apart at p, depth: the overlap at q).
         Both objects of each pair keep their coordinate from p on the contact axis (they slide along
         each other on the other axis). Pairs that still overlap then keep both coordinates from p,
         round after round, until none overlap: pairs of the first round are apart on their contact
         axis, and objects wholly back at p are apart, so this ends within K + 1 rounds;
      3. each pair that collided (in the order found: round, then pair (a, b) with a < b) and is
         closing along its contact axis (the one behind faster towards the other) exchanges its
         velocity components along that axis: equal masses, an elastic bounce.
    Velocities are only exchanged or negated, so the sum of squared speeds on each axis is kept exactly.
    """
    planar = (_objects_first(a) for a in (position, velocity, space.free, space.sizes))
    return _collide(*planar, space.present.T, num_frames).transpose(3, 0, 1, 2)


def _collide(position: np.ndarray, velocity: np.ndarray, free: np.ndarray, sizes: np.ndarray, present: np.ndarray,
             num_frames: int) -> np.ndarray:
    """`collide` with objects first and sequences last: (K, 2, N) arrays and `present (K, N)`, so that an
    object's or a pair's values are contiguous rows; returns `(num_frames + 1, K, 2, N)`."""
    pairs = _pairs(present)
    out = np.empty((num_frames + 1, *position.shape))
    out[0] = position
    corner, moved = position * free, np.empty(position.shape)
    step, wall, below = np.empty(position.shape), np.empty(position.shape, bool), np.empty(position.shape, bool)
    for t in range(num_frames):
        proposal = out[t + 1]
        np.divide(velocity, free, out=step)
        np.add(out[t], step, out=proposal)
        np.less_equal(proposal, 0, out=below)
        np.greater_equal(proposal, 1, out=wall)
        wall |= below
        np.clip(proposal, 0, 1, out=proposal)
        _bits(velocity)[...] ^= np.left_shift(wall, 63, dtype=np.uint64)  # negated at the walls: the sign bit
        np.multiply(proposal, free, out=moved)
        contacts = _contacts(corner, moved, sizes, pairs)
        if contacts is not None:  # None: no pair overlaps in any sequence
            _meet(contacts, (out[t], proposal), (corner, moved), velocity, free, sizes, pairs)
        corner, moved = moved, corner
    return out


class _Pairs(NamedTuple):
    """The pairs (i, j), i < j, of K objects in N sequences, in the order of `itertools.combinations`."""

    each: tuple[tuple[int, int], ...]  # (i, j) for each pair, in order
    first: np.ndarray | slice  # (P,) i, or the same as a slice (views instead of copies)
    second: np.ndarray | slice  # (P,) j
    both: np.ndarray | None  # (P, N) bool: whether both objects are present; None: all are

    def of(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The values `(K, ...)` of each pair's i and j, `(P, ...)` each."""
        return values[self.first], values[self.second]


def _pairs(present: np.ndarray) -> _Pairs:
    """The pairs of the objects of `present (K, N) bool`."""
    first, second = np.triu_indices(len(present), 1)
    pairs = _Pairs(tuple(zip(first.tolist(), second.tolist())), _as_slice(first), _as_slice(second), None)
    present_i, present_j = pairs.of(present)
    return pairs._replace(both=None if present.all() else present_i & present_j)


def _as_slice(index: np.ndarray) -> np.ndarray | slice:
    """`index (P,)` as a slice where its values are consecutive (all of them for 2 objects), else itself."""
    consecutive = len(index) and (np.diff(index) == 1).all()
    return slice(int(index[0]), int(index[-1]) + 1) if consecutive else index


def _contacts(before: np.ndarray, after: np.ndarray, sizes: np.ndarray, pairs: _Pairs) -> tuple | None:
    """Which present pairs' boxes overlap at `after`, and for those, whether their contact axis from
    `before` is x: `(overlap, along_x)`, (P, N) bool each (along_x meaningless where no overlap); None
    if no pair overlaps. before, after: top-left corners, sizes: box sizes, (K, 2, N) float64 pixels."""
    (after_i, after_j), (end_i, end_j) = pairs.of(after), pairs.of(after + sizes)  # (P, 2, N) each
    overlap = end_i > after_j
    overlap &= end_j > after_i
    overlap = overlap[:, 0] & overlap[:, 1]
    if pairs.both is not None:
        overlap &= pairs.both
    if not np.count_nonzero(overlap):
        return None
    (before_i, before_j), (reach_i, reach_j) = pairs.of(before), pairs.of(before + sizes)
    gap = np.maximum(before_j - reach_i, before_i - reach_j)  # how far apart, per axis
    apart = gap >= 0
    depth = np.minimum(end_i, end_j) - np.maximum(after_i, after_j)  # how deep the overlap, per axis
    products = gap * depth[:, ::-1]  # gap_x * depth_y, gap_y * depth_x
    later_x = products[:, 0] >= products[:, 1]
    return overlap, apart[:, 0] & (later_x >= apart[:, 1])  # (later_x >= apart_y): not apart on y, or x later


def _meet(contacts, positions, corners, velocity: np.ndarray, free: np.ndarray, sizes: np.ndarray,
          pairs: _Pairs) -> None:
    """Steps 2 and 3 of `collide` in place, from the first round's `contacts` (`_contacts`): the held
    coordinates of the proposal q go back to p (`positions` = (p, q), fractions of the free space), q's
    corners in pixels are recomputed (`corners` = (p * free, q * free)), and `velocity` is exchanged.
    All (K, 2, N)."""
    (before, after), (corner, moved) = positions, corners
    held = np.zeros(moved.shape, bool)
    collisions = []  # per round: (P, 2, N) bool, the pairs that collide on x, on y
    while contacts is not None and len(collisions) < len(moved) + 2:
        overlap, along_x = contacts
        collisions.append(np.equal(along_x[:, None], _X_THEN_Y) & overlap[:, None])
        on = collisions[0] if len(collisions) == 1 else overlap[:, None]  # later rounds hold both axes
        for p, (i, j) in enumerate(pairs.each):  # both objects of each pair
            held[i] |= on[p]
            held[j] |= on[p]
        after[...] = np.where(held, before, after)
        np.multiply(after, free, out=moved)  # where held: p * free, the corner at p, exactly
        # a single pair is apart after its first round, on its contact axis: there is nothing to check
        contacts = _contacts(corner, moved, sizes, pairs) if len(pairs.each) > 1 else None
    for colliding in collisions:
        for p, (i, j) in enumerate(pairs.each):
            _exchange(velocity, corner, i, j, colliding[p])


_X_THEN_Y = np.array([[True], [False]])  # along_x == this: colliding on x, on y


def _exchange(velocity: np.ndarray, corner: np.ndarray, i: int, j: int, on: np.ndarray) -> None:
    """Exchange, in place, the velocity components of objects i and j along the axes where `on (2, N)` bool
    (x, y), where the pair is closing along that axis (the one behind faster towards the other)."""
    va, vb = velocity[i], velocity[j]
    swap = (vb < va) == (corner[j] > corner[i])  # (vb - va) * side < 0, side +1 where j is after i, else -1
    swap &= vb != va
    swap &= on
    pair = velocity[i : j + 1 : j - i]  # (2, 2, N): va and vb (a view)
    pair[...] = np.where(swap, pair[::-1], pair)


def _bits(values: np.ndarray) -> np.ndarray:
    """float64 `values` seen as their uint64 bits (a view)."""
    return values.view(np.uint64)
