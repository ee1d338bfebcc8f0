"""``int(rng.integers(n))`` for a NumPy ``Generator``, the same draw at a third of the cost.

An autoreset of a replaying batched env draws each ended episode's window of the trace
pool from that device's own generator (``bgenv.world``). ``Generator.integers`` spends
about 2.5 µs a call in its argument handling, more than the draw. :func:`integers_below`
runs NumPy's own algorithm for ranges below 2**32 (Lemire's multiply-shift with
rejection, on the bit generator's 32-bit output, ``random_bounded_uint64_fill`` in
NumPy's ``distributions.c``) through the bit generator's ``ctypes`` interface: the same
value and the same generator state afterwards, draw for draw (the bit generator's
buffered half of a 64-bit output included). The first call checks this against
``Generator.integers`` on a few seeds and ranges; should an installed NumPy draw
differently, every call falls back to ``Generator.integers``.
"""

from __future__ import annotations

import numpy as np

_U32 = 0xFFFFFFFF
_agrees: bool | None = None  # the check of the first call (None: not run yet)


def _draw(rng: np.random.Generator, n: int) -> int:
    """NumPy's bounded draw of ``0 .. n - 1`` for ``2 <= n <= 2**32 - 1``."""
    ct = rng.bit_generator.ctypes
    nxt, st = ct.next_uint32, ct.state
    m = nxt(st) * n
    left = m & _U32
    if left < n:
        threshold = (_U32 - (n - 1)) % n
        while left < threshold:
            m = nxt(st) * n
            left = m & _U32
    return m >> 32


def _check() -> bool:
    """``_draw`` gives ``Generator.integers``'s values and leaves the same state."""
    for seed in range(3):
        for n in (2, 3, 31, 1000, 2**31 + 1, _U32 - 1):
            a, b = np.random.default_rng(seed), np.random.default_rng(seed)
            for _ in range(40):
                if _draw(a, n) != int(b.integers(n)):
                    return False
            if a.bit_generator.state != b.bit_generator.state:
                return False
    return True


def integers_below(rng: np.random.Generator, n: int) -> int:
    """``int(rng.integers(n))`` (``n >= 1``): the same value, ``rng`` in the same state."""
    global _agrees
    if n == 1:
        return 0  # NumPy draws nothing for a range of one
    if _agrees is None:
        _agrees = _check()
    if not _agrees or n < 1 or n > _U32 - 1 or not isinstance(rng, np.random.Generator):
        return int(rng.integers(n))
    return _draw(rng, n)
