"""The documentation site (``mkdocs.yml``, ``docs/``) and the README.

* The site builds with ``mkdocs build --strict`` in a child process that cannot open a
  network connection: a broken link or anchor, a page missing from the navigation, a
  docstring mkdocstrings cannot read, or a stale page that mirrors the code
  (``mkdocs_hooks.py``: the reference tables, the changelog's version histories, the reward
  weights) fails it.
* Every command of ``docs/getting-started.md`` runs, extracted from the page's code blocks:
  ``bgenv ...`` commands and the Python example as written, ``make demo`` as the command its
  Makefile recipe runs with the small budgets of ``SMALL`` added, ``make test`` as a dry run
  (running it here would run this suite inside itself); the ``pip install`` lines name
  extras that ``pyproject.toml`` defines.
* The README stays short and links to every page of the site, and its links resolve.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GETTING_STARTED = DOCS / "getting-started.md"

# The page's commands with smaller budgets (the options are the ones `bgenv demo --help`
# lists, as the page says): one PPO update after a short warm start, 2 test weeks per policy.
SMALL = {
    "demo": ["--total-timesteps", "512", "--init-steps", "256", "--episodes", "2", "--no-progress"],
}

NO_NETWORK = """
import socket, sys

def refuse(*args, **kwargs):
    raise OSError("network access is disabled while the site builds")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from mkdocs.__main__ import cli

sys.argv = ["mkdocs", "build", "--strict", "--site-dir", sys.argv[1]]
cli()
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["NO_MKDOCS_2_WARNING"] = "1"
    env.setdefault("NUMBA_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def code_blocks(text: str, lang: str) -> list[str]:
    """The contents of the page's fenced code blocks in ``lang``."""
    return re.findall(rf"^```{lang}\n(.*?)^```", text, flags=re.M | re.S)


def shell_commands(block: str) -> list[list[str]]:
    """A bash block's commands (continuation lines joined, comments dropped), split as a shell would."""
    joined = re.sub(r"\\\n\s*", " ", block)
    return [cmd for line in joined.splitlines() if (cmd := shlex.split(line, comments=True))]


def page_commands() -> list[list[str]]:
    return [
        cmd
        for block in code_blocks(GETTING_STARTED.read_text(encoding="utf-8"), "bash")
        for cmd in shell_commands(block)
    ]


def _ids(cmds: list[list[str]]) -> list[str]:
    return [" ".join(c)[:60] for c in cmds]


def _workdir(tmp_path: Path) -> Path:
    """A working directory that looks like the clone to the commands (configs, examples) but
    keeps what they write (runs/, out/, timeline.png) out of it."""
    for name in ("configs", "examples"):
        (tmp_path / name).symlink_to(ROOT / name)
    return tmp_path


def _run(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    res = subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"{args}\nstdout:\n{res.stdout[-3000:]}\nstderr:\n{res.stderr[-3000:]}"
    return res


def _make_recipe(target: str) -> list[str]:
    """The commands ``make <target>`` would run (``make -n``), without running them."""
    # under `make test` the suite runs inside make: without MAKEFLAGS/MAKELEVEL this make is
    # not a sub-make (no "Entering directory" lines, no flags of the outer one)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    res = subprocess.run(
        ["make", "-n", "--no-print-directory", target], cwd=ROOT, capture_output=True, text=True, timeout=60, env=env
    )
    assert res.returncode == 0, res.stderr
    return res.stdout.splitlines()


# ---------------------------------------------------------------------------
# The site
# ---------------------------------------------------------------------------
def test_the_site_builds_strict_without_network(tmp_path: Path) -> None:
    site = tmp_path / "site"
    res = subprocess.run(
        [sys.executable, "-c", NO_NETWORK, str(site)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr[-4000:]
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]
    for page in _nav_pages(nav):
        built = site / ("index.html" if page == "index.md" else page.removesuffix(".md") + "/index.html")
        if page.endswith("README.md"):
            built = site / Path(page).parent / "index.html"
        assert built.is_file(), page
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("bgenv.envs.single.BackgroundSchedulingEnv", "bgenv.fleet.Fleet", "bgenv.core.sim.Simulator"):
        assert f'id="{name}"' in api, name  # documented from its docstring


def _nav_pages(nav: list) -> list[str]:
    pages: list[str] = []
    for item in nav:
        if isinstance(item, str):
            pages.append(item)
        else:
            for value in item.values():
                pages += _nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_the_build_check_finds_stale_pages(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from mkdocs_hooks import stale_pages

    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("reference.md", "changelog.md", "concepts.md", "index.md"):
        (docs / name).write_text((DOCS / name).read_text(encoding="utf-8"), encoding="utf-8")
    assert stale_pages(docs) == []
    (docs / "reference.md").write_text((DOCS / "reference.md").read_text(encoding="utf-8") + "\nedited\n")
    concepts = (docs / "concepts.md").read_text(encoding="utf-8")
    (docs / "concepts.md").write_text(concepts.replace("| `kill` | 3.0 |", "| `kill` | 4.0 |"), encoding="utf-8")
    (docs / "changelog.md").write_text("# Changelog\n", encoding="utf-8")
    home = (docs / "index.md").read_text(encoding="utf-8")
    (docs / "index.md").write_text(
        home.replace("| **guidelines** | **880 ± 59** |", "| **guidelines** | **881 ± 59** |")
    )
    problems = stale_pages(docs)
    assert len(problems) == 5, problems
    assert problems[0].startswith("docs/reference.md is stale")
    assert "'kill': 4.0" in problems[3]
    assert problems[4] == "docs/index.md lacks the README's section 'Results' as the README has it"


# ---------------------------------------------------------------------------
# Getting started: every command runs
# ---------------------------------------------------------------------------
def test_the_page_shows_the_commands_this_module_runs() -> None:
    cmds = [" ".join(c) for c in page_commands()]
    assert cmds == [
        "make demo",
        "make test",
        "bgenv scenarios",
        "bgenv timeline --policy guidelines --scenario ios_commuter --days 2 --out timeline.png",
        "bgenv compare --scenario ios_commuter --episodes 8 --policies random,greedy,guidelines",
    ]
    assert len(code_blocks(GETTING_STARTED.read_text(encoding="utf-8"), "python")) == 1


BGENV = [c for c in page_commands() if c[0] == "bgenv"]


@pytest.mark.parametrize("cmd", BGENV, ids=_ids(BGENV))
def test_a_bgenv_command_of_the_page_runs(cmd: list[str], tmp_path: Path) -> None:
    cwd = _workdir(tmp_path)
    res = _run([sys.executable, "-m", "agents.cli", *cmd[1:]], cwd)
    if cmd[1] == "compare":
        assert "guidelines" in res.stdout and (cwd / "out" / "ios_commuter" / "compare.csv").is_file()
    if cmd[1] == "timeline":
        assert (cwd / "timeline.png").stat().st_size > 10_000
    if cmd[1] == "scenarios":
        assert "ios_commuter" in res.stdout and "android_commuter" in res.stdout


def test_the_python_example_of_the_page_runs(tmp_path: Path) -> None:
    (block,) = code_blocks(GETTING_STARTED.read_text(encoding="utf-8"), "python")
    res = _run([sys.executable, "-c", block], _workdir(tmp_path))
    completion, battery = map(float, res.stdout.split())
    assert 0.0 <= completion <= 1.0 and battery >= 0.0


def test_make_demo_runs_the_demo_on_a_small_budget(tmp_path: Path) -> None:
    assert ["make", "demo"] in page_commands()
    recipe = _make_recipe("demo")
    assert recipe[-1].endswith("/bin/bgenv demo"), recipe  # what `make demo` runs once installed
    cwd = _workdir(tmp_path)
    res = _run([sys.executable, "-m", "agents.cli", "demo", *SMALL["demo"]], cwd)
    assert "The trained agent" in res.stdout and "guidelines" in res.stdout
    assert (cwd / "out" / "ios_commuter" / "compare.csv").is_file()
    assert (cwd / "runs" / "ios_commuter" / "demo_ppo_0" / "model.zip").is_file()


def test_make_test_runs_the_suite() -> None:
    assert ["make", "test"] in page_commands()
    assert re.search(r"/bin/python -m pytest\b", _make_recipe("test")[-1])  # not run: it would run this suite


def test_the_install_lines_name_extras_that_exist() -> None:
    text = GETTING_STARTED.read_text(encoding="utf-8")
    extras = set(re.findall(r"pip install '\.\[(\w+)\]'", text))
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = pyproject.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
    defined = set(re.findall(r"^(\w+) = \[", section, flags=re.M))
    assert extras == {"rl", "plot", "sweep", "docs"}
    assert extras <= defined
    assert '"bgenv[rl,plot,sweep,docs]"' in section.split("dev = [", 1)[1]  # make install / make test install them


# ---------------------------------------------------------------------------
# The README
# ---------------------------------------------------------------------------
def test_the_readme_is_short_and_links_to_every_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 150
    assert readme.index("## Quick start") < readme.index("## Example") < readme.index("## Results")
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    local = [link for link in links if not re.match(r"[a-z]+://", link)]
    for link in local:
        assert (ROOT / link).exists(), link
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]
    missing = [p for p in _nav_pages(nav) if p != "index.md" and f"docs/{p}" not in local]
    assert missing == []


def test_the_readme_example_runs(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (block,) = code_blocks(readme, "python")
    assert len(block.splitlines()) <= 10
    res = _run([sys.executable, "-c", block], _workdir(tmp_path))
    completion, battery = map(float, res.stdout.split())
    assert 0.0 <= completion <= 1.0 and battery >= 0.0
