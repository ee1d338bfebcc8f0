"""``bgenv sweep`` and ``bgenv train --seeds`` on Ray: a tiny sweep (one trial crashes on
purpose) and its resume, an interrupted sweep resumed, a three-seed group and its comparison,
on an embedded local Ray (one per test process, shared by its tests); and a sweep against a
separately started ``ray start --head``.

Each expensive run is one test function that checks it from every side: xdist's
``loadgroup`` does not group tests under pytest 9 here, and a fixture shared by tests on two
workers would run twice."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from agents.cli import main as cli
from agents.hyperparams import load_train_config
from agents.raycluster import parse_seeds
from agents.seed_group import iqm_ci
from agents.sweep import SweepError, load_sweep

ROOT = Path(__file__).resolve().parents[2]
# three trials of 2048 steps on one-day episodes; batch_size 1 makes PPO refuse to start
# (SB3 asserts batch_size > 1), so the trials that draw it crash
TINY = {
    "train_config": "configs/train/ppo.yaml",
    "scenario": "ios_commuter",
    "samples": 3,
    "total_timesteps": 2048,
    "eval_freq": 1024,
    "eval_episodes": 4,
    "n_envs": 2,
    "overrides": {"horizon_days": 1},
    "startup_trials": 3,
    "early_stopping": {"scheduler": "asha", "grace_period": 1024, "reduction_factor": 2},
    "hyperparams": {
        "learning_rate": {"loguniform": [1.0e-4, 1.0e-3]},
        "n_steps": {"choice": [64, 128]},
        "batch_size": {"choice": [64, 1]},
    },
}


def write_tiny(path: Path, **changes) -> Path:
    path.write_text(yaml.safe_dump({**TINY, **changes}))
    return path


def run_cli(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = cli(args)
    return rc, out.getvalue()


# ---------------------------------------------------------------------------
# without Ray
# ---------------------------------------------------------------------------
def test_seed_lists():
    assert parse_seeds("0-7") == list(range(8))
    assert parse_seeds("0,3,5") == [0, 3, 5]
    assert parse_seeds("0-2,9") == [0, 1, 2, 9]
    for bad in ("", "3-1", "1,1"):
        with pytest.raises(ValueError):
            parse_seeds(bad)


def test_iqm_and_its_bootstrap_interval():
    iqm, lo, hi = iqm_ci(np.array([0.0, 1.0, 2.0, 3.0]))
    assert iqm == pytest.approx(1.5)  # the mean of the middle two
    assert lo < iqm < hi and 0.0 <= lo and hi <= 3.0
    iqm, lo, hi = iqm_ci(np.array([0.0, 0.0, 0.0, 100.0]))
    assert iqm == pytest.approx(0.0)  # an outlier seed does not move the IQM
    assert iqm_ci(np.array([0.5]))[0] == pytest.approx(0.5)


def test_sweep_files_are_checked_before_ray_starts(tmp_path):
    spec = load_sweep(write_tiny(tmp_path / "ok.yaml"))
    assert spec["env_id"] == "bgenv/iOS-v1" and spec["algo"] == "ppo" and spec["eval_freq"] == 1024
    # a budget cut below the file's validation interval still validates ten times
    assert load_sweep(tmp_path / "ok.yaml", total_timesteps=1000)["eval_freq"] == 100
    assert load_sweep(tmp_path / "ok.yaml", samples=5)["samples"] == 5
    bad = {
        "typo.yaml": {"hyperparams": {"learnin_rate": {"uniform": [0.1, 0.2]}}},
        "dist.yaml": {"hyperparams": {"learning_rate": {"normal": [0.1, 0.2]}}},
        "range.yaml": {"hyperparams": {"learning_rate": {"loguniform": [0.0, 0.2]}}},
        "knob.yaml": {"env": {"no_such_knob": {"choice": [1]}}},
    }
    for name, changes in bad.items():
        with pytest.raises(SweepError):
            load_sweep(write_tiny(tmp_path / name, **changes))
    for shipped in sorted((ROOT / "configs" / "sweeps").glob("*.yaml")):
        s = load_sweep(shipped)
        assert s["samples"] >= 8 and s["hyperparams"], shipped


# ---------------------------------------------------------------------------
# on an embedded local Ray
# ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def local_ray():
    """One embedded local Ray (2 CPUs) per test process, stopped whatever the outcome."""
    import ray

    from agents.raycluster import init_ray

    info = init_ray(None, num_cpus=2, verbose=False)
    try:
        yield info
    finally:
        ray.shutdown()


def run_tiny_sweep(d: Path) -> dict:
    cfg = write_tiny(d / "tiny.yaml")
    t0 = time.perf_counter()
    rc, out = run_cli(["sweep", "--config", str(cfg), "--logdir", str(d / "out")])
    return {"rc": rc, "out": out, "dir": d / "out", "seconds": time.perf_counter() - t0}


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open() as f:
        return list(csv.DictReader(f))


def check_sweep_runs_trials_reports_a_crash_and_goes_on(tiny_sweep):
    assert tiny_sweep["rc"] == 0, tiny_sweep["out"]
    rows = rows_of(tiny_sweep["dir"] / "trials.csv")
    assert len(rows) == 3
    crashed = [r for r in rows if r["status"] == "ERROR"]
    trained = [r for r in rows if r["status"] in ("done", "stopped early")]
    assert crashed and trained, rows
    assert all(r["hp.batch_size"] == "1" and "batch_size" in r["error"] for r in crashed)
    assert all(r["hp.batch_size"] == "64" and float(r["steps"]) >= 1024 for r in trained)
    assert any(r["status"] == "done" and int(r["steps"]) == 2048 for r in trained)
    out = tiny_sweep["out"]
    assert "crashed trials:" in out and "CRASHED" in out
    # a live line per validation of a running trial, the results path, the TensorBoard command
    assert out.count("step     1,024/2,048  score") >= len(trained)
    assert f"results: {tiny_sweep['dir'].resolve()}" in out
    assert f"tensorboard --logdir {tiny_sweep['dir'].resolve() / 'trials'}" in out


def check_a_trial_is_an_ordinary_train_run(tiny_sweep):
    from tensorboard.backend.event_processing import event_file_loader

    done = [r for r in rows_of(tiny_sweep["dir"] / "trials.csv") if r["status"] == "done"]
    run = Path(done[0]["run_dir"])
    for name in ("model.zip", "vecnormalize.pkl", "best_model.zip", "run.yaml", "trial_config.yaml"):
        assert (run / name).is_file(), name
    meta = yaml.safe_load((run / "run.yaml").read_text())
    assert meta["timesteps_done"] == 2048 and meta["eval"]["seed"] == 50_000  # validation seeds, not test seeds
    assert meta["hyperparams"]["learning_rate"] == pytest.approx(float(done[0]["hp.learning_rate"]))
    assert meta["overrides"] == {"horizon_days": 1} and meta["n_envs"] == 2
    # the objective the sweep ranked is the run's own last validation score
    assert meta["final_eval"]["score_vs_guidelines"] == pytest.approx(float(done[0]["score_vs_guidelines"]))
    tags = set()
    for f in run.glob("events.out.tfevents.*"):
        for ev in event_file_loader.EventFileLoader(str(f)).Load():
            tags |= {v.tag for v in ev.summary.value}
    assert "_hparams_/session_start_info" in tags and "eval/score_vs_guidelines" in tags
    assert (run.parent / "reference" / "guidelines").is_dir()  # reference lines in the same view


def check_best_config_is_a_ready_train_config(tiny_sweep):
    rows = rows_of(tiny_sweep["dir"] / "trials.csv")
    done = [r for r in rows if r["status"] == "done"]
    best = max(done, key=lambda r: float(r["score_vs_guidelines"]))
    path = tiny_sweep["dir"] / "best_config.yaml"
    assert best["trial"] in path.read_text().splitlines()[0]
    cfg = load_train_config(path, "bgenv/iOS-v1")
    assert cfg.algo == "ppo" and cfg.n_envs == 2
    assert cfg.algo_kwargs["learning_rate"] == pytest.approx(float(best["hp.learning_rate"]))
    assert cfg.algo_kwargs["n_steps"] == int(best["hp.n_steps"])
    assert "--set horizon_days=1" in path.read_text()


def check_resume_of_a_finished_sweep_runs_nothing_again(tiny_sweep):
    before = rows_of(tiny_sweep["dir"] / "trials.csv")
    rc, out = run_cli(["sweep", "--resume", str(tiny_sweep["dir"])])
    assert rc == 0, out
    after = rows_of(tiny_sweep["dir"] / "trials.csv")
    assert [(r["trial"], r["status"], r["steps"]) for r in after] == [
        (r["trial"], r["status"], r["steps"]) for r in before
    ]
    rc, out = run_cli(
        ["sweep", "--config", str(tiny_sweep["dir"].parent / "tiny.yaml"), "--logdir", str(tiny_sweep["dir"])]
    )
    assert rc == 2  # a second sweep into the same directory is refused


def test_an_interrupted_sweep_resumes_from_the_checkpoints(local_ray, tmp_path):
    """Ctrl-C (SIGINT) to a sweep in its own process after its first validation, then
    ``--resume``: the interrupted trial carries on from its latest checkpoint."""
    cfg = write_tiny(
        tmp_path / "mid.yaml",
        samples=2,
        total_timesteps=4096,
        early_stopping={"scheduler": "none"},
        hyperparams={"learning_rate": {"loguniform": [1.0e-4, 1.0e-3]}},
    )
    out = tmp_path / "out"
    log = tmp_path / "first.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "agents.cli", "sweep", "--config", str(cfg), "--logdir", str(out), "--num-cpus", "1"]
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.time() + 240
        while time.time() < deadline and "step     1,024/4,096" not in log.read_text():
            assert proc.poll() is None, log.read_text()
            time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever of that sweep's own Ray is left
    first = {r["trial"]: r for r in rows_of(out / "trials.csv")}
    assert len(first) == 2 and any(r["status"] == "unfinished" for r in first.values()), first
    assert "--resume" in log.read_text()
    rc, text = run_cli(["sweep", "--resume", str(out)])
    assert rc == 0, text
    after = {r["trial"]: r for r in rows_of(out / "trials.csv")}
    assert set(after) == set(first) and all(r["status"] == "done" for r in after.values()), after
    resumed = [yaml.safe_load((Path(r["run_dir"]) / "run.yaml").read_text())["resumed_from"] for r in after.values()]
    assert any(p and p.endswith("_steps.zip") for p in resumed), resumed
    interrupted = [t for t, r in first.items() if r["status"] == "unfinished" and int(r["steps"]) > 0]
    for t in interrupted:  # the same learning rate as before the interruption
        assert after[t]["hp.learning_rate"] == first[t]["hp.learning_rate"]


def run_seed_group(d: Path) -> dict:
    args = ["train", "--config", "configs/train/ppo.yaml", "--scenario", "ios_commuter", "--total-timesteps", "2048"]
    args += ["--n-envs", "2", "--eval-episodes", "4", "--seeds", "0-2", "--logdir", str(d), "--set", "horizon_days=1"]
    t0 = time.perf_counter()
    rc, out = run_cli(args)
    return {"rc": rc, "out": out, "dir": d, "seconds": time.perf_counter() - t0}


def check_seeds_train_in_parallel_and_report_an_iqm(seed_group):
    assert seed_group["rc"] == 0, seed_group["out"]
    d = seed_group["dir"]
    for s in (0, 1, 2):
        meta = yaml.safe_load((d / f"ppo_{s}" / "run.yaml").read_text())
        assert meta["seed"] == s and meta["timesteps_done"] == 2048 and meta["train_seeds"] == [2 * s, 2 * s + 1]
    summary = json.loads((d / "summary.json").read_text())
    per_seed = [summary["per_seed"][str(s)] for s in (0, 1, 2)]
    assert summary["seeds"] == [0, 1, 2]
    assert summary["iqm"] == pytest.approx(iqm_ci(np.array(per_seed))[0])
    lo, hi = summary["ci95"]
    assert lo <= summary["iqm"] <= hi
    assert len(rows_of(d / "seeds.csv")) == 3
    out = seed_group["out"]
    assert "IQM of the final validation score_vs_guidelines over 3 seeds" in out and "wide" in out


def check_compare_takes_a_seed_group_as_one_entry(seed_group, tmp_path):
    rc, out = run_cli(
        [
            "compare",
            "--scenario",
            "ios_commuter",
            "--policies",
            f"guidelines,{seed_group['dir']}",
            "--episodes",
            "4",
            "--out",
            str(tmp_path),
            "--set",
            "horizon_days=1",
        ]
    )
    assert rc == 0, out
    assert "ppo_seeds (3 seeds)" in out and "IQM over seeds" in out
    assert "per seed: ppo_0/model" in out
    lines = (tmp_path / "compare.csv").read_text().splitlines()
    assert any(line.startswith("ios_commuter,ppo_seeds (3 seeds),score_vs_guidelines,") for line in lines)


def test_a_sweep_on_the_local_ray(local_ray, tmp_path):
    """One tiny sweep, checked from every side (one test: xdist would otherwise run the
    sweep once per worker)."""
    sweep = run_tiny_sweep(tmp_path)
    check_sweep_runs_trials_reports_a_crash_and_goes_on(sweep)
    check_a_trial_is_an_ordinary_train_run(sweep)
    check_best_config_is_a_ready_train_config(sweep)
    check_resume_of_a_finished_sweep_runs_nothing_again(sweep)


def test_a_seed_group_on_the_local_ray_and_in_compare(local_ray, tmp_path):
    group = run_seed_group(tmp_path / "ppo_seeds")
    check_seeds_train_in_parallel_and_report_an_iqm(group)
    check_compare_takes_a_seed_group_as_one_entry(group, tmp_path / "cmp")


# ---------------------------------------------------------------------------
# on a separately started cluster
# ---------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sweep_on_a_ray_start_head_cluster(tmp_path):
    """``ray start --head`` on 127.0.0.1 in its own process group (stopped by that group,
    whatever the outcome: ``ray stop`` would stop every Ray on the machine), then the same
    sweep command with ``--address 127.0.0.1:PORT``."""
    ray_bin = Path(sys.executable).with_name("ray")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_DISABLE_USAGE_STATS": "1"}
    temp = Path("/tmp") / f"ray_bgenv_head_{os.getpid()}"
    head = subprocess.Popen(
        [
            str(ray_bin),
            "start",
            "--head",
            "--block",
            "--port",
            str(port),
            "--num-cpus",
            "1",
            "--node-ip-address",
            "127.0.0.1",
            "--include-dashboard",
            "false",
            "--disable-usage-stats",
            "--temp-dir",
            str(temp),
        ],
        env=env,
        stdout=(tmp_path / "head.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        cfg = write_tiny(tmp_path / "tiny.yaml", samples=1, hyperparams={"n_steps": {"choice": [64]}})
        out_dir = tmp_path / "out"
        deadline = time.time() + 120
        res = None
        while time.time() < deadline:
            res = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "agents.cli",
                    "sweep",
                    "--config",
                    str(cfg),
                    "--logdir",
                    str(out_dir),
                    "--address",
                    f"127.0.0.1:{port}",
                ],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=300,
            )
            if "Failed to connect" not in res.stderr:
                break
            time.sleep(2)  # the head is still starting
        assert res is not None and res.returncode == 0, res.stdout + res.stderr
        assert "Ray cluster at 127.0.0.1" in res.stdout and "1 CPUs" in res.stdout
        rows = rows_of(out_dir / "trials.csv")
        assert [r["status"] for r in rows] == ["done"]
        assert (Path(rows[0]["run_dir"]) / "model.zip").is_file()
    finally:
        _stop_group(head)
        shutil.rmtree(temp, ignore_errors=True)


def _group_left(pgid: int) -> list[str]:
    """Live processes of a process group (zombies, already dead, are left out)."""
    out = subprocess.run(["ps", "-o", "pid=,stat=", "-g", str(pgid)], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.split() and not line.split()[1].startswith("Z")]


def _stop_group(proc: subprocess.Popen) -> None:
    """Stop ``proc``'s process group (the head and every Ray process it started): SIGTERM,
    up to 5 s to shut down, then SIGKILL; nothing of the group may be left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.time() + 5
    while time.time() < deadline and _group_left(proc.pid):
        time.sleep(0.5)
    if _group_left(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        time.sleep(1)
    proc.wait(timeout=10)
    assert not _group_left(proc.pid)
