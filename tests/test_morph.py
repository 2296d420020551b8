"""Morphing doodles: the `doodles` source's `morph` against its definition, evaluated here independently.

A morphing doodle's keyframe 0 is the static doodle (the "doodles" stream); keyframes 1.. are
drawn from the "morph" stream (id 8) with the same stroke kinds; they sit at
round(linspace(0, T - 1, W)); between them every stroke value moves along a linear, Brownian-bridge
or natural cubic spline path and is then clamped by the rule of `generator.morph.valid`.
"""

import hashlib
import math

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

from generator import SOURCES, Spec
from generator.presets import PRESETS
from generator.doodles import draw, sample_strokes

SEED, SPLIT_ID, BLOCK = 7, 1, 2  # block 2 of validation (split 1)
SIZE, MIN_WIDTH, MAX_WIDTH = 32, 1.0, 3.0


def stream(name):
    """The documented key of a block's stream: default_rng([seed, split, block, id])."""
    return np.random.default_rng([SEED, SPLIT_ID, BLOCK, {"doodles": 3, "morph": 8}[name]])


def morphing(path, shape=(200, 2), num_frames=20, **parameters):
    """The recorded strokes (N, T, K, S, 8) and sprites (N, T, K, 1, size, size) of a morphing doodles source."""
    source = SOURCES.create({"name": "doodles", "morph": path, **parameters})
    drawn = source.choose(stream, BLOCK, shape, None, None, num_frames=num_frames)
    truth = source.describe(drawn, None)
    return truth["strokes"], source.sprites(truth, None)


def f32(x):
    return float(np.float32(x))


def key_frames(count, num_frames):
    return [int(f) for f in np.round(np.linspace(0, num_frames - 1, count))]


def reference_keys(first, count, size=SIZE, min_width=MIN_WIDTH, max_width=MAX_WIDTH):
    """Keyframes (M, count, S, 8) from the static strokes `first (M, S, 8)`, stroke by stroke in Python floats.

    Keyframes 1.. take the first's kinds and U[0, 1) draws (M, count - 1, S, 7) of the "morph" stream, shaped
    as `sample_strokes` shapes them; an ellipse's rotation is then moved by a multiple of pi to within a
    quarter turn of the previous keyframe's.
    """
    m, slots = first.shape[:2]
    u = stream("morph").random((m, count - 1, slots, 7)).tolist()
    keys = np.zeros((m, count, slots, 8), np.float32)
    keys[:, 0] = first
    for i in range(m):
        for j in range(1, count):
            for s in range(slots):
                kind = float(first[i, s, 0])
                if kind == -1:
                    keys[i, j, s, 0] = -1
                    continue
                w, *g = u[i][j - 1][s]
                width = f32(min_width + w * (max_width - min_width))
                h = width * 0.5 + 0.5
                if kind == 2:
                    major = size / 8 + g[0] * (size / 2 - h - size / 8)
                    minor = major * (0.5 + g[1] * 0.5)
                    turn = f32((g[2] - 0.5) * math.pi)  # as sampled, then turned
                    before = float(keys[i, j - 1, s, 5])
                    d = turn - before
                    centre = [(h + major) + v * (size - 2 * (h + major)) for v in g[3:5]]
                    row = [*centre, major, minor, before + (d - math.pi * round(d / math.pi)), 0]
                else:
                    row = [h + v * (size - 2 * h) for v in g]
                    if kind == 0:
                        row[4:] = [0, 0]
                keys[i, j, s] = [kind, *row, width]
    return keys


def rule(kind, values, size=SIZE, min_width=MIN_WIDTH, max_width=MAX_WIDTH):
    """The documented clamp of one stroke: values (x0 .. width, 7 floats) -> its 8 recorded float32 values."""
    if kind == -1:
        return [-1, 0, 0, 0, 0, 0, 0, 0]

    def clip(v, lo, hi):
        return f32(min(max(v, lo), hi))

    width = clip(values[6], min_width, max_width)
    h = width * 0.5 + 0.5
    if kind == 2:
        x1 = clip(values[2], size / 8, size / 2 - h)
        y1 = clip(values[3], 0.5 * x1, x1)
        x0, y0 = (clip(v, h + x1, size - h - x1) for v in values[:2])
        return [2, x0, y0, x1, y1, f32(values[4]), 0, width]
    points = [clip(v, h, size - h) for v in values[:6]]
    return [kind, *points[:4], *(points[4:] if kind == 1 else [0, 0]), width]


def expected_strokes(keys, num_frames, between, made_valid=rule):
    """(M, T, S, 8): the keys at their frames, `made_valid(kind, between(...))` elsewhere.

    between(i, s, values, frames, f): stroke s of sprite i, whose keys have the values (W, 7) at the
    frames (W,) -> its 7 values at frame f.
    """
    m, count, slots = keys.shape[:3]
    frames = key_frames(count, num_frames)
    out = np.zeros((m, num_frames, slots, 8), np.float32)
    for i in range(m):
        for s in range(slots):
            values = keys[i, :, s, 1:].astype(np.float64)
            for f in range(num_frames):
                if f in frames:
                    out[i, f, s] = keys[i, frames.index(f), s]
                else:
                    out[i, f, s] = made_valid(float(keys[i, 0, s, 0]), between(i, s, values, frames, f))
    return out


def linear_between(i, s, values, frames, f):
    a = max(j for j in range(len(frames)) if frames[j] <= f)
    t = (f - frames[a]) / (frames[a + 1] - frames[a])
    return [p * (1 - t) + q * t for p, q in zip(values[a], values[a + 1])]


def as_sprites(strokes):
    """(N, T, K, S, 8) -> (N * K, T, S, 8): one row per sprite, in (sequence, object) order."""
    return strokes.swapaxes(1, 2).reshape(-1, *strokes.shape[1:2], *strokes.shape[3:])


def static_strokes(shape, **parameters):
    """Today's static doodles of the block: `sample_strokes` on the "doodles" stream, (N * K, S, 8)."""
    p = {"size": SIZE, "min_strokes": 1, "max_strokes": 4, "min_width": MIN_WIDTH, "max_width": MAX_WIDTH, **parameters}
    return sample_strokes(stream("doodles"), int(np.prod(shape)), p["size"], p["min_strokes"], p["max_strokes"],
                          p["min_width"], p["max_width"])


# --- morph "none" is today's static doodle -------------------------------------------------------------

# sha256 of strokes and sprites of block 2 of validation, seed 7, shape (1024, 3), from the code before `morph`
GOLDEN_NONE = [
    ({}, "4a3e0dea50a8f0ba965ba7433581875a73b16e1e0e0be130141ca49e802a8f53",
     "cc9207fe48b7f9f4323d7fedb1254cf4f8a9d40eb7786913888f91a8ddcfa190"),
    ({"size": 24, "min_strokes": 2, "max_strokes": 6, "min_width": 0.5, "max_width": 4.0},
     "868b6d697be6c7f02afe9ca513f8775b0b5ab6386f8e94cbdd51d68a5511fe78",
     "f1f0ed0f6715674f6d61ff8acd45d2fa43f9d8ba51c14eaecb8ba17bc6bbb9c6"),
]


@pytest.mark.parametrize("parameters, strokes_hash, sprites_hash", GOLDEN_NONE)
@pytest.mark.parametrize("unused", [{}, {"morph": "none", "keyframes": 9, "morph_sigma": 3.0}])
def test_morph_none_keeps_the_static_doodles_bytes_and_draws(parameters, strokes_hash, sprites_hash, unused):
    source = SOURCES.create({"name": "doodles", **parameters, **unused})
    asked = []
    drawn = source.choose(lambda name: asked.append(name) or stream(name), BLOCK, (1024, 3), None, None, num_frames=20)
    truth = source.describe(drawn, None)
    sprites = source.sprites(truth, None)
    assert asked == ["doodles"]
    assert truth["strokes"].shape == (1024, 3, source.max_strokes, 8)
    assert sprites.shape == (1024, 1, 3, 1, source.size, source.size)
    assert hashlib.sha256(truth["strokes"].tobytes()).hexdigest() == strokes_hash
    assert hashlib.sha256(sprites.tobytes()).hexdigest() == sprites_hash
    static = static_strokes((1024, 3), **parameters)
    np.testing.assert_array_equal(truth["strokes"].reshape(static.shape), static)
    np.testing.assert_array_equal(sprites.reshape(-1, source.size, source.size), draw(static, source.size))


# --- keyframes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["linear", "bridge", "spline"])
def test_strokes_are_the_keyframes_exactly_at_their_frames(path):
    strokes, _ = morphing(path, keyframes=4, morph_sigma=1.0)
    assert strokes.shape == (200, 20, 2, 4, 8) and strokes.dtype == np.float32
    keys = reference_keys(static_strokes((200, 2)), 4)
    recorded = as_sprites(strokes)[:, key_frames(4, 20)]
    np.testing.assert_array_equal(recorded, keys)
    assert (recorded[:, 0] != recorded[:, 1]).any()  # the keyframes differ


def test_the_first_frame_is_todays_static_doodle():
    strokes, sprites = morphing("spline", shape=(300, 3), keyframes=3, num_frames=8)
    static = static_strokes((300, 3))
    np.testing.assert_array_equal(strokes[:, 0].reshape(static.shape), static)
    np.testing.assert_array_equal(sprites[:, 0].reshape(-1, SIZE, SIZE), draw(static, SIZE))


def test_an_ellipse_turns_less_than_a_quarter_turn_from_keyframe_to_keyframe():
    strokes, _ = morphing("linear", keyframes=5)
    keys = as_sprites(strokes)[:, key_frames(5, 20)]
    ellipse = keys[:, 0, :, 0] == 2
    turns = np.diff(keys[..., 5].astype(np.float64), axis=1)[np.broadcast_to(ellipse[:, None], (400, 4, 4))]
    assert len(turns) > 200 and np.abs(turns).max() <= np.pi / 2 + 1e-6


@pytest.mark.parametrize("path", ["linear", "bridge", "spline"])
def test_kinds_never_change_and_unused_columns_stay_zero(path):
    strokes, _ = morphing(path, morph_sigma=2.0)
    kind = strokes[..., 0]
    assert (kind == kind[:, :1]).all()
    assert set(np.unique(kind)) == {-1, 0, 1, 2}
    assert (strokes[kind == -1][:, 1:] == 0).all()
    assert (strokes[kind == 0][:, 5:7] == 0).all() and (strokes[kind == 2][:, 6] == 0).all()


# --- between keyframes: the paths, then the clamp ----------------------------------------------------------


def test_linear_strokes_are_the_straight_path_made_valid():
    strokes, _ = morphing("linear", shape=(60, 2), keyframes=4, num_frames=15)
    keys = reference_keys(static_strokes((60, 2)), 4)
    np.testing.assert_array_equal(as_sprites(strokes), expected_strokes(keys, 15, linear_between))


def test_spline_strokes_are_the_natural_cubic_spline_made_valid():
    strokes, _ = morphing("spline", shape=(60, 2), keyframes=5, num_frames=20)
    keys = reference_keys(static_strokes((60, 2)), 5)
    splines = {}

    def between(i, s, values, frames, f):
        key = i, s
        if key not in splines:
            splines[key] = CubicSpline(frames, values, bc_type="natural")
        return splines[key](f).tolist()

    recorded = as_sprites(strokes)
    np.testing.assert_allclose(recorded, expected_strokes(keys, 20, between), rtol=0, atol=1e-4)
    # the spline overshoots: the clamp is exercised, yet most values are the spline's own
    spline = expected_strokes(keys, 20, between, made_valid=lambda kind, values: [kind, *values])
    clamped = np.abs(recorded - spline)[..., 1:] > 1e-3
    assert 0 < clamped.sum() < 0.1 * (recorded[..., 1:] != 0).sum()


def test_a_bridge_of_no_deviation_is_the_linear_path():
    bridge, bridge_sprites = morphing("bridge", morph_sigma=0.0)
    linear, linear_sprites = morphing("linear")
    np.testing.assert_array_equal(bridge, linear)
    np.testing.assert_array_equal(bridge_sprites, linear_sprites)


def test_bridge_strokes_are_the_straight_path_plus_seeds_brownian_bridge_made_valid():
    """In a segment from key frame a to b, the walk X_f = sigma * (z_(a+1) + ... + z_f) of standard normals z
    becomes the bridge Y_f = X_f - (f - a) / (b - a) * X_b, added to the coordinates and semi-axes."""
    sigma, shape, count, num_frames = 0.7, (60, 2), 4, 20
    strokes, _ = morphing("bridge", shape=shape, keyframes=count, num_frames=num_frames, morph_sigma=sigma)
    keys = reference_keys(static_strokes(shape), count)
    draws = stream("morph")
    draws.random((len(keys), count - 1, 4, 7))  # the keyframes' draws come first
    z = draws.standard_normal((len(keys), 4, num_frames, 6)).tolist()
    shaken = {-1: [], 0: [0, 1, 2, 3], 1: [0, 1, 2, 3, 4, 5], 2: [0, 1, 2, 3]}  # columns of x0 .. y2, by kind

    def between(i, s, values, frames, f):
        a = max(j for j in range(len(frames)) if frames[j] <= f)
        start, end = frames[a], frames[a + 1]
        walk = [sum(z[i][s][g][c] * sigma for g in range(start + 1, f + 1)) for c in range(6)]
        whole = [sum(z[i][s][g][c] * sigma for g in range(start + 1, end + 1)) for c in range(6)]
        path = linear_between(i, s, values, frames, f)
        for c in shaken[int(keys[i, 0, s, 0])]:
            path[c] += walk[c] - (f - start) / (end - start) * whole[c]
        return path

    recorded = as_sprites(strokes)
    np.testing.assert_allclose(recorded, expected_strokes(keys, num_frames, between), rtol=0, atol=1e-4)
    linear, _ = morphing("linear", shape=shape, keyframes=count, num_frames=num_frames)
    kind = strokes[..., 0]
    np.testing.assert_array_equal(strokes[..., 7], linear[..., 7])  # widths and rotations go straight
    np.testing.assert_array_equal(strokes[kind == 2][:, 5], linear[kind == 2][:, 5])
    assert (np.abs(strokes - linear)[kind >= 0][:, 1:5] > 0.1).mean() > 0.5


# --- every frame is valid and drawn from its record -----------------------------------------------------


@pytest.mark.parametrize("path", ["linear", "bridge", "spline"])
def test_every_frames_sprite_is_doodles_draw_of_its_recorded_strokes(path):
    strokes, sprites = morphing(path, shape=(100, 2), morph_sigma=1.5)
    assert sprites.shape == (100, 20, 2, 1, SIZE, SIZE) and sprites.dtype == np.uint8
    for t in range(20):
        redrawn = draw(strokes[:, t].reshape(-1, 4, 8), SIZE)
        np.testing.assert_array_equal(sprites[:, t, :, 0], redrawn.reshape(100, 2, SIZE, SIZE))


@pytest.mark.parametrize("path", ["bridge", "spline"])
def test_every_frames_strokes_obey_the_sampling_ranges_and_keep_their_ink_inside(path):
    strokes, _ = morphing(path, shape=(150, 2), keyframes=6, morph_sigma=3.0)
    used = strokes[strokes[..., 0] >= 0]
    width = used[:, 7].astype(np.float64)
    assert width.min() >= MIN_WIDTH and width.max() <= MAX_WIDTH
    ellipses = used[used[:, 0] == 2]
    assert (ellipses[:, 3] >= ellipses[:, 4]).all() and (ellipses[:, 4] >= 0.5 * ellipses[:, 3]).all()
    single = used[:, None, :].copy()  # each stroke alone, 4 pixels right and down on a canvas 8 pixels larger
    single[:, 0, 1:3] += 4
    single[single[:, 0, 0] != 2, 0, 3:7] += 4
    moved = draw(single, SIZE + 8).astype(np.int64)
    assert (moved[:, 4 : 4 + SIZE, 4 : 4 + SIZE].sum(axis=(1, 2)) == moved.sum(axis=(1, 2))).all()


@pytest.mark.parametrize("path", ["linear", "bridge", "spline"])
def test_sprites_change_smoothly(path):
    """In every frame, sprites change far less on average than unrelated doodles differ (mean absolute change)."""
    _, sprites = morphing(path, shape=(100, 2), keyframes=3, num_frames=40, morph_sigma=0.5)
    sprites = sprites.astype(np.float64)
    per_frame = np.abs(np.diff(sprites, axis=1)).mean(axis=(0, 2, 3, 4, 5))  # (T - 1,)
    unrelated = np.abs(sprites[1:, 0] - sprites[:-1, 0]).mean()
    assert per_frame.min() > 0 and per_frame.max() < 0.4 * unrelated


@pytest.mark.parametrize("path", ["linear", "spline"])
def test_twice_the_frames_between_the_same_keyframes_halve_the_change_per_frame(path):
    change = []
    for num_frames in (21, 41):  # keyframes at 0, 10, 20 and at 0, 20, 40
        _, sprites = morphing(path, shape=(100, 2), keyframes=3, num_frames=num_frames)
        change.append(np.abs(np.diff(sprites.astype(np.float64), axis=1)).mean())
    assert 0.4 < change[1] / change[0] < 0.6


def test_a_range_of_sequences_is_drawn_alike_from_its_slice_of_the_record():
    source = SOURCES.create({"name": "doodles", "morph": "spline"})
    truth = source.describe(source.choose(stream, BLOCK, (40, 2), None, None, num_frames=6), None)
    whole = source.sprites(truth, None)
    np.testing.assert_array_equal(source.sprites({"strokes": truth["strokes"][13:29]}, None), whole[13:29])


# --- refusals ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "parameters, message",
    [
        ({"morph": "wiggle"}, "source.morph='wiggle' is not allowed: choose one of none, linear, bridge, spline"),
        ({"morph": "splines"}, "source.morph='splines' is not allowed: choose one of none, linear, bridge, spline "
                               "(did you mean 'spline'?)"),
        ({"keyframes": 1}, "source.keyframes=1 must be an integer from 2 to 16"),
        ({"keyframes": 17}, "source.keyframes=17 must be an integer from 2 to 16"),
        ({"keyframes": 3.0}, "source.keyframes=3.0 must be an integer from 2 to 16"),
        ({"morph_sigma": -0.5}, "source.morph_sigma=-0.5 must be a number in [0, 4]"),
        ({"morph_sigma": 4.5}, "source.morph_sigma=4.5 must be a number in [0, 4]"),
        ({"morph_sigma": "1"}, "source.morph_sigma='1' must be a number in [0, 4]"),
    ],
)
def test_bad_morph_parameters_are_refused(parameters, message):
    with pytest.raises(ValueError) as error:
        SOURCES.create({"name": "doodles", **parameters})
    assert str(error.value) == message


def test_more_keyframes_than_frames_are_refused():
    source = SOURCES.create({"name": "doodles", "morph": "linear", "keyframes": 6})
    message = "source.keyframes=6 must be at most num_frames=5 (one frame per keyframe) when source.morph='linear'"
    with pytest.raises(ValueError) as error:
        source.check_with(5)
    assert str(error.value) == message
    with pytest.raises(ValueError) as error:  # the spec checks it when it is made
        Spec.from_dict({**PRESETS["doodles"].spec.as_dict(), "source": source.as_dict(), "num_frames": 5,
                        "num_input_frames": 2})
    assert str(error.value) == message
    source.check_with(6)
    SOURCES.create({"name": "doodles", "keyframes": 6}).check_with(5)  # no morph: keyframes are not used
