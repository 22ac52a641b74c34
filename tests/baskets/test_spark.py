"""The Spark path finds the same itemsets, supports and rules as the NumPy miner (on the
suite's one SparkSession, the `spark` fixture)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from memberops.baskets import association_rules, frequent_itemsets
from memberops.baskets.spark import frequent_itemsets_spark


@pytest.mark.slow
def test_spark_itemsets_and_rules_equal_the_numpy_miner(spark: object) -> None:
    rng = np.random.default_rng(9)
    menu = [f"dish{k}" for k in range(12)]
    rows = []
    for order in range(600):
        basket = {menu[k] for k in np.flatnonzero(rng.random(12) < np.linspace(0.05, 0.5, 12))}
        basket.add("sauce")
        rows.extend((f"o{order}", item) for item in sorted(basket))
    lines = pd.DataFrame(rows, columns=["basket_id", "item"])
    expected = frequent_itemsets(lines, 0.03)
    ours = frequent_itemsets_spark(spark.createDataFrame(lines), 0.03)  # type: ignore[attr-defined]
    assert ours.attrs["n_baskets"] == 600
    assert dict(zip(ours["itemsets"], ours["support"], strict=True)) == dict(
        zip(expected["itemsets"], expected["support"], strict=True)
    )
    spark_rules = association_rules(ours, metric="confidence", min_threshold=0.1)
    numpy_rules = association_rules(expected, metric="confidence", min_threshold=0.1)
    key = ["antecedents", "consequents"]
    merged = spark_rules.merge(numpy_rules, on=key, suffixes=("_spark", "_numpy"))
    assert len(merged) == len(spark_rules) == len(numpy_rules) > 0
    for metric in ("support", "confidence", "lift"):
        assert (merged[f"{metric}_spark"] == merged[f"{metric}_numpy"]).all()
