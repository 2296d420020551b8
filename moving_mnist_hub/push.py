"""Pushing a staged tree to the Hub: one commit, only what changed, nothing stale left behind.

The token comes from huggingface_hub's usual places (`HF_TOKEN`, the stored login); it is only
ever handed to `HfApi`, never printed or written. Every call to the Hub goes through `calling`,
so that any way it can fail (an HTTP status, the network, an answer that is not the Hub's) ends
as one `PushError` line that says which call failed and why.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import httpx2
import yaml
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, DatasetCard, DatasetCardData, HfApi, constants
from huggingface_hub.errors import FileMetadataError, HfHubHTTPError
from huggingface_hub.hf_api import RepoFile
from huggingface_hub.utils.sha import git_hash

from moving_mnist_hub.staging import MANIFEST, Stage, config_paths


class PushError(Exception):
    """A push that cannot go on (a Hub call failed, a staged file changed); the message is one line."""


class Remote:
    """What a repository that exists holds now: its head commit, its files and its card (None if it has none)."""

    def __init__(self, api: HfApi, repo_id: str):
        with calling(f"reading the head commit of {repo_id}"):
            self.head: str = api.repo_info(repo_id, repo_type="dataset").sha
        with calling(f"listing the files of {repo_id}"):
            tree = list(api.list_repo_tree(repo_id, repo_type="dataset", recursive=True, revision=self.head))
        self.files: dict[str, RepoFile] = {f.path: f for f in tree if isinstance(f, RepoFile)}
        self.card: DatasetCardData | None = None
        if "README.md" in self.files:  # listed at this commit: failing to read it is never "no card"
            with calling(f"reading README.md of {repo_id}"):
                path = api.hf_hub_download(repo_id, "README.md", repo_type="dataset", revision=self.head)
            try:
                self.card = DatasetCard(Path(path).read_text(encoding="utf-8")).data
            except (yaml.YAMLError, ValueError) as error:
                raise PushError(
                    f"README.md of {repo_id} (commit {self.head[:8]}) has invalid YAML metadata "
                    f"({_first_line(error)}): fix it on the Hub, then publish again"
                ) from None

    def holds(self, addition: CommitOperationAdd) -> bool:
        """Whether the repository already has the file that `addition` would add, byte for byte."""
        remote = self.files.get(addition.path_in_repo)
        if remote is None or remote.size != addition.upload_info.size:
            return False
        if remote.lfs is not None:
            return remote.lfs.sha256 == addition.upload_info.sha256.hex()
        return remote.blob_id == git_hash(Path(addition.path_or_fileobj).read_bytes())


def operations(stage: Stage, remote: Remote, names: list[str]) -> list:
    """Additions for the staged files of `names` (and the card) that differ from the remote, and
    deletions for the remote files of `names` that are no longer staged (stale shards).

    Each staged file is checked against the sha256 its manifest recorded: one that changed since
    it was written is never uploaded (`PushError`; the next run rewrites it)."""
    prefixes = tuple(p for name in names for p in config_paths(name))
    wanted = {path: sha for path, sha in stage.files.items() if path.startswith(prefixes) or path == "README.md"}
    additions = []
    for path, sha in sorted(wanted.items()):
        addition = CommitOperationAdd(path_in_repo=path, path_or_fileobj=str(stage.folder / path))
        if addition.upload_info.sha256.hex() != sha:
            raise PushError(f"{stage.folder / path} changed since it was staged (sha256 differs from {MANIFEST}): "
                            "it was not uploaded, and the next run rewrites it")
        if not remote.holds(addition):
            additions.append(addition)
    deletions = [
        CommitOperationDelete(path_in_repo=path)
        for path in remote.files
        if path.startswith(prefixes) and path not in wanted
    ]
    return additions + deletions


@contextlib.contextmanager
def calling(what: str):
    """Turn any failure of the Hub calls inside into a `PushError` that names `what` ("committing to ORG/NAME")."""
    try:
        yield
    except Exception as error:  # everything a client call can raise, reported, never swallowed
        raise PushError(_explain(error, what)) from error


def _explain(error: Exception, what: str) -> str:
    causes = _causes(error)  # huggingface_hub wraps, after its retries, the error that stopped it
    http = next((e for e in causes if isinstance(e, HfHubHTTPError) and e.response is not None), None)
    if http is not None:
        status = f"{http.response.status_code} {http.response.reason_phrase}".strip()
        if http.response.status_code == 401:
            return f"the Hub refused the token ({status}) while {what}: set a valid HF_TOKEN or run `hf auth login`"
        if http.response.status_code == 403:
            return f"the token may not write there ({status}) while {what}: use a write token of that namespace"
        detail = f": {_first_line(http.server_message)}" if http.server_message else ""
        return f"the Hub answered {status} while {what}{detail}"
    network = next((e for e in causes if isinstance(e, (httpx2.TransportError, ConnectionError))), None)
    if network is not None:
        return f"network failure while {what} ({type(network).__name__}: {_first_line(network)})"
    if any(isinstance(e, (FileMetadataError, ValueError, KeyError, TypeError, IndexError)) for e in causes):
        return (
            f"{constants.ENDPOINT} did not answer as the Hugging Face Hub does while {what} "
            f"({type(error).__name__}: {_first_line(error)}): check HF_ENDPOINT and any proxy"
        )
    return f"{what} failed ({type(error).__name__}: {_first_line(error)})"


def _causes(error: BaseException | None) -> list[BaseException]:
    chain = []
    while error is not None and error not in chain:
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain


def _first_line(error) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]
