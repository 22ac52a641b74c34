"""Member 360 features as engine-free Ibis expressions.

Every function here takes Ibis tables and returns an Ibis table; none takes a connection,
so one definition runs on DuckDB, PostgreSQL and Spark (the engine is chosen at the edge,
in `memberops.pipeline.engines`). docs/pipeline.md defines every feature in words.

Input tables (built by `memberops.pipeline.extract` from the counted-orders queries):

- ``orders``: order_id, member_id, store_id, ordered_at (UTC, naive), utc_offset_minutes,
  meal_type, party_size (nullable), net_cents
- ``lines``: order_id, line_no, item_id, quantity, line_total_cents
- ``modifiers``: order_id, line_no, modifier (one row per modifier of a line)
- ``needs``: member_id, need, recorded_at: staff-recorded service needs that passed the guard
- ``members``: member_id, home_store_id (nullable: the given home store)

Shared intermediates: `local_orders` (orders with their local time keys), `visits` (one
row per visit, from the local orders), `member_lines` (order lines with their order's
member and local keys) and `dish_quarters` (the member lines summed per quarter and
dish). Features take these rather than the raw orders, so a run computes
each intermediate once (`memberops.pipeline.engines.member_feature_exprs` materialises
them on the engine) instead of once per feature; given plain expressions instead, every
feature is still one self-contained query.

Features are split by what they depend on, so an incremental refresh can recompute the
member-local ones for the affected members only:

- member-local, clock-free: `member_summary`, `member_store_visits`, `member_meal_mix`,
  `member_usual_hours`, `top_dishes`, `top_service_needs`, `quarterly_activity`,
  `quarterly_dishes`, `last_visit_lines`, `home_stores`;
- chain-wide or clock-driven, computed from the narrow per-member table
  (`member_metrics`): `clock_features`, `spend_ranks`, `store_profiles`.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import ibis  # type: ignore[import-untyped]  # ibis 12 ships no type information
import ibis.expr.types as ir  # type: ignore[import-untyped]
from ibis import _

__all__ = [
    "BUSINESS_DAY_START_HOUR",
    "DAYS_PER_MONTH",
    "DECAY_EPOCH",
    "DISH_HALF_LIFE_DAYS",
    "PREMIUM_PERCENTILE",
    "TOP_K",
    "VALUE_PERCENTILE",
    "clock_features",
    "dish_quarters",
    "home_stores",
    "last_visit_lines",
    "local_orders",
    "member_lines",
    "member_meal_mix",
    "member_metrics",
    "member_store_visits",
    "member_summary",
    "member_usual_hours",
    "quarterly_activity",
    "quarterly_dishes",
    "spend_ranks",
    "store_profiles",
    "top_dishes",
    "top_service_needs",
    "visits",
]

# A business day starts at 04:00 local time, so a late-night hot pot at 00:30 belongs to
# the evening it started in (a table does not become a second visit at midnight).
BUSINESS_DAY_START_HOUR = 4
# Dish recency decay: an order line's weight halves every DISH_HALF_LIFE_DAYS. Weights are
# referenced to a fixed epoch (2^(days since epoch / half-life)), so the ranking never
# changes with the clock alone: decaying every weight by the same factor keeps the order.
DISH_HALF_LIFE_DAYS = 365
DECAY_EPOCH = date(2020, 1, 1)
TOP_K = 5
# Average Gregorian month, for "visits per month" over a tenure measured in days.
DAYS_PER_MONTH = 30.436875
# A member is premium when their spend per person is at or above this percent rank
# chain-wide, value at or below VALUE_PERCENTILE.
PREMIUM_PERCENTILE = 0.75
VALUE_PERCENTILE = 0.25


def local_orders(orders: ir.Table) -> ir.Table:
    """Orders with their local time, business date, local hour, month and quarter keys."""
    local_at = orders.ordered_at + orders.utc_offset_minutes.as_interval("m")
    business = local_at - ibis.interval(hours=BUSINESS_DAY_START_HOUR)
    return orders.mutate(
        local_at=local_at,
        business_date=business.date(),
        local_hour=local_at.hour().cast("int64"),
        month_key=(business.year() * 100 + business.month()).cast("int64"),
        quarter_key=(business.year() * 10 + business.quarter()).cast("int64"),
    )


def visits(local: ir.Table) -> ir.Table:
    """One row per visit, from `local_orders`: a member's table at one store in one meal.

    A visit is (member, store, business date, meal type): two orders at the same table
    and meal (a main order and an add-on) are one visit; lunch and dinner on the same day
    are two. Columns: member_id, store_id, business_date, meal_type, started_at (UTC),
    ended_at, local_hour (of the first order), month_key, quarter_key, orders, party_size
    (largest on the visit, 1 when unknown), net_cents.
    """
    keys = ["member_id", "store_id", "business_date", "meal_type"]
    return local.group_by(keys).aggregate(
        started_at=_.ordered_at.min(),
        ended_at=_.ordered_at.max(),
        local_hour=_.local_hour.argmin(_.ordered_at),
        month_key=_.month_key.min(),
        quarter_key=_.quarter_key.min(),
        orders=_.order_id.count(),
        party_size=_.party_size.fill_null(1).max().cast("int64"),
        net_cents=_.net_cents.sum().cast("int64"),
    )


def member_lines(local: ir.Table, lines: ir.Table) -> ir.Table:
    """Order lines with their order's member, store, meal, times and local keys.

    The one join of lines to orders that the dish features share. Columns: order_id,
    line_no, item_id, quantity, member_id, store_id, meal_type, ordered_at,
    business_date, quarter_key.
    """
    keys = local.select(
        "order_id",
        "member_id",
        "store_id",
        "meal_type",
        "ordered_at",
        "business_date",
        "quarter_key",
    )
    return lines.select("order_id", "line_no", "item_id", "quantity").join(keys, "order_id")


def member_summary(v: ir.Table) -> ir.Table:
    """Clock-free transaction totals per member, from `visits`.

    Columns: member_id, orders, visits, spend_cents (net of refunds), first_visit_at,
    last_visit_at, active_months, stores_visited, persons (sum of party sizes over
    visits), avg_ticket_cents (spend / orders, floored), spend_per_person_cents (spend /
    persons, floored), visits_per_active_month.
    """
    per_member = v.group_by("member_id").aggregate(
        orders=_.orders.sum().cast("int64"),
        visits=_.count().cast("int64"),
        spend_cents=_.net_cents.sum().cast("int64"),
        first_visit_at=_.started_at.min(),
        last_visit_at=_.ended_at.max(),
        active_months=_.month_key.nunique().cast("int64"),
        stores_visited=_.store_id.nunique().cast("int64"),
        persons=_.party_size.sum().cast("int64"),
    )
    return per_member.mutate(
        avg_ticket_cents=(_.spend_cents // _.orders).cast("int64"),
        spend_per_person_cents=(_.spend_cents // _.persons).cast("int64"),
        visits_per_active_month=(_.visits.cast("float64") / _.active_months),
    )


def member_store_visits(v: ir.Table) -> ir.Table:
    """Visits per member and store from `visits`, ranked (1 = most visited).

    Ties go to the store visited most recently, then the lowest store id. Columns:
    member_id, store_id, visits, spend_cents, last_visit_at, rank.
    """
    per_store = v.group_by(["member_id", "store_id"]).aggregate(
        visits=_.count().cast("int64"),
        spend_cents=_.net_cents.sum().cast("int64"),
        last_visit_at=_.started_at.max(),
    )
    w = ibis.window(
        group_by="member_id",
        order_by=[ibis.desc("visits"), ibis.desc("last_visit_at"), "store_id"],
    )
    return per_store.mutate(rank=(ibis.row_number().over(w) + 1).cast("int64"))


def member_meal_mix(v: ir.Table) -> ir.Table:
    """Visits per member and meal type, from `visits`. Columns: member_id, meal_type, visits."""
    return v.group_by(["member_id", "meal_type"]).aggregate(visits=_.count().cast("int64"))


def member_usual_hours(v: ir.Table) -> ir.Table:
    """The usual meal-time range (from `visits`): the two consecutive local hours covering
    most visits.

    Each visit counts at the local hour of its first order. For every hour h the window
    [h, h+2) counts the visits starting at h or h+1 (23 wraps to 0); the window with most
    visits wins, ties to the earliest hour. Columns: member_id, hour_from, hour_to
    (exclusive, 0-24), visits_in_range, share (of the member's visits).
    """
    hours = v.group_by(["member_id", "local_hour"]).aggregate(n=_.count().cast("int64"))
    nxt = hours.select(
        member_id=hours.member_id.name("next_member_id"),
        prev_hour=((hours.local_hour + 23) % 24).cast("int64"),
        n_next=hours.n,
    )
    joined = hours.left_join(
        nxt, [hours.member_id == nxt.member_id, hours.local_hour == nxt.prev_hour]
    )
    windows = joined.select(
        member_id=hours.member_id,
        hour_from=hours.local_hour,
        visits_in_range=(hours.n + nxt.n_next.fill_null(0)).cast("int64"),
    )
    totals = v.group_by("member_id").aggregate(total=_.count().cast("int64"))
    w = ibis.window(group_by="member_id", order_by=[ibis.desc("visits_in_range"), "hour_from"])
    best = windows.mutate(rn=ibis.row_number().over(w)).filter(_.rn == 0)
    best = best.join(totals, "member_id")
    return best.select(
        "member_id",
        "hour_from",
        hour_to=(best.hour_from + 2).cast("int64"),
        visits_in_range="visits_in_range",
        share=best.visits_in_range.cast("float64") / best.total,
    )


def dish_quarters(mlines: ir.Table) -> ir.Table:
    """Per member, quarter and dish, from `member_lines`: what both dish features sum.

    weight is quantity * 2^((business date - 2020-01-01) / 365 days) summed over the
    lines (the recency decay of `top_dishes`); an order falls in one quarter, so summing
    `orders` over quarters counts each order once. Columns: member_id, quarter_key,
    item_id, quantity, orders, last_ordered_at, weight.
    """
    days = mlines.business_date.delta(ibis.date(DECAY_EPOCH), unit="day")
    weighted = mlines.mutate(
        weight=mlines.quantity.cast("float64")
        * (days.cast("float64") * (math.log(2) / DISH_HALF_LIFE_DAYS)).exp()
    )
    # Per order first, then per dish: counting the rows of the first step counts distinct
    # orders without a distinct-count (about twice as fast on DuckDB).
    per_order = weighted.group_by(["member_id", "quarter_key", "item_id", "order_id"]).aggregate(
        quantity=_.quantity.sum(),
        last_ordered_at=_.ordered_at.max(),
        weight=_.weight.sum(),
    )
    return per_order.group_by(["member_id", "quarter_key", "item_id"]).aggregate(
        quantity=_.quantity.sum().cast("int64"),
        orders=_.count().cast("int64"),
        last_ordered_at=_.last_ordered_at.max(),
        weight=_.weight.sum(),
    )


def top_dishes(dq: ir.Table, *, k: int = TOP_K) -> ir.Table:
    """Each member's top-k dishes by quantity with a recency decay, from `dish_quarters`.

    score = sum over the member's lines of quantity * 2^((business date - 2020-01-01) /
    365 days): a dish eaten a year ago weighs half of the same dish today. Ranked by
    score (rounded to 6 decimals so engines agree on ties), then total quantity, then
    the latest order, then item id. Columns: member_id, rank (1..k), item_id, quantity,
    orders, last_ordered_at, score.
    """
    per_item = dq.group_by(["member_id", "item_id"]).aggregate(
        quantity=_.quantity.sum().cast("int64"),
        orders=_.orders.sum().cast("int64"),
        last_ordered_at=_.last_ordered_at.max(),
        score=_.weight.sum().round(6),
    )
    w = ibis.window(
        group_by="member_id",
        order_by=[
            ibis.desc("score"),
            ibis.desc("quantity"),
            ibis.desc("last_ordered_at"),
            "item_id",
        ],
    )
    ranked = per_item.mutate(rank=(ibis.row_number().over(w) + 1).cast("int64"))
    return ranked.filter(_.rank <= k)


def top_service_needs(
    orders: ir.Table, modifiers: ir.Table, needs: ir.Table, *, k: int = TOP_K
) -> ir.Table:
    """Each member's top-k service requirements.

    Sources: order-line modifiers ("no onions", counted once per order) and staff-recorded
    needs that passed the label guard (each counted once). Texts are matched after
    trimming and lower-casing. Ranked by staff-recorded first (someone asked for it
    explicitly), then evidence (orders + records), then the latest time seen, then text.
    Columns: member_id, rank, need, orders, staff_records, last_seen_at.
    """
    member_orders = orders.select("order_id", "member_id", "ordered_at")
    mods = modifiers.join(member_orders, "order_id")
    mods = mods.select(
        "member_id",
        need=mods.modifier.strip().lower(),
        order_id=mods.order_id,
        seen_at=mods.ordered_at,
    )
    from_orders = mods.group_by(["member_id", "need"]).aggregate(
        orders=_.order_id.nunique().cast("int64"),
        staff_records=ibis.literal(0, "int64"),
        last_seen_at=_.seen_at.max(),
    )
    staff = needs.select("member_id", need=needs.need.strip().lower(), seen_at=needs.recorded_at)
    from_staff = staff.group_by(["member_id", "need"]).aggregate(
        orders=ibis.literal(0, "int64"),
        staff_records=_.count().cast("int64"),
        last_seen_at=_.seen_at.max(),
    )
    both = from_orders.union(from_staff)
    merged = both.group_by(["member_id", "need"]).aggregate(
        orders=_.orders.sum().cast("int64"),
        staff_records=_.staff_records.sum().cast("int64"),
        last_seen_at=_.last_seen_at.max(),
    )
    merged = merged.mutate(
        is_staff=ibis.ifelse(_.staff_records > 0, 1, 0).cast("int64"),
        evidence=(_.orders + _.staff_records).cast("int64"),
    )
    w = ibis.window(
        group_by="member_id",
        order_by=[ibis.desc("is_staff"), ibis.desc("evidence"), ibis.desc("last_seen_at"), "need"],
    )
    ranked = merged.mutate(rank=(ibis.row_number().over(w) + 1).cast("int64"))
    return ranked.filter(_.rank <= k).select(
        "member_id", "rank", "need", "orders", "staff_records", "last_seen_at"
    )


def quarterly_activity(v: ir.Table) -> ir.Table:
    """Visits and spend per member and quarter (quarter_key = year * 10 + quarter)."""
    return v.group_by(["member_id", "quarter_key"]).aggregate(
        visits=_.count().cast("int64"),
        spend_cents=_.net_cents.sum().cast("int64"),
    )


def quarterly_dishes(dq: ir.Table, *, k: int = TOP_K) -> ir.Table:
    """Each member's top-k dishes within each quarter (quantity, then item id): taste history.

    From `dish_quarters`. Columns: member_id, quarter_key, rank, item_id, quantity.
    """
    per = dq.select("member_id", "quarter_key", "item_id", "quantity")
    w = ibis.window(
        group_by=["member_id", "quarter_key"], order_by=[ibis.desc("quantity"), "item_id"]
    )
    ranked = per.mutate(rank=(ibis.row_number().over(w) + 1).cast("int64"))
    return ranked.filter(_.rank <= k)


def last_visit_lines(v: ir.Table, local: ir.Table, lines: ir.Table) -> ir.Table:
    """ "Same as last time": the lines of each member's latest visit.

    From `visits`, `local_orders` and the lines. The latest visit is the one that
    started last (ties: store id, then meal type). Lines of the same item are summed.
    Columns: member_id, store_id, started_at, meal_type, item_id, quantity,
    first_order_id (the lowest order id among its lines).
    """
    w = ibis.window(
        group_by="member_id",
        order_by=[ibis.desc("started_at"), "store_id", "meal_type"],
    )
    last = v.mutate(rn=ibis.row_number().over(w)).filter(_.rn == 0)
    last = last.select("member_id", "store_id", "business_date", "meal_type", "started_at")
    keyed = local.select(
        "order_id",
        o_member=_.member_id,
        o_store=_.store_id,
        o_date=_.business_date,
        o_meal=_.meal_type,
    )
    # The last visit's orders first (about one per member), then their lines: the join
    # with every line probes a small table.
    in_last = keyed.join(
        last,
        [
            keyed.o_member == last.member_id,
            keyed.o_store == last.store_id,
            keyed.o_date == last.business_date,
            keyed.o_meal == last.meal_type,
        ],
    ).select("order_id", "member_id", "store_id", "meal_type", "started_at")
    joined = lines.select("order_id", "item_id", "quantity").join(in_last, "order_id")
    return joined.group_by(
        ["member_id", "store_id", "started_at", "meal_type", "item_id"]
    ).aggregate(
        quantity=_.quantity.sum().cast("int64"),
        first_order_id=_.order_id.min(),
    )


def home_stores(store_visits: ir.Table, members: ir.Table) -> ir.Table:
    """The home store of each member with counted orders.

    The given home store wins; otherwise the most visited store of `member_store_visits`
    (ties: the store visited most recently, then the lowest store id). Columns:
    member_id, home_store_id, home_store_source ("given" or "visits").
    """
    top = store_visits.filter(_.rank == 1).select("member_id", top_store="store_id")
    given = members.select("member_id", given_store="home_store_id")
    joined = top.left_join(given, top.member_id == given.member_id).select(
        member_id=top.member_id, top_store=top.top_store, given_store=given.given_store
    )
    return joined.select(
        "member_id",
        home_store_id=joined.given_store.coalesce(joined.top_store),
        home_store_source=ibis.ifelse(joined.given_store.isnull(), "visits", "given"),
    )


def member_metrics(summary: ir.Table, homes: ir.Table) -> ir.Table:
    """The narrow per-member table chain-wide features are computed from.

    From `member_summary` and `home_stores`. Columns: member_id, home_store_id,
    home_store_source, spend_cents, orders, visits, first_visit_at, last_visit_at,
    spend_per_person_cents.
    """
    joined = summary.join(homes, "member_id")
    return joined.select(
        "member_id",
        "home_store_id",
        "home_store_source",
        "spend_cents",
        "orders",
        "visits",
        "first_visit_at",
        "last_visit_at",
        "spend_per_person_cents",
    )


def clock_features(metrics: ir.Table, as_of: datetime) -> ir.Table:
    """Features that change with the clock alone, from `member_metrics`.

    recency_days and tenure_days are whole days from the last / first visit to `as_of`
    (UTC, naive); visits_per_month divides visits by the tenure in months, at least one
    month. Columns: member_id, recency_days, tenure_days, visits_per_month.
    """
    now = ibis.timestamp(as_of.replace(tzinfo=None))
    recency = ((now.epoch_seconds() - metrics.last_visit_at.epoch_seconds()) // 86400).cast("int64")
    tenure = ((now.epoch_seconds() - metrics.first_visit_at.epoch_seconds()) // 86400).cast("int64")
    months = ibis.greatest(tenure.cast("float64") / DAYS_PER_MONTH, 1.0)
    return metrics.select(
        "member_id",
        recency_days=recency,
        tenure_days=tenure,
        visits_per_month=metrics.visits.cast("float64") / months,
    )


def spend_ranks(metrics: ir.Table) -> ir.Table:
    """Spend rank and percentile chain-wide and within the home store.

    rank = 1 + the number of members who spent more (ties share a rank); percentile =
    the share of the other members who spent less (0..1; 1 for a single member).
    Columns: member_id, spend_rank, spend_percentile, home_store_rank,
    home_store_percentile, home_store_members.
    """
    chain = ibis.window(order_by=ibis.desc("spend_cents"))
    chain_asc = ibis.window(order_by="spend_cents")
    store = ibis.window(group_by="home_store_id", order_by=ibis.desc("spend_cents"))
    store_asc = ibis.window(group_by="home_store_id", order_by="spend_cents")
    store_all = ibis.window(group_by="home_store_id")
    return metrics.select(
        "member_id",
        spend_rank=(ibis.rank().over(chain) + 1).cast("int64"),
        spend_percentile=ibis.percent_rank().over(chain_asc).cast("float64"),
        home_store_rank=(ibis.rank().over(store) + 1).cast("int64"),
        home_store_percentile=ibis.percent_rank().over(store_asc).cast("float64"),
        home_store_members=metrics.member_id.count().over(store_all).cast("int64"),
    )


def store_profiles(metrics: ir.Table, as_of: datetime) -> ir.Table:
    """Per store, over the members whose home store it is.

    Columns: store_id, members, visits, spend_cents, visits_per_member,
    visits_per_member_month (visits / members / months of their tenure), spend quartiles
    of members (spend_p25/p50/p75_cents, continuous interpolation), premium_members and
    value_members (spend per person at or above the chain-wide 75th percent rank, or at or
    below the 25th), premium_share, value_share.
    """
    tiers = metrics.mutate(
        pr=ibis.percent_rank().over(ibis.window(order_by="spend_per_person_cents"))
    )
    clock = clock_features(metrics, as_of).select("member_id", "visits_per_month")
    tiers = tiers.join(clock, "member_id")
    grouped = tiers.group_by(tiers.home_store_id.name("store_id")).aggregate(
        members=_.member_id.count().cast("int64"),
        visits=_.visits.sum().cast("int64"),
        spend_cents=_.spend_cents.sum().cast("int64"),
        visits_per_member_month=_.visits_per_month.mean(),
        spend_p25_cents=_.spend_cents.quantile(0.25),
        spend_p50_cents=_.spend_cents.quantile(0.5),
        spend_p75_cents=_.spend_cents.quantile(0.75),
        premium_members=ibis.ifelse(_.pr >= PREMIUM_PERCENTILE, 1, 0).sum().cast("int64"),
        value_members=ibis.ifelse(_.pr <= VALUE_PERCENTILE, 1, 0).sum().cast("int64"),
    )
    return grouped.mutate(
        visits_per_member=_.visits.cast("float64") / _.members,
        premium_share=_.premium_members.cast("float64") / _.members,
        value_share=_.value_members.cast("float64") / _.members,
    )
