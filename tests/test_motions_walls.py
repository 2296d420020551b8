"""The motions defined at the walls: `mirror`, `stochastic`, `brownian` and `collisions`.

Each motion's defining property is checked against an independent reference written here: a closed
form or a scalar pure-Python loop, or properties read off the positions alone.
"""

import dataclasses
import math

import numpy as np
import pytest

from generator.doodles import cos_sin
from generator.motion import MOTIONS, Space
from generator.motion.collisions import collide

WALLS = ["mirror", "stochastic", "brownian", "collisions"]


def space(n, k, canvas=64, widths=28, rows=28, present=None):
    """A Space of `n` sequences of `k` boxes `widths` (a number or (n, k)) x `rows` on a square canvas."""
    widths = np.broadcast_to(np.asarray(widths, np.float64), (n, k))
    sizes = np.stack([widths, np.full((n, k), float(rows))], axis=-1)
    present = np.ones((n, k), bool) if present is None else present
    return Space(canvas - sizes, sizes, present)


def run(motion, n, k, num_frames, seed=0, where=None):
    """(state, positions (N, T + 1, K, 2)) of `motion` for a block of `n` x `k` objects."""
    state = motion.start(np.random.default_rng(seed), (n, k), num_frames)
    return state, motion.track(state, num_frames, where or space(n, k)).positions


def inside(positions):
    """(..., K) bool: strictly inside the walls on both axes (not clamped, not touching)."""
    return ((positions > 0) & (positions < 1)).all(axis=-1)


# --- all four: registered components with validated parameters, identical on any range ---------------


@pytest.mark.parametrize("name", WALLS)
def test_each_motion_is_registered_with_appear_as_its_last_parameter(name):
    motion = MOTIONS.create(name)
    assert motion.name == name
    assert [f.name for f in dataclasses.fields(motion)][-1] == "appear"
    assert motion.step_length == 0.1


@pytest.mark.parametrize(
    "value, message",
    [
        ({"name": "mirror", "step_length": 0}, "motion.step_length=0 must be a number in (0, 1]"),
        ({"name": "mirror", "step_length": (0.3, 0.1)}, "motion.step_length: min=0.3 must not exceed max=0.1"),
        ({"name": "mirror", "edges": "pass"}, "motion.edges is not a parameter of motion 'mirror'"),
        ({"name": "stochastic", "step_length": 1.5}, "motion.step_length=1.5 must be a number in (0, 1]"),
        ({"name": "stochastic", "step_length": "fast"}, "motion.step_length='fast' must be a number in (0, 1]"),
        ({"name": "brownian", "sigma": -0.1}, "motion.sigma=-0.1 must be a number in [0, 1]"),
        ({"name": "brownian", "max_speed": 2}, "motion.max_speed=2 must be a number in [0, 1]"),
        ({"name": "brownian", "edges": "wrap"}, "motion.edges='wrap' is not allowed: choose one of bounce, pass"),
        ({"name": "brownian", "step_length": (0.05, 0.2), "max_speed": 0.1},
         "motion.max_speed=0.1 must be 0 (no cap) or at least step_length's largest value 0.2"),
        ({"name": "collisions", "step_length": (0.1, 1.2)}, "motion.step_length=1.2 must be a number in (0, 1]"),
        ({"name": "collisions", "edges": "pass"}, "motion.edges is not a parameter of motion 'collisions'"),
    ],
)
def test_invalid_parameters_are_refused_naming_parameter_value_and_what_is_allowed(value, message):
    with pytest.raises(ValueError) as error:
        MOTIONS.create(value)
    assert str(error.value).startswith(message)


def test_brownian_cap_equal_to_the_fastest_start_is_allowed():
    assert MOTIONS.create({"name": "brownian", "step_length": (0.05, 0.2), "max_speed": 0.2}).max_speed == 0.2


@pytest.mark.parametrize("name, parameters", [
    ("mirror", {"step_length": (0.05, 0.3)}),
    ("stochastic", {"step_length": (0.05, 0.3)}),
    ("brownian", {"sigma": 0.03, "max_speed": 0.2}),
    ("brownian", {"edges": "pass"}),
    ("collisions", {"step_length": (0.05, 0.3)}),
])
def test_a_range_of_sequences_gets_exactly_its_slice_of_the_block(name, parameters):
    motion = MOTIONS[name](**parameters)
    n, k, t = 64, 3, 30
    where = space(n, k, 100, widths=np.random.default_rng(1).choice([20, 28, 36], (n, k)))
    state, positions = run(motion, n, k, t, seed=4, where=where)
    for a, b in [(0, 7), (5, 33), (40, 64), (63, 64)]:
        part = motion.track({key: v[a:b] for key, v in state.items()}, t, Space(*(x[a:b] for x in where)))
        assert np.array_equal(part.positions, positions[a:b]), (a, b)
        assert part.truth == {}


@pytest.mark.parametrize("name", ["mirror", "stochastic", "brownian"])
def test_start_is_classic_s_draws_with_the_direction_in_plain_arithmetic(name):
    motion = MOTIONS[name](step_length=(0.05, 0.25))
    state = motion.start(np.random.default_rng(5), (300, 2), 10)
    rng = np.random.default_rng(5)
    draws = rng.random((300, 2, 3))
    speed = 0.05 + 0.2 * rng.random((300, 2))
    theta = draws[..., 2] * 2 * math.pi
    assert np.array_equal(state["position"], draws[..., :2])
    np.testing.assert_allclose(state["velocity"][..., 0], speed * np.cos(theta), rtol=0, atol=1e-15)
    np.testing.assert_allclose(state["velocity"][..., 1], speed * np.sin(theta), rtol=0, atol=1e-15)


# --- mirror: TFDS's closed form ---------------------------------------------------------------------


def folded(p):
    """TFDS's reflection of one coordinate: q = p mod 2 in [0, 2) (fmod, made right for negatives), min(2 - q, q)."""
    q = math.fmod(p, 2.0)
    if q < 0:
        q += 2.0
    return min(2.0 - q, q)


@pytest.mark.parametrize("step_length", [0.1, 0.37, 1.0, (0.02, 0.9)])
def test_mirror_equals_the_closed_form(step_length):
    n, k, t = 200, 3, 40
    state, positions = run(MOTIONS["mirror"](step_length=step_length), n, k, t, seed=2)
    for i in range(n):
        for j in range(k):
            x, y = state["position"][i, j].tolist()
            vx, vy = state["velocity"][i, j].tolist()
            expected = [[folded(x + f * vx), folded(y + f * vy)] for f in range(-1, t)]  # f = -1: before frame 0
            assert positions[i, :, j].tolist() == expected, (i, j)


def test_mirror_hand_worked_reflection_and_frame_0_is_the_start():
    # x: 0.9 + 0.3 t for t = -1 .. 4 unfolds to 0.6, 0.9, 1.2, 1.5, 1.8, 2.1 and folds to
    # 0.6, 0.9, 0.8, 0.5, 0.2, 0.1; y: 0.1 - 0.25 t unfolds to 0.35, 0.1, -0.15, -0.4, -0.65, -0.9.
    state = {"position": np.array([[[0.9, 0.1]]]), "velocity": np.array([[[0.3, -0.25]]])}
    positions = MOTIONS["mirror"]().track(state, 5, space(1, 1)).positions
    np.testing.assert_allclose(positions[0, :, 0, 0], [0.6, 0.9, 0.8, 0.5, 0.2, 0.1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(positions[0, :, 0, 1], [0.35, 0.1, 0.15, 0.4, 0.65, 0.9], rtol=0, atol=1e-12)


def test_mirror_stays_on_the_canvas_and_a_reflection_only_shortens_a_move():
    state, positions = run(MOTIONS["mirror"](step_length=0.2), 500, 2, 30, seed=3)
    assert ((positions >= 0) & (positions <= 1)).all()
    moved = np.abs(np.diff(positions, axis=1))  # (N, T, K, 2)
    speed = np.abs(state["velocity"][:, None])
    assert (moved <= speed + 1e-12).all()
    assert np.mean(np.abs(moved - speed) < 1e-12) > 0.7  # most moves cross no wall


# --- stochastic: a new random direction at each wall hit --------------------------------------------


def stochastic_reference(x, y, vx, vy, speed, turns):
    """One object, scalar: move, clamp, and at a hit turn to a new direction away from the wall(s) hit."""
    path = [(x, y)]
    for u in turns:
        x += vx
        y += vy
        sx = 1 if x <= 0 else -1 if x >= 1 else 0
        sy = 1 if y <= 0 else -1 if y >= 1 else 0
        x, y = min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)
        if sx or sy:
            c, s = (float(v) for v in cos_sin(np.float64(math.pi * (u - 0.5))))
            if sx and sy:
                vx, vy = speed * (sx * c), speed * (sy * abs(s))
            elif sx:
                vx, vy = speed * (sx * c), speed * s
            else:
                vx, vy = speed * s, speed * (sy * c)
        path.append((x, y))
    return path


@pytest.mark.parametrize("step_length", [0.1, 0.45, 1.0, (0.05, 0.3)])
def test_stochastic_matches_the_scalar_reference_exactly(step_length):
    n, k, t = 60, 3, 50
    state, positions = run(MOTIONS["stochastic"](step_length=step_length), n, k, t, seed=6)
    for i in range(n):
        for j in range(k):
            expected = stochastic_reference(*state["position"][i, j], *state["velocity"][i, j],
                                            state["speed"][i, j], state["turns"][i, :, j])
            assert positions[i, :, j].tolist() == [list(p) for p in expected], (i, j)


def test_stochastic_velocity_changes_only_at_walls_and_turns_away_keeping_the_speed():
    n, k, t = 500, 3, 60
    state, positions = run(MOTIONS["stochastic"](step_length=(0.05, 0.2)), n, k, t, seed=7)
    speed = np.hypot(state["velocity"][..., 0], state["velocity"][..., 1])  # (N, K)
    moved = np.diff(positions, axis=1)  # moved[:, t]: the velocity of the move into position t + 1, unless clamped
    free = inside(positions)  # (N, T + 1, K)
    # frames t and t + 1 both inside: no hit at t, so the same velocity moves into t and into t + 1
    steady = free[:, 1:-1] & free[:, 2:]
    assert steady.mean() > 0.5
    np.testing.assert_allclose(moved[:, 1:][steady], moved[:, :-1][steady], rtol=0, atol=1e-12)
    # a hit at t (at a wall) followed by a free frame t + 1: that move is the new velocity
    after = free[:, 2:]
    at_wall = {"x at 0": (positions[:, 1:-1, :, 0] == 0, 0, 1), "x at 1": (positions[:, 1:-1, :, 0] == 1, 0, -1),
               "y at 0": (positions[:, 1:-1, :, 1] == 0, 1, 1), "y at 1": (positions[:, 1:-1, :, 1] == 1, 1, -1)}
    for wall, (hit, axis, away) in at_wall.items():
        turned = hit & after
        assert turned.sum() > 200, wall
        new = moved[:, 1:][turned]  # (M, 2)
        assert (away * new[:, axis] > 0).all(), wall
        kept = np.broadcast_to(speed[:, None], turned.shape)[turned]
        np.testing.assert_allclose(np.hypot(new[:, 0], new[:, 1]), kept, rtol=1e-9)
        # the new direction is random over the half-plane: both ways along the wall, near-parallel ones too
        along = new[:, 1 - axis] / np.hypot(new[:, 0], new[:, 1])
        assert along.min() < -0.9 and along.max() > 0.9, wall


def test_stochastic_corner_hits_turn_away_from_both_walls():
    n, k, t = 1000, 2, 80
    _, positions = run(MOTIONS["stochastic"](step_length=1.0), n, k, t, seed=8)  # long steps: many corners
    moved = np.diff(positions, axis=1)
    corner = ((positions[:, 1:-1] == 0) | (positions[:, 1:-1] == 1)).all(axis=-1)
    assert corner.sum() > 100
    away = np.where(positions[:, 1:-1] == 0, 1, -1)[corner]
    assert (away * moved[:, 1:][corner] >= 0).all()  # clamped at the next wall, but never back into the corner
    assert (moved[:, 1:][corner] != 0).any(axis=-1).all()


# --- brownian: a Gaussian random walk of the velocity ------------------------------------------------


def brownian_reference(x, y, vx, vy, kicks, sigma, max_speed, bounce):
    """One object, scalar: v += sigma z, cap, move, then clamp and negate at the walls (bounce)."""
    path = [(x, y)]
    for zx, zy in kicks:
        vx, vy = vx + sigma * zx, vy + sigma * zy
        speed = math.sqrt(vx * vx + vy * vy)
        if max_speed and speed > max_speed:
            vx, vy = vx * (max_speed / speed), vy * (max_speed / speed)
        x, y = x + vx, y + vy
        if bounce:
            if x <= 0 or x >= 1:
                x, vx = min(max(x, 0.0), 1.0), -vx
            if y <= 0 or y >= 1:
                y, vy = min(max(y, 0.0), 1.0), -vy
        path.append((x, y))
    return path


@pytest.mark.parametrize("parameters", [
    {"sigma": 0.02},
    {"sigma": 0.05, "step_length": (0.02, 0.1), "max_speed": 0.12},
    {"sigma": 0.0, "step_length": 0.3},
    {"sigma": 0.03, "edges": "pass"},
    {"sigma": 0.03, "edges": "pass", "max_speed": 0.1},
])
def test_brownian_matches_the_scalar_reference_exactly(parameters):
    motion = MOTIONS["brownian"](**parameters)
    n, k, t = 60, 3, 50
    where = space(n, k, 100, widths=np.random.default_rng(2).choice([20, 28, 36], (n, k)))
    state, positions = run(motion, n, k, t, seed=9, where=where)
    start = state["position"]
    if motion.edges == "pass":  # from fully outside one edge to fully outside the other, as classic
        start = (start * (where.free + 2 * where.sizes) - where.sizes) / where.free
    for i in range(n):
        for j in range(k):
            expected = brownian_reference(*start[i, j], *state["velocity"][i, j], state["kicks"][i, :, j].tolist(),
                                          motion.sigma, motion.max_speed, motion.edges == "bounce")
            assert positions[i, :, j].tolist() == [list(p) for p in expected], (i, j)


def test_brownian_velocity_increments_have_the_configured_standard_deviation():
    sigma = 0.01
    _, positions = run(MOTIONS["brownian"](step_length=0.03, sigma=sigma), 1024, 2, 60, seed=10)
    moved = np.diff(positions, axis=1)  # (N, T, K, 2): the velocity of each move where not clamped
    # Chosen on the past only (not on the increment itself): frame t inside the walls, so `moved` into it
    # is the velocity, and the next move's unkicked target at least 8 sigma from any wall.
    target = positions[:, 1:-1] + moved[:, :-1]
    chosen = inside(positions[:, 1:-1]) & ((target > 8 * sigma) & (target < 1 - 8 * sigma)).all(axis=-1)
    assert inside(positions[:, 2:])[chosen].all()  # no wall at the next move: its move is its velocity
    increments = (moved[:, 1:] - moved[:, :-1])[chosen]  # (M, 2)
    count = increments.size
    assert count > 100_000
    standard_error = sigma / math.sqrt(2 * count)  # of the root mean square of `count` N(0, sigma^2) values
    assert abs(math.sqrt(np.mean(increments**2)) - sigma) < 5 * standard_error
    assert abs(increments.mean()) < 5 * sigma / math.sqrt(count)
    # one independent kick per axis: uncorrelated
    assert abs(np.mean(increments[:, 0] * increments[:, 1])) < 5 * sigma**2 / math.sqrt(len(increments))


def test_brownian_speed_cap_is_respected_and_reached():
    cap = 0.05
    _, positions = run(MOTIONS["brownian"](step_length=0.04, sigma=0.02, max_speed=cap), 500, 2, 60, seed=11)
    moved = np.diff(positions, axis=1)[inside(positions[:, 1:])]  # unclamped moves: the velocity
    speed = np.hypot(moved[:, 0], moved[:, 1])
    assert (speed <= cap * (1 + 1e-12)).all()
    assert np.mean(np.abs(speed - cap) < 1e-12) > 0.3  # the cap is in force often


def test_brownian_with_pass_starts_outside_and_leaves():
    where = space(2000, 1, 64)
    _, positions = run(MOTIONS["brownian"](edges="pass", sigma=0.01), 2000, 1, 30, seed=12, where=where)
    reach = 28 / 36  # fully outside: a sprite size beyond either edge, in units of the free space
    assert positions[:, 0].min() >= -reach and positions[:, 0].max() <= 1 + reach
    assert (positions[:, 0] < 0).any() and (positions[:, 0] > 1).any()
    assert (positions[:, -1] < -reach).any() or (positions[:, -1] > 1 + reach).any()


# --- collisions: elastic bounces, boxes never overlap ----------------------------------------------------


def overlapping(corner, where):
    """(N, T + 1) bool: whether two present boxes [X, X + w) overlap in a frame, for corners X (N, T + 1, K, 2)."""
    size = where.sizes[:, None]
    out = np.zeros(corner.shape[:2], bool)
    for a in range(corner.shape[2]):
        for b in range(a + 1, corner.shape[2]):
            ends = (corner[:, :, a] + size[:, :, a] > corner[:, :, b]) & (corner[:, :, b] + size[:, :, b] > corner[:, :, a])
            out |= ends.all(axis=-1) & (where.present[:, a] & where.present[:, b])[:, None]
    return out


CROWDS = [  # (canvas, objects, widths): real MNIST boxes are 28 x 28; numbers and doodles are wider
    (64, 3, [28]), (64, 4, [28]), (100, 3, [28]), (100, 5, [28]), (100, 4, [20, 28, 36, 44]), (100, 5, [14, 28, 40]),
]


@pytest.mark.parametrize("canvas, k, widths", CROWDS)
def test_collisions_boxes_never_overlap_and_energy_is_kept(canvas, k, widths):
    n, t = 500, 50
    where = space(n, k, canvas, widths=np.random.default_rng(canvas + k).choice(widths, (n, k)))
    motion = MOTIONS["collisions"](step_length=(0.05, 0.25))
    state, positions = run(motion, n, k, t, seed=canvas * k, where=where)
    corner = positions * where.free[:, None]  # the boxes' top-left corners in pixels, as `pixel_offsets` has them
    assert not overlapping(corner, where).any()
    assert not overlapping(np.floor(corner), where).any()  # the integer boxes that are drawn
    # the same crowd without collisions overlaps often
    _, mirror = run(MOTIONS["mirror"](step_length=(0.05, 0.25)), n, k, t, seed=canvas * k, where=where)
    assert overlapping(mirror * where.free[:, None], where).mean() > 0.1
    assert ((positions >= 0) & (positions <= 1)).all()
    # On an axis where every object moved freely (inside the walls, not held by a collision), the moves
    # are the velocities in pixels: their squares add up to those of the start velocities on that axis.
    moved = np.diff(positions * where.free[:, None], axis=1)  # (N, T, K, 2) pixels
    free = (positions[:, 1:] > 0) & (positions[:, 1:] < 1) & (moved != 0)
    everyone = free.all(axis=2)  # (N, T, 2)
    energy = ((state["velocity"] * where.free) ** 2).sum(axis=1)[:, None]  # (N, 1, 2)
    assert everyone.sum() > n / 4
    np.testing.assert_allclose((moved**2).sum(axis=2)[everyone], np.broadcast_to(energy, everyone.shape)[everyone],
                               rtol=1e-9)
    assert (~everyone).sum() > n  # collisions and walls happen


@pytest.mark.parametrize("canvas, k, widths", CROWDS)
def test_collisions_velocities_change_only_at_walls_or_collisions(canvas, k, widths):
    n, t = 500, 50
    where = space(n, k, canvas, widths=np.random.default_rng(canvas + k).choice(widths, (n, k)))
    state, positions = run(MOTIONS["collisions"](step_length=(0.05, 0.25)), n, k, t, seed=canvas * k, where=where)
    corner = positions * where.free[:, None]  # (N, T + 1, K, 2) pixels
    moved = np.diff(corner, axis=1)  # moved[:, s]: from frame s to s + 1
    # A move that differs from the one before (a new velocity, or a move cut short) needs a wall touched
    # at either end, or another box within reach before either move: two objects' largest velocity
    # components (exchanges and walls never make one larger).
    changed = (np.abs(moved[:, 1:] - moved[:, :-1]) > 1e-9).any(axis=-1)  # (N, T - 1, K)
    assert changed.mean() > 0.1
    at_wall = ~inside(positions)  # (N, T + 1, K)
    reach = 2 * np.abs(state["velocity"] * where.free).max(axis=(1, 2))[:, None]  # (N, 1) pixels
    size = where.sizes[:, None]
    near = np.zeros(at_wall.shape, bool)
    for j in range(k):
        for other in range(k):
            if other != j:
                gap = np.maximum(corner[:, :, other] - (corner[:, :, j] + size[:, :, j]),
                                 corner[:, :, j] - (corner[:, :, other] + size[:, :, other])).max(axis=-1)
                near[:, :, j] |= gap <= reach
    explained = at_wall[:, 1:-1] | at_wall[:, 2:] | near[:, :-2] | near[:, 1:-1]
    assert explained[changed].all()
    # moving freely (inside the walls, on both axes) into frames t and t + 1: the same velocity
    free = inside(positions[:, 1:]) & (moved != 0).all(axis=-1)
    steady = free[:, :-1] & free[:, 1:]
    assert steady.sum() > n
    np.testing.assert_allclose(moved[:, 1:][steady], moved[:, :-1][steady], rtol=0, atol=1e-9)


def test_collisions_absent_objects_take_no_part():
    n, t = 200, 30
    motion = MOTIONS["collisions"](step_length=0.2)
    widths = np.random.default_rng(3).choice([20, 28, 36], (n, 4))
    present = np.ones((n, 4), bool)
    present[:, 3] = False  # padding past the sequence's object count
    state = motion.start(np.random.default_rng(13), (n, 4), t)
    padded = motion.track(state, t, space(n, 4, 100, widths, present=present)).positions
    three = motion.track({key: v[:, :3] for key, v in state.items()}, t,
                         space(n, 3, 100, widths[:, :3])).positions
    assert np.array_equal(padded[:, :, :3], three)
    assert (padded[:, :, 3] == 0).all()


def pixels_path(corners, velocities, sizes, num_frames, canvas=100):
    """`collide` on one sequence given in pixels: the top-left corners (T + 1, K, 2) in pixels."""
    sizes = np.array(sizes, np.float64)[None]
    free = canvas - sizes
    where = Space(free, sizes, np.ones(sizes.shape[:2], bool))
    start = np.array(corners, np.float64)[None] / free
    positions = collide(start, np.array(velocities, np.float64)[None], where, num_frames)
    return positions[0] * free


def test_collisions_head_on_pair_exchanges_velocities():
    # 10 x 10 boxes at x = 20 and 40 moving +3 and -1 px: 23 | 39, 26 | 38, then 29 + 10 > 37 would
    # overlap: both stay (26 | 38) and exchange x velocities, so they part: 25 | 41, 24 | 44.
    path = pixels_path([[20, 50], [40, 50]], [[3, 0], [-1, 0]], [[10, 10], [10, 10]], 5)
    np.testing.assert_allclose(path[:, 0, 0], [20, 23, 26, 26, 25, 24], atol=1e-9)
    np.testing.assert_allclose(path[:, 1, 0], [40, 39, 38, 38, 41, 44], atol=1e-9)
    np.testing.assert_allclose(path[:, :, 1], 50, atol=1e-9)


def test_collisions_newton_s_cradle_passes_the_velocity_along_the_row():
    # A moves +3 into B, B gets A's velocity and hits C at the next frame, C leaves; A and B stay.
    path = pixels_path([[20, 50], [31, 50], [42, 50]], [[3, 0], [0, 0], [0, 0]], [[10, 10]] * 3, 4)
    np.testing.assert_allclose(path[:, 0, 0], [20, 20, 20, 20, 20], atol=1e-9)
    np.testing.assert_allclose(path[:, 1, 0], [31, 31, 31, 31, 31], atol=1e-9)
    np.testing.assert_allclose(path[:, 2, 0], [42, 42, 42, 45, 48], atol=1e-9)


def test_collisions_diagonal_contact_is_on_the_axis_that_met_later():
    # A (20, 20) moving (3, 3) towards B (32, 31.5) at rest: apart by 2 on x and 1.5 on y; the proposal
    # (23, 23) overlaps by 1 on x and 1.5 on y. x met at 2 / 3 of the move, y at 1 / 2: x met later,
    # so A keeps its x and slides on y to (20, 23), and the x components are exchanged: A (0, 3), B (3, 0).
    path = pixels_path([[20, 20], [32, 31.5]], [[3, 3], [0, 0]], [[10, 10], [10, 10]], 3)
    np.testing.assert_allclose(path[:, 0], [[20, 20], [20, 23], [20, 26], [20, 29]], atol=1e-9)
    np.testing.assert_allclose(path[:, 1], [[32, 31.5], [32, 31.5], [35, 31.5], [38, 31.5]], atol=1e-9)


def test_collisions_a_pair_held_without_closing_keeps_its_velocities():
    # On a row: A at 20 (-1 px), C at 31 (-5) catches A: both held, exchanged (A -5, C -1). B at 41.2
    # (-0.5) would reach 40.7, into C held at 31 .. 41: B is held too, but B is slower than C's new
    # velocity: not closing, so no exchange, and they part: C 30, 29 and B 40.7, 40.2.
    path = pixels_path([[20, 50], [41.2, 50], [31, 50]], [[-1, 0], [-0.5, 0], [-5, 0]], [[10, 10]] * 3, 3)
    np.testing.assert_allclose(path[:, 0, 0], [20, 20, 15, 10], atol=1e-9)
    np.testing.assert_allclose(path[:, 1, 0], [41.2, 41.2, 40.7, 40.2], atol=1e-9)
    np.testing.assert_allclose(path[:, 2, 0], [31, 31, 30, 29], atol=1e-9)


def test_collisions_wall_bounce_is_classic_s():
    # one box alone: clamped at the wall and the component negated, as classic
    path = pixels_path([[85, 50]], [[3, -2]], [[10, 10]], 3)
    np.testing.assert_allclose(path[:, 0], [[85, 50], [88, 48], [90, 46], [87, 44]], atol=1e-9)


def test_collisions_start_uses_distinct_cells_of_the_grid():
    # 28 x 28 boxes on 64: a 2 x 2 grid of 32 px cells; each box sits in the middle half of its cell's slack
    n, k = 2000, 4
    state, positions = run(MOTIONS["collisions"](), n, k, 1, seed=14)
    corner = positions[:, 0] * 36
    cell = np.floor(corner / 32)
    offset = corner - 32 * cell
    assert ((offset >= 1) & (offset < 3)).all()  # slack 4: 4 (1 + 2 u) / 4 is in [1, 3)
    index = cell[..., 1] * 2 + cell[..., 0]
    assert (np.sort(index, axis=1) == [0, 1, 2, 3]).all()
    # the first object's cell is uniform over the 4 cells
    counts = np.bincount(index[:, 0].astype(int), minlength=4)
    assert (abs(counts - n / 4) < 5 * math.sqrt(n * 3 / 16)).all()


@pytest.mark.parametrize("image_size, box, objects, fit", [
    (64, (28, 28), 5, 4), (64, (32, 32), 2, 1), (100, (28, 28), 10, 9), (100, (28, 44), 7, 6),
])
def test_collisions_refuse_more_objects_than_the_grid_holds(image_size, box, objects, fit):
    motion = MOTIONS["collisions"]()
    motion.check_with(20, image_size, box, fit)
    with pytest.raises(ValueError, match=f"^num_objects={objects} .*image_size={image_size}.*at most {fit} fit"):
        motion.check_with(20, image_size, box, objects)
    where = space(3, objects, image_size, widths=box[1], rows=box[0])
    state = motion.start(np.random.default_rng(0), (3, objects), 5)
    with pytest.raises(ValueError, match=f"^num_objects={objects} .*at most {fit} fit"):
        motion.track(state, 5, where)
