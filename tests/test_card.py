"""The dataset card: Hub metadata, merging with a repository's other configs, and what the body says."""

import dataclasses
import json
import re
from pathlib import Path

import datasets
import numpy as np
import pytest
from datasets.utils.metadata import MetadataConfigs
from huggingface_hub import DatasetCard
from skimage.metrics import structural_similarity

import moving_mnist
from generator import SOURCE_FILES
from generator.spec import flatten
from moving_mnist_hub import card

REPOSITORY = "https://github.com/moving-mnist/moving-mnist"
SIZE_CATEGORIES = json.loads((Path(datasets.__file__).parent / "utils/resources/size_categories.json").read_text())


def _record(name, data_dir, tmp_path, **overrides):
    builder = moving_mnist.MovingMNIST(
        config_name=name, data_dir=str(data_dir), cache_dir=str(tmp_path / "cache"),
        **{"num_train": 6, "num_validation": 2, "num_test": 3, **overrides},
    )
    builder.download_and_prepare()
    info = datasets.DatasetInfo(
        features=builder.info.features, splits=builder.info.splits, download_size=1234,
        dataset_size=builder.info.dataset_size,
    )
    return card.ConfigRecord(
        name, builder.config.description, builder.config.spec, info, "1.0.0", builder.hash, "abc123", REPOSITORY
    )


@pytest.fixture
def classic(mnist_dir, tmp_path):
    return _record("classic", mnist_dir, tmp_path)


@pytest.fixture
def notebook(mnist_dir, tmp_path):
    return _record("notebook", mnist_dir, tmp_path)


def test_yaml_has_the_hub_metadata_a_researcher_searches_by(classic):
    data = DatasetCard(card.render(card.card_data([classic]), "alice/mm")).data
    assert data.license == "cc-by-sa-3.0"
    assert data.pretty_name == "Moving MNIST"
    assert data.size_categories == ["n<1K"] and data.size_categories[0] in SIZE_CATEGORIES
    assert data.source_datasets == ["ylecun/mnist"]
    assert data.task_categories == ["image-to-video"]
    assert {"moving-mnist", "video-prediction", "synthetic", "mnist"} <= set(data.tags)


def test_yaml_lists_data_files_and_dataset_info_per_split(classic):
    data = DatasetCard(card.render(card.card_data([classic]), "alice/mm")).data
    assert MetadataConfigs.from_dataset_card_data(data) == {
        "classic": {
            "data_files": [{"split": s, "path": f"classic/{s}-*"} for s in ("train", "validation", "test")],
            "default": True,
        }
    }
    infos = datasets.info.DatasetInfosDict.from_dataset_card_data(data)
    assert infos["classic"].features == classic.info.features
    assert {s: infos["classic"].splits[s].num_examples for s in infos["classic"].splits} == {
        "train": 6, "validation": 2, "test": 3
    }
    assert infos["classic"].download_size == 1234


def test_generation_records_every_parameter_version_code_and_commit(classic):
    data = DatasetCard(card.render(card.card_data([classic]), "alice/mm")).data
    assert data["generation"] == [{
        "config_name": "classic",
        "description": moving_mnist.PRESETS["classic"].description,
        "parameters": classic.spec.as_dict(),
        "package_version": "1.0.0",
        "code_hash": classic.code_hash,
        "git_commit": "abc123",
        "repository": REPOSITORY,
    }]


def test_size_category_follows_the_largest_config(mnist_dir, tmp_path):
    big = _record("classic", mnist_dir, tmp_path, num_train=1000)
    assert card.card_data([big]).size_categories == ["1K<n<10K"]


def test_merging_keeps_the_repositorys_other_configs(classic, notebook):
    existing = DatasetCard(card.render(card.card_data([classic]), "alice/mm")).data
    merged = card.card_data([notebook], existing=existing)
    assert [c["config_name"] for c in merged["configs"]] == ["classic", "notebook"]
    assert [c["config_name"] for c in merged["dataset_info"]] == ["classic", "notebook"]
    assert [g["config_name"] for g in merged["generation"]] == ["classic", "notebook"]
    assert merged["dataset_info"][0] == existing["dataset_info"] | {"config_name": "classic"}
    assert [c.get("default") for c in merged["configs"]] == [True, None]


def test_republishing_a_config_replaces_its_entries(classic, mnist_dir, tmp_path):
    existing = card.card_data([classic])
    reseeded = _record("classic", mnist_dir, tmp_path, seed=9)
    merged = card.card_data([reseeded], existing=existing)
    assert [g["parameters"]["seed"] for g in merged["generation"]] == [9]
    assert len(merged["configs"]) == 1


def test_body_says_how_to_load_what_each_field_is_and_how_to_regenerate(classic, notebook):
    text = card.render(card.card_data([classic, notebook]), "alice/mm")
    body = text.split("\n---\n", 1)[1]
    for needle in (
        "![classic](previews/classic.gif)", "![notebook](previews/notebook.gif)",
        'load_dataset("alice/mm", "classic")', 'dtype="uint8"', "DataLoader",
        "| `input_frames` | (T_in, H, W) gray, (T_in, 3, H, W) RGB, (T_in, D, D, D) volumes | uint8 |", "| `positions` | (T, K, 2) | int16 |",
        "- `classic`: T_in = 10, T_out = 10, H = W = 64, K = 2, gray",
        "- `notebook`: T_in = 20, T_out = 20, H = W = 64, K = 1, gray",
        "| `seed` | 0 | 0 |", "| `motion.step_length` | 0.1 | 0.5 |", "| `source.classes` | all | all |", "| moving-mnist version | `1.0.0` | `1.0.0` |",
        "| git commit | `abc123` | `abc123` |", f"| code hash | `{classic.code_hash}` |",
        "## No train/test leakage", "## Limitations",
        "previews/classic/frame_differences.png", "previews/notebook/speed.png",
        "srivastava2015unsupervised", "lecun1998gradient",
    ):
        assert needle in body, needle
    sets = _sets(notebook.spec)
    assert "--set motion=notebook --set motion.step_length=0.5 --set motion.edges=bounce --set motion.appear=0.0 --set transform=none --set compositing=max" in sets
    assert f"moving-mnist build notebook {sets}\n" in body
    assert "xiao2017" not in body
    # the fields of these configs only, and every component of each registry, named
    assert "`value`" not in body and "`strokes`" not in body
    for name in ("`classic`", "`notebook`", "`numbers`", "`doodles`", "`cifar10`", "`over`", "`sequential`"):
        assert name in body.split("The components:")[1], name


def _sets(spec) -> str:
    """The `--set` flags of a spec, written out here from its flattened parameters."""
    values = {k: "all" if v is None else (",".join(map(str, v)) or "none") if isinstance(v, list) else v
              for k, v in flatten(spec.as_dict()).items()}
    return " ".join(f"--set {k}={v}" for k, v in values.items())


def test_the_card_links_the_repository_and_installs_the_exact_commit(classic):
    body = card.render(card.card_data([classic]), "alice/mm").split("\n---\n", 1)[1]
    assert f"[moving-mnist]({REPOSITORY})" in body
    sets = _sets(classic.spec)
    assert (
        f'```bash\npip install "git+{REPOSITORY}@abc123"\nmoving-mnist build classic {sets}\n'
        f"moving-mnist publish --repo-id alice/mm classic {sets} --dry-run\n```"
    ) in body


@pytest.mark.parametrize("commit", ["unknown", "abc123-dirty"])
def test_no_install_command_is_given_for_code_no_commit_names(classic, commit):
    record = dataclasses.replace(classic, git_commit=commit)
    body = card.render(card.card_data([record]), "alice/mm")
    assert f"```bash\n# the exact code is unknown (commit {commit}): install moving-mnist 1.0.0\n" in body
    assert "pip install" not in body


def test_the_pytorch_snippet_keeps_frames_uint8(classic):
    body = card.render(card.card_data([classic]), "alice/mm").split("\n---\n", 1)[1]
    snippet = re.search(r"```python\n(import torch\n.*?)```", body, re.S).group(1)
    compile(snippet, "card", "exec")
    assert 'with_format("numpy", columns=["input_frames", "output_frames"], dtype="uint8")' in snippet
    assert "torch.from_numpy(frames)" in snippet


def test_fashion_mnist_configs_carry_its_licence_and_citation(classic, fashion_dir, tmp_path):
    fashion = _record("notebook", fashion_dir, tmp_path, source="fashion_mnist")
    data = card.card_data([fashion])
    assert data.license == SOURCE_FILES["fashion_mnist"].license == "mit"
    assert data.source_datasets == ["zalando-datasets/fashion_mnist"]
    assert "xiao2017fashion" in card.render(data, "alice/mm")
    both = card.card_data([classic], existing=data)
    assert both.license == ["cc-by-sa-3.0", "mit"]
    assert both.source_datasets == ["zalando-datasets/fashion_mnist", "ylecun/mnist"]  # by source name


def test_a_card_published_by_version_1_0_still_parses_and_merges(classic, mnist_dir, tmp_path):
    # version 1.0 recorded flat parameters: step_length on its own, no background
    old = card.card_data([classic])
    flat = {k: v for k, v in flatten(classic.spec.as_dict()).items() if "." not in k and k != "background"}
    old["generation"][0]["parameters"] = {**flat, "step_length": 0.1}
    old = DatasetCard(card.render(old, "alice/mm")).data  # as read back from the Hub

    numbers = _record("numbers", mnist_dir, tmp_path, source={"classes": [1, 3, 5]})
    merged = card.card_data([numbers], existing=old)
    assert [g["config_name"] for g in merged["generation"]] == ["classic", "numbers"]
    assert merged["generation"][0]["parameters"]["step_length"] == 0.1  # kept as it was published
    body = card.render(merged, "alice/mm").split("\n---\n", 1)[1]
    assert "| `motion.step_length` | 0.1 | 0.1 |" in body
    assert "| `source.classes` | all | 1,3,5 |" in body
    assert "| `source.digits_per_number` | - | 3 |" in body
    assert "--set step_length=0.1" in body  # the old record regenerates with the flags of its version
    assert "--set source.classes=1,3,5" in body
    assert "| `value` | (K,) | int64 |" in body and "`value` (2,)" in body


def test_procedural_sprites_carry_no_one_elses_licence(classic, mnist_dir, tmp_path):
    doodles = _record("doodles", mnist_dir, tmp_path)
    data = card.card_data([doodles])
    assert data.license == "cc0-1.0" and data.source_datasets == []
    assert card.card_data([classic], existing=data).license == ["cc-by-sa-3.0", "cc0-1.0"]
    body = card.render(data, "alice/mm")
    assert "Procedural sprites, drawn by the generator from the seed (`doodles`)" in body
    assert "| `strokes` | (K, max_strokes, 8); morphing: (T, K, max_strokes, 8) | float32 |" in body


def test_cifar10_configs_state_no_licence_and_cite_krizhevsky(test_cifar, tmp_path):
    cifar = _record("cifar10", test_cifar, tmp_path)
    data = card.card_data([cifar])
    assert data.license == "unknown" and data.source_datasets == ["uoft-cs/cifar10"]
    body = card.render(data, "alice/mm")
    assert "krizhevsky2009learning" in body and "licence `unknown` (none stated by its authors)" in body
    assert "- `cifar10`: T_in = 10, T_out = 10, H = W = 64, K = 2, RGB" in body


# --- baselines -------------------------------------------------------------------------------------


def _scored(name, data_dir, tmp_path, **overrides):
    """A record with its baselines, scored on its built splits; and those splits."""
    record = _record(name, data_dir, tmp_path, **overrides)
    splits = moving_mnist.MovingMNIST(  # the dataset `_record` built: a cache hit
        config_name=name, data_dir=str(data_dir), cache_dir=str(tmp_path / "cache"),
        **{"num_train": 6, "num_validation": 2, "num_test": 3, **overrides},
    ).as_dataset()
    return dataclasses.replace(record, baselines=card.baselines(splits)), splits


def _frames(ds):
    rows = ds.with_format("numpy", columns=["input_frames", "output_frames"], dtype=np.uint8)[:]
    return rows["input_frames"], rows["output_frames"]


def test_the_card_scores_the_trivial_predictors_on_the_test_split(mnist_dir, tmp_path):
    classic, splits = _scored("classic", mnist_dir, tmp_path)
    inputs, targets = _frames(splits["test"])
    data = DatasetCard(card.render(card.card_data([classic]), "alice/mm")).data
    [entry] = data["baselines"]
    assert (entry["config_name"], entry["split"], entry["num_sequences"]) == ("classic", "test", 3)
    assert list(entry["scores"]) == ["last input frame", "zeros"]
    for predictor, predictions in (("last input frame", np.repeat(inputs[:, -1:], 10, axis=1)),
                                   ("zeros", np.zeros_like(targets))):
        x, y = predictions / 255, targets / 255
        scores = entry["scores"][predictor]
        assert scores["mse_per_frame"] == pytest.approx(((x - y) ** 2).sum(axis=(2, 3)).mean(), rel=1e-5)
        assert scores["mae_per_pixel"] == pytest.approx(np.abs(x - y).mean(), rel=1e-5)
        ssim = np.mean([structural_similarity(t, p, data_range=255, gaussian_weights=True, sigma=1.5,
                                              use_sample_covariance=False)
                        for ps, ts in zip(predictions, targets) for p, t in zip(ps, ts)])
        assert scores["ssim"] == pytest.approx(ssim, rel=1e-5)
    assert entry["scores"]["zeros"]["jaccard_distance"] == 1.0  # no target frame is empty

    body = card.render(data, "alice/mm").split("\n---\n", 1)[1]
    section = body.split("## Baselines\n\n", 1)[1].split("\n## ", 1)[0]
    assert "`classic` (test split, 3 sequences):" in section and "moving-mnist evaluate PRED.npy NAME" in section
    assert "| predictor | `mse_per_pixel` | `mae_per_pixel` | `mse_per_frame` | `mae_per_frame` | `psnr` | `ssim` | `jaccard_distance` |" in section
    zeros = entry["scores"]["zeros"]
    assert f"| zeros | {zeros['mse_per_pixel']:.5f} | {zeros['mae_per_pixel']:.5f} | {zeros['mse_per_frame']:.2f} |" in section


def test_a_config_without_a_test_split_is_scored_on_validation(mnist_dir, tmp_path):
    notebook, _ = _scored("notebook", mnist_dir, tmp_path, num_test=0)
    entry = card.card_data([notebook])["baselines"][0]
    assert (entry["split"], entry["num_sequences"]) == ("validation", 2)


def test_baselines_merge_like_the_configs_and_a_republished_config_drops_its_old_scores(mnist_dir, tmp_path, classic):
    scored, _ = _scored("classic", mnist_dir, tmp_path)
    notebook, _ = _scored("notebook", mnist_dir, tmp_path)
    existing = DatasetCard(card.render(card.card_data([scored]), "alice/mm")).data
    both = card.card_data([notebook], existing=existing)
    assert [b["config_name"] for b in both["baselines"]] == ["classic", "notebook"]
    assert both["baselines"][0] == existing["baselines"][0]
    without = card.card_data([classic], existing=both)  # classic's new data, published without scores
    assert [b["config_name"] for b in without["baselines"]] == ["notebook"]
    assert "## Baselines" not in card.render(card.card_data([classic]), "alice/mm")
