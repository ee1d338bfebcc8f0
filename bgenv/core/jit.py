"""The one decorator every compiled function of the core uses.

* ``cache=True``: compiled once per machine (``__init__`` drops a stale cache).
* ``_nrt=False``: the kernel never allocates, so numba's reference counting of the
  arrays passed between functions is switched off. With it on, every call of a helper
  taking arrays paid several atomic increments and decrements (about half of the cost
  of an event in the profile).
* ``error_model="numpy"``: no zero-division checks on every ``/``. No reachable state
  divides by zero (with the default model such a state would raise), so results are
  the same bit for bit.

Under ``NUMBA_DISABLE_JIT=1`` ``njit`` returns the plain functions, so the same kernel
runs as Python (slow, but ``pdb`` and ``print`` work) with the same results bit for bit.
That is why the core calls ``math.exp``/``math.log``/``math.sin`` and not their ``np.``
twins: compiled, both are the C library's; in Python, numpy's SIMD versions can differ
from it in the last bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numba import njit

OPTIONS: dict[str, Any] = {"cache": True, "_nrt": False, "error_model": "numpy"}


def kjit(fn: Callable[..., Any] | None = None, **kw: Any) -> Any:
    """``numba.njit`` with the core's options (``kw`` adds or overrides, e.g. ``inline``)."""
    opts = {**OPTIONS, **kw}
    if fn is None:
        return lambda f: njit(**opts)(f)
    return njit(**opts)(fn)
