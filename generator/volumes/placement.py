"""Where cavities go: inside the grid, and, unless they may merge, apart from each other.

Each cavity's centre moves on a straight line, `drift` long, over its life; its `reach` bounds
how far any of its points gets from its centre. A cavity fits where every point of that line is at
least `gap + reach` from the grid's faces, and, when cavities are kept separate, where the centres
of every two cavities alive at the same time stay at least `reach + reach' + gap` apart. Then they
never touch the faces nor each other at any time point: their voxels show their topology.
"""

from __future__ import annotations

import numpy as np

# Places tried per cavity; one that finds no free place is left out.
TRIES = 64
# Samples checked at once, so that the arrays of every try against every cavity stay small.
_SAMPLES = 64


def place(rng: np.random.Generator, draws: dict[str, np.ndarray], count: np.ndarray, gap: float,
          separate: bool) -> tuple[np.ndarray, np.ndarray]:
    """The centres of `(N, C)` cavities at the middle of their lives, `(N, C, 3)` float64 (NaN where left
    out), and which were placed, `(N, C)` bool.

    draws: a block's `Cavities.draw`: `reach (N, C)`, `drift (N, C, 3)`, `lifetimes (N, C, 2)`.
    count: `(N,)` the cavities wanted per sample: slots k >= count[i] stay empty.
    Cavity k of a sample tries TRIES places, drawn uniformly where it fits the grid, in order, and takes
    the first that keeps it apart from cavities 0 .. k - 1 (always `(N, TRIES, 3)` draws per slot, so
    that the draws depend on the shape only).
    """
    reach, drift, lifetimes = draws["reach"], draws["drift"], draws["lifetimes"].astype(np.float64)
    n, c = reach.shape
    margin = gap + reach[..., None] + np.abs(drift) / 2  # (N, C, 3): the centre's allowed range per axis
    middle = np.full((n, c, 3), np.nan)
    placed = np.zeros((n, c), bool)
    for k in range(c):
        tries = margin[:, k, None] + (1 - 2 * margin[:, k, None]) * rng.random((n, TRIES, 3))
        fits = np.broadcast_to((k < count)[:, None], (n, TRIES)).copy()
        if separate and k:
            for lo in range(0, n, _SAMPLES):
                part = slice(lo, lo + _SAMPLES)
                fits[part] &= _apart(tries[part], k, middle[part], placed[part], reach[part], drift[part],
                                     lifetimes[part], gap)
        found = fits.any(axis=1)
        first = fits.argmax(axis=1)
        middle[found, k] = tries[found, first[found]]
        placed[:, k] = found
    return middle, placed


def _apart(tries, k, middle, placed, reach, drift, lifetimes, gap) -> np.ndarray:
    """`(n, TRIES)`: whether cavity k at each try keeps clear of the placed cavities j < k alive with it.

    In output time units t, a cavity living from `first` for L time points is centred at
    middle + drift ((t - first) / L - 1/2); two such centres differ by p0 + v t, whose smallest length
    over the time they share, [max(firsts), min(lasts) + 1], is in closed form.
    """
    first, last = lifetimes[..., 0], lifetimes[..., 1]
    length = last - first + 1
    own = drift[:, k] * (first[:, k] / length[:, k] + 0.5)[:, None]  # (n, 3)
    others = drift[:, :k] * (first[:, :k] / length[:, :k] + 0.5)[..., None]  # (n, k, 3)
    p0 = tries[:, :, None] - own[:, None, None] - (middle[:, None, :k] - others[:, None])  # (n, TRIES, k, 3)
    v = (drift[:, k, None] / length[:, k, None, None] - drift[:, :k] / length[:, :k, None])[:, None]  # (n, 1, k, 3)
    t0 = np.maximum(first[:, k, None], first[:, :k])[:, None]  # (n, 1, k)
    t1 = np.minimum(last[:, k, None], last[:, :k])[:, None] + 1
    speed = (v * v).sum(axis=-1)
    moving = speed > 0
    t = np.clip(-(p0 * v).sum(axis=-1) / np.where(moving, speed, 1), t0, t1)
    closest = p0 + v * np.where(moving, t, t0)[..., None]
    distance = np.sqrt((closest * closest).sum(axis=-1))
    clear = distance >= reach[:, k, None, None] + reach[:, None, :k] + gap
    together = t0 < t1
    return (clear | ~together | ~placed[:, None, :k]).all(axis=-1)
