"""Publishing to the Hub (the loopback Hub of tests/hubserver.py, through the real clients)."""

import os
import subprocess
import sys
from pathlib import Path

import datasets
import pytest
from huggingface_hub import DatasetCard, HfApi
from helpers import cli_fails
from hubserver import ALICE_READ_TOKEN, ALICE_TOKEN, BOB_TOKEN

import moving_mnist
from moving_mnist_cli import main
from moving_mnist_hub import push, staging

# huggingface_hub 2.4.0's LFS PUT passes its file object as `data=`, which httpx2 deprecates
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning")

REPO = "alice/moving-mnist"
SIZES = {"num_train": 40, "num_validation": 8, "num_test": 16}
SETS = [arg for key, value in SIZES.items() for arg in ("--set", f"{key}={value}")]


@pytest.fixture
def publish(hub, mnist_dir, tmp_path, monkeypatch, capsys):
    """`publish(*names, *options)`: run `moving-mnist publish` as alice; returns its printed output."""
    monkeypatch.setenv("HF_TOKEN", ALICE_TOKEN)

    def argv(*args, repo=REPO):
        return [
            "publish", *args, "--repo-id", repo, *SETS, "--data-dir", str(mnist_dir),
            "--cache-dir", str(tmp_path / "cache"), "--stage", str(tmp_path / "stage"),
        ]

    def run(*args, repo=REPO):
        main(argv(*args, repo=repo))
        return capsys.readouterr().out

    run.argv = argv  # for cli_fails
    return run


def _local(name, mnist_dir, tmp_path):
    return moving_mnist.load(name, data_dir=str(mnist_dir), cache_dir=str(tmp_path / "cache"), **SIZES)


def _staged(stage: Path, name: str) -> dict[str, bytes]:
    return {
        p.relative_to(stage).as_posix(): p.read_bytes()
        for p in sorted(stage.rglob("*"))
        if p.is_file() and p.relative_to(stage).as_posix().startswith((f"{name}/", f"previews/{name}"))
    }


def test_publish_then_load_dataset_from_the_hub_equals_the_local_build(hub, publish, mnist_dir, tmp_path):
    out = publish("classic")
    assert f"published classic (seed 0) to {REPO}" in out
    local = _local("classic", mnist_dir, tmp_path)
    remote = datasets.load_dataset(REPO, "classic", cache_dir=str(tmp_path / "read"))
    assert list(remote) == ["train", "validation", "test"]
    for split in local:
        assert remote[split].features == local[split].features
        assert remote[split].data.table.equals(local[split].data.table), split


def test_one_commit_holds_exactly_the_staged_tree(hub, publish, tmp_path):
    publish("classic")
    commits = hub.commits(REPO)
    assert [c.title for c in commits] == ["initial commit", "Publish classic (seed 0)"]
    assert "classic: source=mnist, source.classes=None, num_objects=2" in commits[-1].message
    assert "motion=classic, motion.step_length=0.1" in commits[-1].message
    stage = tmp_path / "stage"
    expected = {**_staged(stage, "classic"), "README.md": (stage / "README.md").read_bytes()}
    files = hub.files(REPO)
    assert files.pop(".gitattributes")
    assert files == expected
    assert not any(path.endswith(".py") for path in files)  # a script at the root would make datasets refuse it


def test_the_same_data_again_makes_no_commit_and_says_so(hub, publish):
    publish("classic")
    out = publish("classic")
    assert f"{REPO} already holds exactly this data" in out and "no new commit" in out
    assert len(hub.commits(REPO)) == 2
    assert "already staged, kept" in out  # and nothing was rebuilt or rewritten


def test_a_second_config_keeps_the_first_and_the_card_lists_both(hub, publish, mnist_dir, tmp_path):
    publish("classic")
    classic_files = {p: b for p, b in hub.files(REPO).items() if p.startswith(("classic/", "previews/classic"))}
    (tmp_path / "stage").rename(tmp_path / "elsewhere")  # the second run knows nothing of the first
    publish("notebook")
    files = hub.files(REPO)
    assert {p: b for p, b in files.items() if p.startswith(("classic/", "previews/classic"))} == classic_files
    card = DatasetCard(files["README.md"].decode())
    assert [c["config_name"] for c in card.data["configs"]] == ["classic", "notebook"]
    assert [c["config_name"] for c in card.data["dataset_info"]] == ["classic", "notebook"]
    assert "![classic](previews/classic.gif)" in card.text and "![notebook](previews/notebook.gif)" in card.text
    card.validate(repo_type="dataset")  # the Hub's validate-yaml endpoint
    for name in ("classic", "notebook"):
        remote = datasets.load_dataset(REPO, name, cache_dir=str(tmp_path / "read"))
        assert remote["train"].data.table.equals(_local(name, mnist_dir, tmp_path)["train"].data.table), name


def test_stale_shards_of_a_republished_config_are_deleted(hub, publish, mnist_dir, tmp_path):
    per_row = _local("classic", mnist_dir, tmp_path)["train"].data.nbytes // SIZES["num_train"]
    publish("classic", "--max-shard-size", str(per_row * 15))  # 40 rows, 15 a shard: parts of 8 of a random block
    assert [p for p in hub.files(REPO) if p.startswith("classic/train")] == [
        f"classic/train-{i:05d}-of-00005.parquet" for i in range(5)
    ]
    publish("classic")
    assert [p for p in hub.files(REPO) if p.startswith("classic/train")] == ["classic/train-00000-of-00001.parquet"]
    assert len(hub.commits(REPO)) == 3
    remote = datasets.load_dataset(REPO, "classic", cache_dir=str(tmp_path / "read"))
    assert remote["train"].num_rows == SIZES["num_train"]


def test_private_creates_a_private_repository(hub, publish):
    publish("classic", "--private")
    assert hub.repos[REPO] is True


def test_the_token_is_never_printed_uploaded_or_staged(hub, publish, tmp_path, capsys):
    out = publish("classic")
    publish("notebook")
    assert hub.leaks(ALICE_TOKEN) == []
    assert ALICE_TOKEN not in out
    for path in (tmp_path / "stage").rglob("*"):
        if path.is_file():
            assert ALICE_TOKEN.encode() not in path.read_bytes(), path


def test_scripts_publish_py_publishes(hub, mnist_dir, tmp_path):
    script = Path(__file__).parents[1] / "scripts" / "publish.py"
    result = subprocess.run(
        [sys.executable, str(script), "--repo-id", "lab/mm", "classic", *SETS, "--data-dir", str(mnist_dir),
         "--cache-dir", str(tmp_path / "cache"), "--stage", str(tmp_path / "stage")],
        capture_output=True, text=True, env={**os.environ, "HF_TOKEN": ALICE_TOKEN},
    )
    assert result.returncode == 0, result.stderr
    assert "published classic (seed 0) to lab/mm" in result.stdout
    assert ALICE_TOKEN not in result.stdout + result.stderr
    assert "classic/train-00000-of-00001.parquet" in hub.files("lab/mm")


def test_no_token_exits_2_and_keeps_the_stage(hub, publish, monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("HF_TOKEN")
    err = cli_fails(publish.argv("classic"), capsys)
    assert "no Hugging Face token" in err and "HF_TOKEN" in err
    assert (tmp_path / "stage" / "classic" / "train-00000-of-00001.parquet").is_file()
    assert REPO not in hub.repos


def test_an_invalid_token_exits_2_with_401(hub, publish, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", "hf_not_a_token")
    err = cli_fails(publish.argv("classic"), capsys)
    assert "401" in err and "refused the token" in err
    assert "hf_not_a_token" not in err


@pytest.mark.parametrize("token", [BOB_TOKEN, ALICE_READ_TOKEN])
def test_no_write_permission_exits_2_with_403(hub, publish, monkeypatch, token, tmp_path, capsys):
    HfApi(token=ALICE_TOKEN).create_repo(REPO, repo_type="dataset")
    monkeypatch.setenv("HF_TOKEN", token)
    err = cli_fails(publish.argv("classic"), capsys)
    assert err == (
        f"moving-mnist: error: the token may not write there (403 Forbidden) while committing 9 files to {REPO}: "
        f"use a write token of that namespace" + _kept(tmp_path)
    )
    assert len(hub.commits(REPO)) == 1


def test_a_network_failure_mid_upload_exits_2_and_a_rerun_resumes(hub, publish, tmp_path, capsys):
    hub.fail_lfs_uploads()
    err = cli_fails(publish.argv("classic"), capsys)
    assert "network failure" in err and "run the same command again" in err
    assert len(hub.commits(REPO)) == 1  # nothing half-committed
    shard = tmp_path / "stage" / "classic" / "train-00000-of-00001.parquet"
    staged = shard.stat().st_mtime_ns
    hub.fail_lfs_uploads(0)
    out = publish("classic")
    assert "already staged, kept" in out and "published classic" in out
    assert shard.stat().st_mtime_ns == staged
    assert hub.files(REPO)["classic/train-00000-of-00001.parquet"] == shard.read_bytes()


def _kept(tmp_path) -> str:
    return f"; {tmp_path / 'stage'} is kept: run the same command again to resume"


def test_a_card_that_cannot_be_read_stops_the_publish_and_no_config_is_dropped(hub, publish, tmp_path, capsys):
    publish("classic")
    hub.fail("*/resolve/*/README.md", 500)  # every retry: huggingface_hub then says LocalEntryNotFoundError
    err = cli_fails(publish.argv("notebook"), capsys)
    assert err == (
        f"moving-mnist: error: the Hub answered 500 Internal Server Error while reading README.md of {REPO}: "
        f"Test Hub: injected 500" + _kept(tmp_path)
    )
    assert len(hub.commits(REPO)) == 2
    hub.fail("*/resolve/*/README.md", times=0)
    publish("notebook")
    card = DatasetCard(hub.files(REPO)["README.md"].decode())
    assert [c["config_name"] for c in card.data["configs"]] == ["classic", "notebook"]


def test_a_remote_card_with_invalid_yaml_exits_2_naming_the_file(hub, publish, tmp_path, capsys):
    hub.commit(REPO, {"README.md": b"---\nconfigs: [classic\n---\n# hand-edited\n"})
    head = hub.commits(REPO)[-1].oid
    err = cli_fails(publish.argv("classic"), capsys)
    assert err.startswith(f"moving-mnist: error: README.md of {REPO} (commit {head[:8]}) has invalid YAML metadata (")
    assert err.endswith("): fix it on the Hub, then publish again" + _kept(tmp_path))
    assert len(hub.commits(REPO)) == 2


ENDPOINT_ANSWERS_HTML = "{url} did not answer as the Hugging Face Hub does while {what} ({error}): check HF_ENDPOINT and any proxy"


@pytest.mark.parametrize("fault, message", [
    (("fail", "/api/repos/create", 500),
     "the Hub answered 500 Internal Server Error while creating the dataset repository {repo}: Test Hub: injected 500"),
    (("fail", "/api/datasets/*/tree/*", 503),
     "the Hub answered 503 Service Unavailable while listing the files of {repo}: Test Hub: injected 503"),
    (("fail", "/api/datasets/*/commit/*", 500),
     "the Hub answered 500 Internal Server Error while committing 9 files to {repo}: Test Hub: injected 500"),
    (("fail", "/lfs-upload/*", 500),
     "the Hub answered 500 Internal Server Error while committing 9 files to {repo}: Test Hub: injected 500"),
    (("answer_html", "/api/repos/create"), ENDPOINT_ANSWERS_HTML.format(
        url="{url}", what="creating the dataset repository {repo}",
        error="JSONDecodeError: Expecting value: line 1 column 1 (char 0)")),
    (("answer_html", "/api/datasets/*"), ENDPOINT_ANSWERS_HTML.format(
        url="{url}", what="reading the head commit of {repo}",
        error="JSONDecodeError: Expecting value: line 1 column 1 (char 0)")),
    (("answer_html", "/api/datasets/*/preupload/*"), ENDPOINT_ANSWERS_HTML.format(
        url="{url}", what="committing 9 files to {repo}",
        error="JSONDecodeError: Expecting value: line 1 column 1 (char 0)")),
    (("answer_html", "*.git/info/lfs/objects/batch"), ENDPOINT_ANSWERS_HTML.format(
        url="{url}", what="committing 9 files to {repo}",
        error="JSONDecodeError: Expecting value: line 1 column 1 (char 0)")),
])
def test_every_hub_fault_exits_2_with_one_line_naming_the_call_and_keeps_the_stage(
    hub, publish, tmp_path, capsys, fault, message
):
    HfApi(token=ALICE_TOKEN).create_repo(REPO, repo_type="dataset")
    method, *args = fault
    getattr(hub, method)(*args)
    err = cli_fails(publish.argv("classic"), capsys)
    assert err == "moving-mnist: error: " + message.format(url=hub.url, repo=REPO) + _kept(tmp_path)
    assert len(hub.commits(REPO)) == 1
    assert (tmp_path / "stage" / "classic" / "train-00000-of-00001.parquet").is_file()


def test_a_card_served_as_html_is_not_taken_for_no_card(hub, publish, tmp_path, capsys):
    publish("classic")
    hub.answer_html("*/resolve/*/README.md")
    err = cli_fails(publish.argv("notebook"), capsys)
    assert err.startswith(
        f"moving-mnist: error: {hub.url} did not answer as the Hugging Face Hub does while reading README.md of {REPO} "
        "(LocalEntryNotFoundError: Response from "
    )
    assert err.endswith("check HF_ENDPOINT and any proxy" + _kept(tmp_path))
    assert len(hub.commits(REPO)) == 2


def test_a_staged_file_changed_after_staging_is_never_uploaded(hub, publish, tmp_path):
    publish("classic", "--dry-run")
    HfApi(token=ALICE_TOKEN).create_repo(REPO, repo_type="dataset")
    shard = tmp_path / "stage" / "classic" / "train-00000-of-00001.parquet"
    shard.write_bytes(b"X" + shard.read_bytes()[1:])
    stage = staging.Stage(tmp_path / "stage", caches=[])
    with pytest.raises(push.PushError) as caught:
        push.operations(stage, push.Remote(HfApi(), REPO), ["classic"])
    assert str(caught.value) == (
        f"{shard} changed since it was staged (sha256 differs from {staging.MANIFEST}): "
        "it was not uploaded, and the next run rewrites it"
    )


def test_a_shard_corrupted_between_runs_is_rewritten_before_it_is_pushed(hub, publish, tmp_path, capsys):
    hub.fail("/api/datasets/*/commit/*", 500, times=1)
    cli_fails(publish.argv("classic"), capsys)
    shard = tmp_path / "stage" / "classic" / "train-00000-of-00001.parquet"
    good = shard.read_bytes()
    shard.write_bytes(good[:100] + bytes([good[100] ^ 1]) + good[101:])
    out = publish("classic")
    assert "already staged" not in out and "published classic" in out
    assert hub.files(REPO)["classic/train-00000-of-00001.parquet"] == good


def test_a_build_from_the_checkout_records_its_commit_for_the_card(tmp_path):
    """`pip install .` builds in the checkout: the build hook writes the commit into the package."""
    root = Path(__file__).parents[1]
    git = lambda *args, cwd=root: subprocess.run(  # noqa: E731
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()
    git("clone", "--quiet", str(root), str(tmp_path / "checkout"))  # HEAD, without this tree's edits
    build = tmp_path / "build"
    subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(build)],
                   cwd=tmp_path / "checkout", capture_output=True, check=True)
    installed = subprocess.run(
        [sys.executable, "-c", "from moving_mnist_hub import publish; print(publish.__file__, publish._git_commit())"],
        cwd=tmp_path, capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(build)},
    ).stdout.split()
    assert installed == [str(build / "moving_mnist_hub" / "publish.py"), git("rev-parse", "HEAD")]
