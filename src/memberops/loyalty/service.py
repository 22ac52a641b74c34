"""Loyalty use cases: post points, redeem, expire, move on merges, evaluate tiers, explain,
simulate, convert to vouchers and partner units, quote. Services flush, never commit.

Every points write locks the member's account first (`repository.lock_accounts`), expires
what is due, then posts. A posting is an append-only `LoyaltyEntry` against a
counter-account plus the lot moves it caused; the account's `balance` (sum of lot
remainders) and `owed` (points reversed after they were spent) are updated in the same
flush, so `balance - owed == sum(entries)` at every commit (`verify_ledger`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.catalog.service import item_categories_by_sku, public_prices
from memberops.db import bulk_insert, new_id, utcnow
from memberops.errors import Conflict, NotFound, ValidationError
from memberops.identity.hooks import MergeEvent, UnmergeEvent
from memberops.loyalty import campaigns, coupons
from memberops.loyalty import repository as repo
from memberops.loyalty.campaign_rules import BasketLine
from memberops.loyalty.models import (
    LotMove,
    LoyaltyAccount,
    LoyaltyEntry,
    LoyaltyLot,
    PartnerConversion,
    PartnerRate,
    Redemption,
    TierHistory,
    TierPolicyDoc,
    TierState,
    Voucher,
)
from memberops.loyalty.rules import (
    DEFAULT_POLICY_TOML,
    PERIOD_END_REASONS,
    IntArray,
    Lot,
    OrderArrays,
    OrderFact,
    TierPolicy,
    consume_fifo,
    decide_at_period_end_arrays,
    earn_points,
    explain_requirements,
    lot_expiry,
    metrics_between,
    micros,
    parse_policy,
    partner_units,
    period_end_at_or_before,
    quote_basket,
    replay_tier,
    replay_tiers_arrays,
    reversal_points,
    split_vouchers,
    upgrade_index,
    voucher_points,
    window_start,
)
from memberops.members.models import Member
from memberops.members.service import (
    get_member_or_raise,
    joined_at,
    lock_members,
    set_membership_cache,
    set_tier_cache,
)
from memberops.orders.hooks import OrdersStored, StoredAdjustment
from memberops.privacy import audit

__all__ = [
    "LedgerVerification",
    "LoyaltyMergeHandler",
    "LoyaltyOrdersHandler",
    "RedemptionResult",
    "activate_policy",
    "active_policy",
    "adjust_points",
    "cancel_redemption",
    "convert_to_partner",
    "convert_vouchers",
    "evaluate_tiers",
    "expire_points",
    "explain_tier",
    "export_member_loyalty",
    "partner_reconciliation",
    "points_view",
    "post_orders",
    "quote",
    "redeem",
    "redeem_voucher",
    "set_partner_rate",
    "set_tier_override",
    "simulate_policy",
    "statement",
    "store_policy",
    "verify_ledger",
]

SYSTEM = "memberops"


# =========================================================================== policy
_policy_cache: dict[str, TierPolicy] = {}


def _parsed(document: str) -> TierPolicy:
    key = hashlib.sha256(document.encode()).hexdigest()
    policy = _policy_cache.get(key)
    if policy is None:
        policy = parse_policy(document)
        _policy_cache[key] = policy
    return policy


def active_policy(session: Session) -> tuple[int, TierPolicy]:
    """The active policy and its version (none stored yet: the default ladder, version 0)."""
    row = session.execute(
        select(TierPolicyDoc.version, TierPolicyDoc.document).where(
            TierPolicyDoc.status == "active"
        )
    ).first()
    if row is None:
        return 0, _parsed(DEFAULT_POLICY_TOML)
    return int(row.version), _parsed(row.document)


def store_policy(session: Session, document: str, *, actor: Actor) -> TierPolicyDoc:
    """Validate and store a policy as the next draft version (history is kept)."""
    policy = parse_policy(document)
    version = (session.scalar(select(func.max(TierPolicyDoc.version))) or 0) + 1
    doc = TierPolicyDoc(
        version=version,
        name=policy.name,
        document=document,
        sha256=hashlib.sha256(document.encode()).hexdigest(),
        status="draft",
        created_by=actor.label,
    )
    session.add(doc)
    session.flush()
    return doc


def activate_policy(session: Session, document: str, *, actor: Actor) -> TierPolicyDoc:
    """Store the policy and make it the active one (the previous one is retired)."""
    sha = hashlib.sha256(document.encode()).hexdigest()
    current = session.scalar(select(TierPolicyDoc).where(TierPolicyDoc.status == "active"))
    if current is not None and current.sha256 == sha:
        return current  # activating the active document again changes nothing
    doc = store_policy(session, document, actor=actor)
    session.execute(
        update(TierPolicyDoc).where(TierPolicyDoc.status == "active").values(status="retired")
    )
    doc.status = "active"
    doc.activated_at = utcnow()
    doc.activated_by = actor.label
    audit.record(session, actor, "loyalty.policy_activate", reason=f"policy version {doc.version}")
    session.flush()
    return doc


def policy_history(session: Session) -> list[dict[str, Any]]:
    """Every stored policy version, newest first."""
    return [
        {
            "version": d.version,
            "name": d.name,
            "status": d.status,
            "sha256": d.sha256,
            "created_at": d.created_at.isoformat(),
            "created_by": d.created_by,
            "activated_at": d.activated_at.isoformat() if d.activated_at else None,
        }
        for d in session.scalars(select(TierPolicyDoc).order_by(TierPolicyDoc.version.desc()))
    ]


# =========================================================================== posting
@dataclass(slots=True)
class _Ctx:
    """One unit of ledger work on locked accounts."""

    session: Session
    policy: TierPolicy
    version: int
    actor: str
    now: datetime
    accounts: dict[str, LoyaltyAccount]
    touched: set[str] = field(default_factory=set)


def _ctx(session: Session, member_ids: Iterable[str], actor: Actor | str) -> _Ctx:
    version, policy = active_policy(session)
    ids = sorted(set(member_ids))
    lock_members(session, ids)
    accounts = repo.lock_accounts(session, ids)
    label = actor if isinstance(actor, str) else actor.label
    ctx = _Ctx(session, policy, version, label, utcnow(), accounts)
    _expire_due(ctx, list(accounts))
    return ctx


def _entry(
    ctx: _Ctx,
    member_id: str,
    *,
    type_: str,
    points: int,
    counter: str,
    source_system: str,
    source_kind: str,
    source_id: str,
    dedup_key: str,
    effective_at: datetime | None = None,
    order_ref: str | None = None,
    money_cents: int | None = None,
    owed_change: int = 0,
    note: str | None = None,
) -> LoyaltyEntry:
    entry = LoyaltyEntry(
        id=new_id(),
        member_id=member_id,
        type=type_,
        points=points,
        counter_account=counter,
        source_system=source_system[:40],
        source_kind=source_kind,
        source_id=source_id[:120],
        dedup_key=dedup_key[:240],
        order_ref=order_ref,
        money_cents=money_cents,
        owed_change=owed_change,
        effective_at=effective_at or ctx.now,
        created_at=ctx.now,
        actor=ctx.actor[:120],
        note=note,
    )
    ctx.session.add(entry)
    # Lots and lot moves reference the entry; without ORM relationships the unit of work
    # does not order those inserts, so the entry is written first.
    ctx.session.flush()
    ctx.touched.add(member_id)
    return entry


def _new_lot(
    ctx: _Ctx,
    member_id: str,
    entry: LoyaltyEntry,
    points: int,
    *,
    earned_at: datetime,
    expires_at: datetime,
    order_ref: str | None = None,
    origin_lot_id: str | None = None,
    merge_ref: str | None = None,
) -> LoyaltyLot:
    lot = LoyaltyLot(
        id=new_id(),
        member_id=member_id,
        entry_id=entry.id,
        points=points,
        remaining=points,
        earned_at=earned_at,
        expires_at=expires_at,
        order_ref=order_ref,
        origin_lot_id=origin_lot_id,
        merge_ref=merge_ref,
    )
    ctx.session.add(lot)
    ctx.accounts[member_id].balance += points
    return lot


def _take(
    ctx: _Ctx,
    member_id: str,
    entry: LoyaltyEntry,
    points: int,
    kind: str,
    *,
    prefer: Sequence[LoyaltyLot] = (),
) -> list[tuple[LoyaltyLot, int]]:
    """Consume `points` from unexpired lots (preferred lots first, then FIFO)."""
    if points <= 0:
        return []
    ctx.session.flush()
    lots = {lot.id: lot for lot in repo.open_lots(ctx.session, [member_id])}
    taken: list[tuple[LoyaltyLot, int]] = []
    left = points
    for lot in prefer:
        fresh = lots.get(lot.id)
        if fresh is None or fresh.expires_at <= ctx.now or left == 0:
            continue
        take = min(fresh.remaining, left)
        if take:
            taken.append((fresh, take))
            left -= take
    if left:
        pool = [
            Lot(
                lot.id, lot.remaining - sum(t for lt, t in taken if lt.id == lot.id), lot.expires_at
            )
            for lot in lots.values()
        ]
        for slice_ in consume_fifo(pool, left, ctx.now):
            taken.append((lots[slice_.lot_id], slice_.points))
    for lot, take in taken:
        lot.remaining -= take
        ctx.session.add(LotMove(lot_id=lot.id, entry_id=entry.id, points=take, kind=kind))
    ctx.accounts[member_id].balance -= points
    return taken


def _spendable(ctx: _Ctx, member_id: str) -> int:
    account = ctx.accounts[member_id]
    if ctx.policy.overspent == "clawback":
        return account.balance - account.owed
    return account.balance


def _expire_due(ctx: _Ctx, member_ids: Sequence[str]) -> int:
    """Expire every lot past its date (each lot once: L7). Returns points expired."""
    total = 0
    for lot in repo.open_lots(ctx.session, member_ids, due_by=ctx.now):
        entry = _entry(
            ctx,
            lot.member_id,
            type_="expire",
            points=-lot.remaining,
            counter="breakage",
            source_system=SYSTEM,
            source_kind="expiry",
            source_id=lot.id,
            dedup_key=f"expire:{lot.id}",
            effective_at=lot.expires_at,
        )
        ctx.session.add(
            LotMove(lot_id=lot.id, entry_id=entry.id, points=lot.remaining, kind="expire")
        )
        ctx.accounts[lot.member_id].balance -= lot.remaining
        total += lot.remaining
        lot.remaining = 0
    return total


def _repay_owed(ctx: _Ctx, member_id: str, entry: LoyaltyEntry) -> None:
    """Clawback policy: new points first repay what the member owes."""
    account = ctx.accounts[member_id]
    if ctx.policy.overspent != "clawback" or account.owed <= 0:
        return
    repay = min(account.owed, account.balance)
    if repay > 0:
        _take(ctx, member_id, entry, repay, "clawback")
        account.owed -= repay


def _finish(ctx: _Ctx) -> None:
    """Flush, then copy balances and tiers to the member rows (the profile's cache)."""
    for member_id in ctx.touched:
        account = ctx.accounts.get(member_id)
        if account is not None:
            account.updated_at = ctx.now
    ctx.session.flush()
    _refresh_cache(ctx.session, sorted(ctx.touched))


def _refresh_cache(session: Session, member_ids: Sequence[str]) -> None:
    if not member_ids:
        return
    balances = {
        m: b
        for m, b in session.execute(
            select(LoyaltyAccount.member_id, LoyaltyAccount.balance - LoyaltyAccount.owed).where(
                LoyaltyAccount.member_id.in_(list(member_ids))
            )
        )
    }
    states = repo.tier_states(session, member_ids)
    _, policy = active_policy(session)
    base = policy.tiers[0].code
    set_membership_cache(
        session,
        [
            (m, states[m].tier_code if m in states else base, int(balances.get(m, 0)))
            for m in member_ids
        ],
    )


# =========================================================================== orders
def post_orders(
    session: Session,
    order_ids: Sequence[str],
    adjustments: Sequence[StoredAdjustment] = (),
    *,
    actor: Actor | str = SYSTEM,
) -> int:
    """Earn on newly stored orders, reverse on refunds and voids, upgrade tiers.

    De-duplicated on the business document: an order (source system + order) earns once
    however often it is replayed; a refund (source system + refund id) reverses once.
    Returns the number of entries posted.
    """
    rows = repo.counted_orders_by_id(session, order_ids) if order_ids else []
    adjustment_members: dict[str, str] = {}
    in_batch = {r.order_id: r.member_id for r in rows}
    waiting = [a.order_id for a in adjustments if a.order_id not in in_batch]
    if waiting:
        in_batch.update(
            {r.order_id: r.member_id for r in repo.counted_orders_by_id(session, waiting)}
        )
    for adjustment in adjustments:
        holder = in_batch.get(adjustment.order_id) or _order_holder(session, adjustment.order_id)
        if holder is not None:
            adjustment_members[adjustment.id] = holder
    members = {r.member_id for r in rows} | set(adjustment_members.values())
    if not members:
        return 0
    ctx = _ctx(session, members, actor)
    states = repo.tier_states(session, sorted(members))
    keys = [f"earn:{r.source}:order:{r.order_id}" for r in rows]
    done = repo.existing_keys(session, keys)
    entry_rows: list[dict[str, Any]] = []
    lot_rows: list[dict[str, Any]] = []
    owing: list[tuple[str, str]] = []
    latest: dict[str, datetime] = {}
    fresh: list[campaigns.EarnedOrder] = []
    for row, key in sorted(zip(rows, keys, strict=True), key=lambda p: p[0].ordered_at):
        latest[row.member_id] = max(latest.get(row.member_id, row.ordered_at), row.ordered_at)
        if key in done:
            continue
        done.add(key)
        state = states.get(row.member_id)
        tier = ctx.policy.tier(state.tier_code if state else None)
        fresh.append(
            campaigns.EarnedOrder(
                row.order_id,
                row.member_id,
                row.source,
                row.ordered_at,
                row.total_cents,
                tier.code,
                tier.points_multiplier_pct,
            )
        )
        points = earn_points(row.total_cents, ctx.policy.earn_rate_bp, tier.points_multiplier_pct)
        if points <= 0:
            continue
        entry_id = new_id()
        entry_rows.append(
            {
                "id": entry_id,
                "member_id": row.member_id,
                "type": "earn",
                "points": points,
                "counter_account": "issuance",
                "source_system": row.source[:40],
                "source_kind": "order",
                "source_id": row.order_id,
                "dedup_key": key,
                "order_ref": row.order_id,
                "money_cents": row.total_cents,
                "owed_change": 0,
                "effective_at": row.ordered_at,
                "created_at": ctx.now,
                "actor": ctx.actor[:120],
                "note": None,
            }
        )
        expires = lot_expiry(ctx.policy, row.ordered_at)
        remaining = points if expires > ctx.now else 0
        lot_rows.append(
            {
                "id": new_id(),
                "member_id": row.member_id,
                "entry_id": entry_id,
                "points": points,
                "remaining": points,
                "earned_at": row.ordered_at,
                "expires_at": expires,
                "order_ref": row.order_id,
                "origin_lot_id": None,
                "merge_ref": None,
            }
        )
        account = ctx.accounts[row.member_id]
        account.balance += points
        account.lifetime_earned += points
        ctx.touched.add(row.member_id)
        if account.owed > 0 or remaining == 0:
            owing.append((row.member_id, entry_id))
    session.flush()
    bulk_insert(session, LoyaltyEntry, entry_rows)
    bulk_insert(session, LoyaltyLot, lot_rows)
    for member_id, entry_id in owing:
        entry = session.get(LoyaltyEntry, entry_id)
        assert entry is not None
        _expire_due(ctx, [member_id])  # an old order's lot may already be past its date
        _repay_owed(ctx, member_id, entry)
    posted = len(entry_rows)
    # Campaign bonuses and coupons named by the orders, in the same transaction and
    # de-duplicated on the same business document (docs/loyalty.md, Campaigns).
    bonuses = _BonusPoster(ctx)
    posted += campaigns.apply_to_orders(
        session,
        fresh,
        policy=ctx.policy,
        post=bonuses,
        actor=ctx.actor,
        now=ctx.now,
        existing_keys=lambda keys: repo.existing_keys(session, keys),
    )
    bonuses.finish()
    for adjustment in sorted(adjustments, key=lambda a: a.id):
        holder = adjustment_members.get(adjustment.id)
        if holder is not None:
            posted += _reverse_adjustment(ctx, holder, adjustment)
    _upgrade(ctx, states, latest)
    _finish(ctx)
    return posted


@dataclass(slots=True)
class _BonusPoster:
    """Collects campaign bonuses as earn entries with their own lots on the locked
    accounts; `finish` writes them in bulk, like the orders' own earn entries."""

    ctx: _Ctx
    entries: list[dict[str, Any]] = field(default_factory=list)
    lots: list[dict[str, Any]] = field(default_factory=list)
    owing: list[tuple[str, str]] = field(default_factory=list)

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
        ctx = self.ctx
        entry_id = new_id()
        self.entries.append(
            {
                "id": entry_id,
                "member_id": member_id,
                "type": "earn",
                "points": points,
                "counter_account": f"campaign:{code}"[:40],
                "source_system": source[:40],
                "source_kind": "order",
                "source_id": order_ref,
                "dedup_key": dedup_key[:240],
                "order_ref": order_ref,
                "money_cents": total_cents,
                "owed_change": 0,
                "effective_at": ordered_at,
                "created_at": ctx.now,
                "actor": ctx.actor[:120],
                "note": f"campaign {code} bonus"[:200],
            }
        )
        expires = lot_expiry(ctx.policy, ordered_at)
        self.lots.append(
            {
                "id": new_id(),
                "member_id": member_id,
                "entry_id": entry_id,
                "points": points,
                "remaining": points,
                "earned_at": ordered_at,
                "expires_at": expires,
                "order_ref": order_ref,
                "origin_lot_id": None,
                "merge_ref": None,
            }
        )
        account = ctx.accounts[member_id]
        account.balance += points
        account.lifetime_earned += points
        ctx.touched.add(member_id)
        if account.owed > 0 or expires <= ctx.now:
            self.owing.append((member_id, entry_id))
        return entry_id

    def finish(self) -> None:
        """Write the collected entries and lots; repay what members owe from them."""
        if not self.entries:
            return
        session = self.ctx.session
        session.flush()
        bulk_insert(session, LoyaltyEntry, self.entries)
        bulk_insert(session, LoyaltyLot, self.lots)
        for member_id, entry_id in self.owing:
            entry = session.get(LoyaltyEntry, entry_id)
            assert entry is not None
            _expire_due(self.ctx, [member_id])  # a late order's bonus lot may be past its date
            _repay_owed(self.ctx, member_id, entry)


def _order_holder(session: Session, order_id: str) -> str | None:
    """The member now holding the points of an order (merges followed)."""
    member_id = session.scalar(
        select(LoyaltyEntry.member_id)
        .where(LoyaltyEntry.order_ref == order_id, LoyaltyEntry.type == "earn")
        .limit(1)
    )
    if member_id is None:
        return None
    return get_member_or_raise(session, member_id).id


def _reverse_adjustment(ctx: _Ctx, member_id: str, adjustment: StoredAdjustment) -> int:
    kind = "void" if adjustment.kind == "void" else "refund"
    key = f"reverse:{adjustment.source}:{kind}:{adjustment.source_adjustment_id}"
    if repo.existing_keys(ctx.session, [key]):
        return 0
    ctx.session.flush()
    earned, reversed_, refunded = repo.order_points(ctx.session, adjustment.order_id)
    total = ctx.session.scalar(
        select(LoyaltyEntry.money_cents).where(
            LoyaltyEntry.order_ref == adjustment.order_id, LoyaltyEntry.type == "earn"
        )
    )
    if not earned or not total:
        return 0
    if kind == "void":
        points = earned - reversed_
        money = max(0, total - refunded)
    else:
        points = reversal_points(earned, total, refunded, adjustment.amount_cents)
        points = min(points, earned - reversed_)
        money = adjustment.amount_cents
    if points <= 0:
        return 0
    _reverse(ctx, member_id, points, key=key, source=adjustment, money=money)
    return 1


def _reverse(
    ctx: _Ctx, member_id: str, points: int, *, key: str, source: StoredAdjustment, money: int
) -> None:
    """Take back points; what was already spent is owed (never a silent clamp: L6)."""
    available = ctx.accounts[member_id].balance
    take = min(points, available)
    short = points - take
    entry = _entry(
        ctx,
        member_id,
        type_="reverse",
        points=-points,
        counter="issuance",
        source_system=source.source,
        source_kind=source.kind,
        source_id=source.source_adjustment_id,
        dedup_key=key,
        order_ref=source.order_id,
        money_cents=money,
        owed_change=short,
        note=f"{ctx.policy.overspent}: {short} points owed" if short else None,
    )
    ctx.session.flush()
    own = [
        lot for lot in repo.open_lots(ctx.session, [member_id]) if lot.order_ref == source.order_id
    ]
    _take(ctx, member_id, entry, take, "reverse", prefer=own)
    ctx.accounts[member_id].owed += short


# =========================================================================== redemption
@dataclass(frozen=True, slots=True)
class RedemptionResult:
    """A redemption as stored (a replay returns the stored one)."""

    id: str
    member_id: str
    points: int
    status: str
    balance: int
    replayed: bool
    lots: list[dict[str, Any]]


def redeem(
    session: Session,
    *,
    member_id: str,
    points: int,
    source_system: str,
    redemption_id: str,
    actor: Actor,
    idempotency_key: str | None = None,
) -> RedemptionResult:
    """Spend points at checkout; never below zero (L3), once per business document (L4)."""
    if points <= 0:
        raise ValidationError("redemption", "points", "must be positive")
    member_id = get_member_or_raise(session, member_id).id
    ctx = _ctx(session, [member_id], actor)
    existing = session.scalar(
        select(Redemption).where(
            Redemption.source_system == source_system,
            Redemption.source_redemption_id == redemption_id,
        )
    )
    if existing is not None:
        if (
            existing.points != points
            or get_member_or_raise(session, existing.member_id).id != member_id
        ):
            raise Conflict(f"redemption {redemption_id} already stored with other content")
        return _redemption_result(ctx, existing, replayed=True, holder=member_id)
    if points > _spendable(ctx, member_id):
        raise Conflict(f"member {member_id} has fewer than {points} spendable points")
    entry = _entry(
        ctx,
        member_id,
        type_="redeem",
        points=-points,
        counter="redemption",
        source_system=source_system,
        source_kind="redemption",
        source_id=redemption_id,
        dedup_key=f"redeem:{source_system}:{redemption_id}",
    )
    _take(ctx, member_id, entry, points, "redeem")
    record = Redemption(
        id=new_id(),
        member_id=member_id,
        source_system=source_system[:40],
        source_redemption_id=redemption_id[:120],
        points=points,
        status="done",
        entry_id=entry.id,
        idempotency_key=idempotency_key,
        created_at=ctx.now,
    )
    session.add(record)
    # Chained at commit: the audit head is then held for the append alone, so concurrent
    # redemptions of different members do not queue behind each other's whole checkout.
    audit.record_at_commit(
        session, actor, "loyalty.redeem", member_id=member_id, reason=f"{points} points"
    )
    _finish(ctx)
    return _redemption_result(ctx, record, replayed=False)


def _redemption_result(
    ctx: _Ctx, record: Redemption, *, replayed: bool, holder: str | None = None
) -> RedemptionResult:
    ctx.session.flush()
    moves = ctx.session.execute(
        select(LotMove.lot_id, LotMove.points, LoyaltyLot.expires_at)
        .join(LoyaltyLot, LoyaltyLot.id == LotMove.lot_id)
        .where(LotMove.entry_id == record.entry_id)
    ).all()
    return RedemptionResult(
        id=record.id,
        member_id=record.member_id,
        points=record.points,
        status=record.status,
        balance=_spendable(ctx, holder or record.member_id),
        replayed=replayed,
        lots=[
            {"lot_id": lot_id, "points": pts, "expires_at": exp.isoformat()}
            for lot_id, pts, exp in moves
        ],
    )


def cancel_redemption(
    session: Session, *, source_system: str, redemption_id: str, actor: Actor
) -> RedemptionResult:
    """Give back a redemption's points to the lots they came from; points whose lot
    expired meanwhile come back expired (Oracle Siebel's rule), never spendable."""
    record = session.scalar(
        select(Redemption).where(
            Redemption.source_system == source_system,
            Redemption.source_redemption_id == redemption_id,
        )
    )
    if record is None:
        raise NotFound(f"redemption {redemption_id} not found")
    holder = get_member_or_raise(session, record.member_id).id
    ctx = _ctx(session, [holder], actor)
    session.refresh(record)
    if record.status == "cancelled":
        return _redemption_result(ctx, record, replayed=True, holder=holder)
    moves = session.execute(
        select(LotMove.lot_id, LotMove.points).where(
            LotMove.entry_id == record.entry_id, LotMove.kind == "redeem"
        )
    ).all()
    entry = _entry(
        ctx,
        holder,
        type_="reverse",
        points=record.points,
        counter="redemption",
        source_system=source_system,
        source_kind="cancellation",
        source_id=redemption_id,
        dedup_key=f"cancel:{source_system}:{redemption_id}",
    )
    expired_total = 0
    expire_entry: LoyaltyEntry | None = None
    for lot_id, points in moves:
        lot = session.get(LoyaltyLot, lot_id, populate_existing=True)
        assert lot is not None
        if lot.member_id == holder:
            lot.remaining += points
            session.add(LotMove(lot_id=lot_id, entry_id=entry.id, points=-points, kind="restore"))
            ctx.accounts[holder].balance += points
            target = lot
        else:
            # The lot moved away with a merge or unmerge: the points come back to the
            # member holding the redemption now, as a lot with the original expiry.
            target = _new_lot(
                ctx,
                holder,
                entry,
                points,
                earned_at=lot.earned_at,
                expires_at=lot.expires_at,
                order_ref=lot.order_ref,
                origin_lot_id=lot.id,
            )
        if target.expires_at <= ctx.now:
            if expire_entry is None:
                expire_entry = _entry(
                    ctx,
                    holder,
                    type_="expire",
                    points=0,
                    counter="breakage",
                    source_system=SYSTEM,
                    source_kind="expiry",
                    source_id=record.id,
                    dedup_key=f"expire:cancel:{source_system}:{redemption_id}",
                )
            session.flush()
            session.add(
                LotMove(lot_id=target.id, entry_id=expire_entry.id, points=points, kind="expire")
            )
            target.remaining -= points
            ctx.accounts[holder].balance -= points
            expired_total += points
    if expire_entry is not None:
        expire_entry.points = -expired_total
    record.status = "cancelled"
    record.cancelled_at = ctx.now
    audit.record_at_commit(
        session,
        actor,
        "loyalty.redeem_cancel",
        member_id=holder,
        reason=f"{record.points} points back, {expired_total} of them expired",
    )
    _repay_owed(ctx, holder, entry)
    _finish(ctx)
    return _redemption_result(ctx, record, replayed=False, holder=holder)


def adjust_points(
    session: Session,
    *,
    member_id: str,
    points: int,
    reason: str,
    adjustment_id: str,
    actor: Actor,
) -> LoyaltyEntry:
    """A manual adjustment (admin): a credit becomes a lot, a debit never overdraws; a
    credit under the negative-bucket policy first settles what is owed."""
    if points == 0 or not reason.strip():
        raise ValidationError("adjustment", "points", "needs a non-zero amount and a reason")
    member_id = get_member_or_raise(session, member_id).id
    ctx = _ctx(session, [member_id], actor)
    key = f"adjust:{adjustment_id}"
    if repo.existing_keys(session, [key]):
        existing = session.scalar(select(LoyaltyEntry).where(LoyaltyEntry.dedup_key == key))
        assert existing is not None
        return existing
    account = ctx.accounts[member_id]
    settle = min(account.owed, points) if points > 0 else 0
    entry = _entry(
        ctx,
        member_id,
        type_="adjust",
        points=points,
        counter="adjustment",
        source_system=SYSTEM,
        source_kind="adjustment",
        source_id=adjustment_id,
        dedup_key=key,
        owed_change=-settle,
        note=reason[:200],
    )
    if points > 0:
        account.owed -= settle
        if points - settle > 0:
            _new_lot(
                ctx,
                member_id,
                entry,
                points - settle,
                earned_at=ctx.now,
                expires_at=lot_expiry(ctx.policy, ctx.now),
            )
    else:
        if -points > _spendable(ctx, member_id):
            raise Conflict(f"member {member_id} has fewer than {-points} points to debit")
        _take(ctx, member_id, entry, -points, "adjust")
    audit.record(session, actor, "loyalty.adjust", member_id=member_id, reason=reason[:200])
    _finish(ctx)
    return entry


def expire_points(session: Session, *, actor: Actor | str = SYSTEM) -> int:
    """Expire every lot past its date, for all members (idempotent)."""
    now = utcnow()
    member_ids = sorted(
        set(
            session.scalars(
                select(LoyaltyLot.member_id).where(
                    LoyaltyLot.remaining > 0, LoyaltyLot.expires_at <= now
                )
            )
        )
    )
    total = 0
    for start in range(0, len(member_ids), 500):
        chunk = member_ids[start : start + 500]
        version, policy = active_policy(session)
        accounts = repo.lock_accounts(session, chunk)
        ctx = _Ctx(
            session,
            policy,
            version,
            actor if isinstance(actor, str) else actor.label,
            now,
            accounts,
        )
        total += _expire_due(ctx, chunk)
        _finish(ctx)
    return total


# =========================================================================== merges
class LoyaltyMergeHandler:
    """Moves points, lots and tiers on merge and back on unmerge, by postings."""

    name = "loyalty"

    def on_merge(self, session: Session, event: MergeEvent) -> None:
        """Absorbed member's lots and owed points move to the survivor, expiry kept."""
        merge_points(session, event)

    def on_unmerge(self, session: Session, event: UnmergeEvent) -> None:
        """What the merge moved, plus what returned orders earned since, moves back."""
        unmerge_points(session, event)


def merge_points(session: Session, event: MergeEvent) -> None:
    """See `LoyaltyMergeHandler.on_merge`."""
    s, a = event.survivor_id, event.absorbed_id
    if not _has_loyalty_state(session, a):
        # Nothing to move (merges inside an import often join members made moments ago).
        return
    ctx = _ctx(session, [s, a], event.actor)
    key = f"merge:{event.merge_id}"
    if repo.existing_keys(session, [f"{key}:out"]):
        return
    lots = repo.open_lots(session, [a])
    moved = sum(lot.remaining for lot in lots)
    owed = ctx.accounts[a].owed
    out = _entry(
        ctx,
        a,
        type_="adjust",
        points=-(moved - owed),
        counter="merge",
        source_system=SYSTEM,
        source_kind="merge",
        source_id=event.merge_id,
        dedup_key=f"{key}:out",
        owed_change=-owed,
        note=f"merged into {s}",
    )
    into = _entry(
        ctx,
        s,
        type_="adjust",
        points=moved - owed,
        counter="merge",
        source_system=SYSTEM,
        source_kind="merge",
        source_id=event.merge_id,
        dedup_key=f"{key}:in",
        owed_change=owed,
        note=f"merged from {a}",
    )
    for lot in lots:
        points = lot.remaining
        session.add(LotMove(lot_id=lot.id, entry_id=out.id, points=points, kind="merge"))
        lot.remaining = 0
        ctx.accounts[a].balance -= points
        _new_lot(
            ctx,
            s,
            into,
            points,
            earned_at=lot.earned_at,
            expires_at=lot.expires_at,
            order_ref=lot.order_ref,
            origin_lot_id=lot.id,
            merge_ref=event.merge_id,
        )
    ctx.accounts[a].owed = 0
    ctx.accounts[s].owed += owed
    _repay_owed(ctx, s, into)
    # Tiers: remember both, then the survivor qualifies on the combined history.
    states = repo.tier_states(session, [s, a])
    before = {m: states[m].tier_code if m in states else ctx.policy.tiers[0].code for m in (s, a)}
    best = max(ctx.policy.index_of(before[s]), ctx.policy.index_of(before[a]))
    _set_tier(ctx, states, s, best, reason="merge", note=event.merge_id, metrics={"before": before})
    ctx.session.flush()
    _upgrade(ctx, repo.tier_states(session, [s]), {s: ctx.now})
    _finish(ctx)


def _has_loyalty_state(session: Session, member_id: str) -> bool:
    with session.no_autoflush:
        return (
            session.scalar(
                select(LoyaltyAccount.member_id).where(LoyaltyAccount.member_id == member_id)
            )
            is not None
            or session.scalar(select(TierState.member_id).where(TierState.member_id == member_id))
            is not None
        )


def unmerge_points(session: Session, event: UnmergeEvent) -> None:
    """See `LoyaltyMergeHandler.on_unmerge`."""
    s, a = event.survivor_id, event.absorbed_id
    ctx = _ctx(session, [s, a], event.actor)
    key = f"unmerge:{event.merge_id}"
    if repo.existing_keys(session, [f"{key}:out"]):
        return
    into = session.scalar(
        select(LoyaltyEntry).where(LoyaltyEntry.dedup_key == f"merge:{event.merge_id}:in")
    )
    moved = (into.points + into.owed_change) if into is not None else 0
    owed_moved = into.owed_change if into is not None else 0
    returned = list(event.returned_order_ids)
    later = 0
    for start in range(0, len(returned), repo.IN_CHUNK):
        later += (
            session.scalar(
                select(func.coalesce(func.sum(LoyaltyEntry.points), 0)).where(
                    LoyaltyEntry.member_id == s,
                    LoyaltyEntry.type.in_(("earn", "reverse")),
                    LoyaltyEntry.order_ref.in_(returned[start : start + repo.IN_CHUNK]),
                )
            )
            or 0
        )
    give = moved + later
    owed_back = min(owed_moved, ctx.accounts[s].owed)
    returned_set = set(returned)
    prefer = [
        lot
        for lot in repo.open_lots(session, [s])
        if lot.merge_ref == event.merge_id or lot.order_ref in returned_set
    ]
    take = max(0, min(give, ctx.accounts[s].balance))
    short = max(0, give - take)
    out = _entry(
        ctx,
        s,
        type_="adjust",
        points=-(give - owed_back),
        counter="merge",
        source_system=SYSTEM,
        source_kind="unmerge",
        source_id=event.merge_id,
        dedup_key=f"{key}:out",
        owed_change=short - owed_back,
        note=f"returned to {a}",
    )
    into_a = _entry(
        ctx,
        a,
        type_="adjust",
        points=give - owed_back,
        counter="merge",
        source_system=SYSTEM,
        source_kind="unmerge",
        source_id=event.merge_id,
        dedup_key=f"{key}:in",
        owed_change=owed_back,
        note=f"returned from {s}",
    )
    slices = _take(ctx, s, out, take, "merge", prefer=prefer)
    for lot, points in slices:
        _new_lot(
            ctx,
            a,
            into_a,
            points,
            earned_at=lot.earned_at,
            expires_at=lot.expires_at,
            order_ref=lot.order_ref,
            origin_lot_id=lot.id,
            merge_ref=event.merge_id,
        )
    if short > 0:
        # The survivor spent some of what goes back: the absorbed member still gets it
        # all, the survivor owes the difference (the configured overspent policy).
        _new_lot(
            ctx, a, into_a, short, earned_at=ctx.now, expires_at=lot_expiry(ctx.policy, ctx.now)
        )
    ctx.accounts[s].owed += short - owed_back
    ctx.accounts[a].owed += owed_back
    # Tiers: each member goes back to what it held before the merge, then re-qualifies.
    record = session.scalar(
        select(TierHistory).where(
            TierHistory.member_id == s,
            TierHistory.reason == "merge",
            TierHistory.note == event.merge_id,
        )
    )
    states = repo.tier_states(session, [s, a])
    if record is not None:
        before = record.metrics.get("before", {})
        for m in (s, a):
            _set_tier(
                ctx,
                states,
                m,
                ctx.policy.index_of(before.get(m)),
                reason="unmerge",
                note=event.merge_id,
                metrics={},
            )
    ctx.session.flush()
    _upgrade(ctx, repo.tier_states(session, [s, a]), {s: ctx.now, a: ctx.now})
    _finish(ctx)


# =========================================================================== tiers
def _set_tier(
    ctx: _Ctx,
    states: dict[str, TierState],
    member_id: str,
    index: int,
    *,
    reason: str,
    metrics: dict[str, Any],
    at: datetime | None = None,
    period_end: datetime | None = None,
    note: str | None = None,
    grace_used: int = 0,
) -> None:
    code = ctx.policy.tiers[index].code
    state = states.get(member_id)
    before = state.tier_code if state is not None else None
    if state is None:
        state = TierState(
            member_id=member_id,
            tier_code=code,
            since=at or ctx.now,
            grace_used=grace_used,
            policy_version=ctx.version,
        )
        ctx.session.add(state)
        states[member_id] = state
    elif state.tier_code != code:
        state.tier_code = code
        state.since = at or ctx.now
    state.grace_used = grace_used
    state.policy_version = ctx.version
    if period_end is not None:
        state.evaluated_through = period_end
    if before != code or reason in ("merge", "unmerge", "grace", "override"):
        ctx.session.add(
            TierHistory(
                member_id=member_id,
                from_code=before,
                to_code=code,
                reason=reason,
                at=at or ctx.now,
                period_end=period_end,
                metrics=metrics,
                policy_version=ctx.version,
                actor=ctx.actor[:120],
                note=note,
            )
        )
    ctx.touched.add(member_id)


def _floor_index(policy: TierPolicy, state: TierState | None, at: datetime) -> int:
    if state is None or state.floor_code is None:
        return 0
    if state.floor_until is not None and state.floor_until <= at:
        return 0
    return policy.index_of(state.floor_code)


def _upgrade(ctx: _Ctx, states: dict[str, TierState], latest: dict[str, datetime]) -> None:
    """Upgrade members who now qualify (as orders land; no downgrade here)."""
    if not latest:
        return
    members = sorted(latest)
    joined = {m: t.date() for m, t in joined_at(ctx.session, members).items()}
    earliest = min(
        window_start(ctx.policy, at + timedelta(microseconds=1), joined.get(m, at.date()))
        for m, at in latest.items()
    )
    facts = repo.counted_facts(ctx.session, members, since=earliest)
    for member_id in members:
        at = latest[member_id]
        join = joined.get(member_id, at.date())
        end = at + timedelta(microseconds=1)
        metrics = metrics_between(
            facts.get(member_id, []), window_start(ctx.policy, end, join), end
        )
        state = states.get(member_id)
        current = ctx.policy.index_of(state.tier_code if state else None)
        new = upgrade_index(ctx.policy, current, metrics, _floor_index(ctx.policy, state, ctx.now))
        if state is None or new != current:
            _set_tier(
                ctx,
                states,
                member_id,
                new,
                reason="upgrade" if new else "joined",
                metrics=metrics.to_dict(),
                at=at,
            )


@dataclass(slots=True)
class EvaluationReport:
    """What one run of the period-end job did."""

    period_end: str | None
    evaluated: int = 0
    moves: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "period_end": self.period_end,
            "evaluated": self.evaluated,
            "moves": dict(self.moves),
        }


def evaluate_tiers(
    session: Session,
    *,
    as_of: datetime | None = None,
    actor: Actor | str = SYSTEM,
    batch_size: int = 50_000,
) -> EvaluationReport:
    """The period-end job: each member above the base tier is judged once per period end
    (running it twice for one period changes nothing), dropping at most one level.

    Works on ranges of `batch_size` members: lock them, read their states, one grouped
    query for their window metrics, the decisions as array rules
    (`decide_at_period_end_arrays`, the same decisions as `decide_at_period_end`), then a
    few set-based updates and one bulk insert of the history.
    """
    version, policy = active_policy(session)
    as_of = as_of or utcnow()
    label = (actor if isinstance(actor, str) else actor.label)[:120]
    base = policy.tiers[0].code
    session.flush()
    member_ids = list(
        session.scalars(
            select(TierState.member_id)
            .where(TierState.tier_code != base)
            .order_by(TierState.member_id)
        )
    )
    report = EvaluationReport(None)
    ends: dict[date, datetime] = {}
    starts: dict[tuple[datetime, date], datetime] = {}
    for offset in range(0, len(member_ids), batch_size):
        chunk = member_ids[offset : offset + batch_size]
        lo, hi = chunk[0], chunk[-1]
        repo.lock_tiered_members(session, lo, hi, base)
        by_end: dict[datetime, list[repo.TierStateRow]] = {}
        for row in repo.tiered_states(session, lo, hi, base):
            join = row[7].date() if row[7] is not None else as_of.date()
            pe = ends.get(join)
            if pe is None:
                pe = ends[join] = period_end_at_or_before(policy, as_of, join)
            evaluated_through, since = row[4], row[2]
            if evaluated_through is not None and evaluated_through >= pe:
                continue
            if since >= pe:
                continue  # reached the tier after this period end: judged at the next one
            by_end.setdefault(pe, []).append(row)
        for pe, rows in by_end.items():
            report.period_end = pe.isoformat()
            for key, group in _by_window_start(policy, pe, rows, starts).items():
                _judge(session, policy, version, label, pe, key, group, lo, hi, report)
    # The updates above bypass the unit of work: drop what the session held of them.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, TierState | Member):
            session.expire(obj)
    return report


def _by_window_start(
    policy: TierPolicy,
    pe: datetime,
    rows: list[repo.TierStateRow],
    cache: dict[tuple[datetime, date], datetime],
) -> dict[datetime, list[repo.TierStateRow]]:
    """Members grouped by the start of their window ending at `pe` (one group unless
    windows run from each member's anniversary)."""
    groups: dict[datetime, list[repo.TierStateRow]] = {}
    for row in rows:
        join = row[7].date() if row[7] is not None else pe.date()
        start = cache.get((pe, join))
        if start is None:
            start = cache[(pe, join)] = window_start(policy, pe, join)
        groups.setdefault(start, []).append(row)
    return groups


def _judge(
    session: Session,
    policy: TierPolicy,
    version: int,
    actor: str,
    pe: datetime,
    start: datetime,
    rows: list[repo.TierStateRow],
    lo: str,
    hi: str,
    report: EvaluationReport,
) -> None:
    """Decide and store the period end `pe` for members sharing the window [start, pe)."""
    totals = repo.window_totals(session, lo, hi, start, pe)
    n = len(rows)
    spend = np.zeros(n, dtype=np.int64)
    visits = np.zeros(n, dtype=np.int64)
    since_last = np.full(n, -1, dtype=np.int64)
    current = np.empty(n, dtype=np.int64)
    grace_used = np.empty(n, dtype=np.int64)
    floor = np.empty(n, dtype=np.int64)
    index = {t.code: i for i, t in reversed(list(enumerate(policy.tiers)))}
    lasts: list[datetime | None] = []
    for i, row in enumerate(rows):
        member_id, code, _, grace, _, floor_code, floor_until, _ = row
        total, count, last = totals.get(member_id, (0, 0, None))
        spend[i], visits[i] = total, count
        if last is not None:
            since_last[i] = (pe - last) // timedelta(microseconds=1)
        lasts.append(last)
        current[i] = index.get(code, 0)
        grace_used[i] = grace
        # A manual floor counts until its end date (`_floor_index`).
        active_floor = floor_code is not None and (floor_until is None or floor_until > pe)
        floor[i] = index.get(floor_code, 0) if active_floor and floor_code else 0
    new, grace_new, reasons = decide_at_period_end_arrays(
        policy, current, grace_used, spend, visits, since_last, floor
    )
    report.evaluated += n
    for code_, count_ in zip(*np.unique(reasons, return_counts=True), strict=True):
        report.moves[PERIOD_END_REASONS[int(code_)]] += int(count_)
    grace_reason = PERIOD_END_REASONS.index("grace")
    quiet: dict[int, list[str]] = {}
    moved: dict[tuple[int, int, bool], list[str]] = {}
    history: list[dict[str, Any]] = []
    start_text, end_text = start.isoformat(), pe.isoformat()
    for i, row in enumerate(rows):
        member_id = row[0]
        to, cur, g, reason = int(new[i]), int(current[i]), int(grace_new[i]), int(reasons[i])
        if to == cur and reason != grace_reason:
            quiet.setdefault(g, []).append(member_id)
            continue
        changed = row[1] != policy.tiers[to].code
        moved.setdefault((to, g, changed), []).append(member_id)
        last = lasts[i]
        history.append(
            {
                "id": new_id(),
                "member_id": member_id,
                "from_code": row[1],
                "to_code": policy.tiers[to].code,
                "reason": PERIOD_END_REASONS[reason],
                "at": pe,
                "period_end": pe,
                "metrics": {
                    "spend_cents": int(spend[i]),
                    "visits": int(visits[i]),
                    "last_visit_at": last.isoformat() if last else None,
                    "window_start": start_text,
                    "window_end": end_text,
                },
                "policy_version": version,
                "actor": actor,
                "note": None,
            }
        )
    for g, members in quiet.items():
        repo.update_tier_states(session, members, {"evaluated_through": pe, "grace_used": g})
    tiers_set: dict[str, list[str]] = {}
    for (to, g, changed), members in moved.items():
        values: dict[str, Any] = {
            "tier_code": policy.tiers[to].code,
            "grace_used": g,
            "policy_version": version,
            "evaluated_through": pe,
        }
        if changed:
            values["since"] = pe
        repo.update_tier_states(session, members, values)
        tiers_set.setdefault(policy.tiers[to].code, []).extend(members)
    bulk_insert(session, TierHistory, history)
    for code, members in tiers_set.items():
        set_tier_cache(session, code, sorted(members))


def set_tier_override(
    session: Session,
    *,
    member_id: str,
    tier_code: str,
    reason: str,
    until: datetime,
    actor: Actor,
) -> dict[str, Any]:
    """A manual tier that acts as a floor until `until` (audited); downgrades resume after."""
    if not reason.strip():
        raise ValidationError("tier override", "reason", "is required")
    member_id = get_member_or_raise(session, member_id).id
    version, policy = active_policy(session)
    if tier_code not in {t.code for t in policy.tiers}:
        raise ValidationError("tier override", "tier", "is not a tier of the active policy")
    ctx = _Ctx(session, policy, version, actor.label, utcnow(), {})
    states = repo.tier_states(session, [member_id])
    index = max(
        policy.index_of(tier_code),
        policy.index_of(states[member_id].tier_code) if member_id in states else 0,
    )
    _set_tier(ctx, states, member_id, index, reason="override", metrics={}, note=reason[:200])
    state = states[member_id]
    state.floor_code = tier_code
    state.floor_until = until
    state.floor_reason = reason[:200]
    audit.record(
        session,
        actor,
        "loyalty.tier_override",
        member_id=member_id,
        reason=f"floor {tier_code} until {until.isoformat()}: {reason[:120]}",
    )
    session.flush()
    _refresh_cache(session, [member_id])
    return explain_tier(session, member_id=member_id)


def explain_tier(
    session: Session, *, member_id: str, now: datetime | None = None
) -> dict[str, Any]:
    """Current tier, why, and what is still needed to keep it and to reach the next."""
    member = get_member_or_raise(session, member_id)
    version, policy = active_policy(session)
    now = now or utcnow()
    state = repo.tier_states(session, [member.id]).get(member.id)
    index = policy.index_of(state.tier_code if state else None)
    joined = member.created_at.date()
    facts = repo.counted_facts(session, [member.id], since=now - timedelta(days=800)).get(
        member.id, []
    )
    last = session.scalar(
        select(TierHistory)
        .where(TierHistory.member_id == member.id)
        .order_by(TierHistory.at.desc(), TierHistory.id.desc())
        .limit(1)
    )
    tier = policy.tiers[index]
    return {
        "member_id": member.id,
        "policy_version": version,
        "timezone": policy.timezone,
        "tier": tier.code,
        "name": tier.name,
        "since": state.since.astimezone(policy.zone).isoformat() if state else None,
        "benefits": tier.benefits(),
        "floor": (
            {
                "tier": state.floor_code,
                "until": state.floor_until.isoformat() if state.floor_until else None,
                "reason": state.floor_reason,
            }
            if state and state.floor_code and _floor_index(policy, state, now)
            else None
        ),
        "why": (
            {
                "reason": last.reason,
                "from": last.from_code,
                "to": last.to_code,
                "at": last.at.astimezone(policy.zone).isoformat(),
                "metrics": last.metrics,
            }
            if last is not None
            else {"reason": "base tier", "metrics": {}}
        ),
        **explain_requirements(policy, index, facts, joined, now),
    }


def tier_history(session: Session, member_id: str) -> list[dict[str, Any]]:
    """A member's tier moves, oldest first, with the metrics behind each."""
    member = get_member_or_raise(session, member_id)
    return [
        {
            "at": h.at.isoformat(),
            "from": h.from_code,
            "to": h.to_code,
            "reason": h.reason,
            "period_end": h.period_end.isoformat() if h.period_end else None,
            "metrics": h.metrics,
            "policy_version": h.policy_version,
            "note": h.note,
        }
        for h in session.scalars(
            select(TierHistory)
            .where(TierHistory.member_id == member.id)
            .order_by(TierHistory.at, TierHistory.id)
        )
    ]


def simulate_policy(
    session: Session,
    proposed: TierPolicy,
    *,
    as_of: datetime | None = None,
) -> dict[str, Any]:
    """Replay every member's counted history under the active and the proposed policy.

    Returns moves per tier, spend of the members who move, the yearly cost of the tier
    benefits (discount on window spend plus birthday gifts) under both, and a per-member
    diff. Nothing is written.
    """
    _, active = active_policy(session)
    as_of = as_of or utcnow()
    facts = repo.counted_facts(session, None, until=as_of)
    joined = {m: t.date() for m, t in joined_at(session, sorted(facts)).items()}
    return simulate_facts(active, proposed, facts, joined, as_of)


def simulate_facts(
    active: TierPolicy,
    proposed: TierPolicy,
    facts: dict[str, list[OrderFact]],
    joined: dict[str, date],
    as_of: datetime,
) -> dict[str, Any]:
    """The pure part of `simulate_policy` (benchmarks call it on synthetic members).

    The whole membership is replayed at once with the array rules
    (`replay_tiers_arrays`); policies counting from each member's anniversary are
    replayed member by member. Both give the same result (tests compare them).
    """
    member_ids = list(facts)
    counts = [len(orders) for orders in facts.values()]
    times = np.fromiter(
        (micros(o.at) for orders in facts.values() for o in orders),
        dtype=np.int64,
        count=sum(counts),
    )
    net = np.fromiter(
        (o.net_cents for orders in facts.values() for o in orders),
        dtype=np.int64,
        count=len(times),
    )
    member = np.repeat(np.arange(len(member_ids), dtype=np.int64), counts)
    arrays = OrderArrays(member, times, net, len(member_ids))
    tiers: list[IntArray] = []
    for policy in (active, proposed):
        replayed = replay_tiers_arrays(policy, arrays, as_of)
        tiers.append(
            replayed[0] if replayed is not None else _replay_each(policy, facts, joined, as_of)
        )
    everyone = np.arange(len(member_ids), dtype=np.int64)
    spend_12m, visits_12m, _ = arrays.window(
        everyone,
        np.full(len(member_ids), micros(as_of - timedelta(days=365)), dtype=np.int64),
        np.full(len(member_ids), micros(as_of), dtype=np.int64),
    )
    return _simulation_result(active, proposed, member_ids, tiers, spend_12m, visits_12m, as_of)


def _replay_each(
    policy: TierPolicy,
    facts: dict[str, list[OrderFact]],
    joined: dict[str, date],
    as_of: datetime,
) -> IntArray:
    """Tier index per member by the per-member rule (`replay_tier`)."""
    return np.array(
        [
            replay_tier(
                policy,
                orders,
                joined.get(m, orders[0].at.date() if orders else as_of.date()),
                as_of,
            )[0]
            for m, orders in facts.items()
        ],
        dtype=np.int64,
    )


def _simulation_result(
    active: TierPolicy,
    proposed: TierPolicy,
    member_ids: list[str],
    tiers: list[IntArray],
    spend_12m: IntArray,
    visits_12m: IntArray,
    as_of: datetime,
) -> dict[str, Any]:
    """Moves per tier, spend of the movers, benefit cost under both policies, the diff."""
    ia_all = tiers[0]
    ip_all = np.minimum(tiers[1], len(proposed.tiers) - 1)
    codes_a = [t.code for t in active.tiers]
    codes_p = [t.code for t in proposed.tiers]
    counts_active = Counter(
        {codes_a[i]: int(c) for i, c in zip(*np.unique(ia_all, return_counts=True), strict=True)}
    )
    counts_proposed = Counter(
        {codes_p[i]: int(c) for i, c in zip(*np.unique(ip_all, return_counts=True), strict=True)}
    )
    cost = {}
    for name, policy, idx in (("active", active, ia_all), ("proposed", proposed, ip_all)):
        discount = np.array([t.discount_bp for t in policy.tiers], dtype=np.int64)[idx]
        gift = np.array([t.birthday_gift_cents for t in policy.tiers], dtype=np.int64)[idx]
        cost[name] = int((spend_12m * discount // 10000 + gift).sum())
    # Members whose tier code differs (codes, not positions: the ladders may differ).
    code_of_a = np.array(codes_a, dtype=object)[ia_all] if len(ia_all) else np.array([])
    code_of_p = np.array(codes_p, dtype=object)[ip_all] if len(ip_all) else np.array([])
    movers = np.nonzero(code_of_a != code_of_p)[0] if len(ia_all) else np.array([], dtype=int)
    up: Counter[str] = Counter()
    down: Counter[str] = Counter()
    diff: list[dict[str, Any]] = []
    top_a, top_p = max(1, len(active.tiers) - 1), max(1, len(proposed.tiers) - 1)
    for i in movers.tolist():
        ia, ip = int(tiers[0][i]), int(tiers[1][i])
        ta, tp = codes_a[ia], codes_p[int(ip_all[i])]
        (up if ip / top_p > ia / top_a else down)[f"{ta}->{tp}"] += 1
        diff.append(
            {
                "member_id": member_ids[i],
                "active": ta,
                "proposed": tp,
                "spend_12m_cents": int(spend_12m[i]),
                "visits_12m": int(visits_12m[i]),
            }
        )
    return {
        "as_of": as_of.isoformat(),
        "members": len(member_ids),
        "tiers_active": dict(counts_active),
        "tiers_proposed": dict(counts_proposed),
        "moves_up": dict(up),
        "moves_down": dict(down),
        "spend_12m_of_movers_cents": int(spend_12m[movers].sum()) if len(movers) else 0,
        "benefit_cost_12m_cents": cost,
        "diff": diff,
    }


def diff_csv(result: dict[str, Any]) -> str:
    """The per-member diff of a simulation as CSV."""
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=["member_id", "active", "proposed", "spend_12m_cents", "visits_12m"]
    )
    writer.writeheader()
    writer.writerows(result["diff"])
    return out.getvalue()


# =========================================================================== views
def points_view(session: Session, *, member_id: str, history: int = 50) -> dict[str, Any]:
    """Balance, owed points, open lots and recent entries of a member."""
    member = get_member_or_raise(session, member_id)
    _, policy = active_policy(session)
    account = session.get(LoyaltyAccount, member.id, populate_existing=True)
    lots = repo.open_lots(session, [member.id])
    entries = session.scalars(
        select(LoyaltyEntry)
        .where(LoyaltyEntry.member_id == member.id)
        .order_by(LoyaltyEntry.created_at.desc(), LoyaltyEntry.id.desc())
        .limit(history)
    ).all()
    return {
        "member_id": member.id,
        "balance": account.balance if account else 0,
        "owed": account.owed if account else 0,
        "spendable": (
            (account.balance - account.owed if policy.overspent == "clawback" else account.balance)
            if account
            else 0
        ),
        "lifetime_earned": account.lifetime_earned if account else 0,
        "lots": [
            {
                "id": lot.id,
                "points": lot.points,
                "remaining": lot.remaining,
                "earned_at": lot.earned_at.isoformat(),
                "expires_at": lot.expires_at.isoformat(),
            }
            for lot in lots
        ],
        "history": [
            {
                "id": e.id,
                "type": e.type,
                "points": e.points,
                "counter_account": e.counter_account,
                "source": f"{e.source_system}:{e.source_kind}:{e.source_id}",
                "effective_at": e.effective_at.isoformat(),
                "created_at": e.created_at.isoformat(),
                "note": e.note,
            }
            for e in entries
        ],
        # Which campaigns applied to the orders in this history, and why the others did not.
        "campaigns": campaigns.order_decisions(
            session, sorted({e.order_ref for e in entries if e.type == "earn" and e.order_ref})
        ),
    }


@dataclass(slots=True)
class LedgerVerification:
    """The result of `verify_ledger`."""

    accounts: int = 0
    entries: int = 0
    lots: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "ok": self.ok,
            "accounts": self.accounts,
            "entries": self.entries,
            "lots": self.lots,
            "problems": self.problems[:100],
        }


def verify_ledger(session: Session, *, now: datetime | None = None) -> LedgerVerification:
    """Prove every account equals its entries and every lot its earn minus what consumed it.

    Checks: balance - owed == sum(entries) per account; balance == sum(lot remainders);
    remaining == points - sum(moves) >= 0 per lot; no unexpired point left in an expired
    lot after expiry ran; reversals of an order never exceed its earn; every
    redemption's entry equals its points.
    """
    now = now or utcnow()
    result = LedgerVerification()
    sums = dict(
        session.execute(
            select(LoyaltyEntry.member_id, func.sum(LoyaltyEntry.points)).group_by(
                LoyaltyEntry.member_id
            )
        ).all()
    )
    lot_sums = dict(
        session.execute(
            select(LoyaltyLot.member_id, func.sum(LoyaltyLot.remaining)).group_by(
                LoyaltyLot.member_id
            )
        ).all()
    )
    result.entries = session.scalar(select(func.count()).select_from(LoyaltyEntry)) or 0
    for member_id, balance, owed in session.execute(
        select(LoyaltyAccount.member_id, LoyaltyAccount.balance, LoyaltyAccount.owed)
    ):
        result.accounts += 1
        if balance - owed != (sums.get(member_id) or 0):
            result.problems.append(
                f"account {member_id}: balance {balance} - owed {owed} != entries "
                f"{sums.get(member_id) or 0}"
            )
        if balance != (lot_sums.get(member_id) or 0):
            result.problems.append(
                f"account {member_id}: balance {balance} != lots {lot_sums.get(member_id) or 0}"
            )
        if balance < 0 or owed < 0:
            result.problems.append(f"account {member_id}: negative balance or owed")
    orphan = set(sums) - {m for (m,) in session.execute(select(LoyaltyAccount.member_id))}
    for member_id in orphan:
        result.problems.append(f"entries for {member_id} without an account")
    moved = dict(
        session.execute(
            select(LotMove.lot_id, func.sum(LotMove.points)).group_by(LotMove.lot_id)
        ).all()
    )
    for lot_id, points, remaining in session.execute(
        select(LoyaltyLot.id, LoyaltyLot.points, LoyaltyLot.remaining)
    ):
        result.lots += 1
        if remaining != points - (moved.get(lot_id) or 0) or remaining < 0:
            result.problems.append(
                f"lot {lot_id}: remaining {remaining} != {points} - {moved.get(lot_id) or 0}"
            )
    earned_expr = case((LoyaltyEntry.type == "earn", LoyaltyEntry.points), else_=0)
    reversed_expr = case((LoyaltyEntry.type == "reverse", -LoyaltyEntry.points), else_=0)
    row: Any
    for row in session.execute(
        select(LoyaltyEntry.order_ref, func.sum(earned_expr), func.sum(reversed_expr))
        .where(
            LoyaltyEntry.order_ref.is_not(None),
            LoyaltyEntry.source_kind.in_(("order", "refund", "void")),
        )
        .group_by(LoyaltyEntry.order_ref)
    ):
        order_ref, earned, reversed_ = row[0], int(row[1] or 0), int(row[2] or 0)
        if reversed_ > earned:
            result.problems.append(f"order {order_ref}: reversed {reversed_} > earned {earned}")
    for rid, points, entry_points in session.execute(
        select(Redemption.id, Redemption.points, LoyaltyEntry.points).join(
            LoyaltyEntry, LoyaltyEntry.id == Redemption.entry_id
        )
    ):
        if entry_points != -points:
            result.problems.append(f"redemption {rid}: entry {entry_points} != -{points}")
    return result


# =========================================================================== vouchers
def _quarter_label(at: datetime, policy: TierPolicy) -> str:
    local = at.astimezone(policy.zone)
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def convert_vouchers(
    session: Session, *, period: str | None = None, actor: Actor | str = SYSTEM
) -> dict[str, Any]:
    """Turn points into vouchers (at least 150, in 50-point steps; the rest carries over).

    Once per member and period (`period` defaults to the current local quarter).
    """
    _, policy = active_policy(session)
    now = utcnow()
    period = period or _quarter_label(now, policy)
    candidates = list(
        session.scalars(
            select(LoyaltyAccount.member_id)
            .where(LoyaltyAccount.balance - LoyaltyAccount.owed >= policy.voucher_min_points)
            .order_by(LoyaltyAccount.member_id)
        )
    )
    issued = members = points_total = 0
    for start in range(0, len(candidates), 500):
        chunk = candidates[start : start + 500]
        ctx = _ctx(session, chunk, actor)
        done = repo.existing_keys(session, [f"convert:{period}:{m}" for m in chunk])
        for m in chunk:
            key = f"convert:{period}:{m}"
            if key in done:
                continue
            points = voucher_points(
                _spendable(ctx, m), policy.voucher_min_points, policy.voucher_step_points
            )
            if points <= 0:
                continue
            entry = _entry(
                ctx,
                m,
                type_="convert",
                points=-points,
                counter="vouchers",
                source_system=SYSTEM,
                source_kind="conversion",
                source_id=period,
                dedup_key=key,
            )
            _take(ctx, m, entry, points, "convert")
            for value in split_vouchers(points, policy.voucher_denominations):
                session.add(
                    Voucher(
                        code=f"V{period}-{secrets.token_hex(5).upper()}",
                        member_id=m,
                        value_cents=value,
                        points=value,
                        entry_id=entry.id,
                        period=period,
                        issued_at=now,
                        expires_at=now + timedelta(days=policy.voucher_valid_days),
                    )
                )
                issued += 1
            members += 1
            points_total += points
        _finish(ctx)
    return {"period": period, "members": members, "vouchers": issued, "points": points_total}


def redeem_voucher(session: Session, *, code: str, reference: str, actor: Actor) -> Voucher:
    """Use a voucher at checkout, once (a guarded update: two tills cannot both use it)."""
    now = utcnow()
    result = session.execute(
        update(Voucher)
        .where(Voucher.code == code, Voucher.status == "issued", Voucher.expires_at > now)
        .values(status="redeemed", redeemed_at=now, redeemed_ref=reference[:120])
    )
    voucher = session.scalar(
        select(Voucher).where(Voucher.code == code).execution_options(populate_existing=True)
    )
    if voucher is None:
        raise NotFound(f"voucher {code} not found")
    if result.rowcount != 1:  # type: ignore[attr-defined]
        if voucher.status == "redeemed" and voucher.redeemed_ref == reference[:120]:
            return voucher  # the same checkout retried
        raise Conflict(
            f"voucher {code} is {voucher.status if voucher.status != 'issued' else 'expired'}"
        )
    audit.record_at_commit(session, actor, "loyalty.voucher_redeem", member_id=voucher.member_id)
    return voucher


def expire_vouchers(session: Session) -> int:
    """Mark vouchers past their date as expired."""
    result = session.execute(
        update(Voucher)
        .where(Voucher.status == "issued", Voucher.expires_at <= utcnow())
        .values(status="expired")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def statement(
    session: Session, *, member_id: str, start: datetime, end: datetime
) -> dict[str, Any]:
    """A member's points statement for [start, end): opening, movements, closing, vouchers.

    Entries count by when they took effect (an order's time for its earn), so a late
    offline batch lands in the period of the meal.
    """
    member = get_member_or_raise(session, member_id)
    _, policy = active_policy(session)

    def total(until: datetime) -> int:
        return int(
            session.scalar(
                select(func.coalesce(func.sum(LoyaltyEntry.points), 0)).where(
                    LoyaltyEntry.member_id == member.id, LoyaltyEntry.effective_at < until
                )
            )
            or 0
        )

    by_type = Counter[str]()
    for type_, points in session.execute(
        select(LoyaltyEntry.type, func.sum(LoyaltyEntry.points))
        .where(
            LoyaltyEntry.member_id == member.id,
            LoyaltyEntry.effective_at >= start,
            LoyaltyEntry.effective_at < end,
        )
        .group_by(LoyaltyEntry.type)
    ):
        by_type[type_] = int(points)
    vouchers = session.scalars(
        select(Voucher)
        .where(Voucher.member_id == member.id, Voucher.issued_at >= start, Voucher.issued_at < end)
        .order_by(Voucher.issued_at, Voucher.code)
    ).all()
    return {
        "member_id": member.id,
        "from": start.astimezone(policy.zone).isoformat(),
        "to": end.astimezone(policy.zone).isoformat(),
        "opening": total(start),
        "movements": dict(by_type),
        "closing": total(end),
        "vouchers": [
            {
                "code": v.code,
                "value_cents": v.value_cents,
                "status": v.status,
                "expires_at": v.expires_at.astimezone(policy.zone).isoformat(),
            }
            for v in vouchers
        ],
    }


_STATEMENT_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Points statement</title><style>body{font-family:sans-serif;margin:2em}
td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}</style></head><body>
<h1>Points statement</h1><p>Member {{ s.member_id }}, {{ s.from }} to {{ s.to }}</p>
<table><tr><th>opening</th><td>{{ s.opening }}</td></tr>
{% for k, v in s.movements.items() %}<tr><th>{{ k }}</th><td>{{ v }}</td></tr>{% endfor %}
<tr><th>closing</th><td>{{ s.closing }}</td></tr></table>
<h2>Vouchers</h2><table><tr><th>code</th><th>value</th><th>status</th><th>valid until</th></tr>
{% for v in s.vouchers %}<tr><td>{{ v.code }}</td><td>{{ "%.2f"|format(v.value_cents / 100) }}</td>
<td>{{ v.status }}</td><td>{{ v.expires_at }}</td></tr>{% endfor %}</table></body></html>
"""


def statement_html(data: dict[str, Any]) -> str:
    """The statement as a self-contained HTML page (console, mail)."""
    from jinja2 import Environment

    env = Environment(autoescape=True)
    return env.from_string(_STATEMENT_HTML).render(s=data)


# =========================================================================== partners
def set_partner_rate(
    session: Session, *, partner: str, effective_from: datetime, units_per_100_points: int
) -> None:
    """Record a partner's exchange rate from a date on."""
    if units_per_100_points <= 0:
        raise ValidationError("partner rate", "units_per_100_points", "must be positive")
    session.add(
        PartnerRate(
            partner=partner,
            effective_from=effective_from,
            units_per_100_points=units_per_100_points,
        )
    )
    session.flush()


def convert_to_partner(
    session: Session,
    *,
    member_id: str,
    partner: str,
    points: int,
    request_id: str,
    actor: Actor,
) -> PartnerConversion:
    """Convert points into a partner's units at the rate in force now (whole units only)."""
    member_id = get_member_or_raise(session, member_id).id
    ctx = _ctx(session, [member_id], actor)
    existing = session.scalar(
        select(PartnerConversion).where(
            PartnerConversion.partner == partner, PartnerConversion.request_id == request_id
        )
    )
    if existing is not None:
        return existing
    rate = session.scalar(
        select(PartnerRate.units_per_100_points)
        .where(PartnerRate.partner == partner, PartnerRate.effective_from <= ctx.now)
        .order_by(PartnerRate.effective_from.desc())
        .limit(1)
    )
    if rate is None:
        raise NotFound(f"no rate for partner {partner}")
    units, used = partner_units(points, rate)
    if units <= 0:
        raise ValidationError("partner conversion", "points", "too few points for one unit")
    if used > _spendable(ctx, member_id):
        raise Conflict(f"member {member_id} has fewer than {used} spendable points")
    entry = _entry(
        ctx,
        member_id,
        type_="convert",
        points=-used,
        counter=f"partner:{partner}"[:40],
        source_system=partner,
        source_kind="partner",
        source_id=request_id,
        dedup_key=f"partner:{partner}:{request_id}",
    )
    _take(ctx, member_id, entry, used, "convert")
    conversion = PartnerConversion(
        partner=partner,
        request_id=request_id,
        member_id=member_id,
        points=used,
        units=units,
        units_per_100_points=rate,
        entry_id=entry.id,
        at=ctx.now,
    )
    session.add(conversion)
    audit.record(
        session,
        actor,
        "loyalty.partner_convert",
        member_id=member_id,
        reason=f"{used} points -> {units} {partner} units",
    )
    _finish(ctx)
    return conversion


def partner_reconciliation(
    session: Session, *, partner: str, start: datetime, end: datetime
) -> str:
    """CSV of a partner's conversions in [start, end) with a closing total line."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "conversion_id",
            "request_id",
            "member_id",
            "at_utc",
            "points",
            "units",
            "units_per_100_points",
        ]
    )
    points = units = 0
    for c in session.scalars(
        select(PartnerConversion)
        .where(
            PartnerConversion.partner == partner,
            PartnerConversion.at >= start,
            PartnerConversion.at < end,
        )
        .order_by(PartnerConversion.at, PartnerConversion.id)
    ):
        writer.writerow(
            [
                c.id,
                c.request_id,
                c.member_id,
                c.at.astimezone(UTC).isoformat(),
                c.points,
                c.units,
                c.units_per_100_points,
            ]
        )
        points += c.points
        units += c.units
    writer.writerow(["TOTAL", "", "", "", points, units, ""])
    return out.getvalue()


# =========================================================================== quote
def quote(
    session: Session,
    *,
    member_id: str | None,
    items: Sequence[tuple[str, int]],
    voucher_codes: Sequence[str] = (),
    coupon_codes: Sequence[str] = (),
) -> dict[str, Any]:
    """Price a basket for a member (or a newcomer when `member_id` is None), itemised."""
    _, policy = active_policy(session)
    skus = [sku for sku, _ in items]
    prices = public_prices(session, skus)
    basket = []
    for sku, quantity in items:
        if sku not in prices:
            raise ValidationError("quote", "sku", f"unknown item {sku}")
        basket.append((sku, quantity, int(prices[sku])))
    tier_name, discount = None, 0
    vouchers: list[tuple[str, int, bool, str]] = []
    now = utcnow()
    if member_id is not None:
        member = get_member_or_raise(session, member_id)
        member_id = member.id
        state = repo.tier_states(session, [member.id]).get(member.id)
        tier = policy.tier(state.tier_code if state else None)
        tier_name, discount = tier.name, tier.discount_bp
    for code in voucher_codes:
        v = session.scalar(select(Voucher).where(Voucher.code == code))
        if v is None or member_id is None or v.member_id != member_id:
            vouchers.append((code, 0, False, "not a voucher of this member"))
        elif v.status != "issued":
            vouchers.append((code, 0, False, f"voucher is {v.status}"))
        elif v.expires_at <= now:
            vouchers.append((code, 0, False, "voucher expired"))
        else:
            vouchers.append((code, v.value_cents, True, ""))
    offered: list[tuple[str, int, bool, str]] = []
    if coupon_codes:
        categories = item_categories_by_sku(session, skus)
        offered = coupons.quote_coupons(
            session,
            member_id=member_id,
            codes=coupon_codes,
            basket=[BasketLine(sku, categories.get(sku, ""), q * p) for sku, q, p in basket],
            discount_bp=discount,
            at=now,
            zone=policy.zone,
        )
    result = quote_basket(
        basket, tier_name=tier_name, discount_bp=discount, vouchers=vouchers, coupons=offered
    )
    return {
        "member_id": member_id,
        "public_cents": result.public_cents,
        "total_cents": result.total_cents,
        "lines": [
            {
                "kind": ln.kind,
                "label": ln.label,
                "amount_cents": ln.amount_cents,
                "applied": ln.applied,
                "reason": ln.reason,
            }
            for ln in result.lines
        ],
    }


# =========================================================================== hooks
class LoyaltyOrdersHandler:
    """Earns points and upgrades tiers as orders land, in the order's transaction."""

    name = "loyalty"

    def on_orders_stored(self, session: Session, event: OrdersStored) -> None:
        """Post the chunk's orders and adjustments."""
        post_orders(
            session,
            event.order_ids,
            event.adjustments,
            actor=event.actor if event.actor is not None else SYSTEM,
        )


_EXPORTED_MODELS = (
    LoyaltyAccount,
    LoyaltyEntry,
    LoyaltyLot,
    Redemption,
    TierState,
    TierHistory,
    Voucher,
    PartnerConversion,
)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def export_member_loyalty(session: Session, member_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every loyalty row of the member (account, ledger, lots, redemptions, tiers,
    vouchers, partner conversions), for a data-subject export.

    Erasure keeps these rows under the member's opaque id: they are the books of a points
    liability (like orders), and hold nothing personal beyond that id.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    for model in _EXPORTED_MODELS:
        table = model.__table__
        member_column = next(c for c in table.columns if c.info.get("member_owned"))
        rows = session.execute(table.select().where(member_column == member_id)).mappings()
        out[str(model.__tablename__)] = [{k: _plain(v) for k, v in row.items()} for row in rows]
    return out
