"""Transforms: how sprites turn and scale over time (placeholder until the affine transform lands)."""

from __future__ import annotations

from dataclasses import dataclass

from generator.components import Component, Registry

TRANSFORMS = Registry("transform")


@TRANSFORMS.register
@dataclass(frozen=True)
class Still(Component):
    """Sprites keep their shape, size and orientation."""

    name = "none"

    def box(self, shape):
        return shape

    def start(self, rng, shape, num_frames):
        return {}

    def describe(self, state, num_frames):
        return {}

    def apply(self, sprites, truth):
        return sprites
