"""The kernel's random streams: PCG64 stepped in compiled code must give exactly the
draws of ``numpy.random.Generator(PCG64(...)).random()`` for the same seed."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from bgenv.core import layout as L
from bgenv.core.rng import NSTREAM, SYS, USER, stream_states, uniform


@njit(cache=True)
def _draws(n, rg, stream, out):
    for i in range(out.shape[0]):
        out[i] = uniform(n, rg, stream)


def _numpy_draws(seed: int, stream: int, k: int) -> np.ndarray:
    ss = np.random.SeedSequence(seed).spawn(NSTREAM)[stream]
    return np.random.Generator(np.random.PCG64(ss)).random(k)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**63 - 1), st.sampled_from([USER, SYS]), st.integers(1, 3000))
def test_kernel_streams_are_numpys_pcg64_bit_for_bit(seed, stream, k):
    rg = stream_states(seed)
    n = np.zeros(L.NSI, dtype=np.int64)
    out = np.empty(k)
    _draws(n, rg, stream, out)
    np.testing.assert_array_equal(out, _numpy_draws(seed, stream, k))
    assert n[L.I_RNG_DRAWS + stream] == k and n[L.I_RNG_DRAWS + 1 - stream] == 0
    # the state carries on: the next draws continue numpy's sequence
    more = np.empty(5)
    _draws(n, rg, stream, more)
    np.testing.assert_array_equal(more, _numpy_draws(seed, stream, k + 5)[k:])


def test_streams_are_independent_and_seeded():
    a, b = stream_states(7), stream_states(7)
    assert a.dtype == np.uint64 and a.shape == (NSTREAM, L.NRS)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[USER], a[SYS])
    assert not np.array_equal(stream_states(8), a)
    assert not np.array_equal(stream_states(None), stream_states(None))  # fresh OS entropy
