"""The fused MultiDiscrete action head (agents.distributions) against SB3's and sb3-contrib's
stock distributions: same log-probabilities, entropies, modes and gradients, samples from the
same distribution, and models that train, save and load."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.distributions import MaskableMultiCategoricalDistribution
from stable_baselines3 import A2C, PPO
from stable_baselines3.common.distributions import MultiCategoricalDistribution, kl_divergence
from stable_baselines3.common.policies import ActorCriticPolicy

from agents.distributions import (
    MASKED_LOGIT,
    FusedMaskableMlpPolicy,
    FusedMaskableMultiCategoricalDistribution,
    FusedMlpPolicy,
    FusedMultiCategoricalDistribution,
    is_fused,
)
from agents.hyperparams import HyperparamError, load_train_config

IOS, ANDROID = [10, 9, 9, 5], [13, 9, 9, 5]
DIMS = [IOS, ANDROID, [3, 3], [1, 4, 2]]  # bgenv's spaces, equal sizes (no padding), a one-choice part
TOL = {"atol": 1e-5, "rtol": 1e-5}


def random_case(dims: list[int], batch: int, seed: int, scale: float = 2.0) -> tuple[th.Tensor, th.Tensor]:
    g = th.Generator().manual_seed(seed)
    logits = th.randn(batch, sum(dims), generator=g) * scale
    actions = th.stack([th.randint(0, n, (batch,), generator=g) for n in dims], dim=1)
    return logits, actions


def random_masks(dims: list[int], batch: int, seed: int, all_masked_part: bool = False) -> th.Tensor:
    """[batch, sum(dims)] bool masks with at least one allowed choice per part (unless
    ``all_masked_part``: then row 0 has every choice of part 0 masked out)."""
    rng = np.random.default_rng(seed)
    parts = []
    for n in dims:
        m = rng.random((batch, n)) < 0.5
        m[np.arange(batch), rng.integers(0, n, batch)] = True
        parts.append(m)
    masks = np.concatenate(parts, axis=1)
    if all_masked_part:
        masks[0, : dims[0]] = False
    return th.as_tensor(masks)


def allowed_actions(dims: list[int], masks: th.Tensor, seed: int) -> th.Tensor:
    """A uniformly drawn allowed choice of every part of every row."""
    rng = np.random.default_rng(seed)
    out, off = [], 0
    for n in dims:
        m = masks[:, off : off + n].numpy()
        # a part with nothing allowed gets choice 0
        out.append([int(rng.choice(np.flatnonzero(r))) if r.any() else 0 for r in m])
        off += n
    return th.as_tensor(np.array(out).T)


def outputs(dist, logits: th.Tensor, actions: th.Tensor, masks: th.Tensor | None = None, mask: bool = False):
    """(log_prob, entropy, mode, d(log_prob.sum + entropy.sum)/d logits) of a distribution."""
    x = logits.clone().requires_grad_(True)
    d = dist.proba_distribution(x)
    if mask:
        d.apply_masking(masks)
    lp, ent = d.log_prob(actions), d.entropy()
    (lp.sum() + ent.sum()).backward()
    return lp.detach(), ent.detach(), d.mode(), x.grad


# ---------------------------------------------------------------------------
# equality with the stock distributions
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("dims", DIMS, ids=str)
def test_log_prob_entropy_mode_and_gradients_equal_sb3(dims):
    logits, actions = random_case(dims, 256, seed=1)
    stock = outputs(MultiCategoricalDistribution(dims), logits, actions)
    fused = outputs(FusedMultiCategoricalDistribution(dims), logits, actions)
    for a, b in zip(stock[:2], fused[:2]):
        th.testing.assert_close(b, a, **TOL)
    assert th.equal(fused[2], stock[2])
    th.testing.assert_close(fused[3], stock[3], **TOL)
    # float actions, as SB3's rollout buffer stores them
    d = FusedMultiCategoricalDistribution(dims).proba_distribution(logits)
    th.testing.assert_close(d.log_prob(actions.float()), stock[0], **TOL)


@pytest.mark.parametrize("dims", DIMS, ids=str)
@pytest.mark.parametrize("masked", ["none", "masks", "all_masked_part"])
def test_maskable_equals_sb3_contrib_with_and_without_masks(dims, masked):
    logits, actions = random_case(dims, 256, seed=2)
    masks = None
    if masked != "none":
        masks = random_masks(dims, 256, seed=3, all_masked_part=masked == "all_masked_part")
        actions = allowed_actions(dims, masks, seed=4)
    stock = outputs(MaskableMultiCategoricalDistribution(dims), logits, actions, masks, mask=masked != "none")
    fused = outputs(FusedMaskableMultiCategoricalDistribution(dims), logits, actions, masks, mask=masked != "none")
    for a, b in zip(stock[:2], fused[:2]):
        th.testing.assert_close(b, a, **TOL)
    assert th.equal(fused[2], stock[2])
    th.testing.assert_close(fused[3], stock[3], **TOL)


def test_masks_in_any_form_and_removing_them():
    dims = IOS
    logits, actions = random_case(dims, 64, seed=5)
    masks = random_masks(dims, 64, seed=6)
    stock = MaskableMultiCategoricalDistribution(dims).proba_distribution(logits)
    stock.apply_masking(masks.numpy())
    fused = FusedMaskableMultiCategoricalDistribution(dims).proba_distribution(logits)
    for form in (masks.numpy(), masks.float(), masks.numpy().astype(np.float32).ravel()):
        fused.apply_masking(form)
        th.testing.assert_close(fused.entropy(), stock.entropy(), **TOL)
    # a masked-out choice gets sb3-contrib's huge negative logit, not -inf
    off = masks[:, : dims[0]].float().argmin(dim=1)
    rows = th.nonzero(~masks[th.arange(64), off]).ravel()
    a = actions.clone()
    a[:, 0] = off
    th.testing.assert_close(fused.log_prob(a)[rows], stock.log_prob(a)[rows], rtol=1e-6, atol=1.0)
    assert (fused.log_prob(a)[rows] < MASKED_LOGIT / 2).all()
    # masks=None restores the unmasked distribution; a new proba_distribution drops masks
    fused.apply_masking(None)
    th.testing.assert_close(
        fused.entropy(), FusedMultiCategoricalDistribution(dims).proba_distribution(logits).entropy()
    )
    fused.apply_masking(masks)
    fused.proba_distribution(logits)
    th.testing.assert_close(
        fused.entropy(), FusedMultiCategoricalDistribution(dims).proba_distribution(logits).entropy()
    )


def test_per_part_views_for_code_that_inspects_them():
    logits, _ = random_case(ANDROID, 16, seed=7)
    fused = FusedMultiCategoricalDistribution(ANDROID).proba_distribution(logits)
    stock = MultiCategoricalDistribution(ANDROID).proba_distribution(logits)
    for f, s in zip(fused.distribution, stock.distribution):
        th.testing.assert_close(f.probs, s.probs)
    other = FusedMultiCategoricalDistribution(ANDROID).proba_distribution(logits + 0.1 * th.randn_like(logits))
    assert (kl_divergence(fused, other) >= 0).all()
    masks = random_masks(ANDROID, 16, seed=8)
    m = FusedMaskableMultiCategoricalDistribution(ANDROID).proba_distribution(logits)
    m.apply_masking(masks)
    s = MaskableMultiCategoricalDistribution(ANDROID).proba_distribution(logits)
    s.apply_masking(masks)
    for f, t in zip(m.distributions, s.distributions):
        th.testing.assert_close(f.probs, t.probs)


# ---------------------------------------------------------------------------
# sampling
# ---------------------------------------------------------------------------
def _max_sigma_deviation(samples: th.Tensor, probs: list[th.Tensor]) -> float:
    """Largest |frequency - p| over parts and choices, in binomial standard errors."""
    n = samples.shape[0]
    worst = 0.0
    for j, p in enumerate(probs):
        freq = th.bincount(samples[:, j], minlength=len(p)).double() / n
        se = th.sqrt(p.double() * (1 - p.double()) / n).clamp(min=1e-12)
        worst = max(worst, float(((freq - p.double()).abs() / se).max()))
    return worst


@pytest.mark.parametrize("dims", [IOS, ANDROID], ids=str)
def test_sample_frequencies_follow_the_softmax(dims):
    th.manual_seed(0)
    row, _ = random_case(dims, 1, seed=9, scale=1.5)
    n = 40_000
    d = FusedMultiCategoricalDistribution(dims).proba_distribution(row.expand(n, -1))
    samples = d.sample()
    probs = [th.softmax(x, dim=-1) for x in th.split(row[0], dims)]
    # 40k draws, ~35 cells: a correct sampler stays within 4.5 standard errors everywhere
    assert _max_sigma_deviation(samples, probs) < 4.5


def test_masked_sample_frequencies_follow_the_renormalised_softmax():
    th.manual_seed(1)
    dims = ANDROID
    row, _ = random_case(dims, 1, seed=10)
    mask = random_masks(dims, 1, seed=11)
    n = 40_000
    d = FusedMaskableMultiCategoricalDistribution(dims).proba_distribution(row.expand(n, -1))
    d.apply_masking(mask.expand(n, -1))
    samples = d.sample()
    probs = [
        th.softmax(x.masked_fill(~m, -th.inf), dim=-1) for x, m in zip(th.split(row[0], dims), th.split(mask[0], dims))
    ]
    assert _max_sigma_deviation(samples, probs) < 4.5
    assert all(bool(m[samples[:, j]].all()) for j, m in enumerate(th.split(mask[0], dims)))


def test_samples_stay_within_nvec_and_masks_even_for_extreme_logits():
    th.manual_seed(2)
    dims = ANDROID
    logits, _ = random_case(dims, 4096, seed=12, scale=60.0)  # probabilities down to e^-300
    nvec = th.tensor(dims)
    for _ in range(10):
        s = FusedMultiCategoricalDistribution(dims).proba_distribution(logits).sample()
        assert ((s >= 0) & (s < nvec)).all()
    # one allowed choice per part, and it has the lowest logit: it must still be drawn
    masks = th.zeros(4096, sum(dims), dtype=th.bool)
    off = 0
    for n in dims:
        part = logits[:, off : off + n]
        masks[th.arange(4096), off + part.argmin(dim=1)] = True
        off += n
    d = FusedMaskableMultiCategoricalDistribution(dims).proba_distribution(logits)
    d.apply_masking(masks)
    expected = d.mode()
    for _ in range(10):
        assert th.equal(d.sample(), expected)


# ---------------------------------------------------------------------------
# policies
# ---------------------------------------------------------------------------
def _lr(_: float) -> float:
    return 3e-4


def test_policies_swap_the_head_only_on_multidiscrete_and_share_state_dicts():
    obs = spaces.Box(-1.0, 1.0, (6,), np.float32)
    md = spaces.MultiDiscrete(IOS)
    fused = FusedMlpPolicy(obs, md, _lr)
    stock = ActorCriticPolicy(obs, md, _lr)
    assert is_fused(fused) and not is_fused(stock)
    assert isinstance(FusedMaskableMlpPolicy(obs, md, _lr).action_dist, FusedMaskableMultiCategoricalDistribution)
    assert not is_fused(FusedMlpPolicy(obs, spaces.Discrete(5), _lr))
    assert not is_fused(FusedMaskableMlpPolicy(obs, spaces.Discrete(5), _lr))
    stock.load_state_dict(fused.state_dict())
    x = th.rand(32, 6) * 2 - 1
    actions = th.stack([th.randint(0, n, (32,)) for n in IOS], dim=1)
    with th.no_grad():
        for a, b in zip(fused.evaluate_actions(x, actions), stock.evaluate_actions(x, actions)):
            th.testing.assert_close(a, b, **TOL)
        assert th.equal(fused._predict(x, deterministic=True), stock._predict(x, deterministic=True))


SMALL_PPO = {"n_steps": 128, "batch_size": 128, "n_epochs": 2, "policy_kwargs": {"net_arch": [32, 32]}}


def _env(n: int = 4):
    from bgenv.envs.sb3 import make_sb3_vec_env

    return make_sb3_vec_env("bgenv/iOS-v1", n, seed=0, horizon_days=1)


def test_ppo_learns_saves_and_reloads_with_the_fused_head(tmp_path):
    env = _env()
    model = PPO(FusedMlpPolicy, env, seed=0, device="cpu", **SMALL_PPO).learn(512)
    assert model.num_timesteps >= 512 and is_fused(model.policy)
    obs = env.reset()
    before, _ = model.predict(obs, deterministic=True)
    model.save(tmp_path / "ppo.zip")
    loaded = PPO.load(tmp_path / "ppo.zip", device="cpu")
    assert type(loaded.policy) is FusedMlpPolicy
    after, _ = loaded.predict(obs, deterministic=True)
    assert np.array_equal(before, after)
    assert (after < np.array(IOS)).all() and (after >= 0).all()
    env.close()


def test_maskable_ppo_learns_saves_and_reloads_with_masks(tmp_path):
    env = _env()
    model = MaskablePPO(FusedMaskableMlpPolicy, env, seed=0, device="cpu", **SMALL_PPO).learn(512)
    assert is_fused(model.policy)
    obs = env.reset()
    masks = np.stack(env.env_method("action_masks"))
    before, _ = model.predict(obs, deterministic=True, action_masks=masks)
    model.save(tmp_path / "mppo.zip")
    loaded = MaskablePPO.load(tmp_path / "mppo.zip", device="cpu")
    assert type(loaded.policy) is FusedMaskableMlpPolicy
    after, _ = loaded.predict(obs, deterministic=True, action_masks=masks)
    assert np.array_equal(before, after)
    sampled, _ = loaded.predict(obs, deterministic=False, action_masks=masks)
    offsets = np.concatenate([[0], np.cumsum(IOS)[:-1]])
    assert masks[np.arange(len(obs))[:, None], offsets + sampled].all()
    env.close()


# ---------------------------------------------------------------------------
# bgenv train's choice of policy
# ---------------------------------------------------------------------------
def test_train_configs_pick_the_fused_head_unless_told_not_to(tmp_path):
    md = spaces.MultiDiscrete(IOS)
    picks = {  # independent parts (MaskablePPO's conditional default: test_conditional_head.py)
        name: replace(
            load_train_config(f"configs/train/{name}.yaml", "bgenv/iOS-v1"), action_head="independent"
        ).policy_for(md)
        for name in ("ppo", "a2c", "maskable_ppo")
    }
    assert picks == {"ppo": FusedMlpPolicy, "a2c": FusedMlpPolicy, "maskable_ppo": FusedMaskableMlpPolicy}
    dqn = load_train_config("configs/train/dqn.yaml", "bgenv/iOS-v1")
    assert dqn.policy_for(spaces.Discrete(2835)) == "MlpPolicy"
    assert load_train_config("configs/train/ppo.yaml", "bgenv/iOS-v1").policy_for(spaces.Discrete(3)) == "MlpPolicy"
    p = tmp_path / "ppo.yaml"
    p.write_text("bgenv/iOS-v1:\n  fused_head: false\n  n_steps: 64\n")
    cfg = load_train_config(p, "bgenv/iOS-v1")
    assert cfg.policy_for(md) == "MlpPolicy" and cfg.hparams()["fused_head"] is False
    p.write_text("bgenv/iOS-v1:\n  fused_head: maybe\n")
    with pytest.raises(HyperparamError, match="fused_head"):
        load_train_config(p, "bgenv/iOS-v1")
    # the fused policies also work with A2C
    assert is_fused(A2C(FusedMlpPolicy, _env(2), device="cpu", n_steps=4).policy)


def test_bgenv_train_records_the_head_and_can_opt_out(tmp_path):
    import yaml

    from agents.train import train

    kw = dict(total_timesteps=256, n_envs=2, eval_episodes=1, eval_freq=10**9, progress_bar=False, verbose=0)
    for fused in (True, False):
        res = train(
            "configs/train/ppo.yaml",
            "ios_commuter",
            logdir=tmp_path / str(fused),
            fused_head=fused,
            action_head="independent",
            **kw,
            horizon_days=1,
        )
        run = yaml.safe_load((res.run_dir / "run.yaml").read_text())
        assert run["fused_head"] is fused and run["overrides"] == {"horizon_days": 1}
        assert run["policy"].endswith("FusedMlpPolicy" if fused else "ActorCriticPolicy")
