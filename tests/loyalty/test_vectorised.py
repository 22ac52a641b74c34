"""The array forms of the tier rules (period-end job, simulation) decide exactly what the
per-member rules decide, on random policies and members."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from memberops.loyalty.rules import (
    DEFAULT_POLICY_TOML,
    PERIOD_END_REASONS,
    Metrics,
    TierPolicy,
    TierRule,
    decide_at_period_end,
    decide_at_period_end_arrays,
    parse_policy,
    policy_with,
    qualified_index,
    qualified_index_arrays,
)

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
        np.array([r[k] if r[k] is not None else -1 for r in rows], dtype=np.int64)
        for k in range(6)
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
