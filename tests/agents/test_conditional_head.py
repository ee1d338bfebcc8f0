"""The conditional action head (agents.distributions): a part counts only where it has an
effect (the delay with a request, the work kind with a chunk). Hand-built logits and masks
against values computed by hand and against brute-force enumeration of the joint
distribution over distinct actions."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from sb3_contrib import MaskablePPO
from stable_baselines3 import PPO

from agents.distributions import (
    ConditionalMaskableMlpPolicy,
    ConditionalMaskableMultiCategoricalDistribution,
    ConditionalMlpPolicy,
    ConditionalMultiCategoricalDistribution,
    FusedMaskableMlpPolicy,
    FusedMlpPolicy,
    FusedMultiCategoricalDistribution,
    action_head_of,
)
from agents.hyperparams import HyperparamError, load_train_config

IOS, ANDROID = [10, 9, 9, 5], [13, 9, 9, 5]
TOL = {"atol": 1e-5, "rtol": 1e-5}


def _logits_from_probs(*parts: list[float]) -> th.Tensor:
    """One row of flat logits whose parts have these probabilities."""
    return th.log(th.tensor([p for part in parts for p in part], dtype=th.float64)).unsqueeze(0)


def _uniform(n: int) -> list[float]:
    return [1.0 / n] * n


def test_the_example_of_the_brief_no_request_is_the_mode():
    """P(no request) = 0.4, P(refresh) = 0.6, delay uniform over 9 bins: the independent
    mode says refresh (0.6 > 0.4), but refresh with any one delay has 0.6 / 9 = 0.067, so
    the most likely distinct action is no request. Chunk 0 (stop) 0.3 against chunk 1 0.7
    with kinds 0.5 / 0.5 (0.35 > 0.3): chunk 1, kind 0 (the first of the tie)."""
    dims = [2, 9, 2, 2]
    x = _logits_from_probs([0.4, 0.6], _uniform(9), [0.3, 0.7], [0.5, 0.5])
    cond = ConditionalMultiCategoricalDistribution(dims, gates=((0, 1), (2, 3))).proba_distribution(x)
    fused = FusedMultiCategoricalDistribution(dims).proba_distribution(x)
    assert fused.mode().tolist() == [[1, 0, 1, 0]]
    assert cond.mode().tolist() == [[0, 0, 1, 0]]
    # log_prob: a no-request action has no delay term, whatever its delay says
    a = th.tensor([[0, 5, 1, 1], [0, 0, 1, 1], [1, 5, 0, 1], [1, 5, 1, 1]])
    expect = [
        math.log(0.4) + math.log(0.7) + math.log(0.5),
        math.log(0.4) + math.log(0.7) + math.log(0.5),
        math.log(0.6) + math.log(1 / 9) + math.log(0.3),
        math.log(0.6) + math.log(1 / 9) + math.log(0.7) + math.log(0.5),
    ]
    cond4 = ConditionalMultiCategoricalDistribution(dims).proba_distribution(x.repeat(4, 1))
    th.testing.assert_close(cond4.log_prob(a), th.tensor(expect, dtype=th.float64), **TOL)
    # entropy: H(req) + P(req != 0) H(delay) + H(chunk) + P(chunk != 0) H(kind)
    h = lambda ps: -sum(p * math.log(p) for p in ps)  # noqa: E731
    expect_h = h([0.4, 0.6]) + 0.6 * math.log(9) + h([0.3, 0.7]) + 0.7 * math.log(2)
    assert float(cond.entropy()) == pytest.approx(expect_h, abs=1e-9)
    assert float(cond.entropy()) == pytest.approx(3.0874, abs=1e-4)  # 0.6730 + 1.3183 + 0.6109 + 0.4852 (by hand)


def test_mode_picks_a_request_when_one_delay_dominates():
    """P(refresh) 0.6 with the delay's best bin at 0.9: 0.54 > 0.4, so refresh at that bin."""
    dims = [2, 3, 2, 2]
    x = _logits_from_probs([0.4, 0.6], [0.05, 0.9, 0.05], [0.9, 0.1], [0.2, 0.8])
    d = ConditionalMultiCategoricalDistribution(dims).proba_distribution(x)
    assert d.mode().tolist() == [[1, 1, 0, 0]]  # chunk 0 (0.9 > 0.1 * 0.8): kind written as 0


def test_mode_breaks_an_exact_tie_towards_no_request():
    """Equal logits and a one-choice gated part: P(0) = P(1) * 1 exactly; the gate's 0 wins."""
    d = ConditionalMultiCategoricalDistribution([2, 1, 3, 1]).proba_distribution(th.zeros(1, 7))
    assert d.mode().tolist() == [[0, 0, 0, 0]]
    # without the tie the other side wins
    d = ConditionalMultiCategoricalDistribution([2, 1, 3, 1]).proba_distribution(
        th.tensor([[0.0, 1e-3, 0, 0, 0, 2e-3, 0]])
    )
    assert d.mode().tolist() == [[1, 0, 2, 0]]


def _brute_force(dims, lp_rows, masks=None):
    """Joint probability of every distinct action of one row (gates (0,1), (2,3))."""
    out: dict[tuple[int, ...], float] = {}
    for a in itertools.product(*[range(n) for n in dims]):
        a = list(a)
        if a[0] == 0:
            a[1] = 0
        if a[2] == 0:
            a[3] = 0
        key = tuple(a)
        if key in out:
            continue
        lp = lp_rows[0][a[0]] + lp_rows[2][a[2]]
        lp += lp_rows[1][a[1]] if a[0] else 0.0
        lp += lp_rows[3][a[3]] if a[2] else 0.0
        out[key] = math.exp(lp)
    return out


@pytest.mark.parametrize("dims", [IOS, ANDROID, [3, 4, 3, 2]])
@pytest.mark.parametrize("masked", [False, True])
def test_entropy_mode_log_prob_against_enumeration(dims, masked):
    g = th.Generator().manual_seed(sum(dims) + masked)
    batch = 6
    x = (th.randn(batch, sum(dims), generator=g, dtype=th.float64) * 2.0).requires_grad_(True)
    rng = np.random.default_rng(1)
    masks = None
    if masked:
        parts = []
        for n in dims:
            m = rng.random((batch, n)) < 0.6
            m[:, 0] = True  # bgenv: "none", bin 0, "stop" and "auto" are always allowed
            parts.append(m)
        masks = th.as_tensor(np.concatenate(parts, axis=1))
        d = ConditionalMaskableMultiCategoricalDistribution(dims).proba_distribution(x)
        d.apply_masking(masks)
    else:
        d = ConditionalMultiCategoricalDistribution(dims).proba_distribution(x)
    off = np.concatenate([[0], np.cumsum(dims)])
    ent, mode = d.entropy().detach(), d.mode()
    for b in range(batch):
        lp_rows = []
        for j in range(len(dims)):
            z = x[b, off[j] : off[j + 1]].detach().clone()
            if masks is not None:
                z[~masks[b, off[j] : off[j + 1]]] = -math.inf
            lp_rows.append(th.log_softmax(z, 0).tolist())
        joint = _brute_force(dims, lp_rows)
        assert sum(joint.values()) == pytest.approx(1.0, abs=1e-9)
        h = -sum(p * math.log(p) for p in joint.values() if p > 0.0)
        assert float(ent[b]) == pytest.approx(h, abs=1e-6)
        best = max(joint.values())
        assert joint[tuple(mode[b].tolist())] == pytest.approx(best, rel=1e-9)
        for a, p in list(joint.items())[:: max(1, len(joint) // 25)]:
            if p > 0.0:
                lp = d.log_prob(th.tensor([a]).repeat(batch, 1))[b]
                assert float(lp.detach()) == pytest.approx(math.log(p), abs=1e-6)
    # gradients of both quantities are finite
    actions = d.sample()
    (d.log_prob(actions).sum() + d.entropy().sum()).backward()
    assert x.grad is not None and th.isfinite(x.grad).all()


def test_samples_are_canonical_and_follow_the_joint_distribution():
    dims = [2, 3, 2, 2]
    x = _logits_from_probs([0.4, 0.6], [0.2, 0.3, 0.5], [0.3, 0.7], [0.5, 0.5]).float().repeat(40_000, 1)
    th.manual_seed(0)
    a = ConditionalMultiCategoricalDistribution(dims).proba_distribution(x).sample()
    assert (a[a[:, 0] == 0, 1] == 0).all(), "a no-request action carries delay 0"
    assert (a[a[:, 2] == 0, 3] == 0).all(), "a chunk-0 action carries kind 0 (valid everywhere)"
    freq = {k: float(((a[:, 0] == 1) & (a[:, 1] == k)).float().mean()) for k in range(3)}
    for k, p in zip(range(3), [0.2, 0.3, 0.5]):
        assert freq[k] == pytest.approx(0.6 * p, abs=0.01)
    assert float((a[:, 0] == 0).float().mean()) == pytest.approx(0.4, abs=0.01)
    assert float(((a[:, 2] == 1) & (a[:, 3] == 1)).float().mean()) == pytest.approx(0.35, abs=0.01)


def test_masked_sampling_never_draws_a_masked_choice():
    dims = IOS
    x = th.zeros(2000, sum(dims))
    masks = th.ones(2000, sum(dims), dtype=th.bool)
    masks[:, 1:5] = False  # requests 1-4 masked
    masks[:, sum(dims[:3]) + 1 :] = False  # kinds 1-4 masked (outside a window)
    masks[:, sum(dims[:2]) + 1 : sum(dims[:3])] = False  # chunks 1-8 masked
    d = ConditionalMaskableMultiCategoricalDistribution(dims).proba_distribution(x)
    d.apply_masking(masks)
    a = d.sample()
    assert not ((a[:, 0] >= 1) & (a[:, 0] <= 4)).any()
    assert (a[:, 2] == 0).all() and (a[:, 3] == 0).all()
    # uniform over the 6 allowed requests: H = log 6 + 5/6 log 9 (chunk and kind fixed)
    assert float(d.entropy()[0]) == pytest.approx(math.log(6) + 5 / 6 * math.log(9), abs=1e-5)
    assert d.mode()[0].tolist() == [0, 0, 0, 0]


def test_gates_are_validated():
    with pytest.raises(ValueError, match="gates"):
        ConditionalMultiCategoricalDistribution([2, 2, 2, 2], gates=((0, 1), (1, 2)))
    with pytest.raises(ValueError, match="gates"):
        ConditionalMultiCategoricalDistribution([2, 2], gates=((0, 3),))


def _lr(_: float) -> float:
    return 3e-4


def test_policies_swap_the_head_on_four_part_spaces_and_share_state_dicts():
    obs = spaces.Box(-1.0, 1.0, (6,), np.float32)
    md = spaces.MultiDiscrete(IOS)
    cond = ConditionalMlpPolicy(obs, md, _lr)
    fused = FusedMlpPolicy(obs, md, _lr)
    assert action_head_of(cond) == "conditional" and action_head_of(fused) == "independent"
    assert action_head_of(ConditionalMlpPolicy(obs, spaces.MultiDiscrete([3, 3]), _lr)) == "independent"
    assert isinstance(
        ConditionalMaskableMlpPolicy(obs, md, _lr).action_dist, ConditionalMaskableMultiCategoricalDistribution
    )
    fused.load_state_dict(cond.state_dict())  # same parameters: only the meaning changes


SMALL_PPO = {"n_steps": 128, "batch_size": 128, "n_epochs": 2, "policy_kwargs": {"net_arch": [32, 32]}}


def _env(n: int = 4):
    from bgenv.envs.sb3 import make_sb3_vec_env

    return make_sb3_vec_env("bgenv/iOS-v1", n, seed=0, horizon_days=1)


def test_ppo_and_maskable_ppo_train_save_and_reload_the_conditional_head(tmp_path):
    env = _env()
    model = PPO(ConditionalMlpPolicy, env, seed=0, device="cpu", **SMALL_PPO).learn(512)
    obs = env.reset()
    before, _ = model.predict(obs, deterministic=True)
    model.save(tmp_path / "ppo.zip")
    loaded = PPO.load(tmp_path / "ppo.zip", device="cpu")
    assert type(loaded.policy) is ConditionalMlpPolicy
    assert np.array_equal(before, loaded.predict(obs, deterministic=True)[0])
    mppo = MaskablePPO(ConditionalMaskableMlpPolicy, env, seed=0, device="cpu", **SMALL_PPO).learn(512)
    masks = np.stack(env.env_method("action_masks"))
    sampled, _ = mppo.predict(obs, deterministic=False, action_masks=masks)
    offsets = np.concatenate([[0], np.cumsum(IOS)[:-1]])
    assert masks[np.arange(len(obs))[:, None], offsets + sampled].all()
    env.close()


def test_train_configs_choose_the_head(tmp_path):
    md = spaces.MultiDiscrete(IOS)
    picks = {
        name: load_train_config(f"configs/train/{name}.yaml", "bgenv/iOS-v1").policy_for(md)
        for name in ("ppo", "a2c", "maskable_ppo")
    }
    # conditional by default for MaskablePPO only (docs/training.md: measured at least as well there)
    assert picks == {"ppo": FusedMlpPolicy, "a2c": FusedMlpPolicy, "maskable_ppo": ConditionalMaskableMlpPolicy}
    p = tmp_path / "ppo.yaml"
    p.write_text("bgenv/iOS-v1:\n  action_head: conditional\n")
    assert load_train_config(p, "bgenv/iOS-v1").policy_for(md) is ConditionalMlpPolicy
    p = tmp_path / "maskable_ppo.yaml"
    p.write_text("bgenv/iOS-v1:\n  action_head: independent\n  n_steps: 64\n")
    cfg = load_train_config(p, "bgenv/iOS-v1")
    assert cfg.policy_for(md) is FusedMaskableMlpPolicy and cfg.hparams()["action_head"] == "independent"
    p.write_text("bgenv/iOS-v1:\n  action_head: joint\n")
    with pytest.raises(HyperparamError, match="action_head"):
        load_train_config(p, "bgenv/iOS-v1")
    p.write_text("bgenv/iOS-v1:\n  fused_head: false\n")
    assert load_train_config(p, "bgenv/iOS-v1").policy_for(md) == "MlpPolicy"


def test_bgenv_train_records_the_action_head(tmp_path):
    import yaml

    from agents.train import train

    kw = dict(total_timesteps=256, n_envs=2, eval_episodes=1, eval_freq=10**9, progress_bar=False, verbose=0)
    for head, cls in (("conditional", "ConditionalMlpPolicy"), ("independent", "FusedMlpPolicy")):
        res = train(
            "configs/train/ppo.yaml", "ios_commuter", logdir=tmp_path / head, action_head=head, **kw, horizon_days=1
        )
        run = yaml.safe_load((res.run_dir / "run.yaml").read_text())
        assert run["action_head"] == head and run["fused_head"] is True
        assert run["policy"].endswith(cls)
