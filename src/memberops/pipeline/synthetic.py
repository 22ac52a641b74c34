"""Synthetic chain data straight to Arrow: for the parity suite and the benchmark.

Deterministic for a seed. Members visit at a personal rate with a favourite store and a
taste (a skewed item distribution); some orders carry modifiers, some have no party size,
stores sit in two time zones, and late-night orders cross midnight.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from memberops.pipeline.engines import INPUT_SCHEMAS, FeatureInputs

__all__ = ["synthetic_inputs"]


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    """Zero-padded string ids built in Arrow (fast for tens of millions of rows)."""
    text = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), 10, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), text, "")


MODIFIERS = ("no coriander", "extra ice", "less spicy", "no onions", "high chair", "No Coriander ")
MEALS = ("lunch", "dinner", "late_night")


def synthetic_inputs(
    *,
    members: int,
    orders: int,
    stores: int = 20,
    items: int = 120,
    seed: int = 7,
    start: datetime = datetime(2024, 1, 1),
    days: int = 730,
) -> FeatureInputs:
    """About `orders` orders (with ~3 lines each) of `members` members, as Arrow."""
    rng = np.random.default_rng(seed)
    store_ids = np.array([f"s{n:04d}" for n in range(stores)], dtype=object)
    # Heavy users exist: order counts per member are skewed (a gamma-Poisson draw).
    weight = rng.gamma(0.8, 1.0, members)
    owner = rng.choice(members, size=orders, p=weight / weight.sum())
    home = rng.integers(0, stores, members)
    away = rng.random(orders) < 0.15
    store = np.where(away, rng.integers(0, stores, orders), home[owner])
    offset = np.where(store % 5 == 0, -300, 480).astype(np.int64)
    meal = rng.choice(3, size=orders, p=[0.35, 0.55, 0.10])
    local_hour = np.select(
        [meal == 0, meal == 1],
        [11 + rng.integers(0, 3, orders), 17 + rng.integers(0, 4, orders)],
        22 + rng.integers(0, 4, orders),
    )
    day = rng.integers(0, days, orders)
    minute = rng.integers(0, 60, orders)
    local_minutes = day * 1440 + local_hour * 60 + minute
    utc_minutes = local_minutes - offset
    epoch = np.datetime64(start, "m")
    ordered_at = (epoch + utc_minutes.astype("timedelta64[m]")).astype("datetime64[us]")
    party = rng.integers(1, 9, orders).astype(float)
    party[rng.random(orders) < 0.1] = np.nan
    n_lines = rng.integers(1, 6, orders)
    line_order = np.repeat(np.arange(orders), n_lines)
    starts = np.cumsum(n_lines) - n_lines
    line_no = np.arange(line_order.size) - np.repeat(starts, n_lines) + 1
    taste = rng.integers(0, items, members)
    pick = np.where(
        rng.random(line_order.size) < 0.5,
        (taste[owner[line_order]] + rng.integers(0, 3, line_order.size)) % items,
        rng.zipf(1.6, line_order.size) % items,
    )
    quantity = rng.integers(1, 4, line_order.size)
    price = 500 + (pick * 37) % 6000
    line_total = quantity * price
    net = np.bincount(line_order, weights=line_total, minlength=orders).astype(np.int64)
    refunded = rng.random(orders) < 0.03
    net = np.where(refunded, net - np.minimum(net, 1000), net)
    has_mod = rng.random(line_order.size) < 0.08
    mod_lines = np.nonzero(has_mod)[0]
    mod_pick = (owner[line_order[mod_lines]] + rng.integers(0, 2, mod_lines.size)) % len(MODIFIERS)
    needs_members = rng.choice(members, size=max(members // 50, 1), replace=False)
    given_home = [
        store_ids[h] if keep else None
        for h, keep in zip(home, rng.random(members) < 0.5, strict=True)
    ]
    return FeatureInputs(
        orders=pa.table(
            {
                "order_id": _ids("o", np.arange(orders)),
                "member_id": _ids("m", owner),
                "store_id": store_ids[store],
                "ordered_at": pa.array(ordered_at, pa.timestamp("us")),
                "utc_offset_minutes": offset,
                "meal_type": np.array(MEALS, dtype=object)[meal],
                "party_size": pa.array(party, pa.float64(), from_pandas=True).cast(pa.int64()),
                "net_cents": net,
            },
            schema=INPUT_SCHEMAS["orders"],
        ),
        lines=pa.table(
            {
                "order_id": _ids("o", line_order),
                "line_no": line_no.astype(np.int64),
                "item_id": _ids("i", pick),
                "quantity": quantity.astype(np.int64),
                "line_total_cents": line_total.astype(np.int64),
            },
            schema=INPUT_SCHEMAS["lines"],
        ),
        modifiers=pa.table(
            {
                "order_id": _ids("o", line_order[mod_lines]),
                "line_no": line_no[mod_lines].astype(np.int64),
                "modifier": np.array(MODIFIERS, dtype=object)[mod_pick],
            },
            schema=INPUT_SCHEMAS["modifiers"],
        ),
        needs=pa.table(
            {
                "member_id": _ids("m", needs_members),
                "need": np.array(MODIFIERS, dtype=object)[needs_members % len(MODIFIERS)],
                "recorded_at": pa.array(
                    [start + timedelta(days=int(d)) for d in needs_members % days],
                    pa.timestamp("us"),
                ),
            },
            schema=INPUT_SCHEMAS["needs"],
        ),
        members=pa.table(
            {"member_id": _ids("m", np.arange(members)), "home_store_id": given_home},
            schema=INPUT_SCHEMAS["members"],
        ),
    )
