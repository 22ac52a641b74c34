"""Frequent itemsets and rules: value-for-value parity with mlxtend, and the definitions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlxtend.frequent_patterns import association_rules as mlxtend_rules
from mlxtend.frequent_patterns import fpgrowth

import memberops.baskets
from memberops.baskets import association_rules, frequent_itemsets
from memberops.baskets.mining import RULE_COLUMNS
from memberops.errors import ValidationError


def one_hot(baskets: list[set[str]]) -> pd.DataFrame:
    items = sorted(set().union(*baskets))
    return pd.DataFrame([[item in b for item in items] for b in baskets], columns=items)


def as_dict(frame: pd.DataFrame) -> dict[frozenset[str], float]:
    return dict(zip(frame["itemsets"], frame["support"], strict=True))


def rule_values(
    rules: pd.DataFrame,
) -> dict[tuple[frozenset[str], frozenset[str]], tuple[float, ...]]:
    metrics = RULE_COLUMNS[2:]
    return {
        (a, c): tuple(float(v) for v in values)
        for a, c, *values in rules[["antecedents", "consequents", *metrics]].itertuples(index=False)
    }


def correlated_baskets(n: int, seed: int) -> list[set[str]]:
    """Hot-pot-like orders: a broth, sauce on most, dishes with a few real pairings."""
    rng = np.random.default_rng(seed)
    menu = [f"dish{k:02d}" for k in range(25)]
    weights = rng.uniform(0.02, 0.35, size=len(menu))
    baskets = []
    for _ in range(n):
        basket = {menu[k] for k in np.flatnonzero(rng.random(len(menu)) < weights)}
        basket.add(str(rng.choice(["spicy broth", "tomato broth", "mushroom broth"])))
        if rng.random() < 0.9:
            basket.add("sauce")
        if "dish00" in basket and rng.random() < 0.7:
            basket.add("dish01")
        baskets.append(basket)
    return baskets


def test_public_surface_is_pinned() -> None:
    assert memberops.baskets.__all__ == ["association_rules", "frequent_itemsets"]


@pytest.mark.parametrize("min_support", [0.005, 0.02, 0.1, 0.3])
def test_itemsets_and_rules_equal_mlxtend_value_for_value(min_support: float) -> None:
    baskets = correlated_baskets(3000, seed=1)
    expected = fpgrowth(one_hot(baskets), min_support=min_support, use_colnames=True)
    ours = frequent_itemsets(baskets, min_support)
    assert as_dict(ours) == as_dict(expected)  # same sets, supports equal to the bit
    expected_rules = mlxtend_rules(
        expected, num_itemsets=len(baskets), metric="confidence", min_threshold=0.2
    )
    our_rules = association_rules(ours, metric="confidence", min_threshold=0.2)
    assert len(our_rules) > 0
    assert rule_values(our_rules) == rule_values(expected_rules)


def test_lift_threshold_matches_mlxtend() -> None:
    baskets = correlated_baskets(2000, seed=4)
    expected = fpgrowth(one_hot(baskets), min_support=0.02, use_colnames=True)
    ours = frequent_itemsets(baskets, 0.02)
    expected_rules = mlxtend_rules(
        expected, num_itemsets=len(baskets), metric="lift", min_threshold=1.5
    )
    our_rules = association_rules(ours, metric="lift", min_threshold=1.5)
    assert rule_values(our_rules) == rule_values(expected_rules)
    assert (our_rules["antecedents"] == frozenset({"dish00"})).any()


@settings(max_examples=60, deadline=None)
@given(
    baskets=st.lists(
        st.sets(st.sampled_from(list("abcdefgh")), min_size=1, max_size=6),
        min_size=1,
        max_size=60,
    ),
    min_support=st.sampled_from([0.01, 0.05, 0.1, 0.25, 0.5, 1.0]),
)
def test_any_baskets_give_mlxtend_itemsets(baskets: list[set[str]], min_support: float) -> None:
    expected = fpgrowth(one_hot(baskets), min_support=min_support, use_colnames=True)
    assert as_dict(frequent_itemsets(baskets, min_support)) == as_dict(expected)


def test_rows_one_hot_and_lists_are_the_same_baskets() -> None:
    baskets = correlated_baskets(500, seed=2)
    rows = pd.DataFrame(
        [(f"order-{i}", item) for i, b in enumerate(baskets) for item in sorted(b)],
        columns=["basket_id", "item"],
    )
    # A dish ordered twice in one order is two lines, one basket membership.
    rows = pd.concat([rows, rows.iloc[:50]], ignore_index=True)
    from_rows = frequent_itemsets(rows, 0.05)
    assert as_dict(from_rows) == as_dict(frequent_itemsets(baskets, 0.05))
    assert as_dict(from_rows) == as_dict(frequent_itemsets(one_hot(baskets), 0.05))
    assert from_rows.attrs["n_baskets"] == 500


def test_an_item_in_every_basket_joins_every_itemset_at_the_same_count() -> None:
    baskets = [{"sauce", "beef", "tripe"}, {"sauce", "beef"}, {"sauce", "tofu"}, {"sauce"}]
    found = as_dict(frequent_itemsets(baskets, 0.25))
    assert found[frozenset({"sauce"})] == 1.0
    assert found[frozenset({"beef", "tripe"})] == found[frozenset({"sauce", "beef", "tripe"})]
    # {beef, tripe, tofu, beef+tripe}, each with and without sauce, and sauce alone.
    assert len(found) == 2 * 4 + 1


def test_max_len_limits_itemset_size() -> None:
    baskets = correlated_baskets(800, seed=3)
    limited = frequent_itemsets(baskets, 0.05, max_len=2)
    expected = fpgrowth(one_hot(baskets), min_support=0.05, use_colnames=True, max_len=2)
    assert as_dict(limited) == as_dict(expected)


def test_missing_column_and_bad_support_are_named() -> None:
    with pytest.raises(ValidationError) as caught:
        frequent_itemsets(pd.DataFrame({"basket_id": [1], "dish": ["x"]}), 0.1)
    assert caught.value.field == "item"
    with pytest.raises(ValidationError) as caught:
        frequent_itemsets([["a"]], 0.0)
    assert caught.value.field == "min_support"
