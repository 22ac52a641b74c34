"""Finding members and reading their profile, always with an actor and an audit entry."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.db import table_of
from memberops.errors import NotFound
from memberops.identity.models import Identifier, MemberIdentifier
from memberops.identity.rules import mask, normalise
from memberops.identity.service import find_members_by_identifier
from memberops.members.models import ENCRYPTED_MEMBER_FIELDS, Member, MemberProfile, MemberStatus
from memberops.privacy import audit
from memberops.privacy.consent import current_consents
from memberops.privacy.crypto import KeyRing

__all__ = [
    "MembershipCache",
    "decrypt_basic",
    "find_member_ids",
    "get_member_or_raise",
    "identifiers_of",
    "joined_at",
    "lock_members",
    "profile_groups",
    "read_profile",
    "set_membership_cache",
]

_MEMBER_ID = re.compile(r"^[0-9a-f]{26}$")


def get_member_or_raise(session: Session, member_id: str, *, follow_merges: bool = True) -> Member:
    """The member, following merges to the survivor; NotFound otherwise."""
    member = session.get(Member, member_id)
    hops = 0
    while member is not None and follow_merges and member.status == MemberStatus.MERGED:
        member = session.get(Member, member.merged_into_id) if member.merged_into_id else None
        hops += 1
        if hops > 50:
            break
    if member is None:
        raise NotFound(f"member {member_id} not found")
    return member


def find_member_ids(session: Session, keyring: KeyRing, query: str) -> list[str]:
    """Members matching a member id, card number, phone, email, app or WeChat id.

    Lookups by value go through the blind index only (one indexed read per kind tried).
    """
    query = query.strip()
    if _MEMBER_ID.match(query):
        if session.get(Member, query) is None:
            return []
        member = get_member_or_raise(session, query)
        return [] if member.status == MemberStatus.ERASED else [member.id]
    kinds = [
        "card_no",
        "phone",
        "email",
        "app_user_id",
        "wechat_unionid",
        "wechat_openid",
        "pos_customer_code",
    ]
    if "@" in query:
        kinds = ["email"]
    for kind in kinds:
        try:
            value = normalise(kind, query)
        except ValueError:
            continue
        found = find_members_by_identifier(session, keyring, kind=kind, value=value)
        if found:
            return list(dict.fromkeys(get_member_or_raise(session, m).id for m in found))
    return []


def decrypt_basic(keyring: KeyRing, member: Member) -> dict[str, str | None]:
    """Name, nickname and birthday in plaintext (for the member's own eyes or staff)."""
    out: dict[str, str | None] = {}
    for column, logical in ENCRYPTED_MEMBER_FIELDS.items():
        token = getattr(member, column)
        out[logical] = (
            keyring.decrypt(token, table="members", column=column, row_id=member.id)
            if token
            else None
        )
    return out


def identifiers_of(
    session: Session, keyring: KeyRing, member_id: str, *, masked: bool
) -> list[dict[str, Any]]:
    """The member's active identifiers, masked for staff views or in full for exports."""
    rows = session.execute(
        select(
            Identifier.id,
            Identifier.kind,
            Identifier.value_enc,
            MemberIdentifier.verified,
            MemberIdentifier.first_seen_at,
        )
        .join(MemberIdentifier, MemberIdentifier.identifier_id == Identifier.id)
        .where(MemberIdentifier.member_id == member_id, MemberIdentifier.status == "active")
        .order_by(Identifier.kind)
    ).all()
    out = []
    for ident_id, kind, token, verified, first_seen in rows:
        value = keyring.decrypt(token, table="identifiers", column="value_enc", row_id=ident_id)
        out.append(
            {
                "kind": kind,
                "value": mask(kind, value) if masked else value,
                "verified": verified,
                "first_seen_at": first_seen.isoformat(),
            }
        )
    return out


def profile_groups(session: Session, keyring: KeyRing, member: Member) -> dict[str, Any]:
    """The four profile groups (PRODUCT.md §2): basic, membership, transaction, personalised."""
    profile = session.get(MemberProfile, member.id)
    return {
        "id": member.id,
        "created_at": member.created_at.isoformat(),
        "basic": {**decrypt_basic(keyring, member), "gender": member.gender},
        "membership": {
            "tier": member.tier_code,
            "points": member.points_balance,
            "discount_bp": member.discount_bp,
            "home_store_id": member.home_store_id,
        },
        "transaction": profile.transaction if profile else None,
        "personalised": profile.personalised if profile else None,
    }


def read_profile(
    session: Session, keyring: KeyRing, member_id: str, *, actor: Actor, reason: str | None = None
) -> dict[str, Any]:
    """The full profile (four groups), audited as a read by `actor`."""
    member = get_member_or_raise(session, member_id)
    if member.status == MemberStatus.ERASED:
        raise NotFound(f"member {member_id} not found")
    masked = actor.role not in ("admin", "member")
    view = {
        "status": member.status,
        **profile_groups(session, keyring, member),
        "identifiers": identifiers_of(session, keyring, member.id, masked=masked),
        "consents": current_consents(session, member.id),
    }
    audit.record(
        session,
        actor,
        "member.read",
        member_id=member.id,
        fields=["basic", "identifiers", "membership", "transaction", "personalised"],
        reason=reason,
    )
    return view


MembershipCache = tuple[str, str | None, int]
"""(member id, tier code, points balance) as the loyalty ledger last posted them."""


def set_membership_cache(session: Session, rows: list[MembershipCache]) -> None:
    """Store the tier and points the loyalty engine derived, on the member rows.

    Only the loyalty ledger calls this, after its own postings and in the same
    transaction, so the profile shows what the ledger holds; the ledger stays the truth.
    """
    if not rows:
        return
    table = table_of(Member)
    session.execute(
        update(table)
        .where(table.c.id == bindparam("member_key"))
        .values(tier_code=bindparam("tier_value"), points_balance=bindparam("points_value")),
        [{"member_key": m, "tier_value": t, "points_value": p} for m, t, p in rows],
    )


def joined_at(session: Session, member_ids: list[str]) -> dict[str, datetime]:
    """When each member joined (their membership anniversary counts from here)."""
    found: dict[str, datetime] = {}
    for start in range(0, len(member_ids), 1000):
        chunk = member_ids[start : start + 1000]
        for member_id, created_at in session.execute(
            select(Member.id, Member.created_at).where(Member.id.in_(chunk))
        ):
            found[member_id] = created_at
    return found


def lock_members(session: Session, member_ids: list[str]) -> None:
    """Lock member rows in id order (PostgreSQL; SQLite already serialises writers).

    Writers that touch a member row and another capability's per-member rows take the
    member row first, so two of them never wait on each other in a cycle.
    """
    ids = sorted(set(member_ids))
    if session.get_bind().dialect.name != "postgresql":
        return
    for start in range(0, len(ids), 1000):
        session.execute(
            select(Member.id)
            .where(Member.id.in_(ids[start : start + 1000]))
            .order_by(Member.id)
            # FOR NO KEY UPDATE: rows inserted by the same transactions (orders, entries)
            # hold KEY SHARE locks on the member through their foreign keys; a plain FOR
            # UPDATE would wait on those and two imports would deadlock.
            .with_for_update(key_share=True)
        ).all()
