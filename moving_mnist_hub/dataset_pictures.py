"""Pictures of a built dataset: reads `datasets` splits as uint8 numpy arrays and hands them to `pictures`.

The command line (`moving-mnist preview`, `moving-mnist stats`) and the publisher's dataset card
both call these, so that they show the same pictures. A split is anything with `with_format`,
`num_rows` and `features`, as a `datasets.Dataset` has; `datasets` itself is never imported here.

Gray datasets store frames as `Array3D((T, H, W))`, RGB ones as `Array4D((T, 3, H, W))`, volumes
as `Array4D((T, D, D, D))`; the spec tells which, and the frame features how many bytes a sequence takes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from generator import Spec
from generator.volumes import VolumeSpec
from moving_mnist_hub import pictures

# Volumes are shown this many times larger than the chosen scale (16^3 grids: 64-pixel panels at scale 1).
_VOLUME_SCALE = 4
_VOLUME_CANDIDATES = 16  # samples the volume figure chooses from

# Bytes of a split the statistics read at most, per column: they describe its first sequences that
# fit, so that a split of large frames or many sequences never fills the memory.
MAX_SAMPLE_BYTES = 256 * 2**20


def read_frames(ds, num: int) -> np.ndarray:
    """The first `num` sequences of a split (all of them if it has fewer): `(n, T, H, W)` uint8 if
    gray, `(n, T, 3, H, W)` uint8 if RGB.

    Each sequence is its input frames followed by its output frames. Only the frame columns are
    read, as uint8: numpy's default int64 would be 8x the memory and much slower.
    """
    if not (isinstance(num, (int, np.integer)) and num >= 1):
        raise ValueError(f"num={num!r} must be an integer >= 1")
    rows = ds.with_format("numpy", columns=["input_frames", "output_frames"], dtype=np.uint8)[:num]
    return np.concatenate([rows["input_frames"], rows["output_frames"]], axis=1)


def _frame_shape(ds) -> tuple[int, ...]:
    """The shape of one sequence's frames, inputs then outputs: `(T, H, W)` gray or `(T, 3, H, W)` RGB."""
    inputs, outputs = ds.features["input_frames"].shape, ds.features["output_frames"].shape
    return (inputs[0] + outputs[0], *inputs[1:])


def read_sample(ds, max_sequences: int = pictures.MAX_DIFFERENCE_SEQUENCES) -> pictures.SplitSample:
    """What the statistics figures need of a split: the frames of its first `max_sequences`
    sequences, and the positions `(N, T, K, 2)` int16 and labels `(N, K)` int64 of all of them;
    each read only as far as `MAX_SAMPLE_BYTES` allows (RGB frames take three bytes a pixel)."""
    t_positions, k = ds.features["positions"].shape[:2]
    frames = max(1, min(max_sequences, MAX_SAMPLE_BYTES // math.prod(_frame_shape(ds))))
    rows = max(1, MAX_SAMPLE_BYTES // (t_positions * k * 2 * 2))
    positions = ds.with_format("numpy", columns=["positions"], dtype=np.int16)[:rows]["positions"]
    labelled = "labels" in ds.features
    labels = ds.with_format("numpy", columns=["labels"], dtype=np.int64)[:rows]["labels"] if labelled else None
    return pictures.SplitSample(read_frames(ds, frames), positions, labels)


def write_preview(
    ds, spec: Spec | VolumeSpec, path: str | os.PathLike, num: int = 8, scale: int = 2, fps: float = 5.0
) -> Path:
    """Write an animated preview (`.gif` or `.mp4`) of the first `num` sequences of a split, gray
    or RGB as stored, with each object's visible box outlined when the split has them; volumes as
    `pictures.volume_panels`, `_VOLUME_SCALE` times larger."""
    shape = _frame_shape(ds)
    volumes = isinstance(spec, VolumeSpec)
    height, width = (shape[1], pictures.volume_panels_width(shape[1])) if volumes else shape[-2:]
    scale *= _VOLUME_SCALE if volumes else 1
    pictures.preview_shape(min(num, ds.num_rows), shape[0], height, width, scale)  # fits? checked before reading
    frames = read_frames(ds, num)
    boxes = None
    if "visible_boxes" in ds.features:
        boxes = ds.with_format("numpy", columns=["visible_boxes"], dtype=np.int16)[:num]["visible_boxes"]
    video = pictures.preview(pictures.volume_panels(frames) if volumes else frames, spec.num_input_frames, scale, boxes)
    return pictures.write_video(path, video, fps)


def write_split_stats(
    splits: Mapping[str, object], spec: Spec | VolumeSpec, output_dir: str | os.PathLike,
    max_sequences: int = pictures.MAX_DIFFERENCE_SEQUENCES, config: str | None = None,
) -> list[Path]:
    """Write the statistics figures (`pictures.STATS_FILES`) of `splits` (name -> split) into `output_dir`,
    titled with the `config` name if given. Frame differences of RGB splits are those of the luminance
    (ITU-R BT.601, `pictures.luminance`). For volumes: `pictures.VOLUME_FIGURE`, at several time points
    the sample with the most cavities among the first `_VOLUME_CANDIDATES` of the first split."""
    heading = f"{config}: " if config else ""
    if isinstance(spec, VolumeSpec):
        split, ds = next(iter(splits.items()))
        counts = ds.with_format("numpy", columns=["cavity_counts"])[:_VOLUME_CANDIDATES]["cavity_counts"].sum(axis=1)
        i = int(counts.argmax())  # the first of the fullest
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        path = Path(output_dir) / pictures.VOLUME_FIGURE
        volume = read_frames(ds.select([i]), 1)[0]
        return [pictures.volume_figure(path, volume, spec.num_input_frames, heading=f"{heading}{split} {i}: ")]
    samples = {split: read_sample(ds, max_sequences) for split, ds in splits.items()}
    return pictures.write_stats(output_dir, samples, spec.source.class_names, spec.source.sprite_shape(), config)
