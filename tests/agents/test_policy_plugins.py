"""Your own policy class as a policy spec (agents/plugins.py): ``file.py:Class`` and ``module:Class``.

Concrete expectations: a class that only subclasses ``GuidelinesPolicy`` gives exactly the
metrics of ``guidelines`` on the same seeds (``compare``, ``bgenv compare``, ``bgenv run``,
the timeline's episode), loaded from a file outside the repository or from a module; a plain
class (no ``Policy`` base) gets batches ``[N, D]`` with masks ``[N, sum(nvec)]``; each
mistake (file, module, class, signature) fails with a message that names it; the example
policy of docs/evaluation.md (examples/my_policy.py) runs and asks for what its docstring says.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import bgenv  # noqa: F401  (registers the env ids)
from agents.cli import main
from agents.evaluate import compare, evaluate, load_policy, policy_label
from agents.plugins import load_plugin_class, plugin_label, split_plugin_spec
from agents.policies import F, Policy
from bgenv.envs.actions import ActionTable

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "my_policy.py"
SHORT = {"horizon_days": 1.0}  # one simulated day per episode

GUIDELINES_COPY = """
from agents.policies import GuidelinesPolicy


class G(GuidelinesPolicy):
    pass
"""

PLAIN = """
import numpy as np


class Lazy:
    '''Never asks for anything, never works (no Policy base class).'''

    shapes = []

    def __init__(self, table, seed=None):
        self.table = table

    def act(self, obs, mask=None):
        Lazy.shapes.append((np.shape(obs), np.shape(mask)))
        return np.zeros((len(obs), 4), dtype=np.int64)
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_which_specs_name_a_class() -> None:
    assert split_plugin_spec("path/to/my_policy.py:MyPolicy") == ("path/to/my_policy.py", "MyPolicy")
    assert split_plugin_spec("/abs/dir.v2/p.py:P") == ("/abs/dir.v2/p.py", "P")
    assert split_plugin_spec("mypkg.policies:Night") == ("mypkg.policies", "Night")
    for not_a_class in (
        "guidelines",
        "runs/ios_commuter/ppo_0/model.zip",
        "runs/a:b/model.zip",  # what follows ':' is no identifier
        "planner:lookahead_h=24:samples=8",
        "oracle:delays_s=0/900",
        "planner:samples",  # a planner spec, never a module named planner
        "my_policy.py:",
        ":MyPolicy",
        "dir/file.txt:Cls",  # neither a .py file nor a module name
    ):
        assert split_plugin_spec(not_a_class) is None, not_a_class


def test_a_file_outside_the_repository_gives_the_same_episodes_as_the_builtin(tmp_path: Path) -> None:
    spec = f"{_write(tmp_path / 'elsewhere' / 'g.py', GUIDELINES_COPY)}:G"
    cmp = compare(["guidelines", spec], "ios_commuter", 2, 10_000, **SHORT)
    g, mine = cmp.results
    assert (g.policy, mine.policy) == ("guidelines", "G")
    assert mine.seeds == g.seeds == [10_000, 10_001]
    assert mine.metrics == g.metrics  # identical episode by episode
    assert cmp.scores()["G"][0] == pytest.approx(1.0)


def test_compare_cli_with_a_file_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = f"{_write(tmp_path / 'g.py', GUIDELINES_COPY)}:G"
    out = tmp_path / "out"
    args = ["compare", "--policies", f"guidelines,{spec}", "--episodes", "2", "--set", "horizon_days=1"]
    assert main([*args, "--out", str(out), "--json"]) == 0
    doc = __import__("json").loads(capsys.readouterr().out)
    assert set(doc["policies"]) == {"guidelines", "G"}
    assert doc["policies"]["G"]["metrics"] == doc["policies"]["guidelines"]["metrics"]
    rows = (out / "compare.csv").read_text().splitlines()
    assert "ios_commuter,G,episode_reward_vs_guidelines,0.0,0.0,2,10000" in rows


def test_run_and_timeline_accept_a_file_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from agents.timeline import run_episode

    spec = f"{_write(tmp_path / 'g.py', GUIDELINES_COPY)}:G"
    assert main(["run", "--policy", f"guidelines,{spec}", "--episodes", "1", "--json"]) == 0
    doc = __import__("json").loads(capsys.readouterr().out)
    assert doc["policies"]["G"] == doc["policies"]["guidelines"]
    env_g, info_g = run_episode("guidelines", "android_commuter", 0.5, 3)
    env_m, info_m = run_episode(spec, "android_commuter", 0.5, 3)
    assert info_m["metrics"] == info_g["metrics"]
    assert len(env_m.unwrapped.events) == len(env_g.unwrapped.events) > 0
    env_g.close()
    env_m.close()
    assert policy_label(spec) == "G"


def test_a_module_spec_and_a_plain_class_gets_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path / "plugin_pkg_a" / "__init__.py", "")
    _write(tmp_path / "plugin_pkg_a" / "lazy.py", PLAIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "plugin_pkg_a", raising=False)
    res = evaluate("plugin_pkg_a.lazy:Lazy", "ios_commuter", 3, 10_000, **SHORT)
    assert res.policy == "Lazy"
    assert [m["windows_granted"] for m in res.metrics] == [0, 0, 0]
    cls = load_plugin_class("plugin_pkg_a.lazy:Lazy")
    env = gym.make("bgenv/iOS-v1", scenario="ios_commuter", record_events=False)
    n_mask = sum(ActionTable.from_env(env).nvec)
    env.close()
    assert cls.shapes and all(s == ((3, len(F)), (3, n_mask)) for s in cls.shapes)


def test_a_module_in_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path / "plugin_mod_b.py", PLAIN)
    monkeypatch.syspath_prepend(str(REPO))  # sys.path is restored after the test
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "plugin_mod_b", raising=False)
    env = gym.make("bgenv/iOS-v1", scenario="ios_commuter", record_events=False)
    pol = load_policy("plugin_mod_b:Lazy", env, seed=0)
    assert type(pol).__name__ == "Lazy" and pol.table.platform == "ios" and pol.name == "Lazy"
    env.close()


@pytest.mark.parametrize(
    ("source", "spec_tail", "error", "message"),
    [
        (None, "missing.py:P", FileNotFoundError, r"policy file .*missing\.py not found"),
        ("class A: pass\nclass B: pass\nx = 1\n", "p.py:C", ValueError, r"p\.py has no 'C'; classes there: A, B"),
        ("def P(table, seed=None): pass\n", "p.py:P", ValueError, r"P is a function, not a class"),
        (
            "class P:\n    def __init__(self):\n        pass\n\n    def act(self, obs, mask=None):\n        pass\n",
            "p.py:P",
            ValueError,
            r"must be constructible as P\(table, seed=seed\)",
        ),
        ("class P:\n    def __init__(self, table, seed=None):\n        pass\n", "p.py:P", ValueError, r"has no act"),
        (
            "from agents.policies import Policy\nclass P(Policy):\n    pass\n",
            "p.py:P",
            ValueError,
            r"implements neither _act_one",
        ),
        (
            "raise RuntimeError('boom')\n",
            "p.py:P",
            ValueError,
            r"loading policy file .*p\.py failed: RuntimeError: boom",
        ),
        ("import no_such_module_xyz\n", "p.py:P", ValueError, r"No module named 'no_such_module_xyz'"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, source: str | None, spec_tail: str, error: type, message: str) -> None:
    if source is not None:
        _write(tmp_path / spec_tail.split(":")[0], source)
    with pytest.raises(error, match=message):
        load_plugin_class(f"{tmp_path}/{spec_tail}")


def test_a_module_that_is_not_there() -> None:
    with pytest.raises(ValueError, match=r"cannot import module 'no_such_pkg_xyz\.policies': no module named"):
        load_plugin_class("no_such_pkg_xyz.policies:P")
    with pytest.raises(ValueError, match=r"agents\.plugins has no 'Nope'; classes there: "):
        load_plugin_class("agents.plugins:Nope")


def test_the_cli_reports_a_bad_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["eval", "--policy", f"{tmp_path}/nope.py:P", "--episodes", "1", "--set", "horizon_days=1"])
    assert rc == 2
    assert "nope.py not found" in capsys.readouterr().err
    rc = main(["eval", "--policy", str(EXAMPLE), "--episodes", "1", "--set", "horizon_days=1"])
    assert rc == 2
    assert "my_policy.py is a Python file: name its policy class too" in capsys.readouterr().err
    rc = main(["eval", "--policy", "dir/file.txt:P", "--episodes", "1", "--set", "horizon_days=1"])
    assert rc == 2
    assert "path/to/file.py:ClassName" in capsys.readouterr().err


def test_labels_stay_short_and_unambiguous(tmp_path: Path) -> None:
    assert plugin_label("a/b/my_policy.py:MyPolicy") == "MyPolicy"
    assert plugin_label("pkg.mod:Night") == "Night"
    assert plugin_label("a/b/my.py:guidelines") == "my.py:guidelines"  # never taken for the anchor
    one = _write(tmp_path / "one" / "p.py", PLAIN)
    two = _write(tmp_path / "two" / "q.py", PLAIN)
    three = _write(tmp_path / "three" / "q.py", PLAIN)
    cmp = compare([f"{one}:Lazy", f"{two}:Lazy", f"{three}:Lazy"], "ios_commuter", 1, 10_000, **SHORT)
    assert [r.policy for r in cmp.results] == ["p.py:Lazy", f"{two}:Lazy", f"{three}:Lazy"]


def test_the_readme_example_runs_and_does_what_it_says() -> None:
    spec = f"{EXAMPLE}:MyPolicy"
    for scenario in ("ios_commuter", "android_commuter"):
        res = evaluate(spec, scenario, 2, 10_000, **SHORT)
        assert res.policy == "MyPolicy"
        assert all(m["windows_granted"] > 0 for m in res.metrics), scenario
    env = gym.make("bgenv/iOS-v1", scenario="ios_commuter", record_events=False)
    pol = load_policy(spec, env, seed=0)
    t = pol.ctx
    o = np.zeros(len(F), dtype=np.float32)
    o[F["phase_background"]] = 1.0
    o[F["backlog_sync"]] = 0.3
    o[F["net_wifi"]] = 1.0
    assert pol.act(o).tolist() == [t.option("refresh"), t.delay_at_most(900), 0, 0]
    o[F["pending_slot0"]] = 1.0  # the refresh is pending: wait
    assert pol.act(o).tolist() == [0, t.delay_at_most(900), 0, 0]
    o[F["pending_slot0"]], o[F["net_wifi"]], o[F["net_cellular"]] = 0.0, 0.0, 1.0  # cellular: wait
    assert pol.act(o)[0] == 0
    o[F["phase_background"]], o[F["phase_window"]] = 0.0, 1.0  # a window: a 5-unit chunk
    assert pol.act(np.stack([o, o])).tolist() == [[0, 0, t.chunk_at_most(5), 0]] * 2
    assert isinstance(pol, Policy) and pol.name == "MyPolicy"
    env.close()


def test_the_docs_show_the_example_as_shipped() -> None:
    page = (REPO / "docs" / "evaluation.md").read_text()  # "Your own policy"
    block = page.split("class MyPolicy(Policy):  # examples/my_policy.py\n", 1)[1].split("```", 1)[0]
    shipped = EXAMPLE.read_text()
    body = [line for line in block.splitlines() if line.strip()]
    assert len(body) == 9
    assert all(line in shipped.splitlines() for line in body)
    assert "--policies guidelines,examples/my_policy.py:MyPolicy" in page


def test_init_from_a_policy_class_gives_the_builtin_demonstrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from agents.hyperparams import load_train_config
    from agents.imitation import CloneSettings, collect_demonstrations
    from agents.train import make_train_env

    _write(tmp_path / "g.py", GUIDELINES_COPY)
    monkeypatch.chdir(tmp_path)
    assert CloneSettings("g.py:G").policy == f"{tmp_path.resolve() / 'g.py'}:G"  # another cwd finds it too
    with pytest.raises(ValueError, match="has no 'H'; classes there: G"):
        CloneSettings("g.py:H")
    from agents.seed_group import group_spec

    spec = group_spec(str(REPO / "configs/train/ppo.yaml"), "ios_commuter", 1000, None, None, 4, {}, init_from="g.py:G")
    assert spec["base_entry"]["init_from"] == f"{tmp_path.resolve() / 'g.py'}:G"  # Ray's workers run elsewhere
    actions = []
    for spec in ("guidelines", "g.py:G"):
        cfg = replace(load_train_config(REPO / "configs/train/ppo.yaml", "bgenv/iOS-v1", n_envs=2), fused_head=True)
        env = cfg.wrap_normalize(make_train_env(cfg, "ios_commuter", 0, {}))
        actions.append(collect_demonstrations(env, spec, 200, seed=0).actions)
        env.close()
    assert actions[0].shape == (100, 2, 4)
    assert np.array_equal(actions[0], actions[1])
