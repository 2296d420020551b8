"""Staging: the Hub repository's tree, written to a local folder exactly as it will be pushed.

    STAGE/README.md                                  the dataset card
    STAGE/classic/train-00000-of-00002.parquet       Parquet shards, per config and split
    STAGE/previews/classic.gif                       the preview of each config
    STAGE/previews/classic/frame_differences.png     and its statistics figures
    STAGE/.moving-mnist-stage.json                   the manifest: every file above with its sha256

`load_dataset(STAGE, "classic")` reads it as the Hub would serve it. The manifest marks the folder
as the publisher's: a folder that holds anything else is refused, and only files the manifest
lists are ever replaced or deleted. Each config is written to a hidden folder first and swapped in
when complete, so an interrupted run leaves nothing a later run would trust; shards already staged
from the same data, whose bytes still have their recorded sha256, are kept, so a re-run resumes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
from datasets.utils.tqdm import tqdm  # quiet under datasets.disable_progress_bars()

from generator import BLOCK_SIZE
from generator.files import file_sha256
from moving_mnist_hub import dataset_pictures

# Chosen by measurement (scripts/benchmark.py (e) and (p), README "Publish to the Hub"). Writing: zstd
# level 1 without dictionaries writes 4.6x faster than datasets' defaults (snappy, dictionaries,
# content-defined chunking) and gives smaller files. Reading: `load_dataset` decodes every pixel of a
# nested list column on its own (levels and all), so the layout decides its speed: arrays stored as
# fixed-size lists of non-null values (`parquet_schema`) in row groups of about 50 classic sequences
# decode without validity bitmaps and in buffers the allocator reuses. Statistics only where a reader
# can use them (`index`).
PARQUET_OPTIONS = {
    "compression": "zstd",
    "compression_level": 1,
    "use_dictionary": False,
    "write_statistics": ["index"],
}
ROW_GROUP_BYTES = 2**22  # of fixed-size values: 51 classic sequences, 25 notebook ones
MIN_SHARD_SIZE = 10**6  # "1MB" as datasets counts: smaller shards only multiply files and requests
MANIFEST = ".moving-mnist-stage.json"
_METADATA_KEY = b"moving_mnist"  # in each shard's footer: which data it holds
_CODE_HASH = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()  # this file decides the shards' bytes


def config_paths(name: str) -> list[str]:
    """The repository paths that belong to a config (prefixes): its shards and its pictures."""
    return [f"{name}/", f"previews/{name}/", f"previews/{name}.gif"]


def shard_size(value: str | int) -> int:
    """`--max-shard-size` in bytes ("500MB", "2GB" or a number of bytes), at least `MIN_SHARD_SIZE`."""
    try:
        size = int(value) if str(value).isdigit() else datasets.utils.py_utils.convert_file_size_to_int(value)
    except ValueError:
        size = None
    if size is None or size < MIN_SHARD_SIZE:
        raise ValueError(
            f"--max-shard-size {value!r} must be a size of at least 1MB ({MIN_SHARD_SIZE} bytes), such as "
            "500MB, 2GB or a number of bytes"
        )
    return size


class Stage:
    """A staging folder that the publisher owns, and its manifest.

    manifest: {"configs": {name: identity}, "files": {path: sha256}}, every path relative to the
    folder; written atomically after each change, so that it never lists a file it did not check.
    """

    def __init__(self, folder: Path, caches: list[str | os.PathLike]):
        """Open `folder` (creating it), or `ValueError` if it holds files the publisher did not write
        or lies inside a `datasets` cache in `caches` (that the swap of a config would delete)."""
        self.folder = Path(folder).expanduser()
        where = self.folder.resolve()
        for cache in caches:
            cache = Path(cache).expanduser().resolve()
            if where.is_relative_to(cache) or cache.is_relative_to(where):
                raise ValueError(f"--stage {folder} overlaps the datasets cache {cache}: give a folder outside it")
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"--stage {folder} is a file: give a new, empty or earlier staging folder")
        manifest = self.folder / MANIFEST
        if manifest.is_file():
            try:
                self.manifest = json.loads(manifest.read_text(encoding="utf-8"))
            except ValueError:
                self.manifest = None
            if not (isinstance(self.manifest, dict) and set(self.manifest) == {"configs", "files"}):
                raise ValueError(f"--stage {folder}: its manifest {MANIFEST} is unreadable: "
                                 "delete the folder to stage afresh")
        elif self.folder.is_dir() and any(self.folder.iterdir()):
            raise ValueError(
                f"--stage {folder} holds files that moving-mnist did not stage (no {MANIFEST}): "
                "give a new or empty folder"
            )
        else:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.manifest = {"configs": {}, "files": {}}
            self._save()

    @property
    def files(self) -> dict[str, str]:
        """path -> sha256 of every file staged (a copy)."""
        return dict(self.manifest["files"])

    def stage_config(self, name: str, splits, spec, identity: str, max_shard_size: int) -> int:
        """Write a config's Parquet shards and pictures; return the bytes of its shards.

        splits: `datasets.DatasetDict` of the built config. identity: a digest of everything that
        decides the shards' bytes (`identity()`); shards staged with the same identity and intact
        bytes are kept.
        """
        self._check_owned(config_paths(name))
        folder, partial = self.folder / name, self.folder / f".{name}.partial"
        shutil.rmtree(partial, ignore_errors=True)  # an interrupted run's leftovers are never trusted
        wanted = {
            f"{name}/{file}" for split, ds in splits.items() for file in shard_names(split, len(_plan(ds, max_shard_size)))
        }
        if self._intact(name, identity, wanted):
            print(f"{folder}: already staged, kept")
        else:
            written = write_shards(splits, partial, identity, max_shard_size)
            self._forget(f"{name}/")  # the old shards go, then the manifest names the new ones, then they move in
            if folder.exists():
                folder.rmdir()  # empty: it held only recorded files
            self.manifest["configs"][name] = identity
            self.manifest["files"].update({f"{name}/{file}": sha for file, sha in written.items()})
            self._save()
            os.replace(partial, folder)
        previews = self.folder / "previews"
        previews.mkdir(exist_ok=True)
        first = next(iter(splits.values()))
        self._record(dataset_pictures.write_preview(first, spec, previews / f"{name}.gif"))
        for path in dataset_pictures.write_split_stats(splits, spec, previews / name, config=name):
            self._record(path)
        return sum(p.stat().st_size for p in folder.glob("*.parquet"))

    def write_text(self, path: str, text: str) -> None:
        """Write (atomically) and record the file `path`, such as README.md."""
        self._check_owned([path])
        target = self.folder / path
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)
        self._record(target)

    def _intact(self, name: str, identity: str, wanted: set[str]) -> bool:
        """Whether the staged shards of `name` are exactly `wanted`, of this identity, with their recorded bytes."""
        staged = {p for p in self.manifest["files"] if p.startswith(f"{name}/")}
        folder = self.folder / name
        return (
            self.manifest["configs"].get(name) == identity
            and staged == wanted
            and folder.is_dir() and {f"{name}/{p.name}" for p in folder.iterdir()} == wanted
            and all(file_sha256(self.folder / p) == self.manifest["files"][p] for p in sorted(wanted))
        )

    def _check_owned(self, prefixes: list[str]) -> None:
        """`ValueError` if a file under `prefixes` is not one the manifest lists (the user's: never overwritten)."""
        for prefix in prefixes:
            top = self.folder / prefix
            for path in (sorted(top.rglob("*")) if top.is_dir() else [top] if top.exists() else []):
                relative = path.relative_to(self.folder).as_posix()
                if path.is_file() and relative not in self.manifest["files"]:
                    raise ValueError(f"--stage {self.folder}: {relative} was not written by moving-mnist: "
                                     "move it away or give another staging folder")

    def _forget(self, prefix: str) -> None:
        """Delete the recorded files under `prefix` and drop them from the manifest."""
        for path in [p for p in self.manifest["files"] if p.startswith(prefix)]:
            (self.folder / path).unlink(missing_ok=True)
            del self.manifest["files"][path]
        self._save()

    def _record(self, path: Path) -> None:
        self.manifest["files"][path.relative_to(self.folder).as_posix()] = file_sha256(path)
        self._save()

    def _save(self) -> None:
        partial = self.folder / f"{MANIFEST}.partial"
        partial.write_text(json.dumps(self.manifest, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(partial, self.folder / MANIFEST)


def write_shards(splits, folder: Path, identity: str, max_shard_size: int) -> dict[str, str]:
    """Write `{split}-{i:05d}-of-{n:05d}.parquet` files of each split (`shard_plan`) into a new `folder`;
    return file name -> sha256 of what was written."""
    folder.mkdir(parents=True)
    jobs = [
        (ds, folder / file, rows, i, len(plan), identity)
        for split, ds in splits.items()
        for plan in [_plan(ds, max_shard_size)]
        for i, (file, rows) in enumerate(zip(shard_names(split, len(plan)), plan))
    ]
    # pyarrow encodes without holding the GIL: one thread per core
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        digests = list(tqdm(pool.map(_write_shard, jobs), total=len(jobs), desc="Writing Parquet shards", unit=" shards"))
    return {job[1].name: digest for job, digest in zip(jobs, digests)}


def shard_plan(num_rows: int, row_bytes: int, max_shard_size: int) -> list[range]:
    """The rows of each shard of a split of `num_rows` rows of `row_bytes` Arrow bytes: the fewest shards
    of at most `max_shard_size` bytes whose boundaries fall on the random blocks (`generator.BLOCK_SIZE`
    sequences), or, where a block is more than a shard, cut blocks into equal power-of-two parts, so
    that a shard can be generated on its own from the blocks it needs; all shards are as equal as that allows.
    """
    fit = max(1, max_shard_size // row_bytes)  # rows a shard may hold
    if num_rows <= fit:
        return [range(0, num_rows)]
    unit = BLOCK_SIZE if fit >= BLOCK_SIZE else 1 << (fit.bit_length() - 1)  # a power of two divides a block
    units = -(-num_rows // unit)
    count = -(-units // (fit // unit))
    size = -(-units // count) * unit
    return [range(start, min(start + size, num_rows)) for start in range(0, num_rows, size)]


def shard_names(split: str, n: int) -> list[str]:
    return [f"{split}-{i:05d}-of-{n:05d}.parquet" for i in range(n)]


def write_shard(tables: Iterable[pa.Table], features: datasets.Features, where, identity: str, shard: int,
                num_shards: int) -> None:
    """Write the rows of `tables` (consecutive, rows of `features` as `datasets` stores them, chunked in
    any way) as one Parquet shard to `where`, a path or a binary file object, as every published shard
    is written: in `parquet_schema(features)`, with `PARQUET_OPTIONS`, in row groups of `rows_per_group`
    rows, with the shard's identity in the footer. Each row group is written from one chunk per column,
    so that the bytes depend on the rows alone, not on how they were chunked when they came.
    `ValueError` if an array holds a null."""
    footer = json.dumps({"identity": identity, "shard": shard, "num_shards": num_shards}).encode()
    schema = parquet_schema(features)
    schema = schema.with_metadata({**schema.metadata, _METADATA_KEY: footer})
    size = rows_per_group(schema)
    with pq.ParquetWriter(where, schema, **PARQUET_OPTIONS) as writer:
        for group in _row_groups(tables, size):
            writer.write_table(parquet_table(group, schema), row_group_size=size)


def identity(spec, code_hash: str, max_shard_size: int) -> str:
    """A digest of what decides a config's shard bytes: data, code (the generator's and this
    module's), Parquet settings and pyarrow."""
    record = {
        "spec": spec.as_dict(),
        "code": code_hash,
        "staging_code": _CODE_HASH,
        "parquet": PARQUET_OPTIONS,
        "row_group_bytes": ROW_GROUP_BYTES,
        "max_shard_size": max_shard_size,
        "pyarrow": pa.__version__,
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def _plan(ds, max_shard_size: int) -> list[range]:
    """A built split's `shard_plan` (its Arrow bytes are the same for every row)."""
    return shard_plan(ds.num_rows, ds.data.nbytes // ds.num_rows, max_shard_size)


def _row_groups(tables: Iterable[pa.Table], size: int):
    """The rows of `tables` as tables of `size` rows (the last may have fewer), one chunk per column."""
    rows = None
    for table in tables:
        rows = table if rows is None else pa.concat_tables([rows, table])
        while rows.num_rows >= size:
            yield rows.slice(0, size).combine_chunks()
            rows = rows.slice(size)
    if rows is not None and rows.num_rows:
        yield rows.combine_chunks()


def _write_shard(job) -> str:
    ds, path, rows, i, n, identity = job
    write_shard([ds.data.table.slice(rows.start, len(rows))], ds.features, path, identity, i, n)
    return file_sha256(path)


def parquet_table(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` (rows of features, as `datasets` stores them) in their `parquet_schema`, `schema`, on the
    same values buffers (no copy); `ArrowInvalid` if an array is not of its feature's shape, `ValueError`
    if it holds a null."""
    columns = [_storage(table.column(field.name)) for field in schema]
    for field, column in zip(schema, columns):
        if not field.nullable and _has_nulls(column):
            raise ValueError(f"field {field.name!r} holds nulls: the shards store arrays of values only")
    return pa.Table.from_arrays([column.cast(field.type) for field, column in zip(schema, columns)], schema=schema)


def parquet_schema(features: datasets.Features) -> pa.Schema:
    """The Arrow schema of the shards: that of `features` (its metadata names the features, for readers
    without the card), except that each `ArrayXD` field of shape `(d0, d1, ...)` is stored as fixed-size
    lists (`d0` lists of `d1` ...) of non-null values.

    Parquet decodes those without validity bitmaps, and `datasets` casts them to the features' own
    storage (lists with offsets) by computing the offsets alone; pyarrow, polars and duckdb read them
    as nested arrays of that shape.
    """
    own = features.arrow_schema
    return pa.schema([_fixed_shape(field, features[field.name]) for field in own], metadata=own.metadata)


def rows_per_group(schema: pa.Schema) -> int:
    """Rows per row group: as many as hold `ROW_GROUP_BYTES` of the schema's fixed-size values, at least 1."""
    return max(1, ROW_GROUP_BYTES // max(1, sum(_fixed_bytes(field.type) for field in schema)))


_ARRAYS = (datasets.Array2D, datasets.Array3D, datasets.Array4D, datasets.Array5D)


def _fixed_shape(field: pa.Field, feature) -> pa.Field:
    if not isinstance(feature, _ARRAYS) or None in feature.shape:
        return field
    value_type = field.type.storage_type
    while pa.types.is_list(value_type):
        value_type = value_type.value_type
    for size in reversed(feature.shape):
        value_type = pa.list_(pa.field("item", value_type, nullable=False), size)
    return pa.field(field.name, value_type, nullable=False)


def _storage(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if not isinstance(column.type, pa.ExtensionType):
        return column
    return pa.chunked_array([chunk.storage for chunk in column.chunks], column.type.storage_type)


def _has_nulls(column: pa.ChunkedArray) -> bool:
    """Whether a null is anywhere in `column`, at any level of its lists."""
    for array in column.chunks:
        while not array.null_count and (pa.types.is_list(array.type) or pa.types.is_fixed_size_list(array.type)):
            array = array.flatten()
        if array.null_count:
            return True
    return False


def _fixed_bytes(value_type: pa.DataType) -> int:
    if pa.types.is_fixed_size_list(value_type):
        return value_type.list_size * _fixed_bytes(value_type.value_type)
    try:
        return value_type.bit_width // 8
    except ValueError:  # strings, variable lists: not counted
        return 0
