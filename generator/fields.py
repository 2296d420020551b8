"""The output fields of a dataset, each declared once.

The builder's features, the dataset card's and README's field tables, the exporters and the
previews all read `FIELDS`: a new field is one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from generator.spec import Spec


@dataclass(frozen=True)
class Field:
    """One column: name, dtype, shape per sequence (a function of the spec), meaning, when present.

    array: stored as a fixed-shape tensor (`ArrayND`); otherwise as nested fixed-length lists.
    classes: holds class numbers of the source (a `ClassLabel`).
    """

    name: str
    dtype: str
    shape: Callable[[Spec], tuple[int, ...]]
    shape_text: str
    meaning: str
    when: str = "always"
    present: Callable[[Spec], bool] = lambda spec: True
    array: bool = False
    classes: bool = False


def _frames(count: Callable[[Spec], int]):
    def shape(spec: Spec) -> tuple[int, ...]:
        canvas = (spec.image_size, spec.image_size)
        return (count(spec), *canvas) if spec.channels == 1 else (count(spec), 3, *canvas)

    return shape


def _per_object(spec: Spec) -> tuple[int, ...]:
    """(K,), or (K, digits) for sources whose objects are several images."""
    digits = getattr(spec.source, "digits_per_number", None)
    return (spec.num_objects,) if digits is None else (spec.num_objects, digits)


def _has_images(spec: Spec) -> bool:
    return spec.source.files is not None


FIELDS = (
    Field("input_frames", "uint8", _frames(lambda s: s.num_input_frames), "(T_in, H, W) gray, (T_in, 3, H, W) RGB",
          "the frames given to the model", array=True),
    Field("output_frames", "uint8", _frames(lambda s: s.num_output_frames), "(T_out, H, W) gray, (T_out, 3, H, W) RGB",
          "the frames to predict", array=True),
    Field("labels", "int64", _per_object, "(K,); numbers: (K, D)",
          "the class of each sprite (each digit of a number)", "sources of images", _has_images, classes=True),
    Field("source_indices", "int32", _per_object, "(K,); numbers: (K, D)",
          "the index of each sprite's image in its source's train images (train) or test images "
          "(validation, test)", "sources of images", _has_images),
    Field("positions", "int16", lambda s: (s.num_frames, s.num_objects, 2), "(T, K, 2)",
          "(row, column) of each sprite's top-left corner in each frame", array=True),
    Field("index", "int64", lambda s: (), "()", "the sequence's position in its split"),
    Field("value", "int64", lambda s: (s.num_objects,), "(K,)",
          "each number's digits read left to right as a decimal integer", "numbers",
          lambda s: s.source.name == "numbers"),
    Field("spacing", "int16", lambda s: (s.num_objects, s.source.digits_per_number - 1), "(K, D - 1)",
          "the gaps in pixels between neighbouring digits of each number", "numbers of 2 digits or more",
          lambda s: getattr(s.source, "digits_per_number", 1) > 1, array=True),
    Field("strokes", "float32", lambda s: (s.num_objects, s.source.max_strokes, 8), "(K, max_strokes, 8)",
          "each doodle's strokes: kind, x0, y0, x1, y1, x2, y2, width (kind -1: no stroke)", "doodles",
          lambda s: s.source.name == "doodles", array=True),
    Field("background_index", "int32", lambda s: (), "()",
          "the background's index in the background source's train images (train) or test images",
          "a background is set", lambda s: s.background.name != "none"),
)


def fields_of(spec: Spec) -> list[Field]:
    """The fields a dataset of `spec` has, in column order."""
    return [f for f in FIELDS if f.present(spec)]


def columns(spec: Spec, frames: np.ndarray, truth: dict[str, np.ndarray], indices: np.ndarray) -> dict[str, np.ndarray]:
    """Every present field's values for a batch of sequences, `(N, *shape)` each."""
    values = {
        "input_frames": frames[:, : spec.num_input_frames],
        "output_frames": frames[:, spec.num_input_frames :],
        "index": indices,
        **truth,
    }
    return {f.name: values[f.name] for f in fields_of(spec)}
