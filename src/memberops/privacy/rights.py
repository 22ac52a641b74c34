"""Data-subject rights: export everything held about a member, and erase it.

PIPL Art. 45-47 and GDPR Art. 15-17, 20. Erasure removes personal fields, identifiers and
their blind-index entries (an index that outlived its ciphertext would still let anyone
with the key confirm a phone number), and keeps orders under the member's opaque id so
sales totals stay right.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.db import PURGE_FREED_PAGES, utcnow
from memberops.errors import NotFound
from memberops.identity.models import Identifier, IdentityReview, MemberIdentifier, MergeRecord
from memberops.labels.models import Label, LabelEvent
from memberops.members.models import Member, MemberProfile, MemberStatus
from memberops.members.service import get_member_or_raise, identifiers_of, profile_groups
from memberops.orders.models import (
    EngagementEvent,
    Order,
    OrderAdjustment,
    OrderIdentifier,
    OrderLine,
)
from memberops.privacy import audit
from memberops.privacy.consent import current_consents
from memberops.privacy.crypto import KeyRing
from memberops.privacy.models import AuditEntry, Consent
from memberops.servicedesk.service import erase_service_texts, export_service_history

__all__ = ["erase_member", "export_member"]

READ_ACTIONS = ("member.read", "member.card", "member.export", "labels.read")


def export_member(
    session: Session, keyring: KeyRing, member_id: str, *, actor: Actor
) -> dict[str, Any]:
    """Everything held about the member, as JSON-ready data, audited."""
    member = get_member_or_raise(session, member_id)
    if member.status == MemberStatus.ERASED:
        raise NotFound(f"member {member_id} not found")
    orders = []
    for order in session.scalars(
        select(Order).where(Order.member_id == member.id).order_by(Order.ordered_at)
    ):
        lines = session.scalars(
            select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.line_no)
        )
        orders.append(
            {
                "source": order.source,
                "source_order_id": order.source_order_id,
                "channel": order.channel,
                "ordered_at": order.ordered_at.isoformat(),
                "utc_offset_minutes": order.utc_offset_minutes,
                "meal_type": order.meal_type,
                "party_size": order.party_size,
                "total_cents": order.total_cents,
                "discount_cents": order.discount_cents,
                "currency": order.currency,
                "vouchers": order.vouchers,
                "lines": [
                    {
                        "item_id": ln.item_id,
                        "quantity": ln.quantity,
                        "unit_price_cents": ln.unit_price_cents,
                        "modifiers": ln.modifiers,
                    }
                    for ln in lines
                ],
            }
        )
    adjustments = [
        {
            "kind": a.kind,
            "source_order_id": a.source_order_id,
            "amount_cents": a.amount_cents,
            "occurred_at": a.occurred_at.isoformat(),
            "reason": a.reason,
        }
        for a in session.scalars(
            select(OrderAdjustment).where(OrderAdjustment.member_id == member.id)
        )
    ]
    events = [
        {"type": e.type, "occurred_at": e.occurred_at.isoformat(), "rating": e.rating}
        for e in session.scalars(
            select(EngagementEvent).where(EngagementEvent.member_id == member.id)
        )
    ]
    labels = []
    for label in session.scalars(select(Label).where(Label.member_id == member.id)):
        text = (
            keyring.decrypt(label.text_enc, table="labels", column="text_enc", row_id=label.id)
            if label.text_enc
            else None
        )
        labels.append(
            {
                "id": label.id,
                "category": label.category,
                "code": label.code,
                "text": text,
                "source": label.source,
                "status": label.status,
                "created_by": label.created_by,
                "store_code": label.store_code,
                "created_at": label.created_at.isoformat(),
                "sensitive": label.sensitive,
            }
        )
    consents = [
        {
            "purpose": c.purpose,
            "granted": c.granted,
            "decided_at": c.decided_at.isoformat(),
            "channel": c.channel,
            "source": c.source,
            "notice_version": c.notice_version,
        }
        for c in session.scalars(
            select(Consent).where(Consent.member_id == member.id).order_by(Consent.decided_at)
        )
    ]
    reads = [
        {
            "at": e.at.isoformat(),
            "actor": f"{e.actor_kind}:{e.actor_id}",
            "role": e.role,
            "store_code": e.store_code,
            "action": e.action,
        }
        for e in session.scalars(
            select(AuditEntry)
            .where(AuditEntry.member_id == member.id, AuditEntry.action.in_(READ_ACTIONS))
            .order_by(AuditEntry.seq)
        )
    ]
    data = {
        "member": profile_groups(session, keyring, member),
        "identifiers": identifiers_of(session, keyring, member.id, masked=False),
        "orders": orders,
        "refunds_and_voids": adjustments,
        "engagement": events,
        "labels": labels,
        "consents": {"current": current_consents(session, member.id), "history": consents},
        "profile_reads": reads,
        "service_desk": export_service_history(session, keyring, member.id),
        "exported_at": utcnow().isoformat(),
    }
    audit.record(
        session,
        actor,
        "member.export",
        member_id=member.id,
        fields=sorted(k for k in data if k != "exported_at"),
    )
    return data


def erase_member(session: Session, member_id: str, *, actor: Actor, reason: str) -> bool:
    """Erase a member's personal data; returns False if it was already erased (idempotent)."""
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(f"member {member_id} not found")
    member = get_member_or_raise(session, member_id)
    if member.status == MemberStatus.ERASED:
        audit.record(
            session,
            actor,
            "member.erase",
            member_id=member.id,
            reason=f"already erased; {reason}",
            outcome="noop",
        )
        return False
    # The person's absorbed duplicates hold personal data too, however deep the chain
    # of merges (C into B, then B into A).
    people = [member.id]
    frontier = [member.id]
    while frontier:
        frontier = list(
            session.scalars(select(Member.id).where(Member.merged_into_id.in_(frontier)))
        )
        people.extend(frontier)
    for pid in people:
        _erase_one(session, pid)
    session.execute(
        update(MergeRecord)
        .where((MergeRecord.survivor_id.in_(people)) | (MergeRecord.absorbed_id.in_(people)))
        .values(survivor_before={})
    )
    # Freed pages must not keep the erased bytes (see db.make_session_factory).
    session.info[PURGE_FREED_PAGES] = True
    audit.record(
        session,
        actor,
        "member.erase",
        member_id=member.id,
        fields=["basic", "identifiers", "labels", "profile"],
        reason=reason,
    )
    return True


def _erase_one(session: Session, member_id: str) -> None:
    member = session.get(Member, member_id)
    assert member is not None
    ident_ids = list(
        session.scalars(
            select(MemberIdentifier.identifier_id).where(MemberIdentifier.member_id == member_id)
        )
    )
    order_ids = select(Order.id).where(Order.member_id == member_id).scalar_subquery()
    session.execute(delete(OrderIdentifier).where(OrderIdentifier.order_id.in_(order_ids)))
    session.execute(delete(MemberIdentifier).where(MemberIdentifier.member_id == member_id))
    still_held = exists().where(MemberIdentifier.identifier_id == Identifier.id)
    orphaned = list(
        session.scalars(select(Identifier.id).where(Identifier.id.in_(ident_ids), ~still_held))
    )
    if orphaned:
        session.execute(delete(OrderIdentifier).where(OrderIdentifier.identifier_id.in_(orphaned)))
        session.execute(
            update(EngagementEvent)
            .where(EngagementEvent.referred_identifier_id.in_(orphaned))
            .values(referred_identifier_id=None)
        )
        session.execute(
            update(IdentityReview)
            .where(IdentityReview.identifier_id.in_(orphaned))
            .values(identifier_id=None)
        )
        session.execute(delete(Identifier).where(Identifier.id.in_(orphaned)))
    session.execute(
        update(Label).where(Label.member_id == member_id).values(text_enc=None, status="deleted")
    )
    session.execute(update(LabelEvent).where(LabelEvent.member_id == member_id).values(reason=None))
    session.execute(delete(MemberProfile).where(MemberProfile.member_id == member_id))
    erase_service_texts(session, member_id)
    member.name_enc = member.nickname_enc = member.birthday_enc = None
    member.gender = None
    member.status = MemberStatus.ERASED
    member.erased_at = utcnow()
    session.flush()
