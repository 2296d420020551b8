"""The `moving-mnist` command: list presets, build them into the Arrow cache, export plain files.

    moving-mnist configs
    moving-mnist build [NAME] [--set key=value ...] [--num-proc N] [--cache-dir DIR] [--data-dir DIR] [--rebuild]
    moving-mnist verify NAME [same options as build]
    moving-mnist export NAME --format FORMAT --output DIR [--overwrite] [the format's options] [same options as build]
    moving-mnist preview NAME [--split S] [--num 8] [--output DIR] [--format gif|mp4] [--scale 2] [--fps 5]
    moving-mnist stats NAME --output DIR [same options as build]
    moving-mnist publish NAME [NAME ...] --repo-id ORG/NAME [--private] [--max-shard-size 500MB]
                         [--stage DIR] [--dry-run] [same options as build]
    moving-mnist evaluate PRED.npy NAME [--split S] [--json OUT] [same options as build]
    moving-mnist build NAME --engine dask --output URL [--scheduler ADDRESS] [--max-shard-size 500MB]
                       [--repo-id ORG/NAME] [same options as build]
    moving-mnist publish --from URL --repo-id ORG/NAME [--private] [--stage DIR] [--dry-run]

User errors (unknown names, bad values, unusable paths, a full disk, corrupt downloads, a publish
the Hub refuses or the network breaks) print one line and exit with status 2; Ctrl-C exits with 130.
`datasets`, matplotlib and huggingface_hub are imported only by the commands that use them.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import errno
import functools
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import typing
from contextlib import contextmanager
from pathlib import Path

from generator import SPLITS, Spec, kinds
from generator.components import Component
from generator.fields import fields_of
from generator.files import SOURCE_FILES, file_sha256, local_files
from generator.presets import DEFAULT, PRESETS
from generator.spec import LEGACY, flatten, spelled
from generator.volumes import VolumeSpec
from moving_mnist_export import EXPORTERS, package_version as _version

# `--set` key -> its type: the specs' fields (2D and volumes), each component by name ("motion"), and each
# component parameter ("motion.step_length"); the specs and registries declare them, so a new field or
# component needs nothing here.
_TYPES = {
    **{name: str if hint is Component else hint for kind in (Spec, VolumeSpec) for name, hint in typing.get_type_hints(kind).items()},
    **{key: kind for registry in kinds.all_components().values() for key, kind in registry.parameter_types().items()},
    **{name: float for name in LEGACY},  # version 1.0's spelling of motion.step_length
}
_COMPONENTS = kinds.all_components()

MANIFEST = "moving-mnist-export.json"  # marks a folder as an export of ours, and lists its files
_FPS = (0.01, 100.0)  # pictures.FPS_RANGE (a GIF stores frame durations in 1/100 s, 16 bits), not imported: it loads imageio


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    _leave_interrupts_to_this_process()
    previous = signal.signal(signal.SIGINT, _interrupt), sys.unraisablehook
    try:
        args = parser.parse_args(argv)
        return args.run(args)
    except BaseException as error:
        _end_progress_bars()
        if _interrupted(error):
            parser.exit(130, "moving-mnist: interrupted\n")
        if isinstance(error, _user_errors()):
            parser.exit(2, f"moving-mnist: error: {_first_line(error)}\n")
        raise
    finally:
        signal.signal(signal.SIGINT, previous[0])
        sys.unraisablehook = previous[1]


@functools.cache  # once per process
def _leave_interrupts_to_this_process() -> None:
    """Worker processes (`--num-proc`) ignore Ctrl-C: this one stops them, and alone says so."""
    os.register_at_fork(after_in_child=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))


def _interrupt(signum, frame):
    """Ctrl-C: datasets' worker pool, stopped on the way out, finds its workers' results gone and says
    so in "Exception ignored" messages; they are part of the interrupt, not news."""
    sys.unraisablehook = lambda unraisable: None
    raise KeyboardInterrupt


def _end_progress_bars() -> None:
    """End the line of the progress bars an error cut short, so that its message has a line of its own."""
    tqdm = sys.modules.get("tqdm")
    bars = list(tqdm.tqdm._instances) if tqdm else []
    for bar in bars:
        bar.disable = True  # never redrawn after the message
    if bars:
        sys.stderr.write("\n")


def _interrupted(error: BaseException | None) -> bool:
    """Ctrl-C, or an error raised while cleaning up after it (datasets' worker pool raises TimeoutError)."""
    while error is not None:
        if isinstance(error, KeyboardInterrupt):
            return True
        error = error.__context__
    return False


def _user_errors() -> tuple[type[BaseException], ...]:
    """What the user can cause or fix. PublishError counts once the publisher is loaded (it loads the Hub client)."""
    publisher = sys.modules.get("moving_mnist_hub.publish")
    return (ValueError, OSError, ConnectionError) + ((publisher.PublishError,) if publisher else ())


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors in one line like ours (the usage is one `--help` away)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="moving-mnist", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    name_help = f"a preset: {', '.join(PRESETS)} (see `moving-mnist configs`)"

    configs = commands.add_parser("configs", help="list the presets with every parameter")
    configs.set_defaults(run=_configs)

    build = commands.add_parser("build", help="build a dataset into the local Arrow cache, or on Dask into the Hub layout")
    build.add_argument("name", nargs="?", default=DEFAULT, type=_preset, metavar="NAME", help=f"{name_help}; default {DEFAULT}")
    _add_build_options(build)
    _add_dask_options(build)
    build.set_defaults(run=_build)

    verify = commands.add_parser("verify", help="check a built dataset's Arrow cache against the digests recorded by its build")
    verify.add_argument("name", type=_preset, metavar="NAME", help=name_help)
    _add_build_options(verify)
    verify.set_defaults(run=_verify)

    export = commands.add_parser("export", help="build, then write plain files: .npy, .parquet, or COCO (PNG frames and JSON)")
    export.add_argument("name", type=_preset, metavar="NAME", help=name_help)
    export.add_argument("--format", choices=tuple(EXPORTERS), required=True)
    export.add_argument("--output", type=_path, required=True, metavar="DIR",
                        help="the folder to write; swapped in when complete")
    export.add_argument("--overwrite", action="store_true",
                        help="write into a non-empty folder that is not an export (files of the same names are replaced)")
    _add_exporter_options(export)
    _add_build_options(export)
    export.set_defaults(run=_export)

    preview = commands.add_parser("preview", help="build, then write an animated GIF or MP4 of one split")
    preview.add_argument("name", type=_preset, metavar="NAME", help=name_help)
    preview.add_argument("--split", choices=SPLITS, default=None, help="default: the first split present")
    preview.add_argument("--num", type=_integer(1, 64), default=8, metavar="N",
                         help="sequences shown, one per row, 1 .. 64 (fewer if the split is smaller)")
    preview.add_argument("--output", type=_path, default=Path("previews"), metavar="DIR")
    preview.add_argument("--format", choices=("gif", "mp4"), default="gif")
    preview.add_argument("--scale", type=_integer(1, 16), default=2, metavar="N", help="enlarge each pixel N times, 1 .. 16")
    preview.add_argument("--fps", type=_number(*_FPS), default=5.0, metavar="N",
                         help=f"frames per second, {_FPS[0]:g} .. {_FPS[1]:g}")
    _add_build_options(preview)
    preview.set_defaults(run=_preview)

    stats = commands.add_parser("stats", help="build, then write statistics figures (PNG) of every split")
    stats.add_argument("name", type=_preset, metavar="NAME", help=name_help)
    stats.add_argument("--output", type=_path, required=True, metavar="DIR", help="figures go to DIR/NAME/")
    _add_build_options(stats)
    stats.set_defaults(run=_stats)

    push = commands.add_parser("publish", help="build, stage and push configs to the Hugging Face Hub")
    push.add_argument("names", nargs="*", type=_preset, metavar="NAME", help=f"presets to publish: {', '.join(PRESETS)}")
    push.add_argument("--from", dest="source", default=None, metavar="URL",
                      help="push the output of `build --engine dask --output URL` as it is, instead of building NAMEs "
                           "(a local folder from where it is; any other URL copied into --stage first)")
    push.add_argument("--repo-id", required=True, metavar="ORG/NAME", help="the Hub dataset repository")
    push.add_argument("--private", action="store_true", help="create the repository private")
    push.add_argument("--max-shard-size", default="500MB", metavar="SIZE", help="uncompressed Arrow bytes per shard")
    push.add_argument("--stage", type=_path, default=None, metavar="DIR",
                      help="staging folder (default: hub-staging/ORG--NAME); kept for resuming")
    push.add_argument("--dry-run", action="store_true", help="stage only: build the repository tree, push nothing")
    _add_build_options(push)
    push.set_defaults(run=_publish)

    evaluate = commands.add_parser("evaluate", help="score saved predictions (.npy) against a split's output frames")
    evaluate.add_argument("predictions", type=_path, metavar="PRED.npy",
                          help="(N, T_out, ...) like the split's output_frames: uint8, or floats in [0, 1]")
    evaluate.add_argument("name", type=_preset, metavar="NAME", help=name_help)
    evaluate.add_argument("--split", choices=SPLITS, default=None,
                          help="default: test, or validation if the dataset has no test split")
    evaluate.add_argument("--json", type=_path, default=None, metavar="OUT", help="also write the scores to this JSON file")
    _add_build_options(evaluate)
    evaluate.set_defaults(run=_evaluate)
    return parser


def _add_build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set", action="append", default=[], type=_override, metavar="KEY=VALUE", dest="overrides",
        help=f"override a parameter; keys: {', '.join(_TYPES)}",
    )
    parser.add_argument("--num-proc", type=_integer(1, None), default=None, metavar="N", help="worker processes")
    parser.add_argument("--cache-dir", type=_path, default=None, metavar="DIR", help="Arrow cache root")
    parser.add_argument("--data-dir", type=_path, default=None, metavar="DIR",
                        help="a folder holding the canonical source files; nothing is downloaded")
    parser.add_argument("--rebuild", action="store_true",
                        help="build again even if the cache holds this dataset (after `verify` found it corrupt)")


def _add_exporter_options(parser: argparse.ArgumentParser) -> None:
    """Each exporter's parameters, as options of their own: `shard_size` is `--shard-size`."""
    for exporter in EXPORTERS.values():
        for f in dataclasses.fields(exporter):
            m = f.metadata
            kind = {"choices": m["options"]} if "options" in m else {"type": _integer(m["low"], m["high"]), "metavar": "N"}
            parser.add_argument(f"--{f.name.replace('_', '-')}", default=None, dest=f.name, **kind,
                                help=f"--format {exporter.name}: {m['meaning']}; default {f.default}")


def _exporter(args):
    """The `--format` exporter with the options given for it; an option of another format is refused."""
    chosen = EXPORTERS[args.format]
    given = {f.name for exporter in EXPORTERS.values() for f in dataclasses.fields(exporter) if getattr(args, f.name) is not None}
    own = {f.name for f in dataclasses.fields(chosen)}
    if given - own:
        option = "--" + min(given - own).replace("_", "-")
        raise ValueError(f"{option} is not an option of --format {args.format}; its options: "
                         f"{', '.join('--' + name.replace('_', '-') for name in sorted(own)) or 'none'}")
    return chosen(**{name: getattr(args, name) for name in given})


def _add_dask_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=("datasets", "dask"), default="datasets",
                        help="datasets: into the local Arrow cache (default); dask: the Hub layout (Parquet shards, "
                             "pictures, card) to --output, one task per shard on a Dask cluster")
    parser.add_argument("--output", default=None, metavar="URL",
                        help="--engine dask: where to write, a local or shared folder, s3://..., gs://... (any fsspec URL)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="--engine dask: the Dask scheduler (tcp://HOST:8786); default: a local cluster of "
                             "--num-proc processes")
    parser.add_argument("--max-shard-size", default=None, metavar="SIZE",
                        help="--engine dask: uncompressed Arrow bytes per shard (default 500MB, as publish)")
    parser.add_argument("--repo-id", default=None, metavar="ORG/NAME",
                        help="--engine dask: the repository the card names (publish --from names its own)")


# --- option types: each refuses a bad value at parse time, before anything is built ------------------


def _preset(text: str) -> str:
    if text in PRESETS:
        return text
    close = difflib.get_close_matches(text, PRESETS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise argparse.ArgumentTypeError(f"unknown config {text!r}{hint}; presets: {', '.join(PRESETS)}")


def _path(text: str) -> Path:
    """A path as the shell would have expanded it: `~` is the home folder, even when quoted."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path")
    return Path(text).expanduser()


def _override(pair: str) -> tuple[str, object]:
    """`"seed=7"` -> `("seed", 7)`, `"source.classes=1,3"` -> `("source.classes", [1, 3])`, typed by the spec."""
    key, sep, text = pair.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"{pair!r}: expected KEY=VALUE")
    if key not in _TYPES:
        close = difflib.get_close_matches(key, _TYPES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise argparse.ArgumentTypeError(f"{pair!r}: unknown key {key!r}{hint}; known keys: {', '.join(_TYPES)}")
    kind = _TYPES[key]
    try:
        return key, _typed(kind, text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{pair!r}: {key} must be {_WANTED.get(kind, kind)}, got {text!r}") from None


# how `_typed` reads each kind of value, in words
_WANTED = {
    int: "an integer", float: "a number", str: "a name", float | None: "a number or 'none'",
    int | tuple[int, int]: "an integer or a range MIN,MAX", float | tuple[float, float]: "a number or a range MIN,MAX",
    tuple[int, ...] | None: "comma-separated integers or 'all'", tuple[str, ...]: "comma-separated names or 'none'",
}


def _typed(kind, text: str):
    """A `--set` value read as `kind` (a type hint of the spec or a component): ValueError if it is not one."""
    if kind in (int, float, str):
        return kind(text)
    if kind == tuple[str, ...]:  # annotations: "centres,velocities", or "none"
        return [] if text == "none" else text.split(",")
    if kind == float | None:  # threshold: "0.5", or "none" for none
        return None if text == "none" else float(text)
    if kind == tuple[int, ...] | None:  # classes: "1,3,5", or "all" for no filter
        return None if text == "all" else [int(item) for item in text.split(",")]
    number = typing.get_args(kind)[0]  # a number, or a range "min,max"
    items = [number(item) for item in text.split(",")]
    return items[0] if len(items) == 1 else items


def _integer(low: int, high: int | None):
    allowed = f"an integer in {low} .. {high}" if high is not None else f"an integer >= {low}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{text!r}: must be {allowed}")
        return value

    return parse


def _number(low: float, high: float):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:  # NaN fails both comparisons
            raise argparse.ArgumentTypeError(f"{text!r}: must be a number in {low:g} .. {high:g}")
        return value

    return parse


# --- commands ------------------------------------------------------------------------------------


def _configs(args) -> int:
    names = list(PRESETS)
    table = {name: {k: spelled(v, k) for k, v in flatten(PRESETS[name].spec.as_dict()).items()} for name in names}
    keys = kinds.flat_keys(list(table.values()))
    width = max(map(len, keys)) + 2
    columns = {name: max(len(name), *map(len, table[name].values())) + 2 for name in names}
    print(f"{'parameter':<{width}}" + "".join(f"{name:>{columns[name]}}" for name in names))
    for key in keys:
        print(f"{key:<{width}}" + "".join(f"{table[n].get(key, '-'):>{columns[n]}}" for n in names))
    for name, preset in PRESETS.items():
        print(f"\n{name}: {preset.description}")
    return 0


def _build(args) -> int:
    _check_build_options(args)
    if args.engine == "dask":
        return _build_on_dask(args)
    given = [option for option, value in (("--output", args.output), ("--scheduler", args.scheduler),
             ("--max-shard-size", args.max_shard_size), ("--repo-id", args.repo_id)) if value is not None]
    if given:
        raise ValueError(f"{given[0]} is an option of --engine dask: add --engine dask, or leave it out")
    builder, splits, reused, seconds = _prepare(args)
    print(f"\n{builder.config_id}  ->  {builder.cache_dir}")
    shown = [c for c in ("input_frames", "output_frames", "positions") if c in next(iter(splits.values())).features]
    print(f"{'split':<12}{'rows':>8}  " + "".join(f"{c:<20}" for c in shown) + f"{'on disk':>10}")
    total = 0
    for split, ds in splits.items():
        size = sum(os.path.getsize(f["filename"]) for f in ds.cache_files)
        total += size
        print(f"{split:<12}{ds.num_rows:>8}  " + "".join(f"{str(ds.features[c].shape):<20}" for c in shown) + f"{_size(size):>10}")
    done = "cache hit: nothing generated" if reused else f"built in {seconds:.1f} s"
    print(f"total {_size(total)} on disk; {done}")
    return 0


def _build_on_dask(args) -> int:
    if args.output is None:
        raise ValueError("--engine dask writes the Hub layout to --output URL: give one (a folder, s3://..., gs://...)")
    if args.scheduler is not None and args.num_proc is not None:
        raise ValueError("--num-proc sizes the local cluster; with --scheduler the cluster's workers do the work: "
                         "leave --num-proc out")
    from moving_mnist_hub import distributed

    print(distributed.build(
        args.name,
        args.output,
        overrides=_parameters(args.overrides),
        scheduler=args.scheduler,
        workers=args.num_proc,
        max_shard_size=args.max_shard_size or "500MB",
        repo_id=args.repo_id or distributed.REPO_ID,
        cache_dir=_text(args.cache_dir),
        data_dir=_text(args.data_dir),
        rebuild=args.rebuild,
    ))
    return 0


def _verify(args) -> int:
    _check_build_options(args)
    import moving_mnist

    builder, splits, _, _ = _prepare(args)
    for split, digest in moving_mnist.check_cache(builder).items():
        print(f"{split:<12}{splits[split].num_rows:>8} sequences  xxh3-128 {digest}  ok")
    print(f"{builder.cache_dir}: every Arrow file matches the digest recorded when it was built")
    return 0


def _export(args) -> int:
    _check_build_options(args)
    exporter = _exporter(args)
    exporter.check_with(_spec(args.name, args.overrides))  # a dataset the format cannot hold is never built
    previous = _check_export_folder(args.output, args.overwrite)
    builder, splits, _, _ = _prepare(args)
    import moving_mnist

    moving_mnist.check_cache(builder)  # never export a cache whose bytes changed since it was built
    # written beside the output (inside it, if it exists), so that moving it in is a rename
    home = args.output if args.output.exists() else args.output.absolute().parent
    home.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".moving-mnist-export-", dir=home))
    try:
        with _disk_space(home):
            files = exporter.write(splits, builder.config.spec, builder.hash, partial, args.name)
            _write_manifest(partial, args.name, args.format, builder, files, exporter.manifest(builder.config.spec))
        _install(partial, args.output, previous)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    for name, rows in files.items():
        path = args.output / name
        print(f"{path}  ({rows} sequences, {_size(_bytes(path))})")
    return 0


def _preview(args) -> int:
    _check_build_options(args)
    sizes = _spec(args.name, args.overrides).split_sizes()
    split = args.split or next(iter(sizes))
    if split not in sizes:
        raise ValueError(f"--split {split}: this dataset has no such split; splits: {', '.join(sizes)}")
    _check_writable("--output", args.output)
    builder, splits, _, _ = _prepare(args)
    from moving_mnist_hub import dataset_pictures

    args.output.mkdir(parents=True, exist_ok=True)
    path = args.output / f"{args.name}-{split}.{args.format}"
    with _disk_space(args.output):
        dataset_pictures.write_preview(splits[split], builder.config.spec, path, args.num, args.scale, args.fps)
    print(f"{path}  ({min(args.num, splits[split].num_rows)} sequences of {split}, {_size(path.stat().st_size)})")
    return 0


def _stats(args) -> int:
    _check_build_options(args)
    _check_writable("--output", args.output)
    builder, splits, _, _ = _prepare(args)
    from moving_mnist_hub import dataset_pictures

    folder = args.output / args.name  # one folder per config: two configs never overwrite each other
    with _disk_space(args.output):
        for path in dataset_pictures.write_split_stats(splits, builder.config.spec, folder, config=args.name):
            print(path)
    return 0


def _publish(args) -> int:
    if args.source is not None:
        return _publish_from(args)
    if not args.names:
        raise ValueError("publish needs the configs to build (NAME ...), or --from URL with a build to push")
    _check_build_options(args)
    stage = args.stage or Path("hub-staging") / args.repo_id.replace("/", "--")
    _check_writable("--stage", stage)
    from moving_mnist_hub.publish import publish

    print(publish(
        args.names,
        args.repo_id,
        stage=stage,
        overrides=_parameters(args.overrides),
        private=args.private,
        max_shard_size=args.max_shard_size,
        dry_run=args.dry_run,
        cache_dir=_text(args.cache_dir),
        data_dir=_text(args.data_dir),
        num_proc=args.num_proc,
        rebuild=args.rebuild,
    ))
    return 0


def _publish_from(args) -> int:
    given = [option for option, value in (("NAME", args.names), ("--set", args.overrides), ("--num-proc", args.num_proc),
             ("--data-dir", args.data_dir), ("--cache-dir", args.cache_dir), ("--rebuild", args.rebuild),
             ("--max-shard-size", args.max_shard_size != "500MB")) if value]
    if given:
        raise ValueError(f"publish --from pushes a build as it is: {given[0]} has no use there; leave it out")
    stage = args.stage or Path("hub-staging") / args.repo_id.replace("/", "--")
    from moving_mnist_hub.publish import publish_from

    print(publish_from(args.source, args.repo_id, stage=stage, private=args.private, dry_run=args.dry_run))
    return 0


# --- building ------------------------------------------------------------------------------------


def _spec(name: str, overrides: list[tuple[str, object]]) -> Spec | VolumeSpec:
    """The preset with the `--set` overrides, validated (raises `ValueError`); it needs no `datasets`."""
    return PRESETS[name].spec.replace(**_parameters(overrides))


def _parameters(overrides: list[tuple[str, object]]) -> dict:
    """The `--set` overrides as keyword arguments, in order: `motion=brownian` starts that component
    from its defaults, `motion.sigma=0.1` changes one parameter of the component (the preset's, or the
    one named before)."""
    parameters: dict = {}
    for key, value in overrides:
        kind, _, parameter = key.partition(".")
        if kind not in _COMPONENTS:  # a number, or version 1.0's step_length, which Spec translates
            parameters[kind] = value
        elif parameter:
            parameters.setdefault(kind, {})[parameter] = value
        else:
            parameters[kind] = {"name": value}
    return parameters


def _check_build_options(args) -> None:
    """Everything that can be checked before a build, which can take a while."""
    specs = [_spec(name, args.overrides) for name in getattr(args, "names", None) or [args.name]]
    if args.data_dir is not None:
        if not (args.data_dir.is_dir() and os.access(args.data_dir, os.R_OK | os.X_OK)):
            raise ValueError(f"--data-dir {args.data_dir}: not a readable folder")
        for spec in specs:
            for collection in spec.files():
                local_files(SOURCE_FILES[collection], str(args.data_dir))  # the files are there
    if args.cache_dir is not None:
        _check_writable("--cache-dir", args.cache_dir)


def _check_writable(option: str, folder: Path) -> None:
    """A folder that exists and is writable, or that can be made inside one that is."""
    existing = folder.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"{option} {folder}: {existing} is not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {folder}: {existing} is not writable")


def _prepare(args):
    """Build (or reuse) the dataset; return (builder, DatasetDict, whether the cache was reused, seconds)."""
    import datasets

    import moving_mnist

    builder = moving_mnist.MovingMNIST(
        config_name=args.name, cache_dir=_text(args.cache_dir), data_dir=_text(args.data_dir),
        **_parameters(args.overrides),
    )
    reused = os.path.isdir(builder.cache_dir) and not args.rebuild  # datasets moves a build in only when complete
    if not reused:
        Path(builder.cache_dir).parent.mkdir(parents=True, exist_ok=True)  # as datasets would: fails before the news
        print(f"{builder.config_id}: about {_size(moving_mnist.estimated_size(builder.config.spec))} to build into "
              f"{builder.cache_dir}", file=sys.stderr)
    start = time.perf_counter()
    with _disk_space(args.cache_dir or Path(datasets.config.HF_DATASETS_CACHE)):
        builder.download_and_prepare(num_proc=args.num_proc, download_mode="force_redownload" if args.rebuild else None)
    return builder, builder.as_dataset(), reused, time.perf_counter() - start


@contextmanager
def _disk_space(folder):
    """Name the folder when the disk fills up: the system's message names no file."""
    try:
        yield
    except OSError as error:
        full = error.errno == errno.ENOSPC or "No space left on device" in str(error)  # pyarrow's carry no errno
        if full and str(folder) not in str(error):
            raise OSError(errno.ENOSPC, f"No space left on device in {folder}") from None
        raise


# --- exporting -----------------------------------------------------------------------------------


def _check_export_folder(output: Path, overwrite: bool) -> dict:
    """The manifest of the export in `output` ({} if none); refuse a folder of other files unless `overwrite`."""
    _check_writable("--output", output)
    if not output.exists():
        return {}
    if not output.is_dir():
        raise ValueError(f"--output {output}: not a folder")
    try:
        manifest = json.loads((output / MANIFEST).read_text())
    except (OSError, ValueError):  # no manifest, or not one of ours
        manifest = None
    if isinstance(manifest, dict) and isinstance(manifest.get("files"), dict):
        return manifest
    others = sorted(p.name for p in output.iterdir())
    if others and not overwrite:
        raise ValueError(
            f"--output {output}: the folder holds files that are not a moving-mnist export ({', '.join(others[:3])}"
            f"{', ...' if len(others) > 3 else ''}); choose another folder, or pass --overwrite to write into it"
        )
    return {}


def _install(partial: Path, output: Path, previous: dict) -> None:
    """Move a complete export into `output`. An existing folder loses its previous export first and gets
    the manifest last, so it never holds files of two exports, and never loses a file that is not ours."""
    if not output.exists():
        os.rename(partial, output)
        return
    (output / MANIFEST).unlink(missing_ok=True)
    for name in previous.get("files", {}):
        if Path(name).name == name:  # a bare name, as we write them: never a path out of the folder
            _remove(output / name)
    for file in sorted(partial.iterdir(), key=lambda p: p.name == MANIFEST):
        if file.is_dir():
            _remove(output / file.name)  # a folder of the same name (--overwrite): a rename cannot replace it
        os.replace(file, output / file.name)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _write_manifest(folder: Path, name: str, format: str, builder, files: dict[str, int], schema: dict) -> None:
    record = {
        "config": name,
        "format": format,
        "parameters": builder.config.spec.as_dict(),
        "code": builder.hash,
        "version": _version(),
        "files": {
            file: {"sequences": rows, "bytes": _bytes(folder / file), "sha256": _sha256(folder / file)}
            for file, rows in files.items()
        },
        **schema,
    }
    (folder / MANIFEST).write_text(json.dumps(record, indent=2) + "\n")


def _bytes(path: Path) -> int:
    """A file's size, or the sum of the sizes of the files in a folder."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def _sha256(path: Path) -> str:
    """A file's sha256; for a folder, the sha256 of what `sha256sum` prints run inside it on the paths of its
    files in sorted order: a line "<sha256>  <path>\\n" per file."""
    if not path.is_dir():
        return file_sha256(path)
    names = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
    return hashlib.sha256("".join(f"{file_sha256(path / name)}  {name}\n" for name in names).encode()).hexdigest()




def _text(path: Path | None) -> str | None:
    return str(path) if path is not None else None


def _size(num_bytes: int) -> str:
    return f"{num_bytes / 1e6:.1f} MB"


# --- evaluating ----------------------------------------------------------------------------------


def _evaluate(args) -> int:
    _check_build_options(args)
    import moving_mnist_metrics as metrics

    spec = _spec(args.name, args.overrides)
    sizes = spec.split_sizes()
    split = args.split or metrics.evaluation_split(sizes)
    if split not in sizes:
        raise ValueError(f"--split {split}: this dataset has no such split; splits: {', '.join(sizes)}")
    predictions = _predictions(args.predictions)
    expected = (sizes[split], *next(f for f in fields_of(spec) if f.name == "output_frames").shape(spec))
    if predictions.shape != expected:  # before anything is built
        raise ValueError(
            f"{args.predictions}: predictions of shape {predictions.shape}, but the {split} split of {args.name} "
            f"has output_frames of shape {expected}"
        )
    if args.json is not None:
        _check_writable("--json", args.json.parent)
        if args.json.is_dir():
            raise ValueError(f"--json {args.json}: a folder; name a file")
    builder, splits, _, _ = _prepare(args)
    from tqdm.auto import tqdm

    with tqdm(total=sizes[split], desc=f"Scoring {split}", unit=" sequences") as bar:
        scores = metrics.score(predictions, metrics.dataset_frames(splits[split]), progress=bar.update)
    print(f"{args.name}, {split} split, {scores.num_sequences} sequences: {args.predictions}")
    print(_scores_table(scores, metrics.METRICS))
    if args.json is not None:
        record = {
            "config": args.name,
            "split": split,
            "predictions": str(args.predictions.absolute()),
            "parameters": builder.config.spec.as_dict(),
            "code": builder.hash,
            "version": _version(),
            "metrics": {name: metrics.METRICS[name][0] for name in scores.curves},
            **scores.as_dict(),
        }
        _write_json(args.json, record)
        print(args.json)
    return 0


def _predictions(path: Path):
    """PRED.npy as a read-only memory map (nothing is read before it is scored), or ValueError in one line."""
    import numpy as np

    try:
        with open(path, "rb") as file:
            magic = file.read(6)
    except OSError as error:
        raise ValueError(f"{path}: cannot read it ({error.strerror or error})") from None
    if magic != b"\x93NUMPY":
        raise ValueError(f"{path}: not a .npy file (save predictions with numpy.save)")
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise ValueError(f"{path}: not a readable .npy array of frames ({_first_line(error)})") from None


def _scores_table(scores, definitions: dict) -> str:
    """One row per frame, then the averages; a column per metric."""
    names = list(scores.curves)
    widths = [max(len(name), 8) + 2 for name in names]
    row = lambda label, values: f"{label:>6}" + "".join(  # noqa: E731
        f"{value:>{width}{definitions[name][1]}}" for name, value, width in zip(names, values, widths)
    )
    header = f"{'frame':>6}" + "".join(f"{name:>{width}}" for name, width in zip(names, widths))
    frames = [row(str(t + 1), [scores.curves[name][t] for name in names]) for t in range(len(scores.curves[names[0]]))]
    return "\n".join([header, *frames, row("mean", [scores.averages[name] for name in names])])


def _write_json(path: Path, record: dict) -> None:
    """Write whole or not at all: a temporary file beside it, renamed when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with _disk_space(path.parent), os.fdopen(handle, "w") as file:
            file.write(json.dumps(record, indent=2) + "\n")
        os.replace(partial, path)
    finally:
        Path(partial).unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
