"""Member routes: front-desk lookup and the profile.

A member's own key reaches that member only. Any other member id answers 404, exactly as
an id that does not exist, so a key cannot learn which ids are real (OWASP API1); the
attempt is still audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from memberops.actor import Actor
from memberops.api.auth import deny_other_member, require_roles
from memberops.api.deps import OpaqueId, ReadSessionDep, RuntimeDep, SessionDep, get_limiter
from memberops.api.errors import error_responses
from memberops.catalog.service import stores_by_code
from memberops.db import transaction
from memberops.identity.repository import identifiers_of
from memberops.identity.service import find_member_ids
from memberops.members.models import MemberStatus
from memberops.members.schemas import MemberMatch, MemberMatches
from memberops.members.service import get_member_or_raise, read_profile
from memberops.orders.repository import has_visited_store
from memberops.privacy import audit

__all__ = ["router"]

router = APIRouter(prefix="/members", tags=["members"])

_READ = error_responses(401, 403, 404, 422, 429, 503)


@router.get("", response_model=MemberMatches, responses=_READ)
def lookup_members(
    request: Request,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    actor: Annotated[Actor, Depends(require_roles("admin", "staff", "pos"))],
    query: Annotated[
        str, Query(min_length=1, max_length=254, description="phone, card, email or member id")
    ],
) -> MemberMatches:
    """Front-desk lookup: id, tier and masked phone of each match, every lookup audited."""
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
