"""Builds on Dask (`build --engine dask`): the Hub layout straight from the engine, on a local cluster or on a
real scheduler with worker processes; byte-identical to a staging, resumable, pushed by `publish --from`."""

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import fsspec
import pyarrow.parquet as pq
import pytest
from hubserver import ALICE_TOKEN

from generator import BLOCK_SIZE
from helpers import cli_fails
from moving_mnist_cli import main
from moving_mnist_hub import staging

# huggingface_hub 2.4.0's LFS PUT passes its file object as `data=`, which httpx2 deprecates
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>' to upload raw bytes:DeprecationWarning")

REPO = "alice/moving-mnist"
SIZES = {"num_train": 1200, "num_validation": 64, "num_test": 300}
SETS = [arg for key, value in SIZES.items() for arg in ("--set", f"{key}={value}")]
# classic: 87,564 Arrow bytes a sequence, so 1,142 fit in 100MB: train is cut at its first random block
SHARD_SIZE = "100MB"
SHARDS = ["test-00000-of-00001", "train-00000-of-00002", "train-00001-of-00002", "validation-00000-of-00001"]
DASK_BIN = Path(sys.executable).parent  # the `dask` and `moving-mnist` entry points of this environment


def _options(mnist_dir, cache):
    return [*SETS, "--data-dir", str(mnist_dir), "--cache-dir", str(cache), "--max-shard-size", SHARD_SIZE]


def _build_argv(output, mnist_dir, cache, *cluster):
    return ["build", "classic", "--engine", "dask", "--output", str(output), *cluster, "--repo-id", REPO,
            *_options(mnist_dir, cache)]


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _stamps(folder: Path, paths) -> dict[str, tuple[int, int]]:
    return {path: ((folder / path).stat().st_ino, (folder / path).stat().st_mtime_ns) for path in paths}


def _manifest(folder: Path) -> dict:
    return json.loads((folder / staging.MANIFEST).read_text())


@pytest.fixture(scope="module")
def staged(mnist_dir, tmp_path_factory) -> Path:
    """A single-process staging of the config (`publish --dry-run`): the bytes every Dask build must write."""
    folder = tmp_path_factory.mktemp("staged")
    argv = ["publish", "classic", "--repo-id", REPO, "--dry-run", "--stage", str(folder / "stage"),
            *_options(mnist_dir, folder / "cache")]
    assert main(argv) == 0
    return folder / "stage"


@pytest.fixture(scope="module")
def built(mnist_dir, tmp_path_factory) -> Path:
    """The config built on a `LocalCluster` of 2 worker processes (`--num-proc 2`)."""
    folder = tmp_path_factory.mktemp("built")
    assert main(_build_argv(folder / "out", mnist_dir, folder / "cache", "--num-proc", "2")) == 0
    return folder / "out"


@pytest.fixture
def copy_of_built(built, tmp_path) -> Path:
    shutil.copytree(built, tmp_path / "out")
    return tmp_path / "out"


class Cluster:
    """A `dask scheduler` and `dask worker` processes on loopback, started by their command-line entry points."""

    def __init__(self, folder: Path, workers: int):
        self.folder, self.processes = folder, []
        try:
            self._start_all(workers)
        except BaseException:
            self.stop()
            raise

    def _start_all(self, workers: int) -> None:
        scheduler_file = self.folder / "scheduler.json"
        self.scheduler = self._start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                     "--scheduler-file", str(scheduler_file))
        _wait_for(scheduler_file.exists, "the scheduler's address")
        self.address = json.loads(scheduler_file.read_text())["address"]
        # no nanny: a worker is this very process, and a killed one stays dead
        self.workers = [self._start("worker", self.address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                    "--host", "127.0.0.1", "--name", f"w{i}") for i in range(workers)]
        from distributed import Client

        with Client(self.address) as client:
            client.wait_for_workers(workers, timeout=120)

    def _start(self, *args) -> subprocess.Popen:
        log = open(self.folder / f"{args[0]}-{len(self.processes)}.log", "wb")
        process = subprocess.Popen([str(DASK_BIN / "dask"), *args], stdout=log, stderr=log)
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait()


@pytest.fixture
def cluster(tmp_path):
    """A real scheduler and 2 worker processes on loopback."""
    started = Cluster(tmp_path, workers=2)
    yield started
    started.stop()


def _wait_for(condition, what: str, timeout: float = 120):
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"waited {timeout} s for {what}"
        time.sleep(0.02)


# --- the shard plan both paths share ----------------------------------------------------------------


def test_shards_are_whole_random_blocks_when_a_block_fits_in_a_shard():
    row = 87_564  # classic
    # 500MB holds 5,710 rows: 5 blocks; 10,000 rows need 10 blocks, so 2 shards of 5 blocks
    assert staging.shard_plan(10_000, row, 500 * 10**6) == [range(0, 5120), range(5120, 10_000)]
    # 100MB holds 1,142 rows: 1 block
    assert staging.shard_plan(3000, row, 100 * 10**6) == [range(0, 1024), range(1024, 2048), range(2048, 3000)]
    assert all(r.start % BLOCK_SIZE == 0 for r in staging.shard_plan(100_000, row, 10**9))


def test_a_block_larger_than_a_shard_is_cut_in_equal_power_of_two_parts():
    # 1MB holds 11 classic rows: parts of 8 rows, 128 to a block
    plan = staging.shard_plan(2000, 87_564, 10**6)
    assert plan == [range(start, min(start + 8, 2000)) for start in range(0, 2000, 8)]
    assert staging.shard_plan(40, 100, 1500) == [range(i, i + 8) for i in range(0, 40, 8)]  # 15 fit: parts of 8


def test_a_split_that_fits_in_one_shard_is_one_shard_and_never_more_shards_than_rows():
    assert staging.shard_plan(1100, 87_564, 500 * 10**6) == [range(0, 1100)]
    assert staging.shard_plan(5, 10**9, 10**6) == [range(i, i + 1) for i in range(5)]


# --- byte identity -------------------------------------------------------------------------------------


def test_the_staging_cuts_train_at_the_random_block(staged):
    rows = [pq.read_metadata(staged / "classic" / f"{name}.parquet").num_rows for name in SHARDS]
    assert rows == [300, 1024, 176, 64]


def test_a_local_cluster_writes_the_staged_tree_byte_for_byte(built, staged):
    assert sorted(p for p in _tree(built) if p.startswith("classic/")) == [f"classic/{s}.parquet" for s in SHARDS]
    assert _tree(built) == _tree(staged)  # shards, pictures, card and manifest
    assert not list(built.parent.joinpath("cache").rglob("*.arrow"))  # no Arrow cache was written


def test_a_real_scheduler_and_two_worker_processes_write_the_staged_tree(cluster, staged, mnist_dir, tmp_path, capsys):
    assert main(_build_argv(tmp_path / "out", mnist_dir, tmp_path / "cache", "--scheduler", cluster.address)) == 0
    assert "classic: 4 of 4 shards written (0 kept) in " in capsys.readouterr().out
    assert _tree(tmp_path / "out") == _tree(staged)


def test_a_config_whose_chunks_cut_row_groups_is_written_byte_for_byte(cluster, mnist_dir, tmp_path):
    # numbers (128 x 128 frames) generates 64 sequences at a time; its row groups (4 MiB: 12 rows) span chunks
    options = ["--set", "num_train=600", "--set", "num_validation=0", "--set", "num_test=40", "--max-shard-size",
               "150MB", "--data-dir", str(mnist_dir), "--cache-dir", str(tmp_path / "cache")]
    assert main(["publish", "numbers", "--repo-id", REPO, "--dry-run", "--stage", str(tmp_path / "stage"), *options]) == 0
    assert main(["build", "numbers", "--engine", "dask", "--scheduler", cluster.address, "--output",
                 str(tmp_path / "out"), "--repo-id", REPO, *options]) == 0
    shards = [pq.read_metadata(p).num_rows for p in sorted((tmp_path / "stage" / "numbers").glob("train-*"))]
    assert shards == [256, 256, 88]  # 338,528 Arrow bytes a sequence: 443 fit in 150MB, so blocks cut in parts of 256
    assert _tree(tmp_path / "out") == _tree(tmp_path / "stage")


# --- resuming -------------------------------------------------------------------------------------------


def test_a_rerun_keeps_intact_shards_and_rewrites_missing_or_corrupt_ones(copy_of_built, staged, mnist_dir, tmp_path,
                                                                          capsys):
    out = copy_of_built
    (out / "classic" / "train-00000-of-00002.parquet").unlink()
    corrupt = out / "classic" / "test-00000-of-00001.parquet"
    data = bytearray(corrupt.read_bytes())
    data[len(data) // 2] ^= 1  # one bit, same size
    corrupt.write_bytes(data)
    leftover = out / "classic" / f".train-00001-of-00002.parquet.{'0' * 32}.partial"
    leftover.write_bytes(b"half a shard, from a writer that was killed")
    intact = [f"classic/{s}.parquet" for s in ("train-00001-of-00002", "validation-00000-of-00001")]
    before = _stamps(out, intact)
    capsys.readouterr()
    assert main(_build_argv(out, mnist_dir, tmp_path / "cache", "--num-proc", "2")) == 0
    assert "classic: 2 of 4 shards written (2 kept) in " in capsys.readouterr().out
    assert _stamps(out, intact) == before  # not rewritten
    assert not leftover.exists()
    assert _tree(out) == _tree(staged)


def test_a_worker_killed_mid_shard_leaves_nothing_trusted_and_a_resume_gives_the_same_bytes(
    cluster, staged, mnist_dir, tmp_path, capsys
):
    out = tmp_path / "out"
    argv = _build_argv(out, mnist_dir, tmp_path / "cache", "--scheduler", cluster.address)
    build = subprocess.Popen([str(DASK_BIN / "moving-mnist"), *argv], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        def mid_shard():  # a shard recorded, and a worker with a shard's temporary file open
            recorded = out.joinpath(staging.MANIFEST).exists() and any(_manifest(out)["files"].values())
            return recorded and any(_writing(worker.pid, out) for worker in cluster.workers)

        _wait_for(mid_shard, "a worker writing a shard")
        victim = next(worker for worker in cluster.workers if _writing(worker.pid, out))
        os.kill(victim.pid, signal.SIGKILL)
        os.kill(build.pid, signal.SIGKILL)  # the whole build dies with it
    finally:
        build.kill()
        build.wait()
    victim.wait()
    manifest = _manifest(out)
    recorded = {path: digest for path, digest in manifest["files"].items() if digest is not None}
    for path, digest in recorded.items():  # every file trusted has the bytes recorded
        assert hashlib.sha256((out / path).read_bytes()).hexdigest() == digest
    assert 0 < len(recorded) < len(SHARDS)
    assert list((out / "classic").glob(".*.partial"))  # the killed writer's half shard, never recorded
    kept = _stamps(out, recorded)

    capsys.readouterr()
    assert main(argv) == 0  # the worker left finishes the build
    done = f"classic: {len(SHARDS) - len(kept)} of {len(SHARDS)} shards written ({len(kept)} kept) in "
    assert done in capsys.readouterr().out
    assert _stamps(out, kept) == kept
    assert _tree(out) == _tree(staged)


def _writing(pid: int, out: Path) -> bool:
    """Whether process `pid` has a temporary shard file of `out` open."""
    try:
        targets = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
    except OSError:  # the process or one of its files went away while listed
        return False
    return any(t.startswith(str(out)) and t.endswith(".partial") for t in targets)


# --- files that are not ours --------------------------------------------------------------------------------


def test_a_file_it_did_not_write_is_refused_and_kept(copy_of_built, mnist_dir, tmp_path, capsys):
    notes = copy_of_built / "classic" / "notes.txt"
    notes.write_text("mine")
    line = cli_fails(_build_argv(copy_of_built, mnist_dir, tmp_path / "cache"), capsys)
    assert line == (f"moving-mnist: error: --output {copy_of_built}: classic/notes.txt was not written by moving-mnist: "
                    "move it away or give another output folder")
    assert notes.read_text() == "mine"


def test_a_folder_of_other_files_is_refused(mnist_dir, tmp_path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.tex").write_text("mine")
    line = cli_fails(_build_argv(tmp_path / "out", mnist_dir, tmp_path / "cache"), capsys)
    assert line == (f"moving-mnist: error: --output {tmp_path / 'out'} holds files that moving-mnist did not write "
                    f"(no {staging.MANIFEST}): give a new or empty folder")
    assert _tree(tmp_path / "out") == {"thesis.tex": b"mine"}


# --- errors on the command line -----------------------------------------------------------------------------


def test_a_url_of_no_known_filesystem_is_one_line(mnist_dir, tmp_path, capsys):
    line = cli_fails(_build_argv("nosuchfs://bucket/out", mnist_dir, tmp_path / "cache"), capsys)
    assert line == "moving-mnist: error: --output nosuchfs://bucket/out: Protocol not known: nosuchfs"


def test_an_unreachable_scheduler_is_one_line(mnist_dir, tmp_path, capsys):
    import dask

    with socket.socket() as unused:  # a loopback port that nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        line = cli_fails(_build_argv(tmp_path / "out", mnist_dir, tmp_path / "cache", "--scheduler", address), capsys)
    assert line.startswith(f"moving-mnist: error: --scheduler {address}: no Dask scheduler answered (")


@pytest.mark.parametrize(("argv", "message"), [
    (["build", "classic", "--output", "out"], "--output is an option of --engine dask: add --engine dask, or leave it out"),
    (["build", "classic", "--engine", "dask"], "--engine dask writes the Hub layout to --output URL: give one "
                                               "(a folder, s3://..., gs://...)"),
    (["build", "classic", "--engine", "dask", "--output", "out", "--scheduler", "tcp://127.0.0.1:8786", "--num-proc",
      "2"], "--num-proc sizes the local cluster; with --scheduler the cluster's workers do the work: leave --num-proc out"),
    (["publish", "--repo-id", REPO], "publish needs the configs to build (NAME ...), or --from URL with a build to push"),
    (["publish", "classic", "--from", "out", "--repo-id", REPO],
     "publish --from pushes a build as it is: NAME has no use there; leave it out"),
])
def test_options_that_do_not_go_together_are_one_line(argv, message, capsys):
    assert cli_fails(argv, capsys) == f"moving-mnist: error: {message}"


# --- publish --from -------------------------------------------------------------------------------------


def test_publish_from_pushes_the_output_in_one_commit_without_generating(hub, copy_of_built, staged, monkeypatch,
                                                                         capsys):
    monkeypatch.setenv("HF_TOKEN", ALICE_TOKEN)
    shards = [f"classic/{s}.parquet" for s in SHARDS]
    before = _stamps(copy_of_built, shards)
    assert main(["publish", "--from", str(copy_of_built), "--repo-id", REPO]) == 0
    assert f"published classic (seed 0) to {REPO}" in capsys.readouterr().out
    assert [c.title for c in hub.commits(REPO)] == ["initial commit", "Publish classic (seed 0)"]
    files = hub.files(REPO)
    assert files.pop(".gitattributes")
    expected = _tree(staged)
    del expected[staging.MANIFEST]
    assert files == expected  # the card too: rendered again from the output's own, the same
    assert _stamps(copy_of_built, shards) == before


@pytest.fixture
def s3(monkeypatch):
    """An S3 server on loopback (moto's), with a bucket `bucket`; the clients of this process and of the
    workers it starts find it through the AWS_* variables. Returns its filesystem."""
    from moto.server import ThreadedMotoServer
    from s3fs import S3FileSystem

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    for name, value in (("AWS_ENDPOINT_URL", f"http://{host}:{port}"), ("AWS_ACCESS_KEY_ID", "test"),
                        ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    S3FileSystem.clear_instance_cache()  # an instance made for another server would be reused
    fs = S3FileSystem()
    fs.mkdir("bucket")
    yield fs
    S3FileSystem.clear_instance_cache()
    server.stop()


def test_workers_write_to_s3_and_publish_from_pushes_it(s3, hub, staged, mnist_dir, tmp_path, monkeypatch, capsys):
    assert main(_build_argv("s3://bucket/out", mnist_dir, tmp_path / "cache", "--num-proc", "2")) == 0
    s3.invalidate_cache()
    written = {path.removeprefix("bucket/out/"): s3.cat_file(path) for path in s3.find("bucket/out")}
    assert written == _tree(staged)

    monkeypatch.setenv("HF_TOKEN", ALICE_TOKEN)
    assert main(["publish", "--from", "s3://bucket/out", "--repo-id", REPO, "--stage", str(tmp_path / "stage")]) == 0
    files = hub.files(REPO)
    del files[".gitattributes"]
    del written[staging.MANIFEST]
    assert files == written


def test_publish_from_another_filesystem_copies_each_file_checked(hub, built, staged, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", ALICE_TOKEN)
    memory = fsspec.filesystem("memory")
    memory.put(str(built), "/built", recursive=True)
    try:
        assert main(["publish", "--from", "memory://built", "--repo-id", REPO, "--stage", str(tmp_path / "stage")]) == 0
        files = hub.files(REPO)
        del files[".gitattributes"]
        expected = _tree(staged)
        del expected[staging.MANIFEST]
        assert files == expected
        assert _tree(tmp_path / "stage") == _tree(staged)  # the copy is a staging folder like any other

        shard = "/built/classic/validation-00000-of-00001.parquet"
        memory.pipe_file(shard, memory.cat_file(shard)[:-1] + b"!")  # changed after the build
        line = cli_fails(["publish", "--from", "memory://built", "--repo-id", REPO, "--stage",
                          str(tmp_path / "stage2")], capsys)
        assert line == ("moving-mnist: error: --from memory://built: classic/validation-00000-of-00001.parquet no "
                        "longer has the sha256 its manifest records: run the build again, which rewrites it")
    finally:
        memory.rm("/built", recursive=True)


def test_publish_from_an_unfinished_build_is_refused(hub, copy_of_built, monkeypatch, capsys):
    monkeypatch.setenv("HF_TOKEN", ALICE_TOKEN)
    manifest = _manifest(copy_of_built)
    manifest["files"]["classic/train-00001-of-00002.parquet"] = None  # planned, never written
    (copy_of_built / staging.MANIFEST).write_text(json.dumps(manifest))
    line = cli_fails(["publish", "--from", str(copy_of_built), "--repo-id", REPO], capsys)
    assert line == (f"moving-mnist: error: --from {copy_of_built}: the build is not complete (1 of {len(manifest['files'])} "
                    "files not written, such as classic/train-00001-of-00002.parquet): run the same build again to finish it")
    assert ("POST", "/api/repos/create") not in hub.requests
