"""Data-subject rights: export everything held about a member, and erase it.

PIPL Art. 45-47 and GDPR Art. 15-17, 20. Erasure removes personal fields, identifiers and
their blind-index entries (an index that outlived its ciphertext would still let anyone
with the key confirm a phone number), and keeps orders under the member's opaque id so
sales totals stay right.

Both follow the declarations: every table with a member column declared
`info={"member_owned": ...}` (memberops.members.ownership) must appear in an export
section or have an erasure step below. A table that has neither stops export and erasure
with a ConfigurationError naming it, so a new member-owned table cannot be silently left
out (tests/privacy/test_rights.py checks the whole metadata).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.apikeys.service import revoke_member_keys
from memberops.catalog.service import stores_by_code
from memberops.db import PURGE_FREED_PAGES, utcnow
from memberops.errors import ConfigurationError, NotFound
from memberops.identity.models import Identifier, IdentityReview, MemberIdentifier, MergeRecord
from memberops.identity.repository import identifiers_of
from memberops.labels.models import Label, LabelEvent, LabelReview
from memberops.loyalty.approvals import export_member_adjustments
from memberops.loyalty.campaigns import export_member_offers
from memberops.loyalty.service import export_member_loyalty
from memberops.members.models import Member, MemberStatus
from memberops.members.ownership import member_owned_tables
from memberops.members.service import (
    erase_personal_fields,
    get_member_or_raise,
    profile_groups,
)
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

__all__ = [
    "ERASED_TABLES",
    "EXPORTED_TABLES",
    "erase_member",
    "export_member",
    "uncovered_member_owned_tables",
]

READ_ACTIONS = ("member.read", "member.card", "member.export", "labels.read")


Section = Callable[[Session, KeyRing, Member], Any]


def _orders(session: Session, keyring: KeyRing, member: Member) -> list[dict[str, Any]]:
    store_codes = {store_id: code for code, (store_id, _zone) in stores_by_code(session).items()}
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
                "store_code": store_codes.get(order.store_id),
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
    return orders


def _adjustments(session: Session, keyring: KeyRing, member: Member) -> list[dict[str, Any]]:
    return [
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


def _engagement(session: Session, keyring: KeyRing, member: Member) -> list[dict[str, Any]]:
    return [
        {"type": e.type, "occurred_at": e.occurred_at.isoformat(), "rating": e.rating}
        for e in session.scalars(
            select(EngagementEvent).where(EngagementEvent.member_id == member.id)
        )
    ]


def _labels(session: Session, keyring: KeyRing, member: Member) -> list[dict[str, Any]]:
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
    return labels


def _consents(session: Session, keyring: KeyRing, member: Member) -> dict[str, Any]:
    history = [
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
    return {"current": current_consents(session, member.id), "history": history}


def _label_reviews(session: Session, keyring: KeyRing, member: Member) -> list[dict[str, Any]]:
    return [
        {
            "label_id": r.label_id,
            "status": r.status,
            "reasons": r.reasons,
            "categories": r.categories,
            "created_at": r.created_at.isoformat(),
            "decided_at": r.decided_at.isoformat() if r.decided_at else None,
            "decision_reason": r.decision_reason,
        }
        for r in session.scalars(
            select(LabelReview)
            .where(LabelReview.member_id == member.id)
            .order_by(LabelReview.created_at)
        )
    ]


def _reads(session: Session, keyring: KeyRing, member: Member) -> list[dict[str, Any]]:
    return [
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


# Export sections in output order: (section, member-owned tables it covers, builder).
# The member row and the profile groups come first; reads of the profile come from the
# audit log, which is not member-owned (it is kept as proof).
_SECTIONS: tuple[tuple[str, tuple[str, ...], Section], ...] = (
    ("member", ("member_profiles",), lambda s, k, m: profile_groups(s, k, m)),
    (
        "identifiers",
        ("member_identifiers",),
        lambda s, k, m: identifiers_of(s, k, m.id, masked=False),
    ),
    ("orders", ("orders",), _orders),
    ("refunds_and_voids", ("order_adjustments",), _adjustments),
    ("engagement", ("engagement_events",), _engagement),
    ("labels", ("labels",), _labels),
    ("label_reviews", ("label_reviews",), _label_reviews),
    ("consents", ("consents", "consent_states"), _consents),
    (
        "loyalty",
        (
            "loyalty_accounts",
            "loyalty_entries",
            "loyalty_lots",
            "loyalty_redemptions",
            "loyalty_tier_states",
            "loyalty_tier_history",
            "loyalty_vouchers",
            "loyalty_partner_conversions",
        ),
        lambda s, k, m: export_member_loyalty(s, m.id),
    ),
    (
        "loyalty_offers",
        ("loyalty_coupons", "loyalty_campaign_decisions"),
        lambda s, k, m: export_member_offers(s, m.id),
    ),
    (
        "loyalty_adjustments",
        ("loyalty_adjustment_requests",),
        lambda s, k, m: export_member_adjustments(s, m.id),
    ),
    (
        "service_desk",
        ("complaints", "callbacks", "survey_responses"),
        lambda s, k, m: export_service_history(s, k, m.id),
    ),
    ("profile_reads", (), _reads),
)
EXPORTED_TABLES = frozenset(table for _s, tables, _b in _SECTIONS for table in tables)


def uncovered_member_owned_tables() -> list[str]:
    """Member-owned tables that are neither exported nor erased (should be none).

    Tables declared `"derived"` (computed from history, shown through the profile) are
    covered by declaration: erasure deletes their rows, whatever capability owns them.
    """
    declared = {owned.name for owned in member_owned_tables() if owned.mode != "derived"}
    return sorted(declared - EXPORTED_TABLES - set(ERASED_TABLES))


def _require_coverage() -> None:
    uncovered = uncovered_member_owned_tables()
    if uncovered:
        raise ConfigurationError(
            "member-owned tables with no export section and no erasure step: "
            + ", ".join(uncovered)
            + " (add them in memberops.privacy.rights)"
        )


def export_member(
    session: Session, keyring: KeyRing, member_id: str, *, actor: Actor
) -> dict[str, Any]:
    """Everything held about the member, as JSON-ready data, audited."""
    _require_coverage()
    member = get_member_or_raise(session, member_id)
    if member.status == MemberStatus.ERASED:
        raise NotFound(f"member {member_id} not found")
    data = {section: build(session, keyring, member) for section, _tables, build in _SECTIONS}
    data["exported_at"] = utcnow().isoformat()
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
    _require_coverage()
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


def _erase_identifiers(session: Session, member_id: str) -> None:
    """Links go, and identifiers nobody else holds go with their blind indexes."""
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


def _erase_labels(session: Session, member_id: str) -> None:
    session.execute(
        update(Label)
        .where(Label.member_id == member_id)
        # Codes and reasons say what was known about the member ("modifier:no onions",
        # "asked at the table"): they go with the text.
        .values(
            text_enc=None,
            status="deleted",
            code=None,
            reason=None,
            rule_id=None,
            staff_id=None,
            sensitive_categories=[],
        )
    )


def _erase_label_events(session: Session, member_id: str) -> None:
    session.execute(update(LabelEvent).where(LabelEvent.member_id == member_id).values(reason=None))


def _erase_derived(session: Session, member_id: str) -> None:
    """Delete every row computed from the member's history (declared `"derived"`)."""
    for owned in member_owned_tables("derived"):
        session.execute(owned.table.delete().where(owned.column == member_id))


def _erase_label_reviews(session: Session, member_id: str) -> None:
    session.execute(delete(LabelReview).where(LabelReview.member_id == member_id))


def _erase_api_keys(session: Session, member_id: str) -> None:
    revoke_member_keys(session, member_id)


# What erasure does to each member-owned table it changes, in this order. Tables not here
# (orders, refunds, events, consents) stay under the member's opaque id: sales totals stay
# right and consent records remain proof of what was agreed.
ERASED_TABLES: dict[str, Callable[[Session, str], None]] = {
    "member_identifiers": _erase_identifiers,
    "labels": _erase_labels,
    "label_events": _erase_label_events,
    "label_reviews": _erase_label_reviews,
    "complaints": erase_service_texts,
    "api_keys": _erase_api_keys,
}


def _erase_one(session: Session, member_id: str) -> None:
    member = session.get(Member, member_id)
    assert member is not None
    declared = {owned.name for owned in member_owned_tables()}
    for table, erase in ERASED_TABLES.items():
        if table in declared:
            erase(session, member_id)
    _erase_derived(session, member_id)
    erase_personal_fields(member)
    session.flush()
