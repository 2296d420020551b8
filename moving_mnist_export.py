"""Exporters: a built dataset written as plain files, one registered format each.

    >>> exporter = EXPORTERS["npy"]()
    >>> exporter.check_with(spec)                                  # before building: ValueError if it cannot
    >>> exporter.write(splits, spec, builder_hash, folder, config)  # {file or folder name: sequences}

Each exporter writes every field of `generator.fields` the dataset has (or, for a format with a
schema of its own such as COCO, what the schema holds), so a new field or a new format is one
entry. numpy, pyarrow and the publisher are imported when used.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from generator import Spec, fields_of
from generator.components import Component, Registry

EXPORTERS = Registry("format")


class Exporter(Component):
    """A format: `check_with` refuses a dataset the format cannot hold, `write` writes one."""

    def check_with(self, spec: Spec) -> None:
        """ValueError if a dataset of `spec` cannot be written in this format (called before it is built)."""

    def write(self, splits, spec: Spec, code: str, folder: Path, config: str) -> dict[str, int]:
        """Write `splits` ({split: Dataset}) into `folder`; return {file or folder name in it: sequences}.
        code: the builder's hash of the generation code; config: the preset's name."""
        raise NotImplementedError


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
    no dictionaries), so that it reads back with `load_dataset("parquet", ...)` as the same features."""

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


def _write_frames(ds, path: Path, spec: Spec, batch: int = 256) -> None:
    """Written with plain writes into space reserved first: a full disk is an `OSError` at once,
    where a memory map would die of SIGBUS half way."""
    import numpy as np
    from tqdm.auto import tqdm

    canvas = (spec.image_size, spec.image_size) if spec.channels == 1 else (3, spec.image_size, spec.image_size)
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
