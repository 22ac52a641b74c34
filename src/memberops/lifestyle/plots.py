"""Members per lifestyle trait as a picture (PNG or SVG), without pyplot."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["draw_traits"]


def draw_traits(
    traits: Mapping[str, int], members_scored: int, path: Path, *, title: str = ""
) -> Path:
    """Horizontal bars: members holding each trait, with their share of scored members."""
    figure = Figure(figsize=(8, 0.5 * max(len(traits), 3) + 1.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    names = list(traits)[::-1]
    counts = [traits[n] for n in names]
    bars = axes.barh(names, counts, color="#3b6ea5")
    axes.bar_label(
        bars,
        labels=[f"{c:,} ({c / members_scored:.0%})" if members_scored else "0" for c in counts],
    )
    axes.set_xlabel(f"members (of {members_scored:,} scored)")
    axes.set_title(title or "Lifestyle traits")
    figure.savefig(path)
    return path
