"""RFM as engine-free Ibis expressions (DuckDB, PostgreSQL, Spark run the same definition).

The input is the pipeline's `orders` table (counted orders of active members, see
`memberops.pipeline.features`); visits are the pipeline's visits (member, store, business
date, meal). Scores follow `memberops.rfm.rules`: integer arithmetic only, so every engine
returns the same numbers.
"""

from __future__ import annotations

from datetime import datetime

import ibis  # type: ignore[import-untyped]  # ibis 12 ships no type information
import ibis.expr.types as ir  # type: ignore[import-untyped]
import pyarrow as pa
from ibis import _

from memberops.pipeline import features as feat
from memberops.rfm.rules import DEFAULT_BINS, segment_table

__all__ = ["CHAIN", "rfm_measures", "rfm_scores"]

CHAIN = "chain"
_SECONDS_PER_DAY = 86400


def rfm_measures(orders: ir.Table, as_of: datetime, *, by_store: bool = False) -> ir.Table:
    """Recency, frequency and monetary value per member in each scope.

    Orders at or after `as_of` (naive UTC) are left out. Columns: scope ('chain', or the
    store id with `by_store`), member_id, recency_days (whole days from the end of the
    last visit to `as_of`), visits, spend_cents (net of refunds).
    """
    now = ibis.timestamp(as_of.replace(tzinfo=None))
    before = orders.filter(orders.ordered_at < now)
    v = feat.visits(feat.local_orders(before))
    keys = ["member_id", "store_id"] if by_store else ["member_id"]
    per = v.group_by(keys).aggregate(
        visits=_.count().cast("int64"),
        spend_cents=_.net_cents.sum().cast("int64"),
        last_at=_.ended_at.max(),
    )
    recency = ((now.epoch_seconds() - per.last_at.epoch_seconds()) // _SECONDS_PER_DAY).cast(
        "int64"
    )
    scope = per.store_id if by_store else ibis.literal(CHAIN, "string")
    return per.select(
        scope=scope.cast("string"),
        member_id=per.member_id,
        recency_days=recency,
        visits=per.visits,
        spend_cents=per.spend_cents,
    )


def _cells(bins: int) -> ir.Table:
    table = segment_table(bins)
    keys = sorted(table)
    return ibis.memtable(
        pa.table(
            {
                "cell_r": pa.array([k[0] for k in keys], pa.int64()),
                "cell_f": pa.array([k[1] for k in keys], pa.int64()),
                "cell_m": pa.array([k[2] for k in keys], pa.int64()),
                "segment": pa.array([table[k] for k in keys], pa.string()),
            }
        )
    )


def rfm_scores(
    orders: ir.Table,
    as_of: datetime,
    *,
    bins: int = DEFAULT_BINS,
    by_store: bool = False,
    cells: ir.Table | None = None,
) -> ir.Table:
    """R, F, M scores (1..bins), their sum and the named segment per member and scope.

    score = 1 + floor(bins * below / n), `below` = members of the scope strictly worse
    (longer since the last visit; fewer visits; less spend), `n` = members of the scope:
    equal values share a score. `cells` is the (r, f, m) -> segment table bound to the
    engine (built from `rules.segment_table` when not given). Columns: scope, member_id,
    r, f, m, score, segment, recency_days, visits, spend_cents.
    """
    base = rfm_measures(orders, as_of, by_store=by_store)
    n = base.member_id.count().over(ibis.window(group_by="scope")).cast("int64")

    def score(order_by: object) -> ir.IntegerValue:
        below = ibis.rank().over(ibis.window(group_by="scope", order_by=order_by)).cast("int64")
        return (1 + (below * bins) // n).cast("int64")

    scored = base.mutate(
        r=score(ibis.desc("recency_days")),
        f=score("visits"),
        m=score("spend_cents"),
    )
    table = cells if cells is not None else _cells(bins)
    joined = scored.join(
        table,
        [scored.r == table.cell_r, scored.f == table.cell_f, scored.m == table.cell_m],
    )
    return joined.select(
        "scope",
        "member_id",
        "r",
        "f",
        "m",
        score=(joined.r + joined.f + joined.m).cast("int64"),
        segment=joined.segment,
        recency_days=joined.recency_days,
        visits=joined.visits,
        spend_cents=joined.spend_cents,
    )
