"""The member row: fetching it, its personal fields, survivorship on merges, and the
profile read (always with an actor and an audit entry).

Identity resolves records to members and calls the functions here to create, merge and
restore member rows; only this package names the member's columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    any_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.db import table_of, utcnow
from memberops.errors import Forbidden, NotFound
from memberops.members import rules as member_rules
from memberops.members.hooks import computed_groups, profile_sections
from memberops.members.models import ENCRYPTED_MEMBER_FIELDS, Member, MemberProfile, MemberStatus
from memberops.privacy import audit
from memberops.privacy.consent import current_consents
from memberops.privacy.crypto import KeyRing

__all__ = [
    "SURVIVORSHIP_COLUMNS",
    "MembershipCache",
    "absorb_member",
    "decrypt_basic",
    "drop_profiles",
    "erase_personal_fields",
    "get_member_or_raise",
    "joined_at",
    "list_members",
    "lock_members",
    "new_member_row",
    "profile_groups",
    "pseudonym_of",
    "read_profile",
    "restore_member",
    "set_membership_cache",
    "set_tier_cache",
]

# Plain columns a merge fills on the survivor when it has none (personal fields are
# encrypted and handled with their keys). The points balance is not here: it moves by its
# merge handler (memberops.members.hooks), later by loyalty postings.
SURVIVORSHIP_COLUMNS = ("gender", "discount_bp", "home_store_id")


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


def profile_groups(session: Session, keyring: KeyRing, member: Member) -> dict[str, Any]:
    """The four profile groups (PRODUCT.md §2): basic, membership, transaction, personalised."""
    computed = computed_groups(session, member.id)
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
        "transaction": computed["transaction"],
        "personalised": computed["personalised"],
    }


def pseudonym_of(keyring: KeyRing, member_id: str) -> str:
    """A stable pseudonymous id for marketing and analysis (not reversible without keys)."""
    return "p_" + keyring.blind_index("member_pseudonym", member_id)[:24]


def read_profile(
    session: Session,
    keyring: KeyRing,
    member_id: str,
    *,
    actor: Actor,
    reason: str | None = None,
) -> dict[str, Any]:
    """The profile as `actor`'s role may see it (`members.rules.FIELD_ACCESS`), audited
    as a read naming the fields shown. POS keys have no profile (Forbidden)."""
    if actor.role not in member_rules.PROFILE_ROLES and actor.role != "system":
        raise Forbidden("a profile read needs one of: " + ", ".join(member_rules.PROFILE_ROLES))
    member = get_member_or_raise(session, member_id)
    if member.status == MemberStatus.ERASED:
        raise NotFound(f"member {member_id} not found")
    groups = profile_groups(session, keyring, member)
    basic = groups["basic"]
    basic["display_name"] = basic.get("nickname") or basic.get("name")
    sections = {
        name: section(session, keyring, member.id, actor)
        for name, section in profile_sections().items()
    }
    identifiers = sections.get("identifiers") or []
    phones = [
        i.get("value") for i in identifiers if isinstance(i, dict) and i.get("kind") == "phone"
    ]
    personalised = groups.get("personalised") or {}
    full = {
        "status": member.status,
        **groups,
        **sections,
        "phone": phones[0] if phones else None,
        "favourite_dishes": personalised.get("top_dishes"),
        "consents": current_consents(session, member.id),
    }
    role = "admin" if actor.role == "system" else actor.role
    view = member_rules.project_profile(role, full, pseudonym=pseudonym_of(keyring, member.id))
    audit.record(
        session,
        actor,
        "member.read",
        member_id=member.id,
        fields=sorted(view),
        reason=reason,
    )
    return view


def new_member_row(member_id: str, *, created_at: datetime, first_channel: str) -> dict[str, Any]:
    """A fresh member as a row for bulk insert (every column given: COPY applies no defaults)."""
    now = utcnow()
    return {
        "id": member_id,
        "status": MemberStatus.ACTIVE,
        "created_at": created_at if created_at < now else now,
        "updated_at": now,
        "first_channel": first_channel,
        "points_balance": 0,
        # executemany needs every row to carry the same columns
        **dict.fromkeys((*ENCRYPTED_MEMBER_FIELDS, "gender")),
    }


def absorb_member(keyring: KeyRing, survivor: Member, absorbed: Member) -> dict[str, Any]:
    """Survivorship: the survivor's values win, gaps are filled from the absorbed member,
    and the absorbed member is marked merged. Returns the survivor's values before, which
    `restore_member` needs to undo exactly this."""
    before = {
        "name_enc": survivor.name_enc,
        "nickname_enc": survivor.nickname_enc,
        "birthday_enc": survivor.birthday_enc,
        "gender": survivor.gender,
        "discount_bp": survivor.discount_bp,
        "home_store_id": survivor.home_store_id,
        "created_at": survivor.created_at.isoformat(),
    }
    for column in ENCRYPTED_MEMBER_FIELDS:
        if getattr(survivor, column) is None and getattr(absorbed, column) is not None:
            plain = keyring.decrypt(
                getattr(absorbed, column), table="members", column=column, row_id=absorbed.id
            )
            setattr(
                survivor,
                column,
                keyring.encrypt(plain, table="members", column=column, row_id=survivor.id),
            )
    for column in SURVIVORSHIP_COLUMNS:
        if getattr(survivor, column) is None:
            setattr(survivor, column, getattr(absorbed, column))
    survivor.created_at = min(survivor.created_at, absorbed.created_at)
    absorbed.status = MemberStatus.MERGED
    absorbed.merged_into_id = survivor.id
    return before


def restore_member(survivor: Member, absorbed: Member, before: dict[str, Any]) -> None:
    """Take back exactly what a merge gave the survivor (later changes stay); the absorbed
    member is active again."""
    for column in (*ENCRYPTED_MEMBER_FIELDS, *SURVIVORSHIP_COLUMNS):
        if before.get(column) is None:
            setattr(survivor, column, None)
    survivor.created_at = datetime.fromisoformat(before["created_at"])
    absorbed.status = MemberStatus.ACTIVE
    absorbed.merged_into_id = None


def drop_profiles(session: Session, member_ids: Sequence[str]) -> None:
    """Forget computed profiles (stale once history moves; the pipeline rebuilds them)."""
    session.execute(delete(MemberProfile).where(MemberProfile.member_id.in_(list(member_ids))))


def erase_personal_fields(member: Member) -> None:
    """Remove the member's personal fields and mark them erased (the row and its opaque id
    stay, so orders keep their owner under a pseudonym)."""
    for column in ENCRYPTED_MEMBER_FIELDS:
        setattr(member, column, None)
    member.gender = None
    member.status = MemberStatus.ERASED
    member.erased_at = utcnow()


def list_members(
    session: Session,
    *,
    member_ids: Sequence[str] | None = None,
    tier: str | None = None,
    store_id: str | None = None,
    store_visitors: Select[str | None] | None = None,
    within: Sequence[Select[str | None]] = (),
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Member], int]:
    """Active members newest first, filtered; returns (page, total).

    `member_ids` keeps only those members (an identifier lookup made by the caller);
    `store_id` keeps members whose home store it is or who appear in `store_visitors`
    (member ids with a counted order there); each select in `within` must also hold the
    member (a current label, a segment). Other capabilities' selects come from the
    caller, so members reads no table but its own.
    """
    conditions: list[ColumnElement[bool]] = [Member.status == MemberStatus.ACTIVE]
    if member_ids is not None:
        conditions.append(Member.id.in_(list(member_ids) or [""]))
    if tier:
        conditions.append(Member.tier_code == tier)
    if store_id:
        home = Member.home_store_id == store_id
        conditions.append(
            or_(home, Member.id.in_(store_visitors)) if store_visitors is not None else home
        )
    for subquery in within:
        conditions.append(Member.id.in_(subquery))
    stmt = select(Member).where(*conditions)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = session.scalars(
        stmt.order_by(Member.created_at.desc(), Member.id.desc()).limit(limit).offset(offset)
    ).all()
    return list(page), total


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


def set_tier_cache(session: Session, tier_code: str, member_ids: Sequence[str]) -> None:
    """Store one tier on many member rows at once (the loyalty period-end job, whose moves
    change tiers but no balance), in a few statements instead of one per member."""
    table = table_of(Member)
    postgresql = session.get_bind().dialect.name == "postgresql"
    for start in range(0, len(member_ids), 5000):
        ids = list(member_ids[start : start + 5000])
        # PostgreSQL plans one array parameter far faster than thousands of IN values.
        match = (
            table.c.id == any_(bindparam("ids", ids, type_=ARRAY(String)))
            if postgresql
            else table.c.id.in_(ids)
        )
        session.execute(update(table).where(match).values(tier_code=tier_code))


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
