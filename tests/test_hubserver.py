"""The loopback Hub (tests/hubserver.py) speaks the Hub's protocol: the real huggingface_hub and datasets work on it."""

import base64
import hashlib
import io
import json
import urllib.error
import urllib.request

import datasets
import httpx2
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, HfFileSystem, hf_hub_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    GatedRepoError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    LocalTokenNotFoundError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from hubserver import ALICE_READ_TOKEN, ALICE_TOKEN, BOB_TOKEN

# huggingface_hub 2.4.0's LFS PUT passes its file object as `data=`, which httpx2 deprecates
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning")

REPO = "alice/ds"
README = b"""---
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*.parquet
---
# A small dataset
"""


def parquet_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


TABLE = pa.table({"label": pa.array([3, 1, 4], pa.int64()), "name": ["three", "one", "four"]})
PARQUET = parquet_bytes(TABLE)


@pytest.fixture
def alice() -> HfApi:
    return HfApi(token=ALICE_TOKEN)


@pytest.fixture
def repo(hub, alice) -> str:
    """alice/ds with a README, a Parquet file (LFS) and a text file (regular) in one commit after the initial one."""
    alice.create_repo(REPO, repo_type="dataset")
    alice.create_commit(REPO, [
        CommitOperationAdd("README.md", README),
        CommitOperationAdd("data/train-00000-of-00001.parquet", PARQUET),
        CommitOperationAdd("notes/a.txt", b"alpha\n"),
    ], commit_message="Add data", repo_type="dataset")
    return REPO


def raw(hub, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """(status, headers, body) of one request straight to the server, errors included."""
    request = urllib.request.Request(hub.url + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


# -- accounts and repos ----------------------------------------------------------------------------


def test_whoami_names_the_user_their_orgs_and_the_token_role(hub):
    me = HfApi(token=ALICE_READ_TOKEN).whoami()
    assert (me["name"], me["type"], [org["name"] for org in me["orgs"]]) == ("alice", "user", ["lab"])
    assert me["auth"]["accessToken"]["role"] == "read"
    assert HfApi(token=ALICE_TOKEN).whoami()["auth"]["accessToken"]["role"] == "write"


def test_whoami_with_an_unknown_token_is_401(hub):
    with pytest.raises(HfHubHTTPError, match="Invalid user token") as caught:
        HfApi(token="hf_nobody").whoami()
    assert caught.value.response.status_code == 401


def test_no_token_is_found_anywhere_in_the_test_environment(hub):
    with pytest.raises(LocalTokenNotFoundError):
        HfApi().whoami()
    assert hub.requests == []


def test_a_new_repo_is_public_and_holds_only_the_hubs_gitattributes(hub, alice):
    url = alice.create_repo(REPO, repo_type="dataset")
    assert (url, url.repo_id, url.repo_type) == (f"{hub.url}/datasets/{REPO}", REPO, "dataset")
    assert hub.repos == {REPO: False}
    assert list(hub.files(REPO)) == [".gitattributes"]
    assert b"*.parquet filter=lfs diff=lfs merge=lfs -text\n" in hub.files(REPO)[".gitattributes"]
    assert [(c.title, c.author) for c in hub.commits(REPO)] == [("initial commit", "alice")]


def test_creating_an_existing_repo_is_409_unless_exist_ok(hub, alice):
    alice.create_repo(REPO, repo_type="dataset")
    with pytest.raises(HfHubHTTPError) as caught:
        alice.create_repo(REPO, repo_type="dataset")
    assert caught.value.response.status_code == 409
    assert alice.create_repo(REPO, repo_type="dataset", exist_ok=True) == f"{hub.url}/datasets/{REPO}"
    assert len(hub.commits(REPO)) == 1


def test_a_repo_can_be_created_in_an_org_of_the_token(hub, alice):
    alice.create_repo("lab/shared", repo_type="dataset", private=True)
    assert hub.repos == {"lab/shared": True}


def test_creating_a_repo_in_another_namespace_is_403(hub, alice):
    with pytest.raises(HfHubHTTPError, match='namespace "bob"') as caught:
        alice.create_repo("bob/ds", repo_type="dataset")
    assert caught.value.response.status_code == 403
    assert hub.repos == {}


def test_a_private_repo_is_not_found_without_a_token_of_its_namespace(hub, alice):
    alice.create_repo(REPO, repo_type="dataset", private=True)
    assert HfApi(token=ALICE_READ_TOKEN).dataset_info(REPO).private is True
    for token in (False, BOB_TOKEN):
        with pytest.raises(RepositoryNotFoundError):
            HfApi(token=token).dataset_info(REPO)


def test_repo_info_has_the_head_sha_the_files_and_the_card_data(repo, hub):
    info = HfApi().dataset_info(repo, files_metadata=True)
    head = hub.commits(repo)[-1]
    assert (info.id, info.sha, info.private) == (repo, head.oid, False)
    assert info.card_data["configs"] == [
        {"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*.parquet"}]}]
    siblings = {s.rfilename: (s.size, s.lfs.sha256 if s.lfs else None) for s in info.siblings}
    assert siblings == {
        ".gitattributes": (len(hub.files(repo)[".gitattributes"]), None),
        "README.md": (len(README), None),
        "data/train-00000-of-00001.parquet": (len(PARQUET), hashlib.sha256(PARQUET).hexdigest()),
        "notes/a.txt": (6, None),
    }


def test_repo_info_at_an_older_commit(repo, hub):
    first = hub.commits(repo)[0].oid
    info = HfApi().dataset_info(repo, revision=first)
    assert (info.sha, [s.rfilename for s in info.siblings]) == (first, [".gitattributes"])


def test_a_gated_repo_serves_files_only_to_its_namespace_and_granted_users(hub):
    hub.create_repo("lab/gated", gated=True)
    hub.commit("lab/gated", {"a.txt": b"a\n"}, message="Seed")
    assert HfApi(token=BOB_TOKEN).dataset_info("lab/gated").gated == "auto"
    for token, status in ((False, 401), (BOB_TOKEN, 403)):
        with pytest.raises(GatedRepoError) as caught:
            hf_hub_download("lab/gated", "a.txt", repo_type="dataset", token=token)
        assert caught.value.response.status_code == status
    hub.grant_access("lab/gated", "bob")
    for token in (BOB_TOKEN, ALICE_READ_TOKEN):
        with open(hf_hub_download("lab/gated", "a.txt", repo_type="dataset", token=token), "rb") as f:
            assert f.read() == b"a\n"


def test_list_repo_commits_and_refs(repo, hub):
    api = HfApi()
    assert [(c.commit_id, c.title, c.authors) for c in api.list_repo_commits(repo, repo_type="dataset")] == [
        (c.oid, c.title, ["alice"]) for c in reversed(hub.commits(repo))]
    refs = api.list_repo_refs(repo, repo_type="dataset")
    assert [(b.name, b.target_commit) for b in refs.branches] == [("main", hub.commits(repo)[-1].oid)]


# -- errors mapped to huggingface_hub's exceptions --------------------------------------------------


def test_a_missing_repo_raises_repository_not_found(hub):
    with pytest.raises(RepositoryNotFoundError):
        HfApi().dataset_info("alice/missing")
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("alice/missing", "README.md", repo_type="dataset")


def test_a_missing_revision_raises_revision_not_found(repo, hub):
    with pytest.raises(RevisionNotFoundError):
        HfApi().dataset_info(repo, revision="v2")
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(repo, "README.md", repo_type="dataset", revision="refs/convert/parquet")
    assert hub.requests[-1] == ("HEAD", f"/datasets/{repo}/resolve/refs%2Fconvert%2Fparquet/README.md")


def test_a_missing_file_raises_entry_not_found(repo, hub):
    with pytest.raises(RemoteEntryNotFoundError):
        hf_hub_download(repo, "ds.py", repo_type="dataset")
    status, headers, _ = raw(hub, "HEAD", f"/datasets/{repo}/resolve/main/ds.py")
    head = hub.commits(repo)[-1].oid
    assert (status, headers["X-Error-Code"], headers["X-Repo-Commit"]) == (404, "EntryNotFound", head)


def test_errors_have_the_hubs_json_shape(hub):
    status, headers, body = raw(hub, "GET", "/api/datasets/alice/missing")
    assert (status, headers["X-Error-Code"]) == (404, "RepoNotFound")
    assert headers["X-Error-Message"] == "Repository not found"
    assert json.loads(body) == {"error": "Repository not found"}


def test_an_unknown_endpoint_is_404_and_recorded_as_unexpected(hub):
    status, _, body = raw(hub, "GET", "/api/models/alice/model")
    assert (status, json.loads(body)) == (404, {"error": "Test Hub: no such endpoint: GET /api/models/alice/model"})
    assert hub.unexpected == [("GET", "/api/models/alice/model")]
    hub.reset()  # expected here: keep the fixture's check quiet


# -- authentication and permissions --------------------------------------------------------------


def test_a_write_without_token_is_401(repo, hub):
    with pytest.raises(HfHubHTTPError) as caught:
        HfApi(token=False).upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo, repo_type="dataset")
    assert caught.value.response.status_code == 401
    assert hub.requests[-1] == ("POST", f"/api/datasets/{repo}/preupload/main")


def test_a_write_with_an_unknown_token_is_401(repo, hub):
    with pytest.raises(HfHubHTTPError, match="Invalid credentials in Authorization header") as caught:
        HfApi(token="hf_forged").upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo,
                                             repo_type="dataset")
    assert caught.value.response.status_code == 401


@pytest.mark.parametrize("token", [ALICE_READ_TOKEN, BOB_TOKEN], ids=["read-token", "other-namespace"])
def test_a_write_without_write_access_to_the_namespace_is_403(repo, hub, token):
    with pytest.raises(HfHubHTTPError, match="rights to write") as caught:
        HfApi(token=token).upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=repo, repo_type="dataset")
    assert caught.value.response.status_code == 403
    assert len(hub.commits(repo)) == 2


def test_tokens_travel_only_in_authorization_headers(repo, hub):
    assert hub.leaks(ALICE_TOKEN) == []
    assert {r.user for r in hub.request_log if r.method == "POST"} == {"alice"}


def test_leaks_finds_a_token_written_into_a_file(repo, hub, alice):
    alice.upload_file(path_or_fileobj=f"token: {ALICE_TOKEN}\n".encode(), path_in_repo="oops.txt", repo_id=repo,
                      repo_type="dataset")
    head = hub.commits(repo)[-1].oid
    assert hub.leaks(ALICE_TOKEN) == [f"{repo}@{head[:8]}:oops.txt"]


# -- commits -------------------------------------------------------------------------------------


def test_a_regular_file_is_committed_inline(hub, alice):
    alice.create_repo(REPO, repo_type="dataset")
    hub_calls = len(hub.requests)
    info = alice.create_commit(REPO, [CommitOperationAdd("notes.txt", b"hello\n")], commit_message="Add notes",
                               commit_description="Why", repo_type="dataset")
    head = hub.commits(REPO)[-1]
    assert hub.requests[hub_calls:] == [("POST", f"/api/datasets/{REPO}/preupload/main"),
                                        ("POST", f"/api/datasets/{REPO}/commit/main")]
    assert (info.oid, head.title, head.message, head.author) == (head.oid, "Add notes", "Why", "alice")
    assert (head.files["notes.txt"], head.lfs) == (b"hello\n", frozenset())


def test_an_lfs_file_goes_through_batch_put_and_verify(hub, alice):
    alice.create_repo(REPO, repo_type="dataset")
    hub_calls = len(hub.requests)
    alice.create_commit(REPO, [CommitOperationAdd("data/x.parquet", PARQUET)], commit_message="Add",
                        repo_type="dataset")
    calls = hub.requests[hub_calls:]
    put = calls[2][1]
    assert put.startswith("/lfs-upload/")
    assert calls == [("POST", f"/api/datasets/{REPO}/preupload/main"),
                     ("POST", f"/datasets/{REPO}.git/info/lfs/objects/batch"),
                     ("PUT", put),
                     ("POST", f"/datasets/{REPO}.git/info/lfs/objects/verify"),
                     ("POST", f"/api/datasets/{REPO}/commit/main")]
    assert hub.lfs_objects(REPO) == {hashlib.sha256(PARQUET).hexdigest(): PARQUET}
    assert (hub.files(REPO)["data/x.parquet"], hub.commits(REPO)[-1].lfs) == (PARQUET, frozenset({"data/x.parquet"}))


def test_an_lfs_object_already_stored_is_not_uploaded_again(repo, hub, alice):
    hub_calls = len(hub.requests)
    alice.upload_file(path_or_fileobj=PARQUET, path_in_repo="data/copy.parquet", repo_id=repo, repo_type="dataset")
    assert [m for m, _ in hub.requests[hub_calls:]] == ["POST", "POST", "POST"]  # preupload, batch, commit: no PUT
    assert hub.files(repo)["data/copy.parquet"] == PARQUET


def test_an_unchanged_file_makes_no_commit(repo, hub, alice):
    info = alice.create_commit(repo, [CommitOperationAdd("notes/a.txt", b"alpha\n"),
                                      CommitOperationAdd("data/train-00000-of-00001.parquet", PARQUET)],
                               commit_message="Again", repo_type="dataset")
    assert (len(hub.commits(repo)), info.oid) == (2, hub.commits(repo)[-1].oid)


def test_upload_folder_commits_the_folder_once(hub, alice, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "README.md").write_bytes(README)
    (tmp_path / "data" / "train-00000-of-00001.parquet").write_bytes(PARQUET)
    alice.create_repo(REPO, repo_type="dataset")
    alice.upload_folder(folder_path=tmp_path, repo_id=REPO, repo_type="dataset", commit_message="Publish")
    assert [c.title for c in hub.commits(REPO)] == ["initial commit", "Publish"]
    assert {p: d for p, d in hub.files(REPO).items() if p != ".gitattributes"} == {
        "README.md": README, "data/train-00000-of-00001.parquet": PARQUET}


def test_a_commit_deletes_files_and_folders(repo, hub, alice):
    alice.create_commit(repo, [CommitOperationDelete("README.md"), CommitOperationDelete("notes/")],
                        commit_message="Trim", repo_type="dataset")
    assert sorted(hub.files(repo)) == [".gitattributes", "data/train-00000-of-00001.parquet"]
    assert sorted(hub.files(repo, hub.commits(repo)[-2].oid)) == [
        ".gitattributes", "README.md", "data/train-00000-of-00001.parquet", "notes/a.txt"]


def test_deleting_a_missing_file_raises_entry_not_found(repo, hub, alice):
    with pytest.raises(RemoteEntryNotFoundError, match="A file with this name doesn't exist"):
        alice.delete_file("nope.txt", repo, repo_type="dataset")
    assert len(hub.commits(repo)) == 2


def test_a_stale_parent_commit_is_refused(repo, hub, alice):
    first = hub.commits(repo)[0].oid
    with pytest.raises(HfHubHTTPError) as caught:
        alice.create_commit(repo, [CommitOperationAdd("x.txt", b"x")], commit_message="Late", repo_type="dataset",
                            parent_commit=first)
    assert caught.value.response.status_code == 412
    alice.create_commit(repo, [CommitOperationAdd("x.txt", b"x")], commit_message="On time", repo_type="dataset",
                        parent_commit=hub.commits(repo)[-1].oid)
    assert hub.commits(repo)[-1].title == "On time"


def test_invalid_readme_metadata_is_refused_before_any_upload(hub, alice):
    alice.create_repo(REPO, repo_type="dataset")
    hub_calls = len(hub.requests)
    with pytest.raises(ValueError, match="Invalid metadata in README.md"):
        alice.create_commit(REPO, [CommitOperationAdd("README.md", b"---\nconfigs: [unclosed\n---\n"),
                                   CommitOperationAdd("data/x.parquet", PARQUET)],
                            commit_message="Bad", repo_type="dataset")
    assert hub.requests[hub_calls:] == [("POST", "/api/validate-yaml")]


def lfs_batch(hub, data: bytes) -> str:
    """Announce `data` to alice/ds's LFS batch endpoint; the upload URL it answers."""
    payload = {"operation": "upload", "transfers": ["basic"], "hash_algo": "sha256",
               "objects": [{"oid": hashlib.sha256(data).hexdigest(), "size": len(data)}]}
    status, _, body = raw(hub, "POST", f"/datasets/{REPO}.git/info/lfs/objects/batch", json.dumps(payload).encode(),
                          {"Authorization": f"Bearer {ALICE_TOKEN}", "Content-Type": "application/json"})
    assert status == 200
    return json.loads(body)["objects"][0]["actions"]["upload"]["href"]


@pytest.mark.parametrize("body", [b"tampered!", b"genuine"[:-1]], ids=["other-bytes", "truncated"])
def test_an_lfs_put_that_does_not_match_its_oid_and_size_is_rejected(hub, alice, body):
    alice.create_repo(REPO, repo_type="dataset")
    href = lfs_batch(hub, b"genuine")
    status, _, answer = raw(hub, "PUT", href[len(hub.url):], body)
    assert (status, "does not match the announced object" in json.loads(answer)["error"]) == (400, True)
    assert hub.lfs_objects(REPO) == {}
    assert raw(hub, "PUT", href[len(hub.url):], b"genuine")[0] == 200
    assert hub.lfs_objects(REPO) == {hashlib.sha256(b"genuine").hexdigest(): b"genuine"}


def test_a_commit_naming_an_lfs_object_never_uploaded_is_refused(repo, hub):
    lines = [{"key": "header", "value": {"summary": "Sneaky", "description": ""}},
             {"key": "lfsFile", "value": {"path": "ghost.parquet", "algo": "sha256", "oid": "0" * 64, "size": 5}}]
    status, _, body = raw(hub, "POST", f"/api/datasets/{repo}/commit/main",
                          b"".join(json.dumps(line).encode() + b"\n" for line in lines),
                          {"Authorization": f"Bearer {ALICE_TOKEN}", "Content-Type": "application/x-ndjson"})
    assert (status, "LFS pointer pointed to a file that does not exist" in json.loads(body)["error"]) == (400, True)
    assert len(hub.commits(repo)) == 2


def test_a_parquet_file_sent_inline_instead_of_through_lfs_is_refused(repo, hub):
    lines = [{"key": "header", "value": {"summary": "Inline", "description": ""}},
             {"key": "file", "value": {"path": "x.parquet", "encoding": "base64",
                                       "content": base64.b64encode(PARQUET).decode()}}]
    status, _, body = raw(hub, "POST", f"/api/datasets/{repo}/commit/main",
                          b"".join(json.dumps(line).encode() + b"\n" for line in lines),
                          {"Authorization": f"Bearer {ALICE_TOKEN}"})
    assert (status, json.loads(body)["error"]) == (400, "Your push was rejected: x.parquet must be stored with Git LFS")


# -- the network failing mid-upload --------------------------------------------------------------


def test_lfs_uploads_that_keep_failing_make_the_commit_fail_after_five_retries(hub, alice, backoff_sleeps):
    alice.create_repo(REPO, repo_type="dataset")
    hub.fail_lfs_uploads()
    with pytest.raises(RuntimeError, match="Error while uploading 'data/x.parquet' to the Hub") as caught:
        alice.create_commit(REPO, [CommitOperationAdd("data/x.parquet", PARQUET)], commit_message="Add",
                            repo_type="dataset")
    assert isinstance(caught.value.__cause__, (httpx2.RemoteProtocolError, httpx2.NetworkError))
    assert [m for m, _ in hub.requests].count("PUT") == 6
    assert backoff_sleeps == [1, 2, 4, 8, 8]
    assert (len(hub.commits(REPO)), hub.lfs_objects(REPO)) == (1, {})


def test_one_dropped_lfs_upload_is_retried(hub, alice, backoff_sleeps):
    alice.create_repo(REPO, repo_type="dataset")
    hub.fail_lfs_uploads(1)
    alice.create_commit(REPO, [CommitOperationAdd("data/x.parquet", PARQUET)], commit_message="Add",
                        repo_type="dataset")
    assert [m for m, _ in hub.requests].count("PUT") == 2
    assert backoff_sleeps == [1]
    assert hub.files(REPO)["data/x.parquet"] == PARQUET


# -- injected faults: error statuses and answers that are not the Hub's ------------------------------


def test_an_injected_status_answers_the_next_matching_requests_then_stops(repo, hub, alice, backoff_sleeps):
    hub.fail("*/resolve/*/README.md", 500, times=2)
    assert raw(hub, "GET", f"/datasets/{repo}/resolve/main/README.md")[0] == 500
    assert raw(hub, "GET", f"/datasets/{repo}/resolve/main/notes/a.txt")[0] == 200  # another path: served
    status, headers, body = raw(hub, "HEAD", f"/datasets/{repo}/resolve/main/README.md")
    assert (status, headers["X-Error-Message"]) == (500, "Test Hub: injected 500")
    status, _, body = raw(hub, "GET", f"/datasets/{repo}/resolve/main/README.md")
    assert (status, body) == (200, README)


def test_a_readme_that_keeps_failing_is_a_local_entry_not_found_caused_by_the_500(repo, hub, alice, backoff_sleeps):
    hub.fail("*/resolve/*/README.md", 500)
    before = len(hub.requests)
    with pytest.raises(LocalEntryNotFoundError) as caught:
        alice.hf_hub_download(repo, "README.md", repo_type="dataset")
    assert isinstance(caught.value, EntryNotFoundError)  # what a careless `except EntryNotFoundError` takes for 404
    assert caught.value.__cause__.response.status_code == 500
    assert set(hub.requests[before:]) == {("HEAD", f"/datasets/{repo}/resolve/main/README.md")}
    assert backoff_sleeps == [1, 2, 4, 8, 8]
    hub.fail("*/resolve/*/README.md", times=0)
    assert open(alice.hf_hub_download(repo, "README.md", repo_type="dataset"), "rb").read() == README


def test_an_html_page_instead_of_the_hubs_json_fails_to_decode(repo, hub, alice):
    hub.answer_html("/api/*", times=1)
    status, headers, body = raw(hub, "GET", f"/api/datasets/{repo}")
    assert (status, headers["Content-Type"]) == (200, "text/html") and body.startswith(b"<!DOCTYPE html>")
    hub.answer_html("/api/*")
    with pytest.raises(json.JSONDecodeError):
        alice.repo_info(repo, repo_type="dataset")
    assert open(alice.hf_hub_download(repo, "notes/a.txt", repo_type="dataset"), "rb").read() == b"alpha\n"


# -- reading: trees, downloads, ranges, datasets -------------------------------------------------


def test_list_repo_tree_recursive(repo, hub):
    tree = HfApi().list_repo_tree(repo, repo_type="dataset", recursive=True)
    listed = {e.path: (type(e).__name__, getattr(e, "size", None), e.lfs.sha256 if getattr(e, "lfs", None) else None)
              for e in tree}
    assert listed == {
        ".gitattributes": ("RepoFile", len(hub.files(repo)[".gitattributes"]), None),
        "README.md": ("RepoFile", len(README), None),
        "data": ("RepoFolder", None, None),
        "data/train-00000-of-00001.parquet": ("RepoFile", len(PARQUET), hashlib.sha256(PARQUET).hexdigest()),
        "notes": ("RepoFolder", None, None),
        "notes/a.txt": ("RepoFile", 6, None),
    }


def test_list_repo_tree_of_a_folder_one_level_with_last_commits(repo, hub, alice):
    alice.upload_file(path_or_fileobj=b"beta\n", path_in_repo="notes/deep/b.txt", repo_id=repo, repo_type="dataset")
    add_data, add_b = hub.commits(repo)[1].oid, hub.commits(repo)[2].oid
    tree = HfApi().list_repo_tree(repo, "notes", repo_type="dataset", expand=True)
    assert [(e.path, e.last_commit.oid) for e in tree] == [("notes/a.txt", add_data), ("notes/deep", add_b)]
    assert hub.requests[-1] == ("GET", f"/api/datasets/{repo}/tree/main/notes")


def test_list_repo_tree_of_a_missing_folder_raises_entry_not_found(repo, hub):
    with pytest.raises(RemoteEntryNotFoundError):
        list(HfApi().list_repo_tree(repo, "nowhere", repo_type="dataset"))


def test_get_paths_info_skips_missing_paths(repo, hub):
    infos = HfApi().get_paths_info(repo, ["notes", "README.md", "missing.txt"], repo_type="dataset")
    assert [(type(i).__name__, i.path) for i in infos] == [("RepoFolder", "notes"), ("RepoFile", "README.md")]


def test_hf_hub_download_gets_the_bytes_at_a_revision(repo, hub, alice):
    old = hub.commits(repo)[-1].oid
    alice.upload_file(path_or_fileobj=b"omega\n", path_in_repo="notes/a.txt", repo_id=repo, repo_type="dataset")
    with open(hf_hub_download(repo, "notes/a.txt", repo_type="dataset"), "rb") as f:
        assert f.read() == b"omega\n"
    with open(hf_hub_download(repo, "notes/a.txt", repo_type="dataset", revision=old), "rb") as f:
        assert f.read() == b"alpha\n"
    with open(hf_hub_download(repo, "data/train-00000-of-00001.parquet", repo_type="dataset"), "rb") as f:
        assert f.read() == PARQUET


def test_resolve_answers_a_range_with_206(repo, hub):
    status, headers, body = raw(hub, "GET", f"/datasets/{repo}/resolve/main/data/train-00000-of-00001.parquet",
                                headers={"Range": "bytes=4-11"})
    assert (status, body, headers["Content-Range"]) == (206, PARQUET[4:12], f"bytes 4-11/{len(PARQUET)}")
    assert (headers["ETag"], headers["X-Repo-Commit"]) == (f'"{hashlib.sha256(PARQUET).hexdigest()}"',
                                                           hub.commits(repo)[-1].oid)
    assert raw(hub, "GET", f"/datasets/{repo}/resolve/main/notes/a.txt", headers={"Range": "bytes=-3"})[2] == b"ha\n"
    assert raw(hub, "GET", f"/datasets/{repo}/resolve/main/notes/a.txt", headers={"Range": "bytes=9-"})[0] == 416


def test_hf_file_system_reads_a_byte_range(repo, hub):
    fs = HfFileSystem()
    assert fs.cat_file(f"datasets/{repo}/data/train-00000-of-00001.parquet", start=4, end=12) == PARQUET[4:12]
    ranges = [r.header("Range") for r in hub.request_log if "/resolve/" in r.path and r.method == "GET"]
    assert ranges == [f"bytes=4-{len(PARQUET) - 1}"]  # fsspec reads ahead, to the end of this small file


def test_load_dataset_round_trips_a_parquet_dataset(repo, hub):
    loaded = datasets.load_dataset(repo)
    assert list(loaded) == ["train"]
    assert loaded["train"].data.table.equals(TABLE)


def test_load_dataset_of_a_private_repo_needs_a_token(hub, alice):
    alice.create_repo(REPO, repo_type="dataset", private=True)
    alice.create_commit(REPO, [CommitOperationAdd("README.md", README),
                               CommitOperationAdd("data/train-00000-of-00001.parquet", PARQUET)],
                        commit_message="Add data", repo_type="dataset")
    # Refused first: after a successful load, datasets would quietly fall back to its cache
    with pytest.raises(datasets.exceptions.DatasetNotFoundError):
        datasets.load_dataset(REPO, token=False)
    assert datasets.load_dataset(REPO, token=ALICE_READ_TOKEN)["train"].data.table.equals(TABLE)
