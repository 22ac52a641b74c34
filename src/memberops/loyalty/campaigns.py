"""Campaign bonuses on earned points: define, list, show, end, and apply to orders.

A campaign is decided for each newly earned order in the order's own transaction
(`apply_to_orders`, called by the ledger's order posting). Every campaign whose validity
comes within a week of the order gets a `loyalty_campaign_decisions` row saying whether it
applied and why not (a minimum spend is never silently ignored). An applied bonus is a
ledger `earn` entry with counter-account `campaign:<code>`, `order_ref` set to the order
and de-duplication key `bonus:<source>:order:<order>:<code>`: a replayed order never earns
it twice, and a refund reverses it with the order's other points, pro rata (the refund
rule in docs/loyalty.md). Validity, days and weekdays use the order's local time in the
chain's time zone (the active policy's `timezone`). Services flush, never commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.catalog.service import item_categories, store_codes
from memberops.db import bulk_insert, new_id, utcnow
from memberops.errors import Conflict, NotFound, ValidationError
from memberops.loyalty import coupons
from memberops.loyalty.campaign_models import CampaignDecision, CampaignHistory, LoyaltyCampaign
from memberops.loyalty.campaign_rules import (
    BasketLine,
    CampaignRule,
    OrderForBonus,
    campaign_bonus,
    campaign_from,
)
from memberops.loyalty.rules import TierPolicy
from memberops.orders.models import Order, OrderLine
from memberops.privacy import audit

_UTC = ZoneInfo("UTC")
# Orders within a week of a campaign's validity are told why it did not apply (the order
# at 00:00 after the last day); orders further away are not compared with it at all.
NEAR_MISS = timedelta(days=7)

__all__ = [
    "NEAR_MISS",
    "BonusPoster",
    "EarnedOrder",
    "apply_to_orders",
    "campaign_view",
    "create_campaign",
    "end_campaign",
    "export_member_offers",
    "get_campaign_or_raise",
    "list_campaigns",
    "order_decisions",
    "rule_of",
]


class BonusPoster(Protocol):
    """Posts a bonus on the ledger (the ledger owns entries, lots and balances)."""

    def __call__(
        self,
        member_id: str,
        points: int,
        *,
        code: str,
        order_ref: str,
        source: str,
        total_cents: int,
        ordered_at: datetime,
        dedup_key: str,
    ) -> str:
        """Post and return the entry id."""
        ...


@dataclass(frozen=True, slots=True)
class EarnedOrder:
    """An order the ledger just earned on (or considered), as campaigns need it."""

    order_id: str
    member_id: str
    source: str
    ordered_at: datetime
    total_cents: int
    tier_code: str
    tier_multiplier_pct: int


def rule_of(campaign: LoyaltyCampaign) -> CampaignRule:
    """The stored campaign as a rule (instants are stored in UTC)."""
    doc = dict(campaign.definition)
    doc["valid_from"] = campaign.valid_from.isoformat()
    doc["valid_to"] = campaign.valid_to.isoformat()
    return _from_stored(doc)


def _from_stored(doc: dict[str, Any]) -> CampaignRule:
    return campaign_from({k: v for k, v in doc.items() if v not in (None, [])}, _UTC)


def create_campaign(
    session: Session, doc: dict[str, Any], *, policy: TierPolicy, actor: Actor
) -> LoyaltyCampaign:
    """Validate and store a campaign (times without offset are the chain's local time)."""
    rule = campaign_from(doc, policy.zone)
    unknown_tiers = [t for t in rule.tiers if t not in {x.code for x in policy.tiers}]
    if unknown_tiers:
        raise ValidationError("campaign", "tiers", f"unknown tier {unknown_tiers[0]}")
    if session.scalar(select(LoyaltyCampaign.id).where(LoyaltyCampaign.code == rule.code)):
        raise Conflict(f"campaign {rule.code} already exists")
    now = utcnow()
    data = rule.to_dict()
    campaign = LoyaltyCampaign(
        id=new_id(),
        code=rule.code,
        name=rule.name,
        status="active",
        valid_from=rule.valid_from,
        valid_to=rule.valid_to,
        definition=data,
        version=1,
        created_at=now,
        created_by=actor.label[:120],
    )
    session.add(campaign)
    session.flush()
    session.add(
        CampaignHistory(
            campaign_id=campaign.id,
            version=1,
            action="create",
            definition=data,
            at=now,
            actor=actor.label[:120],
        )
    )
    audit.record(session, actor, "loyalty.campaign.create", reason=rule.code)
    session.flush()
    return campaign


def get_campaign_or_raise(session: Session, code: str) -> LoyaltyCampaign:
    """The campaign with this code; NotFound otherwise."""
    campaign = session.scalar(select(LoyaltyCampaign).where(LoyaltyCampaign.code == code))
    if campaign is None:
        raise NotFound(f"campaign {code} not found")
    return campaign


def end_campaign(
    session: Session, code: str, *, actor: Actor, at: datetime | None = None
) -> LoyaltyCampaign:
    """End a campaign now (or at `at`): orders from then on get no bonus. Kept in history."""
    campaign = get_campaign_or_raise(session, code)
    if campaign.status == "ended":
        raise Conflict(f"campaign {code} already ended")
    now = utcnow()
    end = min(at or now, campaign.valid_to)
    end = max(end, campaign.valid_from)
    campaign.status = "ended"
    campaign.valid_to = end
    campaign.version += 1
    campaign.ended_at = now
    campaign.ended_by = actor.label[:120]
    data = dict(campaign.definition)
    data["valid_to"] = end.isoformat()
    campaign.definition = data
    session.add(
        CampaignHistory(
            campaign_id=campaign.id,
            version=campaign.version,
            action="end",
            definition=data,
            at=now,
            actor=actor.label[:120],
        )
    )
    audit.record(session, actor, "loyalty.campaign.end", reason=code)
    session.flush()
    return campaign


def campaign_view(session: Session, campaign: LoyaltyCampaign, zone: ZoneInfo) -> dict[str, Any]:
    """A campaign with its definition (local times in `zone` too), history and totals."""
    history = session.scalars(
        select(CampaignHistory)
        .where(CampaignHistory.campaign_id == campaign.id)
        .order_by(CampaignHistory.version)
    )
    applied = session.execute(
        select(func.count(), func.coalesce(func.sum(CampaignDecision.points), 0)).where(
            CampaignDecision.campaign_id == campaign.id, CampaignDecision.applied.is_(True)
        )
    ).one()
    skipped = session.scalar(
        select(func.count()).where(
            CampaignDecision.campaign_id == campaign.id, CampaignDecision.applied.is_(False)
        )
    )
    return {
        "code": campaign.code,
        "name": campaign.name,
        "status": campaign.status,
        "version": campaign.version,
        "valid_from_local": campaign.valid_from.astimezone(zone).isoformat(),
        "valid_to_local": campaign.valid_to.astimezone(zone).isoformat(),
        "definition": campaign.definition,
        "orders_applied": int(applied[0]),
        "bonus_points": int(applied[1]),
        "orders_not_applied": int(skipped or 0),
        "history": [
            {
                "version": h.version,
                "action": h.action,
                "at": h.at.isoformat(),
                "actor": h.actor,
                "definition": h.definition,
            }
            for h in history
        ],
    }


def list_campaigns(
    session: Session, zone: ZoneInfo, *, status: str | None = None
) -> list[dict[str, Any]]:
    """Campaigns, newest first (optionally only `active` or `ended` ones), local times."""
    stmt = select(LoyaltyCampaign).order_by(LoyaltyCampaign.created_at.desc())
    if status is not None:
        stmt = stmt.where(LoyaltyCampaign.status == status)
    return [
        {
            "code": c.code,
            "name": c.name,
            "status": c.status,
            "valid_from_local": c.valid_from.astimezone(zone).isoformat(),
            "valid_to_local": c.valid_to.astimezone(zone).isoformat(),
            "bonus": (
                f"x{c.definition['multiplier_pct'] / 100:g}"
                if c.definition.get("multiplier_pct")
                else f"+{c.definition.get('fixed_points')} points"
            ),
            "min_spend_cents": c.definition.get("min_spend_cents", 0),
        }
        for c in session.scalars(stmt)
    ]


# ----------------------------------------------------------------------------- applying
def _order_details(
    session: Session, order_ids: Sequence[str], with_lines: bool
) -> tuple[dict[str, tuple[str, int, list[str]]], dict[str, list[BasketLine]]]:
    """Per order: (store code, subtotal, voucher codes); lines with SKU and category."""
    heads: dict[str, tuple[str, int, list[str]]] = {}
    store_ids: dict[str, str] = {}
    for oid, store_id, subtotal, vouchers in session.execute(
        select(Order.id, Order.store_id, Order.subtotal_cents, Order.vouchers).where(
            Order.id.in_(list(order_ids))
        )
    ):
        store_ids[oid] = store_id
        heads[oid] = ("", int(subtotal), list(vouchers or []))
    codes = store_codes(session, store_ids.values())
    heads = {oid: (codes.get(store_ids[oid], ""), s, v) for oid, (_c, s, v) in heads.items()}
    lines: dict[str, list[BasketLine]] = {}
    if with_lines:
        catalog = item_categories(session)
        for oid, item_id, amount in session.execute(
            select(OrderLine.order_id, OrderLine.item_id, OrderLine.line_total_cents).where(
                OrderLine.order_id.in_(list(order_ids))
            )
        ):
            sku, _name, category = catalog.get(item_id, ("", "", ""))
            lines.setdefault(oid, []).append(BasketLine(sku, category, int(amount)))
    return heads, lines


def apply_to_orders(
    session: Session,
    orders: Sequence[EarnedOrder],
    *,
    policy: TierPolicy,
    post: BonusPoster,
    actor: str,
    now: datetime,
    existing_keys: Callable[[Sequence[str]], set[str]],
) -> int:
    """Decide every overlapping campaign for newly earned orders, post applied bonuses,
    and consume coupons the orders name. Returns the number of bonus entries posted.

    Costs one query per chunk when no campaign or coupon could apply.
    """
    if not orders:
        return 0
    first = min(o.ordered_at for o in orders)
    last = max(o.ordered_at for o in orders)
    campaigns = list(
        session.scalars(
            select(LoyaltyCampaign)
            .where(
                LoyaltyCampaign.valid_from <= last + NEAR_MISS,
                LoyaltyCampaign.valid_to > first - NEAR_MISS,
            )
            .order_by(LoyaltyCampaign.code)
        )
    )
    with_coupons = coupons.any_issued(session)
    if not campaigns and not with_coupons:
        return 0
    rules = [(c, rule_of(c)) for c in campaigns]
    need_lines = any(r.skus or r.categories for _c, r in rules)
    heads, lines = _order_details(session, [o.order_id for o in orders], need_lines)
    if with_coupons:
        coupons.consume_for_orders(
            session,
            [(o.order_id, o.member_id, heads.get(o.order_id, ("", 0, []))[2]) for o in orders],
            actor=actor,
            now=now,
        )
    if not rules:
        return 0
    done = {
        (ref, cid)
        for ref, cid in session.execute(
            select(CampaignDecision.order_ref, CampaignDecision.campaign_id).where(
                CampaignDecision.order_ref.in_([o.order_id for o in orders])
            )
        )
    }
    awarded: dict[tuple[str, str], int] = {}
    members = sorted({o.member_id for o in orders})
    for cid, member_id, total in session.execute(
        select(
            CampaignDecision.campaign_id,
            CampaignDecision.member_id,
            func.sum(CampaignDecision.points),
        )
        .where(
            CampaignDecision.campaign_id.in_([c.id for c, _r in rules]),
            CampaignDecision.member_id.in_(members),
        )
        .group_by(CampaignDecision.campaign_id, CampaignDecision.member_id)
    ):
        awarded[(cid, member_id)] = int(total or 0)
    keys = [f"bonus:{o.source}:order:{o.order_id}:{r.code}" for o in orders for _c, r in rules]
    posted_keys = existing_keys(keys)
    posted = 0
    rows: list[dict[str, Any]] = []
    for order in sorted(orders, key=lambda o: (o.ordered_at, o.order_id)):
        store_code, subtotal, _vouchers = heads.get(order.order_id, ("", order.total_cents, []))
        fact = OrderForBonus(
            ordered_at=order.ordered_at,
            store_code=store_code,
            tier_code=order.tier_code,
            total_cents=order.total_cents,
            subtotal_cents=subtotal,
            lines=tuple(lines.get(order.order_id, ())),
            earn_rate_bp=policy.earn_rate_bp,
            tier_multiplier_pct=order.tier_multiplier_pct,
        )
        for campaign, rule in rules:
            if (order.order_id, campaign.id) in done:
                continue
            key = f"bonus:{order.source}:order:{order.order_id}:{rule.code}"
            before = awarded.get((campaign.id, order.member_id), 0)
            decision = campaign_bonus(rule, fact, policy.zone, before)
            entry_id = None
            if decision.applied and key not in posted_keys:
                entry_id = post(
                    order.member_id,
                    decision.points,
                    code=rule.code,
                    order_ref=order.order_id,
                    source=order.source,
                    total_cents=order.total_cents,
                    ordered_at=order.ordered_at,
                    dedup_key=key,
                )
                posted_keys.add(key)
                posted += 1
                awarded[(campaign.id, order.member_id)] = before + decision.points
            rows.append(
                {
                    "id": new_id(),
                    "campaign_id": campaign.id,
                    "member_id": order.member_id,
                    "order_ref": order.order_id,
                    "applied": decision.applied,
                    "points": decision.points if decision.applied else 0,
                    "eligible_cents": decision.eligible_cents,
                    "reason": decision.reason[:200],
                    "entry_id": entry_id,
                    "at": now,
                }
            )
            done.add((order.order_id, campaign.id))
    session.flush()
    # One bulk write for the batch: decisions outnumber bonuses (every near miss is kept).
    bulk_insert(session, CampaignDecision, rows)
    return posted


def order_decisions(session: Session, order_refs: Sequence[str]) -> list[dict[str, Any]]:
    """Which campaigns applied to these orders, their points, and why others did not."""
    if not order_refs:
        return []
    rows = session.execute(
        select(CampaignDecision, LoyaltyCampaign.code)
        .join(LoyaltyCampaign, LoyaltyCampaign.id == CampaignDecision.campaign_id)
        .where(CampaignDecision.order_ref.in_(list(order_refs)))
        .order_by(CampaignDecision.order_ref, LoyaltyCampaign.code)
    )
    return [
        {
            "order_ref": d.order_ref,
            "campaign": code,
            "applied": d.applied,
            "points": d.points,
            "eligible_cents": d.eligible_cents,
            "reason": d.reason,
        }
        for d, code in rows
    ]


def export_member_offers(session: Session, member_id: str) -> dict[str, list[dict[str, Any]]]:
    """The member's coupons and campaign decisions, for a data-subject export."""
    decisions = session.execute(
        CampaignDecision.__table__.select().where(CampaignDecision.member_id == member_id)
    )
    return {
        "loyalty_coupons": coupons.export_member_coupons(session, member_id),
        "loyalty_campaign_decisions": [
            {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items()}
            for r in decisions.mappings()
        ],
    }
