"""The CLV distribution as a picture (PNG or SVG), drawn without pyplot's global state."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

__all__ = ["draw_clv_distribution"]


def draw_clv_distribution(clv_cents: ArrayLike, path: Path, *, title: str = "") -> Path:
    """Histogram of CLV per member (currency units, log-spaced bins) with the share of
    total CLV held by the top members beside it; the format follows the suffix."""
    values = np.asarray(clv_cents, dtype=np.float64) / 100.0
    figure = Figure(figsize=(10, 4.2), layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2)
    positive = values[values > 0]
    if len(positive):
        bins = np.geomspace(max(positive.min(), 0.01), positive.max() * 1.001, 40)
        left.hist(positive, bins=bins, color="#3b6ea5")
        left.set_xscale("log")
        left.axvline(float(np.median(positive)), color="#c0392b", linestyle="--", label="median")
        left.legend(frameon=False)
    left.set_xlabel("expected value over the horizon (log scale)")
    left.set_ylabel("members")
    left.set_title("CLV per member")
    ordered = np.sort(values)[::-1]
    total = ordered.sum()
    if len(ordered) and total > 0:
        share_members = np.arange(1, len(ordered) + 1) / len(ordered) * 100
        right.plot(share_members, np.cumsum(ordered) / total * 100, color="#3b6ea5")
        right.plot([0, 100], [0, 100], color="#999999", linewidth=0.8, linestyle=":")
        top = max(1, len(ordered) // 5)
        right.axvline(20, color="#c0392b", linestyle="--")
        right.annotate(
            f"top 20%: {ordered[:top].sum() / total:.0%} of CLV",
            xy=(20, ordered[:top].sum() / total * 100),
            xytext=(30, 40),
            arrowprops={"arrowstyle": "->"},
        )
    right.set_xlabel("% of members, highest CLV first")
    right.set_ylabel("% of total CLV")
    right.set_title("Concentration")
    if title:
        figure.suptitle(title)
    figure.savefig(path)
    return path
