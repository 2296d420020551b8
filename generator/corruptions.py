"""Corruptions of the input frames: an occluding patch, noise, and dropped frames.

Each kind is its own registry of components (`OCCLUSIONS`, `NOISES`, `DROPS`), chosen by the spec's
`occlusion`, `noise` and `drop`, each drawing from its own random stream, so that turning one on
never changes another's draws. They change the input frames only, after rendering: the targets stay
clean, and `corrupt` returns the clean inputs (`clean_input_frames`) with what each corruption did.
Occlusion and drop draw a little per frame, per block of sequences (`start`, like the motions);
noise draws per byte, so from a generator per sequence (`generator.streams.sequence_rng`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from generator import streams
from generator.components import Component, Registry, bounds, parameter

if TYPE_CHECKING:
    from generator.spec import Spec

OCCLUSIONS = Registry("occlusion")
NOISES = Registry("noise")
DROPS = Registry("drop")

# the spec's corruption fields, in the order they are applied
KINDS = ("occlusion", "noise", "drop")


def corrupted(spec: Spec) -> bool:
    """Whether any corruption is on (then the dataset has `clean_input_frames`)."""
    return any(getattr(spec, kind).name != "none" for kind in KINDS)


def corrupt(spec: Spec, inputs: np.ndarray, draws: dict, split: str, indices: np.ndarray) -> dict[str, np.ndarray]:
    """Corrupt `inputs (N, T_in, H, W)` or `(N, T_in, 3, H, W)` uint8 in place.

    draws: the range's block draws, `{"occlusion": {...}, "drop": {...}}`; indices: `(N,)` the
    sequences' indices in `split`, which key their noise. Returns the ground truth by field name:
    `clean_input_frames` (a copy of the inputs before), `occlusion_boxes` and `dropped` when on;
    nothing when every corruption is off.
    """
    if not corrupted(spec):
        return {}
    truth = {"clean_input_frames": inputs.copy(), **draws["occlusion"], **draws["drop"]}
    # the patch is part of the scene, so the camera's noise covers it; a dropped frame loses everything
    spec.occlusion.apply(inputs, draws["occlusion"])
    spec.noise.apply(inputs, (streams.sequence_rng(spec.seed, split, i, "noise") for i in indices.tolist()))
    spec.drop.apply(inputs, draws["drop"])
    return truth


# --- occlusion ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Occlusion(Component):
    """What every occlusion does: per-frame draws for a block, then patches painted from them."""

    def check_with(self, image_size: int) -> None:
        """Checks against the canvas (run by the spec)."""

    def start(self, rng: np.random.Generator, count: int, num_frames: int, image_size: int) -> dict[str, np.ndarray]:
        """The draws of `count` sequences of `num_frames` input frames, `(count, ...)` each, so that a range is a slice."""
        raise NotImplementedError

    def apply(self, inputs: np.ndarray, draws: dict[str, np.ndarray]) -> None:
        """Paint the patches of a range's `draws` into `inputs (N, T_in, [3,] H, W)` uint8, in place."""
        raise NotImplementedError


@OCCLUSIONS.register
@dataclass(frozen=True)
class NoOcclusion(Occlusion):
    """Nothing hides the sprites (the original); nothing is drawn from the stream."""

    name = "none"

    def start(self, rng, count, num_frames, image_size):
        return {}

    def apply(self, inputs, draws):
        pass


@OCCLUSIONS.register
@dataclass(frozen=True)
class Patch(Occlusion):
    """A rectangle of one value over each input frame, of a random size and place, inside the canvas.

    From one draw u ~ U[0, 1) of shape (N, T_in, 4) per block, with (min, max) = `size`:
    width = min + floor(u0 (max - min + 1)), height likewise from u1, x_min = floor(u2 (W - width + 1)),
    y_min = floor(u3 (H - height + 1)). Every channel of every pixel of the box becomes `value`;
    `occlusion_boxes` records the box (x_min, y_min, x_max, y_max), max exclusive.
    """

    name = "patch"
    size: int | tuple[int, int] = parameter(
        (16, 32), 1, 1024, "the patch's side in pixels, width and height each drawn per input frame", span=True)
    value: int = parameter(128, 0, 255, "the patch's pixel value, in every channel")

    def check_with(self, image_size):
        if bounds(self.size)[1] > image_size:
            raise ValueError(
                f"occlusion.size={self.size!r} must be at most image_size={image_size}: the patch lies inside the canvas"
            )

    def start(self, rng, count, num_frames, image_size):
        """`occlusion_boxes (count, num_frames, 4)` int16."""
        u = rng.random((count, num_frames, 4))
        low, high = bounds(self.size)
        sides = low + np.floor(u[..., :2] * (high - low + 1))  # (width, height)
        corner = np.floor(u[..., 2:] * (image_size - sides + 1))  # (x_min, y_min)
        return {"occlusion_boxes": np.concatenate([corner, corner + sides], axis=-1).astype(np.int16)}

    def apply(self, inputs, draws):
        # a slice per frame touches only the patch: 4x faster than a mask of every pixel
        for sequence, boxes in zip(inputs, draws["occlusion_boxes"].tolist()):
            for frame, (x_min, y_min, x_max, y_max) in zip(sequence, boxes):
                frame[..., y_min:y_max, x_min:x_max] = self.value


# --- noise -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Noise(Component):
    """What every noise does: change each byte of each sequence's inputs from that sequence's generator."""

    def apply(self, inputs: np.ndarray, rngs: Iterable[np.random.Generator]) -> None:
        """Noise `inputs (N, T_in, [3,] H, W)` uint8 in place, sequence j from the j-th of `rngs`."""
        raise NotImplementedError


@NOISES.register
@dataclass(frozen=True)
class NoNoise(Noise):
    """Clean inputs (the original); nothing is drawn from the stream."""

    name = "none"

    def apply(self, inputs, rngs):
        pass


@NOISES.register
@dataclass(frozen=True)
class SaltPepper(Noise):
    """Salt-and-pepper: each byte becomes 0 with probability p/2 and 255 with probability p/2.

    Per sequence, one float32 u ~ U[0, 1) per byte (`Generator.random`, the input frames' shape),
    compared in float32 with p = `probability`: u < p/2 gives 0, p/2 <= u < p gives 255, the rest
    keep their value.
    """

    name = "salt_pepper"
    probability: float = parameter(0.5, 0, 1, "the chance that a byte is replaced, half by 0 and half by 255")

    def apply(self, inputs, rngs):
        p = np.float32(self.probability)
        for frames, rng in zip(inputs, rngs):
            u = rng.random(frames.shape, np.float32)
            # bytes set to 255 where u < p, then to 0 where u < p/2: as masks, 20x faster than masked assignment
            frames |= np.multiply(u < p, np.uint8(255))
            frames &= np.multiply(u >= p / 2, np.uint8(255))


@NOISES.register
@dataclass(frozen=True)
class Gaussian(Noise):
    """Additive Gaussian noise: each byte plus sigma times a standard normal, rounded and clipped to 0 .. 255.

    Per sequence, one float32 z ~ N(0, 1) per byte (`Generator.standard_normal`, the input frames'
    shape); in float32, value + sigma * z, rounded half to even (`np.rint`), then clipped.
    """

    name = "gaussian"
    sigma: float = parameter(25.0, 0, 255, "the standard deviation, in pixel values", open_low=True)

    def apply(self, inputs, rngs):
        sigma = np.float32(self.sigma)
        for frames, rng in zip(inputs, rngs):
            noisy = sigma * rng.standard_normal(frames.shape, np.float32)
            noisy += frames
            np.copyto(frames, np.clip(np.rint(noisy, out=noisy), 0, 255, out=noisy), casting="unsafe")  # whole numbers


# --- dropped frames ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drop(Component):
    """What every drop does: which input frames are lost, drawn per block, then zeroed."""

    def start(self, rng: np.random.Generator, count: int, num_frames: int) -> dict[str, np.ndarray]:
        """The draws of `count` sequences of `num_frames` input frames, `(count, ...)` each."""
        raise NotImplementedError

    def apply(self, inputs: np.ndarray, draws: dict[str, np.ndarray]) -> None:
        """Zero the dropped frames of `inputs (N, T_in, [3,] H, W)` uint8, in place."""
        raise NotImplementedError


@DROPS.register
@dataclass(frozen=True)
class NoDrop(Drop):
    """Every input frame is kept (the original); nothing is drawn from the stream."""

    name = "none"

    def start(self, rng, count, num_frames):
        return {}

    def apply(self, inputs, draws):
        pass


@DROPS.register
@dataclass(frozen=True)
class Frames(Drop):
    """Each input frame is dropped independently with probability p: all its pixels become 0.

    From one draw u ~ U[0, 1) of shape (N, T_in) per block: frame t is dropped where u < p
    (`dropped`).
    """

    name = "frames"
    probability: float = parameter(0.1, 0, 1, "the chance that an input frame is dropped")

    def start(self, rng, count, num_frames):
        """`dropped (count, num_frames)` bool."""
        return {"dropped": rng.random((count, num_frames)) < self.probability}

    def apply(self, inputs, draws):
        inputs[draws["dropped"]] = 0
