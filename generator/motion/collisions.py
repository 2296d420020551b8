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
    pairs = np.array(list(combinations(range(k), 2)), np.int64).reshape(-1, 2)
    a, b = pairs[:, 0], pairs[:, 1]
    both = present[:, a] & present[:, b]  # (N, P)
    member = (np.arange(k) == pairs[..., None]).any(axis=1)[None, :, :, None]  # (1, P, K, 1): a pair's objects
    position, velocity = position.copy(), velocity.copy()
    out = np.empty((num_frames + 1, *position.shape))
    out[0] = position
    corner = position * free
    for t in range(num_frames):
        proposal = position + velocity / free
        wall = (proposal <= 0) | (proposal >= 1)
        np.clip(proposal, 0, 1, out=proposal)
        np.negative(velocity, out=velocity, where=wall)
        moved = proposal * free
        held = np.zeros(position.shape, bool)  # (N, K, 2): coordinates kept from p
        collisions = []
        rows = np.arange(len(position))  # the sequences that may still hold overlaps
        for round in range(k + 2):
            overlap = _overlaps(moved[rows], sizes[rows], a, b) & both[rows]
            hit = overlap.any(axis=1)
            if not hit.any():
                break
            rows, overlap = rows[hit], overlap[hit]
            along_x = _along_x(corner[rows], moved[rows], sizes[rows], a, b)
            collisions.append((rows, overlap, along_x))
            axes = overlap[..., None] & (np.stack([along_x, ~along_x], axis=-1) if round == 0 else True)  # (n, P, 2)
            held[rows] |= (axes[:, :, None] & member).any(axis=1)
            moved[rows] = np.where(held[rows], corner[rows], moved[rows])
        for rows, overlap, along_x in collisions:
            for p in np.flatnonzero(overlap.any(axis=0)):
                i = rows[overlap[:, p]]
                axis = np.where(along_x[overlap[:, p], p], 0, 1)
                va, vb = velocity[i, a[p], axis], velocity[i, b[p], axis]
                side = np.where(corner[i, b[p], axis] > corner[i, a[p], axis], 1.0, -1.0)  # b after a, or before
                closing = (vb - va) * side < 0
                i, axis = i[closing], axis[closing]
                velocity[i, a[p], axis], velocity[i, b[p], axis] = vb[closing], va[closing]
        position = np.where(held, position, proposal)
        corner = moved
        out[t + 1] = position
    return out.transpose(1, 0, 2, 3)


def _overlaps(corner: np.ndarray, sizes: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, P) bool: whether the boxes of each pair (a, b) overlap on both axes."""
    end = corner + sizes
    apart = (end[:, a] <= corner[:, b]) | (end[:, b] <= corner[:, a])
    return ~(apart[..., 0] | apart[..., 1])


def _along_x(before: np.ndarray, after: np.ndarray, sizes: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, P) bool: whether the contact axis of each pair (a, b), apart at `before` and overlapping at `after`, is x."""
    gap = np.maximum(before[:, b] - (before[:, a] + sizes[:, a]), before[:, a] - (before[:, b] + sizes[:, b]))
    apart = gap >= 0
    depth = np.minimum(after[:, a] + sizes[:, a], after[:, b] + sizes[:, b]) - np.maximum(after[:, a], after[:, b])
    later_x = gap[..., 0] * depth[..., 1] >= gap[..., 1] * depth[..., 0]
    return apart[..., 0] & (~apart[..., 1] | later_x)
