"""Run full episodes of a policy and summarise their metrics."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np

import bgenv
from agents.policies import Policy, make_policy
from bgenv.registration import ENV_IDS

PLATFORM_ID = {v: k for k, v in ENV_IDS.items()}


def env_id_for(scenario: str) -> str:
    """The env id whose platform matches the scenario."""
    return PLATFORM_ID[bgenv.load_scenario(scenario).platform]


@dataclass
class EpisodeResults:
    policy: str
    scenario: str
    metrics: list[dict[str, float]] = field(default_factory=list)

    def summary(self) -> dict[str, tuple[float, float]]:
        """Mean and 95 % confidence half-width (t-free normal approximation) per metric."""
        out: dict[str, tuple[float, float]] = {}
        for k in self.metrics[0]:
            x = np.array([m[k] for m in self.metrics], dtype=float)
            x = x[~np.isnan(x)]
            if len(x) == 0:
                out[k] = (math.nan, math.nan)
                continue
            half = 1.96 * x.std(ddof=1) / math.sqrt(len(x)) if len(x) > 1 else math.nan
            out[k] = (float(x.mean()), float(half))
        return out


def run_episodes(policy_name: str, scenario: str, episodes: int, seed: int, **overrides) -> EpisodeResults:
    """``episodes`` full episodes with seeds ``seed, seed+1, ...``."""
    env = gym.make(env_id_for(scenario), scenario=scenario, record_events=False, **overrides)
    policy: Policy = make_policy(policy_name, env, seed=seed)
    res = EpisodeResults(policy_name, scenario)
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        done = False
        while not done:
            a = policy.act(obs, env.unwrapped.action_masks())
            obs, _, term, trunc, info = env.step(a)
            done = term or trunc
        res.metrics.append(info["metrics"])
    env.close()
    return res
