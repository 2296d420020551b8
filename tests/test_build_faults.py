"""Builds under faults: corrupt or truncated caches, full disks, killed builds, bad overrides.

Nothing half-done or altered is ever served: every build records the size and sha256 of its
Arrow files, sizes are checked whenever the data is opened and digests before it is exported or
published; a build that cannot fit is refused before it starts.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import xxhash

import moving_mnist
from generator import ChecksumError, generate
from moving_mnist import DIGESTS_FILE, MovingMNIST
from mounts import small_disk, tmpfs  # noqa: F401 -- fixtures

SMALL = dict(num_train=40, num_validation=10, num_test=20, seed=3)


def _build(mnist_dir, cache, num_proc=None, **overrides) -> MovingMNIST:
    builder = MovingMNIST(config_name="classic", data_dir=str(mnist_dir), cache_dir=str(cache), **{**SMALL, **overrides})
    builder.download_and_prepare(num_proc=num_proc)
    return builder


def _arrow_files(folder) -> list[Path]:
    return sorted(Path(folder).glob("*.arrow"))


# -- the recorded digests ----------------------------------------------------------------------


def test_a_build_records_the_size_and_digest_of_every_arrow_file(mnist_dir, tmp_path):
    builder = _build(mnist_dir, tmp_path, num_proc=2)
    recorded = json.loads((Path(builder.cache_dir) / DIGESTS_FILE).read_text())
    assert sorted(recorded) == ["test", "train", "validation"]
    files = {name: entry for split in recorded.values() for name, entry in split["files"].items()}
    assert sorted(files) == [p.name for p in _arrow_files(builder.cache_dir)]
    for path in _arrow_files(builder.cache_dir):
        assert files[path.name] == {"size": path.stat().st_size, "xxh3_128": xxhash.xxh3_128_hexdigest(path.read_bytes())}
    # a split's digest covers its files, in order
    train = recorded["train"]
    lines = "".join(f"{name} {entry['xxh3_128']}\n" for name, entry in sorted(train["files"].items()))
    assert train["xxh3_128"] == xxhash.xxh3_128_hexdigest(lines.encode())
    assert moving_mnist.check_cache(builder) == {split: entry["xxh3_128"] for split, entry in recorded.items()}


def test_flipped_bytes_in_the_cache_are_found_and_named(mnist_dir, tmp_path):
    builder = _build(mnist_dir, tmp_path)
    victim = next(p for p in _arrow_files(builder.cache_dir) if "-train" in p.name)
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size: only the digest can tell
    victim.write_bytes(bytes(data))
    builder.as_dataset()  # opening checks sizes only; the data is not trusted for export or publish
    with pytest.raises(ChecksumError) as error:
        moving_mnist.check_cache(builder)
    message = str(error.value)
    assert str(victim) in message and "corrupt" in message and "--rebuild" in message


def test_a_truncated_cache_file_is_named_with_how_to_rebuild(mnist_dir, tmp_path):
    builder = _build(mnist_dir, tmp_path)
    victim = next(p for p in _arrow_files(builder.cache_dir) if "-test" in p.name)
    os.truncate(victim, victim.stat().st_size // 3)
    reopened = MovingMNIST(config_name="classic", data_dir=str(mnist_dir), cache_dir=str(tmp_path), **SMALL)
    reopened.download_and_prepare()  # a cache hit: datasets does not look inside
    with pytest.raises(ChecksumError) as error:
        reopened.as_dataset()
    message = str(error.value)
    assert str(victim) in message and "truncated" in message
    assert "moving-mnist build classic --rebuild" in message and "force_redownload" in message


def test_rebuild_replaces_a_corrupt_cache_with_the_same_bytes(mnist_dir, tmp_path):
    builder = _build(mnist_dir, tmp_path)
    before = {p.name: p.read_bytes() for p in _arrow_files(builder.cache_dir)}
    victim = _arrow_files(builder.cache_dir)[0]
    os.truncate(victim, 100)
    ds = moving_mnist.load("classic", data_dir=str(mnist_dir), cache_dir=str(tmp_path), rebuild=True, **SMALL)
    assert {p.name: p.read_bytes() for p in _arrow_files(builder.cache_dir)} == before
    moving_mnist.check_cache(builder)
    assert ds["train"].num_rows == SMALL["num_train"]


def test_a_cache_without_digests_is_not_trusted(mnist_dir, tmp_path):
    builder = _build(mnist_dir, tmp_path)
    (Path(builder.cache_dir) / DIGESTS_FILE).unlink()
    with pytest.raises(ChecksumError, match=f"no readable {DIGESTS_FILE}.*--rebuild"):
        builder.as_dataset()


# -- disk and memory ---------------------------------------------------------------------------


@pytest.mark.parametrize("overrides", [{}, dict(num_objects=3, num_frames=7, num_input_frames=2, image_size=40)])
def test_the_size_estimate_is_within_one_percent_of_the_build(mnist_dir, tmp_path, overrides):
    builder = _build(mnist_dir, tmp_path, **overrides)
    actual = sum(p.stat().st_size for p in _arrow_files(builder.cache_dir))
    assert abs(moving_mnist.estimated_size(builder.config.spec) - actual) < 0.01 * actual


def test_a_build_that_cannot_fit_is_refused_before_it_starts(mnist_dir, tmp_path):
    with tmpfs(tmp_path / "disk", "4m") as disk, pytest.raises(OSError) as error:  # 70 sequences take 6 MB
        _build(mnist_dir, disk)
    message = str(error.value)
    needed = moving_mnist.estimated_size(MovingMNIST(config_name="classic", cache_dir=str(disk), **SMALL).config.spec)
    assert "No space left on device" in message and f"{needed / 1e9:.2f} GB" in message and str(disk) in message
    assert not list((tmp_path / "disk").rglob("*.arrow")) and not list((tmp_path / "disk").rglob("*.incomplete"))


# num_proc=2: two random blocks of small frames, so that two workers write (one block has one worker)
@pytest.mark.parametrize("num_proc, overrides", [(None, {}), (2, dict(num_train=3000, image_size=32, num_frames=4, num_input_frames=2))])
def test_a_disk_that_fills_during_the_build_gives_no_space_left_and_leaves_nothing(
    mnist_dir, small_disk, monkeypatch, num_proc, overrides
):
    monkeypatch.setattr(moving_mnist, "estimated_size", lambda spec: 0)  # as if another program filled the disk
    with pytest.raises(OSError) as error:
        _build(mnist_dir, small_disk, num_proc=num_proc, **overrides)
    assert error.value.errno == 28
    assert "No space left on device" in str(error.value) and str(small_disk) in str(error.value)
    assert not list(small_disk.rglob("*.arrow")) and not list(small_disk.rglob("*.incomplete"))


@pytest.mark.parametrize("image_size, num_frames", [(512, 20), (1024, 10)])
def test_large_frames_build_in_bounded_memory(mnist_dir, tmp_path, image_size, num_frames):
    """Peak memory of a whole build in a fresh process stays far below what 256 sequences would take."""
    script = textwrap.dedent(f"""
        import moving_mnist
        builder = moving_mnist.MovingMNIST(config_name="classic", data_dir={str(mnist_dir)!r},
            cache_dir={str(tmp_path)!r}, image_size={image_size}, num_frames={num_frames}, num_input_frames=5,
            num_train=12, num_validation=0, num_test=0)
        builder.download_and_prepare()
        frames = builder.as_dataset()["train"].with_format("numpy", columns=["output_frames"], dtype="uint8")[11]
        # VmHWM, not ru_maxrss: that one keeps the peak of the forked test process from before exec (TensorFlow and all)
        peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:")).split()[1]
        print(int(peak) // 1024, frames["output_frames"].shape)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    peak_mib = int(out[0])
    assert peak_mib < 1200, f"peak {peak_mib} MiB"  # 256 sequences of these frames would be 1.3-2.7 GB
    assert " ".join(out[1:]) == f"({num_frames - 5}, {image_size}, {image_size})"


# -- killed builds -----------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_a_killed_num_proc_build_leaves_no_orphans_and_the_rebuild_starts_clean(mnist_dir, tmp_path):
    overrides = dict(num_train=6000, num_validation=0, num_test=0, seed=11)
    script = textwrap.dedent(f"""
        import moving_mnist
        moving_mnist.MovingMNIST(config_name="classic", data_dir={str(mnist_dir)!r}, cache_dir={str(tmp_path)!r},
            **{overrides!r}).download_and_prepare(num_proc=2)
    """)
    build = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not any(p.stat().st_size > 0 for p in tmp_path.rglob("*.incomplete/*.arrow")):
            assert build.poll() is None and time.monotonic() < deadline, "the build ended before it could be killed"
            time.sleep(0.02)
        workers = _children(build.pid)
        assert len(workers) >= 2  # the pool workers (and the queue manager of datasets)
        build.send_signal(signal.SIGKILL)
        build.wait()
        deadline = time.monotonic() + 10
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(map(_alive, workers)), "num_proc workers outlived their killed parent"
    finally:
        build.kill()
    stale = list(tmp_path.rglob("*.incomplete/*.arrow"))
    assert stale  # what the killed build left behind

    builder = MovingMNIST(config_name="classic", data_dir=str(mnist_dir), cache_dir=str(tmp_path), **overrides)
    builder.download_and_prepare()  # one process: 525 MB of Arrow, in two shards of at most 500 MB
    names = sorted(p.name for p in Path(builder.cache_dir).iterdir())
    shards = [f"moving_mnist-train-0000{i}-of-00002.arrow" for i in range(2)]
    assert names == sorted(["LICENSE", "dataset_info.json", DIGESTS_FILE, *shards])
    ds = builder.as_dataset()["train"].with_format("numpy", columns=["input_frames"], dtype=np.uint8)
    assert ds.num_rows == 6000
    files = {role: str(mnist_dir / f.name) for role, f in moving_mnist.SOURCE_FILES["mnist"].files.items()}
    pools = {"mnist": moving_mnist._pools(tuple(sorted(files.items())))}
    expected = generate(builder.config.spec, pools, "train", 5990, 6000)
    assert np.array_equal(ds[5990:6000]["input_frames"], expected.frames[:, :10])


# -- overrides and names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("num_train", None, "num_train=None is not allowed"),
        ("seed", None, "seed=None is not allowed"),
        ("motion", None, "motion=None is not allowed"),
        ("source", None, "source=None is not allowed"),
        ("background", None, "background=None is not allowed"),
        ("step_length", None, r"motion.step_length=None must be a number in \(0, 1\]"),
        ("motion", {"step_length": None}, r"motion.step_length=None must be a number in \(0, 1\]"),
    ],
)
def test_a_none_override_is_refused_not_silently_replaced_by_the_preset(key, value, message):
    with pytest.raises(ValueError, match=f"^{message}"):
        MovingMNIST(config_name="classic", **{key: value})
    with pytest.raises(ValueError, match=f"^{message}"):
        moving_mnist.load("classic", **{key: value})


@pytest.mark.parametrize("name", ["../escape", "/tmp/absolute", "a/b", "..", "x..y", ".hidden", "x" * 65])
def test_a_config_name_that_is_not_a_plain_folder_name_is_refused(tmp_path, name):
    cache = tmp_path / "cache"
    with pytest.raises(ValueError) as error:
        MovingMNIST(config_name="classic", name=name, cache_dir=str(cache))
    assert f"name={name!r} is not allowed" in str(error.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]  # nothing written beside the cache


def test_data_dir_is_not_part_of_the_cache_key(mnist_dir, tmp_path):
    """The same verified files give the same data: a build from a folder and one from elsewhere share a cache."""
    first = MovingMNIST(config_name="classic", data_dir=str(mnist_dir), cache_dir=str(tmp_path), **SMALL)
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in mnist_dir.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    second = MovingMNIST(config_name="classic", data_dir=str(copy), cache_dir=str(tmp_path), **SMALL)
    no_dir = MovingMNIST(config_name="classic", cache_dir=str(tmp_path), **SMALL)
    assert first.cache_dir == second.cache_dir == no_dir.cache_dir
    assert "data_dir" not in first.config_id
    assert MovingMNIST(config_name="classic", data_dir=str(copy)).config_id == "classic"


# -- progress ----------------------------------------------------------------------------------


def test_generation_progress_bars_have_totals(mnist_dir, tmp_path):
    script = textwrap.dedent(f"""
        import moving_mnist
        moving_mnist.load("classic", data_dir={str(mnist_dir)!r}, cache_dir={str(tmp_path)!r}, **{SMALL!r})
    """)
    err = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stderr
    for split, size in (("train", 40), ("validation", 10), ("test", 20)):
        assert f"Generating {split} split: 100%" in err and f"{size}/{size}" in err, err
