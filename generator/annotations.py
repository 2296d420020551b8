"""Annotations for detection and tracking: which object each pixel shows, and each object's boxes.

An object's pixels are where its alpha is above 0: its ink (the channels' maximum) for sources of
ink on black, its whole rectangle for opaque sources (CIFAR-10). Who owns a pixel of the composite
follows the compositing (`generator.compositing`, each rule's `claim`):

    over  the topmost object with alpha there (the one drawn last);
    max   the object whose value (channels' maximum) wins; on a tie, the one drawn last;
    sum   every object with ink there; the mask shows the one drawn last.

Backgrounds are scenery: they own no pixel and hide no object.

Boxes, everywhere in this project: `(x_min, y_min, x_max, y_max)` in pixels of the canvas, int16,
the max exclusive, so width = x_max - x_min. An empty box is (0, 0, 0, 0).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

EMPTY_BOX = (0, 0, 0, 0)


def annotate(sprites, offsets, shown, canvas: tuple[int, int], low, size: int, compositing, opaque: bool) -> dict:
    """The masks and boxes of a chunk of sequences, as drawn by `generator.render.render`.

    sprites: (N, Ts, K, C, h, w) uint8 as drawn, Ts = 1 (every frame) or T.
    offsets: (N, T, K, 2) integer (row, col) of each sprite's corner on a canvas of `canvas` (rows, cols)
        pixels, whose visible part is `size x size` pixels from `low` (rows, cols).
    shown: (N, T, K) bool, which sprites are drawn.

    Returns `masks (N, T, size, size) uint8` (0 background, k + 1 object k), `visible_boxes` and
    `full_boxes (N, T, K, 4) int16`, and `visible_fraction (N, T, K) float32`:
        visible box: the tight box of the object's pixels that it owns on the canvas;
        full box: the box of all the object's pixels, cut to the canvas (amodal);
        visible fraction: the pixels it owns on the canvas over all its pixels (0 when not drawn).
    """
    n, t, k = shown.shape
    h, w = sprites.shape[-2:]
    value = sprites.max(axis=3)  # (N, Ts, K, h, w)
    ink = np.ones(value.shape, bool) if opaque else value > 0
    owners = np.zeros((n, t, *canvas), np.uint8)
    best = np.zeros_like(owners) if compositing.compares else None
    owner_boxes, best_boxes = (None if a is None else _boxes(a, h, w) for a in (owners, best))
    sequence, frame = np.broadcast_arrays(np.arange(n)[:, None], np.arange(t))
    picks = [shown[:, :, j] for j in range(k)]
    # (sequences, frames, rows, cols) of sprite j's box where it is drawn
    places = [(sequence[p], frame[p], offsets[:, :, j, 0][p], offsets[:, :, j, 1][p]) for j, p in enumerate(picks)]

    def at(per_sprite, j):  # (M, h, w): sprite j in each picked frame
        whole = np.broadcast_to(per_sprite[:, :, j], (n, t, h, w))
        return whole[picks[j]]

    for j in range(k):  # claim pixels in drawing order
        where = places[j]
        mine, below = owner_boxes[where], None if best is None else best_boxes[where]
        compositing.claim(mine, below, at(value, j), at(ink, j), j + 1)
        owner_boxes[where] = mine
        if best is not None:
            best_boxes[where] = below

    visible_boxes = np.zeros((n, t, k, 4), np.int16)
    full_boxes = np.zeros((n, t, k, 4), np.int16)
    fraction = np.zeros((n, t, k), np.float32)
    ink_counts = ink.sum(axis=(-2, -1))  # (N, Ts, K)
    for j in range(k):
        pick, objects = picks[j], at(ink, j)
        rows, cols = places[j][2] - low[0], places[j][3] - low[1]  # on the visible canvas
        on_canvas = _inside(rows, h, size)[:, :, None] & _inside(cols, w, size)[:, None, :]
        own = objects if compositing.shared else owner_boxes[places[j]] == j + 1
        seen = own & on_canvas
        visible_boxes[pick, j] = _tight(seen, rows, cols)
        full_boxes[pick, j] = _tight(objects, rows, cols, size)
        counts = np.broadcast_to(ink_counts[:, :, j], (n, t))[pick]
        fraction[pick, j] = seen.sum(axis=(1, 2)) / np.maximum(counts, 1)
    masks = owners[:, :, low[0] : low[0] + size, low[1] : low[1] + size]
    return {"masks": masks, "visible_boxes": visible_boxes, "full_boxes": full_boxes, "visible_fraction": fraction}


def _boxes(canvas: np.ndarray, h: int, w: int) -> np.ndarray:
    """A writable view of every (h, w) box of every frame of `canvas (N, T, R, C)`, by (n, t, row, col)."""
    n, t, rows, cols = canvas.shape
    step = canvas.strides
    return as_strided(canvas, (n, t, rows - h + 1, cols - w + 1, h, w), (*step[:2], *step[2:], *step[2:]), writeable=True)


def _inside(corners: np.ndarray, length: int, size: int) -> np.ndarray:
    """(M, length) bool: whether each row (col) of a sprite at `corners` lies on a canvas of `size`."""
    at = corners[:, None] + np.arange(length)
    return (at >= 0) & (at < size)


def _tight(pixels: np.ndarray, rows: np.ndarray, cols: np.ndarray, size: int | None = None) -> np.ndarray:
    """(M, 4) int16 boxes of the true pixels of `pixels (M, h, w)` placed at corners `rows, cols`; cut
    to a canvas of `size` when given; empty boxes are (0, 0, 0, 0)."""
    m, h, w = pixels.shape
    across, down = pixels.any(axis=1), pixels.any(axis=2)  # (M, w), (M, h)
    box = np.stack([
        cols + across.argmax(axis=1), rows + down.argmax(axis=1),
        cols + w - across[:, ::-1].argmax(axis=1), rows + h - down[:, ::-1].argmax(axis=1),
    ], axis=1)
    if size is not None:
        box = np.clip(box, 0, size)
    empty = ~across.any(axis=1) | (box[:, 2] <= box[:, 0]) | (box[:, 3] <= box[:, 1])
    box[empty] = EMPTY_BOX
    return box.astype(np.int16)
