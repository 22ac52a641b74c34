"""Lifecycle pictures (PNG or SVG), drawn without pyplot: states over time and cohort
retention."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["draw_cohorts", "draw_flows"]

_COLOURS = {
    "new": "#7fb3d5",
    "active": "#2e86c1",
    "reactivated": "#27ae60",
    "at risk": "#f39c12",
    "lapsed": "#c0392b",
}


def draw_flows(
    flows: Sequence[dict[str, Any]], states: Sequence[str], path: Path, *, title: str = ""
) -> Path:
    """Members per state at each month end (stacked), with the monthly moves into lapsed
    and into reactivated beside it; the format follows the suffix of `path`."""
    months = sorted({f["month"] for f in flows})
    index = {m: i for i, m in enumerate(months)}
    stock = {s: np.zeros(len(months), dtype=np.int64) for s in states}
    lapsing = np.zeros(len(months), dtype=np.int64)
    returning = np.zeros(len(months), dtype=np.int64)
    for f in flows:
        i = index[f["month"]]
        if f["to_state"] in stock:
            stock[f["to_state"]][i] += f["members"]
        if f["to_state"] == "lapsed" and f["from_state"] != "lapsed":
            lapsing[i] += f["members"]
        if f["to_state"] == "reactivated" and f["from_state"] != "reactivated":
            returning[i] += f["members"]
    figure = Figure(figsize=(11, 4.6), layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2)
    x = np.arange(len(months))
    left.stackplot(
        x,
        *[stock[s] for s in states],
        labels=list(states),
        colors=[_COLOURS.get(s, "#999999") for s in states],
    )
    left.set_title("members by state at each month end")
    left.legend(frameon=False, loc="upper left", fontsize=8)
    right.bar(x - 0.2, lapsing, width=0.4, color=_COLOURS["lapsed"], label="into lapsed")
    right.bar(x + 0.2, returning, width=0.4, color=_COLOURS["reactivated"], label="reactivated")
    right.set_title("moves per month")
    right.legend(frameon=False, fontsize=8)
    step = max(1, len(months) // 8)
    for axes in (left, right):
        axes.set_xticks(x[::step], months[::step], rotation=45, ha="right")
        axes.set_ylabel("members")
    if title:
        figure.suptitle(title)
    figure.savefig(path)
    return path


def draw_cohorts(cohorts: Sequence[dict[str, Any]], path: Path, *, title: str = "") -> Path:
    """Cohort retention heatmap: share of each first-visit month visiting k months later."""
    width = max((len(c["retention"]) for c in cohorts), default=1)
    grid = np.full((max(len(cohorts), 1), width), np.nan)
    for i, c in enumerate(cohorts):
        for cell in c["retention"]:
            grid[i, cell["k"]] = cell["share"]
    figure = Figure(figsize=(max(6, 0.45 * width + 3), max(3, 0.35 * len(cohorts) + 1.5)))
    figure.set_layout_engine("constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    image = axes.imshow(grid, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    if width <= 24 and len(cohorts) <= 24:
        for i in range(len(cohorts)):
            for k in range(width):
                if not np.isnan(grid[i, k]):
                    axes.text(k, i, f"{grid[i, k]:.0%}", ha="center", va="center", fontsize=7)
    axes.set_yticks(range(len(cohorts)), [f"{c['cohort']} ({c['size']})" for c in cohorts])
    axes.set_xlabel("months since the first visit (k)")
    axes.set_ylabel("first-visit month (members)")
    figure.colorbar(image, ax=axes, label="share visiting in month k")
    axes.set_title(title or "Cohort retention")
    figure.savefig(path)
    return path
