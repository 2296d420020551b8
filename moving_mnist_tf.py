"""TensorFlow: a `tf.data` reader of the shards that `moving-mnist export --format tfrecord` writes.

    >>> import moving_mnist
    >>> train = moving_mnist.tf.dataset("out/", "train", batch_size=32, shuffle=True, seed=0)
    >>> batch = next(iter(train))
    >>> batch["input_frames"].shape, batch["input_frames"].dtype
    (TensorShape([32, 10, 64, 64]), tf.uint8)

Every field decodes to its own dtype and a static shape, both read from the export's manifest
(`moving-mnist-export.json`), which also holds the sha256 of every shard, checked before the first
batch. TensorFlow is imported when `dataset` is called, not with this module; nothing else in the
project imports it.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from generator.files import file_sha256
from moving_mnist_cli import MANIFEST


def dataset(
    source: str | os.PathLike | list,
    split: str = "train",
    *,
    columns: list[str] | None = None,
    batch_size: int | None = None,
    drop_remainder: bool = False,
    shuffle: bool = False,
    seed: int | None = None,
    shuffle_buffer: int = 1024,
    cycle_length: int = 4,
    deterministic: bool = True,
    verify: bool = True,
):
    """A `tf.data.Dataset` of `{field: tensor}`, each field in its dtype: frames `(T_in, H, W)` uint8 (RGB
    `(T_in, 3, H, W)`, volumes `(T_in, D, D, D)`), `labels (K,)` int64, ..., with a leading batch axis when
    `batch_size` is given (static too with `drop_remainder`). Its length is known (`len`, Keras' steps).

    source: an export folder (`split` says which of its splits), or one shard file, or a list of shard
        files, of one export.
    columns: the fields to read (default: every field of the export).
    batch_size: batches of this many sequences, decoded a batch at a time (faster than one by one).
    shuffle: False: the sequences in index order (of the shards as given). True: the shards in a random
        order, `cycle_length` of them read in parallel and interleaved one sequence at a time, then
        shuffled in a buffer of `shuffle_buffer` sequences; a new order each epoch.
    seed: with `shuffle`, the same seed gives the same orders, epoch after epoch, on any machine.
    deterministic: False lets the parallel reads and decoding hand over whatever is ready first: faster,
        but the order is no longer the same from run to run.
    verify: check each shard's sha256 against the manifest first (reading every byte once); a shard
        that differs raises ValueError naming it.
    """
    manifest, paths = _shards(source, split)
    features = manifest["tfrecord"]["features"]
    columns = _columns(columns, features)
    for name, value, low in (("batch_size", batch_size, 1), ("shuffle_buffer", shuffle_buffer, 1),
                             ("cycle_length", cycle_length, 1)):
        if value is not None and not (isinstance(value, int) and not isinstance(value, bool) and value >= low):
            raise ValueError(f"{name}={value!r} must be an integer >= {low}")
    if verify:
        _verify(manifest, paths)

    import tensorflow as tf

    compression = "GZIP" if manifest["tfrecord"]["compression"] == "gzip" else ""
    files = [str(path) for path in paths]
    if shuffle:
        shards = tf.data.Dataset.from_tensor_slices(files).shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
        records = shards.interleave(
            lambda path: tf.data.TFRecordDataset(path, compression_type=compression),
            cycle_length=min(cycle_length, len(files)),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=deterministic,
        ).shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    else:
        records = tf.data.TFRecordDataset(files, compression_type=compression)  # one reader, in index order
    records = records.apply(tf.data.experimental.assert_cardinality(sum(manifest["files"][path.name]["sequences"]
                                                                         for path in paths)))
    if batch_size is not None:
        records = records.batch(batch_size, drop_remainder=drop_remainder)
    parse = _parser(tf, {name: features[name] for name in columns})
    return records.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic).prefetch(tf.data.AUTOTUNE)


def _parser(tf, features: dict[str, dict]):
    """A function from serialized Examples, `()` or `(b,)` strings, to `{name: (*lead, *shape) tensor}`."""
    stored = {"bytes_list": tf.string, "int64_list": tf.int64, "float_list": tf.float32}
    schema = {
        name: tf.io.FixedLenFeature([] if f["list"] == "bytes_list" else f["shape"], stored[f["list"]])
        for name, f in features.items()
    }

    def parse(serialized):
        parsed = tf.io.parse_example(serialized, schema)
        lead = [-1 if n is None else n for n in serialized.shape.as_list()]  # [], [b], or [-1]: a last smaller batch
        values = {}
        for name, f in features.items():
            value, dtype = parsed[name], tf.dtypes.as_dtype(f["dtype"])
            if f["list"] == "bytes_list":
                value = tf.reshape(tf.io.decode_raw(value, dtype), lead + f["shape"])
            values[name] = tf.cast(value, dtype)  # int64 lists back to int16, int32, bool
        return values

    return parse


def _shards(source, split: str) -> tuple[dict, list[Path]]:
    """(the export's manifest, the shard files to read, in order)."""
    if isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
        folder = Path(source)
        manifest = _manifest(folder)
        names = [name for name in manifest["files"] if name.startswith(f"{split}-")]
        if not names:
            splits = dict.fromkeys(name.split("-")[0] for name in manifest["files"])
            raise ValueError(f"split={split!r}: {folder} holds no such split; its splits: {', '.join(splits)}")
        return manifest, [folder / name for name in names]
    paths = [Path(source)] if isinstance(source, (str, os.PathLike)) else [Path(path) for path in source]
    folders = sorted({str(path.parent) for path in paths})
    if len(folders) != 1:
        raise ValueError(f"source: shards of one export, in one folder, are read together; got {len(folders)} "
                         f"folders: {', '.join(folders) or 'none'}")
    manifest = _manifest(paths[0].parent)
    for path in paths:
        if path.name not in manifest["files"]:
            raise ValueError(f"{path}: not a shard of the export in {path.parent} ({MANIFEST} does not list it)")
    return manifest, paths


def _manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"{folder}: not a TFRecord export, {MANIFEST} cannot be read ({error}); write one with "
                         f"`moving-mnist export NAME --format tfrecord --output {folder}`") from None
    if manifest.get("format") != "tfrecord":
        raise ValueError(f"{folder}: an export of format {manifest.get('format')!r}, not tfrecord; write one with "
                         f"`moving-mnist export NAME --format tfrecord --output DIR`")
    return manifest


def _columns(columns: list[str] | None, features: dict) -> list[str]:
    if columns is None:
        return list(features)
    unknown = [name for name in columns if name not in features] if isinstance(columns, (list, tuple)) else [columns]
    if unknown or not columns:
        raise ValueError(f"columns={columns!r}: a list of some of this export's fields: {', '.join(features)}")
    return list(columns)


def _verify(manifest: dict, paths: list[Path]) -> None:
    """Each shard's size and sha256 against the manifest's, a thread per core (hashing releases the GIL)."""
    from tqdm.auto import tqdm

    def check(path: Path) -> int:
        entry = manifest["files"][path.name]
        if path.stat().st_size != entry["bytes"] or file_sha256(path) != entry["sha256"]:
            raise ValueError(f"{path}: corrupt: its bytes are not those whose sha256 {MANIFEST} records; "
                             f"export it again")
        return entry["bytes"]

    total = sum(manifest["files"][path.name]["bytes"] for path in paths)
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool, \
            tqdm(total=total, desc="Checking TFRecord shards", unit="B", unit_scale=True) as bar:
        for size in pool.map(check, paths):
            bar.update(size)
