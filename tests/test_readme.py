"""README.md's tables are made from the declarations, so they name every component, field and stream."""

import subprocess
import sys
from pathlib import Path

from generator import FIELDS, STREAMS, kinds
from generator.volumes import VOLUME_FIELDS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_tables_are_up_to_date():
    check = subprocess.run([sys.executable, "scripts/readme_tables.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_the_readme_names_every_component_field_and_stream():
    for kind, registry in kinds.all_components().items():
        for name in registry:
            assert f"| `{kind}` | `{name}` |" in README, (kind, name)
    for field in FIELDS + VOLUME_FIELDS:
        assert f"| `{field.name}` | {field.shape_text} |" in README, field.name
    for name, stream in STREAMS.items():
        assert f"| `{name}` | {stream.id} |" in README, name
