"""`Spec`: every bad parameter is refused by name; every valid one generates well-formed data."""

import math
from dataclasses import FrozenInstanceError, replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import moving_mnist
from generator import SOURCES, generate, load_pools
from generator.sequences import pool_of
from helpers import valid_spec

CLASSIC = moving_mnist.PRESETS["classic"].spec
# a valid, cheap base that one changed field makes invalid
BASE = replace(CLASSIC, num_train=3, num_validation=2, num_test=1)

CHOICE_FIELDS = {
    "source": ("mnist", "fashion_mnist"),
    "motion": ("classic", "notebook"),
    "compositing": ("max", "sum"),
    "sampling": ("random", "sequential"),
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
        "source": "mnist", "num_objects": 2, "num_frames": 20, "num_input_frames": 10, "image_size": 64,
        "motion": "classic", "step_length": 0.1, "compositing": "max", "sampling": "random",
        "num_train": 10000, "num_validation": 1000, "num_test": 10000, "seed": 0,
    }
    assert CLASSIC.num_output_frames == 10


def test_notebook_preset_is_the_seed_notebook_configuration():
    spec = moving_mnist.PRESETS["notebook"].spec
    assert (spec.num_objects, spec.num_frames, spec.num_input_frames, spec.image_size) == (1, 40, 20, 64)
    assert (spec.motion, spec.step_length, spec.sampling) == ("notebook", 0.5, "sequential")
    assert spec.split_sizes() == {"train": 60000, "validation": 10000}


def test_split_sizes_omits_empty_splits():
    assert replace(BASE, num_validation=0).split_sizes() == {"train": 3, "test": 1}
    assert replace(BASE, num_train=0, num_test=0).split_sizes() == {"validation": 2}


def test_spec_is_frozen():
    with pytest.raises(FrozenInstanceError):
        BASE.seed = 1


def test_integer_step_length_is_stored_as_a_float():
    spec = replace(BASE, step_length=1)
    assert spec.step_length == 1.0 and type(spec.step_length) is float


def test_boundary_values_are_accepted():
    spec = replace(BASE, num_objects=1, num_frames=2, num_input_frames=1, image_size=28, step_length=1.0, seed=0)
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
    assert f"image_size={image_size}" in message
    assert "28" in message


@pytest.mark.parametrize(
    "field, value",
    [
        ("source", "emnist"),
        ("source", "MNIST"),
        ("source", "cifar10"),
        ("motion", "tfds"),
        ("motion", ""),
        ("compositing", "add"),
        ("compositing", "MAX"),
        ("sampling", "shuffle"),
        ("sampling", None),
    ],
)
def test_unknown_choices_are_refused_with_the_allowed_ones(field, value):
    message = _refused(field, value)
    assert f"{field}={value!r}" in message
    for allowed in CHOICE_FIELDS[field]:
        assert allowed in message


@pytest.mark.parametrize("value", [0, 0.0, -0.1, -1, 1.0000001, 2, 36, math.nan, math.inf, -math.inf, "0.1", True, None])
def test_step_length_outside_zero_to_one_or_not_a_number_is_refused(value):
    message = _refused("step_length", value)
    assert f"step_length={value!r}" in message


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


# --- property-based: invalid values ------------------------------------------------------------

not_an_int = st.one_of(
    st.booleans(), st.floats(allow_nan=False), st.text(max_size=4), st.none(),
    st.integers().map(float), st.integers().map(str),
)


@st.composite
def invalid_field(draw):
    """A (field, value) that is wrong on its own, whatever the other fields are."""
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
        field = "step_length"
        value = draw(st.one_of(
            st.floats(max_value=0), st.floats(min_value=1, exclude_min=True), st.just(math.nan),
            st.integers(max_value=0), st.integers(min_value=2), st.booleans(), st.text(max_size=4), st.none(),
        ))
    elif kind == "input-frames":
        field = "num_input_frames"
        value = draw(st.integers(BASE.num_frames, 10**6))
    else:
        field = "image_size"
        value = draw(st.integers(1, 27))
    return field, value


@settings(max_examples=50, deadline=None)
@given(invalid_field())
def test_any_invalid_value_is_refused_naming_the_parameter_and_value(case):
    field, value = case
    message = _refused(field, value)
    assert f"{field}={value!r}" in message


# --- property-based: valid configurations generate well-formed data ----------------------------


@pytest.fixture(scope="module")
def pools(mnist_pools, fashion_dir):
    fashion = load_pools({role: str(fashion_dir / f.name) for role, f in SOURCES["fashion_mnist"].files.items()})
    return {"mnist": mnist_pools, "fashion_mnist": fashion}


@settings(max_examples=40, deadline=None)
@given(spec=valid_spec())
def test_a_valid_configuration_generates_well_formed_sequences(pools, spec):
    n_frames, size, k = spec.num_frames, spec.image_size, spec.num_objects
    assert spec.num_input_frames + spec.num_output_frames == n_frames
    for split, n in spec.split_sizes().items():
        pool = pools[spec.source][pool_of(split)]
        seqs = generate(spec, pools[spec.source], split, 0, n)
        assert seqs.frames.shape == (n, n_frames, size, size) and seqs.frames.dtype == np.uint8
        assert seqs.labels.shape == (n, k) and seqs.labels.dtype == np.uint8
        assert seqs.source_indices.shape == (n, k) and np.issubdtype(seqs.source_indices.dtype, np.integer)
        assert seqs.positions.shape == (n, n_frames, k, 2) and seqs.positions.dtype == np.int16
        assert seqs.indices.tolist() == list(range(n))
        assert seqs.positions.min() >= 0 and seqs.positions.max() <= size - 28
        assert seqs.source_indices.min() >= 0 and seqs.source_indices.max() < len(pool.images)
        assert np.array_equal(seqs.labels, pool.labels[seqs.source_indices])
        assert seqs.labels.max() <= 9
        # every frame holds at least its brightest sprite pixel
        brightest = pool.images[seqs.source_indices].max(axis=(-1, -2)).max(axis=-1)  # (n,)
        assert (seqs.frames.max(axis=(-1, -2)) >= brightest[:, None]).all()
