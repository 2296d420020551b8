"""The kinds of dataset: sequences of 2D frames (`generator.Spec`) and volumes over time
(`generator.volumes.VolumeSpec`). The builder, the command line and the card serve both through here.
"""

from __future__ import annotations

import dataclasses

from generator.components import Registry
from generator.fields import FIELDS, Field
from generator.spec import COMPONENTS, Spec
from generator.volumes.spec import COMPONENTS as VOLUME_COMPONENTS
from generator.volumes.fields import VOLUME_FIELDS
from generator.volumes.spec import VolumeSpec

# each kind's spec, and its components by field
KINDS = {Spec: COMPONENTS, VolumeSpec: VOLUME_COMPONENTS}


def components(spec: Spec | VolumeSpec) -> dict[str, Registry]:
    """The component fields of `spec`'s kind, with their registries."""
    return KINDS[type(spec)]


def all_components() -> dict[str, Registry]:
    """Every component field of every kind (their names never clash)."""
    return {field: registry for registries in KINDS.values() for field, registry in registries.items()}


def all_fields() -> list[Field]:
    """Every field of every kind, each once (the frames and the index are shared), in column order."""
    return list({f.name: f for f in FIELDS + VOLUME_FIELDS}.values())


def parameter_names() -> list[str]:
    """Every spec field of every kind, in field order, each once."""
    return list(dict.fromkeys(f.name for kind in KINDS for f in dataclasses.fields(kind)))


def from_dict(parameters: dict) -> Spec | VolumeSpec:
    """A spec of whichever kind `parameters` (`as_dict()`'s form) describe: volumes name their `cavities`."""
    return (VolumeSpec if "cavities" in parameters else Spec).from_dict(parameters)


def flat_keys(rows: list[dict]) -> list[str]:
    """The keys of several `generator.spec.flatten()`ed specs in field order, each component's parameters
    right under it (from whichever rows have them)."""
    return list(dict.fromkeys(k for field in parameter_names() for row in rows for k in row if k.partition(".")[0] == field))
