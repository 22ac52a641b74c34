"""Lifecycle states, monthly flows and cohort retention as engine-free Ibis expressions.

The same definition runs on DuckDB, PostgreSQL and Spark; it mirrors the pure state
machine `memberops.lifecycle.rules.member_states` (the tests hold the two to the same
answers). The input is the pipeline's `orders` table (counted orders of active members);
a visit day is the business date of a visit (`memberops.pipeline.features.visits`).
Months are keys year * 100 + month.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import ibis  # type: ignore[import-untyped]  # ibis 12 ships no type information
import ibis.expr.types as ir  # type: ignore[import-untyped]
import pyarrow as pa
from ibis import _

from memberops.lifecycle.rules import LifecycleConfig, month_index
from memberops.pipeline import features as feat

__all__ = ["cohort_retention", "lifecycle_states", "monthly_flows", "points_table", "visit_days"]

NONE = "none"
_NO_MONTH = 999_999 * 100 + 12  # after every month key: an open-ended run


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
    """The evaluation points (`rules.evaluation_points`) as a table: point_month_key,
    point_date and point_prev_date (the end of the month before, where the member stood
    one point earlier)."""
    return ibis.memtable(
        pa.table(
            {
                "point_month_key": pa.array([p.year * 100 + p.month for p in points], pa.int64()),
                "point_date": pa.array(points, pa.date32()),
                "point_prev_date": pa.array(
                    [p.replace(day=1) - timedelta(days=1) for p in points], pa.date32()
                ),
            }
        )
    )


def lifecycle_states(
    days: ir.Table,
    points: ir.Table,
    config: LifecycleConfig = LifecycleConfig(),  # noqa: B008 - frozen, so shared safely
) -> ir.Table:
    """The state of every member at every point from their first visit's month on, and
    the state at the point before ('none' in the member's first month).

    `days` is `visit_days(...)`, `points` is `points_table(...)`. Columns: member_id,
    month_key, state, from_state.
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
        first_in_month=_.business_date.min(),
        last_day=_.business_date.max(),
        return_day=_.return_day.max(),
    )
    # Running values over the member's active months only (far fewer rows than member x
    # month), then each active month stands for every point from it to the member's next
    # active month: the last visit seen at those points is that month's last visit.
    upto = ibis.window(group_by="member_id", order_by="month_key", preceding=None, following=0)
    after = ibis.window(group_by="member_id", order_by="month_key")
    runs = monthly.mutate(
        first_day=monthly.first_in_month.min().over(upto),
        last_return=monthly.return_day.max().over(upto),
        next_month=monthly.month_key.lead().over(after).fill_null(_NO_MONTH),
    )
    # The previous run's values give the state one point before a run's first month.
    runs = runs.mutate(
        prev_last_day=runs.last_day.lag().over(after),
        prev_last_return=runs.last_return.lag().over(after),
    )
    grid = runs.join(
        points,
        [points.point_month_key >= runs.month_key, points.point_month_key < runs.next_month],
    )
    starts_run = grid.point_month_key == grid.month_key
    state = _state(grid.point_date, grid.first_day, grid.last_day, grid.last_return, config)
    before = _state(
        grid.point_prev_date,
        grid.first_day,
        ibis.ifelse(starts_run, grid.prev_last_day, grid.last_day),
        ibis.ifelse(starts_run, grid.prev_last_return, grid.last_return),
        config,
    )
    first_month = starts_run & grid.prev_last_day.isnull()
    return grid.select(
        "member_id",
        month_key=grid.point_month_key,
        state=state.cast("string"),
        from_state=ibis.ifelse(first_month, ibis.literal(NONE), before).cast("string"),
    )


def _state(
    point: ir.DateValue,
    first_day: ir.DateValue,
    last_seen: ir.DateValue,
    last_return: ir.DateValue,
    config: LifecycleConfig,
) -> ir.StringValue:
    """`rules.classify` as an expression: the state at `point` from the first visit, the
    last visit and the last return after a lapse (null when none) on or before it."""
    since_first = point.delta(first_day, unit="day")
    since_last = point.delta(last_seen, unit="day")
    since_return = point.delta(last_return, unit="day")
    return ibis.cases(
        (since_first <= config.new_days, "new"),
        (last_return.notnull() & (since_return <= config.active_days), "reactivated"),
        (since_last <= config.active_days, "active"),
        (since_last <= config.lapsed_days, "at risk"),
        else_="lapsed",
    )


def monthly_flows(states: ir.Table) -> ir.Table:
    """Members moving from one state to another between consecutive months.

    `states` is `lifecycle_states(...)` (each row carries the member's state one point
    earlier); a member's first month comes from 'none'. Columns: month_key, from_state,
    to_state, members.
    """
    return states.group_by(["month_key", "from_state", states.state.name("to_state")]).aggregate(
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
    ).aggregate(members=_.count().cast("int64"))  # (member, month) rows are distinct
    sizes = firsts.group_by("cohort_key").aggregate(cohort_size=_.count().cast("int64"))
    return counted.join(sizes, "cohort_key").select("cohort_key", "k", "members", "cohort_size")
