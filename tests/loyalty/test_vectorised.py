"""The array forms of the tier rules (period-end job, simulation) decide exactly what the
per-member rules decide, on random policies and members."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from memberops.loyalty.rules import (
    DEFAULT_POLICY_TOML,
    PERIOD_END_REASONS,
    PERIODS,
    WINDOWS,
    Metrics,
    OrderArrays,
    OrderFact,
    TierPolicy,
    TierRule,
    decide_at_period_end,
    decide_at_period_end_arrays,
    metrics_between,
    micros,
    parse_policy,
    policy_with,
    qualified_index,
    qualified_index_arrays,
    replay_tier,
    replay_tiers_arrays,
)
from memberops.loyalty.service import simulate_facts

BASE = parse_policy(DEFAULT_POLICY_TOML)
END = datetime(2026, 4, 1, tzinfo=UTC)


@st.composite
def policies(draw: st.DrawFn) -> TierPolicy:
    """A ladder of 1-5 tiers with non-decreasing thresholds, some with a recency rule."""
    count = draw(st.integers(1, 5))
    tiers = [TierRule("t0", "T0")]
    spend = visits = 0
    for i in range(1, count):
        spend += draw(st.integers(0, 300_000))
        visits += draw(st.integers(0, 4))
        recency = draw(st.one_of(st.none(), st.integers(0, 400)))
        tiers.append(TierRule(f"t{i}", f"T{i}", spend, visits, recency))
    return policy_with(BASE, tiers=tuple(tiers), grace_periods=draw(st.integers(0, 2)))


@st.composite
def members(draw: st.DrawFn, tiers: int) -> list[tuple[int, int, int, int, int | None, int]]:
    """(current, grace used, spend, visits, microseconds since last visit, floor)."""
    return draw(
        st.lists(
            st.tuples(
                st.integers(0, tiers - 1),
                st.integers(0, 3),
                st.integers(0, 1_500_000),
                st.integers(0, 12),
                st.one_of(
                    st.none(),
                    st.integers(1, 500 * 86_400_000_000),
                    # exactly on a recency limit, and one microsecond either side
                    st.integers(0, 400).map(lambda d: d * 86_400_000_000),
                    st.integers(0, 400).map(lambda d: d * 86_400_000_000 + 1),
                ),
                st.integers(0, tiers - 1),
            ),
            min_size=1,
            max_size=40,
        )
    )


def _metrics(spend: int, visits: int, since_last: int | None) -> Metrics:
    last = None if since_last is None else END - timedelta(microseconds=since_last)
    return Metrics(spend, visits, last, END - timedelta(days=365), END)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_array_decisions_equal_the_per_member_rule(data: st.DataObject) -> None:
    policy = data.draw(policies())
    rows = data.draw(members(len(policy.tiers)))
    current, grace, spend, visits, since, floor = (
        np.array([r[k] if r[k] is not None else -1 for r in rows], dtype=np.int64) for k in range(6)
    )
    new, grace_new, reasons = decide_at_period_end_arrays(
        policy, current, grace, spend, visits, since, floor
    )
    qualified = qualified_index_arrays(policy, spend, visits, since)
    for i, (cur, g, s, v, last, fl) in enumerate(rows):
        metrics = _metrics(s, v, last)
        assert qualified[i] == qualified_index(policy, metrics)
        expected = decide_at_period_end(policy, cur, g, metrics, fl)
        assert (int(new[i]), int(grace_new[i]), PERIOD_END_REASONS[int(reasons[i])]) == (
            expected.new_index,
            expected.grace_used,
            expected.reason,
        )


# ----------------------------------------------------------------------------- replay
def _reference_simulation(
    active: TierPolicy,
    proposed: TierPolicy,
    facts: dict[str, list[OrderFact]],
    joined: dict[str, date],
    as_of: datetime,
) -> dict[str, Any]:
    """The simulation member by member with the per-member rules (the oracle)."""
    counts_active: Counter[str] = Counter()
    counts_proposed: Counter[str] = Counter()
    up: Counter[str] = Counter()
    down: Counter[str] = Counter()
    spend_moved = 0
    cost = {"active": 0, "proposed": 0}
    diff: list[dict[str, Any]] = []
    for member_id, orders in facts.items():
        join = joined.get(member_id, orders[0].at.date() if orders else as_of.date())
        ia, _, _ = replay_tier(active, orders, join, as_of)
        ip, _, _ = replay_tier(proposed, orders, join, as_of)
        ta, tp = active.tiers[ia], proposed.tiers[min(ip, len(proposed.tiers) - 1)]
        counts_active[ta.code] += 1
        counts_proposed[tp.code] += 1
        year = metrics_between(orders, as_of - timedelta(days=365), as_of)
        cost["active"] += year.spend_cents * ta.discount_bp // 10000 + ta.birthday_gift_cents
        cost["proposed"] += year.spend_cents * tp.discount_bp // 10000 + tp.birthday_gift_cents
        if ta.code != tp.code:
            rank_a = ia / max(1, len(active.tiers) - 1)
            rank_p = ip / max(1, len(proposed.tiers) - 1)
            (up if rank_p > rank_a else down)[f"{ta.code}->{tp.code}"] += 1
            spend_moved += year.spend_cents
            diff.append(
                {
                    "member_id": member_id,
                    "active": ta.code,
                    "proposed": tp.code,
                    "spend_12m_cents": year.spend_cents,
                    "visits_12m": year.visits,
                }
            )
    return {
        "as_of": as_of.isoformat(),
        "members": len(facts),
        "tiers_active": dict(counts_active),
        "tiers_proposed": dict(counts_proposed),
        "moves_up": dict(up),
        "moves_down": dict(down),
        "spend_12m_of_movers_cents": spend_moved,
        "benefit_cost_12m_cents": cost,
        "diff": diff,
    }


ZONES = ("Asia/Shanghai", "America/New_York", "Europe/London", "Asia/Kolkata", "UTC")
AS_OF = datetime(2026, 4, 1, tzinfo=UTC)


@st.composite
def replay_policies(draw: st.DrawFn) -> TierPolicy:
    """Random ladders with every window and period, in zones with and without DST."""
    return policy_with(
        draw(policies()),
        timezone=draw(st.sampled_from(ZONES)),
        window=draw(st.sampled_from(WINDOWS)),
        period=draw(st.sampled_from(PERIODS)),
    )


instants = st.one_of(
    st.integers(0, 900 * 86_400).map(lambda s: AS_OF - timedelta(seconds=s)),
    # local midnights, period ends and the instants next to them
    st.tuples(st.integers(0, 900), st.sampled_from((-1, 0, 1))).map(
        lambda p: (
            datetime(2026, 4, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
            - timedelta(days=p[0])
            + timedelta(microseconds=p[1])
        )
    ),
)


@st.composite
def histories(draw: st.DrawFn) -> tuple[dict[str, list[OrderFact]], dict[str, date]]:
    """Members with 0-8 orders each (some refunded to zero or below), sorted by time."""
    facts: dict[str, list[OrderFact]] = {}
    joined: dict[str, date] = {}
    for i in range(draw(st.integers(0, 12))):
        orders = sorted(
            draw(
                st.lists(
                    st.builds(
                        OrderFact,
                        instants.map(lambda t: t.astimezone(UTC)),
                        st.integers(-5_000, 600_000),
                    ),
                    max_size=8,
                )
            ),
            key=lambda o: o.at,
        )
        facts[f"m{i:02d}"] = orders
        if orders and draw(st.booleans()):
            joined[f"m{i:02d}"] = orders[0].at.date() - timedelta(days=draw(st.integers(0, 800)))
    return facts, joined


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_array_replay_equals_the_per_member_replay(data: st.DataObject) -> None:
    policy = data.draw(replay_policies())
    facts, joined = data.draw(histories())
    ids = list(facts)
    counts = [len(v) for v in facts.values()]
    arrays = OrderArrays(
        np.repeat(np.arange(len(ids), dtype=np.int64), counts),
        np.array([micros(o.at) for v in facts.values() for o in v], dtype=np.int64),
        np.array([o.net_cents for v in facts.values() for o in v], dtype=np.int64),
        len(ids),
    )
    replayed = replay_tiers_arrays(policy, arrays, AS_OF)
    if replayed is None:
        assert "anniversary" in (policy.window, policy.period)
        return
    for i, m in enumerate(ids):
        orders = facts[m]
        join = joined.get(m, orders[0].at.date() if orders else AS_OF.date())
        index, grace, _ = replay_tier(policy, orders, join, AS_OF)
        assert (int(replayed[0][i]), int(replayed[1][i])) == (index, grace), m


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_simulation_equals_the_member_by_member_simulation(data: st.DataObject) -> None:
    active = data.draw(replay_policies())
    proposed = data.draw(replay_policies())
    facts, joined = data.draw(histories())
    assert simulate_facts(active, proposed, facts, joined, AS_OF) == _reference_simulation(
        active, proposed, facts, joined, AS_OF
    )
