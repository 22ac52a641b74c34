"""Campaign and coupon routes.

Roles: admin creates and ends campaigns and defines coupons; admin and marketer issue
coupons (to pseudonymous member ids or to tiers); admin, manager and marketer read
campaigns and coupon definitions (no personal data: definitions and counts); admin and
pos redeem a coupon at checkout; a member's coupons are read by admin, manager, pos and
staff, and by a member key for its own member only (any other id is 404).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, status

from memberops.actor import Actor
from memberops.api.auth import deny_other_member, require_roles
from memberops.api.deps import RuntimeDep, SessionDep
from memberops.api.errors import error_responses
from memberops.db import utcnow
from memberops.loyalty import campaigns, coupons, service
from memberops.loyalty.campaign_schemas import (
    CampaignIn,
    CouponDefinitionIn,
    CouponIssueIn,
    CouponRedeemIn,
)

__all__ = ["router"]

router = APIRouter(tags=["loyalty"])

AdminDep = Annotated[Actor, Depends(require_roles("admin"))]
ReadDep = Annotated[Actor, Depends(require_roles("admin", "manager", "marketer"))]
IssueDep = Annotated[Actor, Depends(require_roles("admin", "marketer"))]
CheckoutDep = Annotated[Actor, Depends(require_roles("admin", "pos"))]
MemberReadDep = Annotated[
    Actor, Depends(require_roles("admin", "manager", "pos", "staff", "member"))
]
_READ = error_responses(401, 403, 404, 422)
_WRITE = error_responses(401, 403, 404, 409, 422)


# ----------------------------------------------------------------------------- campaigns
@router.post(
    "/campaigns", status_code=status.HTTP_201_CREATED, responses=_WRITE, tags=["campaigns"]
)
def create_campaign(body: CampaignIn, session: SessionDep, actor: AdminDep) -> dict[str, Any]:
    """Create a campaign bonus (validity in the chain's local time)."""
    _, policy = service.active_policy(session)
    campaign = campaigns.create_campaign(session, body.document(), policy=policy, actor=actor)
    return campaigns.campaign_view(session, campaign, policy.zone)


@router.get("/campaigns", responses=_READ, tags=["campaigns"])
def list_campaigns(
    session: SessionDep,
    _actor: ReadDep,
    state: Annotated[Literal["active", "ended"] | None, Query(alias="status")] = None,
) -> list[dict[str, Any]]:
    """Campaigns, newest first."""
    _, policy = service.active_policy(session)
    return campaigns.list_campaigns(session, policy.zone, status=state)


@router.get("/campaigns/{code}", responses=_READ, tags=["campaigns"])
def show_campaign(code: str, session: SessionDep, _actor: ReadDep) -> dict[str, Any]:
    """A campaign, its history and how often it applied."""
    _, policy = service.active_policy(session)
    return campaigns.campaign_view(
        session, campaigns.get_campaign_or_raise(session, code), policy.zone
    )


@router.post("/campaigns/{code}/end", responses=_WRITE, tags=["campaigns"])
def end_campaign(code: str, session: SessionDep, actor: AdminDep) -> dict[str, Any]:
    """End a campaign now; orders placed before still earn its bonus when they land."""
    _, policy = service.active_policy(session)
    campaign = campaigns.end_campaign(session, code, actor=actor)
    return campaigns.campaign_view(session, campaign, policy.zone)


# ----------------------------------------------------------------------------- coupons
@router.post("/coupons", status_code=status.HTTP_201_CREATED, responses=_WRITE, tags=["coupons"])
def define_coupon(body: CouponDefinitionIn, session: SessionDep, actor: AdminDep) -> dict[str, Any]:
    """Define a coupon (percent or fixed off, minimum spend, items, local validity)."""
    _, policy = service.active_policy(session)
    definition = coupons.define_coupon(session, body.document(), zone=policy.zone, actor=actor)
    return coupons.definition_view(session, definition, policy.zone)


@router.get("/coupons", responses=_READ, tags=["coupons"])
def list_coupons(session: SessionDep, _actor: ReadDep) -> list[dict[str, Any]]:
    """Coupon definitions with issued and redeemed counts."""
    _, policy = service.active_policy(session)
    return coupons.list_definitions(session, policy.zone)


@router.post("/coupons/redeem", responses=_WRITE, tags=["coupons"])
def redeem_coupon(body: CouponRedeemIn, session: SessionDep, actor: CheckoutDep) -> dict[str, Any]:
    """Consume a coupon once (409 when it is already used by another document)."""
    return coupons.redeem_coupon(
        session,
        code=body.code,
        member_id=body.member_id,
        source_system=body.source_system,
        reference=body.reference,
        amount_cents=body.amount_cents,
        actor=actor,
    )


@router.get("/coupons/{code}", responses=_READ, tags=["coupons"])
def show_coupon(code: str, session: SessionDep, _actor: ReadDep) -> dict[str, Any]:
    """A coupon definition with issued and redeemed counts."""
    _, policy = service.active_policy(session)
    return coupons.definition_view(
        session, coupons.get_definition_or_raise(session, code), policy.zone
    )


@router.post("/coupons/{code}/issue", responses=_WRITE, tags=["coupons"])
def issue_coupon(
    code: str, body: CouponIssueIn, session: SessionDep, actor: IssueDep
) -> dict[str, Any]:
    """Issue personalised coupons to members or tiers, up to the per-member limit."""
    _, policy = service.active_policy(session)
    report = coupons.issue_coupons(
        session, code, member_ids=body.member_ids, tiers=body.tiers, policy=policy, actor=actor
    )
    return dict(report)


@router.get("/members/{member_id}/coupons", responses=_READ, tags=["coupons"])
def member_coupons(
    member_id: str, session: SessionDep, runtime: RuntimeDep, actor: MemberReadDep
) -> list[dict[str, Any]]:
    """A member's coupons (a member key: its own only)."""
    deny_other_member(runtime, actor, member_id, "coupons read")
    return coupons.member_coupons(session, member_id, at=utcnow())
