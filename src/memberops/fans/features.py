"""Fan activity and communication power as engine-free Ibis expressions.

Functions here take Ibis tables and return Ibis tables; none takes a connection, so the
same definition runs on DuckDB, PostgreSQL and Spark (the engine is chosen by the
service, as in `memberops.pipeline.engines`). Visits are the pipeline's visits (member,
store, business date, meal), so "a visit" means the same thing in every report.

Input tables:

- ``orders``: the pipeline's orders input (counted orders before "as of", naive UTC);
- ``events``: event_id, type, member_id, occurred_at (naive UTC), referred_identifier_id;
- ``holders``: identifier_id, member_id: who holds each identifier now.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import ibis  # type: ignore[import-untyped]  # ibis 12 ships no type information
import ibis.expr.types as ir  # type: ignore[import-untyped]
import pyarrow as pa
from ibis import _

from memberops.pipeline import features as pipeline_features

__all__ = ["EVENTS_SCHEMA", "HOLDERS_SCHEMA", "fan_activity", "member_engagement", "referrals"]

_TS = pa.timestamp("us")
EVENTS_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("type", pa.string()),
        ("member_id", pa.string()),
        ("occurred_at", _TS),
        ("referred_identifier_id", pa.string()),
    ]
)
HOLDERS_SCHEMA = pa.schema([("identifier_id", pa.string()), ("member_id", pa.string())])


def _month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def fan_activity(
    orders: ir.Table, *, as_of: datetime, window_days: int, repurchase_months: int
) -> ir.Table:
    """Activity and repurchase rate per member with a counted visit before `as_of`.

    visits_window: visits that started in [as_of - window_days, as_of). repurchase_rate:
    distinct calendar months (of the visit's local business date) with a visit among the
    last `repurchase_months` months up to the month of the last instant before `as_of`,
    divided by the months in
    that span since the member's first visit (at least 1, at most 1.0). `as_of` is naive
    UTC. Columns: member_id, visits, visits_window, active_months, months_observed,
    repurchase_rate, last_visit_at.
    """
    # The last month is the one holding the last instant before "as of": a run on
    # 1 June looks at January to May, not at a June that has not started.
    last = as_of - timedelta(microseconds=1)
    now_idx = _month_index(last.year, last.month)
    first_idx = now_idx - repurchase_months + 1
    window_start = ibis.timestamp(as_of - timedelta(days=window_days))
    v = pipeline_features.visits(pipeline_features.local_orders(orders))
    v = v.mutate(month_idx=((_.month_key // 100) * 12 + _.month_key % 100 - 1).cast("int64"))
    per = v.group_by("member_id").aggregate(
        visits=_.count().cast("int64"),
        visits_window=ibis.ifelse(_.started_at >= window_start, 1, 0).sum().cast("int64"),
        first_month=_.month_idx.min(),
        active_months=ibis.ifelse(_.month_idx >= first_idx, _.month_idx, ibis.null("int64"))
        .nunique()
        .cast("int64"),
        last_visit_at=_.ended_at.max(),
    )
    observed = ibis.greatest(
        ibis.literal(now_idx, "int64") - ibis.greatest(per.first_month, first_idx) + 1, 1
    ).cast("int64")
    return per.select(
        "member_id",
        "visits",
        "visits_window",
        "active_months",
        months_observed=observed,
        repurchase_rate=ibis.least(per.active_months.cast("float64") / observed, 1.0),
        last_visit_at="last_visit_at",
    )


def member_engagement(events: ir.Table) -> ir.Table:
    """Shares, referrals and reviews each member made. Columns: member_id, shares,
    referrals, reviews."""
    mine = events.filter(events.member_id.notnull())
    return mine.group_by("member_id").aggregate(
        shares=ibis.ifelse(_.type == "share", 1, 0).sum().cast("int64"),
        referrals=ibis.ifelse(_.type == "referral", 1, 0).sum().cast("int64"),
        reviews=ibis.ifelse(_.type == "review", 1, 0).sum().cast("int64"),
    )


def referrals(events: ir.Table, holders: ir.Table, orders: ir.Table) -> ir.Table:
    """The members each member brought and the revenue they brought.

    A referral names an identifier (the friend's phone); it brings a member when that
    identifier is now held by a member other than the referrer who has a counted order at
    or after the referral. A member referred by several people is credited to the first
    referral (first touch; ties to the lower event id). The revenue brought is the
    referred member's net counted spend from that referral on. Columns: member_id (the
    referrer), referred_members, referred_revenue_cents.
    """
    refs = events.filter(
        (events.type == "referral")
        & events.member_id.notnull()
        & events.referred_identifier_id.notnull()
    )
    held = holders.select(held_identifier="identifier_id", referred_member_id="member_id")
    linked = refs.join(held, refs.referred_identifier_id == held.held_identifier).select(
        referrer=refs.member_id,
        referred_member_id=held.referred_member_id,
        referred_at=refs.occurred_at,
        event_id=refs.event_id,
    )
    linked = linked.filter(linked.referrer != linked.referred_member_id)
    first_touch = ibis.window(group_by="referred_member_id", order_by=["referred_at", "event_id"])
    first = linked.mutate(rn=ibis.row_number().over(first_touch)).filter(_.rn == 0)
    spend = orders.select(o_member="member_id", o_at="ordered_at", o_net="net_cents")
    after = first.join(
        spend,
        [first.referred_member_id == spend.o_member, spend.o_at >= first.referred_at],
    )
    per_referred = after.group_by(["referrer", "referred_member_id"]).aggregate(
        revenue=_.o_net.sum().cast("int64")
    )
    return per_referred.group_by(per_referred.referrer.name("member_id")).aggregate(
        referred_members=_.count().cast("int64"),
        referred_revenue_cents=_.revenue.sum().cast("int64"),
    )
