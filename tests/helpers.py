"""Independent references and small readers shared by the tests."""

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import strategies as st

from generator import Spec


def reference_path(x, y, vx, vy, num_frames, free_space=64 - 28):
    """The original per-sprite loop (Srivastava et al. 2015's data handler) in plain Python floats: ([row...], [col...])."""
    rows, cols = [], []
    for _ in range(num_frames):
        y += vy
        x += vx
        if x <= 0:
            x = 0.0
            vx = -vx
        if x >= 1:
            x = 1.0
            vx = -vx
        if y <= 0:
            y = 0.0
            vy = -vy
        if y >= 1:
            y = 1.0
            vy = -vy
        rows.append(int(free_space * y))
        cols.append(int(free_space * x))
    return rows, cols


def arrow_leaves(array) -> np.ndarray:
    """The primitive values of an Arrow column, whatever its nesting and chunking."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if isinstance(array, pa.ExtensionArray):
        array = array.storage
    while pa.types.is_list(array.type) or pa.types.is_fixed_size_list(array.type) or pa.types.is_large_list(array.type):
        array = array.flatten()
    return array.to_numpy(zero_copy_only=False)


@st.composite
def valid_spec(draw):
    """Any valid Spec of MNIST or Fashion-MNIST (any classes), with small splits, frames and canvases so that
    each one builds in moments."""
    num_frames = draw(st.integers(2, 6))
    sizes = draw(st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(0, 4)).filter(any))
    classes = draw(st.one_of(st.none(), st.lists(st.integers(0, 9), min_size=1, max_size=10, unique=True)))
    return Spec(
        source={"name": draw(st.sampled_from(["mnist", "fashion_mnist"])), "classes": classes},
        num_objects=draw(st.integers(1, 4)),
        num_frames=num_frames,
        num_input_frames=draw(st.integers(1, num_frames - 1)),
        image_size=draw(st.integers(28, 72)),
        motion={
            "name": draw(st.sampled_from(["classic", "notebook"])),
            "step_length": draw(st.one_of(st.floats(0, 1, exclude_min=True), st.just(1))),
        },
        compositing=draw(st.sampled_from(["max", "sum", "over"])),
        sampling=draw(st.sampled_from(["random", "sequential"])),
        background="none",
        num_train=sizes[0],
        num_validation=sizes[1],
        num_test=sizes[2],
        seed=draw(st.integers(0, 2**64)),
    )


def cli_fails(argv, capsys) -> str:
    """Run `moving-mnist ARGV`, expect exit status 2 and one line of error output, and return that line."""
    from moving_mnist_cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    line = err.splitlines()[-1]  # progress bars may come before it
    assert line.startswith("moving-mnist") and ": error: " in line, line  # ours, or argparse's
    return line
