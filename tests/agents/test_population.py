"""Population evaluation on fleets: ``bgenv eval/compare --fleet``, ``fleet:<name>`` specs,
``bgenv train --fleet``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from agents.cli import main
from agents.evaluate import evaluate
from agents.policies import make_policy
from agents.population import GROUPS, FleetResults, compare_fleet, evaluate_fleet
from bgenv.fleet import Fleet
from bgenv.registration import ENV_ID_OF_PLATFORM
from bgenv.rollout import rollout

MIXED = """
name: tiny_mixed
cohorts:
  - {name: ios, weight: 1, scenario: ios_commuter, maker: apple, overrides: {horizon_days: 1}}
  - {name: stock, weight: 1, scenario: android_commuter, maker: stock, overrides: {horizon_days: 1}}
  - {name: oem_light, weight: 1, scenario: android_oem_commuter, maker: oem, overrides: {horizon_days: 1, user: light}}
"""
ANDROID = """
name: tiny_android
randomize: {battery.background_cpu_pct_per_h: [10.0, 20.0]}
cohorts:
  - {name: stock, weight: 3, scenario: android_commuter, overrides: {horizon_days: 1}}
  - {name: oem, weight: 1, scenario: android_oem_commuter, overrides: {horizon_days: 1}}
"""


@pytest.fixture(scope="module")
def fleets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("fleets")
    out = {}
    for name, text in (("mixed", MIXED), ("android", ANDROID)):
        (d / f"{name}.yaml").write_text(text)
        out[name] = d / f"{name}.yaml"
    return out


def test_mixed_fleet_runs_each_platforms_policy_as_on_its_own(fleets: dict[str, Path]) -> None:
    """On a fleet of both platforms, guidelines acts on each device as the platform's own
    guidelines on a single env of the device's drawn scenario (same metrics)."""
    fl = Fleet.load(fleets["mixed"])
    res = evaluate_fleet("guidelines", fl, 6, 10_000)
    assert isinstance(res, FleetResults) and res.seeds == list(range(10_000, 10_006))
    platforms = set()
    for k in (0, 1, 2, 3):
        d = fl.draw(10_000 + k)
        platforms.add(d.scenario.platform)
        assert res.metrics[k]["cohort"] == d.cohort
        env = gym.make(ENV_ID_OF_PLATFORM[d.scenario.platform], scenario=d.scenario)
        ep = rollout(env, make_policy("guidelines", env), 10_000 + k)
        assert ep.metrics["episode_reward"] == res.metrics[k]["episode_reward"]
        assert ep.metrics["completion_rate"] == res.metrics[k]["completion_rate"]
    assert platforms == {"ios", "android"}


def test_fleet_spec_in_evaluate_and_paired_differences(fleets: dict[str, Path]) -> None:
    spec = f"fleet:{fleets['android']}"
    res = evaluate("guidelines", spec, 8, 10_000)
    assert isinstance(res, FleetResults) and res.scenario == spec and res.fleet.name == "tiny_android"
    assert set(res.summary()) >= {"episode_reward", "battery_cost"} and "cohort" not in res.summary()
    cmp = compare_fleet(["guidelines", "random"], fleets["android"], 8, 10_000)
    mean, half = cmp.paired(cmp.results[0], "episode_reward")
    assert (mean, half) == (0.0, 0.0)
    d_mean, _ = cmp.paired(cmp.results[1], "episode_reward")
    assert d_mean == pytest.approx(np.mean(cmp.results[1].values("episode_reward") - res.values("episode_reward")))
    rows = res.breakdown("cohort")
    assert [g for g, _, _ in rows] == ["stock", "oem"] or [g for g, _, _ in rows] == ["stock"]
    assert sum(n for _, n, _ in rows) == 8


def test_what_does_not_run_on_fleets(fleets: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not run on fleets yet"):
        evaluate_fleet("planner", fleets["android"], 2, 10_000)
    fake = tmp_path / "model.zip"
    fake.write_bytes(b"")
    with pytest.raises(ValueError, match="a model trained on one platform runs on a fleet of that platform"):
        evaluate_fleet(str(fake), fleets["mixed"], 2, 10_000)


def test_cli_eval_and_compare_fleet(fleets: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert main(["eval", "--fleet", str(fleets["mixed"]), "--devices", "6", "--policy", "guidelines"]) == 0
    text = capsys.readouterr().out
    assert "6 devices (one week each) from seed 10000" in text
    for head in ("guidelines by cohort:", "guidelines by platform:", "guidelines by maker:"):
        assert head in text
    assert "time_to_success_h" in text
    assert main(["compare", "--fleet", str(fleets["mixed"]), "--devices", "6", "--policies", "guidelines,greedy", "--out", str(out)]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "paired difference in weekly reward against guidelines (same devices):" in text
    assert "greedy - guidelines" in text
    with (out / "fleet.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert {r["group_by"] for r in rows} == {"all", *GROUPS}
    assert {r["policy"] for r in rows} == {"guidelines", "greedy"}
    paired = [r for r in rows if r["metric"] == "episode_reward_vs_guidelines" and r["group_by"] == "platform"]
    assert {r["group"] for r in paired} == {"ios", "android"}
    assert (out / "fleet.png").stat().st_size > 10_000
    assert main(["eval", "--fleet", str(fleets["mixed"]), "--devices", "6", "--json", "--out", str(out)]) == 0
    doc = json.loads(capsys.readouterr().out)
    by_platform = doc["policies"]["guidelines"]["breakdown"]["platform"]
    assert sum(v["devices"] for v in by_platform.values()) == 6
    assert set(doc["policies"]["guidelines"]["metrics"]) >= {"episode_reward", "completion_rate"}


def test_train_on_a_fleet(fleets: dict[str, Path], tmp_path: Path) -> None:
    from agents.train import train

    res = train(
        "configs/train/ppo.yaml",
        scenario=f"fleet:{fleets['android']}",
        total_timesteps=256,
        n_envs=2,
        eval_episodes=2,
        logdir=tmp_path / "run",
        progress_bar=False,
        verbose=0,
    )
    assert (tmp_path / "run" / "model.zip").is_file()
    assert res is not None
    ev = evaluate(str(tmp_path / "run" / "model.zip"), f"fleet:{fleets['android']}", 2, 10_000)
    assert len(ev.metrics) == 2 and {m["cohort"] for m in ev.metrics} <= {0.0, 1.0}


def test_clashing_model_labels_get_longer() -> None:
    from agents.evaluate import EpisodeResults, disambiguate, policy_label

    specs = ["/x/a/ppo_0/model.zip", "/x/b/ppo_0/model.zip", "guidelines"]
    results = [EpisodeResults(policy_label(p), "s") for p in specs]
    assert [r.policy for r in results] == ["ppo_0/model", "ppo_0/model", "guidelines"]
    disambiguate(specs, results)
    assert [r.policy for r in results] == ["a/ppo_0/model", "b/ppo_0/model", "guidelines"]
