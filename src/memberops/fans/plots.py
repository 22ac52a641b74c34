"""Fan levels and the top communicators as a picture (PNG or SVG), without pyplot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["draw_fan_levels"]

_COLOURS = {"hardcore": "#c0392b", "general": "#3b6ea5", "silent": "#999999"}


def draw_fan_levels(
    levels: Mapping[str, int],
    communicators: Sequence[Mapping[str, Any]],
    path: Path,
    *,
    title: str = "",
) -> Path:
    """Members per level (bars) beside the top communicators' scores (horizontal bars,
    labelled by the ids given: pass pseudonymous ids where the reader may not see real
    ones); the format follows the suffix."""
    figure = Figure(figsize=(10, 4.2), layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2)
    names = list(levels)
    counts = [levels[n] for n in names]
    bars = left.bar(names, counts, color=[_COLOURS.get(n, "#3b6ea5") for n in names])
    left.bar_label(bars, labels=[f"{c:,}" for c in counts])
    left.set_ylabel("members")
    left.set_title("Fan levels")
    top = list(communicators)[:10][::-1]
    if top:
        right.barh(
            [str(r["member"])[:14] for r in top],
            [float(r["communication_score"]) for r in top],
            color="#3b6ea5",
        )
    else:
        right.text(0.5, 0.5, "no communicators yet", ha="center", va="center")
    right.set_xlabel("communication score")
    right.set_title("Top communicators")
    if title:
        figure.suptitle(title)
    figure.savefig(path)
    return path
