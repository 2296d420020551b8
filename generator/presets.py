"""The named presets: what each one is and its generation parameters.

Plain data beside the engine, so that the command line can list and check presets without
importing `datasets`; `moving_mnist.PRESETS` turns them into builder configs.
"""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

from generator.spec import Spec
from generator.volumes import VolumeSpec


class Preset(NamedTuple):
    """A preset: one line saying what it is, and the parameters it generates with."""

    description: str
    spec: Spec | VolumeSpec


CLASSIC = Spec(
    source="mnist", num_objects=2, num_frames=20, num_input_frames=10, image_size=64,
    motion={"name": "classic", "step_length": 0.1}, compositing="max", sampling="random", background="none",
    num_train=10000, num_validation=1000, num_test=10000, seed=0,
)

CAVITIES = VolumeSpec(
    cavities="mixed", num_cavities=(1, 3), num_frames=32, num_input_frames=16, grid_size=16, generation_size=64,
    num_train=2000, num_validation=200, num_test=200, seed=0,
)

# What every preset of frames cites: Moving MNIST itself.
CITATION = """@inproceedings{srivastava2015unsupervised,
  title={Unsupervised Learning of Video Representations using LSTMs},
  author={Srivastava, Nitish and Mansimov, Elman and Salakhutdinov, Ruslan},
  booktitle={International Conference on Machine Learning (ICML)}, pages={843--852}, year={2015}
}"""

DEFAULT = "classic"

PRESETS = {
    "classic": Preset(
        "Srivastava et al. (2015): 2 MNIST digits, 20 frames (10 in, 10 out), 64x64, max.",
        CLASSIC,
    ),
    "notebook": Preset(
        "The seed notebook: 1 MNIST digit, 40 frames (20 in, 20 out), step 0.5, each digit once.",
        replace(
            CLASSIC, num_objects=1, num_frames=40, num_input_frames=20, motion={"name": "notebook", "step_length": 0.5},
            sampling="sequential", num_train=60000, num_validation=10000, num_test=0,
        ),
    ),
    "fashion": Preset("classic with Fashion-MNIST clothes instead of digits.", replace(CLASSIC, source="fashion_mnist")),
    "cifar10": Preset(
        "2 CIFAR-10 photographs (32x32 RGB) bouncing on a 64x64 canvas, the later one in front (over).",
        replace(CLASSIC, source="cifar10", compositing="over"),
    ),
    "mnist_cifar": Preset(
        "classic's 2 MNIST digits in front of a static CIFAR-10 photograph resized to 64x64 (RGB).",
        replace(CLASSIC, compositing="over", background="cifar10"),
    ),
    "doodles": Preset(
        "2 procedural doodles (lines, Bezier curves, ellipses; 32x32) bouncing on a 64x64 canvas.",
        replace(CLASSIC, source="doodles"),
    ),
    "numbers": Preset(
        "2 three-digit MNIST numbers (gaps of 0-4 pixels) bouncing on a 128x128 canvas.",
        replace(CLASSIC, source="numbers", image_size=128),
    ),
    "stochastic": Preset(
        "SVG-like (Denton and Fergus 2018): 2 MNIST digits that take a new random direction at each wall hit.",
        replace(CLASSIC, motion="stochastic", annotations=("centres", "velocities")),
    ),
    "mmnist_pp": Preset(
        "Moving MNIST++-like: 1-3 MNIST digits that turn and grow and shrink as they bounce, at speeds drawn per digit.",
        replace(CLASSIC, num_objects=(1, 3), motion={"name": "classic", "step_length": (0.05, 0.15)}, transform="affine",
                annotations=("centres", "velocities")),
    ),
    "doodle_morph": Preset(
        "2 doodles that change shape along cubic splines through 4 keyframe doodles, moving on splines (seed 002).",
        replace(CLASSIC, source={"name": "doodles", "morph": "spline"}, motion="spline", annotations=("centres", "velocities")),
    ),
    "orbits": Preset(
        "2 MNIST digits on parametric curves (line, circle, sine, spiral, figure-8), bounced at the edges.",
        replace(CLASSIC, motion="path", annotations=("centres", "velocities")),
    ),
    "crowded": Preset(
        "For detection and tracking: 3-8 MNIST digits hiding each other (over), with boxes, masks and track ids.",
        replace(CLASSIC, num_objects=(3, 8), compositing="over",
                annotations=("centres", "velocities", "boxes", "masks", "tracks")),
    ),
    "denoise": Preset(
        "Seed 003's denoising case: classic with 50% salt-and-pepper noise on the input frames; the targets and "
        "clean_input_frames are clean.",
        replace(CLASSIC, noise={"name": "salt_pepper", "probability": 0.5}),
    ),
    "cavities": Preset(
        "Seed 004's 4D data: 1-3 ball and torus cavities appearing, changing and vanishing in a 16^3 grid (block "
        "means of 64^3) over 32 time points (16 in, 16 out), with their equations and the material's Betti numbers.",
        CAVITIES,
    ),
    "cavities_thesis": Preset(
        "Seed 004's format (Hannouch and Chalup 2023): 128 time points of 16^3 downscaled from 128^3, "
        "32000 samples split 80/10/10 (64 time points in, 64 out).",
        replace(CAVITIES, num_frames=128, num_input_frames=64, generation_size=128,
                num_train=25600, num_validation=3200, num_test=3200),
    ),
}
