"""The revenue concentration (80/20) curve as a picture, drawn without pyplot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["draw_concentration_curve"]


def draw_concentration_curve(
    curve: Sequence[float], gini: float, path: Path, *, title: str = ""
) -> Path:
    """Share of revenue against share of members (highest spenders first), the equality
    line, and the top-20% point; the format follows the suffix of `path`."""
    figure = Figure(figsize=(6.4, 5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    xs = [0, *range(1, len(curve) + 1)]
    ys = [0.0, *(100 * share for share in curve)]
    axes.plot(xs, ys, color="#3b6ea5", label=f"revenue (Gini {gini:.2f})")
    axes.fill_between(xs, ys, xs, color="#3b6ea5", alpha=0.12)
    axes.plot([0, 100], [0, 100], color="#999999", linewidth=0.8, linestyle=":", label="equal")
    if len(curve) >= 20:
        top = 100 * curve[19]
        axes.axvline(20, color="#c0392b", linestyle="--", linewidth=0.8)
        axes.annotate(
            f"top 20%: {top:.0f}% of revenue",
            xy=(20, top),
            xytext=(35, max(top - 25, 5)),
            arrowprops={"arrowstyle": "->"},
        )
    axes.set_xlim(0, 100)
    axes.set_ylim(0, 100)
    axes.set_xlabel("% of members, highest spend first")
    axes.set_ylabel("% of revenue")
    axes.legend(frameon=False, loc="lower right")
    axes.set_title(title or "Revenue concentration")
    figure.savefig(path)
    return path
