"""Member routes: front-desk lookup, profile, export, erasure and consents.

A member's own key reaches that member only. Any other member id answers 404, exactly as
an id that does not exist, so a key cannot learn which ids are real (OWASP API1); the
attempt is still audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.api.deps import RuntimeDep, deny, require_roles
from memberops.api.endpoints import DbSession, OpaqueId
from memberops.api.errors import error_responses
from memberops.api.schemas import (
    ConsentIn,
    ConsentsRead,
    ErasureIn,
    ErasureRead,
    MemberListItem,
    MemberMatch,
    MemberMatches,
    MemberPage,
)
from memberops.catalog.models import Store
from memberops.errors import Forbidden, NotFound
from memberops.members.models import MemberStatus
from memberops.members.service import (
    find_member_ids,
    get_member_or_raise,
    identifiers_of,
    list_members,
    read_profile,
)
from memberops.privacy import audit
from memberops.privacy.consent import current_consents, record_consent
from memberops.privacy.rights import erase_member, export_member
from memberops.runtime import Runtime

__all__ = ["router"]

router = APIRouter(prefix="/members", tags=["members"])

_READ = error_responses(401, 403, 404, 422)


def _self_only(runtime: Runtime, actor: Actor, member_id: str, action: str) -> None:
    """A member key acting on another member: audit it, then answer as if absent."""
    if actor.role == "member" and actor.member_id != member_id:
        deny(runtime, actor, what=f"{action} of another member", member_id=member_id)
        # The same words the services use for a missing member: nothing tells them apart.
        raise NotFound(f"member {member_id} not found")


def _visible_member_id(session: Session, member_id: str) -> str:
    """The member's current id (merges followed); erased members are not found."""
    member = get_member_or_raise(session, member_id)
    if member.status == MemberStatus.ERASED:
        raise NotFound(f"member {member_id} not found")
    return member.id


@router.get("", response_model=MemberMatches | MemberPage, responses=_READ)
def lookup_members(
    session: DbSession,
    runtime: RuntimeDep,
    actor: Annotated[Actor, Depends(require_roles("admin", "manager", "staff", "pos"))],
    query: Annotated[
        str | None,
        Query(min_length=1, max_length=254, description="phone, card, email or member id"),
    ] = None,
    tier: Annotated[str | None, Query(max_length=24)] = None,
    store: Annotated[str | None, Query(max_length=32, description="home store code")] = None,
    label: Annotated[
        str | None, Query(max_length=64, description="a current label code (lifecycle, segment)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> MemberMatches | MemberPage:
    """Front-desk lookup by `query` alone (admin, manager, staff, POS); with any filter or
    none, the paginated member list (admin everywhere, a manager within their store)."""
    listing = query is None or any(v is not None for v in (tier, store, label)) or offset > 0
    if listing:
        return _list_members(
            session,
            runtime,
            actor,
            query=query,
            tier=tier,
            store=store,
            label=label,
            limit=limit,
            offset=offset,
        )
    assert query is not None
    if actor.role == "manager":
        return _list_members(
            session,
            runtime,
            actor,
            query=query,
            tier=None,
            store=None,
            label=None,
            limit=limit,
            offset=0,
        )
    masked = actor.role != "admin"
    matches: list[MemberMatch] = []
    for member_id in find_member_ids(session, runtime.keyring, query):
        member = get_member_or_raise(session, member_id)
        if member.status == MemberStatus.ERASED:
            continue
        phones = [
            i["value"]
            for i in identifiers_of(session, runtime.keyring, member.id, masked=masked)
            if i["kind"] == "phone"
        ]
        matches.append(
            MemberMatch(id=member.id, tier=member.tier_code, phone=phones[0] if phones else None)
        )
    # One entry per lookup, naming the match when there is exactly one; the query itself
    # is personal data and is not written down (phone enumeration shows up as volume).
    audit.record(
        session,
        actor,
        "member.lookup",
        member_id=matches[0].id if len(matches) == 1 else None,
        fields=["id", "tier", "phone"] if matches else [],
        reason=f"front-desk lookup, {len(matches)} match(es)",
        outcome="ok" if matches else "not_found",
    )
    return MemberMatches(members=matches)


def _list_members(
    session: Session,
    runtime: Runtime,
    actor: Actor,
    *,
    query: str | None,
    tier: str | None,
    store: str | None,
    label: str | None,
    limit: int,
    offset: int,
) -> MemberPage:
    """The member list: admins see every store, a manager their own; others may not list."""
    if actor.role not in ("admin", "manager"):
        session.rollback()
        deny(runtime, actor, what="member list needs admin/manager")
        raise Forbidden("listing members needs one of the roles: admin, manager")
    if actor.role == "manager" and actor.store_code:
        store = actor.store_code
    store_id = None
    if store is not None:
        store_id = session.scalar(select(Store.id).where(Store.code == store))
        if store_id is None:
            raise NotFound(f"store {store} not found")
    page, total = list_members(
        session,
        runtime.keyring,
        query=query,
        tier=tier,
        store_id=store_id,
        label_code=label,
        limit=limit,
        offset=offset,
    )
    codes = {sid: code for sid, code in session.execute(select(Store.id, Store.code))}
    audit.record(
        session,
        actor,
        "member.list",
        fields=["id", "tier", "home_store"],
        reason=f"member list, {len(page)} of {total}",
    )
    return MemberPage(
        members=[
            MemberListItem(
                id=m.id,
                tier=m.tier_code,
                points=m.points_balance,
                home_store=codes.get(m.home_store_id) if m.home_store_id else None,
                created_at=m.created_at,
            )
            for m in page
        ],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{member_id}", response_model=dict[str, Any], responses=_READ)
def get_member(
    member_id: OpaqueId,
    session: DbSession,
    runtime: RuntimeDep,
    actor: Annotated[Actor, Depends(require_roles("admin", "staff", "pos", "marketer", "member"))],
) -> dict[str, Any]:
    """The profile in four groups; identifiers are masked for every role but admin and
    the member themself."""
    _self_only(runtime, actor, member_id, "profile read")
    return read_profile(session, runtime.keyring, member_id, actor=actor)


@router.get("/{member_id}/export", response_model=dict[str, Any], responses=_READ)
def export(
    member_id: OpaqueId,
    session: DbSession,
    runtime: RuntimeDep,
    actor: Annotated[Actor, Depends(require_roles("admin", "member"))],
) -> dict[str, Any]:
    """Everything held about the member (PIPL Art. 45, GDPR Art. 15 and 20), audited."""
    _self_only(runtime, actor, member_id, "export")
    return export_member(session, runtime.keyring, member_id, actor=actor)


@router.delete("/{member_id}", response_model=ErasureRead, responses=_READ)
def erase(
    member_id: OpaqueId,
    erasure: ErasureIn,
    session: DbSession,
    runtime: RuntimeDep,
    actor: Annotated[Actor, Depends(require_roles("admin", "member"))],
) -> ErasureRead:
    """Erase the member's personal data (PIPL Art. 47, GDPR Art. 17); safe to repeat."""
    _self_only(runtime, actor, member_id, "erasure")
    erased = erase_member(session, member_id, actor=actor, reason=erasure.reason)
    return ErasureRead(erased=erased, already_erased=not erased)


@router.get("/{member_id}/consents", response_model=ConsentsRead, responses=_READ)
def get_consents(
    member_id: OpaqueId,
    session: DbSession,
    runtime: RuntimeDep,
    actor: Annotated[Actor, Depends(require_roles("admin", "staff", "member"))],
) -> ConsentsRead:
    """The current decision for every purpose (no decision reads as not granted)."""
    _self_only(runtime, actor, member_id, "consent read")
    current_id = _visible_member_id(session, member_id)
    return ConsentsRead(member_id=current_id, consents=current_consents(session, current_id))


@router.post("/{member_id}/consents", response_model=ConsentsRead, responses=_READ)
def post_consent(
    member_id: OpaqueId,
    consent: ConsentIn,
    session: DbSession,
    runtime: RuntimeDep,
    actor: Annotated[Actor, Depends(require_roles("admin", "staff", "member"))],
) -> ConsentsRead:
    """Give or withdraw consent for one purpose; answers with the state afterwards."""
    _self_only(runtime, actor, member_id, "consent change")
    current_id = _visible_member_id(session, member_id)
    record_consent(
        session,
        member_id=current_id,
        purpose=consent.purpose,
        granted=consent.granted,
        channel=consent.channel,
        source="api",
        notice_version=consent.notice_version,
        actor=actor,
    )
    return ConsentsRead(member_id=current_id, consents=current_consents(session, current_id))
