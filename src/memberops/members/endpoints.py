"""Member routes: front-desk lookup and the profile.

A member's own key reaches that member only. Any other member id answers 404, exactly as
an id that does not exist, so a key cannot learn which ids are real (OWASP API1); the
attempt is still audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.api.auth import deny, deny_other_member, require_roles
from memberops.api.deps import OpaqueId, ReadSessionDep, RuntimeDep, SessionDep, get_limiter
from memberops.api.errors import error_responses
from memberops.catalog.service import (
    all_store_codes,
    get_store_id_by_code_or_raise,
    stores_by_code,
)
from memberops.db import transaction
from memberops.errors import Forbidden
from memberops.identity.repository import identifiers_of
from memberops.identity.service import find_member_ids
from memberops.labels.service import members_with_label_query
from memberops.members.models import Member, MemberStatus
from memberops.members.schemas import MemberListItem, MemberMatch, MemberMatches, MemberPage
from memberops.members.service import get_member_or_raise, list_members, read_profile
from memberops.orders.counted import counted_orders_query
from memberops.orders.repository import has_visited_store
from memberops.privacy import audit
from memberops.privacy.crypto import KeyRing
from memberops.runtime import Runtime

__all__ = ["find_member_page", "router"]

router = APIRouter(prefix="/members", tags=["members"])

_READ = error_responses(401, 403, 404, 422, 429, 503)


@router.get("", response_model=MemberMatches | MemberPage, responses=_READ)
def lookup_members(
    request: Request,
    session: ReadSessionDep,
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
    if listing or actor.role == "manager":
        return _list_members(
            session,
            runtime,
            actor,
            query=query,
            tier=tier if listing else None,
            store=store if listing else None,
            label=label if listing else None,
            limit=limit,
            offset=offset if listing else 0,
        )
    assert query is not None
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
        # A till needs only what a checkout quote uses: id, tier and discount.
        matches.append(
            MemberMatch(
                id=member.id,
                tier=member.tier_code,
                phone=phones[0] if phones and actor.role != "pos" else None,
                discount_bp=member.discount_bp if actor.role == "pos" else None,
            )
        )
    # One entry per lookup, naming the match when there is exactly one; the query itself
    # is personal data and is not written down (phone enumeration shows up as volume).
    # The read above took no write lock; only this short write does. The read's
    # connection goes back to the pool first: a request never holds two at once (under
    # load, requests each holding one and waiting for a second would starve the pool).
    session.rollback()
    with transaction(runtime.sessions) as writer:
        audit.record(
            writer,
            actor,
            "member.lookup",
            member_id=matches[0].id if len(matches) == 1 else None,
            fields=["id", "tier", "phone"] if matches else [],
            reason=f"front-desk lookup, {len(matches)} match(es)",
            outcome="ok" if matches else "not_found",
        )
    limiter = get_limiter(request)
    if not matches and limiter is not None:
        limiter.record_miss(actor.id)  # misses have a small budget of their own
    return MemberMatches(members=matches)


@router.get("/{member_id}", response_model=dict[str, Any], responses=_READ)
@router.get(
    "/{member_id}/profile",
    response_model=dict[str, Any],
    responses=_READ,
    description="The same profile read as `GET /v1/members/{member_id}`.",
)
def get_member(
    member_id: OpaqueId,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: Annotated[
        Actor, Depends(require_roles("admin", "staff", "marketer", "analyst", "member"))
    ],
    reason: Annotated[
        str | None, Query(max_length=200, description="why the member is read (audited)")
    ] = None,
) -> dict[str, Any]:
    """The profile as the caller's role may see it (the role x field table in
    docs/api.md): staff get the service card, marketers and analysts a pseudonymous id
    and aggregates, admin and the member themself everything."""
    deny_other_member(runtime, actor, member_id, "profile read")
    why = reason
    if actor.role == "staff" and actor.store_code:
        current = get_member_or_raise(session, member_id)
        store = stores_by_code(session).get(actor.store_code)
        if store is None or not has_visited_store(session, current.id, store[0]):
            # Reading a guest who never came to this store is unusual: the audit entry
            # says so, with the reason given (if any).
            why = f"outside store: no visit to {actor.store_code}" + (
                f"; {reason}" if reason else ""
            )
    return read_profile(session, runtime.keyring, member_id, actor=actor, reason=why)


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
    store_id = get_store_id_by_code_or_raise(session, store) if store is not None else None
    page, total = find_member_page(
        session,
        runtime.keyring,
        query=query,
        tier=tier,
        store_id=store_id,
        label_code=label,
        limit=limit,
        offset=offset,
    )
    codes = all_store_codes(session)
    result = MemberPage(
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
    # The read took no write lock; the audit entry is one short write of its own.
    session.rollback()
    with transaction(runtime.sessions) as writer:
        audit.record(
            writer,
            actor,
            "member.list",
            fields=["id", "tier", "home_store"],
            reason=f"member list, {len(page)} of {total}",
        )
    return result


def find_member_page(
    session: Session,
    keyring: KeyRing,
    *,
    query: str | None = None,
    tier: str | None = None,
    store_id: str | None = None,
    label_code: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Member], int]:
    """One page of the member list, composed from each owner's query: identity resolves
    `query`, orders says who visited `store_id`, labels who holds `label_code`."""
    visitors = None
    if store_id:
        counted = counted_orders_query().subquery("counted")
        visitors = select(counted.c.member_id).where(counted.c.store_id == store_id)
    return list_members(
        session,
        member_ids=find_member_ids(session, keyring, query) if query else None,
        tier=tier,
        store_id=store_id,
        store_visitors=visitors,
        within=[members_with_label_query(label_code)] if label_code else [],
        limit=limit,
        offset=offset,
    )
