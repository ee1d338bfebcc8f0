"""Gymnasium adapters over the simulator core."""

from bgenv.envs.single import BackgroundSchedulingEnv

__all__ = ["BackgroundSchedulingEnv"]
