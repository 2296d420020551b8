"""Staging (`publish --dry-run`): the Hub tree on disk, readable by `load_dataset`, resumable."""

import hashlib
import importlib.util
import json
import os
import re
from pathlib import Path

import datasets
import duckdb
import imageio.v3 as iio
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub import DatasetCard

import moving_mnist
from moving_mnist_cli import main
from moving_mnist_hub import pictures, staging
from helpers import cli_fails

SIZES = {"num_train": 40, "num_validation": 8, "num_test": 16}
SETS = [arg for key, value in SIZES.items() for arg in ("--set", f"{key}={value}")]


def _argv(mnist_dir, tmp_path, names=("classic", "notebook")):
    return [
        "publish", *names, "--repo-id", "alice/moving-mnist", "--dry-run", *SETS,
        "--data-dir", str(mnist_dir), "--cache-dir", str(tmp_path / "cache"), "--stage", str(tmp_path / "stage"),
    ]


@pytest.fixture
def args(mnist_dir, tmp_path):
    """A dry-run publish of small classic and notebook configs; the stage is tmp_path / "stage"."""
    return _argv(mnist_dir, tmp_path)


def _local(name, mnist_dir, tmp_path, **overrides):
    return moving_mnist.load(name, data_dir=str(mnist_dir), cache_dir=str(tmp_path / "cache"), **SIZES, **overrides)


def _files(stage):
    return sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())


def test_stage_holds_exactly_the_hub_tree(args, tmp_path, capsys):
    assert main(args) == 0
    assert "dry run: nothing pushed" in capsys.readouterr().out
    figures = [f"previews/{name}/{figure}" for name in ("classic", "notebook") for figure in pictures.STATS_FILES]
    shards = [f"{name}/{split}-00000-of-00001.parquet" for name in ("classic", "notebook")
              for split in ("test", "train", "validation")]
    assert _files(tmp_path / "stage") == sorted(
        [staging.MANIFEST, "README.md", "previews/classic.gif", "previews/notebook.gif", *figures, *shards]
    )


def test_load_dataset_of_the_stage_equals_the_local_build(args, mnist_dir, tmp_path):
    main(args)
    for name in ("classic", "notebook"):
        local = _local(name, mnist_dir, tmp_path)
        staged = datasets.load_dataset(str(tmp_path / "stage"), name, cache_dir=str(tmp_path / "read"))
        assert list(staged) == list(local) == ["train", "validation", "test"]
        for split in local:
            assert staged[split].features == local[split].features
            assert staged[split].data.table.equals(local[split].data.table), (name, split)


@pytest.mark.parametrize("name", ["cifar10", "crowded", "numbers"])
def test_rgb_and_annotated_configs_load_from_the_stage_as_the_local_build(name, request, mnist_dir, tmp_path):
    data_dir = request.getfixturevalue("test_cifar") if name == "cifar10" else mnist_dir
    # crowded with 3 objects each: its statistics figures refuse the absent objects' positions
    fixed = {"num_objects": 3} if name == "crowded" else {}
    sets = [arg for key, value in fixed.items() for arg in ("--set", f"{key}={value}")]
    assert main([*_argv(data_dir, tmp_path, [name]), *sets]) == 0
    local = _local(name, data_dir, tmp_path, **fixed)
    kinds = {type(feature).__name__ for feature in local["train"].features.values()}
    assert {"cifar10": "Array4D", "crowded": "Array2D", "numbers": "List"}[name] in kinds  # RGB, boxes, digit lists
    staged = datasets.load_dataset(str(tmp_path / "stage"), name, cache_dir=str(tmp_path / "read"))
    assert list(staged) == list(local)
    for split in local:
        assert staged[split].features == local[split].features
        assert staged[split].data.table.equals(local[split].data.table), (name, split)


def _readme_snippets() -> list[str]:
    """The code blocks of the README's section on reading the shards without `datasets`."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("### Reading the shards without `datasets`", 1)[1].split("\n#", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_readmes_lines_read_the_shards_into_the_local_builds_frames(args, mnist_dir, tmp_path, monkeypatch):
    main([*args, "--max-shard-size", "1MB"])  # several shards, read back in order
    assert len(list((tmp_path / "stage" / "classic").glob("train-*.parquet"))) > 1
    local = _local("classic", mnist_dir, tmp_path)["train"].with_format("numpy")[:]  # the Arrow cache's rows
    snippets = _readme_snippets()
    assert len(snippets) == 2  # pyarrow, polars
    monkeypatch.chdir(tmp_path / "stage")  # the repository's tree, as `hf download` leaves it
    for snippet in snippets:
        namespace = {}
        exec(snippet, namespace)
        for field in ("input_frames", "output_frames"):
            frames = namespace[field]
            assert frames.dtype == np.uint8 and frames.shape == (40, 10, 64, 64), snippet
            assert frames.tobytes() == local[field].astype(np.uint8).tobytes(), (snippet, field)


def test_duckdb_reads_the_local_builds_rows(args, mnist_dir, tmp_path):
    main(args)
    local = _local("classic", mnist_dir, tmp_path)["test"]
    shard = tmp_path / "stage" / "classic" / "test-00000-of-00001.parquet"
    table = pa.table(duckdb.sql(f"SELECT * FROM '{shard}' ORDER BY index"))
    assert table.column_names == list(local.features)
    assert table.to_pylist() == local.to_list()


def test_shards_follow_max_shard_size_and_keep_every_row_in_order(args, mnist_dir, tmp_path):
    local = _local("classic", mnist_dir, tmp_path)
    per_row = local["train"].data.nbytes // local["train"].num_rows
    assert main([*args, "--max-shard-size", str(per_row * 15)]) == 0  # 15 rows a shard at most
    names = sorted(p.name for p in (tmp_path / "stage" / "classic").glob("train-*"))
    assert names == [f"train-{i:05d}-of-00005.parquet" for i in range(5)]
    rows = [pq.read_metadata(tmp_path / "stage" / "classic" / n).num_rows for n in names]
    assert rows == [8] * 5  # a random block cut into equal power-of-two parts: 8 rows, the most up to 15
    staged = datasets.load_dataset(str(tmp_path / "stage"), "classic", cache_dir=str(tmp_path / "read"))
    assert staged["train"].data.table.equals(local["train"].data.table)


def test_parquet_settings_are_the_documented_ones(args, tmp_path):
    main([*args, "--set", "num_train=100"])
    metadata = pq.read_metadata(tmp_path / "stage" / "classic" / "train-00000-of-00001.parquet")
    # a classic row's fixed-size values: frames, positions (20, 2, 2) int16, labels and index int64, source_indices int32
    row_bytes = 2 * 10 * 64 * 64 + 20 * 2 * 2 * 2 + 2 * 8 + 2 * 4 + 8
    per_group = 2**22 // row_bytes
    assert staging.ROW_GROUP_BYTES == 2**22 and per_group == 51
    assert [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)] == [51, 49]
    frames = metadata.row_group(0).column(0)
    assert frames.path_in_schema == "input_frames.list.element.list.element.list.element"
    assert frames.compression == "ZSTD"
    assert "RLE_DICTIONARY" not in frames.encodings and "PLAIN_DICTIONARY" not in frames.encodings
    assert not frames.is_stats_set  # statistics of pixels help no reader
    index = [metadata.row_group(0).column(i) for i in range(metadata.num_columns)][-1]
    assert index.path_in_schema == "index" and index.is_stats_set
    assert (index.statistics.min, index.statistics.max) == (0, 50)


def test_arrays_are_stored_as_fixed_size_lists_of_values_that_are_never_null(args, tmp_path):
    main(args)
    shard = tmp_path / "stage" / "classic" / "train-00000-of-00001.parquet"
    schema = pq.read_schema(shard)
    value = pa.field("item", pa.uint8(), nullable=False)
    for size in (64, 64, 10):
        value = pa.field("item", pa.list_(value, size), nullable=False)
    assert schema.field("input_frames") == pa.field("input_frames", value.type, nullable=False)
    assert schema.field("labels").type == pa.list_(pa.int64(), 2)  # not an array: as datasets stores it
    frames = pq.ParquetFile(shard).schema.column(0)  # required lists: only the three list levels are recorded
    assert (frames.max_definition_level, frames.max_repetition_level) == (3, 3)


def test_variable_counts_and_turned_sprites_stage_with_every_figure(mnist_dir, tmp_path, capsys):
    # crowded: 3-8 objects (padding in positions and labels); mmnist_pp: 1-3 objects in boxes larger than a digit
    argv = _argv(mnist_dir, tmp_path, names=("crowded", "mmnist_pp"))
    assert main(argv) == 0, capsys.readouterr().err
    for name in ("crowded", "mmnist_pp"):
        figures = sorted(p.name for p in (tmp_path / "stage" / "previews" / name).iterdir())
        assert figures == sorted(pictures.STATS_FILES), figures
    card = (tmp_path / "stage" / "README.md").read_text()
    assert "mmnist_pp" in card and "crowded" in card


def test_a_rerun_keeps_the_staged_shards(args, tmp_path, capsys):
    main(args)
    shard = tmp_path / "stage" / "classic" / "train-00000-of-00001.parquet"
    before = shard.stat()
    capsys.readouterr()
    main(args)
    assert "classic: already staged, kept" in capsys.readouterr().out
    after = shard.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_changed_parameters_restage_the_config(args, tmp_path):
    main(args)
    shard = tmp_path / "stage" / "classic" / "train-00000-of-00001.parquet"
    before = shard.read_bytes()
    main([*args, "--set", "seed=1"])
    assert shard.read_bytes() != before


def test_a_truncated_shard_or_leftover_partial_folder_is_not_trusted(args, tmp_path, capsys):
    main(args)
    stage = tmp_path / "stage"
    shard = stage / "classic" / "test-00000-of-00001.parquet"
    good = shard.read_bytes()
    shard.write_bytes(good[: len(good) // 2])  # an interrupted copy
    (stage / ".notebook.partial").mkdir()  # an interrupted run's working folder
    (stage / ".notebook.partial" / "train-00000-of-00001.parquet").write_bytes(b"half")
    capsys.readouterr()
    main(args)
    assert "classic: already staged" not in capsys.readouterr().out
    assert shard.read_bytes() == good
    assert not (stage / ".notebook.partial").exists()


def test_staged_bytes_do_not_depend_on_the_number_of_processes(args, tmp_path):
    main(args)
    first = {p: (tmp_path / "stage" / p).read_bytes() for p in _files(tmp_path / "stage") if p.endswith(".parquet")}
    again = [a if a != str(tmp_path / "stage") else str(tmp_path / "stage2") for a in args]
    again = [a if a != str(tmp_path / "cache") else str(tmp_path / "cache2") for a in again]
    main([*again, "--num-proc", "2"])
    assert {p: (tmp_path / "stage2" / p).read_bytes() for p in first} == first


def test_the_cards_regenerate_command_rebuilds_identical_files(args, mnist_dir, tmp_path):
    main(args)
    card = (tmp_path / "stage" / "README.md").read_text()
    command = re.search(r"^moving-mnist (publish .*classic .*)$", card, re.M).group(1).split()
    out = tmp_path / "again"
    main([*command, "--data-dir", str(mnist_dir), "--cache-dir", str(tmp_path / "c2"), "--stage", str(out)])
    for path in _files(out):
        if path.startswith(("classic/", "previews/classic")):
            assert (out / path).read_bytes() == (tmp_path / "stage" / path).read_bytes(), path


@pytest.mark.parametrize(
    "change, words",
    [
        (["--repo-id", "alice/bad name"], ["--repo-id", "'alice/bad name'"]),
        (["--repo-id", "no-namespace"], ["--repo-id", "ORG/NAME"]),
        (["--repo-id", "a/b/c"], ["--repo-id", "'a/b/c'"]),
        (["--max-shard-size", "lots"], ["--max-shard-size", "'lots'", "500MB"]),
        (["--max-shard-size", "0"], ["--max-shard-size", "'0'"]),
        (["--max-shard-size", "1"], ["--max-shard-size '1' must be a size of at least 1MB (1000000 bytes)"]),
        (["--max-shard-size", "999KB"], ["--max-shard-size '999KB'", "at least 1MB"]),
        (["--num-proc", "0"], ["--num-proc", "0"]),
        (["--set", "seed=-1"], ["seed=-1", "from 0 to"]),
    ],
)
def test_bad_options_print_one_line_exit_2_and_build_nothing(args, tmp_path, change, words, capsys):
    err = cli_fails([*args, *change], capsys)
    assert all(word in err for word in words), err
    assert not (tmp_path / "stage").exists()


def test_unknown_or_repeated_configs_are_refused(mnist_dir, tmp_path, capsys):
    assert "'nope'" in cli_fails(_argv(mnist_dir, tmp_path, ["classic", "nope"]), capsys)
    assert "once" in cli_fails(_argv(mnist_dir, tmp_path, ["classic", "classic"]), capsys)
    assert not os.path.exists(tmp_path / "stage")


def test_the_card_says_which_preset_parameters_were_changed(args, tmp_path):
    main(args)
    card = DatasetCard((tmp_path / "stage" / "README.md").read_text()).data
    descriptions = {g["config_name"]: g["description"] for g in card["generation"]}
    assert descriptions["classic"] == (
        moving_mnist.PRESETS["classic"].description
        + " Changed from the preset: num_train=40, num_validation=8, num_test=16."
    )
    assert descriptions["notebook"].endswith("Changed from the preset: num_train=40, num_validation=8, num_test=16.")


def test_staged_previews_show_the_first_8_sequences_of_the_first_split(args, tmp_path):
    main(args)
    for name, frames in (("classic", 20), ("notebook", 40)):
        gif = iio.imread(tmp_path / "stage" / "previews" / f"{name}.gif", index=None)
        tile = 64 * 2 + 2 * pictures.BORDER
        assert gif.shape[:3] == (frames, pictures.HEADER_HEIGHT + 8 * tile, tile), name


# -- the stage is the publisher's: nothing else in it is touched ------------------------------------


def test_a_folder_the_publisher_did_not_make_is_refused_and_left_alone(args, tmp_path, capsys):
    stage = tmp_path / "stage"
    (stage / "classic").mkdir(parents=True)
    (stage / "classic" / "thesis.tex").write_text("years of work")
    (stage / "README.md").write_text("my notes")
    err = cli_fails(args, capsys)
    assert err == (
        f"moving-mnist: error: --stage {stage} holds files that moving-mnist did not stage "
        f"(no {staging.MANIFEST}): give a new or empty folder"
    )
    assert _files(stage) == ["README.md", "classic/thesis.tex"]
    assert (stage / "README.md").read_text() == "my notes"


def test_an_empty_folder_becomes_a_stage(args, tmp_path):
    (tmp_path / "stage").mkdir()
    assert main(args) == 0
    assert (tmp_path / "stage" / staging.MANIFEST).is_file()


def test_a_users_file_inside_a_stage_is_never_overwritten_or_deleted(args, tmp_path, capsys):
    main(args)
    stage = tmp_path / "stage"
    (stage / "classic" / "mine.txt").write_text("mine")
    err = cli_fails([*args, "--set", "seed=1"], capsys)  # restaging classic would replace its folder
    assert err == (
        f"moving-mnist: error: --stage {stage}: classic/mine.txt was not written by moving-mnist: "
        "move it away or give another staging folder"
    )
    assert (stage / "classic" / "mine.txt").read_text() == "mine"


def test_a_stage_inside_the_datasets_cache_is_refused(args, tmp_path, capsys):
    for inside in (tmp_path / "cache" / "stage", datasets.config.HF_DATASETS_CACHE / "stage"):
        argv = [a if a != str(tmp_path / "stage") else str(inside) for a in args]
        err = cli_fails(argv, capsys)
        assert err.startswith(f"moving-mnist: error: --stage {inside} overlaps the datasets cache "), err
        assert err.endswith(": give a folder outside it")
        assert not inside.exists()


# -- staged shards are checked by sha256 ------------------------------------------------------------


def test_a_shard_corrupted_inside_is_rewritten_not_kept(args, tmp_path, capsys):
    main(args)
    shard = tmp_path / "stage" / "classic" / "train-00000-of-00001.parquet"
    good = shard.read_bytes()
    middle = len(good) // 2
    shard.write_bytes(good[:middle] + bytes([good[middle] ^ 0xFF]) + good[middle + 1:])  # the footer still reads
    assert pq.read_schema(shard).metadata == pq.read_schema(tmp_path / "stage" / "classic" / "test-00000-of-00001.parquet").metadata
    capsys.readouterr()
    main(args)
    assert "classic: already staged" not in capsys.readouterr().out
    assert shard.read_bytes() == good


def test_the_manifest_records_the_sha256_of_every_staged_file(args, tmp_path):
    main(args)
    stage = tmp_path / "stage"
    manifest = json.loads((stage / staging.MANIFEST).read_text())
    assert sorted(manifest["files"]) == [p for p in _files(stage) if p != staging.MANIFEST]
    for path, sha in manifest["files"].items():
        assert hashlib.sha256((stage / path).read_bytes()).hexdigest() == sha, path
    assert sorted(manifest["configs"]) == ["classic", "notebook"]


def test_editing_the_staging_code_changes_the_shard_identity(tmp_path):
    spec = moving_mnist.PRESETS["classic"].spec
    edited = tmp_path / "staging_edited.py"
    edited.write_text(Path(staging.__file__).read_text().replace("ROW_GROUP_BYTES = 2**22", "ROW_GROUP_BYTES = 2**22  # edited"))
    module_spec = importlib.util.spec_from_file_location("staging_edited", edited)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    assert module.identity(spec, "code", 10**9) != staging.identity(spec, "code", 10**9)
    assert staging.identity(spec, "code", 10**9) == staging.identity(spec, "code", 10**9)


def test_shard_bytes_do_not_depend_on_how_the_rows_are_chunked_in_memory(mnist_dir, tmp_path):
    train = _local("classic", mnist_dir, tmp_path)["train"]
    whole = train.data.table.combine_chunks()
    digests = set()
    for rows in (40, 13, 1):  # as a build, a Dask task's chunks or a stream would hand them over
        tables = [whole.slice(lo, rows) for lo in range(0, 40, rows)]
        chunked = pa.Table.from_batches([batch for table in tables for batch in table.to_batches()])
        for how, given in (("tables", tables), ("chunks", [chunked])):
            path = tmp_path / f"{rows}-{how}.parquet"
            staging.write_shard(given, train.features, path, "id", 0, 1)
            digests.add(hashlib.sha256(path.read_bytes()).hexdigest())
    assert len(digests) == 1


def test_an_array_with_a_null_is_refused_naming_its_field(tmp_path):
    features = datasets.Features({"frames": datasets.Array2D((2, 2), "uint8"), "index": datasets.Value("int64")})
    rows = datasets.Dataset.from_dict({"frames": [[[1, 2], [3, 4]], [[5, 6], [7, None]]], "index": [0, 1]}, features=features)
    with pytest.raises(ValueError, match="field 'frames' holds nulls"):
        staging.write_shard([rows.data.table], features, tmp_path / "a.parquet", "id", 0, 1)


def test_there_are_never_more_shards_than_rows(mnist_dir, tmp_path):
    train = _local("classic", mnist_dir, tmp_path)["train"]
    written = staging.write_shards({"train": train}, tmp_path / "shards", "id", max_shard_size=1)
    assert sorted(written) == [f"train-{i:05d}-of-00040.parquet" for i in range(40)]
    assert [pq.read_metadata(tmp_path / "shards" / name).num_rows for name in sorted(written)] == [1] * 40
