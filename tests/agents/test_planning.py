"""The planning reference policies (``agents.planning``): ``oracle`` rolls out exact copies
of the simulator, ``planner`` re-seeded ones; both by name wherever a policy is accepted."""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest
from helpers import ENV_IDS

from agents.cli import main
from agents.evaluate import evaluate, load_policy
from agents.planning import PlanningPolicy, make_planner
from agents.policies import make_policy
from bgenv.core import layout as L
from bgenv.rollout import rollout

SEED = 10_000
SCENARIO = {"ios": "ios_commuter", "android": "android_commuter"}


def test_oracle_with_the_guidelines_candidate_only_reproduces_guidelines(platform):
    env = gym.make(ENV_IDS[platform], horizon_days=2, record_events=False)
    g = rollout(env, make_policy("guidelines", env), SEED)
    o = rollout(env, make_planner("oracle:candidates=guidelines", env), SEED)
    assert o.total_reward == g.total_reward
    assert o.metrics == g.metrics


def test_oracle_beats_planner_beats_guidelines_on_short_episodes(platform):
    """Two 2-day episodes per policy on the batched env (the evaluation path): the
    oracle's margin over guidelines is clear (> 3 %; measured 5 % on Android, 10 % on iOS
    over these episodes), the planner not clearly above the oracle and not clearly below
    guidelines."""
    kw = dict(horizon_days=2)
    g = evaluate("guidelines", SCENARIO[platform], 2, SEED, **kw).values("episode_reward").sum()
    o = evaluate("oracle", SCENARIO[platform], 2, SEED, **kw).values("episode_reward").sum()
    p = evaluate("planner:samples=4", SCENARIO[platform], 2, SEED, **kw).values("episode_reward").sum()
    assert o > 1.03 * g, (o, p, g)
    assert o > 0.99 * p, (o, p, g)  # not strict: on these Android episodes the two tie (580.9 vs 581.0)
    assert p > 0.97 * g, (o, p, g)


@pytest.mark.parametrize("platform", ["ios", "android"])
def test_a_battery_price_makes_the_oracle_spend_less_battery(platform):
    """``battery_price`` prices battery in the plan only: the oracle then draws less
    battery (measured on these two 2-day episodes: iOS 0.0200 -> 0.0144, Android 0.0577
    -> 0.0471) and is still scored, and ahead of guidelines, on the unchanged reward
    (iOS 555 -> 530, Android 578 -> 570; guidelines 435 and 554)."""
    kw = dict(horizon_days=2)
    runs = {
        p: evaluate(p, SCENARIO[platform], 2, SEED, **kw) for p in ("guidelines", "oracle", "oracle:battery_price=20")
    }
    battery = {p: r.values("battery_cost").sum() for p, r in runs.items()}
    reward = {p: r.values("episode_reward").sum() for p, r in runs.items()}
    assert battery["oracle:battery_price=20"] < 0.85 * battery["oracle"], battery
    assert reward["guidelines"] < reward["oracle:battery_price=20"] <= reward["oracle"], reward


def test_planner_is_deterministic_given_the_seed_and_needs_bind():
    env = gym.make(ENV_IDS["ios"], horizon_days=1, record_events=False)
    runs = [rollout(env, load_policy("planner:samples=2", env, seed=s), SEED).total_reward for s in (1, 1, 2)]
    assert runs[0] == runs[1]
    pol = PlanningPolicy(make_policy("guidelines", env).ctx, exact=True)
    obs, _ = env.reset(seed=SEED)
    with pytest.raises(RuntimeError, match="bind"):
        pol.act(obs)


def test_planner_spec_knobs_are_parsed_and_checked():
    env = gym.make(ENV_IDS["android"], horizon_days=1)
    p = make_planner("planner:lookahead_h=3:samples=2:delays_s=0/900:chunks_units=10", env, seed=0)
    assert (p.lookahead_h, p.samples, p.name) == (
        3.0,
        2,
        "planner:lookahead_h=3:samples=2:delays_s=0/900:chunks_units=10",
    )
    assert p._delays == [0, 3] and p._chunks == [4]  # delay bins 0 s and 900 s, chunk bin of 10 units
    assert make_planner("oracle", env).samples == 1
    assert make_planner("oracle:battery_price=2.5", env).battery_price == 2.5
    with pytest.raises(ValueError, match="knobs"):
        make_planner("planner:depth=3", env)


def test_candidates_are_unmasked_and_start_with_the_base_action():
    env = gym.make(ENV_IDS["ios"], horizon_days=1)
    pol = make_planner("oracle", env)
    obs, _ = env.reset(seed=SEED)  # a background decision: the app may submit a request
    mask = env.unwrapped.action_masks()
    base = pol.base.act(obs, mask)
    c = pol._candidates(obs, mask, base)
    assert np.array_equal(c[0], base)
    assert len(np.unique(c, axis=0)) == len(c)
    starts = pol._starts
    for a in c:
        assert all(mask[starts[k] + a[k]] for k in range(4))
    requests = {int(a[0]) for a in c}
    assert 0 in requests and len(requests) >= 5  # no request, and several request types


def test_compare_cli_accepts_planner_and_oracle(tmp_path, capsys):
    rc = main(
        [
            "compare",
            "--policies",
            "guidelines,planner:samples=2:lookahead_h=3,oracle:lookahead_h=3",
            "--episodes",
            "2",
            "--set",
            "horizon_days=1",
            "--out",
            str(tmp_path),
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "planner:samples=2:lookahead_h=3" in out and "oracle:lookahead_h=3" in out
    assert (tmp_path / "compare.csv").is_file()


def _imminent_clocks(env) -> None:
    """Make every running random clock of the env's device fire within a second (the
    hazard the screen-on gap has consumed unchanged)."""
    sf = env.unwrapped.sim.sf[0]
    consumed = sf[L.S_HZ_GAP] - sf[L.S_HZ_REM + L.EV_SCREEN_ON]
    for k in range(L.NHZ):
        rate = sf[L.S_HZ_RATE + k]
        if rate > 0.0 and np.isfinite(sf[L.S_EV + k]):
            sf[L.S_HZ_REM + k] = 0.5 * rate
            sf[L.S_EV + k] = sf[L.S_T] + 0.5
    sf[L.S_HZ_GAP] = consumed + sf[L.S_HZ_REM + L.EV_SCREEN_ON]


def test_planner_does_not_know_when_the_random_clocks_fire():
    """By default the planner's futures re-draw the user's and the OS's random clocks
    (``clocks=redraw``): its choices do not change when the clocks already drawn in the
    state are made to fire at once. With ``clocks=keep`` they do."""
    env = gym.make(ENV_IDS["ios"], horizon_days=1, record_events=False)
    guide = make_policy("guidelines", env)
    obs, _ = env.reset(seed=SEED)
    same = {"planner:samples=2": 0, "planner:samples=2:clocks=keep": 0}
    decisions = 30
    for _ in range(decisions):  # background decisions and decisions in windows
        twin = copy.deepcopy(env)
        _imminent_clocks(twin)
        for spec in same:
            acts = []
            for e in (env, twin):
                pol = load_policy(spec, e, seed=3)
                pol.bind(e)
                acts.append(pol.act(obs, e.unwrapped.action_masks()).tolist())
            same[spec] += acts[0] == acts[1]
        obs, *_ = env.step(guide.act(obs, env.unwrapped.action_masks()))
    assert same["planner:samples=2"] == decisions
    assert same["planner:samples=2:clocks=keep"] < decisions
    with pytest.raises(ValueError, match="clocks"):
        make_planner("planner:clocks=forget", env)
