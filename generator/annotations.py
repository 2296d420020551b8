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

# the fields `annotate` gives (declared in `generator.fields`)
DRAWN = ("masks", "visible_boxes", "full_boxes", "visible_fraction")

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
    # each sprite's value and ink (0 or 1), rows padded with zeros to whole bytes of bits
    wide = -(-w // 8) * 8
    value = np.zeros((*sprites.shape[:3], h, wide), np.uint8)
    sprites.max(axis=3, out=value[..., :w])
    ink = np.zeros(value.shape, np.uint8)
    if opaque:
        ink[..., :w] = 1
    else:
        np.minimum(value, 1, out=ink)

    # sprites reaching past an edge claim on a canvas with margins as wide, owned by nobody
    reach = positions[shown]
    low = np.maximum(0, -reach.min(axis=0, initial=0)).astype(int)
    high = np.maximum(0, reach.max(axis=0, initial=0) + (h, wide) - size).astype(int)
    owners = masks
    if low.any() or high.any():
        owners = np.full((n, t, *(size + low + high)), OFF_CANVAS, np.uint8)
    owners[:, :, low[0] : low[0] + size, low[1] : low[1] + size] = 0
    boxes = _boxes(owners, h, wide)
    # every drawn (object, sequence, frame), object by object, and its box's corner on the canvas with margins
    objects, sequences, frames = np.nonzero(np.ascontiguousarray(np.moveaxis(shown, 2, 0)))  # contiguous: 40% faster
    rows, cols = (positions[sequences, frames, objects, axis] + low[axis] for axis in (0, 1))
    parts = np.searchsorted(objects, np.arange(k + 1))
    starts = ((sequences * t + frames) * owners.shape[2] + rows) * owners.shape[3] + cols  # in the flat canvas
    places = [starts[parts[j] : parts[j + 1]] for j in range(k)]

    def at(per_sprite, j):  # (M, h, wide): sprite j in each frame it is drawn in
        drawn = slice(parts[j], parts[j + 1])
        return per_sprite[:, :, j][sequences[drawn], frames[drawn] if per_sprite.shape[1] > 1 else 0]

    seen = [None] * k  # (M, h, wide / 8) uint8: the pixels of sprite j that are seen where it is drawn, as bits
    if compositing.topmost:  # the topmost object takes whatever is still free: claim from the top down
        for j in reversed(range(k)):
            below = boxes[places[j]]
            ours = at(ink, j)
            mine = np.greater(ours, below)  # ink (1) where nobody (0) owns the pixel yet
            seen[j] = _bits(ours.view(bool) & (below != OFF_CANVAS) if compositing.shared else mine)
            np.maximum(below, mine.view(np.uint8) * np.uint8(j + 1), out=below)
            boxes[places[j]] = below
    else:  # later objects may win pixels back: claim in drawing order, then read who kept what
        best = np.zeros_like(owners)
        best_boxes = _boxes(best, h, wide)
        for j in range(k):
            mine, top = boxes[places[j]], best_boxes[places[j]]
            compositing.claim(mine, top, at(value, j), at(ink, j).view(bool) & (mine != OFF_CANVAS), j + 1)
            boxes[places[j]], best_boxes[places[j]] = mine, top
        for j in range(k):
            seen[j] = _bits(boxes[places[j]] == j + 1)
    if owners is not masks:
        masks[...] = owners[:, :, low[0] : low[0] + size, low[1] : low[1] + size]

    visible, counts = _extent(np.concatenate(seen), w)
    visible_boxes = np.zeros((n, t, k, 4), np.int16)
    corners = np.stack([cols - low[1], rows - low[0]] * 2, axis=1)  # (x, y, x, y) on the canvas
    visible_boxes[sequences, frames, objects] = np.where(counts[:, None] > 0, visible + corners, 0)
    whole, totals = _extent(_bits(ink.reshape(-1, h, wide).view(bool)), w)  # each sprite's, in the sprite
    whole, totals = whole.reshape(*ink.shape[:3], 4), np.broadcast_to(totals.reshape(ink.shape[:3]), (n, t, k))
    fraction = np.zeros((n, t, k), np.float32)
    fraction[sequences, frames, objects] = counts / np.maximum(totals[sequences, frames, objects], 1)

    full_boxes = np.clip(whole + np.concatenate([positions[..., ::-1]] * 2, axis=-1), 0, size)
    empty = (whole == 0).all(axis=-1) | ~shown | (full_boxes[..., 2] <= full_boxes[..., 0]) | (full_boxes[..., 3] <= full_boxes[..., 1])
    full_boxes[empty] = 0
    return {"visible_boxes": visible_boxes, "full_boxes": full_boxes.astype(np.int16), "visible_fraction": fraction}


def _boxes(canvas: np.ndarray, h: int, w: int) -> np.ndarray:
    """A writable view of the (h, w) box at every pixel of `canvas (N, T, R, C)` (C-contiguous, so its
    flat form is a view), by the pixel's index in the flat canvas (one index array gathers faster than four)."""
    flat = canvas.reshape(-1)
    cols = canvas.shape[-1]
    return as_strided(flat, (flat.size - (h - 1) * cols - w + 1, h, w), (1, cols, 1), writeable=True)


def _bits(pixels: np.ndarray) -> np.ndarray:
    """(M, h, w) bool, w a multiple of 8 -> (M, h, w / 8) uint8, eight pixels a byte (numpy's bit order)."""
    m, h, w = pixels.shape
    return np.packbits(pixels.reshape(m, h * w), axis=1).reshape(m, h, w // 8)  # packed whole: 25x faster by row


def _words(bits: np.ndarray) -> np.ndarray:
    """(M, h, n) bytes viewed as (M, h, n / size) unsigned words, of the largest size that divides n."""
    size = next(size for size in (8, 4, 2, 1) if bits.shape[-1] % size == 0)
    return bits.view(f"u{size}")


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


def _extent(bits: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """The tight boxes (M, 4) of pictures `bits (M, h, wide / 8)` of w columns, relative to their corners,
    (0, 0, 0, 0) for none, and their counts of pixels (M,)."""
    words = _words(bits)
    rows = _fold_words(words) != 0
    cols = np.unpackbits(_fold_rows(words).view(np.uint8), axis=1)[:, :w].view(bool)
    h = rows.shape[1]
    box = np.stack([cols.argmax(axis=1), rows.argmax(axis=1),
                    w - cols[:, ::-1].argmax(axis=1), h - rows[:, ::-1].argmax(axis=1)], axis=1)
    box[~rows.any(axis=1)] = 0
    return box, np.bitwise_count(words).sum(axis=(1, 2), dtype=np.int64)
