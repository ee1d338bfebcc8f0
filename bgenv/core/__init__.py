"""The simulator core: pure, seeded, batched; no Gymnasium imports.

The dynamics are compiled with numba and cached on disk. Numba's cache only notices
changes to the file that holds a function, not to the modules it calls or the
constants it reads, so the cache is dropped here whenever any core source changes
(in ``__pycache__``, or in numba's layout under ``NUMBA_CACHE_DIR`` when that is set).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def _cache_dir(here: Path) -> Path:
    """Where numba caches this package's functions: ``__pycache__`` beside the sources,
    or, with ``NUMBA_CACHE_DIR`` set, the folder numba's user-provided locator uses
    (``<dir>/<parent name>_<sha1 of the source folder>``)."""
    user = os.environ.get("NUMBA_CACHE_DIR")
    if not user:
        return here / "__pycache__"
    sub = str(here)
    return Path(user) / f"{os.path.basename(sub)}_{hashlib.sha1(sub.encode()).hexdigest()}"


def _drop_stale_cache() -> None:
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for p in sorted(here.glob("*.py")):
        digest.update(p.name.encode())
        digest.update(p.read_bytes())
    cache = _cache_dir(here)
    stamp = cache / "bgenv_core_sources.sha256"
    try:
        if stamp.is_file() and stamp.read_text() == digest.hexdigest():
            return
        cache.mkdir(parents=True, exist_ok=True)
        for f in list(cache.glob("*.nbi")) + list(cache.glob("*.nbc")):
            f.unlink(missing_ok=True)
        stamp.write_text(digest.hexdigest())
    except OSError:  # read-only install: numba falls back to its own cache locator
        pass


_drop_stale_cache()
