"""The label step of the pipeline: service needs derived from order modifiers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from memberops.actor import Actor
from memberops.db import transaction
from memberops.labels.models import Label
from memberops.labels.pipeline import refresh_service_needs
from memberops.orders.service import ingest
from memberops.runtime import Runtime


def _orders(make: Any, card: str, modifiers: list[list[str]]) -> list[dict[str, Any]]:
    return [
        make(
            f"{card}-{i}",
            customer={"card_no": card},
            lines=[{"sku": "BR001", "quantity": 1, "unit_price_cents": 6800, "modifiers": mods}],
        )
        for i, mods in enumerate(modifiers)
    ]


def test_recurring_modifier_becomes_a_service_need_and_a_slur_never_does(
    seeded: Runtime, admin: Actor, order: Any
) -> None:
    records = [
        *_orders(order, "HD1", [["No Onions"], ["no onions", "extra ice"], []]),
        *_orders(order, "HD2", [["fat guy"], ["fat guy"], ["extra sauce"]]),
    ]
    with transaction(seeded.sessions) as session:
        ingest(
            session,
            seeded.keyring,
            [(f"r{i}", r) for i, r in enumerate(records)],
            actor=admin,
            source_name="t",
            fmt="t",
        )
    progress: list[tuple[int, int]] = []
    summary = refresh_service_needs(seeded, on_progress=lambda d, t: progress.append((d, t)))
    with seeded.sessions() as session:
        labels = session.scalars(select(Label).where(Label.status == "active")).all()
        assert [(label.code, label.source) for label in labels] == [
            ("modifier:no onions", "computed")
        ]
    assert summary == {"members": 2, "active_labels": 1}
    assert progress[-1] == (2, 2)
    # Refreshing again changes nothing.
    assert refresh_service_needs(seeded) == summary
