"""A build's output at any fsspec URL: the Hub repository's tree, with the staging manifest.

    URL/README.md                                    the dataset card
    URL/classic/train-00000-of-00002.parquet         Parquet shards, per config and split
    URL/previews/classic.gif, URL/previews/classic/  the pictures of each config
    URL/.moving-mnist-stage.json                     {"configs": {name: identity}, "files": {path: sha256}}

The manifest is the staging folder's (`moving_mnist_hub.staging`), so a local output is a staging
folder that `publish` pushes as it is. A file is trusted only if the manifest records its sha256 and
its bytes still have it; a file planned but not yet written is recorded with none: it is ours, to
overwrite, and never trusted. Files are written to a hidden temporary name beside their place and
moved in when complete. Nothing the manifest does not list is ever replaced or deleted, except our
own temporary files.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import shutil
import uuid

import fsspec
from datasets.utils.tqdm import tqdm  # quiet under datasets.disable_progress_bars()
from fsspec.implementations.local import LocalFileSystem

from moving_mnist_hub.staging import MANIFEST, config_paths

_PARTIAL = re.compile(r"\.(.+)\.[0-9a-f]{32}\.partial")  # `partial_path`'s names


class Output:
    """An output tree at `url` (a local or shared path, `s3://...`, `gs://...`: anything fsspec opens),
    with its manifest.

    `ValueError` (naming `option`) if the URL cannot be opened, is a file, holds files but no manifest,
    or has a manifest that cannot be read.
    """

    def __init__(self, url: str, option: str = "--output", create: bool = True):
        self.url, self.option = url, option
        try:
            self.fs, self.root = fsspec.core.url_to_fs(url)
        except (ValueError, ImportError) as error:  # an unknown protocol, or its package missing
            raise ValueError(f"{option} {url}: {_first_line(error)}") from None
        self.root = self.root.rstrip("/") or "/"
        try:
            if self.fs.isfile(self.root):
                raise ValueError(f"{option} {url} is a file: give a new, empty or earlier output folder")
            manifest = self.path(MANIFEST)
            if self.fs.isfile(manifest):
                self.manifest = _read_manifest(self.fs, manifest)
                if self.manifest is None:
                    raise ValueError(f"{option} {url}: its manifest {MANIFEST} is unreadable: "
                                     "delete the folder to build afresh")
            elif self.fs.isdir(self.root) and self.fs.ls(self.root, detail=False):
                raise ValueError(f"{option} {url} holds files that moving-mnist did not write (no {MANIFEST}): "
                                 "give a new or empty folder")
            elif not create:
                raise ValueError(f"{option} {url} holds no build of moving-mnist (no {MANIFEST})")
            else:
                self.fs.makedirs(self.root, exist_ok=True)
                self.manifest = {"configs": {}, "files": {}}
                self.save()
        except (OSError, RuntimeError) as error:  # permissions, the network, a bucket that does not exist
            raise OSError(f"{option} {url}: {_first_line(error)}") from None

    @property
    def local(self) -> bool:
        """Whether the output is a folder of this machine (then a staging folder as it is)."""
        return isinstance(self.fs, LocalFileSystem)

    @property
    def files(self) -> dict[str, str | None]:
        """path -> sha256 of every file recorded (None: planned, not yet written), a copy."""
        return dict(self.manifest["files"])

    def path(self, relative: str) -> str:
        return posixpath.join(self.root, relative)

    def check_owned(self, prefixes: list[str]) -> None:
        """`ValueError` if a file under `prefixes` is neither recorded nor one of our temporary files."""
        for prefix in prefixes:
            for path in self._find(prefix):
                relative = posixpath.relpath(path, self.root)
                if relative not in self.manifest["files"] and not _PARTIAL.fullmatch(posixpath.basename(path)):
                    raise ValueError(f"{self.option} {self.url}: {relative} was not written by moving-mnist: "
                                     "move it away or give another output folder")

    def plan(self, name: str, identity: str, paths: list[str]) -> None:
        """Make `paths` the files of config `name`, made by `identity`: recorded files of another
        identity, or that are no longer planned, are deleted; new paths are recorded as not yet written."""
        recorded = [p for p in self.manifest["files"] if p.startswith(tuple(config_paths(name)))]
        if self.manifest["configs"].get(name) != identity:
            stale = recorded
        else:
            stale = [p for p in recorded if p not in paths and p.startswith(f"{name}/")]
        for path in stale:
            if self.fs.exists(self.path(path)):
                self.fs.rm_file(self.path(path))
            del self.manifest["files"][path]
        self.manifest["configs"][name] = identity
        for path in paths:
            self.manifest["files"].setdefault(path, None)
        self.save()

    def remove_partials(self, prefix: str) -> None:
        """Delete our temporary files under `prefix`, left by writers that were stopped."""
        for path in self._find(prefix):
            if _PARTIAL.fullmatch(posixpath.basename(path)):
                self.fs.rm_file(path)

    def trusted(self, relative: str) -> bool:
        """Whether `relative` is recorded with a sha256 that its bytes still have."""
        recorded = self.manifest["files"].get(relative)
        path = self.path(relative)
        return recorded is not None and self.fs.isfile(path) and sha256(self.fs, path) == recorded

    def record(self, relative: str, digest: str) -> None:
        self.manifest["files"][relative] = digest
        self.save()

    def put(self, local: str, relative: str) -> None:
        """Copy the local file `local` to `relative` (by a temporary name), and record it."""
        partial = partial_path(self.path(relative))
        self.fs.makedirs(posixpath.dirname(partial), exist_ok=True)
        self.fs.put_file(local, partial)
        digest = sha256(self.fs, partial)
        self.fs.mv(partial, self.path(relative))
        self.record(relative, digest)

    def read_text(self, relative: str) -> str | None:
        """A recorded file's text, or None if it is not recorded as written."""
        if self.manifest["files"].get(relative) is None:
            return None
        return self.fs.cat_file(self.path(relative)).decode("utf-8")

    def write_text(self, relative: str, text: str) -> None:
        partial = partial_path(self.path(relative))
        self.fs.pipe_file(partial, text.encode("utf-8"))
        digest = sha256(self.fs, partial)
        self.fs.mv(partial, self.path(relative))
        self.record(relative, digest)

    def mirror(self, source: Output) -> None:
        """Make this output a copy of `source`: its files copied (those here with the same sha256 kept),
        each checked against the sha256 `source` records, and the files it does not hold deleted."""
        for path in sorted(set(self.manifest["files"]) - set(source.files)):
            if self.fs.exists(self.path(path)):
                self.fs.rm_file(self.path(path))
            del self.manifest["files"][path]
        for path, digest in tqdm(sorted(source.files.items()), desc=f"Copying {source.url}", unit=" files"):
            if self.manifest["files"].get(path) != digest or not self.trusted(path):
                self._copy(source, path, digest)
        self.manifest["configs"] = dict(source.manifest["configs"])
        self.save()

    def save(self) -> None:
        """Write the manifest (by a temporary name, then moved in: a reader never sees half of it)."""
        text = json.dumps(self.manifest, indent=1, sort_keys=True)  # as a staging folder writes it
        partial = self.path(f"{MANIFEST}.partial")
        self.fs.pipe_file(partial, text.encode("utf-8"))
        self.fs.mv(partial, self.path(MANIFEST))

    def _copy(self, source: Output, relative: str, digest: str) -> None:
        partial = partial_path(self.path(relative))
        self.fs.makedirs(posixpath.dirname(partial), exist_ok=True)
        with source.fs.open(source.path(relative), "rb") as reader, self.fs.open(partial, "wb") as writer:
            shutil.copyfileobj(reader, writer, 1 << 22)
        if sha256(self.fs, partial) != digest:
            self.fs.rm_file(partial)
            raise ValueError(f"{source.option} {source.url}: {relative} no longer has the sha256 its manifest records: "
                             "run the build again, which rewrites it")
        self.fs.mv(partial, self.path(relative))
        self.record(relative, digest)

    def _find(self, prefix: str) -> list[str]:
        top = self.path(prefix)
        if self.fs.isdir(top):
            return sorted(self.fs.find(top))
        return [top] if self.fs.isfile(top) else []


def partial_path(path: str) -> str:
    """A temporary name beside `path`, new for each writer: two writers of one file never share one."""
    folder, name = posixpath.split(path)
    return posixpath.join(folder, f".{name}.{uuid.uuid4().hex}.partial")


def sha256(fs, path: str) -> str:
    digest = hashlib.sha256()
    with fs.open(path, "rb") as f:
        while block := f.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def _read_manifest(fs, path: str) -> dict | None:
    try:
        manifest = json.loads(fs.cat_file(path))
    except ValueError:
        return None
    if isinstance(manifest, dict) and set(manifest) == {"configs", "files"}:
        return manifest
    return None


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
