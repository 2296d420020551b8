"""Scores of predicted frames against their targets: the metrics video-prediction papers report, in numpy.

    scores = score(predictions, targets)     # (N, T, ...) each: bytes 0 .. 255, or floats in [0, 1]
    scores.curves["ssim"]                     # (T,) float64: each frame's mean over the N sequences
    scores.averages["mse_per_frame"]          # the mean over sequences and frames

A frame is gray `(H, W)`, RGB `(3, H, W)` or a volume `(D, D, D)` (one time point of a 3D grid).
Values are read on the scale [0, 1]: a byte b is b / 255; floats are taken as they are and must lie
in [0, 1]. With P the number of values in a frame (H W, 3 H W or D^3) and d the differences between
prediction and target, each frame scores (`METRICS`):

- `mse_per_pixel`, `mae_per_pixel`: the mean of d^2 and of |d| over the P values;
- `mse_per_frame`, `mae_per_frame`: their sums over the P values (P times the above): OpenSTL's
  `MSE` and `MAE` and the "MSE per frame" of the Moving MNIST literature;
- `psnr`: 10 log10(1 / mse_per_pixel) in dB (peak 1, that is 255 on bytes), at most 10 log10(255^2 P),
  the PSNR of a frame one byte off in one value: an exact frame's would be infinite, and so would
  every average it is part of (frames within a byte of exact score this too);
- `ssim`: Wang et al. (2004) with their Gaussian window (sigma 1.5, 11 x 11), K1 = 0.01, K2 = 0.03 and
  population covariances, averaged over the windows that lie inside the frame; RGB: the mean of the
  three channels' (scikit-image's `structural_similarity(..., gaussian_weights=True,
  use_sample_covariance=False, data_range=255)`); 2D frames of at least 11 x 11 pixels only;
- `jaccard_distance`: 1 - |A & B| / |A | B| of the sets of values at least half the scale (bytes >= 128,
  floats >= 0.5), 0 when both are empty; gray frames and volumes.

A curve is the mean over sequences of each frame's value, and an average the mean of a curve. Work
goes a block of at most `READ_VALUES` values at a time, so memory does not grow with N; sums of
squared byte differences are exact in float64, and the order of every sum is fixed, so the same
arrays give the same scores to the last bit. No matrix products (BLAS): only elementwise numpy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

# metric -> what it is; and how the command line and the tables write its values
METRICS = {
    "mse_per_pixel": ("mean squared error per value, on [0, 1]", ".5f"),
    "mae_per_pixel": ("mean absolute error per value, on [0, 1]", ".5f"),
    "mse_per_frame": ("squared errors summed over a frame's values, on [0, 1] (OpenSTL's MSE)", ".2f"),
    "mae_per_frame": ("absolute errors summed over a frame's values, on [0, 1] (OpenSTL's MAE)", ".2f"),
    "psnr": ("peak signal-to-noise ratio, 10 log10(1 / mse_per_pixel), dB, at most that of one byte off", ".2f"),
    "ssim": ("structural similarity, Gaussian window sigma 1.5 (Wang et al. 2004)", ".4f"),
    "jaccard_distance": ("1 - intersection / union of the values >= half the scale (0 when both empty)", ".4f"),
}

_ERRORS = ("mse_per_pixel", "mae_per_pixel", "mse_per_frame", "mae_per_frame", "psnr")


class FrameKind(NamedTuple):
    """What a frame is: its number of axes, and the metrics that apply to it."""

    axes: int
    metrics: tuple[str, ...]


FRAME_KINDS = {
    "gray": FrameKind(2, (*_ERRORS, "ssim", "jaccard_distance")),  # (H, W)
    "rgb": FrameKind(3, (*_ERRORS, "ssim")),  # (3, H, W): not binary
    "volume": FrameKind(3, (*_ERRORS, "jaccard_distance")),  # (D, D, D): no 3D SSIM
}

READ_VALUES = 2**21  # values of predictions (and of targets) read and scored at once: 16 MiB as float64
_SSIM_VALUES = 2**17  # values filtered at once: each of SSIM's float64 maps stays in the CPU's cache

# Wang et al. (2004)'s window: a Gaussian of sigma 1.5 cut at 3.5 sigma (radius 5: 11 taps), normalised,
# as scipy.ndimage (and so scikit-image) makes it
_RADIUS = 5
_GAUSSIAN = np.exp(-0.5 * (np.arange(-_RADIUS, _RADIUS + 1) / 1.5) ** 2)
_GAUSSIAN /= _GAUSSIAN.sum()
_C1, _C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2  # SSIM's constants for values in bytes (data range 255)


def frame_kind(frame_shape: tuple[int, ...]) -> str:
    """"gray" for `(H, W)`, "rgb" for `(3, H, W)` (not a cube), "volume" for `(D, D, D)`; else ValueError."""
    shape = tuple(frame_shape)
    if len(shape) == 2:
        return "gray"
    if len(shape) == 3 and shape[0] == 3 and shape[1:] != (3, 3):
        return "rgb"
    if len(shape) == 3 and len(set(shape)) == 1:
        return "volume"
    raise ValueError(
        f"frames of shape {shape}: expected gray (H, W), RGB (3, H, W) or volumes (D, D, D) after (N, T)"
    )


def evaluation_split(split_sizes: dict[str, int]) -> str:
    """The split scores are reported on: test, else validation, else train."""
    return next(split for split in ("test", "validation", "train") if split_sizes.get(split))


def metrics_of(kind: str, frame_shape: tuple[int, ...]) -> tuple[str, ...]:
    """The metrics scored for frames of `kind` and `frame_shape`: SSIM needs frames of at least 11 x 11."""
    small = min(frame_shape[-2:]) < 2 * _RADIUS + 1
    return tuple(m for m in FRAME_KINDS[kind].metrics if not (m == "ssim" and small))


@dataclass(frozen=True)
class Scores:
    """`curves[metric] (T,) float64`: each frame's value averaged over `num_sequences` sequences."""

    num_sequences: int
    curves: dict[str, np.ndarray]

    @property
    def averages(self) -> dict[str, float]:
        """Each metric's mean over sequences and frames."""
        return {name: float(curve.mean()) for name, curve in self.curves.items()}

    def as_dict(self) -> dict:
        """JSON-ready: `num_sequences`, `averages` and `per_frame` (lists)."""
        return {
            "num_sequences": self.num_sequences,
            "averages": self.averages,
            "per_frame": {name: curve.tolist() for name, curve in self.curves.items()},
        }


def score(predictions, targets, kind: str | None = None, progress: Callable[[int], object] | None = None) -> Scores:
    """Score `predictions (N, T, *frame)` against `targets` of the same shape.

    Either may be an array, a memory map (`np.load(path, mmap_mode="r")`) or `LazyFrames`; they are read
    `[start:stop, first:last]` a block at a time. Bytes (any integer dtype, values 0 .. 255) or floats in
    [0, 1]; anything else raises ValueError. kind: "gray", "rgb" or "volume" (default: `frame_kind`).
    progress: called with the number of sequences each block completed.
    """
    shape = tuple(predictions.shape)
    if shape != tuple(targets.shape):
        raise ValueError(f"predictions of shape {shape} and targets of shape {tuple(targets.shape)}: they must match")
    if len(shape) < 4 or 0 in shape:
        raise ValueError(f"predictions of shape {shape}: expected (N, T, *frame) with N, T >= 1 and 2D or 3D frames")
    for name, array in (("predictions", predictions), ("targets", targets)):
        if np.dtype(array.dtype).kind not in "uif":
            raise ValueError(f"{name} of dtype {array.dtype}: expected bytes (an integer dtype) or floats in [0, 1]")
    kind = kind or frame_kind(shape[2:])
    if kind not in FRAME_KINDS or FRAME_KINDS[kind].axes != len(shape) - 2:
        raise ValueError(f"kind {kind!r} for frames of shape {shape[2:]}: expected {frame_kind(shape[2:])!r}")
    names = metrics_of(kind, shape[2:])
    sums = {name: np.zeros(shape[1]) for name in names}
    for sequences, frames in _blocks(shape):
        scores = _frame_scores(
            _checked("predictions", predictions[sequences, frames]),
            _checked("targets", targets[sequences, frames]),
            names,
        )
        for name in names:
            sums[name][frames] += scores[name].sum(axis=0)
        if progress and frames.stop == shape[1]:
            progress(sequences.stop - sequences.start)
    return Scores(shape[0], {name: total / shape[0] for name, total in sums.items()})


def _blocks(shape: tuple[int, ...]):
    """(sequences, frames) slices covering `shape`'s first two axes, each at most READ_VALUES values (or one frame)."""
    num_sequences, num_frames, frame = shape[0], shape[1], int(np.prod(shape[2:]))
    if num_frames * frame <= READ_VALUES:
        step = READ_VALUES // (num_frames * frame)
        for start in range(0, num_sequences, step):
            yield slice(start, min(start + step, num_sequences)), slice(0, num_frames)
        return
    step = max(1, READ_VALUES // frame)  # a sequence larger than a block: its frames a block at a time
    for index in range(num_sequences):
        for first in range(0, num_frames, step):
            yield slice(index, index + 1), slice(first, min(first + step, num_frames))


def _checked(name: str, block) -> np.ndarray:
    """`block` as an array whose values are bytes 0 .. 255 or floats in [0, 1]; else ValueError."""
    block = np.asarray(block)
    if block.dtype == np.uint8:
        return block
    low, high = (0, 255) if block.dtype.kind in "ui" else (0.0, 1.0)
    if not (np.all(np.isfinite(block)) and block.min() >= low and block.max() <= high):
        wanted = "bytes 0 .. 255" if block.dtype.kind in "ui" else "floats in [0, 1] (bytes / 255)"
        raise ValueError(
            f"{name} of dtype {block.dtype} hold values from {block.min()} to {block.max()}: expected {wanted}"
        )
    return block


def _frame_scores(predictions: np.ndarray, targets: np.ndarray, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Each metric of `names` for every frame of a block `(n, m, *frame)`: `(n, m)` float64 each."""
    n, m, *frame = predictions.shape
    values = int(np.prod(frame))
    x, y = _bytes(predictions).reshape(n * m, *frame), _bytes(targets).reshape(n * m, *frame)
    difference = (x - y).reshape(n * m, values)
    squared = (difference * difference).sum(axis=1)
    absolute = np.abs(difference, out=difference).sum(axis=1)
    psnr = 10 * np.log10(values * 255.0**2 / np.maximum(squared, 1.0))  # 1: one byte off in one value
    scores = {
        "mse_per_pixel": squared / (values * 255.0**2),
        "mae_per_pixel": absolute / (values * 255.0),
        "mse_per_frame": squared / 255.0**2,
        "mae_per_frame": absolute / 255.0,
        "psnr": psnr,
    }
    if "ssim" in names:
        scores["ssim"] = _ssim(x, y)
    if "jaccard_distance" in names:
        scores["jaccard_distance"] = _jaccard_distance(predictions.reshape(n * m, values), targets.reshape(n * m, values))
    return {name: scores[name].reshape(n, m) for name in names}


def _bytes(block: np.ndarray) -> np.ndarray:
    """float64 values on the scale of bytes, 0 .. 255 (exact for bytes)."""
    return block.astype(np.float64) if block.dtype.kind in "ui" else block.astype(np.float64) * 255.0


def _ssim(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """SSIM of each frame `(k, [3,] H, W)` float64 bytes: `(k,)`; a few frames at a time, to stay in cache."""
    step = max(1, _SSIM_VALUES // int(np.prod(x.shape[1:])))
    return np.concatenate([_ssim_frames(x[i : i + step], y[i : i + step]) for i in range(0, len(x), step)])


def _ssim_frames(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    mean_x, mean_y = _window_means(x), _window_means(y)
    variance_x = _window_means(x * x) - mean_x * mean_x
    variance_y = _window_means(y * y) - mean_y * mean_y
    covariance = _window_means(x * y) - mean_x * mean_y
    similarity = ((2 * mean_x * mean_y + _C1) * (2 * covariance + _C2)) / (
        (mean_x * mean_x + mean_y * mean_y + _C1) * (variance_x + variance_y + _C2)
    )
    return similarity.reshape(len(x), -1).mean(axis=1)


def _window_means(a: np.ndarray) -> np.ndarray:
    """The Gaussian-weighted mean of each 11 x 11 window inside the last two axes: `(..., H - 10, W - 10)`.

    Only windows inside the frame: scikit-image filters with reflected edges, then crops the 5 pixels
    those reach, so what it keeps is this.
    """
    for axis in (-1, -2):
        size = a.shape[axis] - 2 * _RADIUS
        taps = lambda k: a[(..., slice(k, k + size)) if axis == -1 else (..., slice(k, k + size), slice(None))]  # noqa: E731
        out = taps(_RADIUS) * _GAUSSIAN[_RADIUS]
        for k in range(_RADIUS):  # the window is symmetric: pair the taps k and 10 - k
            pair = taps(k) + taps(2 * _RADIUS - k)
            pair *= _GAUSSIAN[k]
            out += pair
        a = out
    return a


def _jaccard_distance(predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """1 - |A & B| / |A | B| per row `(k, P)`, A and B the values at least half the scale; 0 where both are empty."""
    a, b = _on(predictions), _on(targets)
    intersection = np.count_nonzero(a & b, axis=1)
    union = np.count_nonzero(a | b, axis=1)
    return 1.0 - np.divide(intersection, union, out=np.ones(len(union)), where=union > 0)


def _on(block: np.ndarray) -> np.ndarray:
    """Values at least half the scale: bytes >= 128 (127.5 rounded up), floats >= 0.5."""
    return block >= (128 if block.dtype.kind in "ui" else 0.5)


# --- predictions made on demand: datasets' columns and the trivial predictors -------------------------


def generated(spec, pools: dict, split: str, count: int) -> tuple[LazyFrames, LazyFrames]:
    """The input and the output frames of the first `count` sequences of a split of `spec` (a
    `generator.Spec` or `VolumeSpec`), generated a block of sequences at a time, when `score` reads them."""
    from generator import generate  # the engine, only for this

    made = functools.lru_cache(maxsize=1)(lambda start, stop: generate(spec, pools, split, start, stop))
    frame = spec.frame_shape()
    return (LazyFrames((count, spec.num_input_frames, *frame), np.uint8, lambda start, stop: made(start, stop).input_frames),
            LazyFrames((count, spec.num_output_frames, *frame), np.uint8, lambda start, stop: made(start, stop).output_frames))


class LazyFrames:
    """`(N, T, *frame)` frames made a block of sequences at a time, as `score` reads them.

    make(start, stop) -> `(stop - start, T, *frame)` array; `frames[start:stop, first:last]` slices it.
    """

    def __init__(self, shape: tuple[int, ...], dtype, make: Callable[[int, int], np.ndarray]):
        self.shape, self.dtype, self._make = tuple(shape), np.dtype(dtype), make

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index) -> np.ndarray:
        sequences, frames = index if isinstance(index, tuple) else (index, slice(None))
        start, stop, _ = sequences.indices(self.shape[0])
        return self._make(start, stop)[:, frames]


def dataset_frames(dataset, column: str = "output_frames") -> LazyFrames:
    """A frames column of a `datasets.Dataset` (fixed-shape `ArrayND`), read as uint8 a block at a time."""
    table = dataset.with_format("numpy", columns=[column], dtype=np.uint8)
    shape = (dataset.num_rows, *dataset.features[column].shape)
    return LazyFrames(shape, np.uint8, lambda start, stop: table[start:stop][column])


def last_input_frame(inputs, num_frames: int) -> LazyFrames:
    """The baseline that predicts the last input frame for every one of `num_frames` frames.

    inputs: `(N, T_in, *frame)`, sliceable like `score`'s arguments.
    """
    n, _, *frame = inputs.shape

    def make(start: int, stop: int) -> np.ndarray:
        last = np.asarray(inputs[start:stop, -1:])
        return np.broadcast_to(last, (stop - start, num_frames, *frame))  # a view: no copy per frame

    return LazyFrames((n, num_frames, *frame), inputs.dtype, make)


def zeros(shape: tuple[int, ...]) -> LazyFrames:
    """The baseline that predicts black (all-zero) frames, `shape (N, T, *frame)` uint8."""
    return LazyFrames(shape, np.uint8, lambda start, stop: np.broadcast_to(np.uint8(0), (stop - start, *shape[1:])))


# baseline name -> the prediction it makes from (inputs, targets)
BASELINES = {
    "last input frame": lambda inputs, targets: last_input_frame(inputs, targets.shape[1]),
    "zeros": lambda inputs, targets: zeros(targets.shape),
}


def baselines(inputs, targets, progress: Callable[[int], object] | None = None) -> dict[str, Scores]:
    """Each of `BASELINES` scored against `targets (N, T_out, *frame)`, from `inputs (N, T_in, *frame)`."""
    return {name: score(predict(inputs, targets), targets, progress=progress) for name, predict in BASELINES.items()}
