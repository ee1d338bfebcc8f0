"""MkDocs hooks (``mkdocs.yml``: ``hooks``): the site's pages that mirror the code must match it.

Each check logs a warning, so ``mkdocs build --strict`` (``make docs``, ``tests/test_docs.py``)
fails while a page is stale:

* ``docs/reference.md`` is what ``python -m bgenv.docs`` writes now;
* ``docs/changelog.md`` holds each env's ``Version History`` as its docstring gives it;
* the reward weights table of ``docs/concepts.md`` has ``configs/defaults.yaml``'s values;
* the home page (``docs/index.md``) has the README's Quick start, Example and Results, links
  pointing into the site instead of ``docs/``.

The fidelity and calibration tables (``docs/fidelity.md``, ``docs/calibration.md``) need
simulations to regenerate; ``tests/fidelity/test_fidelity.py`` and
``tests/fidelity/test_calibration.py`` check that they are current.
"""

from __future__ import annotations

import inspect
import logging
import re
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger("mkdocs.hooks.bgenv")
ROOT = Path(__file__).resolve().parent


def version_history(cls: type) -> str:
    """The ``## Version History`` section of a class docstring, as markdown (````x```` -> ```x```)."""
    doc = inspect.getdoc(cls) or ""
    if "## Version History" not in doc:
        return ""
    return doc.split("## Version History", 1)[1].strip().replace("``", "`")


def reward_table(page: str) -> dict[str, float]:
    """``weight -> default`` from the rows ``| `name` | value | ... |`` of a page's reward table."""
    section = page.split("## The reward and why each weight", 1)[1].split("\n## ", 1)[0]
    return {m[1]: float(m[2]) for m in re.finditer(r"^\| `(\w+)` \| ([-0-9.e]+) \|", section, flags=re.M)}


def readme_sections(
    readme: str, titles: tuple[str, ...] = ("Quick start", "Example", "Results", "A real phone's weeks")
) -> dict[str, str]:
    """The README's sections by title, with links into ``docs/`` made relative to the site."""
    parts = {p.split("\n", 1)[0]: "## " + p for p in readme.split("\n## ")[1:]}
    return {t: parts[t].rstrip("\n").replace("](docs/", "](") for t in titles}


def stale_pages(docs: Path) -> list[str]:
    """What is out of date on the site's pages that mirror the code, one line per problem."""
    from bgenv.docs import render
    from bgenv.envs.cross_single import CrossPlatformEnv
    from bgenv.envs.single import BackgroundSchedulingEnv

    problems = []
    if (docs / "reference.md").read_text(encoding="utf-8") != render():
        problems.append("docs/reference.md is stale: run `python -m bgenv.docs`")
    changelog = (docs / "changelog.md").read_text(encoding="utf-8")
    for cls in (BackgroundSchedulingEnv, CrossPlatformEnv):
        history = version_history(cls)
        if not history or history not in changelog:
            problems.append(f"docs/changelog.md lacks {cls.__name__}'s Version History as its docstring gives it")
    defaults = yaml.safe_load((ROOT / "configs" / "defaults.yaml").read_text(encoding="utf-8"))["reward"]
    shown = reward_table((docs / "concepts.md").read_text(encoding="utf-8"))
    if shown != {k: float(v) for k, v in defaults.items()}:
        problems.append(f"docs/concepts.md's reward weights {shown} differ from configs/defaults.yaml's {defaults}")
    home = (docs / "index.md").read_text(encoding="utf-8")
    for title, text in readme_sections((ROOT / "README.md").read_text(encoding="utf-8")).items():
        if text not in home:
            problems.append(f"docs/index.md lacks the README's section '{title}' as the README has it")
    return problems


def on_pre_build(config: Any, **kwargs: Any) -> None:
    for problem in stale_pages(Path(config["docs_dir"])):
        log.warning(problem)
