"""Random draws inside the compiled kernel.

Every device owns two ``numpy.random.Generator`` streams spawned from its reset seed
(see ``sim.py``); the host copies their uniform draws into ``rng[i, stream]`` and the
kernel consumes them in order. What a device sees depends only on its own seed, never
on batch size or on when the host refills the buffers, so device ``i`` of a batch
reproduces a single env with the same seed.

* ``USER``: everything the agent cannot influence (app opens, screen use, sessions,
  network, motion, work arrivals, bedtimes). Under a given seed every policy meets
  the same user week: common random numbers for sharper policy comparisons.
* ``SYS``: everything that reacts to the agent (the scheduler, thermal state, battery
  behaviour such as top-ups and Low Power Mode prompts).
"""

from __future__ import annotations

import numpy as np

from bgenv.core.jit import kjit
from bgenv.core.layout import I_RNG_POS

USER = 0
SYS = 1
NSTREAM = 2


@kjit(inline="always")
def uniform(n, rg, stream: int) -> float:
    """Next uniform draw in [0, 1) from ``stream``."""
    p = n[I_RNG_POS + stream]
    n[I_RNG_POS + stream] = p + 1
    return rg[stream, p]


@kjit(inline="always")
def expo(n, rg, stream: int, mean: float) -> float:
    """Exponential draw with the given mean (same unit as ``mean``)."""
    return -mean * np.log(1.0 - uniform(n, rg, stream))


@kjit
def poisson(n, rg, stream: int, mean: float) -> int:
    """Poisson count by inversion (small means only: mutations per app session)."""
    if mean <= 0.0:
        return 0
    u = uniform(n, rg, stream)
    p = np.exp(-mean)
    cdf = p
    k = 0
    while u > cdf and k < 50:
        k += 1
        p *= mean / k
        cdf += p
    return k
