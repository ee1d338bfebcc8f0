"""integers_below: Generator.integers' draws, value for value and state for state."""

from __future__ import annotations

import numpy as np
import pytest

from bgenv import fastdraw
from bgenv.fastdraw import integers_below


def test_known_draws() -> None:
    """Seed 7: the values Generator.integers gives (NumPy 2.x, PCG64)."""
    rng = np.random.default_rng(7)
    assert [integers_below(rng, 31) for _ in range(8)] == [29, 19, 21, 27, 17, 24, 25, 6]
    rng = np.random.default_rng(7)
    assert [integers_below(rng, 2**31 + 1) for _ in range(3)] == [1926751966, 1241873585, 1790251937]


@pytest.mark.parametrize("n", [1, 2, 3, 31, 37, 1000, 2**31 + 1, 2**32 - 2, 2**32 - 1, 2**32, 2**40])
def test_same_values_and_state_as_integers(n: int) -> None:
    """Interleaved with other draws from the same generator (the bit generator's buffered
    32-bit half included), the values and the state afterwards are Generator.integers'."""
    for seed in range(5):
        a, b = np.random.default_rng(seed), np.random.default_rng(seed)
        for k in range(60):
            assert integers_below(a, n) == int(b.integers(n))
            if k % 7 == 0:
                assert a.random() == b.random()
        assert a.bit_generator.state == b.bit_generator.state


def test_falls_back_when_numpy_draws_differently(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastdraw, "_agrees", False)
    monkeypatch.setattr(fastdraw, "_draw", lambda rng, n: -1)
    rng = np.random.default_rng(7)
    assert integers_below(rng, 31) == 29


def test_the_check_passes_on_this_numpy() -> None:
    assert fastdraw._check()
