"""The `bridge`, `spline` and `path` motions, each against its defining property computed here.

Positions have T + 1 entries: index i is frame i - 1 (frame -1 is one frame before the first).
"""

import dataclasses
import math

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

from generator.motion import MOTIONS, Space

KINDS = ("line", "circle", "sine", "spiral", "figure8")


def run(spec, num_frames, shape=(64, 3), seed=0):
    """A motion's start state and track for `shape = (N, K)` objects."""
    motion = MOTIONS.create(spec)
    state = motion.start(np.random.default_rng(seed), shape, num_frames)
    space = Space(np.full((*shape, 2), 36.0), np.full((*shape, 2), 28.0), np.ones(shape, bool))
    return motion, state, motion.track(state, num_frames, space)


def key_frames(count, num_frames):
    """`count` frames spread evenly from -1 to num_frames - 1, rounded half to even."""
    return [round(-1 + i * num_frames / (count - 1)) for i in range(count)]


def straight(keys, frames, f):
    """The straight path through `keys` (W, 2) at `frames`, at frame f, in scalar arithmetic."""
    i = max(j for j in range(len(frames) - 1) if frames[j] <= f)
    t = (f - frames[i]) / (frames[i + 1] - frames[i])
    return [keys[i][axis] + t * (keys[i + 1][axis] - keys[i][axis]) for axis in (0, 1)]


# --- parameters ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bridge", "spline", "path"])
def test_appear_is_the_last_parameter(name):
    assert [f.name for f in dataclasses.fields(MOTIONS[name])][-1] == "appear"


def test_defaults():
    assert MOTIONS.create("bridge").as_dict() == {"name": "bridge", "waypoints": 4, "sigma": 0.05, "appear": 0.0}
    assert MOTIONS.create("spline").as_dict() == {"name": "spline", "waypoints": 4, "appear": 0.0}
    assert MOTIONS.create("path").as_dict() == {
        "name": "path", "curve": "any", "size": [0.2, 0.4], "speed": [0.1, 0.3], "edges": "bounce", "appear": 0.0}


@pytest.mark.parametrize("spec, message", [
    ({"name": "bridge", "waypoints": 1}, "motion.waypoints=1 must be an integer from 2 to 16"),
    ({"name": "spline", "waypoints": 17}, "motion.waypoints=17 must be an integer from 2 to 16"),
    ({"name": "spline", "waypoints": 3.0}, "motion.waypoints=3.0 must be an integer from 2 to 16"),
    ({"name": "bridge", "sigma": -0.1}, r"motion.sigma=-0.1 must be a number in \[0, 1\]"),
    ({"name": "path", "curve": "helix"},
     "motion.curve='helix' is not allowed: choose one of any, line, circle, sine, spiral, figure8"),
    ({"name": "path", "edges": "pass"}, "motion.edges='pass' is not allowed: choose one of bounce, clip"),
    ({"name": "path", "size": 0}, r"motion.size=0 must be a number in \(0, 1\]"),
    ({"name": "path", "speed": (0.2, 4)}, r"motion.speed=4 must be a number in \(0, 3.14159"),
    ({"name": "path", "speed": (0.3, 0.1)}, "motion.speed: min=0.3 must not exceed max=0.1"),
])
def test_invalid_parameters_are_refused(spec, message):
    with pytest.raises(ValueError, match=f"^{message}"):
        MOTIONS.create(spec)


@pytest.mark.parametrize("name", ["bridge", "spline"])
def test_waypoints_need_a_frame_each(name):
    motion = MOTIONS.create({"name": name, "waypoints": 9})
    motion.check_with(8, 64, (28, 28), 2)  # frames -1 .. 7: 9 frames for 9 waypoints
    with pytest.raises(ValueError, match=r"^motion.waypoints=9 must be at most num_frames \+ 1 = 8"):
        motion.check_with(7, 64, (28, 28), 2)


# --- bridge and spline: through their recorded waypoints ------------------------------------------


@pytest.mark.parametrize("name", ["bridge", "spline"])
@pytest.mark.parametrize("waypoints, num_frames", [(2, 1), (2, 20), (4, 20), (5, 21), (7, 10), (11, 10), (16, 40)])
def test_paths_pass_through_the_recorded_waypoints_at_the_recorded_frames(name, waypoints, num_frames):
    _, _, track = run({"name": name, "waypoints": waypoints}, num_frames)
    recorded, frames = track.truth["waypoints"], track.truth["waypoint_frames"]
    assert recorded.dtype == np.float32 and recorded.shape == (64, 3, waypoints, 2)
    assert frames.dtype == np.int16 and frames.shape == (64, waypoints)
    assert (frames == key_frames(waypoints, num_frames)).all()
    assert ((recorded >= 0) & (recorded < 1)).all()
    assert track.positions.shape == (64, num_frames + 1, 3, 2)
    at_keys = track.positions[:, frames[0] + 1]  # (N, W, K, 2): index i is frame i - 1
    assert np.array_equal(at_keys, recorded.transpose(0, 2, 1, 3).astype(np.float64))


@pytest.mark.parametrize("name", ["bridge", "spline"])
def test_bridge_and_spline_draw_the_same_waypoints_from_the_same_stream(name):
    _, _, track = run({"name": name, "waypoints": 6}, 20, seed=4)
    expected = np.random.default_rng(4).random((64, 3, 6, 2)).astype(np.float32)
    assert np.array_equal(track.truth["waypoints"], expected)


@pytest.mark.parametrize("name", ["bridge", "spline"])
def test_positions_are_not_clamped_to_the_free_space(name):
    _, _, track = run({"name": name, "waypoints": 6}, 20, (256, 3))
    assert track.positions.min() < 0 and track.positions.max() > 1


# --- spline ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("waypoints, num_frames", [(2, 20), (3, 5), (4, 20), (6, 19), (16, 15), (16, 40)])
def test_spline_is_the_natural_cubic_spline(waypoints, num_frames):
    _, _, track = run({"name": "spline", "waypoints": waypoints}, num_frames, (16, 3))
    frames = np.arange(-1, num_frames)
    for i in range(16):
        for k in range(3):
            keys = track.truth["waypoints"][i, k].astype(np.float64)
            expected = CubicSpline(track.truth["waypoint_frames"][i], keys, bc_type="natural")(frames)
            np.testing.assert_allclose(track.positions[i, :, k], expected, rtol=0, atol=1e-12)


def test_spline_is_one_cubic_per_segment_with_continuous_first_and_second_differences():
    # keys at frames -1, 9, 19, 29, 39: 10 frames per segment
    _, _, track = run({"name": "spline", "waypoints": 5}, 40, (32, 3))
    p = track.positions  # (N, 41, K, 2), index i is frame i - 1
    keys = [f + 1 for f in key_frames(5, 40)]  # as indices
    assert keys == [0, 10, 20, 30, 40]

    def differences(start):
        """The forward differences (1st, 2nd, 3rd) of the 4 samples from index `start`."""
        q = p[:, start:start + 4]
        d1 = np.diff(q, axis=1)
        d2 = np.diff(d1, axis=1)
        return d1[:, 0], d2[:, 0], np.diff(d2, axis=1)[:, 0]

    for a, b in zip(keys, keys[1:]):
        third = np.diff(p[:, a:b + 1], 3, axis=1)  # a cubic: constant third difference within a segment
        np.testing.assert_allclose(third, np.broadcast_to(third[:, :1], third.shape), rtol=0, atol=1e-12)
    # Each segment's cubic q(x) from its 4 samples (Newton's forward form); at x = 0:
    # q' = d1 - d2 / 2 + d3 / 3, q'' = d2 - d3; at x = 3 (the samples ending at a key):
    # q' = d1 + 5 d2 / 2 + 11 d3 / 6, q'' = d2 + 2 d3.
    for key in keys[1:-1]:
        d1, d2, d3 = differences(key - 3)
        left = d1 + 5 * d2 / 2 + 11 * d3 / 6, d2 + 2 * d3
        d1, d2, d3 = differences(key)
        right = d1 - d2 / 2 + d3 / 3, d2 - d3
        np.testing.assert_allclose(left[0], right[0], rtol=0, atol=1e-12)  # first derivative continuous
        np.testing.assert_allclose(left[1], right[1], rtol=0, atol=1e-12)  # second derivative continuous
    d1, d2, d3 = differences(0)
    np.testing.assert_allclose(d2 - d3, 0, atol=1e-12)  # natural: q'' = 0 at the first key
    d1, d2, d3 = differences(37)
    np.testing.assert_allclose(d2 + 2 * d3, 0, atol=1e-12)  # ... and at the last


# --- bridge ---------------------------------------------------------------------------------------


def deviation(track, num_frames):
    """Positions minus the straight path through the recorded waypoints, `(N, T + 1, K, 2)`."""
    frames = track.truth["waypoint_frames"][0].tolist()
    out = np.empty(track.positions.shape)
    n, _, k, _ = out.shape
    for i in range(n):
        for j in range(k):
            keys = track.truth["waypoints"][i, j].astype(np.float64).tolist()
            for f in range(-1, num_frames):
                out[i, f + 1, j] = track.positions[i, f + 1, j] - straight(keys, frames, f)
    return out


def test_bridge_deviation_is_zero_at_the_waypoints():
    _, _, track = run({"name": "bridge", "waypoints": 6, "sigma": 0.1}, 23)
    y = deviation(track, 23)
    keys = track.truth["waypoint_frames"][0] + 1
    assert (y[:, keys] == 0).all()
    assert (np.delete(y, keys, axis=1) != 0).all()


def test_bridge_with_sigma_zero_is_the_straight_path():
    _, _, track = run({"name": "bridge", "waypoints": 5, "sigma": 0.0}, 21)
    np.testing.assert_allclose(deviation(track, 21), 0, rtol=0, atol=1e-15)


def test_bridge_is_the_walk_minus_its_end_value_spread_over_the_segment():
    # Y_f = X_f - (f - a) / (b - a) * X_b, X the walk from 0 at a with steps sigma * steps[f] (state)
    sigma = 0.08
    _, state, track = run({"name": "bridge", "waypoints": 4, "sigma": sigma}, 17, (16, 2))
    y = deviation(track, 17)
    frames = key_frames(4, 17)
    for i in range(16):
        for j in range(2):
            for axis in (0, 1):
                for a, b in zip(frames, frames[1:]):
                    walk = [0.0]
                    for f in range(a + 1, b + 1):
                        walk.append(walk[-1] + sigma * state["steps"][i, j, f + 1, axis])
                    for f in range(a, b + 1):
                        expected = walk[f - a] - (f - a) / (b - a) * walk[-1]
                        assert y[i, f + 1, j, axis] == pytest.approx(expected, abs=1e-12)


def test_bridge_spread_and_steps_have_the_configured_standard_deviation():
    # keys at -1, 4, 9, 14, 19: segments of L = 5 steps. A Brownian bridge of walk steps sigma has
    # Var Y(a + j) = sigma^2 j (L - j) / L, and its L steps (which sum to 0) have a sum of squares
    # ~ sigma^2 chi^2(L - 1): mean square step sigma^2 (L - 1) / L.
    sigma, length, n, k = 0.07, 5, 1024, 3
    _, _, track = run({"name": "bridge", "waypoints": 5, "sigma": sigma}, 20, (n, k), seed=9)
    y = deviation(track, 20)  # (N, 21, K, 2)
    segments = y[:, 1:].transpose(0, 2, 3, 1).reshape(n, k, 2, 4, length)  # frames 0..19 (a + 1 .. b) per segment
    segments = np.concatenate([np.zeros((n, k, 2, 4, 1)), segments], axis=-1)  # with the 0 at each start
    m = n * k * 2 * 4  # independent segments
    steps = np.diff(segments, axis=-1)
    mean_square = (steps**2).mean() / (sigma**2 * (length - 1) / length)
    assert abs(mean_square - 1) < 5 * math.sqrt(2 / (length - 1) / (m * 1.0))
    for j in range(1, length):
        spread = (segments[..., j] ** 2).mean() / (sigma**2 * j * (length - j) / length)
        assert abs(spread - 1) < 5 * math.sqrt(2 / m)


# --- path -----------------------------------------------------------------------------------------


def curve_position(kind, cx, cy, size, speed, phase, direction, t):
    """The module's rule in scalar arithmetic, with math.cos and math.sin (before the edges)."""
    s = speed * t + phase
    c, n = math.cos(s), math.sin(s)
    du, dv = math.cos(direction), math.sin(direction)
    a, b = {
        "line": (c, 0.0),
        "circle": (c, n),
        "sine": (s / math.pi, n / 2),
        "spiral": (math.sin(s / 4) * c, math.sin(s / 4) * n),
        "figure8": (c, n * c),
    }[kind]
    return cx + size * (a * du - b * dv), cy + size * (a * dv + b * du)


def fold(p):
    p = p % 2
    return min(2 - p, p)


EDGE_RULES = {"bounce": fold, "clip": lambda p: min(max(p, 0.0), 1.0)}


@pytest.mark.parametrize("edges", ["bounce", "clip"])
@pytest.mark.parametrize("curve", ["any", *KINDS])
def test_path_positions_are_the_recorded_curves_formula(curve, edges):
    num_frames = 30
    _, _, track = run({"name": "path", "curve": curve, "edges": edges, "size": (0.1, 0.6), "speed": (0.05, 0.5)},
                      num_frames, (48, 3), seed=2)
    curves = track.truth["curves"]
    assert curves.dtype == np.float32 and curves.shape == (48, 3, 7)
    if curve == "any":
        assert set(curves[..., 0].ravel().tolist()) == {0.0, 1.0, 2.0, 3.0, 4.0}
    else:
        assert (curves[..., 0] == KINDS.index(curve)).all()
    rule = EDGE_RULES[edges]
    for i in range(48):
        for k in range(3):
            kind, *numbers = curves[i, k].astype(np.float64).tolist()
            for t in range(-1, num_frames):
                x, y = curve_position(KINDS[int(kind)], *numbers, t)
                assert track.positions[i, t + 1, k].tolist() == pytest.approx([rule(x), rule(y)], abs=1e-12, rel=0)


def test_path_draws_its_curves_in_their_ranges():
    _, _, track = run({"name": "path", "size": (0.1, 0.3), "speed": (0.2, 0.4)}, 10, (512, 2))
    kind, cx, cy, size, speed, phase, direction = np.moveaxis(track.truth["curves"].astype(np.float64), -1, 0)
    assert np.array_equal(kind, np.floor(kind)) and kind.min() == 0 and kind.max() == 4
    assert ((0 <= cx) & (cx <= 1) & (0 <= cy) & (cy <= 1)).all()
    assert ((0.1 <= size) & (size <= 0.3)).all()
    assert ((0.2 <= abs(speed)) & (abs(speed) <= 0.4)).all()
    assert 0.4 < (speed > 0).mean() < 0.6  # both ways round
    assert ((0 <= phase) & (phase <= 2 * math.pi) & (0 <= direction) & (direction <= 2 * math.pi)).all()


def test_path_with_single_numbers_uses_them_for_every_object():
    _, _, track = run({"name": "path", "curve": "circle", "size": 0.25, "speed": 0.125}, 10)
    curves = track.truth["curves"]
    assert (curves[..., 3] == 0.25).all()
    assert (abs(curves[..., 4]) == 0.125).all()


@pytest.mark.parametrize("edges", ["bounce", "clip"])
def test_path_positions_stay_in_the_free_space(edges):
    _, _, track = run({"name": "path", "size": 1.0, "edges": edges}, 40, (128, 3))
    assert ((track.positions >= 0) & (track.positions <= 1)).all()


# --- every motion: a range is a slice ---------------------------------------------------------------


@pytest.mark.parametrize("spec", [
    {"name": "bridge", "waypoints": 5, "sigma": 0.1},
    {"name": "spline", "waypoints": 7},
    {"name": "path"},
    {"name": "path", "curve": "sine", "edges": "clip"},
])
def test_a_range_of_sequences_gives_a_slice_of_the_whole(spec):
    motion, state, whole = run(spec, 20, (1024, 3), seed=5)
    space = Space(np.full((1024, 3, 2), 36.0), np.full((1024, 3, 2), 28.0), np.ones((1024, 3), bool))
    for a, b in [(0, 1), (3, 17), (500, 1024), (1023, 1024)]:
        part = motion.track({name: v[a:b] for name, v in state.items()}, 20, Space(*(x[a:b] for x in space)))
        assert np.array_equal(part.positions, whole.positions[a:b])
        assert part.truth.keys() == whole.truth.keys()
        for name in whole.truth:
            assert np.array_equal(part.truth[name], whole.truth[name][a:b])
