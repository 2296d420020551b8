"""Exporters: a built dataset written as plain files, one registered format each.

    >>> exporter = EXPORTERS["npy"]()
    >>> exporter.check_with(spec)                                  # before building: ValueError if it cannot
    >>> exporter.write(splits, spec, builder_hash, folder, config)  # {file or folder name: sequences}
    >>> exporter.manifest(spec)                                    # what a reader needs beyond the files

Each exporter writes every field of `generator.fields` the dataset has (or, for a format with a
schema of its own such as COCO, what the schema holds), so a new field or a new format is one
entry. An exporter's parameters are options of `moving-mnist export` (`shard_size`: `--shard-size`).
numpy, pyarrow, imageio, crc32c and the publisher are imported when used.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib.metadata
import json
import math
import os
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path

from generator import SOURCE_FILES, Spec, fields_of
from generator.components import Component, Registry, choice, parameter
from generator.spec import ANNOTATIONS, spelled

EXPORTERS = Registry("format")


class Exporter(Component):
    """A format: `check_with` refuses a dataset the format cannot hold, `write` writes one."""

    def check_with(self, spec: Spec) -> None:
        """ValueError if a dataset of `spec` cannot be written in this format (called before it is built)."""

    def write(self, splits, spec: Spec, code: str, folder: Path, config: str) -> dict[str, int]:
        """Write `splits` ({split: Dataset}) into `folder`; return {file or folder name in it: sequences}.
        code: the builder's hash of the generation code; config: the preset's name."""
        raise NotImplementedError

    def manifest(self, spec: Spec) -> dict:
        """Entries for the export's manifest beside the files: what a reader needs to know (a schema)."""
        return {}


@EXPORTERS.register
@dataclass(frozen=True)
class Npy(Exporter):
    """Per split: `<split>.npy`, the frames time first, `(T, N, H, W)` or `(T, N, 3, H, W)` uint8 (the layout
    of the original `mnist_test_seq.npy`), and `<split>.<field>.npy`, `(N, ...)`, for every other field."""

    name = "npy"

    def write(self, splits, spec: Spec, code: str, folder: Path, config: str) -> dict[str, int]:
        files = {}
        for split, ds in splits.items():
            _write_frames(ds, folder / f"{split}.npy", spec)
            files[f"{split}.npy"] = ds.num_rows
            for f in fields_of(spec):
                if not f.name.endswith("_frames"):
                    _write_field(ds, folder / f"{split}.{f.name}.npy", f.name, f.dtype)
                    files[f"{split}.{f.name}.npy"] = ds.num_rows
        return files


@EXPORTERS.register
@dataclass(frozen=True)
class Parquet(Exporter):
    """One `<split>.parquet` per split with every field, written by the publisher's Parquet writer (zstd,
    arrays as fixed-size lists), so that it reads back with `load_dataset("parquet", ..., features=...)`
    (the config's features) as the same features."""

    name = "parquet"

    def write(self, splits, spec: Spec, code: str, folder: Path, config: str) -> dict[str, int]:
        from moving_mnist_hub import staging

        whole = max(ds.data.nbytes for ds in splits.values())  # a shard size that makes one shard per split
        shards = folder / "shards"
        staging.write_shards(splits, shards, staging.identity(spec, code, whole), whole)
        for split in splits:
            (shard,) = shards.glob(f"{split}-*.parquet")
            os.replace(shard, folder / f"{split}.parquet")
        shutil.rmtree(shards)
        return {f"{split}.parquet": ds.num_rows for split, ds in splits.items()}


BOX_FORMAT = (
    "bbox and amodal_bbox are [x, y, width, height] in pixels, x from the left and y from the top of the frame "
    "(COCO's); the dataset's boxes are (x_min, y_min, x_max, y_max) with the max exclusive, so width = x_max - x_min"
)


@EXPORTERS.register
@dataclass(frozen=True)
class Coco(Exporter):
    """Per split: every frame as a PNG, `<split>/<index:06d>/<frame:03d>.png` (gray, or RGB), the input frames
    then the output frames, and `<split>.json`: COCO's format with videos, as YouTube-VIS and TAO extend it.

        info         the config, its parameters, the code hash, the package version, the box format;
        licenses     the source collections' licences;
        categories   the source's classes, id = class + 1, when each object is one image of a class;
                     else one category named after the source (doodles, numbers), id 1;
        videos       one per sequence: id = index + 1, name `<split>/<index:06d>`, width, height, length T;
        images       one per frame: id = index * T + frame + 1, video_id, frame_id (0 .. T - 1),
                     file_name (relative to the JSON file's folder), width, height;
        annotations  one per frame and real object whose visible fraction is above 0 (an object wholly
                     hidden, off the canvas or not yet shown has none there): id = (image_id - 1) * K + k + 1,
                     image_id, video_id, track_id (the dataset's track id + 1), category_id,
                     bbox (the visible box) and amodal_bbox (the full box) as [x, y, w, h], area, iscrowd 0,
                     visibility (the visible fraction); with masks, segmentation: the pixels whose mask
                     value is k + 1, as uncompressed RLE.

    area is the segmentation's pixel count when the dataset has masks (COCO's definition; under `sum`
    compositing the masks show only the object drawn last), else the visible box's w * h. Needs `boxes`
    and `tracks` in the dataset's annotations.
    """

    name = "coco"
    needs = ("boxes", "tracks")

    def check_with(self, spec: Spec) -> None:
        if not isinstance(spec, Spec):
            raise ValueError("format=coco exports frames with boxes and tracks: volumes have none; choose npy, parquet or tfrecord")
        missing = [name for name in self.needs if name not in spec.annotations]
        if missing:
            wanted = [name for name in ANNOTATIONS if name in spec.annotations or name in self.needs]
            masks = "" if "masks" in wanted else " (and masks for segmentations)"
            raise ValueError(
                f"format=coco needs {' and '.join(missing)} in annotations, and this dataset has "
                f"annotations={spelled(spec.annotations)}: export with --set annotations={','.join(wanted)}{masks}, "
                f"or export the crowded preset"
            )

    def write(self, splits, spec: Spec, code: str, folder: Path, config: str) -> dict[str, int]:
        files = {}
        for split, ds in splits.items():
            _write_pngs(ds, spec, folder, split)
            head = {
                "info": _coco_info(spec, code, config, split),
                "licenses": [{"id": i + 1, "name": SOURCE_FILES[c].license, "source": SOURCE_FILES[c].pretty_name}
                             for i, c in enumerate(spec.files())],
                "categories": _categories(spec),
                **_videos_and_images(spec, split, ds.num_rows),
            }
            _write_json(folder / f"{split}.json", head, "annotations", _annotation_batches(ds, spec, split))
            files[split] = files[f"{split}.json"] = ds.num_rows
        return files


def _video(split: str, index: int) -> str:
    return f"{split}/{index:06d}"


def _frame_file(split: str, index: int, frame: int) -> str:
    return f"{_video(split, index)}/{frame:03d}.png"


def _rows_per_batch(spec: Spec) -> int:
    """Sequences read at a time: about 4 million pixels (masks are compared once per object)."""
    return max(1, 2**22 // (spec.num_frames * math.prod(spec.frame_shape())))


def _batches(ds, spec: Spec, names: list[str], start: int = 0, stop: int | None = None, size: int | None = None):
    """(first row, {name: (b, ...) array}) for each batch of `size` rows (default `_rows_per_batch`) of rows
    start .. stop - 1, each column in its declared dtype."""
    import numpy as np

    dtypes = {f.name: np.dtype(f.dtype) for f in fields_of(spec)}
    views = {name: ds.with_format("numpy", columns=[name], dtype=dtypes[name]) for name in names}
    size = _rows_per_batch(spec) if size is None else size
    stop = ds.num_rows if stop is None else stop
    for lo in range(start, stop, size):
        yield lo, {name: view[lo : min(lo + size, stop)][name] for name, view in views.items()}


def _write_pngs(ds, spec: Spec, folder: Path, split: str) -> None:
    import imageio.v3 as iio
    import numpy as np
    from tqdm.auto import tqdm

    with tqdm(total=ds.num_rows, desc=f"Writing {split} frames", unit=" sequences") as bar:
        for lo, rows in _batches(ds, spec, ["input_frames", "output_frames"]):
            sequences = np.concatenate([rows["input_frames"], rows["output_frames"]], axis=1)  # (b, T, [3,] H, W)
            if spec.channels == 3:
                sequences = np.moveaxis(sequences, 2, -1)  # PNG holds RGB channels last
            for index, frames in enumerate(sequences, lo):
                (folder / _video(split, index)).mkdir(parents=True)
                for frame, pixels in enumerate(frames):
                    iio.imwrite(folder / _frame_file(split, index, frame), pixels)
            bar.update(len(sequences))


def _coco_info(spec: Spec, code: str, config: str, split: str) -> dict:
    return {
        "description": f"moving-mnist {config}, {split} split: {spec.num_frames} frames of {spec.image_size}x"
                       f"{spec.image_size} per video ({spec.num_input_frames} input frames, then the output frames)",
        "version": package_version(),
        "config": config,
        "parameters": spec.as_dict(),
        "code": code,
        "box_format": BOX_FORMAT,
    }


def _class_field(spec: Spec) -> str | None:
    """The field holding each object's class when each object is one image of a class (shape (K,)); None for
    numbers ((K, D): a class per digit) and doodles (no classes)."""
    return next((f.name for f in fields_of(spec) if f.classes and len(f.shape(spec)) == 1), None)


def _categories(spec: Spec) -> list[dict]:
    source = spec.source.name
    if _class_field(spec) is None:
        return [{"id": 1, "name": source, "supercategory": source}]
    return [{"id": c + 1, "name": name, "supercategory": source} for c, name in enumerate(spec.source.class_names)]


def _videos_and_images(spec: Spec, split: str, n: int) -> dict[str, list[dict]]:
    canvas = {"width": spec.image_size, "height": spec.image_size}
    t = spec.num_frames
    return {
        "videos": [{"id": i + 1, "name": _video(split, i), **canvas, "length": t} for i in range(n)],
        "images": [{"id": i * t + frame + 1, "video_id": i + 1, "frame_id": frame,
                    "file_name": _frame_file(split, i, frame), **canvas} for i in range(n) for frame in range(t)],
    }


def _annotation_batches(ds, spec: Spec, split: str):
    """The annotations of each batch of sequences, as lists of dicts."""
    from tqdm.auto import tqdm

    names = ["visible_boxes", "full_boxes", "visible_fraction", "track_ids"]
    names += [name for name in (_class_field(spec), "masks" if "masks" in spec.annotations else None) if name]
    with tqdm(total=ds.num_rows, desc=f"Writing {split}.json", unit=" sequences") as bar:
        for lo, rows in _batches(ds, spec, names):
            yield _annotations(spec, rows, lo)
            bar.update(len(rows["track_ids"]))


def _annotations(spec: Spec, rows: dict, lo: int) -> list[dict]:
    """One annotation per (frame, object) of `rows` (the first sequence at index `lo`) visible in part."""
    import numpy as np

    t, k = spec.num_frames, spec.max_objects
    sequence, frame, obj = pick = np.nonzero(rows["visible_fraction"] > 0)  # padding objects hold NaN
    index = lo + sequence
    image = index * t + frame + 1
    classes = _class_field(spec)
    bbox = _xywh(rows["visible_boxes"][pick])
    columns = {
        "id": (image - 1) * k + obj + 1,
        "image_id": image,
        "video_id": index + 1,
        "track_id": rows["track_ids"][pick].astype(np.int64) + 1,
        "category_id": rows[classes][sequence, obj] + 1 if classes else np.ones_like(obj),
        "bbox": bbox,
        "amodal_bbox": _xywh(rows["full_boxes"][pick]),
        "area": bbox[:, 2] * bbox[:, 3],
        "iscrowd": np.zeros_like(obj),
        "visibility": [float(text) for text in rows["visible_fraction"][pick].astype(str)],  # float32's shortest spelling
    }
    if "masks" in spec.annotations:
        pixels = rows["masks"][sequence, frame] == (obj + 1).astype(np.uint8)[:, None, None]  # (M, H, W)
        columns["area"] = pixels.sum(axis=(1, 2))
        columns["segmentation"] = [{"counts": counts, "size": [spec.image_size] * 2} for counts in _rle_counts(pixels)]
    values = [column.tolist() if isinstance(column, np.ndarray) else column for column in columns.values()]
    return [dict(zip(columns, annotation)) for annotation in zip(*values)]


def _xywh(boxes):
    """`(M, 4)` boxes (x_min, y_min, x_max, y_max) as COCO's [x, y, w, h], int64 (w * h overflows int16)."""
    import numpy as np

    boxes = boxes.astype(np.int64)
    return np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)


def _rle_counts(masks) -> list[list[int]]:
    """COCO's uncompressed RLE of each of `masks (M, H, W)` bool: the lengths of the runs of 0s and 1s,
    alternating and starting with 0s (an image starting with a 1 starts with a run of length 0), the
    pixels read column by column."""
    import numpy as np

    m, h, w = masks.shape
    pixels = np.zeros((m, h * w + 1), bool)  # a 0 before each image: the first run is of 0s
    pixels[:, 1:] = masks.transpose(0, 2, 1).reshape(m, h * w)
    which, starts = np.nonzero(pixels[:, 1:] != pixels[:, :-1])  # where each later run starts
    # every image's runs at once: its start, its later runs' starts and its end, as places in all the pixels
    edges = np.sort(np.concatenate([which * (h * w) + starts, np.arange(m + 1) * (h * w)]))
    runs = np.diff(edges).tolist()
    ends = np.cumsum(np.bincount(which, minlength=m) + 1).tolist()  # image j has its later runs + 1
    return [runs[start:end] for start, end in zip([0, *ends], ends)]


def _write_json(path: Path, head: dict, name: str, batches) -> None:
    """`head` and the list `name` as one compact JSON object; the list is written a batch at a time, since a
    split's annotations need not fit in memory."""
    compact = (",", ":")
    with open(path, "w") as file:
        file.write(json.dumps(head, separators=compact)[:-1] + f',"{name}":[')
        separator = ""
        for batch in batches:
            if batch:
                file.write(separator + json.dumps(batch, separators=compact)[1:-1])
                separator = ","
        file.write("]}")


def package_version() -> str:
    try:
        return importlib.metadata.version("moving-mnist")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _write_frames(ds, path: Path, spec: Spec, batch: int = 256) -> None:
    """Written with plain writes into space reserved first: a full disk is an `OSError` at once,
    where a memory map would die of SIGBUS half way."""
    import numpy as np
    from tqdm.auto import tqdm

    canvas = spec.frame_shape()
    t, n, frame = spec.num_frames, ds.num_rows, int(np.prod(canvas))
    frames = ds.with_format("numpy", columns=["input_frames", "output_frames"], dtype=np.uint8)
    with open(path, "wb") as file:
        header = {"descr": "|u1", "fortran_order": False, "shape": (t, n, *canvas)}
        np.lib.format.write_array_header_1_0(file, header)  # the header np.save writes
        start = file.tell()
        os.posix_fallocate(file.fileno(), start, t * n * frame)
        for lo in tqdm(range(0, n, batch), desc=f"Writing {path.stem}", unit=" batches"):
            rows = frames[lo : lo + batch]
            block = np.concatenate([rows["input_frames"], rows["output_frames"]], axis=1).swapaxes(0, 1)  # (T, b, ...)
            for step in range(t):  # frame `step` of sequences lo.. sits at (step * N + lo) in the file
                file.seek(start + (step * n + lo) * frame)
                file.write(np.ascontiguousarray(block[step]).data)


def _write_field(ds, path: Path, name: str, dtype: str) -> None:
    """A ground-truth column, `(N, ...)` (small next to the frames, so read whole)."""
    import numpy as np

    values = ds.with_format("numpy", columns=[name], dtype=np.dtype(dtype))[name]
    with open(path, "wb") as file:
        np.save(file, np.asarray(values, dtype))


# --- TFRecord --------------------------------------------------------------------------------------


@EXPORTERS.register
@dataclass(frozen=True)
class TFRecord(Exporter):
    """Per split: shards `<split>-<i:05d>-of-<n:05d>.tfrecord` (`.tfrecord.gz` with gzip) of `shard_size`
    sequences each (the last one: the rest), in index order, one `tf.train.Example` per sequence holding
    every field (`tfrecord_features`), each Example of an export as long as the others. Written with
    crc32c, without TensorFlow; read with `moving_mnist.tf.dataset`, or `tf.data.TFRecordDataset` and
    the schema in the export's manifest.
    """

    name = "tfrecord"
    shard_size: int = parameter(1000, 1, 10**9, "sequences per shard (a split's last shard holds the rest)")
    compression: str = choice("none", ("none", "gzip"), "gzip: each shard is one gzip stream, TensorFlow's 'GZIP'")

    def manifest(self, spec: Spec) -> dict:
        template, features = tfrecord_layout(spec)
        return {"tfrecord": {"compression": self.compression, "shard_size": self.shard_size,
                             "record_bytes": len(template), "features": features}}

    def write(self, splits, spec: Spec, code: str, folder: Path, config: str) -> dict[str, int]:
        from tqdm.auto import tqdm

        template, features = tfrecord_layout(spec)
        suffix = ".tfrecord.gz" if self.compression == "gzip" else ".tfrecord"
        size = max(1, 2**24 // len(template))  # sequences read at a time: about 16 MiB
        files = {}
        for split, ds in splits.items():
            n = -(-ds.num_rows // self.shard_size)
            with tqdm(total=ds.num_rows, desc=f"Writing {split} TFRecords", unit=" sequences") as bar:
                for i in range(n):
                    lo, hi = i * self.shard_size, min((i + 1) * self.shard_size, ds.num_rows)
                    name = f"{split}-{i:05d}-of-{n:05d}{suffix}"
                    with _shard_file(folder / name, self.compression) as file:
                        for _, rows in _batches(ds, spec, list(features), lo, hi, size):
                            for example in _examples(rows, features, template):
                                file.write(_record(example))
                            bar.update(len(rows["index"]))
                    files[name] = hi - lo
        return files


def tfrecord_layout(spec: Spec) -> tuple[bytes, dict[str, dict]]:
    """(a serialized `tf.train.Example` of zeros, how each field of `spec` is stored in it:
    `{name: {"dtype", "shape", "offset"}}`, in column order).

    Every field is a `bytes_list` of one value, the array's bytes in C order (little-endian), beside
    `<name>/shape`, an `int64_list` of its shape. The entries come in column order, each field then its
    shape, so every Example of an export has the template's length and each field's bytes start at the
    same `offset`: a reader can take them out of the whole record without parsing it.
    """
    import numpy as np

    body, features = b"", {}
    for f in fields_of(spec):
        shape = list(f.shape(spec))
        size = math.prod(shape) * np.dtype(f.dtype).itemsize
        value = _entry(f.name, _field(1, _field(1, bytes(size))))  # Feature.bytes_list.value: [the bytes]
        features[f.name] = {"dtype": f.dtype, "shape": shape, "offset": len(body) + len(value) - size}
        packed = b"".join(_varint(n) for n in shape)
        body += value + _entry(f"{f.name}/shape", _field(3, _field(1, packed) if shape else b""))  # Feature.int64_list
    head = _field_head(1, len(body))  # Example.features
    return head + body, {name: {**stored, "offset": len(head) + stored["offset"]} for name, stored in features.items()}


def _entry(key: str, feature: bytes) -> bytes:
    """One entry of `Features.feature`, a map<string, Feature>: the key (field 1), then the Feature (field 2)."""
    return _field(1, _field(1, key.encode()) + _field(2, feature))


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field: tag, length, payload."""
    return _field_head(number, len(payload)) + payload


def _field_head(number: int, length: int) -> bytes:
    return _varint(number << 3 | 2) + _varint(length)  # wire type 2: length-delimited


def _varint(n: int) -> bytes:
    """Protobuf's base-128 varint: 7 bits a byte, least significant first, the high bit set on all but the last."""
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    return bytes(out + bytes([n]))


@contextlib.contextmanager
def _shard_file(path: Path, compression: str):
    """A shard open for writing: the file, or a gzip stream into it."""
    with open(path, "wb") as file:
        if compression == "gzip":
            # no file name or time in the gzip header: the same sequences give the same bytes
            with gzip.GzipFile(filename="", mode="wb", fileobj=file, mtime=0, compresslevel=6) as packed:
                yield packed
        else:
            yield file


def _examples(rows: dict, features: dict[str, dict], template: bytes):
    """The serialized `tf.train.Example` of each sequence of `rows` ({name: (b, ...) array}): the template
    with each field's bytes at its offset."""
    import numpy as np

    count = len(rows["index"])
    examples = np.tile(np.frombuffer(template, np.uint8), (count, 1))
    for name, stored in features.items():
        value = np.ascontiguousarray(rows[name], np.dtype(stored["dtype"]).newbyteorder("<"))
        value = value.reshape(count, -1).view(np.uint8)
        examples[:, stored["offset"] : stored["offset"] + value.shape[1]] = value
    for example in examples:
        yield example.tobytes()


def _record(data: bytes) -> bytes:
    """One TFRecord: the length (uint64, little-endian), its masked crc32c, the data, the data's masked crc32c."""
    length = struct.pack("<Q", len(data))
    return length + _masked_crc(length) + data + _masked_crc(data)


def _masked_crc(data: bytes) -> bytes:
    """TFRecord's checksum: crc32c, rotated right by 15 bits plus a constant (uint32, little-endian)."""
    import google_crc32c

    crc = google_crc32c.value(data)
    return struct.pack("<I", (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF)
