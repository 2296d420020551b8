"""The output fields of a dataset of volumes, each declared once (as `generator.fields.FIELDS` for 2D).

The frames and the index are the same `Field`s as 2D datasets': their shapes follow
`VolumeSpec.frame_shape()`, `(T_in, D, D, D)` and `(T_out, D, D, D)`.
"""

from __future__ import annotations

import numpy as np

from generator.fields import INDEX, INPUT_FRAMES, OUTPUT_FRAMES, Field
from generator.volumes.cavities import COLUMNS, FAMILIES, NUM_COLUMNS


def _columns() -> str:
    """The record's columns in words: "0-2 centre_first, ..."."""
    words, at = [], 0
    for name, width in COLUMNS:
        words.append(f"{at}-{at + width - 1} {name}")
        at += width
    return ", ".join(words)


VOLUME_FIELDS = (
    INPUT_FRAMES,
    OUTPUT_FRAMES,
    INDEX,
    Field("cavity_counts", "int64", lambda s: (len(FAMILIES),), f"({len(FAMILIES)},)",
          f"how many cavities of each family the sample has: {', '.join(FAMILIES)}"),
    Field("cavity_families", "int8", lambda s: (s.max_cavities,), "(C,)",
          f"each cavity's family: {', '.join(f'{i} {name}' for i, name in enumerate(FAMILIES))}",
          objects=0, fill=-1),
    Field("cavity_lifetimes", "int16", lambda s: (s.max_cavities, 2), "(C, 2)",
          "the first and the last time point each cavity is in (inclusive)", array=True, objects=0, fill=-1),
    Field("cavity_parameters", "float32", lambda s: (s.max_cavities, NUM_COLUMNS), f"(C, {NUM_COLUMNS})",
          f"each cavity's equation (`generator.volumes.cavities`), lengths as fractions of the grid's edge along "
          f"axes 0, 1, 2: {_columns()} (ball: semi-axes at its widest; torus: ring radius at the first and the last "
          f"time point, tube radius at its widest); orientations are quaternions (w, x, y, z)",
          array=True, objects=0, fill=np.nan),
    Field("betti_numbers", "int16", lambda s: (s.num_frames, 3), "(T, 3)",
          "the Betti numbers (b0, b1, b2) of the material at each time point: 1 piece, a tunnel per torus, "
          "a void per cavity", "`overlap` separate", lambda s: s.overlap == "separate", array=True),
)
