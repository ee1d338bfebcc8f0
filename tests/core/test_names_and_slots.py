"""Each enumeration and each order is written once: the configuration validates against
the core's names, observation and metric positions come from ``FEATURES`` and
``METRICS``, and the core imports nothing above it."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import numpy as np

from bgenv import config
from bgenv.core import layout as L
from bgenv.core.metrics import METRIC_NAMES, NMETRICS, write_metrics
from bgenv.core.observation import FEATURE_NAMES, NOBS, write_obs

CORE = Path(L.__file__).resolve().parent


def test_config_allows_exactly_the_cores_names():
    assert typing.get_args(config.WindowTypeName) == L.WT_NAMES
    assert typing.get_args(config.ThermalName) == L.THERMAL_NAMES
    assert typing.get_args(config.PlatformName) == L.PLATFORM_NAMES
    assert tuple(config.WorkKinds.model_fields) == L.KIND_NAMES
    assert config.BUCKETS == L.BUCKET_NAMES
    assert config.WINDOW_TYPES is L.WINDOW_TYPES
    assert config.THERMAL_LEVELS is L.THERMAL_LEVELS
    assert config.DEFAULT_SLOT is L.DEFAULT_SLOT
    assert config.PERIODIC_SLOT == L.PERIODIC_SLOT


def test_codes_are_positions_in_their_name_tables():
    assert L.WINDOW_TYPES == {name: code for code, name in enumerate(L.WT_NAMES)}
    assert (L.WT_REFRESH, L.WT_PUSH_NORMAL, L.WT_FGS) == (
        L.WT_NAMES.index("refresh"),
        L.WT_NAMES.index("push_normal"),
        L.WT_NAMES.index("fgs"),
    )
    assert L.THERMAL_NAMES[L.THERMAL_CRITICAL] == "critical"
    assert L.BUCKET_NAMES[L.BK_RESTRICTED] == "restricted"
    assert L.END_NAMES[L.END_KILL_OEM] == "oem"
    assert L.REFUSE_NAMES[L.REFUSE_DROPPED] == "push_dropped"
    assert L.PHASE_NAMES[L.PH_CHUNK] == "chunk_done"
    assert L.DOZE_NAMES[L.DZ_DEEP_MAINT] == "deep_maintenance"
    assert L.NET_NAMES[L.NET_CELL] == "cellular"
    assert len(L.WT_JOB_KIND) == L.NWT
    assert L.WT_JOB_KIND[L.WT_PUSH_NORMAL] == L.JK_NONE
    assert set(L.DEFAULT_SLOT) == set(L.WT_NAMES) - {"push_normal"}  # never requested
    assert all(0 <= s < L.NSLOT for s in L.DEFAULT_SLOT.values()) and L.PERIODIC_SLOT < L.NSLOT
    assert list(L.EVENT_SCHEMA) == list(range(len(L.EVENT_SCHEMA)))


def _named(names: tuple[str, ...], row: np.ndarray) -> dict[str, float]:
    assert len(names) == len(row)
    return dict(zip(names, row.tolist()))


def test_write_obs_fills_every_feature_at_its_names_position(device):
    d = device("android_commuter")
    d.window(L.WT_JOB)
    d.sf[L.S_BATT] = 0.375
    d.si[L.I_CHARGING] = 1
    d.reqs[5, L.RQ_ACTIVE] = 1.0
    d.items[0, L.IT_ACTIVE] = 1.0
    d.items[0, L.IT_KIND] = L.KIND_UPLOAD
    d.items[0, L.IT_REM] = 999.0
    d.items[0, L.IT_ARRIVE] = d.t - 3600.0
    d.si[L.I_NITEMS] = 1
    d.si[L.I_ITEMS_HI] = 1
    obs = np.full(NOBS, np.nan, dtype=np.float32)
    write_obs(d.pf, d.sf, d.si, d.items, d.reqs, obs)
    assert not np.isnan(obs).any()
    o = _named(FEATURE_NAMES, obs)
    assert o["battery"] == 0.375 and o["charging"] == 1.0
    assert [o[f"window_{n}"] for n in ("refresh", "processing", "job", "expedited")] == [0.0, 0.0, 1.0, 0.0]
    assert [o[f"pending_slot{k}"] for k in range(L.NSLOT)] == [0.0] * 5 + [1.0]
    assert o["backlog_upload"] == np.float32(np.log1p(999.0) / np.log1p(1000.0))
    assert o["backlog_sync"] == o["backlog_refresh"] == o["backlog_heavy"] == 0.0
    assert o["backlog_items"] == np.float32(1 / L.MAXI)
    assert o["net_wifi"] == 1.0 and o["net_none"] == o["net_cellular"] == 0.0


def test_write_metrics_fills_every_column_at_its_names_position(device):
    d = device("android_commuter")
    d.sf[L.M_BATT_MIN] = 0.125
    d.sf[L.M_WINDOWS] = 10.0
    d.sf[L.M_WINDOWS_BY_TYPE + L.WT_FGS] = 7.0
    d.sf[L.M_WINDOW_S] = 250.0
    d.sf[L.M_OPENS] = 4.0
    d.sf[L.M_FRESH_OPENS] = 1.0
    d.sf[L.M_THROTTLED] = 2.0
    d.sf[L.M_REFUSED] = 3.0
    d.si[L.I_TTS_N] = 3
    d.tts[:3] = (5.0, 1.0, 3.0)
    out = np.full(NMETRICS, np.nan)
    write_metrics(d.sf, d.si, d.items, d.tts, np.empty(L.TTS_BUF), out)
    assert not np.isnan(out).any()
    m = _named(METRIC_NAMES, out)
    assert m["battery_min"] == 0.125
    assert m["windows_fgs"] == 7.0 and m["windows_job"] == 0.0
    assert m["mean_window_s"] == 25.0
    assert m["freshness_at_open"] == 0.25 and m["app_opens"] == 4.0
    assert m["throttled_requests"] == 5.0 and m["requests_refused"] == 3.0
    assert m["time_to_success_s"] == 3.0
    assert m["simulated_days"] == 1.0


def _imports_outside_type_checking(tree: ast.AST) -> list[str]:
    """Modules imported by ``tree``, leaving out ``if TYPE_CHECKING:`` blocks."""
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def test_the_core_imports_nothing_above_it():
    for path in sorted(CORE.glob("*.py")):
        for mod in _imports_outside_type_checking(ast.parse(path.read_text(encoding="utf-8"))):
            above = mod.startswith("bgenv") and not mod.startswith("bgenv.core")
            assert not above and not mod.startswith(("gymnasium", "stable_baselines3")), f"{path.name} imports {mod}"
