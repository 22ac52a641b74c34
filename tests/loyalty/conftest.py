"""Builders for loyalty tests: orders, refunds and voids through real ingestion, and
member lookups by the order that created them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.db import transaction
from memberops.orders.models import Order
from memberops.orders.service import ingest
from memberops.runtime import Runtime

ADMIN = Actor(kind="cli", id="tester", role="admin")


def load(runtime: Runtime, *records: dict[str, Any]) -> None:
    """Ingest records in one transaction, as the import command does."""
    with transaction(runtime.sessions) as session:
        ingest(
            session,
            runtime.keyring,
            [(f"record {i}", r) for i, r in enumerate(records, start=1)],
            actor=ADMIN,
            source_name="test",
            fmt="test",
        )


def dinner(
    order_id: str,
    *,
    at: str = "2026-03-01T18:30:00+08:00",
    cents: int = 10000,
    phone: str = "13812345678",
    source: str = "pos",
    store: str = "BJ001",
) -> dict[str, Any]:
    """An order of one line worth `cents` for the customer with `phone`."""
    return {
        "source": source,
        "source_order_id": order_id,
        "channel": "pos",
        "store_code": store,
        "ordered_at": at,
        "party_size": 2,
        "customer": {"phone": phone, "phone_verified": True},
        "lines": [{"sku": "BR001", "quantity": 1, "unit_price_cents": cents}],
        "discount_cents": 0,
        "total_cents": cents,
    }


def refund(
    refund_id: str, order_id: str, cents: int | None, *, kind: str = "refund", source: str = "pos"
) -> dict[str, Any]:
    """A refund (or a void, with `kind="void"`) of an order."""
    record: dict[str, Any] = {
        "record_type": kind,
        "source": source,
        f"source_{kind}_id": refund_id,
        "source_order_id": order_id,
        f"{'refunded' if kind == 'refund' else 'voided'}_at": "2026-03-02T10:00:00+08:00",
    }
    if cents is not None:
        record["amount_cents"] = cents
    return record


def member_of(session: Session, order_id: str, source: str = "pos") -> str:
    """The member holding an order."""
    member_id = session.scalar(
        select(Order.member_id).where(Order.source == source, Order.source_order_id == order_id)
    )
    assert member_id is not None
    return member_id
