"""Computed labels: service needs derived from counted orders' modifiers, and labels from
rules over profile features, refreshed without overriding a member's objection."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from builders import (
    add_member,
    member_actor,
)
from memberops.actor import system_actor
from memberops.catalog.service import ItemIn, StoreIn, upsert_items, upsert_stores
from memberops.errors import (
    ValidationError,
)
from memberops.labels import computed, service
from memberops.labels.models import Label
from memberops.labels.rules import parse_rules
from memberops.orders.models import Order
from memberops.orders.service import ingest
from memberops.runtime import Runtime

# ---------------------------------------------------------------------------- writes


def ingest_orders(
    session: Session, runtime: Runtime, phone: str, modifier_sets: list[list[str]]
) -> str:
    upsert_stores(session, [StoreIn("BJ01", "Wangfujing", "Beijing", "North", "Asia/Shanghai")])
    upsert_items(session, [ItemIn("TOMATO", "Tomato broth", "broth", 3800)])
    records: list[tuple[str, dict[str, Any] | ValidationError]] = []
    for n, modifiers in enumerate(modifier_sets, start=1):
        records.append(
            (
                f"order {n}",
                {
                    "source": "pos",
                    "source_order_id": f"{phone}-{n}",
                    "channel": "pos",
                    "store_code": "BJ01",
                    "ordered_at": f"2025-0{n}-10T19:00:00+08:00",
                    "customer": {"phone": phone, "phone_verified": True},
                    "lines": [
                        {
                            "sku": "TOMATO",
                            "quantity": 1,
                            "unit_price_cents": 3800,
                            "modifiers": modifiers,
                        }
                    ],
                    "total_cents": 3800,
                },
            )
        )
    ingest(
        session, runtime.keyring, records, actor=system_actor("test"), source_name="t", fmt="jsonl"
    )
    member_id = session.scalars(select(Order.member_id).where(Order.source == "pos")).first()
    assert member_id is not None
    return member_id


def test_service_needs_come_from_order_modifiers(runtime: Runtime, session: Session) -> None:
    member_id = ingest_orders(
        session,
        runtime,
        "13800138000",
        [["No  Onions", "ice in lemon juice"], ["no onions"], ["no onions", "extra sauce"]],
    )
    needs = computed.derive_service_needs(session, member_id)
    assert [(m, c) for m, c, _ in needs] == [
        ("no onions", 3),
        ("extra sauce", 1),
        ("ice in lemon juice", 1),
    ]
    assert needs[0][2] == datetime(2025, 3, 10, 11, 0, tzinfo=UTC)


def test_modifier_on_two_orders_becomes_a_computed_service_need(
    runtime: Runtime, session: Session
) -> None:
    member_id = ingest_orders(
        session,
        runtime,
        "13800138001",
        [["no onions", "fat guy"], ["no onions", "fat guy"], ["extra sauce"]],
    )
    labels = computed.refresh_service_need_labels(session, member_id)
    # "fat guy" was typed at the POS twice, but the guard keeps it from becoming a label.
    assert [(lab.category, lab.code, lab.source) for lab in labels] == [
        ("service_need", "modifier:no onions", "computed")
    ]
    assert labels[0].rule_id == "service_need.modifier"
    assert labels[0].reason is not None and "2 orders" in labels[0].reason
    # Refreshing again changes nothing.
    again = computed.refresh_service_need_labels(session, member_id)
    assert [lab.id for lab in again] == [labels[0].id]


def test_refresh_never_recreates_a_label_the_member_deleted(
    runtime: Runtime, session: Session
) -> None:
    member_id = ingest_orders(session, runtime, "13800138002", [["no onions"], ["no onions"]])
    (label,) = computed.refresh_service_need_labels(session, member_id)
    service.delete_label(
        session, member_id=member_id, label_id=label.id, actor=member_actor(member_id)
    )
    assert computed.refresh_service_need_labels(session, member_id) == []
    statuses = session.scalars(select(Label.status).where(Label.member_id == member_id)).all()
    assert statuses == ["deleted"]


def test_rule_labels_are_written_explained_and_expired(runtime: Runtime, session: Session) -> None:
    member_id = add_member(session)
    rule_set = parse_rules(
        ["spicy_share >= 0.6 -> loves_spicy", "visits_90d >= 6 -> fan_level:hardcore_fan"]
    )
    labels = computed.refresh_computed_labels(
        session, member_id, {"spicy_share": 0.72, "visits_90d": 2}, rule_set
    )
    assert [(lab.category, lab.code) for lab in labels] == [("dining_preference", "loves_spicy")]
    assert labels[0].source == "computed"
    assert labels[0].reason == "spicy_share=0.72 >= 0.6"
    assert labels[0].rule_id == rule_set[0].rule_id

    later = computed.refresh_computed_labels(
        session, member_id, {"spicy_share": 0.3, "visits_90d": 8}, rule_set
    )
    assert [lab.code for lab in later] == ["hardcore_fan"]
    assert labels[0].status == "expired"

    back = computed.refresh_computed_labels(
        session, member_id, {"spicy_share": 0.9, "visits_90d": 8}, rule_set
    )
    assert sorted(lab.code or "" for lab in back) == ["hardcore_fan", "loves_spicy"]
    assert labels[0].status == "active"
    assert len(session.scalars(select(Label).where(Label.member_id == member_id)).all()) == 2


def test_merged_duplicates_of_a_computed_label_collapse_and_an_objection_wins(
    runtime: Runtime, session: Session
) -> None:
    rule_set = parse_rules(["spicy_share >= 0.6 -> loves_spicy"])
    survivor, absorbed = add_member(session), add_member(session)
    (kept,) = computed.refresh_computed_labels(session, survivor, {"spicy_share": 0.9}, rule_set)
    (moved,) = computed.refresh_computed_labels(session, absorbed, {"spicy_share": 0.9}, rule_set)
    service.delete_label(
        session, member_id=absorbed, label_id=moved.id, actor=member_actor(absorbed)
    )
    moved.member_id = survivor  # what a merge does to member-owned rows
    session.flush()

    current = computed.refresh_computed_labels(session, survivor, {"spicy_share": 0.9}, rule_set)

    assert current == []
    assert (kept.status, moved.status) == ("expired", "deleted")
