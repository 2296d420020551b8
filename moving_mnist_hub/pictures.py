"""Pictures of Moving MNIST sequences: animated previews (GIF, MP4) and statistics figures (PNG).

Everything here works on numpy arrays, never on `datasets` objects, so that it serves the command
line, the dataset card and anyone holding frames alike:

    >>> video = preview(frames, num_input_frames=10)        # (T, H2, W2, 3) uint8
    >>> write_video("previews/classic-train.gif", video)
    >>> write_stats("stats/", {"train": SplitSample(frames, positions, labels)}, class_names, 28)

Frames are gray `(N, T, H, W)` or RGB `(N, T, 3, H, W)` uint8, channel-first as the datasets store
them; the number of dimensions tells which. Previews show RGB frames in their colours; statistics
of pixel values read an RGB frame's luminance (`luminance`, ITU-R BT.601), so that gray and RGB
datasets are measured on the same 0-255 scale.

Statistics are pure numpy functions (`frame_difference_stats`, `position_heatmap`, `speeds`,
`label_counts`); the figures only draw them. Figures use matplotlib's Agg canvas directly, never
pyplot, so that no global state or display is touched.
"""

from __future__ import annotations

import io
import math
import numbers
import os
import subprocess
from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import imageio.v3 as iio
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image, ImageDraw, ImageFont

# Border colours (RGB) around each tile: input frames blue, target (output) frames orange.
INPUT_COLOUR = (40, 140, 255)
TARGET_COLOUR = (255, 140, 0)
BORDER = 3  # pixels of border on each side of a tile
# box outlines, by object k modulo their number: distinct on black, gray and photographs
BOX_COLOURS = ((255, 60, 60), (60, 220, 60), (80, 160, 255), (255, 220, 0), (255, 0, 255), (0, 230, 230),
               (255, 150, 40), (170, 110, 255))
HEADER_HEIGHT = 20  # pixels of the header strip above the tiles, which holds "input 3/10"
_HEADER_BACKGROUND = (24, 24, 24)

VIDEO_FORMATS = (".gif", ".mp4")
FPS_RANGE = (0.01, 100.0)  # a GIF stores each frame's duration in 1/100 s, in 16 bits
MAX_VIDEO_BYTES = 512 * 2**20  # a preview is held in memory whole, and encoded from there
_GIF_MAX_SIDE = 65535  # pixels: GIF stores sizes in 16 bits
STATS_FILES = ("frame_differences.png", "positions.png", "speed.png", "labels.png")

# Sequences whose frames the frame-difference figure reads at most: enough for a smooth mean,
# small enough (1000 x 20 x 3 x 64 x 64 bytes = 246 MB for RGB) to hold in memory.
MAX_DIFFERENCE_SEQUENCES = 1000

_CHUNK_PIXELS = 2**22  # pixels (channels included) differenced at once, to bound the int32 temporaries

# ITU-R BT.601 luma weights of R, G and B, in thousandths: integers, so that luminance is exact.
LUMA_WEIGHTS = (299, 587, 114)


def preview(frames: np.ndarray, num_input_frames: int, scale: int = 2, boxes: np.ndarray | None = None) -> np.ndarray:
    """An animated grid of sequences, one row per sequence, as `(T, H2, W2, 3)` uint8 video frames.

    frames: (N, T, H, W) uint8 gray, or (N, T, 3, H, W) uint8 RGB (channel-first, as stored);
        gray pixels are shown with R = G = B, RGB pixels in their colours.
    num_input_frames: the first frames are inputs, framed in `INPUT_COLOUR`; the rest are
        targets, framed in `TARGET_COLOUR`. A header strip reads "input t/T_in" or "target t/T_out".
    scale: integer nearest-neighbour enlargement, so that 64x64 frames are readable.
    boxes: (N, T, K, 4) boxes (x_min, y_min, x_max, y_max), max exclusive, to outline over the frames,
        object k in `BOX_COLOURS[k % 8]`; empty boxes (max <= min) and padding (-1) are not drawn.

    Layout of video frame t: the header is rows `[0, HEADER_HEIGHT)`; tile i (sequence i) is rows
    `HEADER_HEIGHT + i * (H * scale + 2 * BORDER)` onward, with frame `frames[i, t]` enlarged at
    offset `(BORDER, BORDER)` inside its border. So H2 = HEADER_HEIGHT + N * (H * scale + 2 * BORDER)
    and W2 = W * scale + 2 * BORDER. The video is the only array allocated (`preview_shape` bounds it).
    """
    frames = _gray_or_rgb(frames)
    n, t = frames.shape[:2]
    h, w = frames.shape[-2:]
    if n == 0 or t == 0:
        raise ValueError(f"frames {frames.shape} has no sequence or no frame to show")
    if not (isinstance(num_input_frames, (int, np.integer)) and 0 <= num_input_frames <= t):
        raise ValueError(f"num_input_frames={num_input_frames!r} must be an integer in 0 .. {t} (the frames per sequence)")
    if not (isinstance(scale, (int, np.integer)) and scale >= 1):
        raise ValueError(f"scale={scale!r} must be an integer >= 1")

    shape = preview_shape(n, t, h, w, scale)
    tile_h, tile_w = (shape[1] - HEADER_HEIGHT) // n, shape[2]
    video = np.empty(shape, np.uint8)
    video[:, :HEADER_HEIGHT] = _headers(num_input_frames, t - num_input_frames, tile_w)

    body = video[:, HEADER_HEIGHT:].reshape(t, n, tile_h, tile_w, 3)  # a view: splitting an axis never copies
    colours = np.array([INPUT_COLOUR] * num_input_frames + [TARGET_COLOUR] * (t - num_input_frames), np.uint8)
    body[:] = colours[:, None, None, None, :]
    pixels = frames[..., None] if frames.ndim == 4 else np.moveaxis(frames, 2, -1)  # (N, T, H, W, 1 or 3)
    # Each frame pixel fills a scale x scale block: the tiles seen as (T, N, H, s, W, s, 3) take it by
    # broadcasting (gray into the three channels too), so no enlarged copy is ever made.
    blocks = body[:, :, BORDER:-BORDER, BORDER:-BORDER].reshape(t, n, h, scale, w, scale, 3)  # a view
    blocks[:] = pixels.swapaxes(0, 1)[:, :, :, None, :, None, :]
    if boxes is not None:
        tiles = body[:, :, BORDER:-BORDER, BORDER:-BORDER]  # (T, N, H * scale, W * scale, 3)
        for i, f, k in zip(*np.nonzero((boxes[..., 2] > boxes[..., 0]) & (boxes[..., 3] > boxes[..., 1]))):
            left, top, right, bottom = (int(v) * scale for v in boxes[i, f, k])
            tile, colour = tiles[f, i], BOX_COLOURS[k % len(BOX_COLOURS)]
            tile[top:bottom, [left, right - 1]] = colour  # the outline runs along the box's own pixels
            tile[[top, bottom - 1], left:right] = colour
    return video


def _gray_or_rgb(frames: np.ndarray) -> np.ndarray:
    """`frames` as an array, checked to be (N, T, H, W) gray or (N, T, 3, H, W) RGB uint8."""
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim not in (4, 5) or (frames.ndim == 5 and frames.shape[2] != 3):
        raise ValueError(f"frames must be (N, T, H, W) gray or (N, T, 3, H, W) RGB uint8, got {frames.shape} {frames.dtype}")
    return frames


def preview_shape(n: int, t: int, h: int, w: int, scale: int) -> tuple[int, int, int, int]:
    """The `(T, H2, W2, 3)` shape of `preview` of n sequences of t frames of h x w; `ValueError` if it
    would take more than `MAX_VIDEO_BYTES` (checked before anything is read or allocated)."""
    shape = (t, HEADER_HEIGHT + n * (h * scale + 2 * BORDER), w * scale + 2 * BORDER, 3)
    if np.prod(shape, dtype=object) > MAX_VIDEO_BYTES:
        raise ValueError(f"a preview of {n} sequences of {t} frames of {h}x{w} at scale={scale} would take "
                         f"{np.prod(shape, dtype=object) / 2**20:.0f} MiB, more than the {MAX_VIDEO_BYTES // 2**20} MiB "
                         "allowed: show fewer sequences or enlarge less")
    return shape


def _headers(num_inputs: int, num_targets: int, width: int) -> np.ndarray:
    """`(num_inputs + num_targets, HEADER_HEIGHT, width, 3)` uint8: one rendered label per frame."""
    texts = [f"input {i}/{num_inputs}" for i in range(1, num_inputs + 1)]
    texts += [f"target {i}/{num_targets}" for i in range(1, num_targets + 1)]
    colours = [INPUT_COLOUR] * num_inputs + [TARGET_COLOUR] * num_targets
    font = _font_that_fits(texts, width - 4)
    headers = []
    for text, colour in zip(texts, colours):
        image = Image.new("RGB", (width, HEADER_HEIGHT), _HEADER_BACKGROUND)
        ImageDraw.Draw(image).text((width / 2, HEADER_HEIGHT / 2), text, fill=colour, font=font, anchor="mm")
        headers.append(np.asarray(image))
    return np.stack(headers)


def _font_that_fits(texts: Sequence[str], width: int):
    """Pillow's bundled font at the largest size (14 px down to 6 px) at which every text fits."""
    for size in range(14, 6, -1):
        font = ImageFont.load_default(size=size)
        if max(font.getlength(text) for text in texts) <= width:
            return font
    return ImageFont.load_default(size=6)  # tiny canvases: the label is clipped, the frames are not


def write_video(path: str | os.PathLike, video: np.ndarray, fps: float = 5.0) -> Path:
    """Write `video (T, H, W, 3) uint8` as an animated `.gif` (looping forever) or an `.mp4` (H.264).

    fps: frames per second, in `FPS_RANGE`. MP4 needs imageio-ffmpeg; its frames are padded with
    black at the right and bottom to multiples of 16 pixels (H.264 macroblocks) and stored as
    yuv420p, which browsers play (colour at half resolution, tagged BT.601). The file appears whole
    or not at all: it is written under a `.partial` name, then renamed; a write that fails
    (read-only or full disk) leaves nothing.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_FORMATS:
        raise ValueError(f"path={str(path)!r}: suffix {suffix or '(none)'!r} is not allowed: choose one of {', '.join(VIDEO_FORMATS)}")
    video = np.asarray(video)
    if video.dtype != np.uint8 or video.ndim != 4 or video.shape[-1] != 3 or len(video) == 0:
        raise ValueError(f"video must be (T, H, W, 3) uint8 with T >= 1, got {video.shape} {video.dtype}")
    if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not FPS_RANGE[0] <= fps <= FPS_RANGE[1]:
        raise ValueError(f"fps={fps!r} must be a number in {FPS_RANGE[0]} .. {FPS_RANGE[1]}")
    if suffix == ".gif" and max(video.shape[1:3]) > _GIF_MAX_SIDE:
        raise ValueError(f"video frames of {video.shape[2]}x{video.shape[1]} pixels are too large for a GIF "
                         f"(at most {_GIF_MAX_SIDE} a side): show fewer sequences or enlarge less")
    partial = path.with_name(path.name + ".partial")
    try:
        if suffix == ".gif":
            # encoded in memory, so that no half-open writer outlives an error; loop=0 repeats forever
            _write_bytes(path, partial, iio.imwrite("<bytes>", video, extension=".gif", duration=1000 / fps, loop=0))
        else:
            _write_mp4(path, partial, video, fps)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def _write_bytes(path: Path, partial: Path, data: bytes) -> None:
    try:
        with open(partial, "wb") as file:
            file.write(data)
    except OSError as error:
        raise OSError(error.errno, f"cannot write {path}: {error.strerror}") from None


def _write_mp4(path: Path, partial: Path, video: np.ndarray, fps: float) -> None:
    """Encode with the ffmpeg of imageio-ffmpeg, whose exit status (unlike imageio's writer) is checked."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise ValueError('MP4 needs imageio-ffmpeg: pip install "moving-mnist[mp4]"') from None
    t, h, w, _ = video.shape
    padded = np.zeros((t, -(-h // 16) * 16, -(-w // 16) * 16, 3), np.uint8)
    padded[:, :h, :w] = video  # padded here, so that ffmpeg never rescales (and blurs) the frames
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-v", "error",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{padded.shape[2]}x{padded.shape[1]}",
        "-r", str(Fraction(fps).limit_denominator()), "-i", "-", "-an",
        "-vcodec", "libx264", "-pix_fmt", "yuv420p", "-crf", "10",
        # names the RGB -> YUV matrix ffmpeg converts with (BT.601), so that players show the same colours
        "-colorspace", "smpte170m",
        # the muxer by name, as the .partial suffix names none; the index first, for browsers
        "-f", "mp4", "-movflags", "+faststart", str(partial),
    ]
    result = subprocess.run(command, input=padded.tobytes(), capture_output=True)
    if result.returncode != 0:
        reason = (result.stderr.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
        raise OSError(f"cannot write {path}: ffmpeg failed ({reason})")


# --- Statistics: pure functions of the ground truth ----------------------------------------------


class SplitSample(NamedTuple):
    """What the statistics figures need of one split.

    frames: (n, T, H, W) gray or (n, T, 3, H, W) RGB uint8, the first n <= N sequences (the frame
        differences read only these).
    positions: (N, T, K, 2) integer (row, col) of each sprite's top-left corner, the whole split.
    labels: (N, K) (numbers: (N, K, D)) integer class ids, the whole split; None for unlabelled sprites.
    """

    frames: np.ndarray
    positions: np.ndarray
    labels: np.ndarray


def luminance(frames: np.ndarray) -> np.ndarray:
    """The luma of RGB pixels, ITU-R BT.601: `Y = 0.299 R + 0.587 G + 0.114 B`, rounded half up.

    frames: (..., 3, H, W) uint8, channel-first. Returns (..., H, W) uint8. Computed in integers,
    `(299 R + 587 G + 114 B + 500) // 1000`, so that it is exact; the weights sum to 1, so gray
    pixels (R = G = B) keep their value.
    """
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim < 3 or frames.shape[-3] != 3:
        raise ValueError(f"frames must be (..., 3, H, W) uint8 RGB, got {frames.shape} {frames.dtype}")
    red, green, blue = (frames[..., c, :, :].astype(np.int32) * weight for c, weight in enumerate(LUMA_WEIGHTS))
    return ((red + green + blue + 500) // 1000).astype(np.uint8)


def frame_difference_stats(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel mean and standard deviation of `|f[t+1] - f[t]|` over all sequences and time steps.

    frames: (N, T, H, W) gray or (N, T, 3, H, W) RGB uint8 with N >= 1, T >= 2; of RGB frames, `f`
    is the luminance (`luminance`). Returns (mean, std), each (H, W) float64, in gray levels 0-255.
    """
    count, total, squares = _difference_sums(frames)
    return _mean_std(count, total, squares)


def _difference_sums(frames: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """(count, sum, sum of squares) of `|f[t+1] - f[t]|` per pixel; the sums are (H, W) int64, exact."""
    frames = _gray_or_rgb(frames)
    if frames.shape[1] < 2:
        raise ValueError(f"frames {frames.shape} must have T >= 2 frames per sequence to difference")
    total = np.zeros(frames.shape[-2:], np.int64)
    squares = np.zeros(frames.shape[-2:], np.int64)
    step = max(1, _CHUNK_PIXELS // max(1, math.prod(frames.shape[1:])))  # sequences per chunk
    for lo in range(0, len(frames), step):
        chunk = frames[lo : lo + step] if frames.ndim == 4 else luminance(frames[lo : lo + step])
        chunk = chunk.astype(np.int16)  # uint8 differences would wrap around
        difference = np.abs(chunk[:, 1:] - chunk[:, :-1]).astype(np.int32)  # 255**2 overflows int16
        total += difference.sum(axis=(0, 1))
        squares += (difference * difference).sum(axis=(0, 1))
    return len(frames) * (frames.shape[1] - 1), total, squares


def _mean_std(count: int, total: np.ndarray, squares: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if count == 0:
        raise ValueError("frames holds no sequence: no frame differences to average")
    # count**2 * variance = count * sum(x^2) - sum(x)^2, exact in int64, so no cancellation error
    variance = (count * squares - total * total) / count**2
    return total / count, np.sqrt(variance)


def position_heatmap(positions: np.ndarray, image_size: int, sprite_size: int | tuple[int, int]) -> np.ndarray:
    """How many sprite footprints cover each pixel, over all sequences, frames and sprites.

    positions: (..., 2) integer (row, col) of sprite top-left corners; each sprite covers the box
    `[row, row + height) x [col, col + width)` of `sprite_size` (an int for a square, or (height,
    width) of the largest sprite, cut at the canvas: narrower ones, such as short numbers, reach the wall).
    Returns (image_size, image_size) int64 counts.
    """
    height, width = (sprite_size, sprite_size) if isinstance(sprite_size, (int, np.integer)) else sprite_size
    corners = np.asarray(positions).reshape(-1, 2).astype(np.intp)
    if corners.size and (corners.min() < 0 or corners[:, 0].max() > image_size - height or corners[:, 1].max() >= image_size):
        raise ValueError(f"positions must lie in the canvas, rows in 0 .. {image_size - height} (image_size - sprite height)")
    # Box corners into a difference grid; two cumulative sums turn it into box counts.
    rows, cols = corners[:, 0], corners[:, 1]
    ends_r, ends_c = rows + height, np.minimum(cols + width, image_size)
    grid = np.zeros((image_size + 1, image_size + 1), np.int64)
    np.add.at(grid, (rows, cols), 1)
    np.add.at(grid, (rows, ends_c), -1)
    np.add.at(grid, (ends_r, cols), -1)
    np.add.at(grid, (ends_r, ends_c), 1)
    return grid.cumsum(axis=0).cumsum(axis=1)[:image_size, :image_size]


def speeds(positions: np.ndarray) -> np.ndarray:
    """Pixels moved per frame: `|p[t+1] - p[t]|` (Euclidean) of every sprite and step.

    positions: (N, T, K, 2) integer. Returns (N * (T - 1) * K,) float64, in (n, t, k) order.
    """
    steps = np.diff(np.asarray(positions, np.float64), axis=1)
    return np.hypot(steps[..., 0], steps[..., 1]).ravel()


def label_counts(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """How many sprites have each class: `(num_classes,)` int64 from `labels (N, K)` class ids."""
    labels = np.asarray(labels).ravel()
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must be class ids in 0 .. {num_classes - 1}, got {labels.min()} .. {labels.max()}")
    return np.bincount(labels.astype(np.intp), minlength=num_classes).astype(np.int64)


# --- Volumes -------------------------------------------------------------------------------------

# The panels of a volume's picture, in order: three orthogonal mid-slices and a maximum projection.
VOLUME_PANELS = ("mid-slice of axis 0", "mid-slice of axis 1", "mid-slice of axis 2", "maximum over axis 0")
VOLUME_FIGURE = "time_points.png"
_PANEL_GAP = 1  # columns of `_GAP_LEVEL` between a volume's panels, so that their edges show
_GAP_LEVEL = 96


def volume_panels_width(d: int) -> int:
    """The width of `volume_panels`' frames of a D x D x D grid: the panels and the gaps between them."""
    return len(VOLUME_PANELS) * (d + _PANEL_GAP) - _PANEL_GAP


def volume_panels(volumes: np.ndarray) -> np.ndarray:
    """Volumes as flat gray frames that `preview` shows: `(N, T, D, D, D)` -> `(N, T, D, 4 * D + 3)` uint8.

    Each frame is `VOLUME_PANELS` side by side, 1 column of gray level 96 apart: the slices
    `v[D // 2]`, `v[:, D // 2]`, `v[:, :, D // 2]` and the projection `v.max(axis=0)` of the
    volume v at that time point. The three slices meet at the centre voxel.
    """
    volumes = np.asarray(volumes)
    if volumes.dtype != np.uint8 or volumes.ndim != 5 or not volumes.shape[2] == volumes.shape[3] == volumes.shape[4]:
        raise ValueError(f"volumes must be (N, T, D, D, D) uint8, got {volumes.shape} {volumes.dtype}")
    d = volumes.shape[2]
    middle = d // 2
    panels = (volumes[:, :, middle], volumes[:, :, :, middle], volumes[:, :, :, :, middle], volumes.max(axis=2))
    gap = np.full((*volumes.shape[:2], d, _PANEL_GAP), _GAP_LEVEL, np.uint8)
    return np.concatenate([part for panel in panels for part in (gap, panel)][1:], axis=-1)


def volume_figure(
    path: str | os.PathLike, volume: np.ndarray, num_input_frames: int, count: int = 8, heading: str = ""
) -> Path:
    """Write a PNG of one volume `(T, D, D, D)` uint8 at `count` equally spaced time points (first and
    last included): one column per time point, one row per panel of `VOLUME_PANELS`."""
    volume = np.asarray(volume)
    frames = volume_panels(volume[None])[0]  # checks the shape
    t, d = volume.shape[:2]
    times = np.unique(np.linspace(0, t - 1, min(count, t)).round().astype(int))
    figure = Figure(figsize=(1.3 * len(times) + 1.2, 1.3 * len(VOLUME_PANELS) + 0.8), layout="constrained")
    axes = figure.subplots(len(VOLUME_PANELS), len(times), squeeze=False)
    for column, time in enumerate(times):
        role = "input" if time < num_input_frames else "target"
        for row, name in enumerate(VOLUME_PANELS):
            ax = axes[row, column]
            start = row * (d + _PANEL_GAP)
            ax.imshow(frames[time, :, start : start + d], cmap="gray", vmin=0, vmax=255, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"t = {time} ({role})", fontsize=8)
            if column == 0:
                ax.set_ylabel(name.replace(" of ", "\nof ").replace(" over ", "\nover "), fontsize=7)
    figure.suptitle(f"{heading}One {d}x{d}x{d} volume over {t} time points (cavities bright)")
    return _save(figure, Path(path))


# --- Statistics figures --------------------------------------------------------------------------


def write_stats(
    output_dir: str | os.PathLike,
    samples: Mapping[str, SplitSample],
    class_names: Sequence[str] | None,
    sprite_size: int | tuple[int, int],
    config: str | None = None,
) -> list[Path]:
    """Write the statistics figures (`STATS_FILES`; no labels figure if `class_names` is None, for
    unlabelled sprites) into `output_dir`; return their paths.

    samples: split name -> SplitSample. Frame differences, positions and speeds pool all splits
    (they share one motion model); labels are shown per split. config: the dataset's name, which
    starts each figure's title, so that figures of different configs are never confused.
    """
    if not samples:
        raise ValueError("samples is empty: give at least one split")
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    heading = f"{config}: " if config else ""
    figures = (
        _frame_differences_figure(samples, heading),
        _positions_figure(samples, sprite_size, heading),
        _speed_figure(samples, heading),
        _labels_figure(samples, class_names, heading) if class_names is not None else None,
    )
    return [_save(figure, output_dir / name) for figure, name in zip(figures, STATS_FILES) if figure is not None]


def _frame_differences_figure(samples: Mapping[str, SplitSample], heading: str) -> Figure:
    sums = [_difference_sums(sample.frames) for sample in samples.values()]
    mean, std = _mean_std(*(sum(parts) for parts in zip(*sums)))
    counts = ", ".join(f"{split} {len(sample.frames)}" for split, sample in samples.items())
    rgb = next(iter(samples.values())).frames.ndim == 5
    figure = Figure(figsize=(9, 4.2), layout="constrained")
    for ax, values, title in zip(figure.subplots(1, 2), (mean, std), ("mean", "standard deviation")):
        image = ax.imshow(values, cmap="magma")
        ax.set_title(f"{title} of |f[t+1] - f[t]|")
        ax.set_xlabel("column")
        ax.set_ylabel("row")
        label = "luminance levels (0-255, BT.601)" if rgb else "gray levels (0-255)"
        figure.colorbar(image, ax=ax, shrink=0.85, label=label)
    total = sum(len(sample.frames) for sample in samples.values())
    of = "\nof the RGB frames' luminance Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601)" if rgb else ""
    figure.suptitle(f"{heading}Frame differences per pixel, over {total} sequences ({counts}){of}")
    return figure


def _positions_figure(samples: Mapping[str, SplitSample], sprite_size, heading: str) -> Figure:
    image_size = next(iter(samples.values())).frames.shape[-1]  # square canvas: W = H
    heat = sum(position_heatmap(sample.positions, image_size, sprite_size) for sample in samples.values())
    num_frames = sum(sample.positions.shape[0] * sample.positions.shape[1] for sample in samples.values())
    figure = Figure(figsize=(5.6, 4.8), layout="constrained")
    ax = figure.subplots()
    image = ax.imshow(heat / num_frames, cmap="viridis")  # per frame, so that split sizes do not matter
    figure.colorbar(image, ax=ax, label="sprite footprints covering the pixel, per frame")
    height, width = (sprite_size, sprite_size) if isinstance(sprite_size, (int, np.integer)) else sprite_size
    ax.set_title(f"{heading}Where sprites are: each sprite's full {height}x{width} footprint box,\n"
                 f"over all {num_frames} frames and every sprite", fontsize=10)
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    return figure


def _speed_figure(samples: Mapping[str, SplitSample], heading: str) -> Figure:
    per_split = {split: speeds(sample.positions) for split, sample in samples.items()}
    values = [s for s in per_split.values() if len(s)]
    top = max((s.max() for s in values), default=1.0)
    bins = np.arange(0, np.ceil(top) + 0.5, 0.25)  # fine enough to separate the few integer-step speeds
    figure = Figure(figsize=(7, 4), layout="constrained")
    ax = figure.subplots()
    ax.hist(
        list(per_split.values()), bins=bins,
        weights=[np.full(len(s), 1 / max(len(s), 1)) for s in per_split.values()],  # fractions: splits differ in size
        label=[f"{split} (mean {s.mean() if len(s) else float('nan'):.2f} px)" for split, s in per_split.items()],
    )
    ax.set_xlabel("speed (pixels per frame, |p[t+1] - p[t]| of a sprite's top-left corner)")
    ax.set_ylabel("fraction of sprite steps")
    ax.set_title(f"{heading}Sprite speed per frame")
    ax.legend()
    return figure


def _labels_figure(samples: Mapping[str, SplitSample], class_names: Sequence[str], heading: str) -> Figure:
    figure = Figure(figsize=(8, 4), layout="constrained")
    ax = figure.subplots()
    x = np.arange(len(class_names))
    width = 0.8 / len(samples)
    top = 0.0
    for i, (split, sample) in enumerate(samples.items()):
        counts = label_counts(sample.labels, len(class_names))
        fractions = counts / max(counts.sum(), 1)  # fractions: splits differ in size
        ax.bar(x + (i - (len(samples) - 1) / 2) * width, fractions, width, label=f"{split} ({counts.sum()} sprites)")
        top = max(top, fractions.max())
    long_names = max(map(len, class_names)) > 3  # Fashion-MNIST's names would overlap unless slanted
    ax.set_xticks(x, class_names, rotation=30 if long_names else 0, ha="right" if long_names else "center")
    ax.set_ylabel("fraction of sprites")
    ax.set_title(f"{heading}Sprite classes per split")
    ax.set_ylim(0, top * 1.2)  # room above the bars for the legend
    ax.legend(loc="upper center", ncols=len(samples))
    return figure


def _save(figure: Figure, path: Path) -> Path:
    FigureCanvasAgg(figure)  # attaches the Agg canvas: no pyplot, no display
    png = io.BytesIO()
    title = figure.get_suptitle() or figure.axes[0].get_title()  # also in the file, for viewers and indexes
    figure.savefig(png, format="png", dpi=110, metadata={"Title": " ".join(title.split())})
    partial = path.with_name(path.name + ".partial")
    try:
        _write_bytes(path, partial, png.getvalue())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
