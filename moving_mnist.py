"""Moving MNIST as a Hugging Face `datasets` builder: configs, features and splits.

A thin adapter from `MovingMNISTConfig` to the numpy engine in `generator/`:

    >>> import moving_mnist
    >>> ds = moving_mnist.load("classic", num_train=500, seed=7)   # DatasetDict, cached as Arrow
    >>> frames = ds["train"].with_format("numpy", columns=["input_frames"], dtype="uint8")
    >>> frames[0]["input_frames"].shape
    (10, 64, 64)
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import datasets

import generator
import generator.presets
from generator import SOURCES, ChecksumError, Spec, generate, load_pools
from generator.sources import check_files, local_files, verify

# datasets >= 4 has List (fixed length via `length=`); 3.x has Sequence with the same arguments.
_List = getattr(datasets, "List", None) or datasets.Sequence

_CITATION = """@inproceedings{srivastava2015unsupervised,
  title={Unsupervised Learning of Video Representations using LSTMs},
  author={Srivastava, Nitish and Mansimov, Elman and Salakhutdinov, Ruslan},
  booktitle={International Conference on Machine Learning (ICML)}, pages={843--852}, year={2015}
}"""

_DESCRIPTION = (
    "Moving MNIST and relatives: sprites (MNIST or Fashion-MNIST images) bouncing in a square canvas, "
    "generated exactly reproducibly from a seed, with train sequences drawn only from source train "
    "images and validation/test sequences only from source test images."
)

# Sequences generated at once: a few tens of MB, so that a split is never whole in memory.
_CHUNK = 256


@functools.lru_cache(maxsize=None)  # the sources do not change while the process runs
def _code_hash(salt: str | None = None) -> str:
    """A digest of the code that decides the bytes, so that changed code never reuses a stale cache.

    `salt` is the hash that `load_dataset` passes for a script (datasets 3.x); it is kept in.
    """
    files = sorted(Path(generator.__file__).parent.glob("*.py")) + [Path(__file__)]
    digest = hashlib.sha256(str(salt).encode())
    for file in files:
        digest.update(file.name.encode() + file.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class MovingMNISTConfig(datasets.BuilderConfig):
    """A builder config: every field of `generator.Spec`, validated when created and when built.

    The defaults are the `classic` preset; see `generator.Spec` for what each field means.
    """

    source: str = "mnist"
    num_objects: int = 2
    num_frames: int = 20
    num_input_frames: int = 10
    image_size: int = 64
    motion: str = "classic"
    step_length: float = 0.1
    compositing: str = "max"
    sampling: str = "random"
    num_train: int = 10000
    num_validation: int = 1000
    num_test: int = 10000
    seed: int = 0

    def __post_init__(self):
        super().__post_init__()
        self.spec  # noqa: B018 -- validates

    @property
    def spec(self) -> Spec:
        """The generation parameters as a frozen, validated `Spec` (raises `ValueError`)."""
        return Spec(**{name: getattr(self, name) for name in Spec.__dataclass_fields__})


_VERSION = datasets.Version("1.0.0")

PRESETS = {
    name: MovingMNISTConfig(name=name, version=_VERSION, description=preset.description, **preset.spec.as_dict())
    for name, preset in generator.presets.PRESETS.items()
}


class MovingMNIST(datasets.GeneratorBasedBuilder):
    """Moving MNIST: `MovingMNIST(config_name="classic", num_train=500, seed=7)`."""

    VERSION = _VERSION
    BUILDER_CONFIG_CLASS = MovingMNISTConfig
    BUILDER_CONFIGS = list(PRESETS.values())
    DEFAULT_CONFIG_NAME = "classic"
    DEFAULT_WRITER_BATCH_SIZE = _CHUNK

    def __init__(self, *args, hash: str | None = None, **kwargs):
        super().__init__(*args, hash=_code_hash(hash), **kwargs)

    def _info(self) -> datasets.DatasetInfo:
        spec = self.config.spec  # validates overrides, which datasets sets after __post_init__
        size, k = spec.image_size, spec.num_objects
        class_names = list(SOURCES[spec.source].class_names)
        features = datasets.Features(
            {
                "input_frames": datasets.Array3D((spec.num_input_frames, size, size), "uint8"),
                "output_frames": datasets.Array3D((spec.num_output_frames, size, size), "uint8"),
                "labels": _List(datasets.ClassLabel(names=class_names), length=k),
                "source_indices": _List(datasets.Value("int32"), length=k),
                "positions": datasets.Array3D((spec.num_frames, k, 2), "int16"),
                "index": datasets.Value("int64"),
            }
        )
        return datasets.DatasetInfo(
            description=_DESCRIPTION,
            features=features,
            citation=_CITATION + "\n" + SOURCES[spec.source].citation,
            license=SOURCES[spec.source].license,
        )

    def _split_generators(self, dl_manager):
        spec = self.config.spec
        source = SOURCES[spec.source]
        if self.config.data_dir:
            files = local_files(source, os.path.expanduser(self.config.data_dir))
            check_files(source, files)
        else:
            files = _download(self._local_download_manager(dl_manager), source)
        return [
            datasets.SplitGenerator(name=split, gen_kwargs={"split": split, "files": files, **_shards(size)})
            for split, size in spec.split_sizes().items()
        ]

    def _local_download_manager(self, dl_manager):
        """Streaming still needs whole local files: they are gzip-compressed and checksummed."""
        if isinstance(dl_manager, datasets.DownloadManager):
            return dl_manager
        download_config = dl_manager.download_config.copy()
        download_config.cache_dir = self._cache_downloaded_dir  # the same place a prepared build uses
        return datasets.DownloadManager(dataset_name=self.name, download_config=download_config)

    def _generate_examples(self, split, files, starts, stops):
        spec = self.config.spec
        pools = _pools(tuple(sorted(files.items())))
        t_in = spec.num_input_frames
        for start, stop in zip(starts, stops):
            for lo in range(start, stop, _CHUNK):
                seqs = generate(spec, pools, split, lo, min(stop, lo + _CHUNK))
                for j, index in enumerate(seqs.indices.tolist()):
                    yield index, {
                        "input_frames": seqs.frames[j, :t_in],
                        "output_frames": seqs.frames[j, t_in:],
                        "labels": seqs.labels[j].tolist(),
                        "source_indices": seqs.source_indices[j].tolist(),
                        "positions": seqs.positions[j],
                        "index": index,
                    }


def _shards(size: int) -> dict[str, list[int]]:
    """Index ranges for `num_proc` workers: at least 8 (when possible), at most 2000 sequences each.

    Only where files are cut depends on this; every sequence's bytes depend on its index alone.
    """
    count = min(size, max(8, -(-size // 2000)))
    bounds = [size * i // count for i in range(count + 1)]
    return {"starts": bounds[:-1], "stops": bounds[1:]}


def _download(dl_manager, source) -> dict[str, str]:
    """Download a source's files (from `MOVING_MNIST_MIRROR` if set), verified, re-fetched once if bad."""
    mirror = os.environ.get("MOVING_MNIST_MIRROR")
    urls = {role: source.url(role, mirror) for role in source.files}
    paths = dl_manager.download(urls)
    for role, url in urls.items():
        for attempt in (1, 2):
            try:
                verify(paths[role], source.files[role], origin=url)
                break
            except ChecksumError:
                os.remove(paths[role])  # never trust this copy again
                if attempt == 2:
                    raise
                paths[role] = dl_manager.download(url)
    return paths


@functools.lru_cache(maxsize=2)
def _pools(files: tuple[tuple[str, str], ...]):
    return load_pools(dict(files))


def load(name: str = "classic", *, cache_dir=None, data_dir=None, num_proc=None, **overrides) -> datasets.DatasetDict:
    """Build (or reuse from the Arrow cache) a preset with any field overridden, and return its splits."""
    builder = MovingMNIST(config_name=name, cache_dir=cache_dir, data_dir=data_dir, **overrides)
    builder.download_and_prepare(num_proc=num_proc)
    return builder.as_dataset()
