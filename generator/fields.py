"""The output fields of a dataset, each declared once.

The builder's features, the dataset card's and README's field tables, the exporters and the
previews all read `FIELDS`: a new field is one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from generator.corruptions import corrupted
from generator.spec import Spec

if TYPE_CHECKING:
    from generator.sequences import Sequences


@dataclass(frozen=True)
class Field:
    """One column: name, dtype, shape per sequence (a function of the spec), meaning, when present.

    array: stored as a fixed-shape tensor (`ArrayND`); otherwise as nested fixed-length lists.
    classes: holds class numbers of the source (a `ClassLabel`).
    objects: for a field per object, the axis of its shape that counts the objects (K), as a number
        or a function of the spec; objects past a sequence's count hold `fill` there.
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
    objects: int | Callable[[Spec], int] | None = None
    fill: object = None

    def padding(self) -> str:
        """What a padding object holds in this field, in words ("-": not a field per object)."""
        if self.objects is None:
            return "-"
        if np.ndim(self.fill):
            return "no strokes (kind -1, the rest 0)"  # the only array fill: NO_STROKE
        return str(self.fill).replace("nan", "NaN")

    def objects_axis(self, spec: Spec) -> int | None:
        return self.objects(spec) if callable(self.objects) else self.objects


def _frames(count: Callable[[Spec], int]):
    """(count, *frame shape): frames of any spec, a volume's (`generator.volumes`) too."""
    return lambda spec: (count(spec), *spec.frame_shape())


def _per_object(spec: Spec) -> tuple[int, ...]:
    """(K,), or (K, digits) for sources whose objects are several images."""
    digits = getattr(spec.source, "digits_per_number", None)
    return (spec.max_objects,) if digits is None else (spec.max_objects, digits)


def _per_frame(*shape: int):
    """(T, K, *shape): a value per frame and object."""
    return lambda spec: (spec.num_frames, spec.max_objects, *shape)


def _morphing(spec: Spec) -> bool:
    return getattr(spec.source, "morph", "none") != "none"


def _strokes(spec: Spec) -> tuple[int, ...]:
    per_sprite = (spec.max_objects, spec.source.max_strokes, 8)
    return (spec.num_frames, *per_sprite) if _morphing(spec) else per_sprite


def _confined(spec: Spec) -> bool:
    """Whether every object is in sight in every frame (else the `visible` field says when it is)."""
    return spec.motion.confined() and spec.motion.appear == 0


NO_STROKE = np.array([-1, 0, 0, 0, 0, 0, 0, 0], np.float32)  # an unused stroke slot (generator.doodles)


def _has_images(spec: Spec) -> bool:
    return spec.source.files is not None


# Fields every dataset has, volumes (`generator.volumes.fields`) too.
INPUT_FRAMES = Field("input_frames", "uint8", _frames(lambda s: s.num_input_frames),
                     "(T_in, H, W) gray, (T_in, 3, H, W) RGB, (T_in, D, D, D) volumes", "the frames given to the model", array=True)
OUTPUT_FRAMES = Field("output_frames", "uint8", _frames(lambda s: s.num_output_frames),
                      "(T_out, H, W) gray, (T_out, 3, H, W) RGB, (T_out, D, D, D) volumes", "the frames to predict", array=True)
INDEX = Field("index", "int64", lambda s: (), "()", "the sequence's position in its split")

FIELDS = (
    INPUT_FRAMES,
    OUTPUT_FRAMES,
    Field("labels", "int64", _per_object, "(K,); numbers: (K, D)",
          "the class of each sprite (each digit of a number)", "sources of images", _has_images, classes=True,
          objects=0, fill=-1),
    Field("source_indices", "int32", _per_object, "(K,); numbers: (K, D)",
          "the index of each sprite's image in its source's train images (train) or test images "
          "(validation, test)", "sources of images", _has_images, objects=0, fill=-1),
    Field("positions", "int16", _per_frame(2), "(T, K, 2)",
          "(row, column) of each sprite's top-left corner in each frame (of its box, when transformed)",
          array=True, objects=1, fill=-32768),
    INDEX,
    Field("num_objects", "int64", lambda s: (), "()", "how many of the K objects are real (the rest are padding)",
          "`num_objects` is a range", lambda s: isinstance(s.num_objects, tuple)),
    Field("visible", "bool", _per_frame(), "(T, K)",
          "whether each object is in sight: it has appeared and its box meets the canvas",
          "objects can be out of sight (`motion.edges=pass`, `motion.appear` > 0, unconfined motions)",
          lambda s: not _confined(s), array=True, objects=1, fill=False),
    Field("centres", "float32", _per_frame(2), "(T, K, 2)",
          "(row, column) of each sprite's box centre in each frame, in pixels, before rounding to `positions`",
          "`annotations` has centres", lambda s: "centres" in s.annotations, array=True, objects=1, fill=np.nan),
    Field("velocities", "float32", _per_frame(2), "(T, K, 2)",
          "(row, column) pixels each centre moved since the frame before (frame 0: since one frame before it)",
          "`annotations` has velocities", lambda s: "velocities" in s.annotations, array=True, objects=1, fill=np.nan),
    Field("visible_boxes", "int16", _per_frame(4), "(T, K, 4)",
          "the tight box (x_min, y_min, x_max, y_max), max exclusive, of the pixels each object owns in each frame "
          "(who owns a pixel follows the compositing); (0, 0, 0, 0) when none", "`annotations` has boxes",
          lambda s: "boxes" in s.annotations, array=True, objects=1, fill=-1),
    Field("full_boxes", "int16", _per_frame(4), "(T, K, 4)",
          "the box of all of each object's ink (its whole rectangle for opaque sources), hidden or not, cut to the "
          "canvas; (0, 0, 0, 0) when off the canvas or not yet shown", "`annotations` has boxes",
          lambda s: "boxes" in s.annotations, array=True, objects=1, fill=-1),
    Field("visible_fraction", "float32", _per_frame(), "(T, K)",
          "the pixels each object owns on the canvas over all its ink (0 when hidden, off the canvas or not yet shown)",
          "`annotations` has boxes", lambda s: "boxes" in s.annotations, array=True, objects=1, fill=np.nan),
    Field("masks", "uint8", lambda s: (s.num_frames, s.image_size, s.image_size), "(T, H, W)",
          "who owns each pixel: 0 nobody (background), k + 1 object k", "`annotations` has masks",
          lambda s: "masks" in s.annotations, array=True),
    Field("track_ids", "int32", _per_frame(), "(T, K)",
          "each object's id in every frame, unique in the split: i * K + k for object k of sequence i",
          "`annotations` has tracks", lambda s: "tracks" in s.annotations, array=True, objects=1, fill=-1),
    Field("waypoints", "float32", lambda s: (s.max_objects, s.motion.waypoints, 2), "(K, W, 2)",
          "each object's waypoints (x, y) as fractions of its free space, passed exactly at `waypoint_frames`",
          "`bridge` and `spline` motions", lambda s: s.motion.name in ("bridge", "spline"), array=True,
          objects=0, fill=np.nan),
    Field("waypoint_frames", "int16", lambda s: (s.motion.waypoints,), "(W,)",
          "the frame of each waypoint (-1: one frame before the first)",
          "`bridge` and `spline` motions", lambda s: s.motion.name in ("bridge", "spline")),
    Field("curves", "float32", lambda s: (s.max_objects, 7), "(K, 7)",
          "each object's curve: kind (0 line, 1 circle, 2 sine, 3 spiral, 4 figure8), centre x, y and size "
          "(fractions of the free space), speed (radians per frame, signed), phase, direction (radians)",
          "`path` motion", lambda s: s.motion.name == "path", array=True, objects=0, fill=np.nan),
    Field("angles", "float32", _per_frame(), "(T, K)",
          "each sprite's rotation in each frame, degrees counter-clockwise as seen on screen, not wrapped "
          "(initial angle + rotation speed * frame)", "`transform` affine", lambda s: s.transform.name == "affine",
          array=True, objects=1, fill=np.nan),
    Field("scales", "float32", _per_frame(), "(T, K)",
          "each sprite's size in each frame, as a factor of its source image's", "`transform` affine",
          lambda s: s.transform.name == "affine", array=True, objects=1, fill=np.nan),
    Field("value", "int64", lambda s: (s.max_objects,), "(K,)",
          "each number's digits read left to right as a decimal integer", "numbers",
          lambda s: s.source.name == "numbers", objects=0, fill=-1),
    Field("spacing", "int16", lambda s: (s.max_objects, s.source.digits_per_number - 1), "(K, D - 1)",
          "the gaps in pixels between neighbouring digits of each number", "numbers of 2 digits or more",
          lambda s: getattr(s.source, "digits_per_number", 1) > 1, array=True, objects=0, fill=-1),
    Field("strokes", "float32", _strokes, "(K, max_strokes, 8); morphing: (T, K, max_strokes, 8)",
          "each doodle's strokes: kind, x0, y0, x1, y1, x2, y2, width (kind -1: no stroke); morphing: in each frame",
          "doodles", lambda s: s.source.name == "doodles", array=True,
          objects=lambda s: 1 if _morphing(s) else 0, fill=NO_STROKE),
    Field("background_index", "int32", lambda s: (), "()",
          "the background's index in the background source's train images (train) or test images",
          "a background is set", lambda s: s.background.name != "none"),
    Field("clean_input_frames", "uint8", _frames(lambda s: s.num_input_frames), "(T_in, H, W) gray, (T_in, 3, H, W) RGB",
          "the input frames before `occlusion`, `noise` and `drop` corrupted them (`input_frames` are the corrupted ones)",
          "a corruption is on", corrupted, array=True),
    Field("occlusion_boxes", "int16", lambda s: (s.num_input_frames, 4), "(T_in, 4)",
          "each input frame's occluding patch: its box (x_min, y_min, x_max, y_max) in pixels, max exclusive",
          "`occlusion` patch", lambda s: s.occlusion.name != "none", array=True),
    Field("dropped", "bool", lambda s: (s.num_input_frames,), "(T_in,)",
          "whether each input frame was dropped (all its pixels 0)", "`drop` frames", lambda s: s.drop.name != "none"),
)


def fields_of(spec) -> list[Field]:
    """The fields a dataset of `spec` (a `Spec`, or a `generator.volumes.VolumeSpec`) has, in column order."""
    if isinstance(spec, Spec):
        return [f for f in FIELDS if f.present(spec)]
    from generator.volumes.fields import VOLUME_FIELDS  # here: the volumes' fields are built from these

    return [f for f in VOLUME_FIELDS if f.present(spec)]


def pad(spec: Spec, truth: dict[str, np.ndarray], present: np.ndarray) -> None:
    """Give every per-object field its `fill` where an object is padding (`present (N, K)` False), in place."""
    if present.all():
        return
    for f in fields_of(spec):
        axis = f.objects_axis(spec)
        if axis is None or f.name not in truth:
            continue
        value = truth[f.name] = np.array(truth[f.name], f.dtype)  # a copy: it may be a view of cached draws
        shape = [len(present)] + [1] * (value.ndim - 1)
        shape[1 + axis] = present.shape[1]
        np.copyto(value, np.asarray(f.fill, value.dtype), where=~present.reshape(shape))


def columns(spec: Spec, seqs: Sequences) -> dict[str, np.ndarray]:
    """Every present field's values for a batch of sequences, `(N, *shape)` each: the arrays of `seqs` themselves."""
    values = {
        "input_frames": seqs.input_frames,
        "output_frames": seqs.output_frames,
        "index": seqs.indices,
        **seqs.truth,
    }
    return {f.name: values[f.name] for f in fields_of(spec)}
