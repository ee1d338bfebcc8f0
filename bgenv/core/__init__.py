"""The simulator core: pure, seeded, batched; no Gymnasium imports.

The dynamics are compiled with numba and cached on disk. Numba's cache only notices
changes to the file that holds a function, not to the modules it calls or the
constants it reads, so the cache is dropped here whenever any core source changes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def _drop_stale_cache() -> None:
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for p in sorted(here.glob("*.py")):
        digest.update(p.name.encode())
        digest.update(p.read_bytes())
    cache = here / "__pycache__"
    stamp = cache / "bgenv_core_sources.sha256"
    try:
        if stamp.is_file() and stamp.read_text() == digest.hexdigest():
            return
        cache.mkdir(exist_ok=True)
        for f in list(cache.glob("*.nbi")) + list(cache.glob("*.nbc")):
            f.unlink(missing_ok=True)
        stamp.write_text(digest.hexdigest())
    except OSError:  # read-only install: numba falls back to its own cache locator
        pass


_drop_stale_cache()
