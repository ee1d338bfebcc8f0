"""What the single and the batched env share: the platform check of a scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bgenv.config import Scenario, load_scenario
from bgenv.registration import DEFAULT_SCENARIO, ENV_ID_OF_PLATFORM


def load_platform_scenario(platform: str, scenario: str | Path | None, **overrides: Any) -> Scenario:
    """The scenario for an env of ``platform`` (its default when ``scenario`` is None),
    or a ValueError when the platform is unknown or the scenario is for the other one."""
    if platform not in DEFAULT_SCENARIO:
        raise ValueError(f"platform must be one of {sorted(DEFAULT_SCENARIO)}; got {platform!r}")
    spec = load_scenario(scenario or DEFAULT_SCENARIO[platform], **overrides)
    if spec.platform != platform:
        raise ValueError(
            f"scenario '{spec.name}' is for {spec.platform}; use the {ENV_ID_OF_PLATFORM[spec.platform]} environment"
        )
    return spec
