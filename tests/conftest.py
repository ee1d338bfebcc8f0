"""pytest configuration for the bgenv suite.

The numba kernel compiles on first use (~30 s per process, then cached on disk), so
the suite keeps the number of processes small (``pytest -n 2``) and most tests run
short horizons (one to three simulated days).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `import helpers` in every import mode

# No example database: the suite must not write outside tests/ and stays reproducible
# from the seeds hypothesis prints on failure.
settings.register_profile("bgenv", database=None, deadline=None, print_blob=True)
settings.load_profile("bgenv")


@pytest.fixture(params=["ios", "android"])
def platform(request) -> str:
    return request.param
