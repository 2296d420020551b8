"""Time `generator.doodles`: microseconds per sprite to sample and to draw blocks of sprites.

    python scripts/doodles_speed.py [--size 32] [--block 2048] [--repeat 7]

Prints the best of `--repeat` runs (the machine may be shared), per stage.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from generator import doodles


def best_time(function, repeat: int) -> float:
    """The shortest of `repeat` wall-clock runs of `function()`, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--block", type=int, default=2048)
    parser.add_argument("--min-strokes", type=int, default=1)
    parser.add_argument("--max-strokes", type=int, default=4)
    parser.add_argument("--min-width", type=float, default=1.0)
    parser.add_argument("--max-width", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    def sample():
        rng = np.random.default_rng(0)
        return doodles.sample_strokes(
            rng, args.block, args.size, args.min_strokes, args.max_strokes, args.min_width, args.max_width
        )

    strokes = sample()
    per_sprite = 1e6 / args.block
    print(f"{args.block} sprites of {args.size}x{args.size}, {args.min_strokes}..{args.max_strokes} strokes")
    print(f"sample: {best_time(sample, args.repeat) * per_sprite:.2f} us/sprite")
    print(f"draw:   {best_time(lambda: doodles.draw(strokes, args.size), args.repeat) * per_sprite:.2f} us/sprite")
    for code, kind in enumerate(doodles.KINDS):
        alone = np.where((np.arange(strokes.shape[1]) == 0)[None, :, None], strokes, 0)
        alone[:, 1:, 0] = -1
        alone[:, 0] = np.where(alone[:, 0, :1] == -1, 0, alone[:, 0])
        only = strokes[strokes[..., 0] == code][:, None, :]
        print(f"  one {kind:8s} {best_time(lambda: doodles.draw(only, args.size), args.repeat) * 1e6 / len(only):.2f} us/stroke")


if __name__ == "__main__":
    main()
