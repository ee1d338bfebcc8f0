"""Random draws inside the compiled kernel.

Every device owns two PCG64 streams spawned from its reset seed (``stream_states``).
The kernel steps them itself with the same arithmetic as ``numpy``'s ``PCG64`` and
turns each 64-bit output into a double exactly as ``Generator.random()`` does, so
device ``i`` sees the very sequence ``numpy.random.Generator(PCG64(...)).random()``
would give. What a device sees depends only on its own seed, never on batch size or
thread count, so device ``i`` of a batch reproduces a single env with the same seed.

* ``USER``: everything the agent cannot influence (app opens, screen use, sessions,
  network, motion, work arrivals, bedtimes). Under a given seed every policy meets
  the same user week: common random numbers for sharper policy comparisons.
* ``SYS``: everything that reacts to the agent (the scheduler, thermal state, battery
  behaviour such as top-ups and Low Power Mode prompts).

A stream's state is four uint64 words ``rng[i, stream]``: the 128-bit LCG state and
increment, high word first (``RS_STATE_HI``, ``RS_STATE_LO``, ``RS_INC_HI``,
``RS_INC_LO``).
"""

from __future__ import annotations

import math
import warnings

import numba
import numpy as np

from bgenv.core.jit import kjit
from bgenv.core.layout import I_RNG_DRAWS, NRS, RS_INC_HI, RS_INC_LO, RS_STATE_HI, RS_STATE_LO

USER = 0
SYS = 1
NSTREAM = 2
STREAMS = (USER, SYS)

# PCG64 (XSL-RR 128/64), as numpy's ``PCG64``: state = state * MUL + inc (mod 2**128),
# output = rotr64(hi ^ lo, hi >> 58). numba has no 128-bit integers: the product is
# assembled from 64-bit words (every operand is uint64: mixing in a Python int would
# turn the arithmetic into float64).
_MUL_HI = np.uint64(0x2360ED051FC65DA4)
_MUL_LO = np.uint64(0x4385DF649FCCF645)
_M32 = np.uint64(0xFFFFFFFF)
_U0 = np.uint64(0)
_U1 = np.uint64(1)
_U11 = np.uint64(11)
_U32 = np.uint64(32)
_U58 = np.uint64(58)
_U63 = np.uint64(63)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53, as numpy's next_double
_WORD = (1 << 64) - 1

if numba.config.DISABLE_JIT:  # pure Python: numpy warns at the uint64 wrap-around the LCG relies on
    warnings.filterwarnings("ignore", "overflow encountered in scalar", RuntimeWarning, r"bgenv\.core\.rng")


@kjit(inline="always")
def _mulhi(a, b):
    """High 64 bits of the 128-bit product of uint64 ``a`` and ``b``."""
    a0 = a & _M32
    a1 = a >> _U32
    b0 = b & _M32
    b1 = b >> _U32
    p00 = a0 * b0
    p01 = a0 * b1
    p10 = a1 * b0
    mid = (p00 >> _U32) + (p01 & _M32) + (p10 & _M32)
    return a1 * b1 + (p01 >> _U32) + (p10 >> _U32) + (mid >> _U32)


@kjit(inline="always")
def next_u64(rng, stream: int):
    """Advance ``stream`` and return its next 64-bit output (numpy's pcg64_next64)."""
    hi = rng[stream, RS_STATE_HI]
    lo = rng[stream, RS_STATE_LO]
    plo = lo * _MUL_LO
    phi = _mulhi(lo, _MUL_LO) + lo * _MUL_HI + hi * _MUL_LO
    slo = plo + rng[stream, RS_INC_LO]
    shi = phi + rng[stream, RS_INC_HI] + (_U1 if slo < plo else _U0)
    rng[stream, RS_STATE_HI] = shi
    rng[stream, RS_STATE_LO] = slo
    x = shi ^ slo
    rot = shi >> _U58
    return (x >> rot) | (x << ((_U0 - rot) & _U63))


@kjit(inline="always")
def uniform(si, rng, stream: int) -> float:
    """Next uniform draw in [0, 1) from ``stream`` (counted in ``si[I_RNG_DRAWS + stream]``)."""
    si[I_RNG_DRAWS + stream] += 1
    return float(next_u64(rng, stream) >> _U11) * _TO_UNIT


@kjit(inline="always")
def expo(si, rng, stream: int, mean: float) -> float:
    """Exponential draw with the given mean (same unit as ``mean``)."""
    return -mean * math.log(1.0 - uniform(si, rng, stream))


@kjit(inline="always")
def normal(si, rng, stream: int) -> float:
    """Standard normal draw (Box-Muller, two uniforms)."""
    r = math.sqrt(-2.0 * math.log(1.0 - uniform(si, rng, stream)))
    return r * math.cos(2.0 * math.pi * uniform(si, rng, stream))


@kjit
def poisson(si, rng, stream: int, mean: float) -> int:
    """Poisson count by inversion (small means only: mutations per app session)."""
    if mean <= 0.0:
        return 0
    u = uniform(si, rng, stream)
    p = math.exp(-mean)
    cdf = p
    k = 0
    while u > cdf and k < 50:
        k += 1
        p *= mean / k
        cdf += p
    return k


def stream_states(seed: int | None) -> np.ndarray:
    """A device's two stream states (uint64 ``[NSTREAM, NRS]``) for reset seed ``seed``:
    ``PCG64`` generators spawned from one ``SeedSequence`` (``None``: fresh OS entropy)."""
    out = np.zeros((NSTREAM, NRS), dtype=np.uint64)
    for k, ss in enumerate(np.random.SeedSequence(seed).spawn(NSTREAM)):
        st = np.random.PCG64(ss).state["state"]
        out[k, RS_STATE_HI] = st["state"] >> 64
        out[k, RS_STATE_LO] = st["state"] & _WORD
        out[k, RS_INC_HI] = st["inc"] >> 64
        out[k, RS_INC_LO] = st["inc"] & _WORD
    return out
