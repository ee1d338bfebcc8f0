"""``bgenv train``, ``eval``, ``compare`` and resume on a few thousand steps, each
algorithm on the batched env, rl_zoo3 on the registered ids, and a learning test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from agents.cli import main as cli
from agents.evaluate import EVAL_SEED_MIN, ModelPolicy, evaluate
from agents.train import train

# the iOS profile's request options without the background transfers (v0's table)
NO_TRANSFERS = {
    "profile": {
        "request_options": [
            {"type": "refresh"},
            {"type": "processing"},
            {"type": "processing", "requires_network": True},
            {"type": "processing", "requires_power": True},
            {"type": "processing", "requires_network": True, "requires_power": True},
            {"type": "push"},
        ]
    }
}

SMALL = {"horizon_days": 1}


def scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    ea = EventAccumulator(str(run_dir))
    ea.Reload()
    return {t: [(e.step, e.value) for e in ea.Scalars(t)] for t in ea.Tags()["scalars"]}


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory) -> Path:
    """A 4096-step PPO run on ios_commuter (one-day episodes), through the CLI."""
    run = tmp_path_factory.mktemp("runs") / "ios_commuter" / "ppo_0"
    rc = cli(
        [
            "train",
            "--config",
            "configs/train/ppo.yaml",
            "--scenario",
            "ios_commuter",
            "--total-timesteps",
            "4096",
            "--seed",
            "0",
            "--logdir",
            str(run),
            "--eval-episodes",
            "8",
            "--no-progress",
            "--set",
            "horizon_days=1",
        ]
    )
    assert rc == 0
    return run


def test_train_writes_model_statistics_checkpoints_and_run_record(ppo_run):
    for name in ("model.zip", "vecnormalize.pkl", "best_model.zip", "best_model_vecnormalize.pkl", "run.yaml"):
        assert (ppo_run / name).is_file(), name
    ckpts = sorted((ppo_run / "checkpoints").glob("model_*_steps.zip"))
    assert len(ckpts) >= 5
    assert all(
        (ppo_run / "checkpoints" / c.name.replace("model_", "model_vecnormalize_").replace(".zip", ".pkl")).is_file()
        for c in ckpts
    )
    import yaml

    run = yaml.safe_load((ppo_run / "run.yaml").read_text())
    assert run["algo"] == "ppo" and run["env_id"] == "bgenv/iOS-v1" and run["scenario"] == "ios_commuter"
    assert run["train_seeds"] == list(range(8)) and run["timesteps_done"] == 4096
    assert run["overrides"] == SMALL
    assert run["final_eval"]["episode_reward"] is not None


def test_train_logs_every_metric_for_training_and_held_out_episodes(ppo_run):
    tags = scalars(ppo_run)
    from bgenv.core.sim import Simulator  # noqa: F401  (metrics keys come from the simulator)

    for metric in ("completion_rate", "battery_cost", "freshness_at_open", "episode_reward", "expirations", "kills"):
        assert f"episode/{metric}" in tags, metric
        assert f"eval/{metric}" in tags, metric
    assert "eval/score_vs_guidelines" in tags
    assert "rollout/ep_rew_mean" in tags and "train/value_loss" in tags
    steps = [s for s, _ in tags["eval/episode_reward"]]
    assert steps == sorted(steps) and steps[-1] == 4096 and len(steps) >= 10
    assert all(0.0 <= v <= 1.0 for _, v in tags["episode/completion_rate"])


def test_reference_lines_sit_on_the_same_charts(ppo_run):
    ref_root = ppo_run.parent / "reference"
    assert sorted(p.name for p in ref_root.iterdir()) == sorted(
        ["random", "fixed-interval", "charging-only", "greedy", "guidelines"]
    )
    g = scalars(ref_root / "guidelines")
    r = scalars(ref_root / "random")
    assert [s for s, _ in g["eval/episode_reward"]] == [0, 4096]
    assert g["eval/score_vs_guidelines"][0][1] == pytest.approx(1.0)
    assert r["eval/score_vs_guidelines"][0][1] == pytest.approx(0.0)
    summary = json.loads((ref_root / "guidelines" / "summary.json").read_text())
    assert summary["metrics"]["episode_reward"]["mean"] == pytest.approx(g["eval/episode_reward"][0][1], rel=1e-6)
    assert min(summary["seeds"]) >= EVAL_SEED_MIN


def test_hyperparameters_are_logged(ppo_run):
    from tensorboard.backend.event_processing import event_file_loader

    found = False
    for f in ppo_run.glob("events.out.tfevents.*"):
        for ev in event_file_loader.EventFileLoader(str(f)).Load():
            for v in ev.summary.value:
                if v.tag == "_hparams_/session_start_info":
                    found = True
    assert found


def test_a_rerun_refuses_to_overwrite_a_finished_run(ppo_run, capsys):
    rc = cli(
        ["train", "--scenario", "ios_commuter", "--total-timesteps", "512", "--logdir", str(ppo_run), "--no-progress"]
    )
    assert rc == 2
    assert "--resume" in capsys.readouterr().err


def test_resume_continues_the_step_count_and_the_curves(ppo_run, tmp_path):
    import shutil

    run = tmp_path / "ios_commuter" / "ppo_0"
    shutil.copytree(ppo_run, run)
    res = train("configs/train/ppo.yaml", resume=run, total_timesteps=6144, eval_episodes=4, progress_bar=False)
    assert res.run_dir == run and res.timesteps == 6144
    steps = [s for s, _ in scalars(run)["eval/episode_reward"]]
    assert max(steps) == 6144 and 4096 in steps
    import yaml

    meta = yaml.safe_load((run / "run.yaml").read_text())
    assert meta["resumed_from"].endswith("model.zip") and meta["overrides"] == SMALL


def test_eval_json_and_compare_with_a_trained_model(ppo_run, tmp_path, capsys):
    model = str(ppo_run / "model.zip")
    assert (
        cli(
            [
                "eval",
                "--policy",
                model,
                "--scenario",
                "ios_commuter",
                "--episodes",
                "4",
                "--json",
                "--set",
                "horizon_days=1",
            ]
        )
        == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["episodes"] == 4 and doc["seed"] == EVAL_SEED_MIN
    assert 0.0 <= doc["metrics"]["completion_rate"]["mean"] <= 1.0
    assert doc["score_vs_guidelines"]["mean"] is not None
    out = tmp_path / "cmp"
    policies = f"random,fixed-interval,charging-only,greedy,guidelines,{model}"
    assert (
        cli(
            [
                "compare",
                "--scenario",
                "ios_commuter",
                "--policies",
                policies,
                "--episodes",
                "4",
                "--out",
                str(out),
                "--set",
                "horizon_days=1",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    for name in (
        "random",
        "fixed-interval",
        "charging-only",
        "greedy",
        "guidelines",
        "ppo_0/model",
        "score_vs_guidelines",
    ):
        assert name in text
    png = (out / "compare.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    lines = (out / "compare.csv").read_text().splitlines()
    assert lines[0] == "scenario,policy,metric,mean,ci95,episodes,first_seed"
    assert any(line.startswith("ios_commuter,ppo_0/model,completion_rate,") for line in lines)


def test_eval_refuses_training_seeds(capsys):
    assert cli(["eval", "--policy", "guidelines", "--episodes", "2", "--seed", "5"]) == 2
    assert "training seeds" in capsys.readouterr().err


def test_training_is_reproducible_for_a_seed(tmp_path):
    def params(d: Path) -> np.ndarray:
        res = train(
            "configs/train/ppo.yaml",
            "ios_commuter",
            total_timesteps=1024,
            seed=3,
            logdir=d,
            eval_episodes=2,
            progress_bar=False,
            verbose=0,
            n_envs=4,
            **SMALL,
        )
        pol = ModelPolicy.load(res.model_path, nvec=[7, 9, 9, 5])
        return np.concatenate([p.detach().numpy().ravel() for p in pol.model.policy.parameters()])

    a, b = params(tmp_path / "a"), params(tmp_path / "b")
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "config, scenario",
    [("maskable_ppo", "android_commuter"), ("a2c", "android_commuter"), ("dqn", "ios_commuter")],
)
def test_every_algorithm_trains_and_evaluates(config, scenario, tmp_path):
    res = train(
        f"configs/train/{config}.yaml",
        scenario,
        total_timesteps=2048,
        logdir=tmp_path / config,
        eval_episodes=2,
        progress_bar=False,
        verbose=0,
        n_envs=4,
        **SMALL,
    )
    assert res.timesteps >= 2048
    out = evaluate(str(res.model_path), scenario, episodes=2, seed=EVAL_SEED_MIN, **SMALL)
    assert len(out.metrics) == 2 and np.isfinite(out.values("episode_reward")).all()


def test_rl_zoo3_trains_ppo_on_the_registered_id(tmp_path):
    """The zoo reads configs/train/ppo.yaml once the bgenv-only key is taken out (it would
    pass discount_half_life_h to PPO); the zoo discounts per step."""
    pytest.importorskip("rl_zoo3")
    zoo_config = tmp_path / "ppo_zoo.yaml"
    lines = Path("configs/train/ppo.yaml").read_text().splitlines()
    zoo_config.write_text("\n".join(x for x in lines if "discount_half_life_h:" not in x) + "\n")
    cmd = [
        sys.executable,
        "-m",
        "rl_zoo3.train",
        "--algo",
        "ppo",
        "--env",
        "bgenv/iOS-v1",
        "--gym-packages",
        "bgenv",
        "-conf",
        str(zoo_config),
        "-n",
        "1024",
        "--log-folder",
        str(tmp_path),
        "--seed",
        "1",
        "--env-kwargs",
        "horizon_days:1",
        "-params",
        "n_envs:2",
        "n_steps:256",
        "--eval-freq",
        "-1",
        "--vec-env",
        "dummy",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONHASHSEED": "0"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert list(tmp_path.glob("ppo/bgenv-iOS-v1_*/bgenv-iOS-v1.zip")), out.stdout[-2000:]


def test_ppo_learns_to_beat_random_within_a_minute(tmp_path):
    """iOS commuter: random keeps asking for windows it cannot use and gets killed and
    refused; PPO learns within ~20k steps to request refresh/processing windows and work
    in them. Same held-out seeds for both. The profile's background-transfer options are
    left out (``NO_TRANSFERS``): with them random earns ~380 by luck, handing uploads to
    the system a third of the time, and 20k-80k steps of PPO did not clearly pass it
    (373 ± 61 vs 382 ± 68 at 20k, 384 ± 60 vs 376 ± 53 at 80k)."""
    res = train(
        "configs/train/ppo.yaml",
        "ios_commuter",
        total_timesteps=20_480,
        seed=0,
        logdir=tmp_path / "learn",
        eval_episodes=4,
        eval_freq=10**9,
        progress_bar=False,
        verbose=0,
        **NO_TRANSFERS,
    )
    episodes = 16
    learned = evaluate(str(res.model_path), "ios_commuter", episodes=episodes, seed=EVAL_SEED_MIN, **NO_TRANSFERS)
    rand = evaluate("random", "ios_commuter", episodes=episodes, seed=EVAL_SEED_MIN, **NO_TRANSFERS)
    m_l, h_l = learned.summary()["episode_reward"]
    m_r, h_r = rand.summary()["episode_reward"]
    assert m_l - h_l > m_r + h_r, (m_l, h_l, m_r, h_r)
    assert m_l > m_r + 100.0


def test_stochastic_evaluation_of_a_model_is_seeded(ppo_run):
    model = str(ppo_run / "model.zip")
    a = evaluate(model, "ios_commuter", episodes=3, seed=EVAL_SEED_MIN, deterministic=False, **SMALL)
    b = evaluate(model, "ios_commuter", episodes=3, seed=EVAL_SEED_MIN, deterministic=False, **SMALL)
    assert [m["episode_reward"] for m in a.metrics] == [m["episode_reward"] for m in b.metrics]
