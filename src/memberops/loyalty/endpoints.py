"""Loyalty routes: tier and points of a member, redemptions, the checkout quote, policy.

Roles: admin everything; pos quotes, redeems and reads tier and points at checkout;
staff reads tier and points; a member key reads its own member only (any other id is
404, like a missing one); marketer and analyst never see a single member's loyalty.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header

from memberops.actor import Actor
from memberops.api.auth import deny, require_roles
from memberops.api.deps import RuntimeDep, SessionDep
from memberops.api.errors import error_responses
from memberops.db import utcnow
from memberops.errors import NotFound, ValidationError
from memberops.loyalty import idempotency, service
from memberops.loyalty.rules import parse_policy
from memberops.loyalty.schemas import (
    PointsRead,
    PolicyIn,
    PolicyRead,
    QuoteIn,
    QuoteRead,
    RedemptionIn,
    RedemptionRead,
    SimulationIn,
    TierRead,
)
from memberops.runtime import Runtime

__all__ = ["router"]

router = APIRouter(tags=["loyalty"])

ReaderDep = Annotated[Actor, Depends(require_roles("admin", "pos", "staff", "member"))]
CheckoutDep = Annotated[Actor, Depends(require_roles("admin", "pos"))]
AdminDep = Annotated[Actor, Depends(require_roles("admin"))]
_READ = error_responses(401, 403, 404, 422)
_WRITE = error_responses(401, 403, 404, 409, 422)


def _own_only(runtime: Runtime, actor: Actor, member_id: str, what: str) -> None:
    if actor.role == "member" and actor.member_id != member_id:
        deny(runtime, actor, what=f"{what} of another member", member_id=member_id)
        raise NotFound(f"member {member_id} not found")


@router.get("/members/{member_id}/tier", response_model=TierRead, responses=_READ)
def get_tier(
    member_id: str, session: SessionDep, runtime: RuntimeDep, actor: ReaderDep
) -> dict[str, Any]:
    """Current tier, why, and what is still needed to keep it and to reach the next."""
    _own_only(runtime, actor, member_id, "tier read")
    return service.explain_tier(session, member_id=member_id)


@router.get("/members/{member_id}/points", response_model=PointsRead, responses=_READ)
def get_points(
    member_id: str, session: SessionDep, runtime: RuntimeDep, actor: ReaderDep
) -> dict[str, Any]:
    """Balance, open lots and recent ledger entries."""
    _own_only(runtime, actor, member_id, "points read")
    return service.points_view(session, member_id=member_id)


@router.post("/redemptions", response_model=RedemptionRead, responses=_WRITE)
def post_redemption(
    body: RedemptionIn,
    session: SessionDep,
    actor: CheckoutDep,
    idempotency_key: Annotated[str, Header(min_length=1, max_length=120)],
) -> RedemptionRead:
    """Spend points. A retry (any request id) of the same document returns the stored
    redemption; the balance never goes below zero (409 when too few points).

    The `Idempotency-Key` is kept 24 h: a replay within 24 h returns the first answer
    unchanged (the same key with another body is 409); after 24 h the key may be reused.
    """
    scope, now = f"{actor.kind}:{actor.id}", utcnow()
    fingerprint = idempotency.request_hash("POST /v1/redemptions", body.model_dump())
    stored = idempotency.replay(
        session, scope=scope, key=idempotency_key, fingerprint=fingerprint, now=now
    )
    if stored is not None:
        return RedemptionRead.model_validate(dict(stored))
    result = service.redeem(
        session,
        member_id=body.member_id,
        points=body.points,
        source_system=body.source_system,
        redemption_id=body.redemption_id,
        actor=actor,
        idempotency_key=idempotency_key,
    )
    read = _read(result)
    idempotency.remember(
        session,
        scope=scope,
        key=idempotency_key,
        fingerprint=fingerprint,
        response=read.model_dump(mode="json"),
        now=now,
    )
    return read


def _read(result: service.RedemptionResult) -> RedemptionRead:
    return RedemptionRead(
        id=result.id,
        member_id=result.member_id,
        points=result.points,
        status=result.status,
        balance=result.balance,
        replayed=result.replayed,
        lots=result.lots,
    )


@router.post(
    "/redemptions/{source_system}/{redemption_id}/cancel",
    response_model=RedemptionRead,
    responses=_WRITE,
)
def cancel_redemption(
    source_system: str, redemption_id: str, session: SessionDep, actor: CheckoutDep
) -> RedemptionRead:
    """Cancel a redemption: points come back to their lots (expired lots: as expired)."""
    return _read(
        service.cancel_redemption(
            session, source_system=source_system, redemption_id=redemption_id, actor=actor
        )
    )


@router.post("/quote", response_model=QuoteRead, responses=_WRITE)
def post_quote(body: QuoteIn, session: SessionDep, actor: CheckoutDep) -> dict[str, Any]:
    """Price a basket, itemised; never above the public price."""
    return service.quote(
        session,
        member_id=body.member_id,
        items=[(i.sku, i.quantity) for i in body.items],
        voucher_codes=body.vouchers,
        coupon_codes=body.coupons,
    )


@router.get("/loyalty/policy", responses=_READ)
def get_policy(session: SessionDep, _actor: AdminDep) -> list[dict[str, Any]]:
    """Stored policy versions, newest first."""
    return service.policy_history(session)


@router.post("/loyalty/policy/validate", responses=_WRITE)
def validate_policy(body: PolicyIn, _actor: AdminDep) -> dict[str, Any]:
    """Validate a policy document (errors name the line)."""
    policy = parse_policy(body.document)
    return {"ok": True, "name": policy.name, "tiers": [t.code for t in policy.tiers]}


@router.post("/loyalty/policy", response_model=PolicyRead, responses=_WRITE)
def activate_policy(body: PolicyIn, session: SessionDep, actor: AdminDep) -> PolicyRead:
    """Store and activate a policy document."""
    doc = service.activate_policy(session, body.document, actor=actor)
    return PolicyRead(version=doc.version, name=doc.name, status=doc.status)


@router.post("/loyalty/simulate", responses=_WRITE)
def simulate(body: SimulationIn, session: SessionDep, _actor: AdminDep) -> dict[str, Any]:
    """Replay history under a proposed policy against the active one (writes nothing)."""
    proposed = parse_policy(body.document)
    as_of = None
    if body.as_of is not None:
        try:
            as_of = datetime.fromisoformat(body.as_of)
        except ValueError:
            raise ValidationError("simulation", "as_of", "is not an ISO time") from None
        if as_of.tzinfo is None:
            raise ValidationError("simulation", "as_of", "needs an offset")
    return service.simulate_policy(session, proposed, as_of=as_of)
