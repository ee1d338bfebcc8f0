"""Random draws inside the compiled kernel.

Every device owns a ``numpy.random.Generator`` (created from the reset seed by the
host, see ``sim.py``); the host copies its uniform draws into ``rng[i]`` and the
kernel consumes them in order. The stream a device sees depends only on its own
seed, never on batch size or on when the host refills the buffer, so device ``i``
of a batch reproduces a single env with the same seed.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bgenv.core.layout import I_RNG_POS


@njit(cache=True, inline="always")
def uniform(n, rg) -> float:
    """Next uniform draw in [0, 1)."""
    p = n[I_RNG_POS]
    n[I_RNG_POS] = p + 1
    return rg[p]


@njit(cache=True, inline="always")
def expo(n, rg, mean: float) -> float:
    """Exponential draw with the given mean (same unit as ``mean``)."""
    return -mean * np.log(1.0 - uniform(n, rg))


@njit(cache=True)
def poisson(n, rg, mean: float) -> int:
    """Poisson count by inversion (small means only: mutations per app session)."""
    if mean <= 0.0:
        return 0
    u = uniform(n, rg)
    p = np.exp(-mean)
    cdf = p
    k = 0
    while u > cdf and k < 50:
        k += 1
        p *= mean / k
        cdf += p
    return k
