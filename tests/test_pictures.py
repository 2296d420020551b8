"""Previews (GIF, MP4) and statistics figures: layout, exact statistics, files and the command line."""

import gc
import importlib.util
import math
import subprocess
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path

import datasets
import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

import moving_mnist
from types import SimpleNamespace

from generator import SOURCE_FILES, Spec, generate
from moving_mnist_cli import main
from moving_mnist_hub import dataset_pictures, pictures
from moving_mnist_hub.pictures import BORDER, HEADER_HEIGHT, INPUT_COLOUR, TARGET_COLOUR
from helpers import cli_fails
from mounts import read_only, small_disk, tmpfs  # noqa: F401 -- fixtures

def _generated(spec, mnist_pools, split, start, stop):
    """`generate`'s frames, positions and labels for MNIST sequences."""
    seqs = generate(spec, {"mnist": mnist_pools}, split, start, stop)
    return SimpleNamespace(frames=seqs.frames, positions=seqs.truth["positions"], labels=seqs.truth["labels"])


CLASSIC = Spec.from_dict(dict(
    source="mnist", num_objects=2, num_frames=20, num_input_frames=10, image_size=64, motion="classic",
    step_length=0.1, compositing="max", sampling="random", num_train=70, num_validation=0, num_test=12, seed=3,
))
# Fast, three sprites on a small canvas: sprites reach every wall, so that edge cases are covered.
BUSY = Spec.from_dict(dict(
    source="mnist", num_objects=3, num_frames=9, num_input_frames=4, image_size=45, motion="notebook",
    step_length=0.9, compositing="sum", sampling="random", num_train=6, num_validation=0, num_test=0, seed=11,
))
SMALL = ["--set", "num_train=30", "--set", "num_validation=5", "--set", "num_test=12", "--set", "seed=5"]


@pytest.fixture(scope="module")
def classic(mnist_pools):
    return _generated(CLASSIC, mnist_pools, "train", 0, CLASSIC.num_train)


@pytest.fixture(scope="module")
def busy(mnist_pools):
    return _generated(BUSY, mnist_pools, "train", 0, BUSY.num_train)


@pytest.fixture(scope="module")
def build_args(mnist_dir, tmp_path_factory):
    """Options for a small classic dataset, with one cache shared by this module's commands."""
    return [*SMALL, "--data-dir", str(mnist_dir), "--cache-dir", str(tmp_path_factory.mktemp("cache"))]


@pytest.fixture(scope="module")
def cifar_images():
    """The 20 real CIFAR-10 test images shipped in the foolbox wheel: (20, 3, 32, 32) uint8, channel-first."""
    spec = importlib.util.find_spec("foolbox")  # located, never imported
    assert spec is not None, 'real CIFAR-10 test images are missing: pip install --no-deps "foolbox==3.3.4"'
    paths = sorted((Path(spec.submodule_search_locations[0]) / "data").glob("cifar10_*.png"))
    assert len(paths) == 20, paths
    return np.stack([iio.imread(path).transpose(2, 0, 1) for path in paths])


def _move(sprites, inks, background, num_frames, rng):
    """One sequence, drawn with a plain loop: each sprite (3, S, S) starts at a random place, moves by a
    random whole step per frame and bounces off the walls; where its ink (S, S) bool is, a sprite hides
    the background and the sprites before it. Returns frames (T, 3, H, W) uint8 and top-left corners
    positions (T, K, 2) int16."""
    side, room = sprites.shape[-1], background.shape[-1] - sprites.shape[-1]
    states = [[int(rng.integers(0, room + 1)), int(rng.integers(0, room + 1)), int(rng.integers(-6, 7)),
               int(rng.integers(-6, 7))] for _ in sprites]
    frames, positions = [], []
    for _ in range(num_frames):
        frame = background.copy()
        for (row, col, _, _), sprite, ink in zip(states, sprites, inks):
            window = frame[:, row : row + side, col : col + side]
            window[:] = np.where(ink, sprite, window)
        frames.append(frame)
        positions.append([state[:2] for state in states])
        for state in states:
            for axis in (0, 1):
                state[axis] += state[axis + 2]
                if not 0 <= state[axis] <= room:
                    state[axis] = min(max(state[axis], 0), room)
                    state[axis + 2] = -state[axis + 2]
    return np.stack(frames), np.array(positions, np.int16)


@pytest.fixture(scope="module")
def cifar_sprites(cifar_images):
    """6 sequences of 8 frames: two real CIFAR-10 images (opaque squares) over black, 48x48.
    (6, 8, 3, 48, 48) uint8."""
    rng = np.random.default_rng(0)
    black, opaque = np.zeros((3, 48, 48), np.uint8), np.ones((2, 32, 32), bool)
    return np.stack([_move(cifar_images[2 * n : 2 * n + 2], opaque, black, 8, rng)[0] for n in range(6)])


DIGITS_OVER_CIFAR = Spec.from_dict(dict(
    source="mnist", num_objects=2, num_frames=8, num_input_frames=3, image_size=64, motion="classic",
    step_length=0.1, compositing="max", sampling="random", num_train=7, num_validation=0, num_test=0, seed=0,
))


@pytest.fixture(scope="module")
def digits_over_cifar(cifar_images, mnist_pools):
    """(a `datasets.Dataset`, the SplitSample it holds): 7 sequences of 8 frames (3 inputs), each two
    real MNIST digits (white ink) moving over a real CIFAR-10 image enlarged to 64x64, stored as RGB
    datasets store frames: Array4D (T, 3, H, W) uint8."""
    rng = np.random.default_rng(1)
    digits = mnist_pools["train"]
    sequences = []
    for n in range(DIGITS_OVER_CIFAR.num_train):
        chosen = rng.choice(len(digits.images), 2, replace=False)
        background = cifar_images[n].repeat(2, axis=1).repeat(2, axis=2)
        sprites = np.stack([digits.images[chosen]] * 3, axis=1)  # white ink: R = G = B
        sequences.append((*_move(sprites, digits.images[chosen] > 0, background, 8, rng), digits.labels[chosen]))
    frames, positions, labels = (np.stack(parts) for parts in zip(*sequences))
    features = datasets.Features({
        "input_frames": datasets.Array4D((3, 3, 64, 64), "uint8"),
        "output_frames": datasets.Array4D((5, 3, 64, 64), "uint8"),
        "labels": datasets.List(datasets.ClassLabel(names=list("0123456789")), length=2),
        "positions": datasets.Array3D((8, 2, 2), "int16"),
    })
    rows = {"input_frames": list(frames[:, :3]), "output_frames": list(frames[:, 3:]), "labels": labels.tolist(),
            "positions": list(positions)}
    return datasets.Dataset.from_dict(rows, features=features), pictures.SplitSample(frames, positions, labels)


def _bt601(frames):
    """Luminance by its definition, 0.299 R + 0.587 G + 0.114 B rounded half up, in exact integers:
    (..., 3, H, W) -> (..., H, W) int64."""
    r, g, b = (frames[..., c, :, :].astype(np.int64) for c in range(3))
    return (299 * r + 587 * g + 114 * b + 500) // 1000


def _tile(video, i, t, frame_shape, scale):
    """The picture of sequence i at time t, inside its border, per the layout in `preview`'s docstring."""
    h, w = frame_shape
    top = HEADER_HEIGHT + i * (h * scale + 2 * BORDER) + BORDER
    return video[t, top : top + h * scale, BORDER : BORDER + w * scale]


# --- preview ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1, 2, 3])
def test_preview_is_one_row_per_sequence_under_a_header(classic, scale):
    frames = classic.frames[:5]
    video = pictures.preview(frames, num_input_frames=10, scale=scale)
    tile = 64 * scale + 2 * BORDER
    assert video.shape == (20, HEADER_HEIGHT + 5 * tile, tile, 3)
    assert video.dtype == np.uint8


@pytest.mark.parametrize("scale", [1, 2, 3])
def test_each_tile_is_the_nearest_neighbour_enlargement_of_its_frame(classic, scale):
    frames = classic.frames[:4]
    video = pictures.preview(frames, 10, scale)
    for i in range(4):
        for t in range(20):
            enlarged = np.repeat(np.repeat(frames[i, t], scale, axis=0), scale, axis=1)
            np.testing.assert_array_equal(_tile(video, i, t, (64, 64), scale), np.stack([enlarged] * 3, axis=-1))


@pytest.mark.parametrize("scale", [1, 2])
def test_boxes_are_outlined_on_their_own_pixels_in_each_objects_colour(classic, scale):
    frames = classic.frames[:2, :3]
    boxes = np.full((2, 3, 3, 4), -1, np.int16)  # padding: not drawn
    boxes[0, 1, 0] = (10, 20, 15, 30)  # x 10..14, y 20..29
    boxes[1, 2, 2] = (0, 0, 64, 64)  # the whole canvas
    boxes[0, 2, 1] = (0, 0, 0, 0)  # empty: not drawn
    video = pictures.preview(frames, 2, scale, boxes)
    plain = pictures.preview(frames, 2, scale)
    expected = plain.copy()
    for i, f, k, (x0, y0, x1, y1) in [(0, 1, 0, (10, 20, 15, 30)), (1, 2, 2, (0, 0, 64, 64))]:
        tile = _tile(expected, i, f, (64, 64), scale)  # a view into the video
        outline = np.zeros(tile.shape[:2], bool)
        outline[y0 * scale : y1 * scale, x0 * scale : x1 * scale] = True
        outline[y0 * scale + 1 : y1 * scale - 1, x0 * scale + 1 : x1 * scale - 1] = False
        tile[outline] = pictures.BOX_COLOURS[k]
    np.testing.assert_array_equal(video, expected)


@pytest.mark.parametrize("scale", [1, 3])
def test_each_rgb_tile_is_its_channel_first_frame_enlarged_in_its_colours(cifar_sprites, scale):
    video = pictures.preview(cifar_sprites, num_input_frames=4, scale=scale)
    assert video.shape == (8, HEADER_HEIGHT + 6 * (48 * scale + 2 * BORDER), 48 * scale + 2 * BORDER, 3)
    source = np.arange(48 * scale) // scale  # the frame row (or column) that each tile row (or column) shows
    for i in range(6):
        for t in range(8):
            expected = cifar_sprites[i, t][:, source][:, :, source].transpose(1, 2, 0)  # (H*s, W*s, RGB)
            np.testing.assert_array_equal(_tile(video, i, t, (48, 48), scale), expected)


def test_a_gray_frame_shows_as_the_rgb_frame_of_three_equal_channels(busy):
    gray = busy.frames[:3]
    np.testing.assert_array_equal(
        pictures.preview(gray, BUSY.num_input_frames, 2), pictures.preview(np.stack([gray] * 3, axis=2), BUSY.num_input_frames, 2)
    )


def test_border_is_the_input_colour_on_input_frames_and_the_target_colour_on_targets(busy):
    video = pictures.preview(busy.frames, BUSY.num_input_frames, scale=2)
    assert INPUT_COLOUR != TARGET_COLOUR
    side = 45 * 2 + 2 * BORDER
    ring = np.ones((side, side), bool)
    ring[BORDER:-BORDER, BORDER:-BORDER] = False
    for t in range(BUSY.num_frames):
        expected = INPUT_COLOUR if t < BUSY.num_input_frames else TARGET_COLOUR
        for i in range(BUSY.num_train):
            top = HEADER_HEIGHT + i * side
            border = video[t, top : top + side][ring]
            assert (border == expected).all(), (t, i)


def test_header_counts_frames_within_each_phase_in_its_colour(classic):
    video = pictures.preview(classic.frames[:2], 10, 2)
    other = pictures.preview(classic.frames[2:3], 10, 2)
    headers = video[:, :HEADER_HEIGHT]
    # one label per frame ("input 1/10" .. "target 10/10"), the same whatever the sequences
    assert len({header.tobytes() for header in headers}) == 20
    np.testing.assert_array_equal(headers, other[:, :HEADER_HEIGHT])
    # the text is drawn in the phase's colour: blue outweighs red on inputs, red outweighs blue on targets
    ink = (headers.astype(int) - headers[0, 0, 0]).sum(axis=(1, 2))  # (T, 3): the text, less the background
    assert (ink[:10, 2] > ink[:10, 0]).all() and (ink[10:, 0] > ink[10:, 2]).all()


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"num_input_frames": 21}, ["num_input_frames", "21", "20"]),
        ({"num_input_frames": -1}, ["num_input_frames", "-1"]),
        ({"scale": 0}, ["scale", "0", ">= 1"]),
        ({"scale": 1.5}, ["scale", "1.5"]),
        ({"frames": np.zeros((2, 20, 64, 64), np.int64)}, ["frames", "uint8", "int64"]),
        ({"frames": np.zeros((20, 64, 64), np.uint8)}, ["frames", "(20, 64, 64)"]),
        ({"frames": np.zeros((2, 20, 64, 64, 3), np.uint8)}, ["frames", "(N, T, 3, H, W)", "(2, 20, 64, 64, 3)"]),
        ({"frames": np.zeros((2, 20, 4, 64, 64), np.uint8)}, ["frames", "(N, T, 3, H, W)", "(2, 20, 4, 64, 64)"]),
    ],
)
def test_bad_preview_arguments_name_the_parameter(classic, kwargs, words):
    arguments = {"frames": classic.frames[:2], "num_input_frames": 10, "scale": 2, **kwargs}
    with pytest.raises(ValueError) as error:
        pictures.preview(**arguments)
    for word in words:
        assert word in str(error.value), (word, str(error.value))


# --- write_video -----------------------------------------------------------------------------------


def test_gif_has_every_frame_at_full_size_loops_forever_and_keeps_the_pictures(classic, tmp_path):
    video = pictures.preview(classic.frames[:3], 10, 2)
    path = pictures.write_video(tmp_path / "p.gif", video, fps=4)
    assert path == tmp_path / "p.gif"
    assert [p.name for p in tmp_path.iterdir()] == ["p.gif"]  # no .partial left behind
    decoded = iio.imread(path, index=None)
    assert decoded.shape[:3] == video.shape[:3]
    meta = iio.immeta(path)
    assert meta["loop"] == 0 and meta["duration"] == 250
    # a GIF has 256 colours per frame: close to the video, not equal
    assert np.abs(decoded[..., :3].astype(int) - video).mean() < 2


def test_an_rgb_gif_of_at_most_256_colours_a_frame_decodes_to_exactly_the_preview(cifar_sprites, tmp_path):
    # a GIF frame holds 256 colours: real images kept to their top two bits a channel fit, with room to spare
    video = pictures.preview(cifar_sprites & 0b11000000, num_input_frames=4, scale=2)
    assert max(len(np.unique(frame.reshape(-1, 3), axis=0)) for frame in video) <= 256
    decoded = iio.imread(pictures.write_video(tmp_path / "p.gif", video), index=None)
    np.testing.assert_array_equal(decoded[..., :3], video)


def test_an_rgb_mp4_keeps_the_colours(cifar_sprites, tmp_path):
    video = pictures.preview(cifar_sprites, num_input_frames=4, scale=2)  # 102 wide, 20 + 6 * 102 = 632 tall
    decoded = iio.imread(pictures.write_video(tmp_path / "p.mp4", video), index=None, plugin="FFMPEG")
    assert decoded.shape == (8, 640, 112, 3)
    error = np.abs(decoded[:, :632, :102].astype(int) - video).mean(axis=(0, 1, 2))
    # lossy, and yuv420p keeps colour at half resolution, which blurs colour edges; swapped or
    # dropped channels would be off by tens of levels
    assert (error < 8).all(), error
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(tmp_path / "p.mp4")],
                           capture_output=True, text=True)
    assert "yuv420p(tv, smpte170m" in probe.stderr, probe.stderr  # players are told the matrix it was made with


def test_mp4_has_every_frame_padded_to_macroblocks(classic, tmp_path):
    video = pictures.preview(classic.frames[:3], 10, 2)  # 134 wide, 20 + 3 * 134 = 422 tall
    path = pictures.write_video(tmp_path / "p.mp4", video, fps=5)
    assert [p.name for p in tmp_path.iterdir()] == ["p.mp4"]
    decoded = iio.imread(path, index=None, plugin="FFMPEG")
    assert decoded.shape == (20, 432, 144, 3)
    assert np.abs(decoded[:, :422, :134].astype(int) - video).mean() < 4  # lossy, but the same pictures
    assert decoded[:, 422:].max() < 20 and decoded[:, :, 134:].max() < 20  # black padding


def test_mp4_without_imageio_ffmpeg_says_what_to_install(classic, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # `import imageio_ffmpeg` now fails
    with pytest.raises(ValueError, match=r'MP4 needs imageio-ffmpeg: pip install "moving-mnist\[mp4\]"'):
        pictures.write_video(tmp_path / "p.mp4", pictures.preview(classic.frames[:1], 10), fps=5)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "words"), [("p.avi", ["'.avi'", ".gif", ".mp4", "p.avi"]), ("p", ["(none)", ".gif"])])
def test_unknown_video_suffix_is_refused(classic, tmp_path, name, words):
    with pytest.raises(ValueError) as error:
        pictures.write_video(tmp_path / name, pictures.preview(classic.frames[:1], 10))
    for word in words:
        assert word in str(error.value), (word, str(error.value))
    assert list(tmp_path.iterdir()) == []


def test_a_preview_too_large_to_hold_is_refused_before_it_is_allocated(classic):
    frames = np.zeros((64, 20, 64, 64), np.uint8)  # at scale 16: 64 tiles of 1030 x 1030 pixels, 4 GB of video
    with pytest.raises(ValueError) as error:
        pictures.preview(frames, 10, scale=16)
    for word in ("64 sequences", "scale=16", "MiB", f"{pictures.MAX_VIDEO_BYTES // 2**20} MiB"):
        assert word in str(error.value), (word, str(error.value))


@pytest.mark.parametrize("fps", [0, -1, 1e-9, 1000, float("nan"), "5"])
def test_fps_outside_its_range_is_refused(classic, tmp_path, fps):
    with pytest.raises(ValueError, match=r"fps=.* must be a number in 0.01 .. 100"):
        pictures.write_video(tmp_path / "p.gif", pictures.preview(classic.frames[:1], 10), fps=fps)
    assert list(tmp_path.iterdir()) == []


def test_a_gif_taller_than_the_format_allows_is_refused(tmp_path):
    with pytest.raises(ValueError, match="65535"):
        pictures.write_video(tmp_path / "p.gif", np.zeros((1, 70000, 8, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def unraisable(monkeypatch) -> list:
    """What would be printed as "Exception ignored in ...": a writer's cleanup failing after the error."""
    seen = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    return seen


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
@pytest.mark.parametrize(("folder", "reason"), [("read_only", "Read-only file system"),
                                                ("small_disk", "No space left on device")])
def test_a_video_that_cannot_be_written_is_one_error_and_leaves_nothing(classic, request, unraisable, suffix, folder, reason):
    folder = request.getfixturevalue(folder)
    if folder.name == "small-disk":
        (folder / "filler").write_bytes(b"\0" * (5 * 2**20 - 8 * 1024))  # leaves too little room for the video
    path = folder / f"p{suffix}"
    video = pictures.preview(classic.frames[:8], 10, 2)
    with pytest.raises(OSError) as error:
        pictures.write_video(path, video, fps=5)
    assert str(path) in str(error.value) and reason in str(error.value), str(error.value)
    gc.collect()
    assert unraisable == []
    assert sorted(p.name for p in folder.iterdir()) in ([], ["filler"])


def test_preview_command_on_a_full_disk_is_one_line(build_args, tmp_path):
    with tmpfs(tmp_path / "tiny", "64k") as folder:
        result = subprocess.run(
            [sys.executable, "-m", "moving_mnist_cli", "preview", "classic", "--num", "16", "--output", str(folder), *build_args],
            capture_output=True, text=True,
        )
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, result.stderr
        line = result.stderr.strip().splitlines()[-1]
        assert line.startswith("moving-mnist: error: ") and "No space left on device" in line and str(folder) in line, line
        assert list(folder.iterdir()) == []


# --- statistics ------------------------------------------------------------------------------------


def test_frame_difference_stats_equal_a_plain_loop(classic):
    frames = classic.frames  # 70 sequences: more than one chunk
    differences = []
    for sequence in frames:
        for t in range(len(sequence) - 1):
            differences.append(np.abs(sequence[t + 1].astype(float) - sequence[t].astype(float)))
    mean, std = pictures.frame_difference_stats(frames)
    assert mean.shape == std.shape == (64, 64)
    np.testing.assert_allclose(mean, np.mean(differences, axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(std, np.std(differences, axis=0), rtol=1e-9, atol=1e-9)


def test_luminance_is_bt601_rounded_half_up(cifar_images):
    expected = [
        [[math.floor(Fraction(299 * int(r) + 587 * int(g) + 114 * int(b), 1000) + Fraction(1, 2)) for r, g, b in zip(*rows)]
         for rows in zip(*image)]
        for image in cifar_images[:4]
    ]
    luminance = pictures.luminance(cifar_images[:4])
    assert luminance.dtype == np.uint8 and luminance.shape == (4, 32, 32)
    np.testing.assert_array_equal(luminance, expected)
    gray = cifar_images[4, 0]
    np.testing.assert_array_equal(pictures.luminance(np.stack([gray] * 3)), gray)  # gray keeps its value


def test_rgb_frame_difference_stats_are_those_of_the_luminance(cifar_sprites):
    differences = []
    for sequence in _bt601(cifar_sprites):
        for t in range(len(sequence) - 1):
            differences.append(np.abs(sequence[t + 1].astype(float) - sequence[t].astype(float)))
    mean, std = pictures.frame_difference_stats(cifar_sprites)
    assert mean.shape == std.shape == (48, 48)
    np.testing.assert_allclose(mean, np.mean(differences, axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(std, np.std(differences, axis=0), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize(
    ("frames", "words"),
    [
        (np.zeros((2, 8, 48, 48, 3), np.uint8), ["(N, T, 3, H, W)", "(2, 8, 48, 48, 3)"]),
        (np.zeros((2, 1, 3, 48, 48), np.uint8), ["T >= 2", "(2, 1, 3, 48, 48)"]),
    ],
)
def test_frames_that_cannot_be_differenced_are_refused(frames, words):
    with pytest.raises(ValueError) as error:
        pictures.frame_difference_stats(frames)
    for word in ("frames", *words):
        assert word in str(error.value), (word, str(error.value))


def test_position_heatmap_counts_each_sprite_footprint_exactly(busy):
    positions = busy.positions  # (6, 9, 3, 2); notebook motion at step 0.9 reaches every wall
    assert positions.min() == 0 and positions.max() == 45 - 28
    expected = np.zeros((45, 45), np.int64)
    for sequence in positions:
        for frame in sequence:
            for row, col in frame:
                expected[row : row + 28, col : col + 28] += 1
    np.testing.assert_array_equal(pictures.position_heatmap(positions, 45, 28), expected)


def test_speeds_are_the_euclidean_steps_of_every_sprite(busy):
    expected = [
        math.hypot(*(busy.positions[n, t + 1, k].astype(int) - busy.positions[n, t, k].astype(int)))
        for n in range(BUSY.num_train) for t in range(BUSY.num_frames - 1) for k in range(BUSY.num_objects)
    ]
    np.testing.assert_array_equal(pictures.speeds(busy.positions), expected)


def test_label_counts_count_every_sprite(classic):
    counts = pictures.label_counts(classic.labels, 10)
    tally = Counter(classic.labels.ravel().tolist())
    assert counts.tolist() == [tally[c] for c in range(10)]
    with pytest.raises(ValueError, match="0 .. 4"):
        pictures.label_counts(classic.labels, 5)


def test_write_stats_writes_four_pngs(classic, mnist_pools, tmp_path):
    test = _generated(CLASSIC, mnist_pools, "test", 0, CLASSIC.num_test)
    samples = {
        "train": pictures.SplitSample(classic.frames[:20], classic.positions, classic.labels),
        "test": pictures.SplitSample(test.frames, test.positions, test.labels),
    }
    paths = pictures.write_stats(tmp_path / "stats", samples, SOURCE_FILES["mnist"].class_names, 28)
    assert [p.name for p in paths] == list(pictures.STATS_FILES)
    assert sorted(p.name for p in (tmp_path / "stats").iterdir()) == sorted(pictures.STATS_FILES)
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        image = iio.imread(path)
        assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 200


def test_write_stats_of_rgb_frames_draws_the_same_figures_and_names_the_luminance(digits_over_cifar, classic, tmp_path):
    _, sample = digits_over_cifar
    names = SOURCE_FILES["mnist"].class_names
    rgb = pictures.write_stats(tmp_path / "rgb", {"train": sample}, names, 28, "digits_over_cifar")
    gray_sample = pictures.SplitSample(classic.frames[:7], classic.positions, classic.labels)
    gray = pictures.write_stats(tmp_path / "gray", {"train": gray_sample}, names, 28, "classic")
    assert [p.name for p in rgb] == list(pictures.STATS_FILES)
    for rgb_path, gray_path in zip(rgb, gray):
        assert iio.imread(rgb_path).shape == iio.imread(gray_path).shape  # the same figure, whatever the channels
    assert iio.imread(rgb[0]).shape[:2] == (462, 990)  # 9 x 4.2 inches at 110 dpi
    title = Image.open(rgb[0]).text["Title"]
    assert title.startswith("digits_over_cifar: ") and "luminance Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601)" in title
    assert "luminance" not in Image.open(gray[0]).text["Title"]


# --- reading a built dataset -----------------------------------------------------------------------


def test_read_frames_and_sample_equal_the_generator(mnist_dir, mnist_pools, tmp_path):
    ds = moving_mnist.load("classic", num_train=30, num_validation=5, num_test=12, seed=5,
                           data_dir=str(mnist_dir), cache_dir=str(tmp_path / "cache"))
    spec = moving_mnist.PRESETS["classic"].spec
    spec = spec.replace(num_train=30, num_validation=5, num_test=12, seed=5)
    expected = _generated(spec, mnist_pools, "test", 0, 12)
    frames = dataset_pictures.read_frames(ds["test"], 4)
    assert frames.dtype == np.uint8
    np.testing.assert_array_equal(frames, expected.frames[:4])
    assert len(dataset_pictures.read_frames(ds["test"], 100)) == 12  # never more than the split
    sample = dataset_pictures.read_sample(ds["test"], max_sequences=3)
    np.testing.assert_array_equal(sample.frames, expected.frames[:3])
    np.testing.assert_array_equal(sample.positions, expected.positions)
    np.testing.assert_array_equal(sample.labels, expected.labels)


def test_read_frames_and_sample_of_an_rgb_dataset_are_its_channel_first_frames(digits_over_cifar):
    ds, expected = digits_over_cifar
    frames = dataset_pictures.read_frames(ds, 4)
    assert frames.dtype == np.uint8 and frames.shape == (4, 8, 3, 64, 64)
    np.testing.assert_array_equal(frames, expected.frames[:4])
    sample = dataset_pictures.read_sample(ds, max_sequences=5)
    np.testing.assert_array_equal(sample.frames, expected.frames[:5])
    np.testing.assert_array_equal(sample.positions, expected.positions)
    np.testing.assert_array_equal(sample.labels, expected.labels)


def test_rgb_statistics_count_three_bytes_a_pixel_against_their_memory_budget(digits_over_cifar, monkeypatch):
    ds, expected = digits_over_cifar
    monkeypatch.setattr(dataset_pictures, "MAX_SAMPLE_BYTES", 2 * 8 * 3 * 64 * 64 + 1)  # two RGB sequences' frames
    sample = dataset_pictures.read_sample(ds)
    np.testing.assert_array_equal(sample.frames, expected.frames[:2])
    assert len(sample.positions) == len(sample.labels) == 7


def test_preview_and_statistics_of_an_rgb_dataset(digits_over_cifar, tmp_path):
    ds, expected = digits_over_cifar
    path = dataset_pictures.write_preview(ds, DIGITS_OVER_CIFAR, tmp_path / "p.gif", num=4, scale=2)
    decoded = iio.imread(path, index=None)[..., :3]
    assert decoded.shape == (8, HEADER_HEIGHT + 4 * 134, 134, 3)
    for i in range(4):
        for t in range(8):
            assert len(np.unique(decoded[t].reshape(-1, 3), axis=0)) <= 256  # all that a GIF frame holds
            enlarged = expected.frames[i, t].repeat(2, axis=1).repeat(2, axis=2).transpose(1, 2, 0)
            error = np.abs(_tile(decoded, i, t, (64, 64), 2).astype(int) - enlarged).mean(axis=(0, 1))
            assert (error < 6).all(), (i, t, error)  # quantised to 256 colours; swapped channels: tens of levels off
    paths = dataset_pictures.write_split_stats({"train": ds}, DIGITS_OVER_CIFAR, tmp_path / "stats", config="digits_over_cifar")
    assert [p.name for p in paths] == list(pictures.STATS_FILES)
    assert "ITU-R BT.601" in Image.open(paths[0]).text["Title"]


# --- command line ----------------------------------------------------------------------------------


def test_preview_command_writes_a_gif_of_the_first_split(build_args, tmp_path, capsys):
    assert main(["preview", "classic", "--num", "3", "--output", str(tmp_path / "p"), *build_args]) == 0
    path = tmp_path / "p" / "classic-train.gif"
    assert capsys.readouterr().out.split()[0] == str(path)
    decoded = iio.imread(path, index=None)
    assert decoded.shape[:3] == (20, HEADER_HEIGHT + 3 * 134, 134)


def test_preview_command_writes_mp4_and_clamps_num_to_the_split(build_args, tmp_path, capsys):
    argv = ["preview", "classic", "--split", "test", "--num", "64", "--format", "mp4", "--scale", "1",
            "--fps", "8", "--output", str(tmp_path), *build_args]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.split()[0] == str(tmp_path / "classic-test.mp4") and "12 sequences of test" in out
    decoded = iio.imread(tmp_path / "classic-test.mp4", index=None, plugin="FFMPEG")
    assert decoded.shape == (20, 864, 80, 3)  # 20 + 12 * 70 = 860 by 70, padded to multiples of 16


def test_stats_command_writes_the_four_figures_of_each_config_in_its_own_folder(build_args, tmp_path, capsys):
    assert main(["stats", "classic", "--output", str(tmp_path / "s"), *build_args]) == 0
    assert main(["stats", "notebook", "--output", str(tmp_path / "s"), *build_args]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(tmp_path / "s" / config / name) for config in ("classic", "notebook") for name in pictures.STATS_FILES]
    for config in ("classic", "notebook"):
        for name in pictures.STATS_FILES:
            title = Image.open(tmp_path / "s" / config / name).text["Title"]
            assert title.startswith(f"{config}: "), title


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["preview", "classic", "--num", "0"], ["--num", "0", "1 .. 64"]),
        (["preview", "classic", "--num", "65"], ["--num", "65", "1 .. 64"]),
        (["preview", "classic", "--scale", "0"], ["--scale", "0", "1 .. 16"]),
        (["preview", "classic", "--scale", "30"], ["--scale", "30", "1 .. 16"]),
        (["preview", "classic", "--scale", "1000"], ["--scale", "1000", "1 .. 16"]),
        (["preview", "classic", "--fps", "0"], ["--fps", "0", "0.01 .. 100"]),
        (["preview", "classic", "--fps", "1e-9"], ["--fps", "1e-9", "0.01 .. 100"]),
        (["preview", "classic", "--fps", "nan"], ["--fps", "nan", "0.01 .. 100"]),
        (["preview", "classic", "--num", "many"], ["--num", "many"]),
        (["preview", "classic", "--split", "dev"], ["--split", "dev", "train", "validation", "test"]),
        (["preview", "classic", "--format", "avi"], ["--format", "avi", "gif", "mp4"]),
        (["preview", "classic", "--split", "validation", "--set", "num_validation=0"],
         ["--split", "validation", "train, test"]),
        (["preview", "nope"], ["nope", "classic"]),
        (["stats", "classic"], ["--output"]),
    ],
)
def test_bad_picture_options_print_one_line_and_exit_2(build_args, argv, words, capsys):
    line = cli_fails([argv[0], *build_args, *argv[1:]], capsys)  # argv's --set after build_args', so that it wins
    assert line.startswith(("moving-mnist: error:", "moving-mnist preview: error:", "moving-mnist stats: error:")), line
    for word in words:
        assert word in line, (word, line)


# --- large frames: bounded before anything is read ------------------------------------------------


@pytest.fixture(scope="module")
def large(mnist_dir, tmp_path_factory):
    """A split of 6 sequences of 20 frames of 512x512 (5 MiB each)."""
    return moving_mnist.load(
        "classic", image_size=512, num_train=6, num_validation=0, num_test=0,
        data_dir=str(mnist_dir), cache_dir=str(tmp_path_factory.mktemp("large")),
    )["train"]


def test_a_preview_too_large_for_memory_is_refused_before_the_frames_are_read(large, tmp_path, monkeypatch):
    def no_read(*args):
        raise AssertionError("frames were read")

    monkeypatch.setattr(dataset_pictures, "read_frames", no_read)
    spec = moving_mnist.PRESETS["classic"].spec.replace(image_size=512)
    with pytest.raises(ValueError, match=r"a preview of 6 sequences of 20 frames of 512x512 at scale=4 would take \d+ MiB"):
        dataset_pictures.write_preview(large, spec, tmp_path / "big.gif", num=64, scale=4)
    assert not list(tmp_path.iterdir())


def test_statistics_read_only_the_first_sequences_that_fit_their_memory_budget(large, monkeypatch):
    monkeypatch.setattr(dataset_pictures, "MAX_SAMPLE_BYTES", 2 * 20 * 512 * 512 + 1)  # two sequences' frames
    sample = dataset_pictures.read_sample(large)
    assert sample.frames.shape == (2, 20, 512, 512)
    frames = large.with_format("numpy", columns=["input_frames", "output_frames"], dtype=np.uint8)[:2]
    assert np.array_equal(sample.frames, np.concatenate([frames["input_frames"], frames["output_frames"]], axis=1))
    assert sample.positions.shape == (6, 20, 2, 2) and sample.labels.shape == (6, 2)  # small: all of them
    monkeypatch.setattr(dataset_pictures, "MAX_SAMPLE_BYTES", 3 * 20 * 2 * 2 * 2)  # three sequences' positions
    sample = dataset_pictures.read_sample(large)
    assert sample.frames.shape[0] == 1 and sample.positions.shape[0] == 3 and sample.labels.shape[0] == 3


# --- volumes ---------------------------------------------------------------------------------------


def _volumes() -> np.ndarray:
    """(2, 3, 6, 6, 6) uint8 with every voxel distinct in its sequence and time point: slices are told apart."""
    return (np.arange(2 * 3 * 6**3) % 251).astype(np.uint8).reshape(2, 3, 6, 6, 6)


def test_volume_panels_are_the_three_mid_slices_and_the_maximum_projection_side_by_side():
    volumes = _volumes()
    frames = pictures.volume_panels(volumes)
    assert frames.shape == (2, 3, 6, 4 * 6 + 3) and frames.dtype == np.uint8
    for i in range(2):
        for t in range(3):
            v = volumes[i, t]
            projection = np.array([[max(v[z, y, x] for z in range(6)) for x in range(6)] for y in range(6)], np.uint8)
            expected = [v[3, :, :], v[:, 3, :], v[:, :, 3], projection]
            for p, panel in enumerate(expected):
                assert np.array_equal(frames[i, t, :, p * 7 : p * 7 + 6], panel)
            for gap in (6, 13, 20):
                assert (frames[i, t, :, gap] == 96).all()


@pytest.mark.parametrize("bad", [np.zeros((2, 3, 6, 6), np.uint8), np.zeros((1, 2, 6, 6, 5), np.uint8),
                                 np.zeros((1, 2, 4, 4, 4), np.float32)])
def test_volume_panels_refuse_what_is_not_a_batch_of_cubes(bad):
    with pytest.raises(ValueError, match=r"volumes must be \(N, T, D, D, D\) uint8"):
        pictures.volume_panels(bad)


def test_volume_figure_is_a_png_of_four_panels_at_the_chosen_time_points(tmp_path):
    path = pictures.volume_figure(tmp_path / "time_points.png", _volumes()[0], num_input_frames=2, count=8, heading="x: ")
    image = iio.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4) and image.shape[0] > 300
    assert Image.open(path).info["Title"] == "x: One 6x6x6 volume over 3 time points (cavities bright)"
    assert not list(tmp_path.glob("*.partial"))
