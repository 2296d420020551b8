"""`moving-mnist export --format coco`: PNG frames and COCO-style JSON that pycocotools reads as the dataset.

Every value is checked against the dataset's own columns, converted here from their definitions: boxes
(x_min, y_min, x_max, y_max), max exclusive, become [x, y, x_max - x_min, y_max - y_min]; object k's
segmentation is `masks == k + 1`.
"""

import hashlib
import json

import imageio.v3 as iio
import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

import moving_mnist
from generator.spec import spelled
from moving_mnist_cli import MANIFEST, main

# pycocotools 2.0 decodes masks with a call numpy 2 deprecates
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")

SMALL = {"num_train": 6, "num_validation": 0, "num_test": 3}


def _set(parameters: dict) -> list[str]:
    """Python API parameters spelled for the command line: `--set num_objects=3,5`."""
    return [arg for key, value in parameters.items() for arg in ("--set", f"{key}={spelled(value)}")]


def _export(name, out, data_dir, cache, **parameters):
    """Export through the command; return the same dataset loaded through the Python API."""
    parameters = {**SMALL, **parameters}
    argv = ["export", name, "--format", "coco", "--output", str(out), "--data-dir", str(data_dir), "--cache-dir", str(cache)]
    assert main([*argv, *_set(parameters)]) == 0
    return moving_mnist.load(name, data_dir=str(data_dir), cache_dir=str(cache), **parameters)


@pytest.fixture(scope="module")
def crowded(tmp_path_factory, mnist_dir):
    """(export folder, dataset) of a small crowded build: 3-8 digits, over, boxes, masks and tracks; 20 train
    sequences, so that a digit is wholly hidden somewhere."""
    folder = tmp_path_factory.mktemp("crowded")
    return folder / "out", _export("crowded", folder / "out", mnist_dir, folder / "cache", num_train=20)


def _columns(ds) -> dict[str, np.ndarray]:
    fields = [f for f in ds.features if f not in ("input_frames", "output_frames")]
    columns = {f: ds.with_format("numpy", columns=[f])[:][f] for f in fields}
    frames = ds.with_format("numpy", columns=["input_frames", "output_frames"], dtype=np.uint8)[:]
    columns["frames"] = np.concatenate([frames["input_frames"], frames["output_frames"]], axis=1)
    return columns


def _xywh(box) -> list[int]:
    x_min, y_min, x_max, y_max = (int(v) for v in box)
    return [x_min, y_min, x_max - x_min, y_max - y_min]


def _check_split(out, split, ds, category_of):
    """Load `<split>.json` with pycocotools and compare every video, image, PNG and annotation with `ds`.

    category_of(columns, i, k): the category id expected for object k of sequence i.
    """
    coco = COCO(str(out / f"{split}.json"))
    data = coco.dataset
    columns = _columns(ds)
    n, t, k_max = columns["track_ids"].shape
    size = columns["frames"].shape[-1]

    assert data["videos"] == [{"id": i + 1, "name": f"{split}/{i:06d}", "width": size, "height": size, "length": t}
                              for i in range(n)]
    images = {(image["video_id"], image["frame_id"]): image for image in data["images"]}
    assert len(images) == len(data["images"]) == len(coco.imgs) == n * t
    assert sorted(p.relative_to(out).as_posix() for p in (out / split).rglob("*.png")) == sorted(
        image["file_name"] for image in data["images"])
    for i in range(n):
        for frame in range(t):
            image = images[(i + 1, frame)]
            assert image["file_name"] == f"{split}/{i:06d}/{frame:03d}.png"
            assert (image["width"], image["height"]) == (size, size) and image["id"] > 0
            pixels = iio.imread(out / image["file_name"])
            expected = columns["frames"][i, frame]
            expected = np.moveaxis(expected, 0, -1) if expected.ndim == 3 else expected  # PNG: RGB channels last
            assert pixels.dtype == np.uint8 and np.array_equal(pixels, expected), image["file_name"]

    # one annotation per (frame, real object) in sight at all; padding objects hold NaN
    expected = {(i + 1, frame, int(columns["track_ids"][i, frame, k]) + 1): (i, frame, k)
                for i, frame, k in zip(*np.nonzero(columns["visible_fraction"] > 0))}
    assert len(coco.anns) == len(data["annotations"]) == len(expected) > 0
    frame_of = {image["id"]: image["frame_id"] for image in data["images"]}
    keys = [(ann["video_id"], frame_of[ann["image_id"]], ann["track_id"]) for ann in data["annotations"]]
    assert sorted(keys) == sorted(expected)  # each of them once
    for key, ann in zip(keys, data["annotations"]):
        i, frame, k = expected[key]
        assert ann["image_id"] == images[(i + 1, frame)]["id"]
        assert ann["id"] == (ann["image_id"] - 1) * k_max + k + 1  # as documented
        assert ann["track_id"] == columns["track_ids"][i, frame, k] + 1 == i * k_max + k + 1
        assert ann["category_id"] == category_of(columns, i, k)
        assert ann["bbox"] == _xywh(columns["visible_boxes"][i, frame, k])
        assert ann["amodal_bbox"] == _xywh(columns["full_boxes"][i, frame, k])
        assert np.float32(ann["visibility"]) == columns["visible_fraction"][i, frame, k]
        assert ann["iscrowd"] == 0
        if "masks" in columns:
            mask = columns["masks"][i, frame] == k + 1
            assert ann["segmentation"]["size"] == [size, size]
            assert np.array_equal(coco.annToMask(ann), mask)
            assert ann["area"] == mask.sum() > 0
        else:
            assert "segmentation" not in ann
            assert ann["area"] == ann["bbox"][2] * ann["bbox"][3] > 0
    return coco


def _label_plus_1(columns, i, k):
    return columns["labels"][i, k] + 1


def _categories(names, source):
    return [{"id": c + 1, "name": name, "supercategory": source} for c, name in enumerate(names)]


def test_crowded_export_round_trips_through_pycocotools(crowded):
    out, ds = crowded
    for split in ("train", "test"):
        coco = _check_split(out, split, ds[split], _label_plus_1)
        assert coco.dataset["categories"] == _categories("0123456789", "mnist")
        info = coco.dataset["info"]
        assert info["config"] == "crowded" and info["code"] == json.loads((out / MANIFEST).read_text())["code"]
        assert info["parameters"]["num_train"] == 20 and "x_max - x_min" in info["box_format"]
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, "train", "train.json", "test", "test.json"])
    fraction = _columns(ds["train"])["visible_fraction"]
    assert (fraction == 0).any() and (fraction == 1).any() and ((fraction > 0) & (fraction < 1)).any()


def test_the_json_is_compact_and_the_same_bytes_when_exported_again(crowded, mnist_dir, tmp_path):
    out, _ = crowded
    text = (out / "test.json").read_text()
    assert text == json.dumps(json.loads(text), separators=(",", ":"))
    again = tmp_path / "again"
    _export("crowded", again, mnist_dir, tmp_path / "cache", num_train=20)
    for name in ("train.json", "test.json"):
        assert (again / name).read_bytes() == (out / name).read_bytes()


def test_cocoeval_scores_the_ground_truth_as_detections_ap_1(crowded):
    out, _ = crowded
    truth = COCO(str(out / "train.json"))
    detections = truth.loadRes([{"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"],
                                 "score": 1.0} for a in truth.dataset["annotations"]])
    evaluation = COCOeval(truth, detections, "bbox")
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    assert evaluation.stats[0] == 1.0  # AP at IoU 0.50:0.95, all areas
    assert evaluation.stats[8] == 1.0  # AR with 100 detections per image


@pytest.mark.parametrize(("name", "categories"), [
    ("crowded", _categories("0123456789", "mnist")),
    ("numbers", [{"id": 1, "name": "numbers", "supercategory": "numbers"}]),  # a class per digit: one category
    ("doodles", [{"id": 1, "name": "doodles", "supercategory": "doodles"}]),  # no classes
])
def test_without_masks_there_is_no_segmentation_and_area_is_the_boxes(name, categories, mnist_dir, tmp_path):
    out = tmp_path / "out"
    ds = _export(name, out, mnist_dir, tmp_path / "cache", num_objects=(3, 5), annotations=("boxes", "tracks"))
    category_of = _label_plus_1 if name == "crowded" else (lambda columns, i, k: 1)
    for split in ("train", "test"):
        coco = _check_split(out, split, ds[split], category_of)
        assert coco.dataset["categories"] == categories


def test_rgb_frames_are_rgb_pngs(test_cifar, tmp_path):
    out = tmp_path / "out"
    ds = _export("cifar10", out, test_cifar, tmp_path / "cache", annotations=("boxes", "masks", "tracks"))
    coco = _check_split(out, "test", ds["test"], _label_plus_1)
    assert coco.dataset["categories"] == _categories(
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"], "cifar10")
    assert iio.imread(out / "test/000000/000.png").shape == (64, 64, 3)


@pytest.mark.parametrize(("name", "annotations", "missing", "has", "wanted"), [
    ("classic", None, "boxes and tracks", "none", "boxes,tracks"),
    ("crowded", "boxes,masks", "tracks", "boxes,masks", "boxes,masks,tracks"),
    ("stochastic", None, "boxes and tracks", "centres,velocities", "centres,velocities,boxes,tracks"),
])
def test_a_dataset_without_boxes_or_tracks_is_refused_before_anything_is_built(
        name, annotations, missing, has, wanted, mnist_dir, tmp_path, capsys):
    argv = ["export", name, "--format", "coco", "--output", str(tmp_path / "out"), "--data-dir", str(mnist_dir),
            "--cache-dir", str(tmp_path / "cache"), *_set(SMALL)]
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, *(["--set", f"annotations={annotations}"] if annotations else [])])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.splitlines()) == 1, captured.err
    line = captured.err.strip()
    assert line.startswith("moving-mnist: error: format=coco needs ")
    assert f"needs {missing} in annotations, and this dataset has annotations={has}:" in line
    assert f"--set annotations={wanted}" in line and "crowded" in line
    assert list(tmp_path.iterdir()) == []  # no cache, no output


def _sha256sum_of_folder(folder) -> str:
    """What `cd folder; sha256sum $(find * -type f | LC_ALL=C sort) | sha256sum` prints."""
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    lines = "".join(f"{hashlib.sha256((folder / name).read_bytes()).hexdigest()}  {name}\n" for name in names)
    return hashlib.sha256(lines.encode()).hexdigest()


def test_the_manifest_lists_each_frame_folder_with_its_bytes_and_digest(crowded):
    out, _ = crowded
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["format"] == "coco" and sorted(manifest["files"]) == ["test", "test.json", "train", "train.json"]
    for name, entry in manifest["files"].items():
        path = out / name
        files = sorted(path.rglob("*.png")) if path.is_dir() else [path]
        assert entry["bytes"] == sum(p.stat().st_size for p in files)
        assert entry["sha256"] == (_sha256sum_of_folder(path) if path.is_dir() else
                                   hashlib.sha256(path.read_bytes()).hexdigest())
        assert entry["sequences"] == {"train": 20, "test": 3}[name.removesuffix(".json")]


def test_reexport_replaces_the_frame_folders_whole_and_keeps_the_users_files(mnist_dir, tmp_path):
    out = tmp_path / "out"
    _export("crowded", out, mnist_dir, tmp_path / "cache")
    (out / "notes.txt").write_text("mine")
    _export("crowded", out, mnist_dir, tmp_path / "cache", num_train=2, num_test=0)
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, "notes.txt", "train", "train.json"])
    assert sorted(p.name for p in (out / "train").iterdir()) == ["000000", "000001"]
    assert json.loads((out / MANIFEST).read_text())["files"]["train"]["sha256"] == _sha256sum_of_folder(out / "train")


def test_overwrite_replaces_a_folder_of_the_same_name(mnist_dir, tmp_path):
    out = tmp_path / "mine"
    (out / "train" / "old").mkdir(parents=True)
    (out / "train" / "old" / "frame.png").write_text("not ours")
    (out / "notes.txt").write_text("mine")
    argv = ["export", "crowded", "--format", "coco", "--output", str(out), "--overwrite", "--data-dir", str(mnist_dir),
            "--cache-dir", str(tmp_path / "cache"), *_set(SMALL)]
    assert main(argv) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, "notes.txt", "test", "test.json", "train", "train.json"])
    assert sorted(p.name for p in (out / "train").iterdir()) == [f"{i:06d}" for i in range(6)]
