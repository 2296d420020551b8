"""Trajectories: the motions' `start`, `bounce` and `pixel_offsets` against the original algorithm.

The original (Srivastava et al. 2015, the authors' released `BouncingMNISTDataHandler`): move first, then clamp to [0, 1]
and flip the velocity at a wall (`<= 0`, `>= 1`), store `int(36 * position)`; y is the row, x the
column; frame 0 is already one step from the start.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.motion import MOTIONS, bounce, pixel_offsets
from helpers import reference_path

FREE = 64 - 28  # the classic free space per axis


def _start(motion, rng, shape):
    """The start positions and velocities a motion draws."""
    state = motion.start(rng, shape, 1)
    return state["position"], state["velocity"]


def _moves(position, velocity, num_frames):
    """`bounce` without its first entry (the start): frame 0 onwards."""
    return bounce(position, velocity, num_frames)[:, 1:]


def path(x, y, vx, vy, num_frames, free_space=FREE):
    """One sprite through the code under test: ([row...], [col...])."""
    position = np.array([[[x, y]]], dtype=np.float64)
    velocity = np.array([[[vx, vy]]], dtype=np.float64)
    offsets = pixel_offsets(_moves(position, velocity, num_frames), free_space)
    return offsets[0, :, 0, 0].tolist(), offsets[0, :, 0, 1].tolist()


# --- hand-worked examples (step 0.1 of the free space 36 px = 3.6 px per frame) ---------------


def test_sprite_hitting_the_right_wall_is_clamped_in_frame_0_and_comes_back():
    # x = 0.95 + 0.1 = 1.05 -> clamped to 1.0 -> col 36, vx flipped to -0.1;
    # then 0.9 -> 32.4 -> 32, 0.8 -> 28.8 -> 28, 0.7 -> 25.2 -> 25, 0.6 -> 21.6 -> 21.
    rows, cols = path(0.95, 0.5, 0.1, 0.0, 5)
    assert cols == [36, 32, 28, 25, 21]
    assert rows == [18, 18, 18, 18, 18]  # y = 0.5 -> int(18.0)


def test_touching_the_left_wall_exactly_flips_the_velocity():
    # x = 0.2 - 0.1 = 0.1 (col 3), then exactly 0.0: `x <= 0` flips, so next 0.1 (col 3), 0.2 (col 7).
    rows, cols = path(0.2, 0.5, -0.1, 0.0, 4)
    assert cols == [3, 0, 3, 7]


def test_pixel_offset_truncates_instead_of_rounding():
    # 0.899 + 0.1 = 0.999 -> 35.964 -> 35 (rounding would give 36); then clamped 1.0 -> 36.
    rows, cols = path(0.899, 0.5, 0.1, 0.0, 2)
    assert cols == [35, 36]


def test_corner_bounce_flips_both_axes_in_the_same_frame():
    # |v| = sqrt(0.06^2 + 0.08^2) = 0.1. Frame 0: x 1.01 -> 1 (col 36), y -0.06 -> 0 (row 0);
    # then x 0.94, 0.88, 0.82 -> cols 33, 31, 29; y 0.08, 0.16, 0.24 -> rows 2, 5, 8.
    rows, cols = path(0.95, 0.02, 0.06, -0.08, 4)
    assert cols == [36, 33, 31, 29]
    assert rows == [0, 2, 5, 8]


def test_pixel_offsets_are_row_from_y_and_col_from_x_truncated():
    position = np.array([[0.999, 0.5], [0.25, 0.75], [0.0, 1.0], [1 / 36, 35.5 / 36]])
    offsets = pixel_offsets(position, 36)
    assert offsets.dtype == np.int16
    # (row, col) = (int(36 y), int(36 x)): 0.999 * 36 = 35.96 -> 35
    assert offsets.tolist() == [[18, 35], [27, 9], [36, 0], [35, 1]]


def test_frame_0_is_one_step_after_the_start():
    out = _moves(np.array([[[0.3, 0.6]]]), np.array([[[0.05, -0.02]]]), 3)
    assert out.shape == (1, 3, 1, 2)
    np.testing.assert_allclose(out[0, :, 0], [[0.35, 0.58], [0.40, 0.56], [0.45, 0.54]], rtol=0, atol=1e-12)


def test_bounce_leaves_its_inputs_unchanged():
    position = np.array([[[0.95, 0.02]]])
    velocity = np.array([[[0.06, -0.08]]])
    _moves(position, velocity, 10)
    assert position.tolist() == [[[0.95, 0.02]]]
    assert velocity.tolist() == [[[0.06, -0.08]]]


def test_bounce_shape_is_sequences_frames_sprites_xy():
    out = _moves(np.full((5, 3, 2), 0.5), np.full((5, 3, 2), 0.01), 7)
    assert out.shape == (5, 7, 3, 2)
    assert out.dtype == np.float64


# --- the code under test against the scalar reference, many start states ----------------------


@pytest.mark.parametrize("motion", ["classic", "notebook"])
@pytest.mark.parametrize("step_length", [0.1, 0.5, 0.37, 1.0])
def test_bounce_matches_the_scalar_reference_loop(motion, step_length):
    n, k, t = 64, 3, 60
    position, velocity = _start(MOTIONS[motion](step_length=step_length), np.random.default_rng(11), (n, k))
    offsets = pixel_offsets(_moves(position, velocity, t), FREE)
    for i in range(n):
        for j in range(k):
            rows, cols = reference_path(*position[i, j], *velocity[i, j], t)
            assert offsets[i, :, j, 0].tolist() == rows, (i, j)
            assert offsets[i, :, j, 1].tolist() == cols, (i, j)


@pytest.mark.parametrize("free_space", [0, 1, 12, 36, 100])
def test_bounce_matches_the_scalar_reference_for_other_canvas_sizes(free_space):
    position, velocity = _start(MOTIONS["classic"](step_length=0.23), np.random.default_rng(3), (40, 2))
    offsets = pixel_offsets(_moves(position, velocity, 30), free_space)
    for i in range(40):
        for j in range(2):
            rows, cols = reference_path(*position[i, j], *velocity[i, j], 30, free_space)
            assert offsets[i, :, j, 0].tolist() == rows
            assert offsets[i, :, j, 1].tolist() == cols


# --- start states ------------------------------------------------------------------------------


def test_classic_start_is_uniform_position_and_angle_from_three_draws():
    position, velocity = _start(MOTIONS["classic"](step_length=0.1), np.random.default_rng(5), (100, 2))
    draws = np.random.default_rng(5).random((100, 2, 3))
    assert position.shape == velocity.shape == (100, 2, 2)
    assert np.array_equal(position, draws[..., :2])
    theta = draws[..., 2] * 2 * math.pi
    np.testing.assert_allclose(velocity[..., 0], 0.1 * np.cos(theta), rtol=0, atol=1e-15)
    np.testing.assert_allclose(velocity[..., 1], 0.1 * np.sin(theta), rtol=0, atol=1e-15)


def test_classic_speed_is_step_length_in_every_direction():
    _, velocity = _start(MOTIONS["classic"](step_length=0.1), np.random.default_rng(6), (2000, 1))
    np.testing.assert_allclose(np.hypot(velocity[..., 0], velocity[..., 1]), 0.1, rtol=1e-12)
    # all four quadrants occur
    signs = {(bool(vx > 0), bool(vy > 0)) for vx, vy in velocity[:, 0]}
    assert signs == {(True, True), (True, False), (False, True), (False, False)}


def test_notebook_start_is_four_uniform_draws_with_nonnegative_velocity():
    position, velocity = _start(MOTIONS["notebook"](step_length=0.5), np.random.default_rng(8), (500, 1))
    draws = np.random.default_rng(8).random((500, 1, 4))
    assert np.array_equal(position, draws[..., :2])
    assert np.array_equal(velocity, 0.5 * draws[..., 2:])
    # the seed notebook's np.random.random(4): motion always starts towards +x and +y
    assert (velocity >= 0).all() and (velocity < 0.5).all()


def test_unknown_motion_is_rejected_by_name():
    with pytest.raises(ValueError) as error:
        MOTIONS.create("spiral")
    assert str(error.value) == f"motion='spiral' is not allowed: choose one of {', '.join(MOTIONS)}"
    assert list(MOTIONS)[:2] == ["classic", "notebook"]


# --- the seed notebook -------------------------------------------------------------------------

# get_random_trajectory(30) as printed in the "Moving MNIST from scratch" notebook (the `notebook` preset's origin)
NOTEBOOK_X = [28, 31, 35, 36, 32, 29, 25, 22, 18, 15, 11, 8, 4, 1, 0, 3, 6,
              10, 13, 17, 20, 24, 27, 31, 34, 36, 32, 29, 25, 22]
NOTEBOOK_Y = [34, 36, 24, 13, 2, 0, 11, 22, 33, 36, 24, 13, 2, 0, 11, 22, 33,
              36, 24, 13, 2, 0, 11, 22, 33, 36, 24, 13, 2, 0]


def test_the_printed_notebook_trajectory_is_a_path_of_the_notebook_motion():
    # The notebook's RNG was unseeded; (x, y, vx, vy) = (0.69, 0.64, 0.193, 0.615) is one start
    # that reproduces its printed output (first frame: x 0.69 + 0.0965 -> int(28.3) = 28,
    # y 0.64 + 0.3075 -> int(34.1) = 34). Velocity = step_length 0.5 * (vx, vy), as in notebook's `start`.
    rows, cols = path(0.69, 0.64, 0.5 * 0.193, 0.5 * 0.615, 30)
    assert cols == NOTEBOOK_X
    assert rows == NOTEBOOK_Y


# --- bounds and speed --------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    motion=st.sampled_from(["classic", "notebook"]),
    image_size=st.integers(28, 160),
    step_length=st.floats(0, 1, exclude_min=True),
    num_frames=st.integers(1, 80),
    seed=st.integers(0, 2**32),
)
def test_sprites_never_leave_the_canvas(motion, image_size, step_length, num_frames, seed):
    position, velocity = _start(MOTIONS[motion](step_length=step_length), np.random.default_rng(seed), (50, 3))
    floats = _moves(position, velocity, num_frames)
    assert ((floats >= 0) & (floats <= 1)).all()
    offsets = pixel_offsets(floats, image_size - 28)
    assert offsets.min() >= 0
    assert offsets.max() <= image_size - 28


@pytest.mark.parametrize("motion", ["classic", "notebook"])
@pytest.mark.parametrize("step_length", [0.05, 0.1, 0.5])
def test_away_from_walls_each_frame_moves_by_the_start_velocity(motion, step_length):
    position, velocity = _start(MOTIONS[motion](step_length=step_length), np.random.default_rng(21), (200, 2))
    floats = _moves(position, velocity, 40)
    offsets = pixel_offsets(floats, FREE)
    previous = np.concatenate([position[:, None], floats[:, :-1]], axis=1)  # the position one step before
    unclamped = ((floats > 0) & (floats < 1)).all(axis=-1)  # no wall at this step, either axis
    assert unclamped.mean() > 0.5
    moved = np.abs(floats - previous)[unclamped]  # (M, 2) as (x, y)
    speed = np.abs(np.broadcast_to(velocity[:, None], floats.shape))[unclamped]
    np.testing.assert_allclose(moved, speed, rtol=0, atol=1e-12)
    if motion == "classic":  # the Euclidean speed is step_length * 36 px per frame
        np.testing.assert_allclose(np.hypot(*moved.T) * FREE, step_length * FREE, rtol=1e-9)
    # integer displacement is the float one up to truncation: within 1 px per axis
    previous_px = np.concatenate([pixel_offsets(position, FREE)[:, None], offsets[:, :-1]], axis=1)
    moved_px = np.abs(offsets.astype(int) - previous_px)[unclamped]  # (M, 2) as (row, col)
    assert (np.abs(moved_px - FREE * speed[:, ::-1]) < 1).all()
