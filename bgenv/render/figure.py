"""The timeline picture: a matplotlib figure of a :class:`~bgenv.render.timeline.Timeline`.

Lanes top to bottom (battery, screen, network, Android's standby bucket and Doze, Low
Power Mode / Battery Saver, thermal state, requests, windows, backlog) over the whole
horizon, x in simulated hours since midnight of day 0, with legends below. Drawn on an
Agg canvas (no display needed); matplotlib is imported only when a picture is asked
for, so ``import bgenv`` does not need it. Colours and labels: ``bgenv.render.style``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bgenv.render.style import (
    BACKLOG_COLOR,
    BATTERY_COLOR,
    BUCKET_COLOR,
    BUCKET_LABEL,
    CHARGING_COLOR,
    DOZE_COLOR,
    DOZE_LABEL,
    LOW_POWER_COLOR,
    NETWORK_COLOR,
    NETWORK_LABEL,
    NETWORK_STATES,
    OFF_COLOR,
    OUTCOME_COLOR,
    OUTCOME_LABEL,
    OUTCOMES,
    REFUSED_COLOR,
    REQUEST_COLOR,
    SCREEN_COLOR,
    THERMAL_COLOR,
    TYPE_LABEL,
    low_power_name,
)
from bgenv.render.timeline import Span, Timeline, as_timeline, request_lines

__all__ = ["figure_size", "render_timeline_rgb", "save_timeline_png", "timeline_figure"]


def _hour_ticks(t0: float, t1: float, step_h: int) -> list[float]:
    """Whole-hour multiples of ``step_h`` in ``[t0, t1]`` (s), in hours."""
    h0 = math.ceil(t0 / 3600.0 / step_h) * step_h
    return [float(h) for h in range(int(h0), int(t1 / 3600.0) + 1, step_h)]


_LEFT_IN = 1.75  # lane titles and row labels
_RIGHT_IN = 0.3
_ROW_IN = 0.2  # one request/window type row


def _lanes(tl: Timeline) -> list[tuple[str, str, float]]:
    """(key, title, height in inches) top to bottom."""
    n_req = max(1, len(tl.request_types))
    n_win = max(1, len(tl.window_types))
    lanes = [("battery", "battery", 1.25), ("screen", "screen", 0.42), ("network", "network", 0.28)]
    if tl.platform == "android":
        lanes += [("bucket", "standby bucket", 0.28), ("doze", "Doze", 0.28)]
    lp = low_power_name(tl.platform)
    lanes += [("low_power", lp, 0.2), ("thermal", "thermal", 0.2)]
    lanes += [("requests", "requests", 0.12 + _ROW_IN * n_req), ("windows", "windows", 0.12 + _ROW_IN * n_win)]
    lanes += [("backlog", "backlog", 0.8)]
    return lanes


def figure_size(days: float) -> tuple[float, float]:
    """(width in inches, dpi) for a time axis of ``days``: the layout is drawn on a
    page of 12-17 in and longer episodes get more pixels (1200 px for up to two days,
    up to 2600 px from five days on), so text stays readable on a wide picture."""
    width = float(np.clip(3.0 + 2.6 * days, 12.0, 17.0))
    px = float(np.clip(300.0 * days + 600.0, 1200.0, 2600.0))
    return width, px / width


def timeline_figure(source: Any, *, policy: str | None = None, seed: int | None = None, dpi: float | None = None):
    """The timeline as a matplotlib ``Figure`` on an Agg canvas (no display needed).

    ``source`` is an env (any wrapper) or a ``Timeline``; ``dpi`` defaults to
    ``figure_size``'s. Artists carry ``gid`` names (``windows:<outcome>:<type>``,
    ``charging``, ``network:<state>``, ...) so their geometry can be read back; x is
    simulated hours since midnight of day 0.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    tl = as_timeline(source, policy, seed)
    days = (tl.t_axis_end - tl.t0) / 86400.0
    width, auto_dpi = figure_size(days)
    dpi = auto_dpi if dpi is None else dpi
    lanes = _lanes(tl)
    gap = 0.07
    top_in, axis_in = 0.72, 0.36
    lanes_in = sum(h for _, _, h in lanes) + gap * (len(lanes) - 1)

    fig = Figure(figsize=(width, 4.0), dpi=dpi)
    FigureCanvasAgg(fig)
    legends = _legends(fig, tl)
    legend_rows, legend_in = _flow(fig, legends, width - _LEFT_IN * 0.2 - _RIGHT_IN)
    height = top_in + lanes_in + axis_in + legend_in + 0.12
    fig.set_size_inches(width, height)
    for leg, (x, y) in legend_rows:
        leg.set_bbox_to_anchor((x, y), transform=fig.dpi_scale_trans)

    x0, x1 = tl.t0 / 3600.0, tl.t_axis_end / 3600.0
    axes: dict[str, Any] = {}
    y = height - top_in
    first = None
    for key, title, h in lanes:
        y -= h
        ax = fig.add_axes(
            (_LEFT_IN / width, y / height, (width - _LEFT_IN - _RIGHT_IN) / width, h / height),
            sharex=first,
        )
        first = first or ax
        axes[key] = ax
        ax.set_xlim(x0, x1)
        ax.tick_params(axis="x", which="both", labelbottom=False, length=0)
        ax.tick_params(axis="y", labelsize=7, length=2, pad=2)
        for s in ("top", "right"):
            ax.spines[s].set_visible(False)
        ax.text(
            -_LEFT_IN / (width - _LEFT_IN - _RIGHT_IN) + 0.004,
            0.5,
            title,
            transform=ax.transAxes,
            ha="left",
            va="center",
            fontsize=8.5,
            fontweight="bold",
        )
        y -= gap
    _grid(axes, tl)
    _draw_battery(axes["battery"], tl)
    _draw_screen(axes["screen"], tl)
    _draw_bands(axes["network"], tl.spans["network"], NETWORK_COLOR, "network", NETWORK_LABEL)
    if "bucket" in axes:
        _draw_bands(axes["bucket"], tl.spans["bucket"], BUCKET_COLOR, "bucket", BUCKET_LABEL)
        _draw_bands(axes["doze"], tl.spans["doze"], DOZE_COLOR, "doze", None)
    _draw_bands(axes["low_power"], tl.spans["low_power"], {"on": LOW_POWER_COLOR}, "low_power", None)
    _draw_bands(axes["thermal"], tl.spans["thermal"], THERMAL_COLOR, "thermal", None)
    _draw_requests(axes["requests"], tl)
    _draw_windows(axes["windows"], tl)
    _draw_backlog(axes["backlog"], tl)
    _time_axis(axes["backlog"], axes["battery"], tl, width)
    if tl.t_end < tl.t_axis_end:
        for ax in axes.values():
            ax.axvspan(tl.t_end / 3600.0, x1, color="#f4f4f4", zorder=0.5, lw=0)
            ax.axvline(tl.t_end / 3600.0, color="#555555", lw=0.8, ls="--", zorder=4)
    fig.text(0.1 / width, 1 - 0.12 / height, tl.title(), ha="left", va="top", fontsize=11, fontweight="bold")
    fig.text(0.1 / width, 1 - 0.38 / height, tl.summary(), ha="left", va="top", fontsize=8.5, color="#333333")
    return fig


def _grid(axes: dict[str, Any], tl: Timeline) -> None:
    mid = _hour_ticks(tl.t0, tl.t_axis_end, 24)
    six = [h for h in _hour_ticks(tl.t0, tl.t_axis_end, 6) if h % 24]
    for ax in axes.values():
        for h in mid:
            ax.axvline(h, color="#9a9a9a", lw=0.8, zorder=0.6)
        for h in six:
            ax.axvline(h, color="#d0d0d0", lw=0.5, ls=":", zorder=0.6)


def _time_axis(bottom, top, tl: Timeline, width: float) -> None:
    days = (tl.t_axis_end - tl.t0) / 86400.0
    in_per_h = (width - _LEFT_IN - _RIGHT_IN) / (days * 24.0)
    step = next(s for s in (1, 2, 3, 6, 12, 24) if s * in_per_h >= 0.55)
    ticks = _hour_ticks(tl.t0, tl.t_axis_end, step)
    labels = [(f"day {int(h // 24)}" if h % 24 == 0 else f"{int(h % 24):02d}:00") for h in ticks]
    bottom.set_xticks(ticks, labels)
    bottom.tick_params(axis="x", which="both", labelbottom=True, length=3, labelsize=7.5)
    for lab, h in zip(bottom.get_xticklabels(), ticks):
        if h % 24 == 0:
            lab.set_fontweight("bold")
    # day names on top as well, centred on each day
    mids = [h + 12 for h in _hour_ticks(tl.t0 - 86400.0, tl.t_axis_end, 24)]
    sec = top.secondary_xaxis("top")
    shown = [(m, f"day {int(m // 24)}") for m in mids if tl.t0 / 3600 <= m <= tl.t_axis_end / 3600]
    sec.set_xticks([m for m, _ in shown], [s for _, s in shown])
    sec.tick_params(length=0, labelsize=8, pad=1)
    sec.spines["top"].set_visible(False)


def _barh(ax, spans: Sequence[Span], y: float, h: float, color: str, gid: str, **kw) -> None:
    """Bars at their exact times; the edge keeps very short spans visible (~1 px)."""
    if not spans:
        return
    xr = [(s[0] / 3600.0, (s[1] - s[0]) / 3600.0) for s in spans]
    kw.setdefault("linewidth", 0.6)
    kw.setdefault("edgecolor", color)
    ax.broken_barh(xr, (y, h), facecolors=color, gid=gid, zorder=kw.pop("zorder", 2), **kw)


def _draw_bands(ax, spans: list[Span], colors: dict[str, str], gid: str, inline: dict[str, str] | None) -> None:
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    for state, color in colors.items():
        _barh(ax, [s for s in spans if s[2] == state], 0.0, 1.0, color, f"{gid}:{state}", linewidth=0.0)
    if inline:  # name long spans inside the band
        x0, x1 = ax.get_xlim()
        w_in = ax.get_position().width * ax.figure.get_size_inches()[0]
        for a, b, state in spans:
            if (b - a) / 3600.0 / (x1 - x0) * w_in > 0.12 * len(inline.get(state, state)):
                dark = state in ("wifi", "deep_idle", "restricted")
                ax.text(
                    (a + b) / 7200.0, 0.5, inline.get(state, state), ha="center", va="center", fontsize=6.5,
                    color="white" if dark else "#333333", zorder=3, clip_on=True,
                )  # fmt: skip


def _draw_battery(ax, tl: Timeline) -> None:
    ax.set_ylim(0, 105)
    ax.set_yticks([0, 50, 100], ["0 %", "50 %", "100 %"])
    for a, b, _ in tl.spans["charging"]:
        ax.axvspan(a / 3600.0, b / 3600.0, color=CHARGING_COLOR, lw=0, zorder=1, gid="charging")
    for a, b, _ in tl.spans["power"]:
        ax.axvspan(a / 3600.0, b / 3600.0, color=OFF_COLOR, alpha=0.35, lw=0, zorder=1, gid="power:off")
    if tl.low_batt:
        ax.axhline(100 * tl.low_batt, color="#b0b0b0", lw=0.6, ls="--", zorder=1)
    if len(tl.battery_t):
        ax.plot(tl.battery_t / 3600.0, 100 * tl.battery, color=BATTERY_COLOR, lw=1.1, zorder=3, gid="battery")


def _draw_screen(ax, tl: Timeline) -> None:
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    sc = tl.spans["screen"]
    _barh(ax, [s for s in sc if s[2] == "other"], 0.3, 0.3, SCREEN_COLOR["other"], "screen:other", linewidth=0.4)
    _barh(ax, [s for s in sc if s[2] == "app"], 0.15, 0.6, SCREEN_COLOR["app"], "screen:app")
    for label, face in (("fresh", SCREEN_COLOR["app"]), ("stale", "white")):
        xs = [s[0] / 3600.0 for s in tl.spans["app_open"] if s[2] == label]
        if xs:
            edge = SCREEN_COLOR["app"] if label == "fresh" else REFUSED_COLOR
            ax.plot(xs, [0.93] * len(xs), "v", ms=4.5, mfc=face, mec=edge, mew=0.9, ls="", zorder=4,
                    clip_on=False, gid=f"app_open:{label}")  # fmt: skip
    xs = [s[0] / 3600.0 for s in tl.spans["force_quit"]]
    if xs:
        ax.plot(xs, [0.45] * len(xs), "x", ms=5, color="black", mew=1.2, ls="", zorder=5, gid="force_quit")


def _rows(ax, types: list[str]) -> dict[str, int]:
    n = max(1, len(types))
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_yticks(range(len(types)), [TYPE_LABEL.get(t, t) for t in types])
    ax.tick_params(axis="y", length=0)
    for i in range(len(types) - 1):
        ax.axhline(i + 0.5, color="#e6e6e6", lw=0.5, zorder=0.7)
    return {t: i for i, t in enumerate(types)}


def _draw_requests(ax, tl: Timeline) -> None:
    from matplotlib.collections import LineCollection

    row = _rows(ax, tl.request_types)
    req = tl.spans["requests"]
    live, gone = request_lines(req)
    for parts, alpha, gid in ((live, 1.0, "requests:pending"), (gone, 0.3, "requests:replaced")):
        if parts:
            segs = [[(a / 3600.0, row[t]), (b / 3600.0, row[t])] for a, b, t in parts]
            ax.add_collection(
                LineCollection(segs, colors=REQUEST_COLOR, linewidths=0.8, alpha=alpha, zorder=3, gid=gid)
            )
    floors = [(b, t) for a, b, t in req if b > a]
    if floors:
        ax.plot([b / 3600.0 for b, _ in floors], [row[t] for _, t in floors], "|", ms=6, mew=0.9,
                color=REQUEST_COLOR, ls="", zorder=3, gid="requests:earliest")  # fmt: skip
    if req:
        ax.plot([a / 3600.0 for a, _, _ in req], [row[t] for _, _, t in req], "o", ms=3.2, color=REQUEST_COLOR,
                ls="", zorder=4, gid="requests:submit")  # fmt: skip
    os_ = tl.spans["rescheduled"]
    if os_:
        ax.plot([a / 3600.0 for a, _, _ in os_], [row[t] for _, _, t in os_], "o", ms=4, mfc="white",
                mec=REQUEST_COLOR, mew=0.9, ls="", zorder=4, gid="rescheduled")  # fmt: skip
    ref = tl.spans["refused"]
    if ref:
        ax.plot([a / 3600.0 for a, _, _ in ref], [row[lab.split(":")[0]] for _, _, lab in ref], "x", ms=5,
                mew=1.1, color=REFUSED_COLOR, ls="", zorder=5, gid="refused")  # fmt: skip


def _draw_windows(ax, tl: Timeline) -> None:
    row = _rows(ax, tl.window_types)
    for outcome in OUTCOMES:
        color = OUTCOME_COLOR[outcome]
        for t, i in row.items():
            spans = [(w.start_s, w.end_s, t) for w in tl.windows if w.type == t and w.outcome == outcome]
            extra = {"hatch": "////", "facecolor": "white"} if outcome == "running" else {}
            _barh(ax, spans, i - 0.34, 0.68, color, f"windows:{outcome}:{t}", zorder=3, linewidth=1.0, **extra)


def _draw_backlog(ax, tl: Timeline) -> None:
    if len(tl.backlog_t):
        x = tl.backlog_t / 3600.0
        ax.fill_between(x, tl.backlog, step="post", color=BACKLOG_COLOR, alpha=0.25, lw=0, zorder=2)
        ax.step(x, tl.backlog, where="post", color=BACKLOG_COLOR, lw=0.9, zorder=3, gid="backlog")
    top = float(tl.backlog.max()) if len(tl.backlog) else 0.0
    top = max(top, 1.0)
    ax.set_ylim(0, top * 1.12)
    ax.set_yticks([0, top], ["0", f"{top:.0f} u"])
    xs = [s[0] / 3600.0 for s in tl.spans["deadline"]]
    if xs:
        ax.plot(xs, [0.0] * len(xs), "|", ms=7, mew=1.0, color=REFUSED_COLOR, ls="", zorder=4, clip_on=False,
                transform=ax.get_xaxis_transform(), gid="deadline")  # fmt: skip


def _legends(fig, tl: Timeline) -> list[Any]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    def patch(c: str, **kw) -> Patch:
        return Patch(facecolor=kw.pop("facecolor", c), edgecolor=kw.pop("edgecolor", c), **kw)

    groups: list[tuple[str, list[tuple[Any, str]]]] = [
        (
            "battery",
            [
                (Line2D([], [], color=BATTERY_COLOR, lw=1.1), "level"),
                (patch(CHARGING_COLOR), "charging"),
                (Line2D([], [], color="#b0b0b0", lw=0.6, ls="--"), "low-battery gate"),
            ]
            + ([(patch(OFF_COLOR, alpha=0.35), "phone off, battery empty")] if tl.spans["power"] else []),
        ),
        (
            "screen",
            [
                (patch(SCREEN_COLOR["app"]), "this app in use"),
                (patch(SCREEN_COLOR["other"]), "other use"),
                (Line2D([], [], marker="v", ls="", color=SCREEN_COLOR["app"], ms=5), "open, data fresh"),
                (Line2D([], [], marker="v", ls="", mfc="white", mec=REFUSED_COLOR, ms=5), "open, data stale"),
                (Line2D([], [], marker="x", ls="", color="black", ms=5), "force-quit"),
            ],
        ),
        ("network", [(patch(NETWORK_COLOR[s], edgecolor="#bbbbbb"), NETWORK_LABEL[s]) for s in NETWORK_STATES]),
    ]
    if tl.platform == "android":
        groups.append(("standby bucket", [(patch(c), BUCKET_LABEL[b]) for b, c in BUCKET_COLOR.items()]))
        groups.append(("Doze", [(patch(c), DOZE_LABEL[d]) for d, c in DOZE_COLOR.items()]))
    lp = low_power_name(tl.platform)
    groups.append((lp, [(patch(LOW_POWER_COLOR), "on")]))
    groups.append(("thermal", [(patch(c), s) for s, c in THERMAL_COLOR.items()]))
    groups.append(
        (
            "requests",
            [
                (Line2D([], [], marker="o", ls="-", color=REQUEST_COLOR, ms=3.5, lw=0.8), "submitted → earliest begin"),
                (Line2D([], [], ls="-", color=REQUEST_COLOR, alpha=0.3, lw=0.8), "replaced by a later request"),
                (Line2D([], [], marker="o", ls="", mfc="white", mec=REQUEST_COLOR, ms=4), "OS retry after a stop"),
                (Line2D([], [], marker="x", ls="", color=REFUSED_COLOR, ms=5), "refused"),
            ],
        )
    )
    groups.append(
        (
            "windows",
            [
                (
                    patch(OUTCOME_COLOR[o], **({"hatch": "////", "facecolor": "white"} if o == "running" else {})),
                    OUTCOME_LABEL[o],
                )
                for o in OUTCOMES
            ],
        )
    )
    groups.append(
        (
            "backlog",
            [
                (patch(BACKLOG_COLOR, alpha=0.4), "pending work units"),
                (Line2D([], [], marker="|", ls="", color=REFUSED_COLOR, ms=7), "deadline missed"),
            ],
        )
    )
    out = []
    for title, entries in groups:
        leg = fig.legend(
            [h for h, _ in entries],
            [s for _, s in entries],
            title=title,
            ncol=len(entries),
            loc="upper left",
            bbox_to_anchor=(0, 0),
            bbox_transform=fig.dpi_scale_trans,
            fontsize=7,
            title_fontsize=7.5,
            frameon=False,
            handlelength=1.4,
            handleheight=0.9,
            columnspacing=0.9,
            handletextpad=0.4,
            borderpad=0.2,
            alignment="left",
        )
        leg.get_title().set_fontweight("bold")
        out.append(leg)
    return out


def _flow(fig, legends: list[Any], width_in: float) -> tuple[list[tuple[Any, tuple[float, float]]], float]:
    """Lay legends out left to right in rows below the lanes; returns each legend's
    upper-left corner (inches from the figure's lower left) and the block's height."""
    r = fig.canvas.get_renderer()
    sizes = []
    for leg in legends:
        bb = leg.get_window_extent(r)
        sizes.append((bb.width / fig.dpi, bb.height / fig.dpi))
    rows: list[list[int]] = [[]]
    x = 0.0
    for i, (w, _h) in enumerate(sizes):
        if rows[-1] and x + w > width_in:
            rows.append([])
            x = 0.0
        rows[-1].append(i)
        x += w + 0.15
    heights = [max(sizes[i][1] for i in row) for row in rows]
    total = sum(heights) + 0.05 * (len(rows) - 1)
    placed = []
    ytop = total + 0.06
    for row, h in zip(rows, heights):
        x = 0.1
        for i in row:
            placed.append((legends[i], (x, ytop)))
            x += sizes[i][0] + 0.15
        ytop -= h + 0.05
    return placed, total + 0.1


def render_timeline_rgb(
    source: Any, *, policy: str | None = None, seed: int | None = None, dpi: float | None = None
) -> np.ndarray:
    """The timeline picture as an ``(H, W, 3)`` uint8 array. ``source``: an env or a
    ``Timeline``. The size depends on the horizon only (not on how far the episode
    got), so frames of one episode stack into a video."""
    fig = timeline_figure(source, policy=policy, seed=seed, dpi=dpi)
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def save_timeline_png(
    source: Any, path: str | Path, *, policy: str | None = None, seed: int | None = None, dpi: float | None = None
) -> Path:
    """Write the timeline picture as a PNG (palette-compressed) and return its path."""
    from PIL import Image

    rgb = render_timeline_rgb(source, policy=policy, seed=seed, dpi=dpi)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # a 256-colour palette keeps every colour within a few levels and the file small
    img = Image.fromarray(rgb).quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    img.save(path, format="PNG", optimize=True)
    return path
