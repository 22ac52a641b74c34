"""Coupons: definitions, personalised issuance, pricing in the quote, redemption.

A definition (percent or fixed amount off, minimum spend, eligible SKUs or categories,
validity in the chain's local time, per-member limit) is issued as personalised coupons,
one row and one code per coupon, to listed members or to the members of some tiers. The
per-member limit holds under concurrent issuers because issuance locks the member rows
first. A coupon is consumed exactly once, at order time (an order naming it in
its vouchers) or by an explicit redemption, through a guarded
`UPDATE ... WHERE status = 'issued'`: of two concurrent redemptions on PostgreSQL one
updates the row, the other waits for it, finds it redeemed and gets a Conflict (409). A
retry of the same redemption (same reference) returns the stored result. Services flush,
never commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.db import bulk_insert, new_id, utcnow
from memberops.errors import Conflict, NotFound, ValidationError
from memberops.loyalty.campaign_models import Coupon, CouponDefinition
from memberops.loyalty.campaign_rules import BasketLine, CouponRule, coupon_from, coupon_value
from memberops.loyalty.models import LoyaltyAccount, TierState
from memberops.loyalty.rules import TierPolicy
from memberops.members.service import get_member_or_raise, lock_members
from memberops.privacy import audit

__all__ = [
    "IssueReport",
    "any_issued",
    "consume_for_orders",
    "define_coupon",
    "definition_view",
    "export_member_coupons",
    "get_definition_or_raise",
    "issue_coupons",
    "list_definitions",
    "member_coupons",
    "quote_coupons",
    "redeem_coupon",
    "rule_of",
]

_UTC = ZoneInfo("UTC")
_CHUNK = 900


def rule_of(definition: CouponDefinition) -> CouponRule:
    """The stored definition as a rule."""
    doc = {k: v for k, v in definition.definition.items() if v not in (None, [])}
    doc["valid_from"] = definition.valid_from.isoformat()
    doc["valid_to"] = definition.valid_to.isoformat()
    return coupon_from(doc, _UTC)


def define_coupon(
    session: Session, doc: dict[str, Any], *, zone: ZoneInfo, actor: Actor
) -> CouponDefinition:
    """Validate and store a coupon definition (times without offset are local in `zone`)."""
    rule = coupon_from(doc, zone)
    if session.scalar(select(CouponDefinition.id).where(CouponDefinition.code == rule.code)):
        raise Conflict(f"coupon definition {rule.code} already exists")
    definition = CouponDefinition(
        id=new_id(),
        code=rule.code,
        name=rule.name,
        valid_from=rule.valid_from,
        valid_to=rule.valid_to,
        definition=rule.to_dict(),
        created_at=utcnow(),
        created_by=actor.label[:120],
    )
    session.add(definition)
    audit.record(session, actor, "loyalty.coupon.define", reason=rule.code)
    session.flush()
    return definition


def get_definition_or_raise(session: Session, code: str) -> CouponDefinition:
    """The coupon definition with this code; NotFound otherwise."""
    found = session.scalar(select(CouponDefinition).where(CouponDefinition.code == code))
    if found is None:
        raise NotFound(f"coupon definition {code} not found")
    return found


def _tier_members(session: Session, tiers: Sequence[str], policy: TierPolicy) -> list[str]:
    known = {t.code for t in policy.tiers}
    for tier in tiers:
        if tier not in known:
            raise ValidationError("coupon issue", "tiers", f"unknown tier {tier}")
    ids = set(session.scalars(select(TierState.member_id).where(TierState.tier_code.in_(tiers))))
    if policy.tiers[0].code in tiers:
        # Members on the base tier may have no tier state yet: every account holder counts.
        ids.update(
            session.scalars(
                select(LoyaltyAccount.member_id).where(
                    LoyaltyAccount.member_id.not_in(select(TierState.member_id))
                )
            )
        )
    return sorted(ids)


class IssueReport(dict[str, Any]):
    """What an issuance did: issued, at_limit (skipped), codes by member."""


def issue_coupons(
    session: Session,
    code: str,
    *,
    member_ids: Sequence[str] = (),
    tiers: Sequence[str] = (),
    policy: TierPolicy,
    actor: Actor,
) -> IssueReport:
    """Issue one coupon of a definition to each listed member and each member of `tiers`,
    up to the per-member limit (a member at the limit is skipped and counted)."""
    definition = get_definition_or_raise(session, code)
    rule = rule_of(definition)
    if not member_ids and not tiers:
        raise ValidationError("coupon issue", "members", "give member ids or tiers")
    targets: set[str] = set()
    for member_id in member_ids:
        member = get_member_or_raise(session, member_id)
        targets.add(member.id)
    if tiers:
        targets.update(_tier_members(session, tiers, policy))
    ordered = sorted(targets)
    # Member rows first (id order, like every per-member writer): a concurrent issuer of
    # the same definition waits here and then sees these coupons.
    lock_members(session, ordered)
    held: dict[str, int] = {}
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        held.update(
            {
                m: int(n)
                for m, n in session.execute(
                    select(Coupon.member_id, func.max(Coupon.seq))
                    .where(Coupon.definition_id == definition.id, Coupon.member_id.in_(chunk))
                    .group_by(Coupon.member_id)
                )
            }
        )
    now = utcnow()
    rows: list[dict[str, Any]] = []
    at_limit = 0
    for member_id in ordered:
        seq = held.get(member_id, 0) + 1
        if seq > rule.per_member_limit:
            at_limit += 1
            continue
        rows.append(
            {
                "id": new_id(),
                "code": f"{rule.code[:24]}-{secrets.token_hex(5).upper()}",
                "definition_id": definition.id,
                "member_id": member_id,
                "seq": seq,
                "status": "issued",
                "issued_at": now,
                "issued_by": actor.label[:120],
            }
        )
    bulk_insert(session, Coupon, rows)
    issued = [row["code"] for row in rows]
    audit.record(
        session, actor, "loyalty.coupon.issue", reason=f"{rule.code}: {len(issued)} issued"
    )
    session.flush()
    return IssueReport(definition=rule.code, issued=len(issued), at_limit=at_limit, codes=issued)


def _counts(session: Session, definition_id: str) -> dict[str, int]:
    return {
        status: int(n)
        for status, n in session.execute(
            select(Coupon.status, func.count())
            .where(Coupon.definition_id == definition_id)
            .group_by(Coupon.status)
        )
    }


def definition_view(
    session: Session, definition: CouponDefinition, zone: ZoneInfo
) -> dict[str, Any]:
    """A definition with local validity and how many coupons are issued and redeemed."""
    counts = _counts(session, definition.id)
    return {
        "code": definition.code,
        "name": definition.name,
        "valid_from_local": definition.valid_from.astimezone(zone).isoformat(),
        "valid_to_local": definition.valid_to.astimezone(zone).isoformat(),
        "definition": definition.definition,
        "issued": counts.get("issued", 0) + counts.get("redeemed", 0),
        "redeemed": counts.get("redeemed", 0),
        "created_at": definition.created_at.isoformat(),
        "created_by": definition.created_by,
    }


def list_definitions(session: Session, zone: ZoneInfo) -> list[dict[str, Any]]:
    """Every coupon definition, newest first."""
    return [
        definition_view(session, d, zone)
        for d in session.scalars(
            select(CouponDefinition).order_by(CouponDefinition.created_at.desc())
        )
    ]


def member_coupons(session: Session, member_id: str, *, at: datetime) -> list[dict[str, Any]]:
    """A member's coupons with their state at `at` (issued, redeemed or expired)."""
    member_id = get_member_or_raise(session, member_id).id
    rows = session.execute(
        select(Coupon, CouponDefinition)
        .join(CouponDefinition, CouponDefinition.id == Coupon.definition_id)
        .where(Coupon.member_id == member_id)
        .order_by(Coupon.issued_at, Coupon.code)
    )
    out = []
    for coupon, definition in rows:
        state = coupon.status
        if state == "issued" and definition.valid_to <= at:
            state = "expired"
        out.append(
            {
                "code": coupon.code,
                "definition": definition.code,
                "name": definition.name,
                "kind": definition.definition.get("kind"),
                "value": definition.definition.get("value"),
                "min_spend_cents": definition.definition.get("min_spend_cents", 0),
                "valid_from": definition.valid_from.isoformat(),
                "valid_to": definition.valid_to.isoformat(),
                "status": state,
                "issued_at": coupon.issued_at.isoformat(),
                "redeemed_at": coupon.redeemed_at.isoformat() if coupon.redeemed_at else None,
            }
        )
    return out


def quote_coupons(
    session: Session,
    *,
    member_id: str | None,
    codes: Sequence[str],
    basket: Sequence[BasketLine],
    discount_bp: int,
    at: datetime,
    zone: ZoneInfo,
) -> list[tuple[str, int, bool, str]]:
    """Each named coupon as (code, value cents, usable, reason if not), for the quote."""
    out: list[tuple[str, int, bool, str]] = []
    seen: set[str] = set()
    used_per_definition: dict[str, int] = {}
    for code in codes:
        if code in seen:
            out.append((code, 0, False, "listed twice"))
            continue
        seen.add(code)
        row = session.execute(
            select(Coupon, CouponDefinition)
            .join(CouponDefinition, CouponDefinition.id == Coupon.definition_id)
            .where(Coupon.code == code)
        ).first()
        if row is None or member_id is None or row[0].member_id != member_id:
            # The same words for a missing coupon and another member's: nothing leaks.
            out.append((code, 0, False, "not a coupon of this member"))
            continue
        coupon, definition = row
        if coupon.status != "issued":
            out.append((code, 0, False, f"coupon already {coupon.status}"))
            continue
        rule = rule_of(definition)
        redeemed = used_per_definition.get(definition.id)
        if redeemed is None:
            redeemed = int(
                session.scalar(
                    select(func.count()).where(
                        Coupon.definition_id == definition.id,
                        Coupon.member_id == member_id,
                        Coupon.status == "redeemed",
                    )
                )
                or 0
            )
        if redeemed >= rule.per_member_limit:
            out.append((code, 0, False, f"limit of {rule.per_member_limit} per member reached"))
            continue
        decision = coupon_value(rule, basket, discount_bp=discount_bp, at=at, zone=zone)
        if decision.usable:
            used_per_definition[definition.id] = redeemed + 1
        out.append((code, decision.value_cents, decision.usable, decision.reason))
    return out


def redeem_coupon(
    session: Session,
    *,
    code: str,
    member_id: str,
    source_system: str,
    reference: str,
    actor: Actor,
    amount_cents: int | None = None,
) -> dict[str, Any]:
    """Consume a coupon once; a retry with the same reference returns the stored result.

    Another reference finding it already redeemed is a Conflict (409), also when two
    redemptions race: the guarded update lets exactly one through.
    """
    member_id = get_member_or_raise(session, member_id).id
    row = session.execute(
        select(Coupon, CouponDefinition)
        .join(CouponDefinition, CouponDefinition.id == Coupon.definition_id)
        .where(Coupon.code == code)
    ).first()
    if row is None or row[0].member_id != member_id:
        raise NotFound(f"coupon {code} not found")
    coupon, definition = row
    ref = f"{source_system}:{reference}"[:170]
    now = utcnow()
    if coupon.status == "issued" and not definition.valid_from <= now < definition.valid_to:
        raise Conflict(f"coupon {code} is not valid now")
    result = session.execute(
        update(Coupon)
        .where(Coupon.id == coupon.id, Coupon.status == "issued")
        .values(status="redeemed", redeemed_at=now, redeemed_ref=ref, redeemed_cents=amount_cents)
        .execution_options(synchronize_session=False)
    )
    session.refresh(coupon)
    if result.rowcount == 1:  # type: ignore[attr-defined]
        audit.record(
            session, actor, "loyalty.coupon.redeem", member_id=member_id, reason=definition.code
        )
        replayed = False
    elif coupon.redeemed_ref == ref:
        replayed = True
    else:
        raise Conflict(f"coupon {code} already redeemed")
    return {
        "code": coupon.code,
        "definition": definition.code,
        "member_id": member_id,
        "status": coupon.status,
        "reference": ref,
        "redeemed_at": coupon.redeemed_at.isoformat() if coupon.redeemed_at else None,
        "replayed": replayed,
    }


def any_issued(session: Session) -> bool:
    """Whether any coupon waits to be used (skips order-time work when none)."""
    return session.scalar(select(Coupon.id).where(Coupon.status == "issued").limit(1)) is not None


def consume_for_orders(
    session: Session,
    orders: Sequence[tuple[str, str, Sequence[str]]],
    *,
    actor: str,
    now: datetime,
) -> int:
    """Consume the member's own coupons that orders name among their vouchers (once: an
    order replayed, or a coupon already used elsewhere, changes nothing). Returns count."""
    wanted = {
        (code, member_id, order_id) for order_id, member_id, codes in orders for code in codes
    }
    if not wanted:
        return 0
    consumed = 0
    for code, member_id, order_id in sorted(wanted):
        result = session.execute(
            update(Coupon)
            .where(Coupon.code == code, Coupon.member_id == member_id, Coupon.status == "issued")
            .values(status="redeemed", redeemed_at=now, redeemed_ref=f"order:{order_id}")
            .execution_options(synchronize_session=False)
        )
        consumed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return consumed


def export_member_coupons(session: Session, member_id: str) -> list[dict[str, Any]]:
    """Every coupon row of the member, for a data-subject export."""
    rows = session.execute(Coupon.__table__.select().where(Coupon.member_id == member_id))
    return [
        {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items()}
        for r in rows.mappings()
    ]
