"""The review queue: a reviewer closes a case by merging or keeping members apart."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.db import transaction
from memberops.errors import Conflict
from memberops.identity.models import IdentityReview
from memberops.identity.reviews import resolve_review
from memberops.members.models import Member, MemberStatus
from memberops.members.service import get_member_or_raise
from memberops.orders.models import Order
from memberops.orders.service import ingest
from memberops.runtime import Runtime


def load(runtime: Runtime, actor: Actor, *orders: dict[str, Any]) -> None:
    with transaction(runtime.sessions) as session:
        ingest(
            session,
            runtime.keyring,
            [(f"record {i}", o) for i, o in enumerate(orders, start=1)],
            actor=actor,
            source_name="test",
            fmt="test",
        )


def member_of(session: Session, source_order_id: str, source: str = "pos") -> str | None:
    member_id = session.scalar(
        select(Order.member_id).where(
            Order.source == source, Order.source_order_id == source_order_id
        )
    )
    return get_member_or_raise(session, member_id).id if member_id else None


def active_members(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Member).where(Member.status == MemberStatus.ACTIVE)
        )
        or 0
    )


def open_reviews(session: Session, kind: str | None = None) -> int:
    stmt = select(func.count()).select_from(IdentityReview).where(IdentityReview.status == "open")
    if kind:
        stmt = stmt.where(IdentityReview.kind == kind)
    return session.scalar(stmt) or 0


def test_review_cases_close_with_a_decision(seeded: Runtime, admin: Actor, order):
    shared = {"phone": "13700000000", "phone_verified": True}
    load(
        seeded,
        admin,
        order("1", customer={**shared, "card_no": "HD1"}),
        order("2", customer={**shared, "card_no": "HD2"}),
    )
    with transaction(seeded.sessions) as session:
        case = session.scalars(select(IdentityReview)).one()
        resolve_review(
            session,
            seeded.keyring,
            review_id=case.id,
            decision="keep_apart",
            actor=admin,
            note="mother and son",
        )
    with seeded.sessions() as session:
        assert active_members(session) == 2
        closed = session.get(IdentityReview, case.id)
        assert closed is not None and closed.status == "resolved"
    with pytest.raises(Conflict), transaction(seeded.sessions) as session:
        resolve_review(
            session, seeded.keyring, review_id=case.id, decision="merge", actor=admin, note="again"
        )
