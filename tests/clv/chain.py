"""A small chain with known habits, loaded through the real ingestion path.

Member k (0-based) comes every `7 + k % 5` days from 2026-01-05 and stops after `4 + k % 6`
visits; member 0 keeps coming to the end. Every order has a broth; beef goes with the
spicy broth, potatoes with the tomato broth. Odd visits are at the Shanghai store.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from memberops.actor import Actor
from memberops.db import transaction
from memberops.orders.service import ingest
from memberops.runtime import Runtime

__all__ = ["AS_OF", "MEMBERS", "load_chain"]

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
MEMBERS = 30
_START = datetime(2026, 1, 5, 11, 30, tzinfo=UTC)


def _order(k: int, visit: int, at: datetime) -> dict[str, Any]:
    spicy = (k + visit) % 2 == 0
    lines = [
        {
            "sku": "BR001" if spicy else "BR002",
            "quantity": 1,
            "unit_price_cents": 6800 if spicy else 5800,
        },
        {
            "sku": "MT001" if spicy else "VG001",
            "quantity": 1,
            "unit_price_cents": 4800 if spicy else 1200,
        },
    ]
    if visit % 3 == 0:
        lines.append({"sku": "DR001", "quantity": 1, "unit_price_cents": 1500})
    return {
        "source": "pos",
        "source_order_id": f"m{k}-v{visit}",
        "channel": "pos",
        "store_code": "SH001" if visit % 2 else "BJ001",
        "ordered_at": at.isoformat(),
        "party_size": 2,
        "customer": {"phone": f"1381234{k:04d}", "phone_verified": True},
        "lines": lines,
        "discount_cents": 0,
        "total_cents": sum(line["quantity"] * line["unit_price_cents"] for line in lines),
    }


def chain_orders() -> list[dict[str, Any]]:
    """Every order of the chain, in time order per member."""
    orders = []
    for k in range(MEMBERS):
        gap = timedelta(days=7 + k % 5)
        visits = 1000 if k == 0 else 4 + k % 6
        at = _START + timedelta(hours=k)
        visit = 0
        while visit < visits and at < AS_OF:
            orders.append(_order(k, visit, at))
            at += gap
            visit += 1
    return orders


def load_chain(runtime: Runtime, actor: Actor) -> int:
    """Ingest the chain; returns the number of orders."""
    orders = chain_orders()
    with transaction(runtime.sessions) as session:
        ingest(
            session,
            runtime.keyring,
            [(f"order {i}", o) for i, o in enumerate(orders)],
            actor=actor,
            source_name="chain",
            fmt="test",
        )
    return len(orders)
