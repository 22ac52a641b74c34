"""Frequent itemsets and rules on Spark, with the same definitions as `mining.py`.

Spark MLlib's FPGrowth mines the itemsets (its threshold is the same count,
ceil(min_support * N)); supports are recomputed here as count / N so they compare equal to
the NumPy miner's. Spark's own rules have one-item consequents only, so rules are
derived from the itemsets by `mining.association_rules`, giving every split as mlxtend
does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from memberops.baskets.mining import _min_count
from memberops.errors import ValidationError

__all__ = ["frequent_itemsets_spark"]


def frequent_itemsets_spark(
    lines: Any,
    min_support: float,
    *,
    basket_column: str = "basket_id",
    item_column: str = "item",
    max_len: int | None = None,
) -> pd.DataFrame:
    """Frequent itemsets of a Spark DataFrame of (basket, item) rows, as a pandas frame
    shaped like `frequent_itemsets` (support, itemsets, count; attrs n_baskets)."""
    from pyspark.ml.fpm import FPGrowth
    from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention

    for column in (basket_column, item_column):
        if column not in lines.columns:
            raise ValidationError("baskets", column, "column is missing")
    baskets = lines.groupBy(basket_column).agg(
        F.array_distinct(F.collect_list(F.col(item_column).cast("string"))).alias("items")
    )
    n_baskets = baskets.count()
    _min_count(min_support, max(n_baskets, 1))
    model = FPGrowth(itemsCol="items", minSupport=min_support, minConfidence=1.0).fit(baskets)
    rows = model.freqItemsets.collect()
    itemsets = [frozenset(row["items"]) for row in rows]
    counts = np.array([int(row["freq"]) for row in rows], dtype=np.int64)
    if max_len is not None:
        keep = [len(s) <= max_len for s in itemsets]
        itemsets = [s for s, k in zip(itemsets, keep, strict=True) if k]
        counts = counts[np.array(keep, dtype=bool)] if len(counts) else counts
    support = counts / float(n_baskets) if n_baskets else counts.astype(np.float64)
    keep_support = support >= min_support
    result = pd.DataFrame(
        {
            "support": support[keep_support],
            "itemsets": [s for s, k in zip(itemsets, keep_support, strict=True) if k],
            "count": counts[keep_support],
        }
    )
    result.attrs["n_baskets"] = n_baskets
    return result
