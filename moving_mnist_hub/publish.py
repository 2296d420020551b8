"""Publishing: build configs, stage the repository tree, then push it to the Hub in one commit.

    publish(["classic", "notebook"], "ORG/NAME", stage=Path("hub-staging/ORG--NAME"))

Anything that stops a publish (a bad repo id, a refused token, the network) raises
`PublishError` with one line for the user; the staging folder stays, so a re-run resumes
from the Arrow cache and the staged shards instead of rebuilding.
"""

from __future__ import annotations

import functools
import importlib.metadata
import subprocess
from pathlib import Path

import datasets
from datasets.info import DatasetInfosDict
from huggingface_hub import DatasetCard, HfApi, get_token
from huggingface_hub.errors import HFValidationError
from huggingface_hub.utils import validate_repo_id

import moving_mnist
from generator import kinds
from generator.spec import flatten
from moving_mnist_hub import card, output, push, staging


class PublishError(RuntimeError):
    """A publish that cannot go on; the message is one line for the user."""


def publish(
    names: list[str],
    repo_id: str,
    *,
    stage: Path,
    overrides: dict | None = None,
    private: bool = False,
    max_shard_size: str | int = "500MB",
    dry_run: bool = False,
    cache_dir: str | None = None,
    data_dir: str | None = None,
    num_proc: int | None = None,
    rebuild: bool = False,
) -> str:
    """Build, stage and (unless `dry_run`) push `names`; return what happened, in one line.

    A cache whose Arrow files differ from the digests recorded when it was built is never staged
    (`ChecksumError`); `rebuild=True` builds it again.
    """
    check_repo_id(repo_id)
    max_bytes = staging.shard_size(max_shard_size)
    for name in names:
        if name not in moving_mnist.PRESETS:
            raise ValueError(f"unknown config {name!r}; presets: {', '.join(moving_mnist.PRESETS)}")
    if len(set(names)) != len(names):
        raise ValueError(f"configs {' '.join(names)}: each config may be named once")

    builders = [  # each validates its parameters before anything is built or written
        moving_mnist.MovingMNIST(config_name=name, cache_dir=cache_dir, data_dir=data_dir, **(overrides or {}))
        for name in names
    ]
    stage = staging.Stage(stage, [c for c in (datasets.config.HF_DATASETS_CACHE, cache_dir) if c])
    records = []
    for name, builder in zip(names, builders):
        builder.download_and_prepare(num_proc=num_proc, download_mode="force_redownload" if rebuild else None)
        moving_mnist.check_cache(builder)
        spec = builder.config.spec
        identity = staging.identity(spec, builder.hash, max_bytes)
        splits = builder.as_dataset()
        parquet_bytes = stage.stage_config(name, splits, spec, identity, max_bytes)
        records.append(config_record(name, builder, builder.info.splits, parquet_bytes, card.baselines(splits)))
    return _card_and_push(stage, repo_id, records, private, dry_run)


def publish_from(url: str, repo_id: str, *, stage: Path, private: bool = False, dry_run: bool = False) -> str:
    """Push the output of a build (`moving-mnist build NAME --engine dask --output URL`) as it is, every
    config it holds, generating nothing; return what happened, in one line.

    A local output is pushed from where it is (it is a staging folder); any other URL is first copied
    into `stage`, each file checked against its recorded sha256.
    """
    check_repo_id(repo_id)
    built = output.Output(url, option="--from", create=False)
    missing = sorted(path for path, digest in built.files.items() if digest is None)
    if missing or "README.md" not in built.files:
        raise PublishError(f"--from {url}: the build is not complete ({len(missing)} of {len(built.files)} files not "
                           f"written, such as {(missing or ['README.md'])[0]}): run the same build again to finish it")
    stage = staging.Stage(Path(built.root) if built.local else _copy(built, stage), [datasets.config.HF_DATASETS_CACHE])
    return _card_and_push(stage, repo_id, _records(stage), private, dry_run)


def _card_and_push(stage: staging.Stage, repo_id: str, records: list[card.ConfigRecord], private: bool, dry_run: bool) -> str:
    """Write the card for `records` into the stage and, unless `dry_run`, push the stage; what happened, in one line."""
    if dry_run:
        _write_card(stage, card.card_data(records), repo_id)
        return f"staged {', '.join(r.name for r in records)} in {stage.folder} (dry run: nothing pushed)"
    try:
        return _push(stage, repo_id, records, private)
    except push.PushError as error:
        raise PublishError(f"{error}; {stage.folder} is kept: run the same command again to resume") from None


def config_record(
    name: str, builder, splits: datasets.SplitDict, parquet_bytes: int, baselines: dict | None = None
) -> card.ConfigRecord:
    """What the card says of config `name` of `builder`: its features, its `splits` (rows and Arrow bytes),
    the bytes of its Parquet shards, what made it, and the baselines' scores if they were scored."""
    spec = builder.config.spec
    info = datasets.DatasetInfo(
        features=builder.info.features,
        splits=splits,
        download_size=parquet_bytes,
        dataset_size=sum(split.num_bytes for split in splits.values()),
    )
    return card.ConfigRecord(
        name, _description(name, spec), spec, info, _package_version(), builder.hash, _git_commit(), _repository(),
        baselines,
    )


def check_repo_id(repo_id: str) -> None:
    """`ORG/NAME` as the Hub allows it, or `ValueError`."""
    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise ValueError(f"--repo-id {repo_id!r} is not a valid repository id: {_first_line(error)}") from None
    if repo_id.count("/") != 1:
        raise ValueError(f"--repo-id {repo_id!r} must be ORG/NAME (a user or organisation, a slash, a name)")


def _push(stage: staging.Stage, repo_id: str, records: list[card.ConfigRecord], private: bool) -> str:
    if get_token() is None:
        raise PublishError(
            f"no Hugging Face token: set HF_TOKEN or run `hf auth login`; {stage.folder} is kept for the next run"
        )
    api = HfApi()
    with push.calling(f"creating the dataset repository {repo_id}"):
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    remote = push.Remote(api, repo_id)
    _write_card(stage, card.card_data(records, existing=remote.card), repo_id)
    names = [r.name for r in records]
    operations = push.operations(stage, remote, names)
    if not operations:
        return f"{repo_id} already holds exactly this data (commit {remote.head[:8]}): no new commit"
    summary = ", ".join(f"{r.name} (seed {r.spec.seed})" for r in records)
    description = "\n".join(
        f"{r.name}: " + ", ".join(f"{k}={v}" for k, v in flatten(r.spec.as_dict()).items()) for r in records
    ) + f"\n\nmoving-mnist {_package_version()}, commit {_git_commit()}"
    with push.calling(f"committing {len(operations)} files to {repo_id}"):
        commit = api.create_commit(
            repo_id,
            operations,
            commit_message=f"Publish {summary}",
            commit_description=description,
            repo_type="dataset",
            parent_commit=remote.head,
        )
    return f"published {summary} to {repo_id}: {commit.commit_url} ({len(operations)} files changed)"


def _copy(built: output.Output, folder: Path) -> Path:
    """`built` copied into the staging folder `folder` (files already there with the same sha256 are kept)."""
    local = output.Output(str(folder), option="--stage")
    local.mirror(built)
    return Path(local.root)


def _records(stage: staging.Stage) -> list[card.ConfigRecord]:
    """The configs a staging folder holds, as its card describes them."""
    data = DatasetCard((stage.folder / "README.md").read_text(encoding="utf-8")).data
    infos = DatasetInfosDict.from_dataset_card_data(data)
    generation = {g["config_name"]: g for g in data.get("generation") or []}
    scores = {b["config_name"]: {k: v for k, v in b.items() if k != "config_name"} for b in data.get("baselines") or []}
    return [
        card.ConfigRecord(
            name, g["description"], kinds.from_dict(g["parameters"]), infos[name], g["package_version"],
            g["code_hash"], g["git_commit"], g.get("repository", "unknown"), scores.get(name),
        )
        for name in sorted(stage.manifest["configs"]) for g in [generation[name]]
    ]


def _description(name: str, spec) -> str:
    """The preset's description, and which of its parameters this publish changed (so the card never
    describes a preset the data does not follow)."""
    preset = moving_mnist.PRESETS[name]
    before = flatten(preset.spec.as_dict())
    changed = [f"{k}={v}" for k, v in flatten(spec.as_dict()).items() if v != before.get(k)]
    return preset.description + (f" Changed from the preset: {', '.join(changed)}." if changed else "")


def _write_card(stage: staging.Stage, data, repo_id: str) -> None:
    stage.write_text("README.md", card.render(data, repo_id))


def _package_version() -> str:
    try:
        return importlib.metadata.version("moving-mnist")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _repository() -> str:
    """The project's repository URL (`[project.urls]` of pyproject.toml, from the installed metadata)."""
    try:
        urls = importlib.metadata.metadata("moving-mnist").get_all("Project-URL") or []
    except importlib.metadata.PackageNotFoundError:
        urls = []
    return next((url.split(", ", 1)[1] for url in urls if url.startswith("Repository, ")), "unknown")


@functools.lru_cache(maxsize=1)
def _git_commit() -> str:
    """The commit of the code that made the data, "-dirty" if it was edited, or "unknown": as recorded
    when the installed wheel was built (setup.py), else that of the checkout this runs from."""
    try:
        from moving_mnist_hub._commit import COMMIT
    except ImportError:  # not a built wheel: an editable install or a plain checkout
        return _checkout_commit()
    return COMMIT


def _checkout_commit() -> str:
    folder = Path(moving_mnist.__file__).parent
    git = lambda *args: subprocess.run(  # noqa: E731
        ["git", *args], cwd=folder, capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        if Path(git("rev-parse", "--show-toplevel")) != folder:  # an installed copy, not the checkout
            return "unknown"
        dirty = git("status", "--porcelain", "--", "generator", "moving_mnist.py")
        return git("rev-parse", "HEAD") + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]
