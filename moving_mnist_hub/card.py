"""The dataset card (README.md of the Hub repository): YAML metadata, then a body rendered from it.

Everything the body says comes from the YAML, so that publishing one config onto a repository
that already holds others merges the metadata and renders one card that describes them all:

    data = card_data([record], existing=DatasetCard(remote_readme).data)
    text = render(data, "ORG/NAME")
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import datasets
from datasets.info import DatasetInfosDict
from datasets.utils.metadata import MetadataConfigs
from datasets.utils.tqdm import tqdm  # quiet under datasets.disable_progress_bars()
from huggingface_hub import DatasetCardData

import moving_mnist_metrics as metrics
from generator import SOURCE_FILES, Spec, fields_of, kinds
from generator.spec import flatten, spelled
from generator.presets import CITATION
from generator.volumes import CITATION as VOLUME_CITATION
from generator.volumes import VolumeSpec

# Where each collection lives on the Hub, for `source_datasets`.
_HUB_IDS = {"mnist": "ylecun/mnist", "fashion_mnist": "zalando-datasets/fashion_mnist", "cifar10": "uoft-cs/cifar10"}

# The licence of sequences made from no one else's images (procedural sources such as doodles).
_OWN_LICENSE = "cc0-1.0"

_TAGS = ["moving-mnist", "video-prediction", "synthetic", "spatio-temporal", "video", "sequence-prediction"]


@dataclass(frozen=True)
class ConfigRecord:
    """One published config: what the card says about it.

    info: its `datasets.DatasetInfo` with features, splits (rows and Arrow bytes) and sizes,
    `download_size` being the bytes of its Parquet shards.
    """

    name: str
    description: str
    spec: Spec | VolumeSpec
    info: datasets.DatasetInfo
    package_version: str
    code_hash: str
    git_commit: str
    repository: str
    baselines: dict | None = None  # `baselines(splits)`: the trivial predictors' scores

    def generation(self) -> dict:
        """The card's `generation` entry: everything needed to regenerate the data bit for bit."""
        return {
            "config_name": self.name,
            "description": self.description,
            "parameters": self.spec.as_dict(),
            "package_version": self.package_version,
            "code_hash": self.code_hash,
            "git_commit": self.git_commit,
            "repository": self.repository,
        }


def card_data(records: list[ConfigRecord], existing: DatasetCardData | None = None) -> DatasetCardData:
    """The card's YAML: `existing` (another config's card, say) with `records` added or replaced."""
    data = DatasetCardData(**copy.deepcopy(existing.to_dict())) if existing else DatasetCardData()
    MetadataConfigs(
        {r.name: {"data_files": [{"split": s, "path": f"{r.name}/{s}-*"} for s in r.info.splits]} for r in records}
    ).to_dataset_card_data(data)
    DatasetInfosDict({r.name: r.info for r in records}).to_dataset_card_data(data)
    generation = {g["config_name"]: g for g in data.get("generation") or []}
    generation.update({r.name: r.generation() for r in records})
    data["generation"] = [generation[name] for name in sorted(generation)]
    # a config published again drops the scores of its previous data, unless it brings its own
    scores = {b["config_name"]: b for b in data.get("baselines") or [] if b["config_name"] not in {r.name for r in records}}
    scores.update({r.name: {"config_name": r.name, **r.baselines} for r in records if r.baselines})
    data["baselines"] = [scores[name] for name in sorted(scores)] or None

    if "classic" in generation:  # the original benchmark is what `load_dataset(repo)` gives
        for config in data["configs"]:
            config.pop("default", None)
            if config["config_name"] == "classic":
                config["default"] = True
    specs = [_spec(g) for g in data["generation"]]
    collections = sorted({c for spec in specs for c in spec.files()})
    licenses = sorted({SOURCE_FILES[c].license for c in collections} | ({_OWN_LICENSE} if any(map(_drawn, specs)) else set()))
    largest = max(sum(spec.split_sizes().values()) for spec in specs)
    data.license = licenses if len(licenses) > 1 else licenses[0]
    data.pretty_name = data.pretty_name or "Moving MNIST"
    data.size_categories = [_size_category(largest)]
    data.source_datasets = [_HUB_IDS[c] for c in collections]
    data.task_categories = ["image-to-video"]
    data.tags = _TAGS + sorted({_content(spec).replace("_", "-") for spec in specs} | {c.replace("_", "-") for c in collections})
    data.annotations_creators = ["machine-generated"]
    return data


def render(data: DatasetCardData, repo_id: str) -> str:
    """The whole README.md: YAML header, then the body."""
    generation = data["generation"]
    names = [g["config_name"] for g in generation]
    first = names[0] if "classic" not in names else "classic"
    sections = [
        f"# {data.pretty_name}",
        _summary(generation, _repository(generation)),
        "## Preview\n\n" + _previews(generation),
        "## Load it\n\n" + _loading(repo_id, first),
        "## Fields\n\n" + _fields(generation),
        "## Configurations\n\n" + _parameters(generation),
        *(["## Baselines\n\n" + _baselines(data["baselines"])] if data.get("baselines") else []),
        "## Regenerate it bit for bit\n\n" + _regenerate(generation, repo_id),
        "## Motion statistics\n\n" + _statistics(generation),
        "## No train/test leakage\n\n" + _LEAKAGE,
        "## Sources, licences and citations\n\n" + _sources(generation),
        "## Limitations\n\n" + _LIMITATIONS,
    ]
    return f"---\n{data.to_yaml()}\n---\n\n" + "\n\n".join(sections) + "\n"


def _repository(generation: list[dict]) -> str:
    """The project's URL as the newest records give it (cards published before it was recorded lack it)."""
    urls = [g.get("repository") for g in generation if g.get("repository", "unknown") != "unknown"]
    return urls[-1] if urls else "#regenerate-it-bit-for-bit"


def _summary(generation: list[dict], repository: str) -> str:
    configs = ", ".join(f"`{g['config_name']}`" for g in generation)
    return (
        "Synthetic video sequences of sprites bouncing inside a square canvas, the Moving MNIST benchmark "
        "of Srivastava et al. (2015) and its relatives, for training and evaluating video-prediction "
        f"models{_VOLUMES_TOO if any('cavities' in g['parameters'] for g in generation) else ''}. "
        f"Configurations: {configs}. Every byte is generated from a seed by the open "
        f"[moving-mnist]({repository}) generator, so the data can be rebuilt exactly "
        "([how](#regenerate-it-bit-for-bit)); the first frames of each sequence are the model's input and "
        "the rest are the frames to predict."
    )


def _previews(generation: list[dict]) -> str:
    header = "| " + " | ".join(f"`{g['config_name']}`" for g in generation) + " |"
    rule = "|" + "---|" * len(generation)
    cells = "| " + " | ".join(
        f"![{g['config_name']}](previews/{g['config_name']}.gif)" for g in generation
    ) + " |"
    return (
        f"{header}\n{rule}\n{cells}\n\n"
        "One row per sequence. Input frames have a blue border, target frames an orange one; "
        "the counter above counts frames within each part."
    )


def _loading(repo_id: str, name: str) -> str:
    return f"""```python
from datasets import load_dataset

ds = load_dataset("{repo_id}", "{name}")
```

As numpy, uint8 and time first within each sequence (select the frame columns: numpy formatting
otherwise turns every integer into int64):

```python
frames = ds["train"].with_format("numpy", columns=["input_frames", "output_frames"], dtype="uint8")
batch = frames[:32]                    # batch["input_frames"].shape == (32, T_in, H, W), RGB: (32, T_in, 3, H, W)
```

With PyTorch:

```python
import torch
from torch.utils.data import DataLoader

train = ds["train"].with_format("numpy", columns=["input_frames", "output_frames"], dtype="uint8")

def read(start):   # 32 consecutive sequences, read as one slice (many times faster than scattered rows)
    return {{name: torch.from_numpy(frames) for name, frames in train[start : start + 32].items()}}

for batch in DataLoader(range(0, len(train), 32), batch_size=None, shuffle=True, collate_fn=read):
    x = batch["input_frames"].float() / 255    # (32, T_in, H, W)
    y = batch["output_frames"].float() / 255   # (32, T_out, H, W)
```"""


def _fields(generation: list[dict]) -> str:
    specs = [_spec(g) for g in generation]
    present = {f.name for spec in specs for f in fields_of(spec)}
    rows = [f for f in kinds.all_fields() if f.name in present]
    table = "| field | shape | type | meaning | present | padding |\n|---|---|---|---|---|---|\n" + "\n".join(
        f"| `{f.name}` | {f.shape_text} | {'class label' if f.classes else f.dtype} | {f.meaning} | {f.when} | "
        f"{f.padding()} |" for f in rows
    )
    shapes = "\n".join(
        f"- `{g['config_name']}`: T_in = {spec.num_input_frames}, T_out = {spec.num_output_frames}, {_sizes(spec)}; "
        + ", ".join(f"`{f.name}` {tuple(f.shape(spec))}" for f in fields_of(spec))
        for g, spec in zip(generation, specs)
    )
    return f"{table}\n\n{shapes}"


def _sizes(spec: Spec | VolumeSpec) -> str:
    if isinstance(spec, VolumeSpec):
        return f"D = {spec.grid_size} (generated at {spec.generation_size}), C = {spec.max_cavities}"
    return f"H = W = {spec.image_size}, K = {_objects(spec)}, {'gray' if spec.channels == 1 else 'RGB'}"


def _objects(spec) -> str:
    """K in words: "2", or "3 (1 to 3 real per sequence: `num_objects` says how many)"."""
    if not isinstance(spec.num_objects, tuple):
        return str(spec.num_objects)
    low, high = spec.num_objects
    return f"{high} ({low} to {high} real per sequence: the field `num_objects` says how many, the rest are padding)"


def _parameters(generation: list[dict]) -> str:
    table = [flatten(_spec(g).as_dict()) for g in generation]
    keys = kinds.flat_keys(table)
    header = "| parameter | " + " | ".join(f"`{g['config_name']}`" for g in generation) + " |"
    rule = "|---|" + "---|" * len(generation)
    rows = [f"| `{key}` | " + " | ".join((spelled(row[key], key) if key in row else "-") for row in table) + " |" for key in keys]
    for label, key in (("moving-mnist version", "package_version"), ("code hash", "code_hash"),
                       ("git commit", "git_commit")):
        rows.append(f"| {label} | " + " | ".join(f"`{g[key]}`" for g in generation) + " |")
    descriptions = "\n".join(f"- `{g['config_name']}`: {g['description']}" for g in generation)
    return f"{header}\n{rule}\n" + "\n".join(rows) + f"\n\n{descriptions}\n\n" + _meanings()


def _meanings() -> str:
    """What the parameters mean, with every component each registry holds."""
    components = "\n".join(
        f"- `{kind}`: " + "; ".join(f"`{name}`: {_summary_line(cls)}" for name, cls in registry.items())
        for kind, registry in kinds.all_components().items()
    )
    return f"{_PARAMETER_MEANINGS}\n\n{_VOLUME_MEANINGS}\n\nThe components:\n\n{components}"


def _summary_line(cls) -> str:
    return (cls.__doc__ or "").strip().splitlines()[0].rstrip(".")


def _regenerate(generation: list[dict], repo_id: str) -> str:
    blocks = []
    for g in generation:
        # the flags of the version that made it (flat before 1.1: --set step_length=0.1)
        sets = " ".join(f"--set {k}={spelled(v, k)}" for k, v in flatten(g["parameters"]).items())
        blocks.append(
            f"`{g['config_name']}` (moving-mnist {g['package_version']}, commit `{g['git_commit']}`):\n\n"
            f"```bash\n{_install(g)}\nmoving-mnist build {g['config_name']} {sets}\n"
            f"moving-mnist publish --repo-id {repo_id} {g['config_name']} {sets} --dry-run\n```"
        )
    return (
        "The first command installs the code that made the data; the second builds the same sequences "
        "into the local Arrow cache; the third writes this repository's files for the config into a "
        "staging folder (the Parquet files are byte-identical with the same pyarrow version). A sequence "
        "depends only on the parameters, its split and its index, never on the number of processes or "
        "shards.\n\n" + "\n\n".join(blocks)
    )


def _install(g: dict) -> str:
    """The pip command that installs the exact code of a record, or a comment saying why there is none."""
    repository, commit = g.get("repository", "unknown"), g["git_commit"]
    if repository == "unknown" or commit == "unknown" or commit.endswith("-dirty"):
        return f"# the exact code is unknown (commit {commit}): install moving-mnist {g['package_version']}"
    return f'pip install "git+{repository}@{commit}"'


def baselines(splits: datasets.DatasetDict) -> dict:
    """The card's scores of `metrics.BASELINES` on the test split (else validation): the split, its number
    of sequences, and each predictor's averages, to 6 significant digits."""
    split = metrics.evaluation_split({name: ds.num_rows for name, ds in splits.items()})
    ds = splits[split]
    return scored_baselines(split, metrics.dataset_frames(ds, "input_frames"), metrics.dataset_frames(ds, "output_frames"))


def scored_baselines(split: str, inputs, targets) -> dict:
    """`baselines`' record of a split's `inputs (N, T_in, ...)` and `targets (N, T_out, ...)` (arrays, or
    frames read a block at a time): whoever reads them, the same numbers."""
    with tqdm(total=len(metrics.BASELINES) * len(targets), desc=f"Scoring baselines on {split}", unit=" sequences") as bar:
        scores = metrics.baselines(inputs, targets, progress=bar.update)
    return {
        "split": split,
        "num_sequences": len(targets),
        "scores": {name: {m: float(f"{v:.6g}") for m, v in s.averages.items()} for name, s in scores.items()},
    }


def _baselines(entries: list[dict]) -> str:
    tables = []
    for entry in entries:
        names = list(next(iter(entry["scores"].values())))
        rows = [
            f"| {predictor} | " + " | ".join(format(scores[m], metrics.METRICS[m][1]) for m in names) + " |"
            for predictor, scores in entry["scores"].items()
        ]
        tables.append(
            f"`{entry['config_name']}` ({entry['split']} split, {entry['num_sequences']} sequences):\n\n"
            "| predictor | " + " | ".join(f"`{m}`" for m in names) + " |\n|---|" + "---|" * len(names) + "\n"
            + "\n".join(rows)
        )
    return _BASELINES + "\n\n" + "\n\n".join(tables)


def _statistics(generation: list[dict]) -> str:
    figures = (
        ("frame_differences", "per-pixel mean and standard deviation of absolute frame differences"),
        ("positions", "where the sprites are"),
        ("speed", "per-frame speed"),
        ("labels", "labels per split"),
    )
    texts = []
    for g in generation:
        if isinstance(_spec(g), VolumeSpec):
            texts.append(f"`{g['config_name']}`: one sample at several time points.\n\n"
                         f"![{g['config_name']} time points](previews/{g['config_name']}/time_points.png)")
            continue
        shown = [(name, what) for name, what in figures if name != "labels" or _spec(g).source.class_names]
        texts.append(
            f"`{g['config_name']}`: " + ", ".join(what for _, what in shown) + ".\n\n"
            + " ".join(f"![{g['config_name']} {name}](previews/{g['config_name']}/{name}.png)" for name, _ in shown)
        )
    return "\n\n".join(texts) + "\n\nFrame differences of RGB configs are those of the luminance (ITU-R BT.601)."


def _sources(generation: list[dict]) -> str:
    specs = [_spec(g) for g in generation]
    collections = sorted({c for spec in specs for c in spec.files()})
    lines = [
        f"- **{SOURCE_FILES[c].pretty_name}** (`{_HUB_IDS[c]}`), licence `{SOURCE_FILES[c].license}`"
        + (" (none stated by its authors)" if SOURCE_FILES[c].license == "unknown" else "")
        + ": its images are the sprites or backgrounds of "
        + ", ".join(f"`{g['config_name']}`" for g, spec in zip(generation, specs) if c in spec.files())
        for c in collections
    ]
    for what, kind in (("Procedural sprites", Spec), ("Volumes", VolumeSpec)):
        drawn = [g["config_name"] for g, spec in zip(generation, specs) if _drawn(spec) and isinstance(spec, kind)]
        if drawn:
            lines.append(
                f"- {what}, drawn by the generator from the seed ({', '.join(f'`{n}`' for n in drawn)}): "
                f"no one else's images, licence `{_OWN_LICENSE}`."
            )
    volumes = [VOLUME_CITATION] if any(isinstance(spec, VolumeSpec) for spec in specs) else []
    citations = "\n\n".join([CITATION] + volumes + [SOURCE_FILES[c].citation for c in collections])
    return "\n".join(lines) + (
        "\n\nThe generated sequences carry the licence of the images they are made of. Please cite the "
        "Moving MNIST paper and the source datasets:\n\n```bibtex\n" + citations + "\n```"
    )


def _spec(g: dict) -> Spec | VolumeSpec:
    """A record's parameters as a spec: the nested form, or version 1.0's flat one."""
    return kinds.from_dict(g["parameters"])


def _drawn(spec: Spec | VolumeSpec) -> bool:
    """Whether the generator draws what moves (doodles, cavities) rather than taking anyone's images."""
    return isinstance(spec, VolumeSpec) or spec.source.files is None


def _content(spec: Spec | VolumeSpec) -> str:
    """What moves, as a tag: the source's name, or "volumes"."""
    return "volumes" if isinstance(spec, VolumeSpec) else spec.source.name


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "1M<n<10M" if n < 10_000_000 else "10M<n<100M"


_PARAMETER_MEANINGS = """What the parameters mean: `source` is what the sprites are; `num_objects` sprites (K, or a
range MIN,MAX drawn per sequence) move in each sequence of `num_frames` frames (T), the first
`num_input_frames` of which are inputs; the canvas is `image_size` pixels square; `motion` is how
they move (`motion.step_length`: the distance per frame as a fraction of the free space, or a range
drawn per object); `transform` turns and scales them over time; sprites combine by `compositing`;
`sampling` picks source images at random or in order; `background` is what is behind them;
`occlusion`, `noise` and `drop` corrupt the input frames, in that order, never the targets (the
clean inputs are then `clean_input_frames`); `annotations` adds optional ground truth fields;
`source.classes` keeps only images of those classes (`None`: all); `num_train`, `num_validation`
and `num_test` are the split sizes; every random stream is keyed by `seed`, the split, the
sequence's block of 1024 (the sequence's index for `noise`, which draws per byte) and the stream's
id. Cards of version 1.0 give `step_length` on its own: it is `motion.step_length`."""

_VOLUMES_TOO = (
    ", and volumes over time: cavities that appear, change and vanish in solid material in a D x D x D grid "
    "(seed 004's data, Hannouch and Chalup 2023), for predicting volumes"
)

_VOLUME_MEANINGS = """Volumes: `cavities` are the solids cut out of the material (`ball`, `torus`, or `mixed`), up to
`num_cavities` (C, or a range MIN,MAX) per sample of `num_frames` time points; the output grid is
`grid_size` voxels on an edge (D), each the mean of a block of the `generation_size` grid (and of
`time_factor` generated time steps); `occupancy` is what a generation voxel holds (`binary`, or
`fraction` by supersampling); `threshold` (if set) makes each output voxel 0 or 255; `overlap`
`separate` keeps cavities apart, so that the Betti numbers hold. Voxels are 0 material, 255 cavity."""

_BASELINES = """What trivial predictors score, so that a model's scores read against them: "last input frame"
predicts the last input frame for every output frame, "zeros" predicts black frames. Each value is
the mean over the split's sequences and output frames, with frames on the scale [0, 1] (bytes / 255):
`mse_per_frame` and `mae_per_frame` sum the squared and absolute errors over a frame's values (the
"MSE" and "MAE" of OpenSTL and the Moving MNIST literature), `mse_per_pixel` and `mae_per_pixel` are
their means; `psnr` is 10 log10(1 / mse_per_pixel) in dB; `ssim` uses Wang et al. (2004)'s Gaussian
window (sigma 1.5; 2D frames); `jaccard_distance` compares the values >= 128 (gray frames, volumes).
Score a model's predictions the same way with `moving-mnist evaluate PRED.npy NAME`."""

_LEAKAGE = """Train sequences are made only from the source's train images; validation and test sequences
only from its test images (they use independent random streams). No image seen in training appears
in an evaluation split. `source_indices` records which image each sprite is, so this can be checked.
Volumes use no images: their splits differ by their random streams alone."""

_LIMITATIONS = """- The data is synthetic: simple, rigid motion of sprites on a black or static background. Good
  scores here do not imply good scores on natural video.
- Sprites may overlap and occlude each other, as in the original, unless the motion is `collisions`.
- Validation and test sequences share the source's test images (independent draws), so they are
  not independent of each other at the image level.
- Bytes are reproducible with the same moving-mnist version; a changed generator gets a new code
  hash, shown above.
- The sprite images keep the biases and licences of their source datasets."""
