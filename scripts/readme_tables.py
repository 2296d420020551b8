"""Write README.md's tables of components and fields from their declarations (the registries, FIELDS and VOLUME_FIELDS).

    python scripts/readme_tables.py          # rewrite the tables in README.md
    python scripts/readme_tables.py --check  # exit 1 if README.md's tables are out of date

Each table sits between `<!-- NAME: made by scripts/readme_tables.py -->` and `<!-- end NAME -->`.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator import FIELDS, STREAMS, kinds  # noqa: E402
from generator.components import allowed  # noqa: E402
from generator.volumes import VOLUME_FIELDS  # noqa: E402

README = Path(__file__).resolve().parent.parent / "README.md"


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
    for f in {f.name: f for f in FIELDS + VOLUME_FIELDS}.values():  # the frames and index are shared: once
        kind = "class label" if f.classes else f.dtype
        rows.append(f"| `{f.name}` | {f.shape_text} | {kind} | {f.meaning} | {f.when} | {f.padding()} |")
    return "\n".join(rows)


def streams_table() -> str:
    rows = ["| stream | id | draws |", "|---|---|---|"]
    rows += [f"| `{name}` | {stream.id} | {stream.draws} |" for name, stream in STREAMS.items()]
    return "\n".join(rows)


TABLES = {"components": components_table, "fields": fields_table, "streams": streams_table}


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
    args = parser.parse_args()
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
