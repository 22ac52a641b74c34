"""Top dish combinations as a picture (PNG or SVG), drawn without pyplot's state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["draw_top_rules"]


def draw_top_rules(
    rules: list[dict[str, Any]], path: Path, *, top: int = 15, title: str = ""
) -> Path:
    """Horizontal bars of lift for the best rules (records from `rules_to_records`), each
    labelled "A + B -> C" with its support and confidence."""
    shown = rules[:top][::-1]
    figure = Figure(figsize=(10, 0.45 * max(len(shown), 2) + 1.2), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    labels = [f"{' + '.join(r['antecedents'])} -> {' + '.join(r['consequents'])}" for r in shown]
    lifts = [r["lift"] for r in shown]
    bars = axes.barh(range(len(shown)), lifts, color="#3b6ea5")
    axes.set_yticks(range(len(shown)), labels, fontsize=8)
    for bar, rule in zip(bars, shown, strict=True):
        axes.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            f"  support {rule['support']:.1%}, confidence {rule['confidence']:.0%}",
            va="center",
            fontsize=7,
        )
    axes.axvline(1.0, color="#999999", linewidth=0.8, linestyle=":")
    axes.set_xlabel("lift (1 = bought together by chance)")
    axes.set_title(title or "Top dish combinations")
    if not shown:
        axes.text(0.5, 0.5, "no rule above the thresholds", ha="center", transform=axes.transAxes)
    figure.savefig(path)
    return path
