"""Annotations for detection and tracking: which object each pixel shows, and each object's boxes.

An object's pixels are where its alpha is above 0: its ink (the channels' maximum) for sources of
ink on black, its whole rectangle for opaque sources (CIFAR-10). Who owns a pixel of the composite
follows the compositing (`generator.compositing`):

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

OFF_CANVAS = 255  # the owner of the margins around the canvas: no object claims them (K <= 64)


def annotate(sprites, positions, shown, size: int, compositing, opaque: bool, masks: np.ndarray) -> dict:
    """The masks and boxes of a range of sequences, as `generator.render.render` draws them.

    sprites: (N, Ts, K, C, h, w) uint8 as drawn, Ts = 1 (every frame) or T.
    positions: (N, T, K, 2) integer (row, col) of each sprite's corner on the `size x size` canvas.
    shown: (N, T, K) bool, which sprites are drawn.
    masks: (N, T, size, size) uint8, filled with who owns each pixel: 0 nobody, k + 1 object k.

    Returns `visible_boxes` and `full_boxes (N, T, K, 4) int16` and `visible_fraction (N, T, K) float32`:
        visible box: the tight box of the pixels the object owns on the canvas;
        full box: the box of all the object's pixels, cut to the canvas (amodal);
        visible fraction: the pixels it owns on the canvas over all its pixels (0 when not drawn).
    """
    n, t, k = shown.shape
    h, w = sprites.shape[-2:]
    value = sprites.max(axis=3)  # (N, Ts, K, h, w)
    ink = np.ones(value.shape, np.uint8) if opaque else np.minimum(value, 1)  # 0 or 1

    # sprites reaching past an edge claim on a canvas with margins as wide, owned by nobody
    reach = positions[shown]
    low = np.maximum(0, -reach.min(axis=0, initial=0)).astype(int)
    high = np.maximum(0, reach.max(axis=0, initial=0) + (h, w) - size).astype(int)
    owners = masks
    if low.any() or high.any():
        owners = np.full((n, t, *(size + low + high)), OFF_CANVAS, np.uint8)
    owners[:, :, low[0] : low[0] + size, low[1] : low[1] + size] = 0
    boxes = _boxes(owners, h, w)
    sequence, frame = np.broadcast_arrays(np.arange(n)[:, None], np.arange(t))
    picks = [shown[:, :, j] for j in range(k)]
    # where sprite j is drawn: (sequences, frames, rows, cols) of its box on the canvas with margins
    places = [(sequence[p], frame[p], positions[:, :, j, 0][p] + low[0], positions[:, :, j, 1][p] + low[1])
              for j, p in enumerate(picks)]

    def at(per_sprite, j):  # (M, h, w): sprite j in each frame it is drawn in
        sequences, frames = places[j][:2]
        return per_sprite[:, :, j][sequences, frames if per_sprite.shape[1] > 1 else 0]

    seen = [None] * k  # (M, h, w) bool: the pixels of sprite j that are seen, where it is drawn
    if compositing.topmost:  # the topmost object takes whatever is still free: claim from the top down
        for j in reversed(range(k)):
            below = boxes[places[j]]
            objects = at(ink, j)
            mine = np.greater(objects, below)  # ink (1) where nobody (0) owns the pixel yet
            seen[j] = objects.view(bool) & (below != OFF_CANVAS) if compositing.shared else mine
            np.maximum(below, mine.view(np.uint8) * np.uint8(j + 1), out=below)
            boxes[places[j]] = below
    else:  # later objects may win pixels back: claim in drawing order, then read who kept what
        best = np.zeros_like(owners)
        best_boxes = _boxes(best, h, w)
        for j in range(k):
            mine, top = boxes[places[j]], best_boxes[places[j]]
            compositing.claim(mine, top, at(value, j), at(ink, j).view(bool) & (mine != OFF_CANVAS), j + 1)
            boxes[places[j]], best_boxes[places[j]] = mine, top
        for j in range(k):
            seen[j] = boxes[places[j]] == j + 1
    if owners is not masks:
        masks[...] = owners[:, :, low[0] : low[0] + size, low[1] : low[1] + size]

    # every drawn (sequence, frame, object) at once
    drawn = tuple(np.concatenate(axis) for axis in zip(*[(*place[:2], np.full(len(place[0]), j)) for j, place in enumerate(places)]))
    top, left = (np.concatenate([place[axis] for place in places]) - low[axis - 2] for axis in (2, 3))
    seen = np.concatenate(seen)
    words = _words(seen)  # (M, h, words per row)
    visible_boxes = np.zeros((n, t, k, 4), np.int16)
    visible_boxes[drawn] = _tight(_fold_words(words) != 0, _fold_rows(words).view(bool), top, left)
    fraction = np.zeros((n, t, k), np.float32)
    totals = ink.sum(axis=(-2, -1), dtype=np.int64)  # (N, Ts, K) each sprite's pixels
    counts = np.bitwise_count(words).sum(axis=(1, 2), dtype=np.int64)  # a seen pixel is one bit
    fraction[drawn] = counts / np.maximum(np.broadcast_to(totals, (n, t, k))[drawn], 1)

    rows, cols = ink.any(axis=-1), ink.any(axis=-2)  # each sprite's ink rows and cols (N, Ts, K, .)
    full = _tight(rows.reshape(-1, h), cols.reshape(-1, w), 0, 0).reshape(*rows.shape[:3], 4)  # in the sprite
    corner = np.concatenate([positions[..., ::-1]] * 2, axis=-1)  # (x, y, x, y)
    full_boxes = np.clip(full + corner, 0, size)
    empty = (full == 0).all(axis=-1) | ~shown | (full_boxes[..., 2] <= full_boxes[..., 0]) | (full_boxes[..., 3] <= full_boxes[..., 1])
    full_boxes[empty] = 0
    return {"visible_boxes": visible_boxes, "full_boxes": full_boxes.astype(np.int16), "visible_fraction": fraction}


def _boxes(canvas: np.ndarray, h: int, w: int) -> np.ndarray:
    """A writable view of every (h, w) box of every frame of `canvas (N, T, R, C)`, by (n, t, row, col)."""
    n, t, rows, cols = canvas.shape
    step = canvas.strides
    return as_strided(canvas, (n, t, rows - h + 1, cols - w + 1, h, w), (*step[:2], *step[2:], *step[2:]), writeable=True)


def _words(pixels: np.ndarray) -> np.ndarray:
    """(M, h, w) bool viewed as (M, h, w / size) unsigned words, of the largest size that divides w:
    reductions over words are up to 8 times fewer."""
    size = next(size for size in (8, 4, 2, 1) if pixels.shape[-1] % size == 0)
    return pixels.view(f"u{size}")


def _fold_rows(words: np.ndarray) -> np.ndarray:
    """(M, h, n) -> (M, n): the OR of each picture's rows, halving them in turn (numpy's own reduce is
    slow on short axes)."""
    while words.shape[1] > 1:
        half = words.shape[1] // 2
        folded = words[:, :half] | words[:, half : 2 * half]
        if words.shape[1] % 2:
            folded[:, 0] |= words[:, -1]
        words = folded
    return words[:, 0]


def _fold_words(words: np.ndarray) -> np.ndarray:
    """(M, h, n) -> (M, h): the OR of each row's words, one word at a time (for the same reason)."""
    folded = words[..., 0].copy()
    for i in range(1, words.shape[-1]):
        folded |= words[..., i]
    return folded


def _tight(rows: np.ndarray, cols: np.ndarray, top, left) -> np.ndarray:
    """(M, 4) boxes of pictures whose rows (M, h) and cols (M, w) hold a pixel, their corners at
    (top, left); (0, 0, 0, 0) where there is none."""
    h, w = rows.shape[1], cols.shape[1]
    box = np.stack([left + cols.argmax(axis=1), top + rows.argmax(axis=1),
                    left + w - cols[:, ::-1].argmax(axis=1), top + h - rows[:, ::-1].argmax(axis=1)], axis=1)
    box[~rows.any(axis=1)] = 0
    return box
