"""bgenv: a reinforcement-learning environment of iOS and Android background scheduling.

Importing the package registers ``bgenv/iOS-v1`` and ``bgenv/Android-v1``.
"""

from bgenv.config import ConfigError, load_scenario
from bgenv.registration import register_envs

__version__ = "0.1.0"
__all__ = ["ConfigError", "__version__", "load_scenario", "register_envs"]

register_envs()
