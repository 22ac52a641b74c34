"""The store mix as a picture: value segments per store, stacked, with the advice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["draw_store_mix"]

_SEGMENTS = (("premium", "#c0392b"), ("mainstream", "#3b6ea5"), ("value", "#f0ad4e"))


def draw_store_mix(stores: Sequence[Mapping[str, Any]], path: Path, *, title: str = "") -> Path:
    """One stacked bar per store (share of home members by value segment), the
    recommendation code beside each; the format follows the suffix."""
    figure = Figure(figsize=(10, 0.55 * max(len(stores), 3) + 1.6), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    codes = [str(s["store_code"]) for s in stores][::-1]
    ordered = list(stores)[::-1]
    left = np.zeros(len(ordered))
    for name, colour in _SEGMENTS:
        shares = np.array([s["segments"][name]["share"] * 100 for s in ordered])
        axes.barh(codes, shares, left=left, color=colour, label=name)
        left += shares
    for y, store in enumerate(ordered):
        axes.text(101, y, store["recommendation"]["code"].replace("_", " "), va="center")
    axes.set_xlim(0, 135)
    axes.set_xlabel("% of home members")
    axes.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.4, -0.08), ncols=3)
    axes.set_title(title or "Store mix")
    figure.savefig(path)
    return path
