"""Computed labels: service needs derived from order modifiers, and labels from rules over
profile features. Refreshed by the pipeline step (`pipeline.py`).

Orders are read only through `memberops.orders.counted`, so "which orders count" is the
orders capability's definition here as everywhere else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.actor import Actor, system_actor
from memberops.db import new_id, utcnow
from memberops.labels import rules as label_rules
from memberops.labels.guard import screen
from memberops.labels.models import Label
from memberops.labels.service import REASON_CHARS, record_label_event, sensitive_consent_id
from memberops.members.repository import active_member_ids
from memberops.orders.counted import counted_order_lines_query

__all__ = [
    "ServiceNeed",
    "derive_service_needs",
    "members_with_recurring_modifiers",
    "refresh_computed_labels",
    "refresh_service_need_labels",
]

# (modifier, number of distinct orders carrying it, last time seen)
ServiceNeed = tuple[str, int, datetime]


def derive_service_needs(session: Session, member_id: str) -> list[ServiceNeed]:
    """Service requirements from the member's order-line modifiers, most frequent first.

    Each entry is (modifier, number of distinct orders carrying it, last time seen).
    Only counted orders count (memberops.orders.counted): a voided meal did not happen.
    This is how the top-5 service requirements of the profile come about without anyone
    typing them (PRODUCT.md §2).
    """
    lines = counted_order_lines_query(member_ids=[member_id]).subquery("lines")
    stmt = select(lines.c.order_id, lines.c.ordered_at, lines.c.modifiers)
    rows = cast(Iterable[tuple[str, datetime, list[str] | None]], session.execute(stmt))
    orders: dict[str, set[str]] = {}
    last_seen: dict[str, datetime] = {}
    for order_id, ordered_at, modifiers in rows:
        for modifier in modifiers or []:
            orders.setdefault(modifier, set()).add(order_id)
            if modifier not in last_seen or ordered_at > last_seen[modifier]:
                last_seen[modifier] = ordered_at
    needs = [(m, len(ids), last_seen[m]) for m, ids in orders.items()]
    needs.sort(key=lambda need: (-need[1], -need[2].timestamp(), need[0]))
    return needs


_STATUS_RANK = {"expired": 0, "active": 1}


def _computed_labels(session: Session, member_id: str, rule_ids: Sequence[str]) -> list[Label]:
    stmt = select(Label).where(
        Label.member_id == member_id,
        Label.source == "computed",
        Label.rule_id.in_(list(rule_ids)),
    )
    return list(session.scalars(stmt))


def _sync_computed(
    session: Session,
    *,
    member_id: str,
    wanted: dict[tuple[str, str], tuple[str, str, str | None, list[str]]],
    existing: list[Label],
    actor: Actor,
) -> list[Label]:
    """Make the computed labels match `wanted`: (rule_id, code) -> (category, why, consent,
    sensitive categories). Labels the member deleted or disputed are left alone, so a
    refresh never overrides the member's objection."""
    now = utcnow()
    by_key: dict[tuple[str, str], Label] = {}
    duplicates: list[Label] = []
    # After a merge the survivor can hold the same computed label twice; one stays, and
    # an objection (deleted, disputed, quarantined) outranks an active or expired copy.
    for found in sorted(existing, key=lambda item: (item.created_at, item.id)):
        key = (found.rule_id or "", found.code or "")
        kept = by_key.get(key)
        if kept is None:
            by_key[key] = found
            continue
        if _STATUS_RANK.get(found.status, 2) > _STATUS_RANK.get(kept.status, 2):
            by_key[key], found = found, kept
        duplicates.append(found)
    for duplicate in duplicates:
        if duplicate.status == "active":
            duplicate.status, duplicate.valid_until = "expired", now
            record_label_event(
                session, duplicate, "expired", actor, "duplicate of another label (merge)"
            )
    current: list[Label] = []
    for key, (category, why, consent_id, sensitive_cats) in wanted.items():
        label = by_key.get(key)
        if label is None:
            label = Label(
                id=new_id(),
                member_id=member_id,
                category=category,
                code=key[1],
                text_enc=None,
                source="computed",
                created_by=actor.label[:120],
                reason=why[:REASON_CHARS],
                rule_id=key[0],
                created_at=now,
                valid_from=now,
                status="active",
                sensitive=bool(sensitive_cats),
                sensitive_categories=sensitive_cats,
                consent_id=consent_id,
            )
            session.add(label)
            session.flush()
            record_label_event(session, label, "created", actor, "computed by rule")
        elif label.status == "expired":
            label.status, label.valid_from, label.valid_until = "active", now, None
            label.reason = why[:REASON_CHARS]
            record_label_event(session, label, "restored", actor, "rule matches again")
        elif label.status == "active":
            label.reason = why[:REASON_CHARS]  # the latest evidence
        else:
            continue
        current.append(label)
    for key, label in by_key.items():
        if key not in wanted and label.status == "active":
            label.status, label.valid_until = "expired", now
            record_label_event(session, label, "expired", actor, "rule no longer matches")
    session.flush()
    return current


def refresh_computed_labels(
    session: Session,
    member_id: str,
    features: dict[str, float],
    rules: Sequence[label_rules.Rule],
    *,
    actor: Actor | None = None,
) -> list[Label]:
    """Write or refresh the member's computed labels from profile features and label_rules.

    A matching rule creates its label (or re-activates an expired one); a label whose rule
    no longer matches expires. Provenance: the rule id and the feature values that
    matched (`spicy_share=0.72 >= 0.6`). Returns the member's current labels from these
    label_rules. Raises `memberops.errors.RuleError` when a rule reads a feature that is missing.
    """
    who = actor or system_actor("labels.refresh")
    wanted: dict[tuple[str, str], tuple[str, str, str | None, list[str]]] = {}
    for rule, why in label_rules.evaluate_rules(rules, features):
        wanted[(rule.rule_id, rule.code)] = (rule.category, why, None, [])
    existing = _computed_labels(session, member_id, [r.rule_id for r in rules])
    return _sync_computed(session, member_id=member_id, wanted=wanted, existing=existing, actor=who)


def refresh_service_need_labels(
    session: Session,
    member_id: str,
    *,
    min_orders: int = label_rules.MODIFIER_MIN_ORDERS,
    actor: Actor | None = None,
) -> list[Label]:
    """Computed service_need labels (`modifier:no onions`) for modifiers on >= `min_orders`
    distinct orders of the member.

    Modifiers are typed at the POS, so each one passes the guard like any note: a rejected
    modifier never becomes a label, a sensitive one ("no peanuts, allergy") only with the
    member's sensitive_data consent. A modifier that drops below the threshold expires.
    """
    who = actor or system_actor("labels.refresh")
    consent_id = sensitive_consent_id(session, member_id)
    wanted: dict[tuple[str, str], tuple[str, str, str | None, list[str]]] = {}
    for modifier, count, seen in derive_service_needs(session, member_id):
        code = label_rules.modifier_code(modifier)
        if count < min_orders or code is None:
            continue
        screening = screen(modifier)
        if screening.verdict in ("reject", "review"):
            continue
        sensitive_cats: list[str] = []
        if screening.verdict == "sensitive":
            if consent_id is None:
                continue
            sensitive_cats = list(screening.sensitive_categories)
        why = f"on {count} orders, last {seen.date().isoformat()} (>= {min_orders} orders)"
        wanted[(label_rules.MODIFIER_RULE_ID, code)] = (
            "service_need",
            why,
            consent_id if sensitive_cats else None,
            sensitive_cats,
        )
    existing = _computed_labels(session, member_id, [label_rules.MODIFIER_RULE_ID])
    return _sync_computed(session, member_id=member_id, wanted=wanted, existing=existing, actor=who)


def members_with_recurring_modifiers(
    session: Session, *, min_orders: int = label_rules.MODIFIER_MIN_ORDERS
) -> list[str]:
    """Active members whose orders carry some modifier on at least `min_orders` orders.

    One pass over the counted order lines that have modifiers, so a refresh touches only
    the members who can have a service-need label.
    """
    lines = counted_order_lines_query().subquery("lines")
    stmt = select(lines.c.member_id, lines.c.order_id, lines.c.modifiers)
    rows = cast(
        Iterable[tuple[str, str, list[str] | None]], session.execute(stmt).yield_per(50_000)
    )
    seen: dict[tuple[str, str], set[str]] = {}
    for member_id, order_id, modifiers in rows:
        for modifier in modifiers or []:
            seen.setdefault((str(member_id), modifier), set()).add(order_id)
    recurring = {member for (member, _m), orders in seen.items() if len(orders) >= min_orders}
    return sorted(active_member_ids(session, recurring))
