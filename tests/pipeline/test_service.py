"""The refresh end to end: counted orders in, profiles out, incremental and full agree."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from tests.pipeline.conftest import (
    ACTOR,
    START,
    load,
    order_record,
    refund_record,
    serving_snapshot,
    void_record,
)

from memberops.clock import FixedClock
from memberops.db import transaction
from memberops.identity.service import find_member_ids
from memberops.members.service import read_profile
from memberops.pipeline.runner import run_refresh
from memberops.runtime import Runtime

PHONE = "13812345678"
PG_URL = os.environ.get("MEMBEROPS_TEST_DATABASE_URL")


def _profile(runtime: Runtime, phone: str = PHONE) -> dict:
    with transaction(runtime.sessions) as session:
        (member_id,) = find_member_ids(session, runtime.keyring, phone)
        return read_profile(session, runtime.keyring, member_id, actor=ACTOR)


def test_profile_shows_visits_spend_dishes_and_needs(seeded: Runtime, clock: FixedClock) -> None:
    load(
        seeded,
        order_record("1", phone=PHONE, at=START - timedelta(days=40), modifiers=["no coriander"]),
        # Same table, same dinner: an add-on order is the same visit.
        order_record(
            "2", phone=PHONE, at=START - timedelta(days=40, minutes=-30), items=[("DR001", 2)]
        ),
        order_record(
            "3",
            phone=PHONE,
            at=START - timedelta(days=10),
            store="SH001",
            modifiers=["No coriander"],
        ),
        order_record("4", phone="13900000000", at=START - timedelta(days=5)),
    )
    run_refresh(seeded)
    tx = _profile(seeded)["transaction"]
    assert tx["orders"] == 3 and tx["visits"] == 2
    assert tx["spend_cents"] == 2 * (6800 + 2 * 4800) + 2 * 1500
    assert tx["recency_days"] == 10 and tx["tenure_days"] == 40
    assert tx["spend_rank"] == 1 and tx["spend_percentile"] == 1.0
    assert tx["meal_mix"] == {"dinner": 2} or sum(tx["meal_mix"].values()) == 2
    assert tx["usual_meal_time"]["from"] == "20:00"  # 12:00 UTC is 20:00 in Beijing
    personal = _profile(seeded)["personalised"]
    assert personal["top_service_needs"][0]["need"] == "no coriander"
    assert personal["top_service_needs"][0]["orders"] == 2
    assert personal["top_dishes"][0]["name"] == "Beef slices"
    assert personal["same_as_last_time"]["lines"] == [
        {
            "item_id": personal["same_as_last_time"]["lines"][0]["item_id"],
            "name": "Spicy broth",
            "quantity": 1,
        },
        {
            "item_id": personal["same_as_last_time"]["lines"][1]["item_id"],
            "name": "Beef slices",
            "quantity": 2,
        },
    ] or {line["name"] for line in personal["same_as_last_time"]["lines"]} == {
        "Spicy broth",
        "Beef slices",
    }
    assert [q["quarter"] for q in personal["history"]] == ["2026Q1"]


def test_refund_and_void_change_only_the_affected_member(
    seeded: Runtime, clock: FixedClock
) -> None:
    load(
        seeded,
        order_record("1", phone=PHONE, at=START - timedelta(days=3)),
        order_record("2", phone=PHONE, at=START - timedelta(days=2)),
        order_record("9", phone="13900000000", at=START - timedelta(days=1)),
    )
    # Changes are re-read from LOOKBACK before the last watermark; step past it.
    clock.advance(timedelta(hours=1))
    first = run_refresh(seeded)
    assert first.full and first.members_refreshed == 2
    clock.advance(timedelta(hours=1))
    load(seeded, refund_record("R1", "1", 500, clock.now()), void_record("V1", "2", clock.now()))
    report = run_refresh(seeded)
    assert not report.full and report.members_refreshed == 1
    tx = _profile(seeded)["transaction"]
    assert tx["orders"] == 1 and tx["spend_cents"] == 6800 + 2 * 4800 - 500


def test_clock_alone_advances_recency_without_a_refresh(seeded: Runtime, clock: FixedClock) -> None:
    load(seeded, order_record("1", phone=PHONE, at=START - timedelta(days=1)))
    run_refresh(seeded)
    assert _profile(seeded)["transaction"]["recency_days"] == 1
    clock.advance(timedelta(days=30))
    assert _profile(seeded)["transaction"]["recency_days"] == 31


def test_incremental_equals_full_after_a_late_order(seeded: Runtime, clock: FixedClock) -> None:
    load(seeded, order_record("1", phone=PHONE, at=START - timedelta(days=1)))
    run_refresh(seeded)
    clock.advance(timedelta(days=2))
    load(seeded, order_record("0", phone=PHONE, at=START - timedelta(days=300), store="SH001"))
    run_refresh(seeded)
    incremental = serving_snapshot(seeded, clock.now())
    run_refresh(seeded, full=True)
    assert serving_snapshot(seeded, clock.now()) == incremental
    assert incremental["reads"]


@pytest.mark.skipif(not PG_URL, reason="the postgres engine runs inside a PostgreSQL database")
def test_postgres_engine_in_place_gives_the_duckdb_result(
    seeded: Runtime, clock: FixedClock
) -> None:
    load(
        seeded,
        order_record("1", phone=PHONE, at=START - timedelta(days=9), modifiers=["no coriander"]),
        order_record("2", phone=PHONE, at=START - timedelta(days=2), store="SH001"),
        order_record("3", phone="13900000000", at=START - timedelta(days=1), party_size=None),
    )
    run_refresh(seeded, full=True)
    on_duckdb = serving_snapshot(seeded, clock.now())
    run_refresh(seeded, engine="postgres", full=True)
    assert serving_snapshot(seeded, clock.now()) == on_duckdb
