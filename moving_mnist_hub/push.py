"""Pushing a staged tree to the Hub: one commit, only what changed, nothing stale left behind.

The token comes from huggingface_hub's usual places (`HF_TOKEN`, the stored login); it is only
ever handed to `HfApi`, never printed or written.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from huggingface_hub import CommitOperationAdd, CommitOperationDelete, DatasetCard, DatasetCardData, HfApi
from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError
from huggingface_hub.hf_api import RepoFile
from huggingface_hub.utils.sha import git_hash

from moving_mnist_hub.staging import config_paths


class Remote:
    """What a repository holds now: its head commit, its files and its card (all empty if it is new)."""

    def __init__(self, api: HfApi, repo_id: str):
        self.head: str | None = None
        self.files: dict[str, RepoFile] = {}
        self.card: DatasetCardData | None = None
        try:
            self.head = api.repo_info(repo_id, repo_type="dataset").sha
        except RepositoryNotFoundError:
            return
        tree = api.list_repo_tree(repo_id, repo_type="dataset", recursive=True, revision=self.head)
        self.files = {f.path: f for f in tree if isinstance(f, RepoFile)}
        if "README.md" in self.files:
            try:
                path = api.hf_hub_download(repo_id, "README.md", repo_type="dataset", revision=self.head)
            except EntryNotFoundError:
                return
            self.card = DatasetCard(Path(path).read_text(encoding="utf-8")).data

    def holds(self, path: str, data: Path) -> bool:
        """Whether the repository has `path` with exactly the bytes of the file `data`."""
        remote = self.files.get(path)
        if remote is None or remote.size != data.stat().st_size:
            return False
        if remote.lfs is not None:
            return remote.lfs.sha256 == _sha256(data)
        return remote.blob_id == git_hash(data.read_bytes())


def operations(stage: Path, remote: Remote, names: list[str]) -> list:
    """Additions for the staged files of `names` (and the card) that differ from the remote, and
    deletions for the remote files of `names` that are no longer staged (stale shards)."""
    prefixes = tuple(p for name in names for p in config_paths(name))
    staged = {
        p.relative_to(stage).as_posix(): p
        for p in sorted(stage.rglob("*"))
        if p.is_file() and not p.relative_to(stage).as_posix().startswith(".")
    }
    wanted = {path: file for path, file in staged.items() if path.startswith(prefixes) or path == "README.md"}
    additions = [
        CommitOperationAdd(path_in_repo=path, path_or_fileobj=str(file))
        for path, file in wanted.items()
        if not remote.holds(path, file)
    ]
    deletions = [
        CommitOperationDelete(path_in_repo=path)
        for path in remote.files
        if path.startswith(prefixes) and path not in wanted
    ]
    return additions + deletions


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
