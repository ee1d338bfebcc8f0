"""Ray for ``bgenv sweep`` and ``bgenv train --seeds``: an embedded local Ray by default,
an existing cluster with ``--address``.

* Without an address: a Ray started inside the command, on 127.0.0.1, sized to this
  machine's cores (``os.cpu_count()``), without dashboard or usage statistics, with its
  session files under ``/tmp/ray`` (Ray's default; ``RAY_TMPDIR`` moves them). It stops when
  the command ends. Trials that do not fit on the free cores wait in Tune's queue.
* ``--address auto`` (the cluster this machine belongs to, after ``ray start``) or
  ``HOST:PORT`` (the head's GCS address printed by ``ray start --head``): the same trials
  run on the cluster's nodes, each of which must have bgenv installed with the ``sweep``
  extra (``pip install 'bgenv[sweep]'``) under the same Python.

Threads: each trial declares ``cpus_per_trial`` CPUs and runs torch and numba on that many
threads (:func:`limit_threads`), and the job's workers start with ``OMP_NUM_THREADS`` /
``MKL_NUM_THREADS`` of 1, so parallel trials do not oversubscribe the cores.
"""

from __future__ import annotations

import os
from typing import Any

# thread limits of every worker process of the job (native libraries read them at start)
WORKER_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "RAY_DISABLE_USAGE_STATS": "1",
}


def init_ray(address: str | None = None, num_cpus: int | None = None, verbose: bool = True) -> dict[str, Any]:
    """Start the embedded local Ray (``address`` None) or connect to a cluster
    (``"auto"`` or ``"HOST:PORT"``); reuse a Ray this process already started.

    Returns ``{"address": ..., "cpus": ..., "local": bool}`` of the Ray in use.
    """
    os.environ.setdefault("RAY_DISABLE_USAGE_STATS", "1")
    if address:
        _token_auth_for(address)  # before Ray reads its configuration
    import ray

    if not ray.is_initialized():
        runtime_env = {"env_vars": dict(WORKER_ENV)}
        if address:
            ray.init(address=address, runtime_env=runtime_env, log_to_driver=False, logging_level="WARNING")
        else:
            ray.init(
                num_cpus=int(num_cpus or os.cpu_count() or 1),
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                runtime_env=runtime_env,
                log_to_driver=False,
                logging_level="WARNING",
            )
    ctx = ray.get_runtime_context()
    cpus = int(ray.cluster_resources().get("CPU", 0))
    info = {"address": ctx.gcs_address, "cpus": cpus, "local": not address, "nodes": len(ray.nodes())}
    if verbose:
        where = "embedded local Ray" if not address else f"Ray cluster at {address}"
        print(f"{where}: {info['nodes']} node(s), {cpus} CPUs (GCS {info['address']})")
    return info


def _token_auth_for(address: str) -> None:
    """Send Ray's authentication token to a cluster given by address. Ray (2.5x) starts
    clusters with token authentication and sends the token (``RAY_AUTH_TOKEN`` or
    ``~/.ray/auth_token``) on its own only for ``address="auto"``; for ``HOST:PORT`` it needs
    ``RAY_AUTH_MODE=token``. A ``RAY_AUTH_MODE`` already set is left as it is."""
    if "RAY_AUTH_MODE" in os.environ:
        return
    token_file = os.path.join(os.path.expanduser("~"), ".ray", "auth_token")
    if os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH") or os.path.isfile(token_file):
        os.environ["RAY_AUTH_MODE"] = "token"
        import sys

        if "ray" in sys.modules:  # Ray read its configuration at import: make it read it again
            try:
                from ray._raylet import Config

                Config.initialize("")
            except Exception:  # pragma: no cover - a Ray without this internal API
                pass


def limit_threads(cpus: int) -> None:
    """Run torch and numba on ``cpus`` threads in this (trial) process."""
    import numba
    import torch

    n = max(1, int(cpus))
    torch.set_num_threads(n)
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))


def parse_seeds(spec: str) -> list[int]:
    """``"0-7"`` -> 0..7, ``"0,3,5"`` -> [0, 3, 5], ``"0-2,9"`` -> [0, 1, 2, 9]."""
    out: list[int] = []
    for part in str(spec).split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            a, b = part.split("-", 1)
            lo, hi = int(a), int(b)
            if hi < lo:
                raise ValueError(f"--seeds: empty range {part!r}")
            out.extend(range(lo, hi + 1))
        else:
            out.append(int(part))
    if not out or len(set(out)) != len(out):
        raise ValueError(f"--seeds: expected distinct seeds like 0-7 or 0,3,5; got {spec!r}")
    return out
