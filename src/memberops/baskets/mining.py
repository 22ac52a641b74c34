"""Frequent itemsets and association rules, on bitsets in NumPy.

Definitions (the same as mlxtend's `fpgrowth` and `association_rules`, so results are
interchangeable value for value):

- a basket is one counted order; an item is a dish (or any label); duplicates inside a
  basket count once;
- support(S) = baskets containing every item of S / all baskets; S is frequent when its
  count >= ceil(min_support * N) and support(S) >= min_support;
- a rule A -> C splits a frequent itemset into two non-empty parts;
  confidence = support(A+C) / support(A), lift = confidence / support(C),
  leverage = support(A+C) - support(A) support(C),
  conviction = (1 - support(C)) / (1 - confidence) (infinite when confidence = 1).

The miner is Eclat on vertical bitsets: each frequent item is a bit array over baskets
(64 baskets per word); the support of an itemset is the popcount of the AND of its items'
arrays. Each node of the search handles all its extensions in one vectorised AND, and
keeps only the words where its prefix occurs, so deep, rare itemsets touch few words.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from memberops.errors import ValidationError

__all__ = [
    "RULE_COLUMNS",
    "association_rules",
    "encode_baskets",
    "frequent_itemsets",
    "itemsets_to_records",
    "rules_to_records",
]

RULE_COLUMNS = [
    "antecedents",
    "consequents",
    "antecedent support",
    "consequent support",
    "support",
    "confidence",
    "lift",
    "leverage",
    "conviction",
]

# Dense basket-by-item bytes built at once before packing into bits (bounds memory).
_DENSE_BUDGET_BYTES = 256 * 1024 * 1024


def encode_baskets(
    baskets: Any, *, basket_column: str = "basket_id", item_column: str = "item"
) -> tuple[NDArray[np.int64], NDArray[np.int64], int, list[Any]]:
    """Baskets as integer codes: (basket code per row, item code per row, baskets, items).

    Accepts a DataFrame of (basket, item) rows, a one-hot boolean DataFrame (columns are
    items, rows are baskets, as mlxtend takes), or an iterable of item collections.
    """
    if isinstance(baskets, pd.DataFrame):
        if basket_column in baskets.columns and item_column in baskets.columns:
            basket_codes, basket_labels = pd.factorize(baskets[basket_column], sort=False)
            item_codes, item_labels = pd.factorize(baskets[item_column], sort=False)
            if (basket_codes < 0).any() or (item_codes < 0).any():
                raise ValidationError("baskets", f"{basket_column}/{item_column}", "has blanks")
            return (
                basket_codes.astype(np.int64),
                item_codes.astype(np.int64),
                len(basket_labels),
                list(item_labels),
            )
        if len(baskets.columns) and all(
            pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype)
            for dtype in baskets.dtypes
        ):
            matrix = baskets.to_numpy()
            if matrix.size and not np.isin(matrix, (0, 1)).all():
                raise ValidationError("baskets", "one-hot", "values must be 0/1 or booleans")
            rows, cols = np.nonzero(matrix)
            return rows.astype(np.int64), cols.astype(np.int64), len(baskets), list(baskets.columns)
        raise ValidationError(
            "baskets",
            basket_column if basket_column not in baskets else item_column,
            "column is missing (or pass a one-hot boolean frame)",
        )
    lists = [list(basket) for basket in baskets]
    lengths = np.fromiter((len(b) for b in lists), dtype=np.int64, count=len(lists))
    flat = [item for basket in lists for item in basket]
    item_codes, item_labels = pd.factorize(pd.Series(flat, dtype=object), sort=False)
    basket_codes = np.repeat(np.arange(len(lists), dtype=np.int64), lengths)
    return basket_codes, item_codes.astype(np.int64), len(lists), list(item_labels)


def _min_count(min_support: float, n_baskets: int) -> int:
    if not 0.0 < min_support <= 1.0:
        raise ValidationError("frequent itemsets", "min_support", "must be in (0, 1]")
    return max(1, math.ceil(min_support * n_baskets))


def _item_bitsets(
    basket_codes: NDArray[np.int64],
    item_codes: NDArray[np.int64],
    items: NDArray[np.int64],
    n_baskets: int,
) -> NDArray[np.uint64]:
    """One row of 64-bit words per item in `items` (bit b set: basket b holds the item)."""
    n_words = (n_baskets + 63) // 64
    lookup = np.full(int(item_codes.max()) + 1 if len(item_codes) else 1, -1, dtype=np.int64)
    lookup[items] = np.arange(len(items))
    row = lookup[item_codes]
    keep = row >= 0
    row, col = row[keep], basket_codes[keep]
    bits = np.zeros((len(items), n_words), dtype=np.uint64)
    padded = n_words * 64
    chunk = max(1, _DENSE_BUDGET_BYTES // padded)
    if chunk >= len(items):
        dense = np.zeros((len(items), padded), dtype=np.uint8)
        dense[row, col] = 1
        bits[:] = np.packbits(dense, axis=1, bitorder="little").view(np.uint64)
        return bits
    order = np.argsort(row, kind="stable")
    row, col = row[order], col[order]
    bounds = np.searchsorted(row, np.arange(0, len(items) + chunk, chunk))
    for index, start in enumerate(range(0, len(items), chunk)):
        stop = min(start + chunk, len(items))
        lo, hi = bounds[index], bounds[index + 1]
        dense = np.zeros((stop - start, padded), dtype=np.uint8)
        dense[row[lo:hi] - start, col[lo:hi]] = 1
        bits[start:stop] = np.packbits(dense, axis=1, bitorder="little").view(np.uint64)
    return bits


def _popcount_rows(words: NDArray[np.uint64]) -> NDArray[np.int64]:
    # Summing the uint8 popcounts in uint32 is a third faster than in int64.
    counts: NDArray[np.int64] = (
        np.bitwise_count(words).sum(axis=1, dtype=np.uint32).astype(np.int64)
    )
    return counts


def _join(rows: NDArray[np.uint64], prefix: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """AND of each row with the prefix, kept to the words where the prefix has a bit once
    they are under half of all words (gathering costs more than it saves above that)."""
    words = np.flatnonzero(prefix)
    if 2 * len(words) >= len(prefix):
        return rows & prefix
    return np.take(rows, words, axis=1) & prefix[words]


Found = list[tuple[tuple[int, ...], int]]


def _emit(
    found: Found,
    itemset: tuple[int, ...],
    count: int,
    inherited: tuple[int, ...],
    new: tuple[int, ...],
    max_len: int | None,
) -> None:
    """Add the itemset joined with every subset of its perfect extensions (items present
    in all its baskets, so the count is unchanged); with `new`, only the subsets that use
    at least one new extension (the others were added higher up)."""
    extensions = (*inherited, *new)
    fresh = set(new)
    for size in range(len(extensions) + 1):
        if max_len is not None and len(itemset) + size > max_len:
            break
        for extra in combinations(extensions, size):
            if fresh and fresh.isdisjoint(extra):
                continue
            found.append(((*itemset, *extra), count))


def _mine(
    bits: NDArray[np.uint64],
    counts: NDArray[np.int64],
    n_baskets: int,
    min_count: int,
    max_len: int | None,
) -> Found:
    """Every frequent itemset (as tuples of row indices into `bits`) and its count.

    Perfect extensions (Borgelt's Eclat): an item found in every basket of a prefix adds
    nothing to the search below it; it is set aside and joined to each itemset found there
    (with and without it) at the same count. A dipping sauce on every hot-pot order halves
    the work this way.
    """
    found: Found = []
    perfect = counts == n_baskets
    root_pex = tuple(int(i) for i in np.flatnonzero(perfect))
    if root_pex:
        _emit(found, (), n_baskets, (), root_pex, max_len)
    rest = np.flatnonzero(~perfect)
    for i in rest:
        _emit(found, (int(i),), int(counts[i]), root_pex, (), max_len)
    if max_len is not None and max_len < 2:
        return found
    rows = bits[rest]
    # A node: prefix, its count, its perfect extensions, the candidate items after it,
    # and the AND of the prefix with each candidate (restricted to the prefix's words).
    stack: list[
        tuple[tuple[int, ...], int, tuple[int, ...], NDArray[np.int64], NDArray[np.uint64]]
    ] = [
        (
            (int(rest[k]),),
            int(counts[rest[k]]),
            root_pex,
            rest[k + 1 :],
            _join(rows[k + 1 :], rows[k]),
        )
        for k in range(len(rest) - 1)
    ]
    while stack:
        prefix, prefix_count, pex, candidates, joint = stack.pop()
        supports = _popcount_rows(joint)
        is_perfect = supports == prefix_count
        if is_perfect.any():
            new = tuple(int(c) for c in candidates[is_perfect])
            _emit(found, prefix, prefix_count, pex, new, max_len)
            pex = (*pex, *new)
        frequent = np.flatnonzero((supports >= min_count) & ~is_perfect)
        if not len(frequent):
            continue
        for position in frequent:
            itemset = (*prefix, int(candidates[position]))
            _emit(found, itemset, int(supports[position]), pex, (), max_len)
        if max_len is not None and len(prefix) + 2 >= max_len:
            continue
        kept = joint[frequent]
        kept_items = candidates[frequent]
        for k in range(len(frequent) - 1):
            stack.append(
                (
                    (*prefix, int(kept_items[k])),
                    int(supports[frequent[k]]),
                    pex,
                    kept_items[k + 1 :],
                    _join(kept[k + 1 :], kept[k]),
                )
            )
    return found


def frequent_itemsets(
    baskets: Any,
    min_support: float,
    *,
    max_len: int | None = None,
    basket_column: str = "basket_id",
    item_column: str = "item",
) -> pd.DataFrame:
    """Every itemset whose support is at least `min_support`.

    `baskets`: a DataFrame of (basket_id, item) rows, a one-hot boolean DataFrame, or an
    iterable of item collections. Returns a DataFrame with `support`, `itemsets`
    (frozensets of items) and `count` (baskets holding the itemset), sorted by size then
    descending support; `result.attrs["n_baskets"]` holds the number of baskets.

        >>> frequent_itemsets([["beef", "tripe"], ["beef"], ["tofu"]], 0.5)
           support itemsets  count
        0 0.666667   (beef)      2
    """
    basket_codes, item_codes, n_baskets, labels = encode_baskets(
        baskets, basket_column=basket_column, item_column=item_column
    )
    min_count = _min_count(min_support, n_baskets)
    columns = ["support", "itemsets", "count"]
    if n_baskets == 0 or len(item_codes) == 0:
        empty = pd.DataFrame(
            {c: pd.Series(dtype=float if c == "support" else object) for c in columns}
        )
        empty.attrs["n_baskets"] = n_baskets
        return empty
    # Rows per item bound its basket count from above (a dish twice in one order is two
    # rows); only items that can reach the threshold get a bitset, whose popcount is exact.
    upper = np.bincount(item_codes, minlength=len(labels))
    candidates = np.flatnonzero(upper >= min_count)
    bits = _item_bitsets(basket_codes, item_codes, candidates, n_baskets)
    item_counts = _popcount_rows(bits)
    item_support = item_counts / float(n_baskets)
    frequent = np.flatnonzero((item_counts >= min_count) & (item_support >= min_support))
    # Rarest first: prefixes stay small, so joins below them touch few words.
    frequent = frequent[np.argsort(item_counts[frequent], kind="stable")]
    frequent_items = candidates[frequent]
    bits = bits[frequent]
    found = _mine(bits, item_counts[frequent], n_baskets, min_count, max_len)
    count_array = np.fromiter((c for _, c in found), dtype=np.int64, count=len(found))
    support = count_array / float(n_baskets)
    keep = support >= min_support
    itemsets = [
        frozenset(labels[frequent_items[i]] for i in combo)
        for (combo, _), kept in zip(found, keep, strict=True)
        if kept
    ]
    result = pd.DataFrame(
        {"support": support[keep], "itemsets": itemsets, "count": count_array[keep]}
    )
    sizes = np.fromiter((len(s) for s in itemsets), dtype=np.int64, count=len(itemsets))
    order = np.lexsort((-result["support"].to_numpy(), sizes))
    result = result.iloc[order].reset_index(drop=True)
    result.attrs["n_baskets"] = n_baskets
    return result


def association_rules(
    itemsets: pd.DataFrame,
    n_baskets: int | None = None,
    *,
    metric: str = "confidence",
    min_threshold: float = 0.0,
    min_lift: float | None = None,
) -> pd.DataFrame:
    """Rules A -> C from frequent itemsets (the output of `frequent_itemsets`).

    Every split of every frequent itemset into non-empty A and C is scored; rules whose
    `metric` (support, confidence, lift, leverage or conviction) is below `min_threshold`,
    or whose lift is below `min_lift`, are dropped. Values are computed with the same
    float operations as mlxtend's `association_rules(..., num_itemsets=n_baskets)`.
    """
    if metric not in RULE_COLUMNS[2:]:
        raise ValidationError("association rules", "metric", f"must be one of {RULE_COLUMNS[2:]}")
    n = n_baskets if n_baskets is not None else itemsets.attrs.get("n_baskets")
    if not n:
        raise ValidationError("association rules", "n_baskets", "is needed (baskets mined)")
    support_of = dict(zip(itemsets["itemsets"], itemsets["support"].astype(float), strict=True))
    antecedents: list[frozenset[Any]] = []
    consequents: list[frozenset[Any]] = []
    s_ac: list[float] = []
    s_a: list[float] = []
    s_c: list[float] = []
    for itemset, support in support_of.items():
        for size in range(len(itemset) - 1, 0, -1):
            for combo in combinations(itemset, size):
                antecedent = frozenset(combo)
                consequent = itemset - antecedent
                antecedents.append(antecedent)
                consequents.append(consequent)
                s_ac.append(support)
                s_a.append(support_of[antecedent])
                s_c.append(support_of[consequent])
    sac = np.asarray(s_ac, dtype=np.float64)
    sa = np.asarray(s_a, dtype=np.float64)
    sc = np.asarray(s_c, dtype=np.float64)
    # Written as mlxtend writes them (support x N over support x N), for equal floats.
    confidence = (sac * n) / (sa * n)
    lift = confidence / sc
    leverage = sac - sa * sc
    conviction = np.full(len(sac), np.inf)
    below_one = confidence < 1.0
    conviction[below_one] = (1.0 - sc[below_one]) / (1.0 - confidence[below_one])
    rules = pd.DataFrame(
        {
            "antecedents": pd.Series(antecedents, dtype=object),
            "consequents": pd.Series(consequents, dtype=object),
            "antecedent support": sa,
            "consequent support": sc,
            "support": sac,
            "confidence": confidence,
            "lift": lift,
            "leverage": leverage,
            "conviction": conviction,
        },
        columns=RULE_COLUMNS,
    )
    keep = rules[metric].to_numpy() >= min_threshold
    if min_lift is not None:
        keep &= rules["lift"].to_numpy() >= min_lift
    return rules[keep].reset_index(drop=True)


def rules_to_records(rules: pd.DataFrame, *, sort_key: str = "lift") -> list[dict[str, Any]]:
    """Rules as JSON-ready dicts (items sorted, infinite conviction as None), best first."""
    ordered = rules.sort_values([sort_key, "support"], ascending=False)
    columns = [ordered[c].tolist() for c in RULE_COLUMNS]
    return [_rule_record(values) for values in zip(*columns, strict=True)]


def _rule_record(values: Sequence[Any]) -> dict[str, Any]:
    record = dict(zip(RULE_COLUMNS, values, strict=True))
    conviction = float(record["conviction"])
    return {
        "antecedents": sorted(str(i) for i in record["antecedents"]),
        "consequents": sorted(str(i) for i in record["consequents"]),
        "antecedent_support": float(record["antecedent support"]),
        "consequent_support": float(record["consequent support"]),
        "support": float(record["support"]),
        "confidence": float(record["confidence"]),
        "lift": float(record["lift"]),
        "leverage": float(record["leverage"]),
        "conviction": conviction if math.isfinite(conviction) else None,
    }


def itemsets_to_records(itemsets: pd.DataFrame) -> list[dict[str, Any]]:
    """Frequent itemsets as JSON-ready dicts (items sorted)."""
    return [
        {"items": sorted(str(i) for i in items), "support": float(support), "count": int(count)}
        for support, items, count in zip(
            itemsets["support"], itemsets["itemsets"], itemsets["count"], strict=True
        )
    ]
