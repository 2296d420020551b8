"""`Spec`: every bad parameter is refused by name; every valid one generates well-formed data."""

import math
from dataclasses import FrozenInstanceError, replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import moving_mnist
from generator import Spec, generate, kinds
from generator.sequences import pool_of
from helpers import valid_spec

CLASSIC = moving_mnist.PRESETS["classic"].spec
# a valid, cheap base that one changed field makes invalid
BASE = replace(CLASSIC, num_train=3, num_validation=2, num_test=1)

CHOICE_FIELDS = {
    "source": ("mnist", "fashion_mnist", "cifar10", "numbers", "doodles"),
    "motion": ("classic", "notebook"),
    "compositing": ("max", "sum", "over"),
    "sampling": ("random", "sequential"),
    "background": ("none", "cifar10"),
}
INT_MINIMUMS = {
    "num_objects": 1, "num_frames": 2, "num_input_frames": 1, "image_size": 28,
    "num_train": 0, "num_validation": 0, "num_test": 0, "seed": 0,
}
# the documented maxima (README, "Parameters")
INT_MAXIMUMS = {
    "num_objects": 64, "num_frames": 1000, "image_size": 1024,
    "num_train": 10**7, "num_validation": 10**7, "num_test": 10**7, "seed": 2**128 - 1,
}


def _refused(field, value, base=BASE):
    with pytest.raises(ValueError) as error:
        replace(base, **{field: value})
    return str(error.value)


# --- the presets -------------------------------------------------------------------------------


def test_classic_preset_is_the_original_configuration():
    assert CLASSIC.as_dict() == {
        "source": {"name": "mnist", "classes": None}, "num_objects": 2, "num_frames": 20, "num_input_frames": 10,
        "image_size": 64, "motion": {"name": "classic", "step_length": 0.1, "edges": "bounce", "appear": 0.0},
        "transform": {"name": "none"}, "compositing": {"name": "max"},
        "sampling": {"name": "random"}, "background": {"name": "none"},
        "occlusion": {"name": "none"}, "noise": {"name": "none"}, "drop": {"name": "none"}, "annotations": [],
        "num_train": 10000, "num_validation": 1000, "num_test": 10000, "seed": 0,
    }
    assert CLASSIC.num_output_frames == 10
    assert CLASSIC.channels == 1


def test_notebook_preset_is_the_seed_notebook_configuration():
    spec = moving_mnist.PRESETS["notebook"].spec
    assert (spec.num_objects, spec.num_frames, spec.num_input_frames, spec.image_size) == (1, 40, 20, 64)
    assert (spec.motion.name, spec.motion.step_length, spec.sampling.name) == ("notebook", 0.5, "sequential")
    assert spec.split_sizes() == {"train": 60000, "validation": 10000}


def test_split_sizes_omits_empty_splits():
    assert replace(BASE, num_validation=0).split_sizes() == {"train": 3, "test": 1}
    assert replace(BASE, num_train=0, num_test=0).split_sizes() == {"validation": 2}


def test_spec_is_frozen():
    with pytest.raises(FrozenInstanceError):
        BASE.seed = 1


def test_integer_step_length_is_stored_as_a_float():
    spec = replace(BASE, motion={"name": "classic", "step_length": 1})
    assert spec.motion.step_length == 1.0 and type(spec.motion.step_length) is float


def test_boundary_values_are_accepted():
    spec = replace(BASE, num_objects=1, num_frames=2, num_input_frames=1, image_size=28,
                   motion={"name": "classic", "step_length": 1.0}, seed=0)
    assert spec.num_output_frames == 1
    assert replace(BASE, num_train=0, num_validation=0, num_test=1).split_sizes() == {"test": 1}


# --- bad parameters, one by one ----------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("num_objects", 0),
        ("num_objects", -2),
        ("num_frames", 0),
        ("num_frames", 1),
        ("num_frames", -20),
        ("num_input_frames", 0),
        ("num_train", -1),
        ("num_validation", -5),
        ("num_test", -10000),
        ("seed", -1),
        ("image_size", 0),
    ],
)
def test_counts_below_their_minimum_are_refused(field, value):
    assert f"{field}={value}" in _refused(field, value)


@pytest.mark.parametrize("value", ["20", 2.5, 20.0, True, None, [20]])
@pytest.mark.parametrize("field", ["num_frames", "num_objects", "image_size", "num_train", "seed"])
def test_non_integer_counts_are_refused(field, value):
    assert f"{field}={value!r}" in _refused(field, value)


def test_false_is_not_zero_for_a_split_size():
    assert "num_validation=False" in _refused("num_validation", False)


@pytest.mark.parametrize("num_input_frames", [20, 21, 100])
def test_input_frames_must_leave_an_output_frame(num_input_frames):
    message = _refused("num_input_frames", num_input_frames)
    assert f"num_input_frames={num_input_frames}" in message
    assert "num_frames=20" in message


@pytest.mark.parametrize("image_size", [27, 1, 10])
def test_a_canvas_smaller_than_the_sprite_is_refused(image_size):
    message = _refused("image_size", image_size)
    assert message == f"image_size={image_size} must be at least the mnist sprite size 28x28"


@pytest.mark.parametrize(
    "field, value",
    [
        ("source", "emnist"),
        ("source", "MNIST"),
        ("source", "cifar100"),
        ("motion", "tfds"),
        ("motion", ""),
        ("compositing", "add"),
        ("compositing", "MAX"),
        ("sampling", "shuffle"),
        ("sampling", None),
        ("background", "cifar"),
    ],
)
def test_unknown_choices_are_refused_with_the_allowed_ones(field, value):
    message = _refused(field, value)
    assert f"{field}={value!r}" in message
    for allowed in CHOICE_FIELDS[field]:
        assert allowed in message


@pytest.mark.parametrize("value", [0, 0.0, -0.1, -1, 1.0000001, 2, 36, math.nan, math.inf, -math.inf, "0.1", True, None])
@pytest.mark.parametrize("motion", ["classic", "notebook"])
def test_step_length_outside_zero_to_one_or_not_a_number_is_refused(motion, value):
    message = _refused("motion", {"name": motion, "step_length": value})
    assert message == f"motion.step_length={value!r} must be a number in (0, 1]"


def test_all_splits_empty_is_refused():
    with pytest.raises(ValueError) as error:
        replace(BASE, num_train=0, num_validation=0, num_test=0)
    message = str(error.value)
    assert "num_train" in message and "num_validation" in message and "num_test" in message


@pytest.mark.parametrize("field", sorted(INT_MAXIMUMS))
def test_sizes_above_their_maximum_are_refused_before_any_memory_is_taken(field):
    maximum = INT_MAXIMUMS[field]
    base = replace(BASE, num_frames=2, num_input_frames=1, image_size=28)  # small sequences: only `field` is big
    replace(base, **{field: maximum})  # the maximum itself is allowed
    message = _refused(field, maximum + 1, base)
    assert f"{field}={maximum + 1!r}" in message and f"to {maximum}" in message


@pytest.mark.parametrize("num_frames, image_size", [(257, 1024), (1000, 520)])
def test_a_sequence_of_more_than_256_mib_is_refused(num_frames, image_size):
    with pytest.raises(ValueError) as error:
        replace(BASE, num_frames=num_frames, image_size=image_size)
    message = str(error.value)
    assert f"num_frames={num_frames}" in message and f"image_size={image_size}" in message
    assert "268,435,456" in message


def test_the_largest_sequences_allowed_are_valid():
    replace(BASE, num_frames=256, image_size=1024)
    replace(BASE, num_frames=1000, image_size=518)


def test_the_builder_config_validates_through_spec():
    with pytest.raises(ValueError, match="num_objects=0"):
        moving_mnist.MovingMNISTConfig(name="bad", num_objects=0)


# --- checks across components ------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, rows, cols",
    [
        ("mnist", 28, 28),
        ("cifar10", 32, 32),
        ({"name": "numbers", "digits_per_number": 3, "spacing_min": 0, "spacing_max": 4}, 28, 28 * 3 + 2 * 4),
        ({"name": "numbers", "digits_per_number": 1, "spacing_max": 9}, 28, 28),  # no gap in one digit
        ({"name": "numbers", "digits_per_number": 2, "spacing_min": 3, "spacing_max": 3}, 28, 59),
        ({"name": "doodles", "size": 40}, 40, 40),
    ],
)
def test_the_canvas_must_hold_the_largest_sprite(source, rows, cols):
    name = source if isinstance(source, str) else source["name"]
    side = max(rows, cols)
    base = replace(BASE, source=source, image_size=side)  # exactly the sprite's size is allowed
    message = _refused("image_size", side - 1, base)
    assert message == f"image_size={side - 1} must be at least the {name} sprite size {rows}x{cols}"


def test_sequential_sampling_is_refused_for_a_source_that_draws_its_sprites():
    message = _refused("sampling", "sequential", replace(BASE, source="doodles"))
    assert message == (
        "sampling='sequential' is not allowed with source='doodles', which draws its sprites instead of "
        "taking images: choose random"
    )


@pytest.mark.parametrize("source", ["mnist", "numbers", "fashion_mnist"])
def test_sequential_sampling_is_allowed_for_sources_of_images(source):
    assert replace(BASE, source=source, image_size=100, sampling="sequential").sampling.name == "sequential"


@pytest.mark.parametrize(
    "change, channels",
    [(dict(source="cifar10"), 3), (dict(background="cifar10"), 3), (dict(source="cifar10", background="cifar10"), 3),
     (dict(), 1), (dict(source="numbers"), 1)],
)
def test_the_byte_bound_counts_every_channel(change, channels):
    # 2**28 bytes at most: 1024^2 pixels x 3 channels x 85 frames fit, 86 frames do not
    base = replace(BASE, **change, image_size=1024, num_frames=2, num_input_frames=1)
    assert base.channels == channels
    largest = 2**28 // (channels * 1024**2)  # 85 frames of RGB, 256 of gray
    replace(base, num_frames=largest)
    message = _refused("num_frames", largest + 1, base)
    assert message == (
        f"num_frames={largest + 1} x {channels} channels x image_size=1024^2 is "
        f"{(largest + 1) * channels * 1024**2:,} bytes per sequence; at most 268,435,456 (256 MiB) are allowed"
    )


# --- version 1.0's flat form and the round trip ------------------------------------------------

FLAT_CLASSIC = {
    "source": "mnist", "num_objects": 2, "num_frames": 20, "num_input_frames": 10, "image_size": 64,
    "motion": "classic", "step_length": 0.1, "compositing": "max", "sampling": "random",
    "num_train": 10000, "num_validation": 1000, "num_test": 10000, "seed": 0,
}


def test_a_version_1_flat_dict_reads_as_the_nested_spec():
    assert Spec.from_dict(FLAT_CLASSIC) == CLASSIC
    notebook = {
        **FLAT_CLASSIC, "num_objects": 1, "num_frames": 40, "num_input_frames": 20, "motion": "notebook",
        "step_length": 0.5, "sampling": "sequential", "num_train": 60000, "num_validation": 10000, "num_test": 0,
    }
    assert Spec.from_dict(notebook) == moving_mnist.PRESETS["notebook"].spec


def test_a_flat_step_length_changes_the_motion_it_sits_beside():
    spec = Spec.from_dict({**FLAT_CLASSIC, "motion": "notebook", "step_length": 0.25})
    assert spec.motion.as_dict() == {"name": "notebook", "step_length": 0.25, "edges": "bounce", "appear": 0.0}
    assert spec.background.name == "none"


def test_the_nested_form_and_the_flat_one_give_equal_specs():
    nested = {**FLAT_CLASSIC, "motion": {"name": "classic", "step_length": 0.1}, "background": "none"}
    del nested["step_length"]
    assert Spec.from_dict(nested) == Spec.from_dict(FLAT_CLASSIC) == CLASSIC


def test_from_dict_refuses_an_unknown_key_naming_it():
    with pytest.raises(ValueError, match=r"^parameter='frames_per_second' is not allowed: choose one of source, "):
        Spec.from_dict({**FLAT_CLASSIC, "frames_per_second": 3})


@pytest.mark.parametrize("missing", ["motion", "seed"])
def test_from_dict_refuses_a_missing_parameter_naming_it(missing):
    flat = {key: value for key, value in FLAT_CLASSIC.items() if key != missing}
    with pytest.raises(ValueError, match=missing):
        Spec.from_dict(flat)


@pytest.mark.parametrize("name", sorted(moving_mnist.PRESETS))
def test_every_preset_survives_the_round_trip_through_as_dict(name):
    spec = moving_mnist.PRESETS[name].spec
    assert type(spec).from_dict(spec.as_dict()) == spec
    assert type(spec)(**spec.as_dict()) == spec
    assert kinds.from_dict(spec.as_dict()) == spec


def test_a_spec_with_every_kind_of_parameter_survives_the_round_trip():
    spec = replace(
        BASE,
        source={"name": "numbers", "classes": [7, 1, 3], "digits_per_number": 4, "spacing_min": 1, "spacing_max": 2},
        motion={"name": "notebook", "step_length": 0.3}, compositing="over", sampling="sequential",
        background="cifar10", image_size=120, seed=2**100,
    )
    plain = spec.as_dict()
    assert plain["source"] == {"name": "numbers", "classes": [1, 3, 7], "digits_per_number": 4, "spacing_min": 1,
                               "spacing_max": 2}
    assert plain["background"] == {"name": "cifar10"}
    assert Spec.from_dict(plain) == spec


# --- property-based: invalid values ------------------------------------------------------------

not_an_int = st.one_of(
    st.booleans(), st.floats(allow_nan=False), st.text(max_size=4), st.none(),
    st.integers().map(float), st.integers().map(str),
)


@st.composite
def invalid_field(draw):
    """A (field, value, what the message must say) that is wrong on its own, whatever the other fields are."""
    kind = draw(st.sampled_from(["choice", "int-low", "int-type", "step", "input-frames", "image-size"]))
    if kind == "choice":
        field = draw(st.sampled_from(sorted(CHOICE_FIELDS)))
        value = draw(st.one_of(st.text(max_size=12), st.integers(), st.none()).filter(
            lambda v: v not in CHOICE_FIELDS[field]))
    elif kind == "int-low":
        field = draw(st.sampled_from(sorted(INT_MINIMUMS)))
        value = draw(st.integers(max_value=INT_MINIMUMS[field] - 1))
    elif kind == "int-type":
        field = draw(st.sampled_from(sorted(INT_MINIMUMS)))
        value = draw(not_an_int)
    elif kind == "step":
        step_length = draw(st.one_of(
            st.floats(max_value=0), st.floats(min_value=1, exclude_min=True), st.just(math.nan),
            st.integers(max_value=0), st.integers(min_value=2), st.booleans(), st.text(max_size=4), st.none(),
        ))
        motion = draw(st.sampled_from(CHOICE_FIELDS["motion"]))
        return "motion", {"name": motion, "step_length": step_length}, f"motion.step_length={step_length!r}"
    elif kind == "input-frames":
        field = "num_input_frames"
        value = draw(st.integers(BASE.num_frames, 10**6))
    else:
        field = "image_size"
        value = draw(st.integers(1, 27))
    return field, value, f"{field}={value!r}"


@settings(max_examples=50, deadline=None)
@given(invalid_field())
def test_any_invalid_value_is_refused_naming_the_parameter_and_value(case):
    field, value, named = case
    message = _refused(field, value)
    assert named in message


# --- property-based: valid configurations generate well-formed data ----------------------------


@settings(max_examples=40, deadline=None)
@given(spec=valid_spec())
def test_a_valid_configuration_generates_well_formed_sequences(pools, spec):
    n_frames, size, k = spec.num_frames, spec.image_size, spec.num_objects
    assert spec.num_input_frames + spec.num_output_frames == n_frames
    classes = spec.source.classes or tuple(range(10))
    for split, n in spec.split_sizes().items():
        pool = pools[spec.source.files][pool_of(split)]
        seqs = generate(spec, pools, split, 0, n)
        labels, source_indices, positions = (seqs.truth[name] for name in ("labels", "source_indices", "positions"))
        assert sorted(seqs.truth) == ["labels", "positions", "source_indices"]
        assert seqs.frames.shape == (n, n_frames, size, size) and seqs.frames.dtype == np.uint8
        assert labels.shape == (n, k) and labels.dtype == np.uint8
        assert source_indices.shape == (n, k) and np.issubdtype(source_indices.dtype, np.integer)
        assert positions.shape == (n, n_frames, k, 2) and positions.dtype == np.int16
        assert seqs.indices.tolist() == list(range(n))
        assert positions.min() >= 0 and positions.max() <= size - 28
        assert source_indices.min() >= 0 and source_indices.max() < len(pool.images)
        assert np.array_equal(labels, pool.labels[source_indices])
        assert set(labels.ravel().tolist()) <= set(classes)
        # every frame holds at least its brightest sprite pixel
        brightest = pool.images[source_indices].max(axis=(-1, -2)).max(axis=-1)  # (n,)
        assert (seqs.frames.max(axis=(-1, -2)) >= brightest[:, None]).all()
