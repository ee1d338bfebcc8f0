"""Your own policy class as a policy spec: ``path/to/file.py:ClassName`` or ``package.module:ClassName``.

Wherever a policy name is accepted (``bgenv run``, ``eval``, ``compare``'s ``--policies``,
``timeline``, ``events``; :func:`agents.evaluate.load_policy`), a spec of this form loads a
class and builds it like the built-in hand-written policies.

**The contract** (the one :mod:`agents.policies` follows): the class is built as
``cls(table, seed=seed)``, ``table`` being the env's :class:`bgenv.envs.actions.ActionTable`
(request options by label, delay and chunk bins) and ``seed`` an int or None, and it has
``act(obs, mask)``: observations ``[N, D]`` (features ``bgenv.envs.spaces.OBSERVATION_NAMES``,
``agents.policies.F`` maps a name to its column) and action masks ``[N, sum(nvec)]`` (or
None) to actions ``[N, 4]`` (ints: request option, delay bin, chunk bin, work kind). The
evaluation steps many devices side by side, so ``act`` gets a batch; a single observation
``[D]`` should give ``[4]``. Subclassing :class:`agents.policies.Policy` provides all of
this: implement ``_act_one(o, mask)`` for one observation ``[D]`` and its mask
``[sum(nvec)]`` (or None), and ``Policy.act`` answers a batch row by row. Optional:
``reset(seed)`` (called with each batch's first seed) and ``bind(env)`` (called with the env
before an episode, see :mod:`bgenv.rollout`).

The ``:`` separates a class only when what follows the last ``:`` is a Python identifier
and what precedes it is a ``.py`` file or a dotted module name, so model paths
(``runs/x/model.zip``) and planner knobs (``planner:lookahead_h=24``) are never read as
classes. A file is loaded as a module of its own (any directory; its imports must be
installed or on ``PYTHONPATH``); a module is imported with the current directory on
``sys.path``, as ``python -m`` does. In tables a plugin is labelled by its class name
(:func:`plugin_label`), or ``file.py:ClassName`` where that would be ambiguous; the
instance's ``name`` is set to that label.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import re
import sys
from pathlib import Path
from typing import Any

from agents.policies import POLICIES, Policy
from bgenv.envs.actions import ActionTable

_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_RESERVED = (*POLICIES, "oracle", "planner")  # built-in spec names a class label must not shadow


def split_plugin_spec(spec: str) -> tuple[str, str] | None:
    """``(target, class name)`` of a plugin spec, None when ``spec`` is not one: the part
    after the last ``:`` must be an identifier and the part before it a ``.py`` path or a
    dotted module name (not ``oracle`` / ``planner``)."""
    target, sep, cls = str(spec).rpartition(":")
    if not sep or not target or not cls.isidentifier():
        return None
    if target.endswith(".py"):
        return target, cls
    if _MODULE.match(target) and target not in ("oracle", "planner"):
        return target, cls
    return None


def is_plugin_spec(spec: str) -> bool:
    """Whether ``spec`` names a policy class (``file.py:Class`` or ``module:Class``)."""
    return split_plugin_spec(spec) is not None


def _load_file(path_s: str) -> Any:
    """Execute a ``.py`` file as a fresh module of a name unique to its absolute path."""
    path = Path(path_s).expanduser()
    if not path.is_file():
        where = f" (from {Path.cwd()})" if not path.is_absolute() else ""
        raise FileNotFoundError(f"policy file {path_s} not found{where}")
    path = path.resolve()
    stem = re.sub(r"\W", "_", path.stem)
    name = f"_bgenv_policy_{stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:10]}"
    mod_spec = importlib.util.spec_from_file_location(name, path)
    if mod_spec is None or mod_spec.loader is None:  # pragma: no cover - a .py file always has a loader
        raise ValueError(f"cannot load {path_s} as a Python module")
    module = importlib.util.module_from_spec(mod_spec)
    sys.modules[name] = module  # dataclasses, pickling and typing look the module up here
    try:
        mod_spec.loader.exec_module(module)
    except Exception as err:
        del sys.modules[name]
        raise ValueError(f"loading policy file {path_s} failed: {type(err).__name__}: {err}") from err
    return module


def _import_module(target: str) -> Any:
    """Import ``target`` with the current directory on ``sys.path`` (as ``python -m`` has it)."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    importlib.invalidate_caches()  # a module written since the last import in this process
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as err:
        parts = target.split(".")
        if err.name in {".".join(parts[: i + 1]) for i in range(len(parts))}:
            raise ValueError(
                f"cannot import module {target!r}: no module named {err.name!r} (install it, put its directory "
                f"on PYTHONPATH or run from the directory that holds it; a file is given as path/to/file.py:Class)"
            ) from err
        raise ValueError(f"importing module {target!r} failed: {err}") from err
    except Exception as err:
        raise ValueError(f"importing module {target!r} failed: {type(err).__name__}: {err}") from err


def load_plugin_class(spec: str) -> type:
    """The class a plugin spec names, checked against the contract (module docstring):
    a ValueError (FileNotFoundError for a missing file) that says what is wrong."""
    parts = split_plugin_spec(spec)
    if parts is None:
        raise ValueError(
            f"{spec!r} is not a policy class spec: use path/to/file.py:ClassName or package.module:ClassName"
        )
    target, cls_name = parts
    module = _load_file(target) if target.endswith(".py") else _import_module(target)
    if not hasattr(module, cls_name):
        classes = sorted(n for n, v in vars(module).items() if inspect.isclass(v) and not n.startswith("_"))
        own = [n for n in classes if getattr(vars(module)[n], "__module__", None) == module.__name__]
        listed = own or classes
        raise ValueError(f"{target} has no {cls_name!r}; classes there: {', '.join(listed) if listed else '(none)'}")
    cls = getattr(module, cls_name)
    if not inspect.isclass(cls):
        raise ValueError(f"{spec}: {cls_name} is a {type(cls).__name__}, not a class")
    if not callable(getattr(cls, "act", None)):
        raise ValueError(f"{spec}: class {cls_name} has no act(obs, mask) method")
    if cls is Policy or (issubclass(cls, Policy) and cls._act_one is Policy._act_one and cls.act is Policy.act):
        raise ValueError(f"{spec}: {cls_name} implements neither _act_one(o, mask) nor act(obs, mask)")
    try:
        inspect.signature(cls).bind(object(), seed=None)
    except TypeError as err:
        raise ValueError(
            f"{spec}: {cls_name} must be constructible as {cls_name}(table, seed=seed) "
            f"(an ActionTable and an int or None, as agents.policies.Policy); {err}"
        ) from err
    except ValueError:  # pragma: no cover - no signature to inspect (a builtin): try it when building
        pass
    return cls


def absolute_spec(spec: str) -> str:
    """A plugin spec whose file is given by its absolute path (a module spec unchanged), so
    it names the same file from another working directory (a run's worker process)."""
    parts = split_plugin_spec(spec)
    if parts is None or not parts[0].endswith(".py"):
        return str(spec)
    return f"{Path(parts[0]).expanduser().resolve()}:{parts[1]}"


def build_plugin(spec: str, table: ActionTable, seed: int | None = None) -> Any:
    """An instance of the class a plugin spec names, ``cls(table, seed=seed)``."""
    return load_plugin_class(spec)(table, seed=seed)


def make_plugin(spec: str, env: Any, seed: int | None = None) -> Any:
    """An instance of the class a plugin spec names, bound to ``env``'s action space; its
    ``name`` is its label in tables (:func:`plugin_label`: a subclass of ``GuidelinesPolicy``
    is not called ``guidelines``)."""
    pol = build_plugin(spec, ActionTable.from_env(env), seed=seed)
    try:
        pol.name = plugin_label(spec)
    except AttributeError:  # a read-only name (a property): keep it
        pass
    return pol


def plugin_label(spec: str, long: bool = False) -> str:
    """A plugin's name in tables: its class name, or ``file.py:ClassName`` /
    ``module:ClassName`` when ``long`` or when the class name is a built-in policy's name."""
    parts = split_plugin_spec(spec)
    if parts is None:
        return str(spec)
    target, cls_name = parts
    if long or cls_name in _RESERVED:
        return f"{Path(target).name if target.endswith('.py') else target}:{cls_name}"
    return cls_name


__all__ = [
    "absolute_spec",
    "build_plugin",
    "is_plugin_spec",
    "load_plugin_class",
    "make_plugin",
    "plugin_label",
    "split_plugin_spec",
]
