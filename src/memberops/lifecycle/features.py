"""Lifecycle states, monthly flows and cohort retention as engine-free Ibis expressions.

The same definition runs on DuckDB, PostgreSQL and Spark; it mirrors the pure state
machine `memberops.lifecycle.rules.member_states` (the tests hold the two to the same
answers). The input is the pipeline's `orders` table (counted orders of active members);
a visit day is the business date of a visit (`memberops.pipeline.features.visits`).
Months are keys year * 100 + month.
"""

from __future__ import annotations

from datetime import date, datetime

import ibis  # type: ignore[import-untyped]  # ibis 12 ships no type information
import ibis.expr.types as ir  # type: ignore[import-untyped]
import pyarrow as pa
from ibis import _

from memberops.lifecycle.rules import LifecycleConfig, month_index
from memberops.pipeline import features as feat

__all__ = ["cohort_retention", "lifecycle_states", "monthly_flows", "points_table", "visit_days"]

NONE = "none"


def visit_days(orders: ir.Table, as_of: datetime) -> ir.Table:
    """Distinct (member_id, business_date) with a counted visit before `as_of` (naive UTC),
    on or before its UTC date, plus month_key."""
    now = ibis.timestamp(as_of.replace(tzinfo=None))
    v = feat.visits(feat.local_orders(orders.filter(orders.ordered_at < now)))
    days = v.filter(v.business_date <= ibis.date(as_of.date())).select("member_id", "business_date")
    days = days.distinct()
    return days.mutate(
        month_key=(days.business_date.year() * 100 + days.business_date.month()).cast("int64")
    )


def points_table(points: list[date]) -> ir.Table:
    """The evaluation points (`rules.evaluation_points`) as a table: month_key, point_date."""
    return ibis.memtable(
        pa.table(
            {
                "point_month_key": pa.array([p.year * 100 + p.month for p in points], pa.int64()),
                "point_date": pa.array(points, pa.date32()),
            }
        )
    )


def lifecycle_states(
    days: ir.Table,
    points: ir.Table,
    config: LifecycleConfig = LifecycleConfig(),  # noqa: B008 - frozen, so shared safely
) -> ir.Table:
    """The state of every member at every point from their first visit's month on.

    `days` is `visit_days(...)`, `points` is `points_table(...)`. Columns: member_id,
    month_key, state.
    """
    order = ibis.window(group_by="member_id", order_by="business_date")
    prev = days.business_date.lag().over(order)
    days = days.mutate(
        return_day=ibis.ifelse(
            days.business_date.delta(prev, unit="day") > config.lapsed_days,
            days.business_date,
            ibis.null("date"),
        )
    )
    monthly = days.group_by(["member_id", "month_key"]).aggregate(
        last_day=_.business_date.max(),
        return_day=_.return_day.max(),
    )
    firsts = days.group_by("member_id").aggregate(
        first_day=_.business_date.min(), first_month=_.month_key.min()
    )
    grid = firsts.cross_join(points).filter(_.point_month_key >= _.first_month)
    joined = grid.left_join(
        monthly,
        [grid.member_id == monthly.member_id, grid.point_month_key == monthly.month_key],
    ).select(
        member_id=grid.member_id,
        month_key=grid.point_month_key,
        point_date=grid.point_date,
        first_day=grid.first_day,
        last_day=monthly.last_day,
        return_day=monthly.return_day,
    )
    upto = ibis.window(group_by="member_id", order_by="month_key", preceding=None, following=0)
    cum = joined.mutate(
        last_seen=joined.last_day.max().over(upto),
        last_return=joined.return_day.max().over(upto),
    )
    since_first = cum.point_date.delta(cum.first_day, unit="day")
    since_last = cum.point_date.delta(cum.last_seen, unit="day")
    since_return = cum.point_date.delta(cum.last_return, unit="day")
    state = ibis.cases(
        (since_first <= config.new_days, "new"),
        (cum.last_return.notnull() & (since_return <= config.active_days), "reactivated"),
        (since_last <= config.active_days, "active"),
        (since_last <= config.lapsed_days, "at risk"),
        else_="lapsed",
    )
    return cum.select("member_id", "month_key", state=state.cast("string"))


def monthly_flows(states: ir.Table) -> ir.Table:
    """Members moving from one state to another between consecutive months.

    A member's first month comes from 'none'. Columns: month_key, from_state, to_state,
    members.
    """
    w = ibis.window(group_by="member_id", order_by="month_key")
    moved = states.mutate(from_state=states.state.lag().over(w).fill_null(NONE))
    return moved.group_by(["month_key", "from_state", moved.state.name("to_state")]).aggregate(
        members=_.count().cast("int64")
    )


def _index(key: ir.IntegerValue) -> ir.IntegerValue:
    return ((key // 100) * 12 + key % 100 - 1).cast("int64")


def cohort_retention(days: ir.Table) -> ir.Table:
    """Members of each first-visit month who visited k months later (k = 0 is the cohort).

    Columns: cohort_key, k, members, cohort_size.
    """
    assert month_index(0, 1) == 0  # `_index` is the same arithmetic
    months = days.select("member_id", "month_key").distinct()
    firsts = months.group_by("member_id").aggregate(cohort_key=_.month_key.min())
    joined = months.join(firsts, "member_id")
    counted = joined.group_by(
        ["cohort_key", (_index(joined.month_key) - _index(joined.cohort_key)).name("k")]
    ).aggregate(members=_.member_id.nunique().cast("int64"))
    sizes = firsts.group_by("cohort_key").aggregate(cohort_size=_.count().cast("int64"))
    return counted.join(sizes, "cohort_key").select("cohort_key", "k", "members", "cohort_size")
