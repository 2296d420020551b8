"""The `moving-mnist` command: list presets, build them into the Arrow cache, export plain files.

    moving-mnist configs
    moving-mnist build [NAME] [--set key=value ...] [--num-proc N] [--cache-dir DIR] [--data-dir DIR]
    moving-mnist export NAME --format npy|parquet --output DIR [same options as build]
    moving-mnist preview NAME [--split S] [--num 8] [--output DIR] [--format gif|mp4] [--scale 2] [--fps 5]
    moving-mnist stats NAME --output DIR [same options as build]
    moving-mnist publish NAME [NAME ...] --repo-id ORG/NAME [--private] [--max-shard-size 500MB]
                         [--stage DIR] [--dry-run] [same options as build]

User errors (unknown names, bad values, unreadable paths, corrupt downloads, a publish the Hub
refuses or the network breaks) print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

import moving_mnist
from generator import SPLITS, Spec
from moving_mnist_hub import dataset_pictures
from moving_mnist_hub.publish import PublishError, publish

# parameter -> its type, for `--set` (Spec's annotations are strings: "int", "float", "str")
_TYPES = {name: {"int": int, "float": float, "str": str}[f.type] for name, f in Spec.__dataclass_fields__.items()}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError, ConnectionError, PublishError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        parser.exit(2, f"moving-mnist: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moving-mnist", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    configs = commands.add_parser("configs", help="list the presets with every parameter")
    configs.set_defaults(run=_configs)

    build = commands.add_parser("build", help="build a dataset into the local Arrow cache")
    build.add_argument("name", nargs="?", default=moving_mnist.MovingMNIST.DEFAULT_CONFIG_NAME)
    _add_build_options(build)
    build.set_defaults(run=_build)

    export = commands.add_parser("export", help="build, then write plain .npy or .parquet files")
    export.add_argument("name")
    export.add_argument("--format", choices=("npy", "parquet"), required=True)
    export.add_argument("--output", type=Path, required=True, metavar="DIR")
    _add_build_options(export)
    export.set_defaults(run=_export)

    preview = commands.add_parser("preview", help="build, then write an animated GIF or MP4 of one split")
    preview.add_argument("name")
    preview.add_argument("--split", choices=SPLITS, default=None, help="default: the first split present")
    preview.add_argument("--num", type=int, default=8, metavar="N",
                         help="sequences shown, one per row (fewer if the split is smaller)")
    preview.add_argument("--output", type=Path, default=Path("previews"), metavar="DIR")
    preview.add_argument("--format", choices=("gif", "mp4"), default="gif")
    preview.add_argument("--scale", type=int, default=2, metavar="N", help="enlarge each pixel N times")
    preview.add_argument("--fps", type=float, default=5.0, metavar="N", help="frames per second")
    _add_build_options(preview)
    preview.set_defaults(run=_preview)

    stats = commands.add_parser("stats", help="build, then write statistics figures (PNG) of every split")
    stats.add_argument("name")
    stats.add_argument("--output", type=Path, required=True, metavar="DIR")
    _add_build_options(stats)
    stats.set_defaults(run=_stats)

    push = commands.add_parser("publish", help="build, stage and push configs to the Hugging Face Hub")
    push.add_argument("names", nargs="+", metavar="NAME", help=f"presets to publish: {', '.join(moving_mnist.PRESETS)}")
    push.add_argument("--repo-id", required=True, metavar="ORG/NAME", help="the Hub dataset repository")
    push.add_argument("--private", action="store_true", help="create the repository private")
    push.add_argument("--max-shard-size", default="500MB", metavar="SIZE", help="uncompressed Arrow bytes per shard")
    push.add_argument("--stage", type=Path, default=None, metavar="DIR",
                      help="staging folder (default: hub-staging/ORG--NAME); kept for resuming")
    push.add_argument("--dry-run", action="store_true", help="stage only: build the repository tree, push nothing")
    _add_build_options(push)
    push.set_defaults(run=_publish)
    return parser


def _add_build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
        help=f"override a parameter; keys: {', '.join(_TYPES)}",
    )
    parser.add_argument("--num-proc", type=int, default=None, metavar="N", help="worker processes")
    parser.add_argument("--cache-dir", type=Path, default=None, metavar="DIR", help="Arrow cache root")
    parser.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                        help="a folder holding the canonical source files; nothing is downloaded")


def _configs(args) -> int:
    names = list(moving_mnist.PRESETS)
    print(f"{'parameter':<18}" + "".join(f"{name:>12}" for name in names))
    for key in _TYPES:
        print(f"{key:<18}" + "".join(f"{getattr(moving_mnist.PRESETS[n], key)!s:>12}" for n in names))
    for name, config in moving_mnist.PRESETS.items():
        print(f"\n{name}: {config.description}")
    return 0


def _overrides(pairs: list[str]) -> dict:
    """`["seed=7", "motion=notebook"]` -> `{"seed": 7, "motion": "notebook"}`, typed like `Spec`."""
    overrides = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep:
            raise ValueError(f"--set {pair!r}: expected KEY=VALUE")
        if key not in _TYPES:
            raise ValueError(f"--set {pair!r}: unknown key {key!r}; known keys: {', '.join(_TYPES)}")
        try:
            overrides[key] = _TYPES[key](text)
        except ValueError:
            raise ValueError(f"--set {pair!r}: {key} must be of type {_TYPES[key].__name__}, got {text!r}") from None
    return overrides


def _prepare(args):
    """Validate the options, build (or reuse) the dataset and return (builder, DatasetDict, seconds)."""
    if args.name not in moving_mnist.PRESETS:
        raise ValueError(f"unknown config {args.name!r}; presets: {', '.join(moving_mnist.PRESETS)}")
    _check_build_options(args)
    builder = moving_mnist.MovingMNIST(
        config_name=args.name,
        cache_dir=str(args.cache_dir) if args.cache_dir else None,
        data_dir=str(args.data_dir) if args.data_dir else None,
        **_overrides(args.overrides),
    )
    start = time.perf_counter()
    builder.download_and_prepare(num_proc=args.num_proc)
    return builder, builder.as_dataset(), time.perf_counter() - start


def _build(args) -> int:
    builder, splits, seconds = _prepare(args)
    print(f"\n{builder.config_id}  ->  {builder.cache_dir}")
    print(f"{'split':<12}{'rows':>8}  {'input_frames':<16}{'output_frames':<16}{'positions':<16}{'on disk':>10}")
    total = 0
    for split, ds in splits.items():
        size = sum(os.path.getsize(f["filename"]) for f in ds.cache_files)
        total += size
        shapes = [str(ds.features[c].shape) for c in ("input_frames", "output_frames", "positions")]
        print(f"{split:<12}{ds.num_rows:>8}  " + "".join(f"{s:<16}" for s in shapes) + f"{_size(size):>10}")
    print(f"total {_size(total)} on disk, {seconds:.1f} s")
    return 0


def _export(args) -> int:
    builder, splits, _ = _prepare(args)
    args.output.mkdir(parents=True, exist_ok=True)
    for split, ds in splits.items():
        path = args.output / f"{split}.{args.format}"
        partial = path.with_name(path.name + ".partial")  # renamed when complete: no half files
        if args.format == "parquet":
            ds.to_parquet(str(partial))
        else:
            _write_npy(ds, partial, builder.config.spec)
        os.replace(partial, path)
        print(f"{path}  ({ds.num_rows} sequences, {_size(path.stat().st_size)})")
    return 0


def _preview(args) -> int:
    # checked before building, which can take a while
    for option, value, minimum in (("--num", args.num, 1), ("--scale", args.scale, 1)):
        if value < minimum:
            raise ValueError(f"{option} {value}: must be an integer >= {minimum}")
    if not args.fps > 0:
        raise ValueError(f"--fps {args.fps}: must be a number > 0")
    builder, splits, _ = _prepare(args)
    split = args.split or next(iter(splits))
    if split not in splits:
        raise ValueError(f"--split {split}: this dataset has no such split; splits: {', '.join(splits)}")
    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / f"{args.name}-{split}.{args.format}"
    dataset_pictures.write_preview(splits[split], builder.config.spec, path, args.num, args.scale, args.fps)
    print(f"{path}  ({min(args.num, splits[split].num_rows)} sequences of {split}, {_size(path.stat().st_size)})")
    return 0


def _stats(args) -> int:
    builder, splits, _ = _prepare(args)
    for path in dataset_pictures.write_split_stats(splits, builder.config.spec, args.output):
        print(path)
    return 0


def _check_build_options(args) -> None:
    if args.data_dir is not None and not os.access(args.data_dir, os.R_OK | os.X_OK):
        raise ValueError(f"--data-dir {args.data_dir}: not a readable folder")
    if args.num_proc is not None and args.num_proc < 1:
        raise ValueError(f"--num-proc {args.num_proc}: must be at least 1")


def _publish(args) -> int:
    _check_build_options(args)
    stage = args.stage or Path("hub-staging") / args.repo_id.replace("/", "--")
    print(publish(
        args.names,
        args.repo_id,
        stage=stage,
        overrides=_overrides(args.overrides),
        private=args.private,
        max_shard_size=args.max_shard_size,
        dry_run=args.dry_run,
        cache_dir=str(args.cache_dir) if args.cache_dir else None,
        data_dir=str(args.data_dir) if args.data_dir else None,
        num_proc=args.num_proc,
    ))
    return 0


def _write_npy(ds, path: Path, spec: Spec, batch: int = 256) -> None:
    """Frames as `(T, N, H, W)` uint8, time first, the layout of the original `mnist_test_seq.npy`."""
    shape = (spec.num_frames, ds.num_rows, spec.image_size, spec.image_size)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=shape)
    frames = ds.with_format("numpy", columns=["input_frames", "output_frames"], dtype=np.uint8)
    t_in = spec.num_input_frames
    for lo in tqdm(range(0, ds.num_rows, batch), desc=f"Writing {path.stem}", unit=" batches"):
        rows = frames[lo : lo + batch]
        out[:t_in, lo : lo + batch] = rows["input_frames"].swapaxes(0, 1)
        out[t_in:, lo : lo + batch] = rows["output_frames"].swapaxes(0, 1)
    out.flush()
    del out


def _size(num_bytes: int) -> str:
    return f"{num_bytes / 1e6:.1f} MB"


if __name__ == "__main__":
    sys.exit(main())
