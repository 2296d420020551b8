"""4D data: cavities that appear, change and vanish in solid material, over time, in a 3D grid.

A sample is T time points of a D x D x D grid of uint8: 0 material, 255 cavity (block means in
between). Each cavity is an analytic solid in (x, y, z, t), drawn per sample and recorded exactly,
with the topology of the material at every time point. `generator.sequences.generate` gives
volumes for a `VolumeSpec`, as it gives sequences for a `generator.Spec`.
"""

from generator.volumes.cavities import CAVITIES, FAMILIES
from generator.volumes.spec import CITATION
from generator.volumes.fields import VOLUME_FIELDS
from generator.volumes.generate import generate
from generator.volumes.occupancy import OCCUPANCIES
from generator.volumes.spec import VolumeSpec

__all__ = ["CAVITIES", "CITATION", "FAMILIES", "OCCUPANCIES", "VOLUME_FIELDS", "VolumeSpec", "generate"]
