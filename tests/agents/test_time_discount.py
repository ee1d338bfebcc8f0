"""Discounting by simulated time: returns, advantages, the truncation bootstrap and the
reward normalisation against their closed forms on hand-built rollouts."""

from __future__ import annotations

import math
import pickle

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv

from agents.hyperparams import HyperparamError, load_train_config
from agents.time_discount import TimeA2C, TimeMaskablePPO, TimePPO, TimeVecNormalize, step_discounts

H = 1.0  # half-life, hours
REWARDS = [1.0, 0.0, 2.0, -1.0]  # one episode, truncated after its 4th step
DTS = [3600.0, 1800.0, 7200.0, 0.0]  # seconds: discounts 0.5, 2**-0.5, 0.25, 1


class Scripted(gym.Env):
    """Four steps with fixed rewards and durations, then truncation (a time limit)."""

    observation_space = gym.spaces.Box(-1.0, 10.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], np.float32), {"dt_s": 0.0}

    def step(self, action):
        r, dt = REWARDS[self.t], DTS[self.t]
        self.t += 1
        return np.array([float(self.t)], np.float32), r, False, self.t == len(REWARDS), {"dt_s": dt}


class Grab(BaseCallback):
    """Copies the rollout buffer at the end of the first rollout."""

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        if not hasattr(self, "data"):
            b = self.model.rollout_buffer
            self.data = {k: getattr(b, k).copy() for k in ("rewards", "values", "returns", "advantages", "discounts")}
            value = self.model.policy.predict_values  # before training changes the network
            self.v_last = value(self.model.policy.obs_to_tensor(self.model._last_obs)[0]).item()
            self.v_term = value(self.model.policy.obs_to_tensor(np.array([4.0], np.float32))[0]).item()


def test_step_discounts_halve_per_half_life():
    np.testing.assert_allclose(step_discounts([0, 3600, 1800, 7200], 1.0), [1, 0.5, 2**-0.5, 0.25], rtol=1e-6)
    np.testing.assert_allclose(step_discounts([6 * 3600.0], 6.0), [0.5], rtol=1e-6)
    with pytest.raises(ValueError, match="half_life_h"):
        step_discounts([1.0], 0.0)


@pytest.mark.parametrize("cls", [TimePPO, TimeA2C])
@pytest.mark.parametrize("lam", [1.0, 0.9])
def test_returns_and_advantages_match_the_closed_form(cls, lam):
    """Six steps across a truncated episode: the buffer's discounts, its rewards (with the
    bootstrap gamma_t * V(terminal obs) on the truncating step), returns and advantages equal
    sums written out by hand."""
    env = DummyVecEnv([Scripted])
    n = 6
    kw = {"n_steps": n, "gae_lambda": lam, "seed": 0}
    if cls is TimePPO:
        kw["batch_size"] = n
    model = cls("MlpPolicy", env, half_life_h=H, **kw)
    grab = Grab()
    model.learn(n, callback=grab)
    d = {k: v[:, 0].astype(np.float64) for k, v in grab.data.items()}
    g = np.array([0.5, 2**-0.5, 0.25, 1.0, 0.5, 2**-0.5])  # steps 4, 5 start the next episode
    np.testing.assert_allclose(d["discounts"], g, rtol=1e-6)

    # the bootstrap at truncation: reward of step 3 is r_3 + gamma_3 * V(obs [4]) (gamma_3 = 1)
    v_term = grab.v_term
    r = np.array(REWARDS + REWARDS[:2], dtype=np.float64)
    r[3] += 1.0 * v_term
    np.testing.assert_allclose(d["rewards"], r, rtol=1e-5, atol=1e-5)

    # closed form: delta_t with the next state's value (0 after the truncating step, which
    # ends the episode; the rollout's last step bootstraps on V(last obs)), and
    # A_t = sum_k (prod_{j<k} gamma_j * lambda) * delta_k within the episode
    v = d["values"]
    v_last = grab.v_last
    next_v = np.array([v[1], v[2], v[3], 0.0, v[5], v_last])
    delta = r + g * next_v - v
    episodes = [range(0, 4), range(4, 6)]
    adv = np.zeros(n)
    for ep in episodes:
        for t in ep:
            w = 1.0
            for k in range(t, ep.stop):
                adv[t] += w * delta[k]
                w *= g[k] * lam
    np.testing.assert_allclose(d["advantages"], adv, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(d["returns"], adv + v, rtol=1e-4, atol=1e-5)
    if lam == 1.0:  # Monte-Carlo: the discounted sum of rewards, with no value but the bootstraps
        mc0 = r[0] + 0.5 * r[1] + 0.5 * 2**-0.5 * r[2] + 0.5 * 2**-0.5 * 0.25 * r[3]
        assert d["returns"][0] == pytest.approx(mc0, rel=1e-4, abs=1e-5)
        assert d["returns"][4] == pytest.approx(r[4] + 0.5 * (r[5] + 2**-0.5 * v_last), rel=1e-4, abs=1e-5)


def test_maskable_ppo_discounts_by_time():
    pytest.importorskip("sb3_contrib")

    class Masked(Scripted):
        def action_masks(self):
            return np.array([True, True])

    model = TimeMaskablePPO("MlpPolicy", DummyVecEnv([Masked]), half_life_h=H, n_steps=6, batch_size=6, seed=0)
    grab = Grab()
    model.learn(6, callback=grab)
    np.testing.assert_allclose(grab.data["discounts"][:, 0], [0.5, 2**-0.5, 0.25, 1.0, 0.5, 2**-0.5], rtol=1e-6)


def test_reward_normalisation_uses_the_time_discounted_return():
    """G_t = gamma_t * G_{t-1} + r_t, reset at episode ends."""
    venv = TimeVecNormalize(DummyVecEnv([Scripted]), half_life_h=H, norm_obs=False)
    venv.reset()
    seen = []
    for _ in range(5):
        venv.step_async(np.array([0]))
        venv.step_wait()
        seen.append(float(venv.returns[0]))
    g0 = 1.0
    g1 = 2**-0.5 * g0 + 0.0
    g2 = 0.25 * g1 + 2.0
    # step 3 ends the episode (returns reset to 0 after the statistics are updated); step 4 starts anew
    assert seen[:3] == pytest.approx([g0, g1, g2], rel=1e-6)
    assert seen[3] == 0.0 and seen[4] == pytest.approx(1.0)
    expected = [g0, g1, g2, 1.0 * g2 - 1.0, 1.0]
    assert venv.ret_rms.count == pytest.approx(5 + 1e-4)
    assert venv.ret_rms.mean[()] == pytest.approx(np.mean(expected), rel=1e-3)
    copy = pickle.loads(pickle.dumps(venv))
    assert copy.half_life_h == H


def test_config_key_picks_the_time_discounted_classes(tmp_path):
    f = tmp_path / "ppo.yaml"
    f.write_text("bgenv/iOS-v1:\n  normalize: true\n  discount_half_life_h: 6\n  n_steps: 64\n")
    cfg = load_train_config(f, "bgenv/iOS-v1")
    assert cfg.half_life_h == 6.0 and cfg.algo_class() is TimePPO
    assert cfg.algo_kwargs["half_life_h"] == 6.0 and "gamma" not in cfg.normalize_kwargs
    assert cfg.hparams()["discount_half_life_h"] == 6.0
    f.write_text("bgenv/iOS-v1:\n  discount_half_life_h: 6\n  gamma: 0.99\n")
    with pytest.raises(HyperparamError, match="not both"):
        load_train_config(f, "bgenv/iOS-v1")
    f.write_text("bgenv/iOS-v1:\n  discount_half_life_h: -1\n")
    with pytest.raises(HyperparamError, match="hours > 0"):
        load_train_config(f, "bgenv/iOS-v1")
    f.write_text("algo: dqn\nbgenv/iOS-v1:\n  discount_half_life_h: 6\n")
    with pytest.raises(HyperparamError, match="discount by time"):
        load_train_config(f, "bgenv/iOS-v1")
    assert math.isfinite(cfg.half_life_h)


def test_a_time_discounted_maskable_model_is_evaluated_with_its_masks():
    """The held-out validation wraps the live model: TimeMaskablePPO must get the masks as
    MaskablePPO does (it once fell back to unmasked predictions, 611 instead of ~900 a week)."""
    from agents.evaluate import ModelPolicy
    from bgenv.envs.sb3 import make_sb3_vec_env

    venv = make_sb3_vec_env("bgenv/iOS-v1", 2, seed=0, horizon_days=1)
    model = TimeMaskablePPO("MlpPolicy", venv, half_life_h=H, n_steps=16, batch_size=16, seed=0)
    assert ModelPolicy(model, venv.action_space.nvec).masked
    assert not ModelPolicy(TimePPO("MlpPolicy", venv, half_life_h=H, n_steps=16), venv.action_space.nvec).masked
