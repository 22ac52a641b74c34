"""The RFM grid as a picture (PNG or SVG), drawn without pyplot's global state."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["draw_rfm_grid"]


def draw_rfm_grid(
    members: Sequence[Sequence[int]],
    segments: Sequence[tuple[str, int]],
    path: Path,
    *,
    title: str = "",
) -> Path:
    """Heatmap of members per R x F cell (`members[r-1][f-1]`) beside the segment sizes;
    the format follows the suffix of `path`."""
    grid = np.asarray(members, dtype=np.int64)
    bins = grid.shape[0]
    figure = Figure(figsize=(11, 4.6), layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2, width_ratios=[1.1, 1])
    image = left.imshow(grid, origin="lower", cmap="Blues", aspect="auto")
    for r in range(bins):
        for f in range(bins):
            value = int(grid[r, f])
            shade = "white" if grid.max() and value > grid.max() * 0.6 else "black"
            left.text(f, r, f"{value:,}", ha="center", va="center", color=shade, fontsize=8)
    left.set_xticks(range(bins), [str(i) for i in range(1, bins + 1)])
    left.set_yticks(range(bins), [str(i) for i in range(1, bins + 1)])
    left.set_xlabel("frequency score (F)")
    left.set_ylabel("recency score (R, high = recent)")
    left.set_title("members per R x F cell")
    figure.colorbar(image, ax=left, label="members")
    names = [name for name, _n in segments]
    counts = [n for _name, n in segments]
    right.barh(names[::-1], counts[::-1], color="#3b6ea5")
    for y, n in enumerate(counts[::-1]):
        right.text(n, y, f" {n:,}", va="center", fontsize=8)
    right.set_xlabel("members")
    right.set_title("segments")
    if title:
        figure.suptitle(title)
    figure.savefig(path)
    return path
