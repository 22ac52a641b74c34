"""One fans definition, three engines: DuckDB, PostgreSQL and Spark agree.

Activity, engagement and referrals are computed on the synthetic chain plus synthetic
shares, reviews and referrals (some anonymous, some naming a phone nobody holds, some
the referrer's own, ties on the referral time). Counts and money must be equal exactly;
the repurchase rate (a ratio) within tests/parity.py's REL_TOL. PostgreSQL runs when
MEMBEROPS_TEST_DATABASE_URL is set; Spark on the suite's SparkSession.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from memberops.fans.features import (
    EVENTS_SCHEMA,
    HOLDERS_SCHEMA,
    fan_activity,
    member_engagement,
    referrals,
)
from memberops.pipeline import engines
from parity import assert_same_table, chain_inputs, engine_results

AS_OF = datetime(2026, 1, 1)
WINDOWS = {"quarter": (90, 12), "month": (30, 3)}  # window_days, repurchase_months
TABLES = [*(f"activity-{name}" for name in WINDOWS), "engagement", "referrals"]


@functools.cache
def _events_and_holders() -> tuple[pa.Table, pa.Table]:
    rng = np.random.default_rng(5)
    members = sorted(set(chain_inputs().orders.column("member_id").to_pylist()))
    n = 900
    kind = rng.choice(np.array(["share", "referral", "review", "like"], dtype=object), n)
    who = [members[k] for k in rng.integers(0, len(members), n)]
    anonymous = rng.random(n) < 0.05
    # Whole days from 1 Jan 2024: referrals of one phone on one day tie on the time.
    day = rng.integers(0, 730, n)
    phone = rng.integers(0, 150, n)
    events = pa.table(
        {
            "event_id": [f"e{k:05d}" for k in range(n)],
            "type": kind,
            "member_id": [None if a else m for a, m in zip(anonymous, who, strict=True)],
            "occurred_at": [datetime(2024, 1, 1) + timedelta(days=int(d)) for d in day],
            "referred_identifier_id": [
                f"p{p:04d}" if t == "referral" and p % 10 else None
                for t, p in zip(kind, phone, strict=True)
            ],
        },
        schema=EVENTS_SCHEMA,
    )
    # Four phones in five are held now; a holder may be the referrer itself.
    held = [p for p in range(150) if p % 5]
    holders = pa.table(
        {
            "identifier_id": [f"p{p:04d}" for p in held],
            "member_id": [members[k] for k in rng.integers(0, len(members), len(held))],
        },
        schema=HOLDERS_SCHEMA,
    )
    return events, holders


def _compute(con: Any) -> dict[str, pa.Table]:
    events, holders = _events_and_holders()
    o = engines.bind_table(con, "fan_orders", chain_inputs().orders)
    e = engines.bind_table(con, "fan_events", events)
    h = engines.bind_table(con, "fan_holders", holders)
    out = {
        f"activity-{name}": con.to_pyarrow(
            fan_activity(o, as_of=AS_OF, window_days=days, repurchase_months=months)
        )
        for name, (days, months) in WINDOWS.items()
    }
    out["engagement"] = con.to_pyarrow(member_engagement(e))
    out["referrals"] = con.to_pyarrow(referrals(e, h, o))
    return out


duckdb_results, postgres_results, spark_results = engine_results(_compute)


def test_synthetic_events_exercise_every_branch(duckdb_results: dict[str, pa.Table]) -> None:
    activity = duckdb_results["activity-quarter"].to_pylist()
    assert len(activity) > 200
    rates = {r["repurchase_rate"] for r in activity}
    assert 1.0 in rates and any(0 < r < 1 for r in rates)
    assert any(r["visits_window"] > 0 for r in activity)
    assert any(r["visits_window"] == 0 for r in activity)
    assert duckdb_results["engagement"].num_rows > 200
    brought = duckdb_results["referrals"].to_pylist()
    assert len(brought) > 20
    assert sum(r["referred_members"] for r in brought) < 120  # first touch: one each
    assert all(r["referred_revenue_cents"] > 0 for r in brought)


@pytest.mark.parametrize("table", TABLES)
def test_postgres_agrees_with_duckdb(
    table: str, duckdb_results: dict[str, pa.Table], postgres_results: dict[str, pa.Table]
) -> None:
    assert_same_table(duckdb_results[table], postgres_results[table])


@pytest.mark.slow
@pytest.mark.parametrize("table", TABLES)
def test_spark_agrees_with_duckdb(
    table: str, duckdb_results: dict[str, pa.Table], spark_results: dict[str, pa.Table]
) -> None:
    assert_same_table(duckdb_results[table], spark_results[table])
