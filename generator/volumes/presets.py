"""The named presets of volumes: plain data, merged into `generator.presets.PRESETS` by the builder."""

from __future__ import annotations

from dataclasses import replace

from generator.presets import Preset
from generator.volumes.spec import VolumeSpec

CAVITIES = VolumeSpec(
    cavities="mixed", num_cavities=(1, 3), num_frames=32, num_input_frames=16, grid_size=16, generation_size=64,
    num_train=2000, num_validation=200, num_test=200, seed=0,
)

VOLUME_PRESETS = {
    "cavities": Preset(
        "Seed 004: 1-3 ball and torus cavities appearing, changing and vanishing in a 16^3 grid (generated at 64^3), "
        "32 time points (16 in, 16 out), with Betti numbers.",
        CAVITIES,
    ),
    "cavities_thesis": Preset(
        "Seed 004's format (Hannouch and Chalup 2023): 128 time points (64 in, 64 out) of 16^3 downscaled from 128^3; "
        "25600 / 3200 / 3200 samples.",
        replace(CAVITIES, num_frames=128, num_input_frames=64, generation_size=128,
                num_train=25600, num_validation=3200, num_test=3200),
    ),
}
