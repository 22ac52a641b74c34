"""Dish combinations on the live chain: chain-wide or one store, over counted orders.

Items are shown by SKU and name from the catalog; the mining itself runs on item ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from memberops.baskets.mining import (
    association_rules,
    frequent_itemsets,
    itemsets_to_records,
    rules_to_records,
)
from memberops.baskets.repository import counted_baskets
from memberops.catalog.service import get_store_id_by_code_or_raise, item_categories
from memberops.errors import ValidationError

__all__ = ["BasketReport", "dish_combinations", "mine_file"]

DEFAULT_MIN_SUPPORT = 0.01
DEFAULT_MIN_CONFIDENCE = 0.1
DEFAULT_MIN_LIFT = 1.0


@dataclass
class BasketReport:
    """Frequent itemsets and rules with the thresholds that produced them."""

    scope: str
    baskets: int
    min_support: float
    min_confidence: float
    min_lift: float
    itemsets: list[dict[str, Any]]
    rules: list[dict[str, Any]]

    def to_dict(self, *, itemsets: bool = True) -> dict[str, Any]:
        """JSON-ready; `itemsets=False` leaves the (long) itemset list out."""
        data: dict[str, Any] = {
            "scope": self.scope,
            "baskets": self.baskets,
            "min_support": self.min_support,
            "min_confidence": self.min_confidence,
            "min_lift": self.min_lift,
            "rules": self.rules,
        }
        if itemsets:
            data["itemsets"] = self.itemsets
        return data


def _check(min_support: float, min_confidence: float, min_lift: float) -> None:
    if not 0 < min_support <= 1:
        raise ValidationError("baskets", "min_support", "must be in (0, 1]")
    if not 0 <= min_confidence <= 1:
        raise ValidationError("baskets", "min_confidence", "must be in [0, 1]")
    if min_lift < 0:
        raise ValidationError("baskets", "min_lift", "must not be negative")


def _report(
    lines: pd.DataFrame,
    *,
    scope: str,
    item_column: str,
    min_support: float,
    min_confidence: float,
    min_lift: float,
) -> BasketReport:
    found = frequent_itemsets(
        lines, min_support, basket_column="basket_id", item_column=item_column
    )
    n_baskets = int(found.attrs.get("n_baskets", 0))
    rules = (
        association_rules(
            found, n_baskets, metric="confidence", min_threshold=min_confidence, min_lift=min_lift
        )
        if len(found) and n_baskets
        else None
    )
    return BasketReport(
        scope=scope,
        baskets=n_baskets,
        min_support=min_support,
        min_confidence=min_confidence,
        min_lift=min_lift,
        itemsets=itemsets_to_records(found),
        rules=[] if rules is None else rules_to_records(rules),
    )


def dish_combinations(
    session: Session,
    *,
    store_code: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    min_support: float = DEFAULT_MIN_SUPPORT,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    min_lift: float = DEFAULT_MIN_LIFT,
) -> BasketReport:
    """Itemsets and rules over counted orders, chain-wide or for one store."""
    _check(min_support, min_confidence, min_lift)
    store_id = get_store_id_by_code_or_raise(session, store_code) if store_code else None
    lines = counted_baskets(session, store_id=store_id, since=since, until=until)
    catalog = item_categories(session)
    # "SKU name" reads well in a rule and stays unique (names may repeat across sizes).
    lines["item"] = [
        f"{catalog[i][0]} {catalog[i][1]}" if i in catalog else str(i) for i in lines["item_id"]
    ]
    return _report(
        lines,
        scope=f"store {store_code}" if store_code else "chain",
        item_column="item",
        min_support=min_support,
        min_confidence=min_confidence,
        min_lift=min_lift,
    )


def mine_file(
    lines: pd.DataFrame,
    *,
    min_support: float,
    min_confidence: float = 0.0,
    min_lift: float = 0.0,
) -> BasketReport:
    """Itemsets and rules of a (basket_id, item) frame read from a file."""
    _check(min_support, min_confidence, min_lift)
    for column in ("basket_id", "item"):
        if column not in lines.columns:
            raise ValidationError("input file", column, "column is missing")
    return _report(
        lines,
        scope="file",
        item_column="item",
        min_support=min_support,
        min_confidence=min_confidence,
        min_lift=min_lift,
    )
