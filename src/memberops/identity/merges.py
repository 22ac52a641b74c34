"""Merges and unmerges: two members found to be one person, and undoing that exactly.

Survivorship (documented in docs/identity.md): the older member survives; its personal
fields win, gaps are filled from the absorbed member (`memberops.members.service`);
everything the absorbed member owned follows the survivor (tables declaring
`info={"member_owned": "move"}`); the absorbed member is kept (status "merged") and the
merge record lists every moved row so `unmerge` restores both members exactly. State
other capabilities own moves through their merge handlers (`memberops.identity.hooks`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.db import utcnow
from memberops.errors import Conflict, NotFound
from memberops.identity.hooks import (
    MergeEvent,
    ReturnRequest,
    UnmergeEvent,
    merge_handlers,
    order_returners,
)
from memberops.identity.models import MemberIdentifier, MergeRecord
from memberops.identity.repository import active_identifier_ids
from memberops.identity.rules import SINGLE_PER_MEMBER_KINDS, oldest_first
from memberops.members.models import MemberStatus
from memberops.members.ownership import member_owned_tables
from memberops.members.repository import get_member_or_none
from memberops.members.service import absorb_member, drop_profiles, restore_member
from memberops.privacy import audit
from memberops.privacy.consent import refresh_consent_state
from memberops.privacy.crypto import KeyRing
from memberops.repository import get_one

__all__ = ["merge_by_decision", "merge_members", "unmerge"]

_IN_CHUNK = 500


def merge_members(
    session: Session,
    keyring: KeyRing,
    *,
    survivor_id: str,
    absorbed_id: str,
    evidence: Sequence[str],
    reason: str,
    actor: Actor,
) -> MergeRecord:
    """Merge `absorbed` into `survivor`, recording every moved row so it can be undone."""
    survivor = get_member_or_none(session, survivor_id)
    absorbed = get_member_or_none(session, absorbed_id)
    if survivor is None or absorbed is None:
        raise NotFound("member to merge not found")
    if survivor.status != MemberStatus.ACTIVE or absorbed.status != MemberStatus.ACTIVE:
        raise Conflict("only active members can be merged")
    record = MergeRecord(
        survivor_id=survivor_id,
        absorbed_id=absorbed_id,
        reason=reason[:200],
        evidence=list(evidence),
        actor=actor.label,
    )
    moved = _move_owned_rows(session, from_member=absorbed_id, to_member=survivor_id)
    record.moved = moved

    # Links: move, except identifiers the survivor already holds (a shared phone) and, in
    # a merge a reviewer decided, a second card or account: the survivor's stays active and
    # the absorbed one is kept inactive, so an unmerge brings it back.
    survivor_links = session.execute(
        select(MemberIdentifier.identifier_id, MemberIdentifier.kind).where(
            MemberIdentifier.member_id == survivor_id, MemberIdentifier.status == "active"
        )
    ).all()
    survivor_idents = {ident for ident, _kind in survivor_links}
    survivor_single_kinds = {kind for _ident, kind in survivor_links} & SINGLE_PER_MEMBER_KINDS
    moved_links: list[str] = []
    deactivated: list[str] = []
    for link in session.scalars(
        select(MemberIdentifier).where(
            MemberIdentifier.member_id == absorbed_id, MemberIdentifier.status == "active"
        )
    ):
        if link.identifier_id in survivor_idents or link.kind in survivor_single_kinds:
            link.status = "inactive"
            deactivated.append(link.id)
        else:
            link.member_id = survivor_id
            moved_links.append(link.id)
    record.moved_links = moved_links
    record.deactivated_links = deactivated

    # Survivorship of the member row is the members capability's rule.
    record.survivor_before = absorb_member(keyring, survivor, absorbed)
    session.add(record)
    session.flush()
    # State other capabilities own (points, tiers, vouchers) moves by their own postings.
    event = MergeEvent(
        merge_id=record.id,
        survivor_id=survivor_id,
        absorbed_id=absorbed_id,
        actor=actor,
        at=utcnow(),
    )
    for handler in merge_handlers():
        handler.on_merge(session, event)
    _refresh_derived(session, [survivor_id, absorbed_id], consents_moved="consents" in moved)
    audit.record(
        session,
        actor,
        "identity.merge",
        member_id=survivor_id,
        fields=list(moved),
        reason=f"merge {record.id}: absorbed {absorbed_id}; {reason}",
    )
    return record


def _move_owned_rows(session: Session, *, from_member: str, to_member: str) -> dict[str, list[str]]:
    """Point every member-owned row of one member at another; returns table -> moved ids.

    On PostgreSQL all tables move in one statement (data-modifying CTEs), one round trip
    per merge instead of one per table; elsewhere one UPDATE ... RETURNING per table.
    """
    owned_tables = member_owned_tables("move")
    moved: dict[str, list[str]] = {}
    if session.get_bind().dialect.name == "postgresql":
        # Table and column names come from the metadata, never from input.
        parts = []
        for i, owned in enumerate(owned_tables):
            (pk,) = owned.primary_key
            column = owned.column.name
            parts.append(
                f"m{i} AS (UPDATE {owned.name} SET {column} = :to_member"  # noqa: S608
                f" WHERE {column} = :from_member"
                f" RETURNING '{owned.name}'::text AS t, {pk.name}::text AS id)"
            )
        selects = [f"SELECT t, id FROM m{i}" for i in range(len(parts))]  # noqa: S608
        statement = f"WITH {', '.join(parts)} {' UNION ALL '.join(selects)}"
        rows = session.execute(
            text(statement), {"to_member": to_member, "from_member": from_member}
        )
        for table_name, row_id in rows:
            moved.setdefault(str(table_name), []).append(str(row_id))
        return moved
    for owned in owned_tables:
        (pk,) = owned.primary_key
        ids = [
            str(i)
            for i in session.scalars(
                owned.table.update()
                .where(owned.column == from_member)
                .values({owned.column.name: to_member})
                .returning(pk)
            )
        ]
        if ids:
            moved[owned.name] = ids
    return moved


def _refresh_derived(
    session: Session, member_ids: Sequence[str], *, consents_moved: bool = True
) -> None:
    """Recompute rows derived from moved history (consent state; profiles on next run)."""
    if consents_moved:
        for member_id in member_ids:
            refresh_consent_state(session, member_id)
    drop_profiles(session, member_ids)


def unmerge(session: Session, keyring: KeyRing, *, merge_id: str, actor: Actor) -> MergeRecord:
    """Undo a merge: both members, their identifiers and their history come back."""
    record = get_one(session, MergeRecord, merge_id, what="merge")
    if record.status != "active":
        raise Conflict(f"merge {merge_id} was already undone")
    survivor = get_member_or_none(session, record.survivor_id)
    absorbed = get_member_or_none(session, record.absorbed_id)
    assert survivor is not None and absorbed is not None
    if survivor.status != MemberStatus.ACTIVE:
        raise Conflict(f"member {survivor.id} was merged again later; undo that merge first")
    absorbed_links = set(record.moved_links)
    for link in session.scalars(
        select(MemberIdentifier).where(MemberIdentifier.id.in_(absorbed_links))
    ):
        link.member_id = absorbed.id
    for link in session.scalars(
        select(MemberIdentifier).where(MemberIdentifier.id.in_(record.deactivated_links))
    ):
        link.status = "active"
    session.flush()
    absorbed_ident_ids = active_identifier_ids(session, absorbed.id)
    survivor_ident_ids = active_identifier_ids(session, survivor.id) - absorbed_ident_ids

    tables = {owned.name: owned for owned in member_owned_tables("move")}
    for table_name, ids in record.moved.items():
        owned = tables.get(table_name)
        if owned is None:
            continue
        (pk,) = owned.primary_key
        for start in range(0, len(ids), _IN_CHUNK):
            session.execute(
                owned.table.update()
                .where(pk.in_(ids[start : start + _IN_CHUNK]), owned.column == survivor.id)
                .values({owned.column.name: absorbed.id})
            )
    # Orders that arrived after the merge through the absorbed member's identifiers go
    # back too; the orders capability finds them (identity does not read orders).
    request = ReturnRequest(
        survivor_id=survivor.id,
        absorbed_id=absorbed.id,
        merged_at=record.created_at,
        absorbed_identifier_ids=frozenset(absorbed_ident_ids),
        survivor_identifier_ids=frozenset(survivor_ident_ids),
    )
    later_orders = [
        order_id
        for returner in order_returners()
        for order_id in returner.return_orders(session, request)
    ]

    # Take back exactly what the merge gave the survivor; later changes stay.
    restore_member(survivor, absorbed, record.survivor_before)
    record.status = "undone"
    record.undone_at = utcnow()
    record.undone_by = actor.label
    session.flush()
    event = UnmergeEvent(
        merge_id=record.id,
        survivor_id=survivor.id,
        absorbed_id=absorbed.id,
        actor=actor,
        at=utcnow(),
        returned_order_ids=(*record.moved.get("orders", []), *later_orders),
    )
    for handler in reversed(merge_handlers()):
        handler.on_unmerge(session, event)
    _refresh_derived(session, [survivor.id, absorbed.id])
    audit.record(
        session,
        actor,
        "identity.unmerge",
        member_id=survivor.id,
        reason=f"unmerge {record.id}: restored {absorbed.id}",
    )
    return record


def merge_by_decision(
    session: Session, keyring: KeyRing, *, member_ids: Sequence[str], actor: Actor, reason: str
) -> list[MergeRecord]:
    """A reviewer's merge: the members are one person (the oldest survives)."""
    members = [get_member_or_none(session, m) for m in dict.fromkeys(member_ids)]
    if len(members) < 2:
        raise Conflict("a merge needs two different members")
    found = [m for m in members if m is not None]
    if len(found) != len(members):
        raise NotFound("member to merge not found")
    survivor, *others = oldest_first((m.id, m.created_at) for m in found)
    return [
        merge_members(
            session,
            keyring,
            survivor_id=survivor,
            absorbed_id=other,
            evidence=["review"],
            reason=f"decided by {actor.label}: {reason}"[:200],
            actor=actor,
        )
        for other in others
    ]
