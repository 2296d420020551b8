"""Small real file systems for fault tests: a full disk (a tmpfs of a few MB) and a read-only folder."""

import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs(folder: Path, size: str = "5m", read_only: bool = False):
    """Mount a tmpfs of `size` on `folder` for the duration; skip the test if this platform cannot."""
    folder.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs on {folder} ({mounted.stderr.strip()}): this test needs a real small disk")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "--lazy", str(folder)], check=True)  # a lock file of datasets may still be open


@pytest.fixture
def small_disk(tmp_path):
    """A 5 MB file system, empty."""
    with tmpfs(tmp_path / "small-disk", "5m") as folder:
        yield folder


@pytest.fixture
def read_only(tmp_path):
    """An empty folder on a read-only file system (root may write anywhere else)."""
    with tmpfs(tmp_path / "read-only", "1m", read_only=True) as folder:
        yield folder
