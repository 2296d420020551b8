"""Time `generator.doodles`: microseconds per sprite to sample and to draw a block of sprites.

    python scripts/doodles_speed.py [--size 32] [--block 2048] [--repeat 15]

Prints the best and the median of `--repeat` runs in CPU time of this process (the machine may be
shared), for the whole block and for blocks of one stroke kind.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from generator import doodles


def cpu_times(function, repeat: int) -> tuple[float, float]:
    """Best and median CPU seconds of `repeat` calls of `function()`."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        function()
        times.append(time.process_time() - start)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--block", type=int, default=2048)
    parser.add_argument("--min-strokes", type=int, default=1)
    parser.add_argument("--max-strokes", type=int, default=4)
    parser.add_argument("--min-width", type=float, default=1.0)
    parser.add_argument("--max-width", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    def sample():
        rng = np.random.default_rng(0)
        sizes = (args.block, args.size, args.min_strokes, args.max_strokes)
        return doodles.sample_strokes(rng, *sizes, args.min_width, args.max_width)

    def report(name, function, count):
        best, median = cpu_times(function, args.repeat)
        print(f"{name:24s} best {best * 1e6 / count:6.2f} us   median {median * 1e6 / count:6.2f} us")

    strokes = sample()
    print(f"{args.block} sprites of {args.size}x{args.size}, {args.min_strokes}..{args.max_strokes} strokes,", end=" ")
    print(f"widths {args.min_width}..{args.max_width}")
    report("sample, per sprite", sample, args.block)
    report("draw, per sprite", lambda: doodles.draw(strokes, args.size), args.block)
    for code, kind in enumerate(doodles.KINDS):
        alone = strokes[strokes[..., 0] == code][:, None, :]  # each stroke as a sprite of its own
        report(f"draw one {kind}", lambda: doodles.draw(alone, args.size), len(alone))


if __name__ == "__main__":
    main()
