"""Staging: the Hub repository's tree, written to a local folder exactly as it will be pushed.

    STAGE/README.md                                  the dataset card
    STAGE/classic/train-00000-of-00002.parquet       Parquet shards, per config and split
    STAGE/previews/classic.gif                       the preview of each config
    STAGE/previews/classic/frame_differences.png     and its statistics figures

`load_dataset(STAGE, "classic")` reads it as the Hub would serve it. Each config is written to a
hidden folder first and swapped in when complete, so an interrupted run leaves nothing a later
run would trust; shards already staged from the same data are kept, so a re-run resumes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from datasets.utils.tqdm import tqdm  # quiet under datasets.disable_progress_bars()

from moving_mnist_hub import dataset_pictures

# Chosen by measurement (scripts/benchmark.py (e), README "Publish to the Hub"): zstd level 1 without
# dictionaries writes 4.6x faster than datasets' defaults (snappy, dictionaries, content-defined
# chunking) and gives 28% smaller files; faster zstd levels give bigger files and no speed, as the
# nested-list encoding of Array3D dominates. 256 sequences (about 22 MB of classic frames) per row
# group keeps random access cheap. Statistics only where a reader can use them (`index`).
PARQUET_OPTIONS = {
    "compression": "zstd",
    "compression_level": 1,
    "use_dictionary": False,
    "write_statistics": ["index"],
}
ROW_GROUP_SIZE = 256
_METADATA_KEY = b"moving_mnist"  # in each shard's footer: which data it holds, for resuming


def config_paths(name: str) -> list[str]:
    """The repository paths that belong to a config (prefixes): its shards and its pictures."""
    return [f"{name}/", f"previews/{name}/", f"previews/{name}.gif"]


def stage_config(stage: Path, name: str, splits, spec, identity: str, max_shard_size: int) -> int:
    """Write a config's Parquet shards and pictures under `stage`; return the bytes of its shards.

    splits: `datasets.DatasetDict` of the built config. identity: a digest of everything that
    decides the shards' bytes; shards already staged with the same identity are kept.
    """
    folder, partial = stage / name, stage / f".{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)  # an interrupted run's leftovers are never trusted
    wanted = {split: _num_shards(ds, max_shard_size) for split, ds in splits.items()}
    if _staged(folder, identity, wanted):
        print(f"{folder}: already staged, kept")
    else:
        write_shards(splits, partial, identity, max_shard_size)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(partial, folder)
    previews = stage / "previews"
    previews.mkdir(exist_ok=True)
    first = next(iter(splits.values()))
    dataset_pictures.write_preview(first, spec, previews / f"{name}.gif")
    dataset_pictures.write_split_stats(splits, spec, previews / name)
    return sum(p.stat().st_size for p in folder.glob("*.parquet"))


def write_shards(splits, folder: Path, identity: str, max_shard_size: int) -> None:
    """Write `{split}-{i:05d}-of-{n:05d}.parquet` files of each split into a new `folder`."""
    folder.mkdir(parents=True)
    jobs = [
        (ds, folder / f"{split}-{i:05d}-of-{n:05d}.parquet", i, n, identity)
        for split, ds in splits.items()
        for n in [_num_shards(ds, max_shard_size)]
        for i in range(n)
    ]
    # pyarrow encodes without holding the GIL: one thread per core
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        for _ in tqdm(pool.map(_write_shard, jobs), total=len(jobs), desc="Writing Parquet shards", unit=" shards"):
            pass


def identity(spec, code_hash: str, max_shard_size: int) -> str:
    """A digest of what decides a config's shard bytes: data, code, Parquet settings and pyarrow."""
    record = {
        "spec": spec.as_dict(),
        "code": code_hash,
        "parquet": PARQUET_OPTIONS,
        "row_group_size": ROW_GROUP_SIZE,
        "max_shard_size": max_shard_size,
        "pyarrow": pa.__version__,
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def _num_shards(ds, max_shard_size: int) -> int:
    """As `push_to_hub` counts: the split's uncompressed Arrow bytes over the maximum shard size."""
    return max(1, -(-ds.data.nbytes // max_shard_size))


def _write_shard(job) -> None:
    ds, path, i, n, identity = job
    lo, hi = ds.num_rows * i // n, ds.num_rows * (i + 1) // n
    schema = ds.features.arrow_schema  # carries the features (Array3D, ClassLabel names) for readers
    footer = json.dumps({"identity": identity, "shard": i, "num_shards": n}).encode()
    schema = schema.with_metadata({**schema.metadata, _METADATA_KEY: footer})
    with pq.ParquetWriter(path, schema, **PARQUET_OPTIONS) as writer:
        writer.write_table(ds.data.table.slice(lo, hi - lo).replace_schema_metadata(schema.metadata), row_group_size=ROW_GROUP_SIZE)


def _staged(folder: Path, identity: str, wanted: dict[str, int]) -> bool:
    """Whether `folder` holds exactly the wanted shards, each complete and of this identity."""
    expected = {f"{split}-{i:05d}-of-{n:05d}.parquet" for split, n in wanted.items() for i in range(n)}
    if not folder.is_dir() or {p.name for p in folder.iterdir()} != expected:
        return False
    for name in expected:
        try:
            metadata = pq.read_schema(folder / name).metadata or {}
        except (pa.ArrowInvalid, OSError):  # truncated or not Parquet
            return False
        if json.loads(metadata.get(_METADATA_KEY, b"{}")).get("identity") != identity:
            return False
    return True
