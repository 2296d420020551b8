"""A loopback Hugging Face Hub for tests: the real `huggingface_hub` and `datasets` clients talk to it.

    server = HubServer({"hf_alice": HubToken("alice", orgs=("lab",)), "hf_bob": HubToken("bob", write=False)})
    with server:                                  # or server.start() ... server.stop()
        os.environ["HF_ENDPOINT"] = server.url    # before huggingface_hub / datasets are imported: read once
        os.environ["HF_HUB_DISABLE_XET"] = "1"    # Xet storage is not emulated: uploads go through Git LFS
        api = HfApi(token="hf_alice")
        api.create_repo("alice/mm", repo_type="dataset")
        api.upload_file(path_or_fileobj=b"...", path_in_repo="data/a.parquet", repo_id="alice/mm", repo_type="dataset")
        server.files("alice/mm")        # {".gitattributes": b"...", "data/a.parquet": b"..."}: the tree at main
        server.commits("alice/mm")      # [Commit(title="initial commit"), Commit(title="Upload data/a.parquet ...")]
        server.requests                 # [("POST", "/api/repos/create"), ...]: every request, in order
        server.unexpected               # the requests it could not emulate (unknown endpoint, pull request, ...)
        server.leaks("hf_alice")        # where a secret showed up other than in an Authorization header
        server.fail_lfs_uploads()       # LFS PUTs drop the connection half-way (every one, or the next n)
        server.fail("*/resolve/*/README.md", 500, times=10)   # the next 10 matching requests answer 500
        server.answer_html("/api/*")    # 200 with an HTML page, as a proxy or a wrong HF_ENDPOINT answers
        server.reset()                  # forget repos, uploads, requests and failures
        server.create_repo("lab/g", gated=True); server.commit("lab/g", {"a.txt": b"a"})   # no HTTP

Dataset repos only, branch `main` only (a revision is `main` or a commit sha, full or >= 7 characters).
Like the real Hub, a new repo starts with one commit holding a `.gitattributes`, and a revision, a
path in a tree listing and a path in a resolve URL may come percent-encoded (`refs%2Fconvert%2Fparquet`).
Endpoints, as huggingface_hub 2.x calls them with Xet disabled:

    GET  /api/whoami-v2                                      POST /api/repos/create
    POST /api/validate-yaml                                  GET  /api/datasets/{repo}[/revision/{rev}]
    GET  /api/datasets/{repo}/tree/{rev}[/{path}]            POST /api/datasets/{repo}/paths-info/{rev}
    GET  /api/datasets/{repo}/commits/{rev}                  GET  /api/datasets/{repo}/refs
    POST /api/datasets/{repo}/preupload/{rev}                POST /api/datasets/{repo}/commit/{rev}
    POST /datasets/{repo}.git/info/lfs/objects/batch         PUT  /lfs-upload/{ticket}   (the batch's href)
    POST /datasets/{repo}.git/info/lfs/objects/verify        GET/HEAD /datasets/{repo}/resolve/{rev}/{path}

Errors have the Hub's shape, `{"error": "..."}` with `X-Error-Message` and, where the Hub sends one,
`X-Error-Code` (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo), which `hf_raise_for_status`
maps to its exception classes. Access: anyone reads a public repo; a private one answers 404 RepoNotFound
unless the token's user or one of its orgs owns it; a write needs a token (401 without one or with
an unknown one) that is write-capable for the repo's namespace (403 otherwise). Files matching
`lfs_suffixes`, or larger than `lfs_threshold`, must go through LFS: the PUT body must match the
announced sha256 and size, and a commit that names an LFS object not uploaded is refused.
Runs in a daemon thread; `stop()` (or leaving the `with` block) shuts it down and closes the socket.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import functools
import hashlib
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from types import MappingProxyType
from typing import Iterable, Mapping
from urllib.parse import parse_qs, unquote

import yaml  # a dependency of huggingface_hub itself: README metadata is YAML
from httpserver import LoopbackServer

__all__ = ["ALICE_READ_TOKEN", "ALICE_TOKEN", "BOB_TOKEN", "TEST_TOKENS",
           "Commit", "HubRequest", "HubServer", "HubToken"]

DEFAULT_LFS_SUFFIXES = (".parquet", ".arrow", ".gif", ".png", ".mp4", ".npz", ".zip", ".gz")
GITATTRIBUTES_HEADER = b"# Files below are stored with Git LFS (the Hub's default, abridged)\n"
_HEX_REV = re.compile(r"[0-9a-f]{7,40}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class HubToken:
    """Who a token is: its user, the orgs it belongs to, and whether it may write (to those namespaces)."""

    user: str
    orgs: tuple[str, ...] = ()
    write: bool = True

    @property
    def namespaces(self) -> frozenset[str]:
        return frozenset((self.user, *self.orgs))


# The test suite's cast (tests/conftest.py starts its Hub with these): alice writes to alice/* and lab/*,
# her read token may only read (their private repos included), bob writes to bob/* only.
ALICE_TOKEN = "hf_test_alice_write"
ALICE_READ_TOKEN = "hf_test_alice_read"
BOB_TOKEN = "hf_test_bob_write"
TEST_TOKENS = {
    ALICE_TOKEN: HubToken("alice", orgs=("lab",)),
    ALICE_READ_TOKEN: HubToken("alice", orgs=("lab",), write=False),
    BOB_TOKEN: HubToken("bob"),
}


@dataclass(frozen=True, eq=False)  # one object per commit (its oid is unique): hashed by identity
class Commit:
    """One commit of a repo: the whole tree after it (path -> bytes) and which of those paths are LFS files."""

    oid: str
    title: str
    message: str
    author: str
    date: str
    parent: str | None
    files: Mapping[str, bytes] = field(repr=False)
    lfs: frozenset[str] = field(repr=False)


@dataclass(frozen=True)
class HubRequest:
    method: str
    path: str  # as sent, percent-encoding kept, without the query
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    user: str | None  # who the Authorization header says, None when absent or unknown

    def header(self, name: str) -> str | None:
        """The value of header `name` (any case), None when absent."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass
class _Repo:
    repo_id: str
    private: bool
    gated: bool = False
    granted: set[str] = field(default_factory=set)  # users who may download from a gated repo
    commits: list[Commit] = field(default_factory=list)
    lfs_objects: dict[str, bytes] = field(default_factory=dict)  # sha256 -> bytes: what LFS PUTs stored

    @property
    def namespace(self) -> str:
        return self.repo_id.split("/")[0]


class _HubError(Exception):
    """An error answer, in the Hub's shape."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


@dataclass
class _Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, value, status: int = 200, headers: dict | None = None) -> "_Answer":
        body = json.dumps(value).encode()
        return cls(status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})})


@dataclass
class _Fault:
    times: int | None  # how many more requests get `answer`; None: every one
    answer: _Answer


class HubServer(LoopbackServer):
    """Serve an in-memory Hugging Face Hub on 127.0.0.1 at an ephemeral port, recording requests."""

    def __init__(
        self,
        tokens: Mapping[str, HubToken] | None = None,
        *,
        lfs_suffixes: Iterable[str] = DEFAULT_LFS_SUFFIXES,
        lfs_threshold: int = 10 * 1024 * 1024,
    ):
        self._initial_tokens = dict(tokens or {})
        self.lfs_suffixes = tuple(lfs_suffixes)
        self.lfs_threshold = lfs_threshold
        self._lock = threading.Lock()
        self.reset()

    # -- setting the scene -------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the state after construction: no repos, the constructor's tokens, nothing recorded."""
        with self._lock:
            self._tokens = dict(self._initial_tokens)
            self._repos: dict[str, _Repo] = {}
            self._tickets: dict[str, tuple[str, str, int]] = {}  # upload ticket -> (repo_id, sha256, size)
            self._log: list[HubRequest] = []
            self._unexpected: list[tuple[str, str]] = []
            self._lfs_failures: int | None = 0  # None: every LFS PUT fails
            self._faults: dict[str, _Fault] = {}  # path pattern -> what the next matching requests get

    def add_token(self, token: str, user: str, orgs: Iterable[str] = (), *, write: bool = True) -> None:
        with self._lock:
            self._tokens[token] = HubToken(user, tuple(orgs), write)

    def create_repo(self, repo_id: str, *, private: bool = False, gated: bool = False) -> None:
        """Create `repo_id` directly (no HTTP), with the Hub's initial `.gitattributes` commit.

        A gated repo lists and describes itself to anyone who may read it, but serves its files only to
        its namespace's members and to the users in `grant_access`."""
        with self._lock:
            self._new_repo(repo_id, private, author=repo_id.split("/")[0]).gated = gated

    def grant_access(self, repo_id: str, user: str) -> None:
        with self._lock:
            self._repos[repo_id].granted.add(user)

    def commit(self, repo_id: str, files: Mapping[str, bytes], *, delete: Iterable[str] = (),
               message: str = "seed", author: str | None = None) -> Commit:
        """Commit `files` (and delete the paths in `delete`) on main directly, creating the repo if needed."""
        with self._lock:
            repo = self._repos.get(repo_id) or self._new_repo(repo_id, False, author=repo_id.split("/")[0])
            tree = {p: (d, p in repo.commits[-1].lfs) for p, d in repo.commits[-1].files.items()}
            for path in delete:
                tree.pop(path)
            for path, data in files.items():
                tree[path] = (bytes(data), self._is_lfs(path, len(data)))
                if tree[path][1]:
                    repo.lfs_objects[hashlib.sha256(data).hexdigest()] = bytes(data)
            return self._append_commit(repo, tree, message, "", author or repo.namespace)

    def fail_lfs_uploads(self, n: int | None = None) -> None:
        """Make the next `n` LFS PUTs (every one when None, none when 0) read half the body, then hang up."""
        with self._lock:
            self._lfs_failures = n

    def fail(self, pattern: str, status: int = 500, times: int | None = None) -> None:
        """Answer the next `times` requests (every one when None, none when 0) whose decoded path matches
        `pattern` (fnmatch: `*` spans slashes) with `status` and an error in the Hub's shape, instead of
        serving them. A later call for the same pattern replaces this one."""
        message = f"Test Hub: injected {status}"
        with self._lock:
            self._faults[pattern] = _Fault(times, _Answer.json({"error": message}, status, {"X-Error-Message": message}))

    def answer_html(self, pattern: str = "*", times: int | None = None) -> None:
        """Answer the matching requests with 200 and an HTML page: what a captive portal, a proxy or an
        HF_ENDPOINT that is not a Hub answers."""
        page = b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Welcome</body></html>\n"
        with self._lock:
            self._faults[pattern] = _Fault(times, _Answer(200, page, {"Content-Type": "text/html"}))

    # -- what happened -----------------------------------------------------------------------

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path) of every request received, in arrival order (a copy)."""
        with self._lock:
            return [(r.method, r.path) for r in self._log]

    @property
    def request_log(self) -> list[HubRequest]:
        """Every request with its query, headers, body and authenticated user (a copy)."""
        with self._lock:
            return list(self._log)

    @property
    def unexpected(self) -> list[tuple[str, str]]:
        """(method, path) of the requests this server does not emulate: a test should expect none."""
        with self._lock:
            return list(self._unexpected)

    @property
    def repos(self) -> dict[str, bool]:
        """repo_id -> private, for every repo."""
        with self._lock:
            return {repo_id: repo.private for repo_id, repo in self._repos.items()}

    def commits(self, repo_id: str) -> list[Commit]:
        """The commits of `repo_id` on main, oldest first (the first is the Hub's "initial commit")."""
        with self._lock:
            return list(self._repos[repo_id].commits)

    def files(self, repo_id: str, rev: str = "main") -> dict[str, bytes]:
        """The tree of `repo_id` at `rev`: path -> bytes."""
        with self._lock:
            return dict(self._commit_at(self._repos[repo_id], rev).files)

    def lfs_objects(self, repo_id: str) -> dict[str, bytes]:
        """sha256 -> bytes of every LFS object uploaded to `repo_id` (committed or not)."""
        with self._lock:
            return dict(self._repos[repo_id].lfs_objects)

    def leaks(self, secret: str) -> list[str]:
        """Where `secret` appears other than in an Authorization header: URLs, other headers, bodies, stored files."""
        needle = secret.encode()
        found = []
        with self._lock:
            for r in self._log:
                where = f"{r.method} {r.path}"
                if needle in (r.path + "?" + r.query).encode() or needle in unquote(r.path + "?" + r.query).encode():
                    found.append(f"URL of {where}")
                found += [f"header {k} of {where}" for k, v in r.headers
                          if k.lower() != "authorization" and secret in v]
                if needle in r.body:
                    found.append(f"body of {where}")
            for repo in self._repos.values():
                for commit in repo.commits:
                    found += [f"{repo.repo_id}@{commit.oid[:8]}:{p}" for p, d in commit.files.items() if needle in d]
                found += [f"{repo.repo_id} LFS object {oid}" for oid, d in repo.lfs_objects.items() if needle in d]
        return list(dict.fromkeys(found))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    # -- state helpers (callers hold the lock) -----------------------------------------------

    def _is_lfs(self, path: str, size: int) -> bool:
        return path.lower().endswith(self.lfs_suffixes) or size > self.lfs_threshold

    def _gitattributes(self) -> bytes:
        lines = [f"*{suffix} filter=lfs diff=lfs merge=lfs -text\n" for suffix in self.lfs_suffixes]
        return GITATTRIBUTES_HEADER + "".join(lines).encode()

    def _new_repo(self, repo_id: str, private: bool, author: str) -> _Repo:
        repo = self._repos[repo_id] = _Repo(repo_id, private)
        self._append_commit(repo, {".gitattributes": (self._gitattributes(), False)}, "initial commit", "", author)
        return repo

    def _append_commit(self, repo: _Repo, tree: dict[str, tuple[bytes, bool]], title: str, message: str,
                       author: str) -> Commit:
        parent = repo.commits[-1].oid if repo.commits else None
        # Unique across resets: caches keyed by commit sha (the Hub cache, datasets' cache) must never match
        oid = hashlib.sha1(uuid.uuid4().bytes + repr((repo.repo_id, parent, title)).encode()).hexdigest()
        commit = Commit(
            oid=oid, title=title, message=message, author=author, date=_now(), parent=parent,
            files=MappingProxyType({p: d for p, (d, _) in sorted(tree.items())}),
            lfs=frozenset(p for p, (_, lfs) in tree.items() if lfs),
        )
        repo.commits.append(commit)
        return commit

    def _commit_at(self, repo: _Repo, rev: str) -> Commit:
        if rev in ("main", "refs/heads/main"):
            return repo.commits[-1]
        if _HEX_REV.fullmatch(rev):
            matches = [c for c in repo.commits if c.oid.startswith(rev)]
            if len(matches) == 1:
                return matches[0]
        raise _HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")

    def _token_holder(self, headers) -> HubToken | None:
        scheme, _, token = headers.get("Authorization", "").partition(" ")
        return self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None

    def _caller(self, headers) -> HubToken | None:
        """Who is asking: None without an Authorization header, 401 with a token this Hub does not know."""
        if headers.get("Authorization") is None:
            return None
        caller = self._token_holder(headers)
        if caller is None:
            raise _HubError(401, "Invalid credentials in Authorization header")
        return caller

    def _readable(self, repo_id: str, caller: HubToken | None) -> _Repo:
        repo = self._repos.get(repo_id)
        if repo is None or (repo.private and (caller is None or repo.namespace not in caller.namespaces)):
            # Like the Hub: a private repo one may not see does not exist
            raise _HubError(404, "Repository not found", "RepoNotFound")
        return repo

    def _writable(self, repo_id: str, caller: HubToken | None) -> _Repo:
        if caller is None:
            raise _HubError(401, "You must be authenticated to write to a repo (no Authorization header)")
        repo = self._readable(repo_id, caller)
        if not caller.write or repo.namespace not in caller.namespaces:
            raise _HubError(403, f"You don't have the rights to write to dataset repo {repo_id} "
                                 f"(token of {caller.user}, {'write' if caller.write else 'read'} access)")
        return repo

    def _unexpected_request(self, method: str, path: str, why: str, status: int = 400) -> _HubError:
        self._unexpected.append((method, path))
        return _HubError(status, f"Test Hub: {why}: {method} {path}")

    # -- the API -----------------------------------------------------------------------------

    def _answer(self, method: str, raw_path: str, query: str, headers, body: bytes) -> _Answer:
        with self._lock:
            known = self._token_holder(headers)
            self._log.append(HubRequest(method, raw_path, query, tuple(headers.items()), body, known and known.user))
            injected = self._take_fault(unquote(raw_path))
            if injected is not None:
                return injected
            try:
                return self._route(method, raw_path, parse_qs(query), headers, body, self._caller(headers))
            except _HubError as e:
                # A header is one latin-1 line: paths and YAML errors may be neither
                one_line = " ".join(e.message.split()).encode("ascii", "backslashreplace").decode()
                error_headers = {"X-Error-Message": one_line, **e.headers}
                if e.code:
                    error_headers["X-Error-Code"] = e.code
                return _Answer.json({"error": e.message}, e.status, error_headers)

    def _route(self, method, raw_path, params, headers, body, caller) -> _Answer:
        seg = raw_path.strip("/").split("/")
        if raw_path == "/api/whoami-v2" and method == "GET":
            return self._whoami(caller)
        if raw_path == "/api/repos/create" and method == "POST":
            return self._create(_json(body), caller)
        if raw_path == "/api/validate-yaml" and method == "POST":
            return self._validate_yaml(_json(body))
        if seg[:2] == ["api", "datasets"] and len(seg) >= 4:
            repo_id, rest = f"{unquote(seg[2])}/{unquote(seg[3])}", seg[4:]
            if params.get("create_pr", ["0"])[0] not in ("0", ""):
                raise self._unexpected_request(method, raw_path, "pull requests are not emulated")
            if not rest and method == "GET":
                return self._repo_info(repo_id, "main", params, caller)
            action = rest[0] if rest else ""
            rev = unquote(rest[1]) if len(rest) > 1 else "main"
            sub = unquote("/".join(rest[2:])).strip("/")
            if action == "revision" and len(rest) == 2 and method == "GET":
                return self._repo_info(repo_id, rev, params, caller)
            if action == "tree" and len(rest) >= 2 and method == "GET":
                return self._tree(repo_id, rev, sub, params, caller)
            if action == "paths-info" and len(rest) == 2 and method == "POST":
                return self._paths_info(repo_id, rev, headers, body, caller)
            if action == "commits" and len(rest) == 2 and method == "GET":
                return self._list_commits(repo_id, rev, caller)
            if action == "refs" and len(rest) == 1 and method == "GET":
                return self._refs(repo_id, caller)
            if action == "preupload" and len(rest) == 2 and method == "POST":
                return self._preupload(repo_id, rev, _json(body), caller)
            if action == "commit" and len(rest) == 2 and method == "POST":
                return self._commit(repo_id, rev, body, caller, raw_path)
        if seg[0] == "datasets" and len(seg) >= 5 and seg[3] == "resolve" and method in ("GET", "HEAD"):
            repo_id = f"{unquote(seg[1])}/{unquote(seg[2])}"
            return self._resolve(repo_id, unquote(seg[4]), unquote("/".join(seg[5:])), headers, caller)
        lfs = re.fullmatch(r"/datasets/([^/]+)/([^/]+)\.git/info/lfs/objects/(batch|verify)", raw_path)
        if lfs and method == "POST":
            repo_id = f"{unquote(lfs[1])}/{unquote(lfs[2])}"
            if lfs[3] == "batch":
                return self._lfs_batch(repo_id, _json(body), caller, raw_path)
            return self._lfs_verify(repo_id, _json(body), caller)
        if seg[0] == "lfs-upload" and len(seg) == 2 and method == "PUT":
            return self._lfs_put(seg[1], body)
        raise self._unexpected_request(method, raw_path, "no such endpoint", 404)

    def _whoami(self, caller):
        if caller is None:
            raise _HubError(401, "Invalid credentials in Authorization header")
        role = "write" if caller.write else "read"
        return _Answer.json({
            "type": "user", "id": hashlib.sha1(caller.user.encode()).hexdigest()[:24], "name": caller.user,
            "fullname": caller.user, "isPro": False, "canPay": False, "emailVerified": True,
            "orgs": [{"type": "org", "name": org, "fullname": org, "roleInOrg": role} for org in caller.orgs],
            "auth": {"type": "access_token", "accessToken": {"displayName": "test token", "role": role}},
        })

    def _create(self, payload, caller):
        if caller is None:
            raise _HubError(401, "You must be authenticated to create a repo (no Authorization header)")
        if payload.get("type", "model") != "dataset":
            repo_type = payload.get("type", "model")
            raise self._unexpected_request("POST", "/api/repos/create", f"{repo_type} repos are not emulated")
        namespace, name = payload.get("organization") or caller.user, payload.get("name", "")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}", name) or "--" in name or ".." in name:
            raise _HubError(400, f"Invalid repo name: {name!r}")
        repo_id = f"{namespace}/{name}"
        url = f"{self.url}/datasets/{repo_id}"
        if not caller.write or namespace not in caller.namespaces:
            raise _HubError(403, f'You don\'t have the rights to create a dataset under the namespace "{namespace}"')
        if repo_id in self._repos:
            return _Answer.json({"error": "You already created this dataset repo", "url": url}, 409,
                                {"X-Error-Message": "You already created this dataset repo"})
        private = payload.get("visibility", "private" if payload.get("private") else "public") == "private"
        self._new_repo(repo_id, private, caller.user)
        return _Answer.json({"url": url, "name": repo_id, "id": uuid.uuid4().hex[:24]})

    def _validate_yaml(self, payload):
        metadata, errors = _front_matter(payload.get("content", ""))
        if not errors and metadata is not None and "configs" in metadata:
            configs = metadata["configs"]
            if not isinstance(configs, list) or not all(isinstance(c, dict) and isinstance(c.get("config_name"), str)
                                                        for c in configs):
                errors.append('"configs" must be a list of mappings, each with a string "config_name"')
        if errors:
            return _Answer.json({"error": "Invalid metadata", "errors": [{"message": e} for e in errors],
                                 "warnings": []},
                                400, {"X-Error-Message": "Invalid metadata"})
        return _Answer.json({"errors": [], "warnings": []})

    def _repo_info(self, repo_id, rev, params, caller):
        repo = self._readable(repo_id, caller)
        commit = self._commit_at(repo, rev)
        blobs = params.get("blobs", ["false"])[0].lower() in ("1", "true")
        siblings = []
        for path, data in commit.files.items():
            sibling = {"rfilename": path}
            if blobs:
                entry = _file_entry(path, data, path in commit.lfs)
                sibling.update(size=entry["size"], blobId=entry["oid"])
                if "lfs" in entry:
                    sibling["lfs"] = {"sha256": entry["lfs"]["oid"], "size": entry["size"],
                                      "pointerSize": entry["lfs"]["pointerSize"]}
            siblings.append(sibling)
        info = {
            "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24], "id": repo_id, "author": repo.namespace,
            "sha": commit.oid, "lastModified": commit.date, "createdAt": repo.commits[0].date,
            "private": repo.private, "gated": "auto" if repo.gated else False, "disabled": False,
            "downloads": 0, "likes": 0, "tags": [],
            "siblings": siblings, "usedStorage": sum(len(d) for d in commit.files.values()),
        }
        metadata, _ = _front_matter(commit.files.get("README.md", b"").decode("utf-8", "replace"))
        if metadata:
            info["cardData"] = metadata
        return _Answer.json(info)

    def _tree(self, repo_id, rev, path, params, caller):
        commit = self._commit_at(self._readable(repo_id, caller), rev)
        recursive = params.get("recursive", ["false"])[0].lower() in ("1", "true")
        expand = params.get("expand", ["false"])[0].lower() in ("1", "true")
        entries = _entries(commit)
        if path and path not in entries:
            raise _HubError(404, f'Path "{path}" does not exist on "{rev}"', "EntryNotFound")
        if path and entries[path]["type"] == "file":
            listed = [entries[path]]  # the Hub lists a file as itself
        else:
            prefix = path + "/" if path else ""
            listed = [e for p, e in entries.items()
                      if p.startswith(prefix) and (recursive or "/" not in p[len(prefix):])]
        if expand:
            listed = [{**e, "lastCommit": self._last_commit(self._repos[repo_id], commit, e["path"])} for e in listed]
        return _Answer.json(listed)

    def _last_commit(self, repo: _Repo, commit: Commit, path: str) -> dict:
        """The newest commit up to `commit` that changed `path` (a file or a folder)."""
        history = repo.commits[: repo.commits.index(commit) + 1]
        for newer, older in zip(reversed(history), [*reversed(history[:-1]), None]):
            before = _entries(older).get(path) if older else None
            if before is None or before["oid"] != _entries(newer)[path]["oid"]:
                return {"id": newer.oid, "title": newer.title, "date": newer.date}
        raise AssertionError("unreachable: the first commit that has the path changed it")

    def _paths_info(self, repo_id, rev, headers, body, caller):
        commit = self._commit_at(self._readable(repo_id, caller), rev)
        if "json" in headers.get("Content-Type", ""):
            paths = _json(body).get("paths", [])
        else:  # huggingface_hub sends a form: paths=a&paths=b&expand=False
            paths = parse_qs(body.decode()).get("paths", [])
        entries = _entries(commit)
        return _Answer.json([entries[p.strip("/")] for p in paths if p.strip("/") in entries])

    def _list_commits(self, repo_id, rev, caller):
        repo = self._readable(repo_id, caller)
        head = self._commit_at(repo, rev)
        history = repo.commits[: repo.commits.index(head) + 1]
        return _Answer.json([{"id": c.oid, "title": c.title, "message": c.message, "date": c.date,
                              "authors": [{"user": c.author}]} for c in reversed(history)])

    def _refs(self, repo_id, caller):
        repo = self._readable(repo_id, caller)
        main = {"name": "main", "ref": "refs/heads/main", "targetCommit": repo.commits[-1].oid}
        return _Answer.json({"branches": [main], "converts": [], "tags": [], "pullRequests": []})

    def _branch_head(self, repo: _Repo, rev: str) -> Commit:
        """Commits go to a branch; only main exists."""
        if rev not in ("main", "refs/heads/main"):
            raise _HubError(404, f"Invalid rev id: {rev} (the test Hub only has the branch main)", "RevisionNotFound")
        return repo.commits[-1]

    def _preupload(self, repo_id, rev, payload, caller):
        repo = self._writable(repo_id, caller)
        head = self._branch_head(repo, rev)
        files = []
        for item in payload.get("files", []):
            path, size = item["path"], int(item["size"])
            mode = "lfs" if self._is_lfs(path, size) else "regular"
            answer = {"path": path, "uploadMode": mode, "shouldIgnore": False}
            if path in head.files:  # the client skips a file whose oid it already has
                data = head.files[path]
                answer["oid"] = hashlib.sha256(data).hexdigest() if path in head.lfs else _git_blob_oid(data)
            files.append(answer)
        return _Answer.json({"files": files, "commitOid": head.oid})

    def _commit(self, repo_id, rev, body, caller, raw_path):
        repo = self._writable(repo_id, caller)
        head = self._branch_head(repo, rev)
        try:
            lines = [json.loads(line) for line in body.decode().splitlines() if line.strip()]
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise _HubError(400, f"Invalid NDJSON commit payload: {e}")
        if not lines or lines[0].get("key") != "header":
            raise _HubError(400, "The first line of the commit payload must be its header")
        header = lines[0].get("value", {})
        if not header.get("summary"):
            raise _HubError(400, "A commit needs a summary")
        parent = header.get("parentCommit")
        if parent is not None and not head.oid.startswith(parent.lower()):
            raise _HubError(412, "A commit has happened since. Please refresh and try again.")
        tree = {p: (d, p in head.lfs) for p, d in head.files.items()}
        for line in lines[1:]:
            key, value = line.get("key"), line.get("value", {})
            path = _checked_path(value.get("path", ""))
            if key == "file":
                try:
                    data = base64.b64decode(value["content"], validate=True) if value.get("encoding") == "base64" \
                        else value["content"].encode()
                except (KeyError, binascii.Error) as e:
                    raise _HubError(400, f"Invalid content for {path}: {e}")
                if data and self._is_lfs(path, len(data)):
                    raise _HubError(400, f"Your push was rejected: {path} must be stored with Git LFS")
                tree[path] = (data, False)
            elif key == "lfsFile":
                oid, size = value.get("oid", ""), value.get("size")
                data = repo.lfs_objects.get(oid)
                if data is None or (size is not None and size != len(data)):
                    raise _HubError(400, f"Your push was rejected because an LFS pointer pointed to a file that "
                                         f"does not exist: {path} (oid {oid}, size {size})")
                tree[path] = (data, True)
            elif key == "deletedFile":
                if path not in tree:
                    raise _HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                del tree[path]
            elif key == "deletedFolder":
                inside = [p for p in tree if p.startswith(path.rstrip("/") + "/")]
                if not inside:
                    raise _HubError(404, f"A folder with this name doesn't exist: {path}", "EntryNotFound")
                for p in inside:
                    del tree[p]
            else:
                raise self._unexpected_request("POST", raw_path, f"commit operation {key!r} is not emulated")
        commit = self._append_commit(repo, tree, header["summary"], header.get("description", ""), caller.user)
        return _Answer.json({"success": True, "commitOid": commit.oid, "hookOutput": "", "pullRequestUrl": None,
                             "commitUrl": f"{self.url}/datasets/{repo_id}/commit/{commit.oid}"})

    def _resolve(self, repo_id, rev, path, headers, caller):
        repo = self._readable(repo_id, caller)
        allowed = caller is not None and (caller.user in repo.granted or repo.namespace in caller.namespaces)
        if repo.gated and not allowed:
            raise _HubError(401 if caller is None else 403, f"Access to dataset {repo_id} is restricted. You must "
                            "have access to it and be authenticated to access it. Please log in.", "GatedRepo")
        commit = self._commit_at(repo, rev)
        data = commit.files.get(path)
        if data is None:
            raise _HubError(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": commit.oid})
        lfs = path in commit.lfs
        etag = hashlib.sha256(data).hexdigest() if lfs else _git_blob_oid(data)
        out = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes",
               "ETag": f'"{etag}"', "X-Repo-Commit": commit.oid}
        if lfs:  # what the Hub puts on its redirect to the LFS storage
            out.update({"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(len(data))})
        wanted = _byte_range(headers.get("Range"), len(data))
        if wanted is None:
            return _Answer(200, data, out)
        if wanted == "unsatisfiable":
            raise _HubError(416, "Requested range not satisfiable", headers={"Content-Range": f"bytes */{len(data)}"})
        start, end = wanted
        out["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        return _Answer(206, data[start:end + 1], out)

    def _lfs_batch(self, repo_id, payload, caller, raw_path):
        repo = self._writable(repo_id, caller)
        if payload.get("operation") != "upload":
            raise self._unexpected_request("POST", raw_path, f"LFS {payload.get('operation')!r} is not emulated")
        objects = []
        for obj in payload.get("objects", []):
            oid, size = obj.get("oid"), obj.get("size")
            if not (isinstance(oid, str) and _SHA256.fullmatch(oid) and isinstance(size, int) and size >= 0):
                objects.append({"oid": str(oid), "size": size if isinstance(size, int) else -1,
                                "error": {"code": 422, "message": "Invalid object: oid must be a sha256, size >= 0"}})
            elif oid in repo.lfs_objects:
                objects.append({"oid": oid, "size": size})  # already stored: nothing to upload
            else:
                ticket = uuid.uuid4().hex  # the URL authorizes the PUT, like a presigned storage URL
                self._tickets[ticket] = (repo_id, oid, size)
                verify = f"{self.url}/datasets/{repo_id}.git/info/lfs/objects/verify"
                objects.append({"oid": oid, "size": size, "authenticated": True, "actions": {
                    "upload": {"href": f"{self.url}/lfs-upload/{ticket}", "expires_in": 86400},
                    "verify": {"href": verify, "header": {}}}})
        return _Answer.json({"transfer": "basic", "objects": objects, "hash_algo": "sha256"},
                            headers={"Content-Type": "application/vnd.git-lfs+json"})

    def _lfs_put(self, ticket, body):
        if ticket not in self._tickets:
            raise _HubError(403, "Unknown or expired upload URL")
        repo_id, oid, size = self._tickets[ticket]
        if len(body) != size or hashlib.sha256(body).hexdigest() != oid:
            raise _HubError(400, f"The uploaded content does not match the announced object "
                                 f"(sha256 {oid}, size {size}): got {len(body)} bytes")
        if repo_id in self._repos:
            self._repos[repo_id].lfs_objects[oid] = body
        return _Answer(200, b"", {"ETag": f'"{hashlib.md5(body).hexdigest()}"'})

    def _lfs_verify(self, repo_id, payload, caller):
        repo = self._writable(repo_id, caller)
        data = repo.lfs_objects.get(payload.get("oid"))
        if data is None or len(data) != payload.get("size"):
            raise _HubError(404, f"LFS object {payload.get('oid')} of size {payload.get('size')} was not uploaded")
        return _Answer.json({"oid": payload["oid"], "size": payload["size"]})

    # -- used by the handler -----------------------------------------------------------------

    def _take_fault(self, path: str) -> _Answer | None:
        """The injected answer for `path`, if a fault matches it (callers hold the lock)."""
        for pattern, fault in self._faults.items():
            if fnmatch.fnmatchcase(path, pattern) and fault.times != 0:
                if fault.times is not None:
                    fault.times -= 1
                return fault.answer
        return None

    def _take_lfs_failure(self) -> bool:
        with self._lock:
            if self._lfs_failures is None:
                return True
            if self._lfs_failures > 0:
                self._lfs_failures -= 1
                return True
            return False

    def _record_dropped(self, method: str, raw_path: str, query: str, headers, body: bytes) -> None:
        with self._lock:
            self._log.append(HubRequest(method, raw_path, query, tuple(headers.items()), body, None))


# -- git objects, trees, parsing ---------------------------------------------------------------


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _lfs_pointer(data: bytes) -> bytes:
    return (f"version https://git-lfs.github.com/spec/v1\noid sha256:{hashlib.sha256(data).hexdigest()}\n"
            f"size {len(data)}\n").encode()


def _file_entry(path: str, data: bytes, lfs: bool) -> dict:
    """A tree entry as the Hub lists it: an LFS file's oid is its pointer's blob oid, its sha256 under `lfs`."""
    if not lfs:
        return {"type": "file", "oid": _git_blob_oid(data), "size": len(data), "path": path}
    pointer = _lfs_pointer(data)
    return {"type": "file", "oid": _git_blob_oid(pointer), "size": len(data), "path": path,
            "lfs": {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": len(pointer)}}


@functools.lru_cache(maxsize=256)  # commits are immutable
def _entries(commit: Commit) -> dict[str, dict]:
    """path -> tree entry for every file and folder of `commit`, sorted by path (do not mutate: cached)."""
    entries = {p: _file_entry(p, d, p in commit.lfs) for p, d in commit.files.items()}
    children: dict[str, list[str]] = {}
    for path in commit.files:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            folder, child = "/".join(parts[:depth]), "/".join(parts[: depth + 1])
            if child not in children.setdefault(folder, []):
                children[folder].append(child)
    for folder in sorted(children, key=lambda f: -f.count("/")):  # deepest first: a folder's oid hashes its children
        listing = "".join(f"{c.rsplit('/', 1)[-1]} {entries[c]['oid']}\n" for c in sorted(children[folder]))
        entries[folder] = {"type": "directory", "oid": hashlib.sha1(b"tree\n" + listing.encode()).hexdigest(),
                           "size": 0, "path": folder}
    return dict(sorted(entries.items()))


def _checked_path(path: str) -> str:
    if not path or path.startswith("/") or any(part in ("", ".", "..") for part in path.rstrip("/").split("/")):
        raise _HubError(400, f"Invalid path in commit: {path!r}")
    return path


def _json(body: bytes):
    try:
        value = json.loads(body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _HubError(400, f"Invalid JSON body: {e}")
    if not isinstance(value, dict):
        raise _HubError(400, "The JSON body must be an object")
    return value


def _front_matter(content: str) -> tuple[dict | None, list[str]]:
    """(metadata, errors) of a README's YAML block; (None, []) when it has none."""
    match = re.match(r"---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(\r?\n|$)", content, re.DOTALL)
    if match is None:
        return None, []
    try:
        metadata = yaml.safe_load(match.group(1) or "")
    except yaml.YAMLError as e:
        return None, [f"Invalid YAML in README.md: {e}"]
    if metadata is None:
        return {}, []
    if not isinstance(metadata, dict):
        return None, ["The YAML metadata of README.md must be a mapping"]
    return metadata, []


def _byte_range(value: str | None, size: int):
    """(start, end) inclusive for a single `bytes=` range, "unsatisfiable", or None to send everything."""
    match = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", value or "")
    if match is None or match.groups() == ("", ""):
        return None
    start, end = match.groups()
    if start == "":  # the last `end` bytes
        start, end = max(0, size - int(end)), size - 1
    else:
        start, end = int(start), min(int(end), size - 1) if end else size - 1
    if start >= size or start > end:
        return "unsatisfiable"
    return start, end


def _handler_for(server: HubServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else each answer (headers, then body) waits ~40 ms for a delayed ACK

        def _read_body(self, limit: int | None = None) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass  # trailers
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                    if limit is not None and sum(map(len, chunks)) >= limit:
                        return b"".join(chunks)
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length if limit is None else min(limit, length))

        def _handle(self, method: str) -> None:
            raw_path, _, query = self.path.partition("?")
            if method == "PUT" and raw_path.startswith("/lfs-upload/") and server._take_lfs_failure():
                # The network failing mid-upload: take half the body, then hang up without an answer
                half = int(self.headers.get("Content-Length") or 2) // 2
                server._record_dropped(method, raw_path, query, self.headers, self._read_body(limit=half))
                self.close_connection = True
                return
            answer = server._answer(method, raw_path, query, self.headers, self._read_body())
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(answer.body)

        def do_GET(self):  # noqa: N802
            self._handle("GET")

        def do_HEAD(self):  # noqa: N802
            self._handle("HEAD")

        def do_POST(self):  # noqa: N802
            self._handle("POST")

        def do_PUT(self):  # noqa: N802
            self._handle("PUT")

        def do_DELETE(self):  # noqa: N802
            self._handle("DELETE")

        def do_PATCH(self):  # noqa: N802
            self._handle("PATCH")

        def log_message(self, format, *args):  # keep test output clean
            pass

    return Handler
