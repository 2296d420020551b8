"""The `moving-mnist` command: presets, build summary, exports, faults and one-line user errors."""

import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import signal
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

import moving_mnist
from generator.spec import spelled
from generator.volumes import VolumeSpec
from moving_mnist_cli import MANIFEST, main
from helpers import cli_fails
from mounts import read_only, small_disk  # noqa: F401 -- fixtures

SMALL = ["--set", "num_train=30", "--set", "num_validation=5", "--set", "num_test=12", "--set", "seed=5"]


@pytest.fixture
def build_args(mnist_dir, tmp_path):
    return [*SMALL, "--data-dir", str(mnist_dir), "--cache-dir", str(tmp_path / "cache")]


def _load(mnist_dir, tmp_path):
    """The same small dataset through the Python API, for comparison."""
    return moving_mnist.load(
        "classic", num_train=30, num_validation=5, num_test=12, seed=5,
        data_dir=str(mnist_dir), cache_dir=str(tmp_path / "cache"),
    )


def test_console_script_is_installed():
    script = shutil.which("moving-mnist", path=os.path.dirname(sys.executable))  # the venv's bin
    assert script, "the moving-mnist console script is not installed"
    result = subprocess.run([script, "configs"], capture_output=True, text=True, check=True)
    assert "classic" in result.stdout and "notebook" in result.stdout


def test_configs_lists_every_parameter_of_every_preset(capsys):
    assert main(["configs"]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines() if line.strip()}
    names = list(moving_mnist.PRESETS)
    assert rows["parameter"] == names
    for name in names:  # every parameter of every component, spelled as --set takes it; "-" where absent
        spec = moving_mnist.PRESETS[name].spec
        column = {key: values[names.index(name)] for key, values in rows.items() if key != "parameter" and ":" not in key}
        if isinstance(spec, VolumeSpec):
            expected = {"cavities": spec.cavities.name, "num_cavities": spelled(spec.num_cavities), "seed": str(spec.seed),
                        "grid_size": str(spec.grid_size), "generation_size": str(spec.generation_size),
                        "threshold": "none", "overlap": spec.overlap, "occupancy": spec.occupancy.name,
                        "source": "-", "image_size": "-", "motion": "-"}
            expected.update((f"cavities.{k}", spelled(v)) for k, v in spec.cavities.parameters().items())
            assert {key: column[key] for key in expected} == expected, name
            continue
        assert column["cavities"] == column["grid_size"] == column["threshold"] == "-"
        expected = {"source": spec.source.name, "motion": spec.motion.name, "compositing": spec.compositing.name,
                    "sampling": spec.sampling.name, "background": spec.background.name, "seed": str(spec.seed),
                    "num_train": str(spec.num_train), "image_size": str(spec.image_size),
                    "num_objects": spelled(spec.num_objects), "annotations": spelled(spec.annotations)}
        for parameter, value in spec.motion.parameters().items():
            assert column[f"motion.{parameter}"] == spelled(value), (name, parameter)
        for key, value in expected.items():
            assert column[key] == value, (name, key)
        for parameter, value in spec.source.parameters().items():
            assert column[f"source.{parameter}"] == spelled(value), (name, parameter)
        assert all(v == "-" for k, v in column.items() if k.startswith("source.") and k[7:] not in spec.source.parameters())


def test_set_reaches_the_parameters_of_components(mnist_dir, tmp_path, capsys):
    argv = ["build", "classic", "--data-dir", str(mnist_dir), "--cache-dir", str(tmp_path), *SMALL,
            "--set", "motion=notebook", "--set", "motion.step_length=0.3", "--set", "source.classes=7,1"]
    assert main(argv) == 0
    builder = moving_mnist.MovingMNIST(config_name="classic", data_dir=str(mnist_dir), cache_dir=str(tmp_path),
                                       **{k: int(v) for k, v in (pair.split("=") for pair in SMALL[1::2])},
                                       motion={"name": "notebook", "step_length": 0.3}, source={"classes": [1, 7]})
    assert builder.config.spec.motion.as_dict() == {"name": "notebook", "step_length": 0.3, "edges": "bounce", "appear": 0.0}
    assert builder.config.spec.source.classes == (1, 7)
    assert f"{builder.config_id}  ->  {builder.cache_dir}" in capsys.readouterr().out  # the same cache entry


def _cli(*argv, **kwargs) -> subprocess.CompletedProcess:
    """`moving-mnist ARGV` in its own process: what a signal or a full disk does to it is seen from outside."""
    return subprocess.run([sys.executable, "-m", "moving_mnist_cli", *argv], capture_output=True, text=True, **kwargs)


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr
    line = result.stderr.strip().splitlines()[-1]  # progress bars may come before it
    assert line.startswith("moving-mnist: error: "), line
    return line


# --- start-up, help, version (case 26, 27) --------------------------------------------------------


def test_importing_the_command_loads_neither_datasets_nor_matplotlib_nor_the_hub_client():
    code = (
        "import sys, moving_mnist_cli\n"
        "for argv in (['--help'], ['build', '--help'], ['configs']):\n"
        "    try:\n"
        "        moving_mnist_cli.main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('datasets', 'matplotlib', 'huggingface_hub', 'imageio') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[-1] == "[]"


def test_version_is_the_installed_package_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"moving-mnist {importlib.metadata.version('moving-mnist')}\n"


@pytest.mark.parametrize("command", ["build", "export", "preview", "stats", "publish"])
def test_help_of_each_command_lists_the_presets(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "NAME" in help_text and "classic, notebook" in help_text


# --- build ----------------------------------------------------------------------------------------


def test_build_prints_splits_rows_shapes_bytes_and_cache_path(build_args, tmp_path, capsys):
    assert main(["build", "classic", *build_args]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "cache") in out
    table = {line.split()[0]: line for line in out.splitlines() if line.split()[:1] in (["train"], ["validation"], ["test"])}
    assert table["train"].split()[1] == "30"
    assert table["validation"].split()[1] == "5"
    assert table["test"].split()[1] == "12"
    assert "(10, 64, 64)" in table["train"] and "(20, 2, 2)" in table["train"]
    assert " MB" in table["train"] and "on disk" in out
    assert out.splitlines()[-1].startswith("total ") and "built in " in out.splitlines()[-1]


def test_build_defaults_to_classic_and_says_cache_hit_when_nothing_was_generated(build_args, capsys, monkeypatch):
    assert main(["build", *build_args]) == 0
    first = capsys.readouterr().out
    assert "cache hit" not in first

    def no_generation(*args, **kwargs):
        raise AssertionError("the second build regenerated the data")

    monkeypatch.setattr(moving_mnist.MovingMNIST, "_generate_examples", no_generation)
    assert main(["build", *build_args]) == 0
    second = capsys.readouterr().out
    assert second.splitlines()[1] == first.splitlines()[1]  # same config and cache path
    assert second.splitlines()[-1].endswith("; cache hit: nothing generated")


def test_build_says_how_much_it_will_write_before_it_starts(build_args, capsys):
    assert main(["build", *build_args]) == 0
    err = capsys.readouterr().err
    spec = moving_mnist.MovingMNIST(config_name="classic", num_train=30, num_validation=5, num_test=12, seed=5).config.spec
    estimate = f"about {moving_mnist.estimated_size(spec) / 1e6:.1f} MB to build into "
    assert estimate in err and err.index(estimate) < err.index("Generating train split")


def _corrupt_one_arrow_file(tmp_path) -> str:
    (victim,) = [p for p in (tmp_path / "cache").rglob("*.arrow") if "-train" in p.name]
    data = bytearray(victim.read_bytes())
    data[-1000] ^= 1
    victim.write_bytes(bytes(data))
    return str(victim)


def test_verify_passes_a_good_cache_and_names_a_corrupt_file_then_rebuild_repairs_it(build_args, tmp_path, capsys):
    assert main(["build", *build_args]) == 0
    capsys.readouterr()
    assert main(["verify", "classic", *build_args]) == 0
    out = capsys.readouterr().out
    assert [line.split()[:2] for line in out.splitlines()[:3]] == [["train", "30"], ["validation", "5"], ["test", "12"]]
    assert all(line.endswith(" ok") for line in out.splitlines()[:3])
    victim = _corrupt_one_arrow_file(tmp_path)
    line = cli_fails(["verify", "classic", *build_args], capsys)
    assert victim in line and "corrupt" in line and "moving-mnist build classic --rebuild" in line
    assert main(["build", "--rebuild", *build_args]) == 0
    assert "cache hit" not in capsys.readouterr().out
    assert main(["verify", "classic", *build_args]) == 0


@pytest.mark.parametrize("command", [
    ["export", "classic", "--format", "npy"],
    ["publish", "classic", "--repo-id", "org/name", "--dry-run"],
])
def test_a_corrupt_cache_is_never_exported_or_published(build_args, tmp_path, capsys, command):
    assert main(["build", *build_args]) == 0
    victim = _corrupt_one_arrow_file(tmp_path)
    where = ["--output", str(tmp_path / "out")] if command[0] == "export" else ["--stage", str(tmp_path / "stage")]
    line = cli_fails([*command, *where, *build_args], capsys)
    assert victim in line and "corrupt" in line
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob("stage/*/*.parquet"))


def test_build_on_a_full_disk_is_one_line_and_leaves_no_dataset(mnist_dir, small_disk):
    cache = small_disk / "cache"
    for num_proc in ("1", "2"):
        result = _cli("build", "--set", "num_train=200", "--set", "num_validation=0", "--set", "num_test=0",
                      "--data-dir", str(mnist_dir), "--cache-dir", str(cache), "--num-proc", num_proc)
        line = _one_line_error(result)
        assert "No space left on device" in line and str(cache) in line, line
        # datasets renames a build into place only when complete: nothing for a later run to trust
        assert [p for p in cache.rglob("*") if p.suffix == ".arrow" or p.name == "dataset_info.json"] == []
        assert [p for p in cache.rglob("*") if p.is_dir() and "incomplete" in p.name] == []


def test_ctrl_c_during_a_build_prints_one_line_and_exits_130(mnist_dir, tmp_path):
    # as a terminal does: SIGINT to the whole process group, workers included
    cache = tmp_path / "cache"
    process = subprocess.Popen(
        [sys.executable, "-m", "moving_mnist_cli", "build", "notebook", "--num-proc", "2",
         "--data-dir", str(mnist_dir), "--cache-dir", str(cache),
         # about 6 s of work and 3.6 GB: long enough to interrupt, small enough for any disk we run on
         "--set", "num_train=20000", "--set", "num_validation=2000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )
    seen = b""
    while not re.search(rb"Generating train split:\s+\d+%\|[^|]*\| [1-9]", seen):  # the workers are sending sequences
        chunk = os.read(process.stderr.fileno(), 4096)
        assert chunk, seen.decode()
        seen += chunk
    os.killpg(process.pid, signal.SIGINT)
    _, rest = process.communicate(timeout=120)
    err = (seen + rest).decode()
    assert process.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err and "Exception ignored" not in err, err
    assert err.strip().splitlines()[-1] == "moving-mnist: interrupted"
    assert [p for p in cache.rglob("*.arrow")] == []


# --- paths ----------------------------------------------------------------------------------------


def test_tilde_in_every_path_option_is_the_home_folder(mnist_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "mnist").symlink_to(mnist_dir)
    paths = ["--data-dir", "~/mnist", "--cache-dir", "~/cache"]
    assert main(["export", "classic", "--format", "npy", "--output", "~/out", *SMALL, *paths]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted([MANIFEST, *_npy("test", "train", "validation")])
    assert (tmp_path / "cache" / "moving_mnist").is_dir()
    assert main(["stats", "classic", "--output", "~/figures", *SMALL, *paths]) == 0
    assert (tmp_path / "figures" / "classic" / "speed.png").is_file()
    assert main(["preview", "classic", "--num", "2", "--output", "~/previews", *SMALL, *paths]) == 0
    assert (tmp_path / "previews" / "classic-train.gif").is_file()
    assert not list(tmp_path.glob("~*")) and not list(tmp_path.rglob("~"))  # no folder named "~" anywhere
    capsys.readouterr()


# --- export ---------------------------------------------------------------------------------------


def _npy(*splits) -> list[str]:
    """The files of a classic npy export: the frames, then one file per other field."""
    fields = ("index", "labels", "positions", "source_indices")
    return sorted([f"{s}.npy" for s in splits] + [f"{s}.{f}.npy" for s in splits for f in fields])


def test_export_npy_is_time_first_like_mnist_test_seq_and_byte_for_byte_np_save(build_args, mnist_dir, tmp_path):
    out = tmp_path / "out"
    assert main(["export", "classic", "--format", "npy", "--output", str(out), *build_args]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, *_npy("test", "train", "validation")])
    truth = _load(mnist_dir, tmp_path)["test"].with_format("numpy")[:]
    for field, dtype in (("labels", np.int64), ("source_indices", np.int32), ("positions", np.int16), ("index", np.int64)):
        values = np.load(out / f"test.{field}.npy")
        assert values.dtype == dtype and np.array_equal(values, truth[field]), field
    expected = _load(mnist_dir, tmp_path)["test"].with_format("numpy", dtype=np.uint8)[:]
    frames = np.load(out / "test.npy")
    assert frames.shape == (20, 12, 64, 64) and frames.dtype == np.uint8
    sequences = np.concatenate([expected["input_frames"], expected["output_frames"]], axis=1)
    np.testing.assert_array_equal(frames, sequences.swapaxes(0, 1))
    np.save(tmp_path / "reference.npy", sequences.swapaxes(0, 1))
    assert (out / "test.npy").read_bytes() == (tmp_path / "reference.npy").read_bytes()


def test_export_parquet_holds_every_field_written_by_the_publishers_writer(build_args, mnist_dir, tmp_path):
    out = tmp_path / "out"
    assert main(["export", "classic", "--format", "parquet", "--output", str(out), *build_args]) == 0
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "test.parquet", "train.parquet", "validation.parquet"]
    table = pq.read_table(out / "train.parquet")
    expected = _load(mnist_dir, tmp_path)["train"]
    assert table.column_names == list(expected.features)
    assert table.to_pylist() == expected.to_list()
    column = pq.ParquetFile(out / "train.parquet").metadata.row_group(0).column(0)
    assert column.compression == "ZSTD"  # the publisher's settings; datasets' to_parquet writes snappy


def test_export_manifest_names_the_config_parameters_code_and_each_files_sha256(build_args, tmp_path):
    out = tmp_path / "out"
    assert main(["export", "classic", "--format", "npy", "--output", str(out), *build_args]) == 0
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["config"] == "classic" and manifest["format"] == "npy"
    assert manifest["parameters"]["seed"] == 5 and manifest["parameters"]["num_train"] == 30
    assert len(manifest["code"]) == 16
    assert sorted(manifest["files"]) == _npy("test", "train", "validation")
    for name, entry in manifest["files"].items():
        data = (out / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    assert manifest["files"]["test.npy"]["sequences"] == 12


def test_reexport_replaces_the_previous_export_whole_and_keeps_the_users_files(build_args, tmp_path):
    out = tmp_path / "out"
    assert main(["export", "classic", "--format", "npy", "--output", str(out), *build_args]) == 0
    (out / "notes.txt").write_text("mine")
    argv = ["export", "classic", "--format", "npy", "--output", str(out), *build_args,
            "--set", "seed=6", "--set", "num_validation=0"]
    assert main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, "notes.txt", *_npy("test", "train")])
    assert (out / "notes.txt").read_text() == "mine"
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["parameters"]["seed"] == 6
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == entry["sha256"]


def test_a_reexport_that_fails_leaves_the_previous_export_untouched(mnist_dir, tmp_path, small_disk):
    # 47 sequences (3.9 MB) fit on the 5 MB disk; a second export of 75 (6.1 MB) cannot, beside the first
    out = small_disk / "out"
    common = ["--data-dir", str(mnist_dir), "--cache-dir", str(tmp_path / "cache"), "--output", str(out)]
    assert _cli("export", "classic", "--format", "npy", *SMALL, *common).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    result = _cli("export", "classic", "--format", "npy", *SMALL, "--set", "seed=6", "--set", "num_test=40", *common)
    line = _one_line_error(result)
    assert "No space left on device" in line and str(small_disk) in line, line
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["out"]  # no temporary folder left


def test_export_npy_on_a_full_disk_is_one_line_and_leaves_no_partial_file(build_args, small_disk):
    out = small_disk / "out"
    result = _cli("export", "classic", "--format", "npy", "--output", str(out), *build_args, "--set", "num_train=100")
    line = _one_line_error(result)
    assert "No space left on device" in line and str(small_disk) in line, line
    assert list(small_disk.iterdir()) == []


def test_export_refuses_a_folder_of_other_files_unless_overwrite(build_args, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "train.npy").write_text("my own train.npy")
    (out / "notes.txt").write_text("mine")
    line = cli_fails(["export", "classic", "--format", "npy", "--output", str(out), *build_args], capsys)
    assert str(out) in line and "--overwrite" in line and "notes.txt" in line, line
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "train.npy"]
    assert (out / "train.npy").read_text() == "my own train.npy"

    assert main(["export", "classic", "--format", "npy", "--output", str(out), "--overwrite", *build_args]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, "notes.txt", *_npy("test", "train", "validation")])
    assert (out / "notes.txt").read_text() == "mine"
    assert np.load(out / "train.npy").shape == (20, 30, 64, 64)


def test_export_into_an_empty_folder_needs_no_overwrite(build_args, tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    assert main(["export", "classic", "--format", "parquet", "--output", str(out), *build_args]) == 0
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "test.parquet", "train.parquet", "validation.parquet"]


# --- one-line errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["build", "nope"], ["nope", "classic", "notebook"]),
        (["build", "clasic"], ["did you mean 'classic'"]),
        (["build", "--set", "colour=red"], ["colour", "unknown key"]),
        (["build", "--set", "seed"], ["seed", "KEY=VALUE"]),
        (["build", "--set", "seed=seven"], ["seed", "int", "seven"]),
        (["build", "--set", "step_length=fast"], ["step_length", "a number", "fast"]),
        (["build", "--set", "motion.colour=1"], ["motion.colour", "unknown key", "motion.step_length"]),
        (["build", "--set", "source.classes=1,x"], ["source.classes", "comma-separated integers", "1,x"]),
        (["build", "--set", "source.classes=1,12"], ["source.classes=12", "0 to 9"]),
        (["build", "--set", "source=numbrs"], ["did you mean 'numbers'"]),
        (["build", "--set", "motion=zigzag"], ["motion", "zigzag", "classic"]),
        (["build", "--set", "num_frames=1"], ["num_frames", "1"]),
        (["build", "--set", "num_input_frames=20"], ["num_input_frames", "num_frames"]),
        (["build", "--num-proc", "0"], ["--num-proc", "0"]),
        (["build", "--data-dir", "/no/such/folder"], ["--data-dir", "/no/such/folder"]),
        (["export", "classic", "--format", "csv", "--output", "x"], ["--format", "csv"]),
    ],
)
def test_user_errors_print_one_line_and_exit_2(argv, words, capsys):
    line = cli_fails(argv, capsys)
    assert line.startswith(("moving-mnist: error:", "moving-mnist build: error:", "moving-mnist export: error:")), line
    for word in words:
        assert word in line, (word, line)


def test_data_dir_without_the_files_is_a_one_line_error(tmp_path, capsys):
    line = cli_fails(["build", *SMALL, "--data-dir", str(tmp_path), "--cache-dir", str(tmp_path / "c")], capsys)
    assert "train-images-idx3-ubyte.gz" in line and str(tmp_path) in line


def test_unwritable_output_is_a_one_line_error(build_args, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    line = cli_fails(["export", "classic", "--format", "npy", "--output", str(blocker / "out"), *build_args], capsys)
    assert str(blocker) in line


def test_every_command_refuses_bad_values_in_exactly_one_line(mnist_dir, tmp_path, read_only, capsys):
    """Nothing is built for any of these: each fails before, in one line of its own and nothing else."""
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("x")
    files_as_cache = tmp_path / "cache-blocked"
    (files_as_cache).mkdir()
    (files_as_cache / "moving_mnist").write_text("a file where datasets wants a folder")
    build = ["--data-dir", str(mnist_dir), "--cache-dir", str(tmp_path / "cache"), *SMALL]
    out = ["--output", str(tmp_path / "out")]
    cases = [
        [], ["nope"], ["--verbose"], ["configs", "extra"],
        ["build", "nope"], ["build", "classic", "notebook"], ["build", "--set", "colour=red"], ["build", "--set", "="],
        ["build", "--set", "seed"], ["build", "--set", "seed=1.5"], ["build", "--set", "seed=-1"],
        ["build", "--set", "step_length=nan"], ["build", "--set", "step_length=2"], ["build", "--set", "source=cifar"],
        ["build", "--set", "image_size=27"], ["build", "--set", "num_train=0", "--set", "num_validation=0",
                                              "--set", "num_test=0"],
        ["build", "--num-proc", "0"], ["build", "--num-proc", "two"], ["build", "--num-proc", "-3"],
        ["build", "--data-dir", "/no/such/folder"], ["build", "--data-dir", str(a_file)], ["build", "--data-dir", ""],
        ["build", "--data-dir", str(tmp_path)], ["build", "--cache-dir", str(a_file)],
        ["build", "--cache-dir", str(a_file / "below")], ["build", "--cache-dir", str(read_only)],
        ["build", "--cache-dir", str(read_only / "new")], ["build", *build, "--cache-dir", str(files_as_cache)],
        ["export", "classic", "--format", "csv", *out], ["export", "classic", "--format", "npy"],
        ["export", "classic", *out], ["export", "nope", "--format", "npy", *out],
        ["export", "classic", "--format", "npy", "--output", str(a_file)],
        ["export", "classic", "--format", "npy", "--output", str(a_file / "out")],
        ["export", "classic", "--format", "npy", "--output", str(read_only)],
        ["export", "classic", "--format", "npy", "--output", str(foreign)],
        ["export", "classic", "--format", "npy", *out, "--set", "motion=zigzag"],
        ["preview", "nope"], ["preview", "classic", "--split", "dev"], ["preview", "classic", "--format", "avi"],
        ["preview", "classic", "--set", "num_validation=0", "--split", "validation"],
        ["preview", "classic", "--num", "0"], ["preview", "classic", "--num", "65"], ["preview", "classic", "--num", "x"],
        ["preview", "classic", "--scale", "0"], ["preview", "classic", "--scale", "17"],
        ["preview", "classic", "--scale", "1000"], ["preview", "classic", "--scale", "2.5"],
        ["preview", "classic", "--fps", "0"], ["preview", "classic", "--fps", "-1"], ["preview", "classic", "--fps", "1e-9"],
        ["preview", "classic", "--fps", "nan"], ["preview", "classic", "--fps", "inf"], ["preview", "classic", "--fps", "1000"],
        ["preview", "classic", "--output", str(a_file)], ["preview", "classic", "--output", str(read_only)],
        ["stats", "classic"], ["stats", "nope", *out], ["stats", "classic", "--output", str(a_file)],
        ["stats", "classic", "--output", str(read_only)],
        ["publish"], ["publish", "nope", "--repo-id", "org/name"], ["publish", "classic"],
        ["publish", "classic", "--repo-id", "no-slash"], ["publish", "classic", "--repo-id", "a/b/c"],
        ["publish", "classic", "--repo-id", "org/name", "--max-shard-size", "lots"],
        ["publish", "classic", "--repo-id", "org/name", "--stage", str(a_file)],
        ["publish", "classic", "--repo-id", "org/name", "--stage", str(read_only)],
        ["publish", "classic", "classic", "--repo-id", "org/name"],
        ["publish", "classic", "--repo-id", "org/name", "--set", "seed=x"],
    ]
    for argv in cases:
        if argv[:1] in (["export"], ["preview"], ["stats"], ["publish"]) and "--data-dir" not in argv:
            argv = [argv[0], *build, *argv[1:]]  # argv's --set last, so that it wins
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        captured = capsys.readouterr()
        assert exit_info.value.code == 2, argv
        assert len(captured.err.splitlines()) == 1, (argv, captured.err)
        assert captured.err.startswith("moving-mnist") and ": error: " in captured.err, (argv, captured.err)
        assert captured.out == "", (argv, captured.out)
    assert (foreign / "keep.txt").read_text() == "x" and sorted(p.name for p in foreign.iterdir()) == ["keep.txt"]
    assert not (tmp_path / "out").exists()
