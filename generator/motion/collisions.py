"""Objects that bounce off each other as well as off the walls, so that their boxes never overlap.

A box is an object's sprite rectangle in pixels: top-left X = position * free (the product that
`pixel_offsets` floors), size w, and on each axis it covers [X, X + w). Two boxes overlap when they
overlap on both axes: X_a + w_a > X_b and X_b + w_b > X_a (sums in float64). Sizes are whole pixels,
so boxes that do not overlap have integer boxes [floor(X), floor(X) + w) that do not overlap either.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

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
        free = np.where(space.present[..., None], space.free, 1.0)  # absent objects: any non-zero free space
        position = placed(state["cell"], state["jitter"], space) / free
        velocity = np.where(space.present[..., None], state["velocity"] * free, 0.0)
        return Track(collide(position, velocity, space._replace(free=free), num_frames), {})


def placed(cell: np.ndarray, jitter: np.ndarray, space: Space) -> np.ndarray:
    """Start top-left corners `(N, K, 2)` float64 in pixels (x, y), apart by construction.

    Each axis of the canvas (C px) is cut into n = ceil(C / w) - 1 equal cells, w the sequence's largest
    present box on that axis, so that each cell is wider than any box; cells are numbered row by row.
    The present objects, in order, take distinct cells: the j-th takes the m-th still free cell,
    m = floor(cell * (cells - j)) for its draw cell ~ U[0, 1). In its cell (start c, slack s = cell size
    - its size) an object sits at c + s (1 + 2 u) / 4 for its jitter u ~ U[0, 1) per axis: boxes in
    different cells are at least a quarter of each slack apart (slack >= 1 / n px), far above rounding.
    Absent objects sit at 0. ValueError if a sequence has fewer cells than present objects.
    """
    present = space.present
    canvas = np.where(present[..., None], space.free + space.sizes, 0).max(axis=1)  # (N, 2)
    largest = np.maximum(np.where(present[..., None], space.sizes, 0).max(axis=1), 1)
    count = (canvas - 1) // largest  # cells per axis, so that count * largest < canvas
    cells = count[:, 0] * count[:, 1]
    crowded = present.sum(axis=1) > cells
    if crowded.any():
        i = int(np.argmax(crowded))
        (width, rows), (canvas_width, canvas_rows) = largest[i].astype(int), canvas[i].astype(int)
        raise ValueError(f"num_objects={int(present[i].sum())} boxes of up to {rows}x{width} cannot be placed apart "
                         f"on a {canvas_rows}x{canvas_width} image: at most {int(cells[i])} fit; use fewer objects "
                         f"or a larger image_size")
    count = np.maximum(count, 1)  # a sequence without objects has no cells to cut
    n, k = present.shape
    taken = np.full((n, k), np.iinfo(np.int64).max)  # cells taken so far, ascending
    index = np.zeros((n, k), np.int64)
    for j in range(k):
        before = present[:, :j].sum(axis=1)
        choices = np.maximum(cells - before, 1)
        m = np.minimum(np.floor(cell[:, j] * choices), choices - 1).astype(np.int64)
        for i in range(j):  # the m-th free cell: step over each taken cell at or before it
            m += taken[:, i] <= m
        index[:, j] = m
        taken[:, j] = np.where(present[:, j], m, taken[:, j])
        taken[:, : j + 1].sort(axis=1)
    across = count[:, :1].astype(np.int64)
    grid = np.stack([index % across, index // across], axis=-1)  # (N, K, 2) column, row
    size = canvas[:, None] / count[:, None]  # (N, 1, 2) cell size
    slack = size - space.sizes
    corner = grid * size + slack * (1 + 2 * jitter) / 4
    return np.where(present[..., None], corner, 0.0)


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
    free, sizes, present = space.free, space.sizes, space.present
    k = position.shape[1]
    pairs = list(combinations(range(k), 2))
    both = np.zeros((len(position), len(pairs)), bool)  # (N, P): both objects of the pair present
    for p, (i, j) in enumerate(pairs):
        np.logical_and(present[:, i], present[:, j], out=both[:, p])
    velocity = velocity.copy()
    out = np.empty((num_frames + 1, *position.shape))
    out[0] = position
    corner = position * free
    step, moved = np.empty(position.shape), np.empty(position.shape)
    wall, below = np.empty(position.shape, bool), np.empty(position.shape, bool)
    for t in range(num_frames):
        proposal = out[t + 1]
        np.divide(velocity, free, out=step)
        np.add(out[t], step, out=proposal)
        np.less_equal(proposal, 0, out=below)
        np.greater_equal(proposal, 1, out=wall)
        wall |= below
        np.clip(proposal, 0, 1, out=proposal)
        np.negative(velocity, out=velocity, where=wall)
        np.multiply(proposal, free, out=moved)
        overlap = _overlaps(moved, sizes, pairs, both)
        if overlap is not None:  # no rounds at all when no pair overlaps in any sequence
            held = np.zeros(position.shape, bool)  # (N, K, 2): coordinates kept from p
            collisions = []
            for round in range(k + 2):
                if round:
                    overlap = _overlaps(moved, sizes, pairs, both)
                    if overlap is None:
                        break
                along_x = _along_x(corner, moved, sizes, pairs, overlap)
                collisions.append((overlap, along_x))
                for p, (i, j) in enumerate(pairs):
                    on_x, on_y = (overlap[:, p] & along_x[:, p], overlap[:, p] & ~along_x[:, p]) if round == 0 else \
                        (overlap[:, p], overlap[:, p])
                    for member in (i, j):
                        held[:, member, 0] |= on_x
                        held[:, member, 1] |= on_y
                np.copyto(moved, corner, where=held)
            for overlap, along_x in collisions:
                for p, (i, j) in enumerate(pairs):
                    if overlap[:, p].any():
                        _exchange(velocity, corner, i, j, overlap[:, p] & along_x[:, p], overlap[:, p] & ~along_x[:, p])
            np.copyto(proposal, out[t], where=held)
        corner, moved = moved, corner
    return out.transpose(1, 0, 2, 3)


def _exchange(velocity: np.ndarray, corner: np.ndarray, i: int, j: int, on_x: np.ndarray, on_y: np.ndarray) -> None:
    """Exchange, in place, the velocity components of objects i and j along x where `on_x` and along y where
    `on_y` ((N,) bool each), where the pair is closing along that axis (the one behind faster towards the other)."""
    for axis, on in enumerate((on_x, on_y)):
        va, vb = velocity[:, i, axis], velocity[:, j, axis]
        side = np.where(corner[:, j, axis] > corner[:, i, axis], 1.0, -1.0)  # j after i, or before
        swap = on & ((vb - va) * side < 0)
        if swap.any():
            kept = va.copy()
            np.copyto(va, vb, where=swap)
            np.copyto(vb, kept, where=swap)


def _overlaps(corner: np.ndarray, sizes: np.ndarray, pairs: list, both: np.ndarray) -> np.ndarray | None:
    """(N, P) bool: whether the boxes of each present pair (i, j) overlap on both axes; None if none does."""
    end = corner + sizes
    overlap = np.empty(both.shape, bool)
    for p, (i, j) in enumerate(pairs):
        apart = (end[:, i] <= corner[:, j]) | (end[:, j] <= corner[:, i])
        np.logical_or(apart[:, 0], apart[:, 1], out=overlap[:, p])
    np.logical_not(overlap, out=overlap)
    overlap &= both
    return overlap if overlap.any() else None


def _along_x(before: np.ndarray, after: np.ndarray, sizes: np.ndarray, pairs: list, overlap: np.ndarray) -> np.ndarray:
    """(N, P) bool: whether the contact axis of each pair (i, j), apart at `before` and overlapping at `after`, is x;
    computed only in the sequences where a pair overlaps (`overlap`, (N, P) bool), False elsewhere."""
    along_x = np.zeros(overlap.shape, bool)
    rows = np.flatnonzero(overlap.any(axis=1))
    before, after, sizes = before[rows], after[rows], sizes[rows]
    for p, (i, j) in enumerate(pairs):
        gap = np.maximum(before[:, j] - (before[:, i] + sizes[:, i]), before[:, i] - (before[:, j] + sizes[:, j]))
        apart = gap >= 0
        depth = np.minimum(after[:, i] + sizes[:, i], after[:, j] + sizes[:, j]) - np.maximum(after[:, i], after[:, j])
        later_x = gap[:, 0] * depth[:, 1] >= gap[:, 1] * depth[:, 0]
        along_x[rows, p] = apart[:, 0] & (~apart[:, 1] | later_x)
    return along_x
