"""Volumes: the voxels are the recorded cavities: their volumes, a torus's hole, and the material's topology.

Expected values come from the documented equations (`generator.volumes.cavities`) and from the voxels
themselves (connected components and the Euler characteristic), never from the engine's code.
"""

import math

import numpy as np
import pytest
from scipy import ndimage

from generator.volumes import VolumeSpec, generate

# A cavity living 3 time points is at its widest at the middle one: lifetime fraction (1 + 1/2) / 3 = 1/2.
WIDEST = 1


def full_resolution(cavities, size=128, **changes) -> VolumeSpec:
    """One cavity per sample, living 3 time points, on a size^3 grid output as it is generated."""
    parameters = dict(cavities={**cavities, "lifetime": 1.0}, num_cavities=1, num_frames=3, num_input_frames=1,
                      grid_size=size, generation_size=size, num_train=4, num_validation=0, num_test=0, seed=11)
    return VolumeSpec(**{**parameters, **changes})


def column(record, name):
    """A cavity's documented record columns: centre_first 0-2, centre_last 3-5, orientation_first 6-9,
    orientation_last 10-13, size 14-16."""
    at = {"centre_first": (0, 3), "centre_last": (3, 6), "orientation_first": (6, 10), "orientation_last": (10, 14),
          "size": (14, 17)}[name]
    return record[at[0]: at[1]].astype(np.float64)


def turned(q, v):
    """v turned by the unit quaternion q = (w, x, y, z): the vector part of q (0, v) q*."""
    w, u = q[0], q[1:]
    return v + 2 * w * np.cross(u, v) + 2 * np.cross(u, np.cross(u, v))


def betti(volume):
    """(b0, b1, b2) of the material (voxels 0) as a union of closed unit cubes.

    b0: its pieces (cubes touching at a corner are joined: 26-connected). b2: the pieces of the
    rest (open: face-connected) that do not reach the grid's faces. b1 = b0 + b2 - chi, with chi
    = vertices - edges + squares - cubes of the complex: a cell is in it where a cube around it is.
    """
    material = np.asarray(volume) == 0
    b0 = ndimage.label(material, structure=np.ones((3, 3, 3)))[1]
    voids, count = ndimage.label(~material)
    faces = np.concatenate([voids[[0, -1]].ravel(), voids[:, [0, -1]].ravel(), voids[:, :, [0, -1]].ravel()])
    b2 = count - np.count_nonzero(np.unique(faces))
    padded = np.pad(material, 1)

    def cells(spanned):  # the cells spanning the axes `spanned`: any of the cubes on either side, on the others
        around = padded
        for axis in set(range(3)) - set(spanned):
            ahead = [slice(None)] * 3
            behind = [slice(None)] * 3
            ahead[axis], behind[axis] = slice(1, None), slice(None, -1)
            around = around[tuple(ahead)] | around[tuple(behind)]
        return np.count_nonzero(around)

    chi = cells(()) - sum(cells((a,)) for a in range(3)) + sum(cells((a, b)) for a, b in ((0, 1), (0, 2), (1, 2))) \
        - np.count_nonzero(material)
    return b0, b0 + b2 - chi, b2


def test_the_betti_reference_counts_pieces_tunnels_and_voids_of_hand_made_solids():
    solid = np.zeros((9, 9, 9), np.uint8)
    assert betti(solid) == (1, 0, 0)
    one_void = solid.copy()
    one_void[4, 4, 4] = 255
    assert betti(one_void) == (1, 0, 1)
    ring = solid.copy()  # a square ring of cavity voxels around a material core: one tunnel, one void
    ring[2:7, 2:7, 4] = 255
    ring[3:6, 3:6, 4] = 0
    assert betti(ring) == (1, 1, 1)
    corners = solid.copy()  # two voids touching at an edge only: the edge is material's, so two voids
    corners[3, 3, 3] = corners[4, 4, 3] = 255
    assert betti(corners) == (1, 0, 2)
    tube = solid.copy()  # a cavity running through the whole block: the material has a tunnel, no void
    tube[4, 4, :] = 255
    assert betti(tube) == (1, 1, 0)


@pytest.mark.parametrize("seed", [11, 12])
def test_a_ball_has_the_voxels_of_its_ellipsoid_within_2_percent(seed):
    spec = full_resolution({"name": "ball"}, seed=seed)
    volumes = generate(spec, "train", 0, 4)
    for frames, record in zip(volumes.frames, volumes.truth["cavity_parameters"][:, 0]):
        a, b, c = column(record, "size") * 128
        counted = np.count_nonzero(frames[WIDEST] == 255)
        assert counted == pytest.approx(4 / 3 * math.pi * a * b * c, rel=0.02)


@pytest.mark.parametrize("seed", [11, 12])
def test_a_torus_has_the_voxels_of_2_pi_squared_R_r_squared_within_2_percent(seed):
    spec = full_resolution({"name": "torus"}, seed=seed)
    volumes = generate(spec, "train", 0, 4)
    for frames, record in zip(volumes.frames, volumes.truth["cavity_parameters"][:, 0]):
        ring_first, ring_last, tube = column(record, "size") * 128
        ring = (ring_first + ring_last) / 2  # R drifts linearly: halfway at the middle of its life
        counted = np.count_nonzero(frames[WIDEST] == 255)
        assert counted == pytest.approx(2 * math.pi**2 * ring * tube**2, rel=0.02)


def test_a_torus_has_a_hole_of_material_through_its_axis():
    spec = full_resolution({"name": "torus", "turn": 90.0, "drift": 0.1})
    volumes = generate(spec, "train", 0, 4)
    for frames, record in zip(volumes.frames, volumes.truth["cavity_parameters"][:, 0]):
        centre = (column(record, "centre_first") + column(record, "centre_last")) / 2 * 128
        q = column(record, "orientation_first") + column(record, "orientation_last")  # halfway: their sum, normalised
        axis = turned(q / np.linalg.norm(q), np.array([0.0, 0.0, 1.0]))
        across = np.cross(axis, [1.0, 0.0, 0.0] if abs(axis[0]) < 0.9 else [0.0, 1.0, 0.0])
        across /= np.linalg.norm(across)
        ring_first, ring_last, tube = column(record, "size") * 128

        def voxel(point):
            return frames[WIDEST][tuple(np.floor(point).astype(int))]

        assert voxel(centre) == 0  # the hole
        for along in (-0.5, 0.5):
            assert voxel(centre + along * tube * axis) == 0
        for side in (1, -1):  # the tube on either side of the hole, in the slice through the axis
            assert voxel(centre + side * (ring_first + ring_last) / 2 * across) == 255


@pytest.mark.parametrize("cavities, seed", [("mixed", 3), ("torus", 4), ("ball", 5)])
def test_the_recorded_betti_numbers_are_those_of_the_voxels_at_every_time_point(cavities, seed):
    spec = VolumeSpec(cavities=cavities, num_cavities=(1, 4), num_frames=6, num_input_frames=3, grid_size=64,
                      generation_size=64, num_train=12, num_validation=0, num_test=0, seed=seed)
    volumes = generate(spec, "train", 0, 12)
    labels = volumes.truth["betti_numbers"]
    for frames, recorded in zip(volumes.frames, labels):
        assert [betti(volume) for volume in frames] == [tuple(b) for b in recorded.tolist()]
    assert labels[..., 2].max() >= 2  # several voids at once
    if cavities != "ball":
        assert labels[..., 1].max() >= 1  # and tunnels


def test_cavities_keep_off_the_grid_faces():
    spec = VolumeSpec(cavities={"name": "mixed", "gap": 1 / 64}, num_cavities=4, num_frames=4, num_input_frames=2,
                      grid_size=64, generation_size=64, num_train=16, num_validation=0, num_test=0, seed=2)
    frames = generate(spec, "train", 0, 16).frames
    assert frames.any()
    assert not frames[..., [0, -1], :, :].any() and not frames[..., [0, -1], :].any() and not frames[..., [0, -1]].any()
