"""Components: registries, their parameters, the random streams, the fields, and numbers and classes on real MNIST.

Expected values come from the definitions (the documented stream keys, the README's rules) or from
plain loops written here, never from the engine's own helpers.
"""

from dataclasses import FrozenInstanceError, dataclass, replace

import numpy as np
import pytest

import moving_mnist
from generator import (
    BACKGROUNDS, COMPONENTS, COMPOSITINGS, MOTIONS, SAMPLINGS, SOURCES, SPLITS, STREAMS, fields_of, generate,
)
from generator.components import Component, Registry
from generator.corruptions import DROPS, NOISES, OCCLUSIONS
from generator.transform import TRANSFORMS
from generator.sequences import pool_of
from generator.streams import rng
from helpers import reference_path

CLASSIC = moving_mnist.PRESETS["classic"].spec
BASE = replace(CLASSIC, num_train=3, num_validation=2, num_test=1)


def _refused(action) -> str:
    with pytest.raises(ValueError) as error:
        action()
    return str(error.value)


# --- registries --------------------------------------------------------------------------------


def test_each_kind_has_its_registry_of_names_in_order():
    assert {kind: list(registry) for kind, registry in COMPONENTS.items()} == {
        "source": ["mnist", "fashion_mnist", "cifar10", "numbers", "doodles"],
        "motion": ["classic", "notebook", "mirror", "stochastic", "brownian", "bridge", "spline", "path", "collisions"],
        "transform": ["none", "affine"],
        "compositing": ["max", "sum", "over"],
        "sampling": ["random", "sequential"],
        "background": ["none", "cifar10"],
        "occlusion": ["none", "patch"],
        "noise": ["none", "salt_pepper", "gaussian"],
        "drop": ["none", "frames"],
    }
    assert (SOURCES, MOTIONS, TRANSFORMS, COMPOSITINGS, SAMPLINGS, BACKGROUNDS, OCCLUSIONS, NOISES, DROPS) == tuple(
        COMPONENTS.values())


@pytest.mark.parametrize("kind", list(COMPONENTS))
def test_every_component_knows_its_name_and_kind(kind):
    for name, cls in COMPONENTS[kind].items():
        component = COMPONENTS[kind].create(name)
        assert type(component) is cls
        assert (component.name, component.kind) == (name, kind)
        assert component.as_dict()["name"] == name


@pytest.mark.parametrize(
    "kind, value, suggestion",
    [
        ("motion", "clasic", "classic"),
        ("motion", "Notebook", "notebook"),
        ("source", "mnsit", "mnist"),
        ("source", "fashion", "fashion_mnist"),
        ("source", "number", "numbers"),
        ("compositing", "maximum", "max"),
        ("sampling", "sequental", "sequential"),
        ("background", "cifar", "cifar10"),
    ],
)
def test_an_unknown_name_is_one_sentence_with_a_suggestion(kind, value, suggestion):
    allowed = ", ".join(COMPONENTS[kind])
    expected = f"{kind}={value!r} is not allowed: choose one of {allowed} (did you mean {suggestion!r}?)"
    assert _refused(lambda: COMPONENTS[kind].create(value)) == expected
    assert _refused(lambda: COMPONENTS[kind][value]) == expected
    assert _refused(lambda: replace(BASE, **{kind: value})) == expected  # the spec says the same
    assert _refused(lambda: COMPONENTS[kind].create({"name": value})) == expected


@pytest.mark.parametrize(
    "kind, value",
    [("motion", "spiral"), ("source", "svhn"), ("compositing", "multiply"), ("sampling", "shuffle"),
     ("background", "black")],
)
def test_no_suggestion_when_no_name_is_close(kind, value):
    assert _refused(lambda: COMPONENTS[kind].create(value)) == (
        f"{kind}={value!r} is not allowed: choose one of {', '.join(COMPONENTS[kind])}"
    )


@pytest.mark.parametrize("value", [None, 0, ["classic"], {"name": ["classic"]}, {"name": {"a": 1}}])
def test_a_name_that_is_not_a_string_is_refused_with_the_allowed_names(value):
    message = _refused(lambda: MOTIONS.create(value))
    assert message.startswith("motion=") and "is not allowed" in message and "classic, notebook" in message


def test_spec_reports_the_same_sentence_for_a_motion_typo():
    assert _refused(lambda: replace(BASE, motion="clasic")) == (
        f"motion='clasic' is not allowed: choose one of {', '.join(MOTIONS)} (did you mean 'classic'?)"
    )


def test_a_registry_refuses_a_second_registration_of_a_name():
    things = Registry("thing")

    @things.register
    @dataclass(frozen=True)
    class First(Component):
        name = "same"

    @dataclass(frozen=True)
    class Second(Component):
        name = "same"

    with pytest.raises(RuntimeError, match="^thing 'same' is registered twice$"):
        things.register(Second)
    assert things["same"] is First and list(things) == ["same"]


def test_a_real_registry_keeps_its_component_when_a_name_is_registered_again():
    original = MOTIONS["classic"]

    @dataclass(frozen=True)
    class Impostor(Component):
        name = "classic"

    with pytest.raises(RuntimeError, match="^motion 'classic' is registered twice$"):
        MOTIONS.register(Impostor)
    assert MOTIONS["classic"] is original and list(MOTIONS).count("classic") == 1


def test_a_dict_without_a_name_keeps_the_base_and_changes_one_parameter():
    base = MOTIONS.create({"name": "notebook", "step_length": 0.5})
    assert MOTIONS.create({"step_length": 0.3}, base=base).as_dict() == {"name": "notebook", "step_length": 0.3, "edges": "bounce", "appear": 0.0}
    assert MOTIONS.create({}, base=base) == base
    numbers = SOURCES.create({"name": "numbers", "digits_per_number": 2, "classes": [1, 2]})
    assert SOURCES.create({"spacing_max": 6}, base=numbers).as_dict() == {
        "name": "numbers", "classes": [1, 2], "digits_per_number": 2, "spacing_min": 0, "spacing_max": 6,
    }


def test_a_dict_with_the_base_name_keeps_the_base_too():
    base = MOTIONS.create({"name": "notebook", "step_length": 0.5})
    assert MOTIONS.create({"name": "notebook"}, base=base) == base
    assert MOTIONS.create("notebook", base=base) == base


def test_another_name_starts_from_that_components_defaults():
    base = MOTIONS.create({"name": "notebook", "step_length": 0.5})
    assert MOTIONS.create("classic", base=base).as_dict() == {"name": "classic", "step_length": 0.1, "edges": "bounce", "appear": 0.0}
    numbers = SOURCES.create({"name": "numbers", "classes": [3]})
    assert SOURCES.create("mnist", base=numbers).as_dict() == {"name": "mnist", "classes": None}


def test_a_dict_without_a_name_and_no_base_is_refused_with_the_names():
    assert _refused(lambda: MOTIONS.create({"step_length": 0.3})) == (
        f"motion={{'step_length': 0.3}} needs a 'name': one of {', '.join(MOTIONS)}"
    )


def test_a_component_of_another_kind_is_refused():
    message = _refused(lambda: MOTIONS.create(COMPOSITINGS.create("max")))
    assert message == "motion=Max() is not allowed: it is a compositing"


@pytest.mark.parametrize(
    "kind, value, expected",
    [
        ("motion", {"name": "classic", "sigma": 0.1},
         "motion.sigma is not a parameter of motion 'classic': its parameters are step_length, edges, appear"),
        ("compositing", {"name": "max", "alpha": 1},
         "compositing.alpha is not a parameter of compositing 'max': its parameters are none"),
        ("source", {"name": "numbers", "digits": 3},
         "source.digits is not a parameter of source 'numbers': its parameters are classes, digits_per_number, "
         "spacing_min, spacing_max"),
        ("source", {"name": "mnist", "digits_per_number": 3},
         "source.digits_per_number is not a parameter of source 'mnist': its parameters are classes"),
    ],
)
def test_an_unknown_parameter_names_the_allowed_ones(kind, value, expected):
    assert _refused(lambda: COMPONENTS[kind].create(value)) == expected


def test_components_are_frozen_and_compare_by_value():
    motion = MOTIONS.create({"name": "classic", "step_length": 0.2})
    with pytest.raises(FrozenInstanceError):
        motion.step_length = 0.3
    assert motion == MOTIONS["classic"](step_length=0.2)
    assert motion != MOTIONS["notebook"](step_length=0.2)
    assert SOURCES.create("mnist") != SOURCES.create("fashion_mnist")  # same parameters, other component


# --- parameters --------------------------------------------------------------------------------


@pytest.mark.parametrize("motion", ["classic", "notebook"])
@pytest.mark.parametrize("value", [0, -0.5, 1.0000001, 2, float("nan"), float("inf"), "0.1", True, None])
def test_step_length_must_be_a_number_in_zero_to_one(motion, value):
    message = _refused(lambda: MOTIONS[motion](step_length=value))
    assert message == f"motion.step_length={value!r} must be a number in (0, 1]"


@pytest.mark.parametrize("value", [1e-300, 0.5, 1, 1.0, np.float32(0.25), np.int64(1)])
def test_step_length_takes_any_real_in_zero_to_one_as_a_float(value):
    step_length = MOTIONS["classic"](step_length=value).step_length
    assert step_length == float(value) and type(step_length) is float


@pytest.mark.parametrize(
    "parameters, expected",
    [
        ({"digits_per_number": 0}, "source.digits_per_number=0 must be an integer from 1 to 10"),
        ({"digits_per_number": 11}, "source.digits_per_number=11 must be an integer from 1 to 10"),
        ({"digits_per_number": 2.0}, "source.digits_per_number=2.0 must be an integer from 1 to 10"),
        ({"digits_per_number": True}, "source.digits_per_number=True must be an integer from 1 to 10"),
        ({"spacing_min": -1}, "source.spacing_min=-1 must be an integer from 0 to 28"),
        ({"spacing_min": 29, "spacing_max": 29}, "source.spacing_min=29 must be an integer from 0 to 28"),
        ({"spacing_max": 29}, "source.spacing_max=29 must be an integer from 0 to 28"),
        ({"spacing_max": "4"}, "source.spacing_max='4' must be an integer from 0 to 28"),
        ({"spacing_min": 5, "spacing_max": 4}, "source: spacing_min=5 must not exceed spacing_max=4"),
        ({"spacing_min": 28, "spacing_max": 0}, "source: spacing_min=28 must not exceed spacing_max=0"),
    ],
)
def test_numbers_parameters_are_bounded_and_ordered(parameters, expected):
    assert _refused(lambda: SOURCES.create({"name": "numbers", **parameters})) == expected


@pytest.mark.parametrize(
    "parameters",
    [{"digits_per_number": 1}, {"digits_per_number": 10}, {"spacing_min": 0, "spacing_max": 0},
     {"spacing_min": 28, "spacing_max": 28}, {"spacing_min": 3, "spacing_max": 3}],
)
def test_numbers_boundary_parameters_are_allowed(parameters):
    numbers = SOURCES.create({"name": "numbers", **parameters})
    assert {name: getattr(numbers, name) for name in parameters} == parameters


@pytest.mark.parametrize("source", ["mnist", "fashion_mnist", "numbers"])
@pytest.mark.parametrize(
    "classes, expected",
    [
        ("13", "source.classes='13' must be a list of class numbers 0 to 9"),
        (3, "source.classes=3 must be a list of class numbers 0 to 9"),
        ([1, 10], "source.classes=10 must be an integer from 0 to 9"),
        ([-1], "source.classes=-1 must be an integer from 0 to 9"),
        ([1.0], "source.classes=1.0 must be an integer from 0 to 9"),
        ([True], "source.classes=True must be an integer from 0 to 9"),
        (["1"], "source.classes='1' must be an integer from 0 to 9"),
        ([1, 3, 1], "source.classes=[1, 3, 1] must be distinct class numbers 0 to 9, at least one"),
        ([], "source.classes=[] must be distinct class numbers 0 to 9, at least one"),
    ],
)
def test_classes_must_be_distinct_class_numbers(source, classes, expected):
    assert _refused(lambda: SOURCES.create({"name": source, "classes": classes})) == expected


@pytest.mark.parametrize("classes", [[5, 1, 3], (3, 5, 1), np.array([3, 1, 5]), range(1, 7, 2)])
def test_classes_are_kept_sorted_as_plain_ints(classes):
    source = SOURCES.create({"name": "mnist", "classes": classes})
    assert source.classes == (1, 3, 5) and all(type(c) is int for c in source.classes)
    assert source.as_dict() == {"name": "mnist", "classes": [1, 3, 5]}


# --- random streams ----------------------------------------------------------------------------

# Part of the definition of the data: an id once given never changes (new streams take new ids).
KNOWN_STREAMS = {"motion": 0, "source": 1, "spacing": 2, "doodles": 3, "background": 4}


def test_stream_ids_are_unique_and_never_renumbered():
    ids = {name: stream.id for name, stream in STREAMS.items()}
    assert len(set(ids.values())) == len(ids)
    assert list(ids.items())[:2] == [("motion", 0), ("source", 1)]
    assert {name: ids[name] for name in KNOWN_STREAMS} == KNOWN_STREAMS


@pytest.mark.parametrize("stream", list(KNOWN_STREAMS))
@pytest.mark.parametrize("split", SPLITS)
def test_a_stream_is_the_generator_of_the_documented_key(split, stream):
    drawn = rng(2**70 + 3, split, 17, stream).random(8)
    expected = np.random.default_rng([2**70 + 3, ["train", "validation", "test"].index(split), 17,
                                      KNOWN_STREAMS[stream]]).random(8)
    assert np.array_equal(drawn, expected)


# --- fields ------------------------------------------------------------------------------------

OLD_FIELDS = ["input_frames", "output_frames", "labels", "source_indices", "positions", "index"]


@pytest.mark.parametrize("name", ["classic", "notebook", "fashion"])
def test_the_fields_of_the_original_presets_are_the_old_six_in_the_old_order(name):
    spec = moving_mnist.PRESETS[name].spec
    assert [f.name for f in fields_of(spec)] == OLD_FIELDS
    filtered = replace(spec, source={"name": spec.source.name, "classes": [2, 7]})
    assert [f.name for f in fields_of(filtered)] == OLD_FIELDS


def test_the_fields_of_classic_have_the_old_dtypes_and_shapes():
    fields = {f.name: (f.dtype, f.shape(CLASSIC)) for f in fields_of(CLASSIC)}
    assert fields == {
        "input_frames": ("uint8", (10, 64, 64)),
        "output_frames": ("uint8", (10, 64, 64)),
        "labels": ("int64", (2,)),
        "source_indices": ("int32", (2,)),
        "positions": ("int16", (20, 2, 2)),
        "index": ("int64", ()),
    }


def test_numbers_add_each_numbers_value_and_spacing():
    spec = replace(CLASSIC, source={"name": "numbers", "digits_per_number": 4}, image_size=128)
    fields = {f.name: (f.dtype, f.shape(spec)) for f in fields_of(spec)}
    assert list(fields) == [*OLD_FIELDS, "value", "spacing"]
    assert fields["labels"] == ("int64", (2, 4)) and fields["source_indices"] == ("int32", (2, 4))
    assert fields["value"] == ("int64", (2,)) and fields["spacing"] == ("int16", (2, 3))
    one_digit = replace(spec, source={"name": "numbers", "digits_per_number": 1})
    assert [f.name for f in fields_of(one_digit)] == [*OLD_FIELDS, "value"]  # no gaps in one digit


# --- numbers on real MNIST ---------------------------------------------------------------------

NUMBERS = replace(
    CLASSIC, source={"name": "numbers", "digits_per_number": 3, "spacing_min": 1, "spacing_max": 6},
    num_objects=2, num_frames=12, num_input_frames=6, image_size=110,
    num_train=1030, num_validation=40, num_test=40, seed=21,
)


def _numbers(mnist_pools, spec, split, start, stop):
    return generate(spec, {"mnist": mnist_pools}, split, start, stop)


@pytest.mark.parametrize("split, start, stop", [("train", 1010, 1030), ("test", 0, 40)])
def test_a_numbers_value_is_its_digit_labels_read_left_to_right(mnist_pools, split, start, stop):
    truth = _numbers(mnist_pools, NUMBERS, split, start, stop).truth
    pool = mnist_pools[pool_of(split)]
    assert truth["labels"].shape == truth["source_indices"].shape == (stop - start, 2, 3)
    assert np.array_equal(truth["labels"], pool.labels[truth["source_indices"]])
    assert truth["value"].dtype == np.int64 and truth["value"].shape == (stop - start, 2)
    for i, k in np.ndindex(stop - start, 2):
        assert truth["value"][i, k] == int("".join(str(label) for label in truth["labels"][i, k])), (i, k)


def test_numbers_draw_their_digits_and_gaps_from_the_documented_streams(mnist_pools):
    truth = _numbers(mnist_pools, NUMBERS, "train", 1010, 1030).truth  # across the block at 1024
    for i in range(1010, 1030):
        key = [21, 0, i // 1024]
        digits = np.random.default_rng(key + [1]).integers(0, 60000, (1024, 2, 3))[i % 1024]
        gaps = np.random.default_rng(key + [2]).integers(1, 7, (1024, 2, 2))[i % 1024]
        assert np.array_equal(truth["source_indices"][i - 1010], digits), i
        assert np.array_equal(truth["spacing"][i - 1010], gaps), i


def test_numbers_gaps_lie_within_min_and_max_and_reach_both(mnist_pools):
    spacing = _numbers(mnist_pools, NUMBERS, "train", 0, 1030).truth["spacing"]
    assert spacing.dtype == np.int16 and spacing.shape == (1030, 2, 2)
    assert spacing.min() == 1 and spacing.max() == 6
    assert set(spacing.ravel().tolist()) == {1, 2, 3, 4, 5, 6}


def test_numbers_positions_keep_each_number_inside_the_canvas(mnist_pools):
    truth = _numbers(mnist_pools, NUMBERS, "train", 0, 300).truth
    width = 28 * 3 + truth["spacing"].astype(int).sum(axis=-1)  # (N, K)
    rows, cols = truth["positions"][..., 0].astype(int), truth["positions"][..., 1].astype(int)  # (N, T, K)
    assert rows.min() >= 0 and cols.min() >= 0
    assert (rows + 28 <= 110).all()
    assert (cols + width[:, None] <= 110).all()
    assert (cols + width[:, None] == 110).any() and (rows + 28 == 110).any()  # at the right and bottom walls


def test_numbers_move_like_classic_sprites_of_their_own_width(mnist_pools):
    # positions follow the original loop from the documented start, with free space 110 - width across
    truth = _numbers(mnist_pools, NUMBERS, "train", 0, 60).truth
    draws = np.random.default_rng([21, 0, 0, 0]).random((1024, 2, 3))
    for i, k in np.ndindex(60, 2):
        x, y, angle = draws[i, k]
        vx, vy = 0.1 * np.cos(angle * 2 * np.pi), 0.1 * np.sin(angle * 2 * np.pi)
        width = 28 * 3 + int(truth["spacing"][i, k].astype(int).sum())
        rows, _ = reference_path(x, y, vx, vy, 12, 110 - 28)
        _, cols = reference_path(x, y, vx, vy, 12, 110 - width)
        assert truth["positions"][i, :, k, 0].tolist() == rows, (i, k)
        assert truth["positions"][i, :, k, 1].tolist() == cols, (i, k)


def paint_numbers(images, truth, canvas, rule):
    """Each frame drawn alone from the recorded truth: each digit of each number pasted with numpy slicing.

    images: the pool's (M, 28, 28); truth: source_indices (N, K, D), spacing (N, K, D - 1), positions
    (N, T, K, 2); canvas: (N, T, H, W) int64, filled in place. Digits of a number never overlap, so
    pasting them one by one is pasting the number. `sum` is not clipped.
    """
    n, t, k = truth["positions"].shape[:3]
    for i, f, j in np.ndindex(n, t, k):
        r, c = (int(v) for v in truth["positions"][i, f, j])
        left = c
        for d, index in enumerate(truth["source_indices"][i, j]):
            digit = images[index].astype(np.int64)
            window = canvas[i, f, r : r + 28, left : left + 28]
            if rule == "max":
                window[...] = np.maximum(window, digit)
            elif rule == "sum":
                window += digit
            else:  # over, with the ink as alpha
                window[...] = digit + (window * (255 - digit) + 127) // 255
            if d < len(truth["spacing"][i, j]):
                left += 28 + int(truth["spacing"][i, j, d])
        assert left + 28 == c + 28 * len(truth["source_indices"][i, j]) + int(truth["spacing"][i, j].sum())
    return canvas


@pytest.mark.parametrize("rule", ["max", "sum", "over"])
@pytest.mark.parametrize("split", ["train", "validation"])
def test_numbers_frames_are_their_digits_drawn_from_the_recorded_truth(mnist_pools, rule, split):
    spec = replace(NUMBERS, compositing=rule, num_objects=3, image_size=100)
    seqs = _numbers(mnist_pools, spec, split, 0, 40)
    canvas = np.zeros((40, 12, 100, 100), np.int64)
    expected = np.clip(paint_numbers(mnist_pools[pool_of(split)].images, seqs.truth, canvas, rule), 0, 255)
    assert seqs.frames.dtype == np.uint8 and seqs.frames.shape == (40, 12, 100, 100)
    assert seqs.frames.tobytes() == expected.astype(np.uint8).tobytes()


def test_numbers_of_fixed_spacing_are_drawn_from_the_recorded_truth(mnist_pools):
    spec = replace(NUMBERS, source={"name": "numbers", "digits_per_number": 2, "spacing_min": 4, "spacing_max": 4},
                   image_size=60)
    seqs = _numbers(mnist_pools, spec, "test", 0, 40)
    assert (seqs.truth["spacing"] == 4).all()
    expected = paint_numbers(mnist_pools["test"].images, seqs.truth, np.zeros((40, 12, 60, 60), np.int64), "max")
    assert seqs.frames.tobytes() == expected.astype(np.uint8).tobytes()


def test_numbers_of_one_digit_are_the_mnist_source(mnist_pools):
    # one digit per number: the same draws from the same streams, a 28 x 28 sprite, no gaps
    one = replace(CLASSIC, source={"name": "numbers", "digits_per_number": 1}, num_train=50)
    digits = _numbers(mnist_pools, one, "train", 0, 50)
    mnist = _numbers(mnist_pools, replace(one, source="mnist"), "train", 0, 50)
    assert np.array_equal(digits.frames, mnist.frames)
    assert np.array_equal(digits.truth["positions"], mnist.truth["positions"])
    assert np.array_equal(digits.truth["source_indices"][..., 0], mnist.truth["source_indices"])
    assert np.array_equal(digits.truth["value"], mnist.truth["labels"])


def test_numbers_sequential_sampling_takes_the_digits_in_turn(mnist_pools):
    spec = replace(NUMBERS, sampling="sequential", num_test=1700)
    truth = _numbers(mnist_pools, spec, "test", 1660, 1670).truth  # sequence 1666 wraps the 10000 test images
    expected = [[[((i * 2 + k) * 3 + d) % 10000 for d in range(3)] for k in range(2)] for i in range(1660, 1670)]
    assert truth["source_indices"].tolist() == expected
    assert truth["source_indices"][6].tolist() == [[9996, 9997, 9998], [9999, 0, 1]]


# --- classes on real MNIST ---------------------------------------------------------------------


def _allowed(labels, classes):
    """Indices of the images of `classes`, in pool order: a plain loop."""
    return [j for j, label in enumerate(labels.tolist()) if label in classes]


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("classes", [[1, 3, 5], [0], [9, 2]])
def test_random_sampling_draws_only_the_chosen_classes(mnist_pools, classes, split):
    spec = replace(CLASSIC, source={"name": "mnist", "classes": classes}, num_objects=3, image_size=32, num_frames=3,
                   num_input_frames=1, num_train=1100, num_validation=1100, num_test=1100, seed=8)
    pool = mnist_pools[pool_of(split)]
    truth = generate(spec, {"mnist": mnist_pools}, split, 1000, 1100).truth  # across the block at 1024
    assert set(truth["labels"].ravel().tolist()) == set(classes)
    assert np.array_equal(truth["labels"], pool.labels[truth["source_indices"]])
    # uniform over the filtered pool: the documented draw indexes the images of the chosen classes
    allowed = np.array(_allowed(pool.labels, set(classes)))
    for i in range(1000, 1100):
        picks = np.random.default_rng([8, SPLITS.index(split), i // 1024, 1]).integers(0, len(allowed), (1024, 3))
        assert truth["source_indices"][i - 1000].tolist() == allowed[picks[i % 1024]].tolist(), i


@pytest.mark.parametrize("split", ["train", "test"])
def test_sequential_sampling_walks_the_filtered_pool_in_order(mnist_pools, split):
    classes = {1, 3}
    spec = replace(CLASSIC, source={"name": "mnist", "classes": sorted(classes)}, sampling="sequential",
                   num_frames=3, num_input_frames=1, num_train=2000, num_test=2000)
    pool = mnist_pools[pool_of(split)]
    allowed = _allowed(pool.labels, classes)  # 2145 test images, 13873 train images
    truth = generate(spec, {"mnist": mnist_pools}, split, 1015, 1080).truth  # a block boundary; a wrap in test
    expected = [[allowed[(i * 2 + k) % len(allowed)] for k in range(2)] for i in range(1015, 1080)]
    assert truth["source_indices"].tolist() == expected
    assert set(truth["labels"].ravel().tolist()) == classes
    if split == "test":
        assert len(allowed) == 2145 and expected[1072 - 1015] == [allowed[2144], allowed[0]]


def test_classes_apply_to_each_digit_of_a_number(mnist_pools):
    spec = replace(NUMBERS, source={**NUMBERS.source.as_dict(), "classes": [2, 7]})
    truth = _numbers(mnist_pools, spec, "validation", 0, 40).truth
    assert set(truth["labels"].ravel().tolist()) == {2, 7}
    assert {c for value in truth["value"].ravel().tolist() for c in str(value).zfill(3)} == {"2", "7"}


def test_classes_change_nothing_but_the_sprites(mnist_pools):
    base = replace(CLASSIC, num_train=30, seed=4)
    every = generate(base, {"mnist": mnist_pools}, "train", 0, 30)
    all_classes = generate(replace(base, source={"name": "mnist", "classes": list(range(10))}),
                           {"mnist": mnist_pools}, "train", 0, 30)
    some = generate(replace(base, source={"name": "mnist", "classes": [4]}), {"mnist": mnist_pools}, "train", 0, 30)
    for name in ("labels", "source_indices", "positions"):
        assert np.array_equal(every.truth[name], all_classes.truth[name]), name  # all ten: the unfiltered draws
    assert np.array_equal(every.frames, all_classes.frames)
    assert np.array_equal(every.truth["positions"], some.truth["positions"])
    assert (some.truth["labels"] == 4).all()
