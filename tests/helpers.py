"""Independent references and small readers shared by the tests."""

import numpy as np
import pyarrow as pa


def reference_path(x, y, vx, vy, num_frames, free_space=64 - 28):
    """The original per-sprite loop (NOTES.md section 2) in plain Python floats: ([row...], [col...])."""
    rows, cols = [], []
    for _ in range(num_frames):
        y += vy
        x += vx
        if x <= 0:
            x = 0.0
            vx = -vx
        if x >= 1:
            x = 1.0
            vx = -vx
        if y <= 0:
            y = 0.0
            vy = -vy
        if y >= 1:
            y = 1.0
            vy = -vy
        rows.append(int(free_space * y))
        cols.append(int(free_space * x))
    return rows, cols


def arrow_leaves(array) -> np.ndarray:
    """The primitive values of an Arrow column, whatever its nesting and chunking."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if isinstance(array, pa.ExtensionArray):
        array = array.storage
    while pa.types.is_list(array.type) or pa.types.is_fixed_size_list(array.type) or pa.types.is_large_list(array.type):
        array = array.flatten()
    return array.to_numpy(zero_copy_only=False)
