"""Synthetic order lines shaped like the demo hot-pot chain, for the basket benchmark.

Every order has one broth and the dipping sauce; a share of family orders add the kids'
broth; the other dishes are drawn without replacement from the menu, weighted by the
demo popularity and by one of five diner tastes, so real combinations exist.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from memberops.demo.menu import demo_menu, item_popularity

__all__ = ["synthetic_order_lines"]


def synthetic_order_lines(n_orders: int, *, seed: int = 7) -> pd.DataFrame:
    """(order_id, item_id) rows for `n_orders` orders, one row per order line."""
    rng = np.random.default_rng(seed)
    menu = demo_menu()
    popularity = item_popularity()
    skus = np.array([item.sku for item in menu])
    categories = np.array([item.category for item in menu])
    weight = np.array([popularity.get(item.sku, 0.3) for item in menu], dtype=np.float64)
    broths = np.flatnonzero(categories == "broths")
    pool = np.flatnonzero(categories != "broths")
    sauce = pool[0]
    pool = pool[1:]
    tastes = rng.gamma(0.6, 1.0, size=(5, len(pool))) * weight[pool]
    chunks: list[pd.DataFrame] = []
    step = 100_000
    for start in range(0, n_orders, step):
        n = min(step, n_orders - start)
        order = np.arange(start, start + n)
        taste = rng.integers(0, 5, size=n)
        party = rng.integers(1, 7, size=n)
        want = np.clip(np.rint(rng.normal(1.0 + 1.5 * party, 1.3)), 2, 10).astype(np.int64)
        # Gumbel top-k: k draws without replacement per row, weighted.
        keys = np.log(tastes[taste]) + rng.gumbel(size=(n, len(pool)))
        ranked = np.argsort(-keys, axis=1)
        take = np.arange(len(pool))[None, :] < want[:, None]
        rows, cols = np.nonzero(take)
        dishes = pool[ranked[rows, cols]]
        broth = broths[rng.choice(len(broths), size=n, p=weight[broths] / weight[broths].sum())]
        kids = order[(party >= 3) & (rng.random(n) < 0.1)]
        ids = np.concatenate([order, order, order[rows], kids])
        items = np.concatenate([broth, np.full(n, sauce), dishes, np.full(len(kids), broths[-1])])
        chunks.append(pd.DataFrame({"order_id": ids, "item_id": skus[items]}))
    lines = pd.concat(chunks, ignore_index=True)
    return lines.sort_values("order_id", kind="stable").reset_index(drop=True)
