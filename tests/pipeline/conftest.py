"""Builders for pipeline tests: a chain of members, orders, refunds, merges on a clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from memberops.actor import Actor
from memberops.clock import FixedClock, use_clock
from memberops.db import transaction
from memberops.members.models import MemberProfile
from memberops.orders.service import ingest
from memberops.pipeline.models import (
    MemberLastVisit,
    MemberMetrics,
    MemberTasteSnapshot,
    StoreProfile,
)
from memberops.pipeline.serving import read_member_features
from memberops.runtime import Runtime

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ACTOR = Actor(kind="cli", id="tester", role="admin")
SKUS = ("BR001", "BR002", "MT001", "VG001", "DR001")
PRICES = {"BR001": 6800, "BR002": 5800, "MT001": 4800, "VG001": 1200, "DR001": 1500}


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    with use_clock(FixedClock(START)) as fixed:
        assert isinstance(fixed, FixedClock)
        yield fixed


def order_record(
    order_id: str,
    *,
    phone: str,
    at: datetime,
    store: str = "BJ001",
    items: list[tuple[str, int]] | None = None,
    modifiers: list[str] | None = None,
    party_size: int | None = 2,
    offset: str = "+08:00",
) -> dict[str, Any]:
    """An order record as a POS would send it."""
    lines = [
        {
            "sku": sku,
            "quantity": qty,
            "unit_price_cents": PRICES[sku],
            **({"modifiers": modifiers} if modifiers and n == 0 else {}),
        }
        for n, (sku, qty) in enumerate(items or [("BR001", 1), ("MT001", 2)])
    ]
    local = at.astimezone(datetime.fromisoformat(f"2026-01-01T00:00:00{offset}").tzinfo)
    return {
        "source": "pos",
        "source_order_id": order_id,
        "channel": "pos",
        "store_code": store,
        "ordered_at": local.isoformat(),
        "party_size": party_size,
        "customer": {"phone": phone, "phone_verified": True},
        "lines": lines,
        "discount_cents": 0,
        "total_cents": sum(line["quantity"] * line["unit_price_cents"] for line in lines),
    }


def refund_record(refund_id: str, order_id: str, amount: int, at: datetime) -> dict[str, Any]:
    """A refund of `amount` cents on `order_id`."""
    return {
        "record_type": "refund",
        "source": "pos",
        "source_refund_id": refund_id,
        "source_order_id": order_id,
        "refunded_at": at.isoformat(),
        "amount_cents": amount,
    }


def void_record(void_id: str, order_id: str, at: datetime) -> dict[str, Any]:
    """A void of `order_id`."""
    return {
        "record_type": "void",
        "source": "pos",
        "source_void_id": void_id,
        "source_order_id": order_id,
        "voided_at": at.isoformat(),
    }


def load(runtime: Runtime, *records: dict[str, Any]) -> None:
    """Ingest records as one committed batch."""
    with transaction(runtime.sessions) as session:
        ingest(
            session,
            runtime.keyring,
            [(str(n), r) for n, r in enumerate(records)],
            actor=ACTOR,
            source_name="test",
            fmt="jsonl",
        )


def _plain(row: Any, skip: tuple[str, ...]) -> dict[str, Any]:
    return {c: getattr(row, c) for c in row.__table__.columns.keys() if c not in skip}  # noqa: SIM118


def serving_snapshot(runtime: Runtime, now: datetime) -> dict[str, Any]:
    """Everything the serving tables say, as plain data (refresh times left out)."""
    with runtime.sessions() as session:
        profiles = {
            p.member_id: _plain(p, ("computed_at",))
            for p in session.scalars(select(MemberProfile).order_by(MemberProfile.member_id))
        }
        return {
            "profiles": profiles,
            "metrics": [
                _plain(m, ("computed_at",))
                for m in session.scalars(select(MemberMetrics).order_by(MemberMetrics.member_id))
            ],
            "snapshots": [
                _plain(s, ())
                for s in session.scalars(
                    select(MemberTasteSnapshot).order_by(
                        MemberTasteSnapshot.member_id, MemberTasteSnapshot.quarter
                    )
                )
            ],
            "last": [
                _plain(v, ())
                for v in session.scalars(
                    select(MemberLastVisit).order_by(MemberLastVisit.member_id)
                )
            ],
            "stores": [
                _plain(s, ("as_of",))
                for s in session.scalars(select(StoreProfile).order_by(StoreProfile.store_id))
            ],
            "reads": {
                member_id: _strip(read_member_features(session, member_id, now=now))
                for member_id in profiles
            },
        }


def _strip(features: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for group, values in features.items():
        out[group] = (
            {k: v for k, v in values.items() if k not in ("as_of", "watermark")} if values else None
        )
    return out
