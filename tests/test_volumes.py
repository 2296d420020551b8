"""Volumes: the spec refuses bad parameters by name, the fields are as declared, the bytes depend only on
(spec, split, index), and downscaling is the block mean."""

import dataclasses

import numpy as np
import pytest

from generator import fields_of
from generator import generate as generate_any
from generator.streams import BLOCK_SIZE
from generator.volumes import CAVITIES, VOLUME_FIELDS, VolumeSpec, generate
from generator.presets import PRESETS
from generator.volumes.render import render

SMALL = VolumeSpec(cavities="mixed", num_cavities=(1, 4), num_frames=6, num_input_frames=4, grid_size=16,
                   generation_size=64, num_train=1030, num_validation=5, num_test=3, seed=0)


def refused(**changes) -> str:
    with pytest.raises(ValueError) as error:
        SMALL.replace(**changes)
    return str(error.value)


def cavities(truth, j):
    """Sample j's cavity_families, cavity_lifetimes and cavity_parameters."""
    return (truth[name][j] for name in ("cavity_families", "cavity_lifetimes", "cavity_parameters"))


def block_mean(frames, block, steps=1):
    """`frames (T, G, G, G)` of 0/255 averaged over blocks of steps x block^3, x 255, rounded half up."""
    t, g = frames.shape[0], frames.shape[1]
    shape = (t // steps, steps, g // block, block, g // block, block, g // block, block)
    mean = (frames == 255).reshape(shape).mean(axis=(1, 3, 5, 7))
    return np.floor(mean * 255 + 0.5).astype(np.uint8)


# --- the presets and the spec -------------------------------------------------------------------


def test_the_presets_are_the_seeds_formats():
    cavities, thesis = PRESETS["cavities"].spec, PRESETS["cavities_thesis"].spec
    shape = ("num_frames", "num_input_frames", "grid_size", "generation_size")
    assert [getattr(cavities, name) for name in shape] == [32, 16, 16, 64]
    assert cavities.split_sizes() == {"train": 2000, "validation": 200, "test": 200}
    assert [getattr(thesis, name) for name in shape] == [128, 64, 16, 128]
    assert thesis.split_sizes() == {"train": 25600, "validation": 3200, "test": 3200}
    assert cavities.cavities.name == thesis.cavities.name == "mixed"


def test_a_volume_spec_answers_as_a_spec_does():
    assert SMALL.frame_shape() == (16, 16, 16)
    assert SMALL.num_output_frames == 2
    assert SMALL.max_cavities == 4
    assert SMALL.files() == []
    assert SMALL.split_sizes() == {"train": 1030, "validation": 5, "test": 3}
    assert VolumeSpec.from_dict(SMALL.as_dict()) == SMALL
    with pytest.raises(dataclasses.FrozenInstanceError):
        SMALL.seed = 1


def test_as_dict_spells_components_and_ranges_as_plain_values():
    plain = SMALL.as_dict()
    assert plain["cavities"]["name"] == "mixed" and plain["cavities"]["radius"] == [0.1, 0.16]
    assert plain["occupancy"] == {"name": "binary"}
    assert plain["num_cavities"] == [1, 4]
    assert (plain["time_factor"], plain["threshold"], plain["overlap"]) == (1, None, "separate")


def test_replace_keeps_a_components_other_parameters_unless_it_is_named():
    spec = SMALL.replace(cavities={"gap": 0.05})
    assert spec.cavities.gap == 0.05 and spec.cavities.name == "mixed"
    assert spec.cavities.radius == SMALL.cavities.radius
    ball = {"name": "ball", "radius": 0.12}
    assert SMALL.replace(cavities=ball).cavities == CAVITIES.create(ball)
    assert SMALL.replace(occupancy={"name": "fraction", "samples": 2}).occupancy.samples == 2


def test_from_dict_fills_the_optional_fields_and_names_a_missing_one():
    plain = {k: v for k, v in SMALL.as_dict().items() if k not in ("time_factor", "occupancy", "threshold", "overlap")}
    assert VolumeSpec.from_dict(plain) == SMALL
    del plain["grid_size"]
    with pytest.raises(ValueError, match="grid_size is missing"):
        VolumeSpec.from_dict(plain)


@pytest.mark.parametrize("changes, words", [
    (dict(grid_size=24), ["generation_size=64", "multiple of grid_size=24"]),
    (dict(generation_size=32, grid_size=16), ["generation_size=32", "too coarse", "generation_size >= 62"]),
    (dict(num_cavities=17), ["num_cavities=17", "from 1 to 16"]),
    (dict(num_cavities=(3, 2)), ["num_cavities", "min=3", "max=2"]),
    (dict(num_frames=6, num_input_frames=6), ["num_input_frames=6", "num_frames=6"]),
    (dict(threshold=0), ["threshold=0", "(0, 1]"]),
    (dict(threshold=1.5), ["threshold=1.5", "(0, 1]"]),
    (dict(overlap="blend"), ["overlap='blend'", "separate, merge"]),
    (dict(occupancy="fuzzy"), ["occupancy='fuzzy'", "binary, fraction"]),
    (dict(occupancy={"name": "fraction", "samples": 9}), ["occupancy.samples=9", "from 2 to 8"]),
    (dict(cavities="cube"), ["cavities='cube'", "ball, torus, mixed"]),
    (dict(cavities={"gap": -0.1}), ["cavities.gap=-0.1", "[0.0, 0.25]"]),
    (dict(cavities={"name": "torus", "tube_radius": 0.13}), ["tube_radius=0.13", "ring_radius=(0.12, 0.16)"]),
    (dict(cavities={"name": "ball", "radius": 0.48}), ["do not fit", "0.48", "the largest radius", "is 1.02"]),
    (dict(cavities={"torus_fraction": 2}), ["cavities.torus_fraction=2", "[0.0, 1.0]"]),
    (dict(time_factor=0), ["time_factor=0", "from 1 to 64"]),
    (dict(generation_size=2048, grid_size=16), ["generation_size=2048", "from 1 to 1024"]),
    (dict(occupancy={"name": "fraction", "samples": 4}, generation_size=1024, grid_size=16),
     ["generation_size=1024 x occupancy.samples=4", "at most 2048"]),
    (dict(num_train=0, num_validation=0, num_test=0), ["no split"]),
    (dict(volume_size=3), ["parameter='volume_size'", "grid_size"]),
])
def test_bad_parameters_are_refused_by_name_with_what_is_allowed(changes, words):
    message = refused(**changes)
    for word in words:
        assert word in message, (word, message)


def test_sizes_are_bounded_before_memory_is_taken():
    message = refused(num_frames=1000, grid_size=256, generation_size=256, cavities={"gap": 0.03})
    assert "num_frames=1000 x grid_size=256^3" in message and "268,435,456" in message


# --- fields -------------------------------------------------------------------------------------


def test_fields_of_a_volume_spec_are_the_volume_fields_and_share_the_frames_and_index():
    names = [f.name for f in fields_of(SMALL)]
    assert names == ["input_frames", "output_frames", "index", "cavity_counts", "cavity_families", "cavity_lifetimes",
                     "cavity_parameters", "betti_numbers"]
    assert [f.name for f in fields_of(SMALL.replace(overlap="merge"))] == names[:-1]
    from generator.fields import FIELDS
    shared = {f.name: f for f in FIELDS if f.name in ("input_frames", "output_frames", "index")}
    assert all(shared[f.name] is f for f in VOLUME_FIELDS if f.name in shared)


def test_generated_values_have_the_declared_shapes_and_dtypes():
    volumes = generate(SMALL, "validation", 0, 5)
    assert volumes.frames.shape == (5, 6, 16, 16, 16) and volumes.frames.dtype == np.uint8
    values = {"input_frames": volumes.frames[:, :4], "output_frames": volumes.frames[:, 4:], "index": volumes.indices,
              **volumes.truth}
    for f in fields_of(SMALL):
        assert values[f.name].shape == (5, *f.shape(SMALL)), f.name
        assert values[f.name].dtype == np.dtype(f.dtype), f.name


def test_cavities_past_a_samples_count_are_padding_and_the_counts_add_up():
    truth = generate(SMALL, "train", 0, 64).truth
    families, counts = truth["cavity_families"], truth["cavity_counts"]
    assert counts.sum(axis=1).tolist() == (families >= 0).sum(axis=1).tolist()
    assert counts[:, 0].tolist() == (families == 0).sum(axis=1).tolist()
    assert counts[:, 1].tolist() == (families == 1).sum(axis=1).tolist()
    real = np.arange(4) < counts.sum(axis=1)[:, None]  # placed cavities come first
    assert (families[~real] == -1).all() and (families[real] >= 0).all()
    assert (truth["cavity_lifetimes"][~real] == -1).all() and np.isnan(truth["cavity_parameters"][~real]).all()
    lifetimes = truth["cavity_lifetimes"][real]
    assert (0 <= lifetimes[:, 0]).all() and (lifetimes[:, 0] <= lifetimes[:, 1]).all() and (lifetimes[:, 1] < 6).all()
    assert set(counts.sum(axis=1).tolist()) == {1, 2, 3, 4}


def test_betti_numbers_count_the_cavities_and_tori_alive_at_each_time_point():
    truth = generate(SMALL, "train", 0, 64).truth
    t = np.arange(6)[None, :, None]
    first, last = truth["cavity_lifetimes"][:, None, :, 0], truth["cavity_lifetimes"][:, None, :, 1]
    alive = (truth["cavity_families"][:, None] >= 0) & (first <= t) & (t <= last)
    tori = alive & (truth["cavity_families"][:, None] == 1)
    assert (truth["betti_numbers"][..., 0] == 1).all()
    assert (truth["betti_numbers"][..., 1] == tori.sum(axis=-1)).all()
    assert (truth["betti_numbers"][..., 2] == alive.sum(axis=-1)).all()


def test_orientations_are_unit_quaternions_and_balls_stay_put():
    truth = generate(SMALL, "train", 0, 64).truth
    record, families = truth["cavity_parameters"], truth["cavity_families"]
    for q in (record[..., 6:10], record[..., 10:14]):
        assert np.allclose(np.linalg.norm(q[families >= 0], axis=-1), 1, atol=1e-6)
    balls = record[families == 0]
    assert (balls[:, 0:3] == balls[:, 3:6]).all() and (balls[:, 6:10] == balls[:, 10:14]).all()


# --- determinism --------------------------------------------------------------------------------


def test_sample_i_is_the_same_whatever_range_asked_for_it():
    whole = generate(SMALL, "train", 1018, 1030)
    parts = [generate(SMALL, "train", lo, hi) for lo, hi in ((1018, 1023), (1023, 1024), (1024, 1030))]
    assert (np.concatenate([p.frames for p in parts]) == whole.frames).all()
    for name, value in whole.truth.items():
        np.testing.assert_array_equal(np.concatenate([p.truth[name] for p in parts]), value)
    assert whole.indices.tolist() == list(range(1018, 1030))
    assert whole.indices[-1] >= BLOCK_SIZE  # the range crosses a block


def test_the_split_size_does_not_change_earlier_samples_and_splits_differ():
    first = generate(SMALL, "train", 0, 3)
    again = generate(SMALL.replace(num_train=3), "train", 0, 3)
    assert first.frames.tobytes() == again.frames.tobytes()
    other = generate(SMALL, "test", 0, 3)
    assert first.frames.tobytes() != other.frames.tobytes()
    assert generate(SMALL.replace(seed=1), "train", 0, 3).frames.tobytes() != first.frames.tobytes()


def test_the_sequences_generate_gives_volumes_for_a_volume_spec():
    direct = generate(SMALL, "test", 0, 3)
    through = generate_any(SMALL, {}, "test", 0, 3)
    assert direct.frames.tobytes() == through.frames.tobytes()


def test_an_empty_range_and_ranges_outside_the_split():
    empty = generate(SMALL, "test", 1, 1)
    assert empty.frames.shape == (0, 6, 16, 16, 16)
    with pytest.raises(ValueError, match=r"range \[2, 4\) is outside the test split of 3 samples"):
        generate(SMALL, "test", 2, 4)
    with pytest.raises(ValueError, match="split='dev'"):
        generate(SMALL, "dev", 0, 1)


# --- downscaling --------------------------------------------------------------------------------


@pytest.mark.parametrize("overlap", ["separate", "merge"])
def test_downscaling_is_the_block_mean_of_the_generation_voxels(overlap):
    fine = SMALL.replace(grid_size=64, overlap=overlap)
    full = generate(fine, "train", 0, 3).frames
    assert set(np.unique(full).tolist()) == {0, 255}
    for size in (16, 32):
        coarse = generate(fine.replace(grid_size=size), "train", 0, 3).frames
        assert (coarse == np.stack([block_mean(f, 64 // size) for f in full])).all()


def test_a_threshold_makes_cavity_the_blocks_at_least_that_full():
    full = generate(SMALL.replace(grid_size=64), "train", 0, 3).frames
    coarse = generate(SMALL.replace(threshold=0.5), "train", 0, 3).frames
    blocks = (full == 255).reshape(3, 6, 16, 4, 16, 4, 16, 4).mean(axis=(3, 5, 7))
    assert (coarse == np.where(blocks >= 0.5, 255, 0)).all()
    assert np.count_nonzero(coarse) > 0 and ((blocks > 0) & (blocks < 0.5)).any()


def test_fraction_occupancy_is_binary_occupancy_on_a_finer_grid_averaged():
    fraction = SMALL.replace(grid_size=64, occupancy={"name": "fraction", "samples": 2}, num_frames=3,
                             num_input_frames=1)
    finer = fraction.replace(occupancy="binary", grid_size=128, generation_size=128)
    values = generate(fraction, "train", 0, 2).frames
    expected = np.stack([block_mean(f, 2) for f in generate(finer, "train", 0, 2).frames])
    assert (values == expected).all()
    assert len(np.unique(values)) > 2


def test_time_factor_averages_the_generated_steps_of_each_time_point():
    spec = SMALL.replace(grid_size=64, time_factor=3)
    truth = generate(spec, "train", 0, 2).truth
    stepwise = spec.replace(time_factor=1, num_frames=18, num_input_frames=12)
    for j in range(2):
        family, lifetimes, record = cavities(truth, j)
        # the same cavities on the generated steps: time point t's steps are 3t, 3t + 1, 3t + 2
        steps = np.where(family[:, None] >= 0, lifetimes * 3 + [0, 2], lifetimes).astype(np.int16)
        expected = block_mean(render(stepwise, family, steps, record), 1, steps=3)
        assert (render(spec, family, lifetimes, record) == expected).all()
    assert (truth["cavity_lifetimes"][..., 1] < 6).all()


def test_merged_cavities_count_once_where_they_overlap():
    spec = SMALL.replace(grid_size=64, overlap="merge", num_cavities=8, cavities={"gap": 0.02})
    truth = generate(spec, "train", 0, 4).truth
    overlapping = 0
    for j in range(4):
        family, lifetimes, record = cavities(truth, j)
        alone = [render(spec, family[[c]], lifetimes[[c]], record[[c]]) for c in range(8)]
        union = render(spec, family, lifetimes, record)
        assert (union == np.max(alone, axis=0)).all()
        overlapping += int((np.sum([a == 255 for a in alone], axis=0) > 1).sum())
    assert overlapping > 0
