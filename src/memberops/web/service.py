"""What the console pages show, built on the same service functions the API uses.

The front-desk card, the member 360 view and the dashboards read through the members,
labels, orders, identity, privacy and service-desk services. Profile groups are shown
generically: the loyalty engine, the profile pipeline and analytics add keys to them
over time, and every page must stay correct when a group or a key is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.catalog.models import Item, Store
from memberops.db import utcnow
from memberops.errors import Forbidden, NotFound
from memberops.identity.models import MergeRecord
from memberops.identity.repository import identifiers_of
from memberops.identity.service import find_member_ids
from memberops.labels import service as labels
from memberops.labels.guard import screen
from memberops.members.models import Member, MemberProfile, MemberStatus
from memberops.members.service import decrypt_basic, get_member_or_raise, read_profile
from memberops.orders.counted import counted_order_lines_query, counted_orders_query
from memberops.orders.repository import has_visited_store
from memberops.privacy import audit
from memberops.privacy.crypto import KeyRing
from memberops.servicedesk import service as desk
from memberops.servicedesk.models import Complaint

__all__ = [
    "CARD_ROLES",
    "DASHBOARDS",
    "DASHBOARD_ROLES",
    "PROFILE_ROLES",
    "Chart",
    "FrontDeskCard",
    "build_charts",
    "front_desk_card",
    "front_desk_lookup",
    "front_desk_search",
    "in_manager_scope",
    "member_360",
    "screen_note",
]

# Who may open the front-desk card (the API's lookup roles, less POS, plus managers).
CARD_ROLES = ("admin", "manager", "staff")
# Who may open member 360: the API's profile readers (less POS, which reads nothing about
# a member beyond a checkout quote), plus store managers.
PROFILE_ROLES = ("admin", "manager", "staff", "marketer")
# Labels shown on the card: what helps serve the guest at the table.
_CARD_CATEGORIES = ("service_need", "dining_preference", "occasion")
_BIRTHDAY_WINDOW_DAYS = 7


@dataclass
class FrontDeskCard:
    """The role-minimised card: no full name, no full phone, no birth year."""

    member_id: str
    display_name: str | None
    phone: str | None
    tier: str | None
    tier_progress: dict[str, Any] | None
    points: int
    needs: list[dict[str, Any]]
    top_dishes: list[dict[str, Any]]
    last_order: list[dict[str, Any]]
    last_visit_at: datetime | None
    last_visit_store: str | None
    birthday_month_day: str | None
    birthday_soon: bool
    sensitive_hidden: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _find(session: Session, keyring: KeyRing, query: str, actor: Actor) -> list[str]:
    if actor.role not in CARD_ROLES:
        raise Forbidden(f"the front desk needs one of the roles: {', '.join(CARD_ROLES)}")
    text = query.strip()
    # A member QR code carries "memberops:member:<id>"; a scanner types it as text.
    if text.lower().startswith("memberops:member:"):
        text = text.split(":", 2)[2]
    return find_member_ids(session, keyring, text) if text else []


def _lookup_event(found: list[str]) -> audit.AuditEvent:
    return audit.AuditEvent(
        "member.lookup",
        member_id=found[0] if len(found) == 1 else None,
        fields=["id"] if found else [],
        reason=f"console front-desk lookup, {len(found)} match(es)",
        outcome="ok" if found else "not_found",
    )


def _card_event(member_id: str) -> audit.AuditEvent:
    return audit.AuditEvent(
        "member.card",
        member_id=member_id,
        fields=["nickname", "phone_masked", "tier", "points", "needs", "dishes", "birthday_md"],
        reason="console front-desk card",
    )


def front_desk_lookup(session: Session, keyring: KeyRing, query: str, *, actor: Actor) -> list[str]:
    """Members matching an exact identifier (phone, card, member id, QR), audited."""
    found = _find(session, keyring, query, actor)
    audit.record_many(session, actor, [_lookup_event(found)])
    return found


def front_desk_search(
    session: Session, keyring: KeyRing, query: str, *, actor: Actor
) -> tuple[list[str], FrontDeskCard | None]:
    """The desk's one step: find by exact identifier and, on one match, open the card.

    Both the lookup and the card read are audited, in one append to the chain.
    """
    found = _find(session, keyring, query, actor)
    card = _build_card(session, keyring, found[0], actor=actor) if len(found) == 1 else None
    events = [_lookup_event(found), *([_card_event(card.member_id)] if card else [])]
    audit.record_many(session, actor, events)
    return found, card


def _display_name(basic: dict[str, str | None]) -> str | None:
    if basic.get("nickname"):
        return basic["nickname"]
    name = basic.get("name")
    if not name:
        return None
    # Surname first and the rest masked (王** / J*** ): enough to greet, not to identify.
    return name[0] + "*" * max(len(name) - 1, 1)


def _month_day(birthday: str | None) -> str | None:
    if not birthday:
        return None
    try:
        parsed = date.fromisoformat(birthday)
    except ValueError:
        parts = birthday.split("-")
        return f"{parts[-2]}-{parts[-1]}" if len(parts) >= 2 else None
    return f"{parsed.month:02d}-{parsed.day:02d}"


def _birthday_soon(month_day: str | None, today: date) -> bool:
    if not month_day:
        return False
    month, day = (int(p) for p in month_day.split("-"))
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            when = date(year, month, day)
        except ValueError:  # 29 February in a common year: celebrate on the 28th
            when = date(year, month, 28)
        if abs((when - today).days) <= _BIRTHDAY_WINDOW_DAYS:
            return True
    return False


def _item_names(session: Session, item_ids: set[str]) -> dict[str, tuple[str, str | None]]:
    if not item_ids:
        return {}
    rows = session.execute(select(Item.id, Item.name, Item.name_local).where(Item.id.in_(item_ids)))
    return {item_id: (name, local) for item_id, name, local in rows}


def _dishes_and_last_visit(
    session: Session, member_id: str, personalised: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Any]:
    """Favourite dishes, the last order's lines and the last visit, from one read of the
    member's counted order lines (one query keeps the desk fast on a busy store)."""
    lines = counted_order_lines_query(member_ids=[member_id]).subquery("lines")
    rows = session.execute(
        select(
            lines.c.order_id,
            lines.c.ordered_at,
            lines.c.store_id,
            lines.c.line_no,
            lines.c.item_id,
            lines.c.quantity,
            lines.c.modifiers,
        ).order_by(lines.c.ordered_at.desc(), lines.c.order_id.desc(), lines.c.line_no)
    ).all()
    if not rows:
        return [], [], None
    last = rows[0]
    names = _item_names(session, {r.item_id for r in rows})

    def named(item_id: str) -> tuple[str, str | None]:
        return names.get(item_id, (item_id, None))

    last_lines = [
        {
            "name": named(r.item_id)[0],
            "name_local": named(r.item_id)[1],
            "quantity": r.quantity,
            "modifiers": list(r.modifiers or []),
        }
        for r in rows
        if r.order_id == last.order_id
    ]
    # The profile pipeline may already hold the favourites; otherwise count them here:
    # in how many orders a dish appears, then how many were eaten.
    precomputed = (personalised or {}).get("top_dishes")
    if isinstance(precomputed, list) and precomputed:
        top = [d if isinstance(d, dict) else {"name": str(d)} for d in precomputed[:5]]
    else:
        orders: dict[str, set[str]] = {}
        quantity: dict[str, int] = {}
        for r in rows:
            orders.setdefault(r.item_id, set()).add(r.order_id)
            quantity[r.item_id] = quantity.get(r.item_id, 0) + int(r.quantity)
        ranked = sorted(orders, key=lambda i: (-len(orders[i]), -quantity[i], i))[:5]
        top = [
            {"name": named(i)[0], "name_local": named(i)[1], "orders": len(orders[i])}
            for i in ranked
        ]
    return top, last_lines, last


def front_desk_card(
    session: Session, keyring: KeyRing, member_id: str, *, actor: Actor
) -> FrontDeskCard:
    """The service card for one member, as the role table allows staff to see it; audited."""
    card = _build_card(session, keyring, member_id, actor=actor)
    audit.record_many(session, actor, [_card_event(card.member_id)])
    return card


def _build_card(
    session: Session, keyring: KeyRing, member_id: str, *, actor: Actor
) -> FrontDeskCard:
    if actor.role not in CARD_ROLES:
        raise Forbidden(f"the front desk needs one of the roles: {', '.join(CARD_ROLES)}")
    member = get_member_or_raise(session, member_id)
    if member.status == MemberStatus.ERASED:
        raise NotFound(f"member {member_id} not found")
    basic = decrypt_basic(keyring, member)
    phones = [
        i["value"]
        for i in identifiers_of(session, keyring, member.id, masked=True)
        if i["kind"] == "phone"
    ]
    profile = session.get(MemberProfile, member.id)
    personalised = profile.personalised if profile else None
    transaction = profile.transaction if profile else None
    # list_labels hides sensitive needs unless the member's consent holds, and audits.
    visible = _maybe(lambda: labels.list_labels(session, keyring, member.id, actor=actor)) or []
    needs = [
        {
            "text": item["text"] or item["code"],
            "category": item["category"],
            "sensitive": item["sensitive"],
            "source": item["source"],
        }
        for item in visible
        if item["category"] in _CARD_CATEGORIES and (item["text"] or item["code"])
    ]
    top_dishes, last_items, last = _dishes_and_last_visit(session, member.id, personalised)
    store_name = None
    if last is not None:
        store = session.get(Store, last.store_id)
        store_name = store.name if store else None
    month_day = _month_day(basic.get("birthday"))
    today = utcnow().date()
    progress = None
    for source in (transaction or {}, personalised or {}):
        candidate = source.get("tier_progress")
        if isinstance(candidate, dict):
            progress = candidate
    return FrontDeskCard(
        member_id=member.id,
        display_name=_display_name(basic),
        phone=phones[0] if phones else None,
        tier=member.tier_code,
        tier_progress=progress,
        points=member.points_balance or 0,
        needs=needs,
        top_dishes=top_dishes,
        last_order=last_items,
        last_visit_at=last.ordered_at if last is not None else None,
        last_visit_store=store_name,
        birthday_month_day=month_day,
        birthday_soon=_birthday_soon(month_day, today),
    )


def screen_note(text: str) -> dict[str, Any]:
    """The label guard's verdict on a note, for live screening while staff type."""
    result = screen(text)
    categories = list(dict.fromkeys(span.category for span in result.spans))
    return {
        "verdict": result.verdict,
        "categories": categories,
        "reasons": list(result.reasons),
        "sensitive_categories": list(result.sensitive_categories),
        "remainder": result.remainder,
    }


def _maybe(call: Callable[[], Any]) -> Any:
    """A section the actor's role may not see reads as None (the page says so)."""
    try:
        return call()
    except Forbidden:
        return None


def in_manager_scope(session: Session, member_id: str, *, actor: Actor) -> bool:
    """Whether a store manager may open this member: home store or a visit there.

    Other roles are not store-scoped here (their role checks apply instead).
    """
    if actor.role != "manager" or not actor.store_code:
        return True
    member = session.get(Member, member_id)
    store_id = session.scalar(select(Store.id).where(Store.code == actor.store_code))
    if member is None or store_id is None:
        return False
    return member.home_store_id == store_id or has_visited_store(session, member.id, store_id)


def member_360(
    session: Session, keyring: KeyRing, member_id: str, *, actor: Actor
) -> dict[str, Any]:
    """Everything the actor's role may see about one member, each read audited."""
    if actor.role not in PROFILE_ROLES:
        raise Forbidden(f"member 360 needs one of the roles: {', '.join(PROFILE_ROLES)}")
    profile = read_profile(session, keyring, member_id, actor=actor)
    current = profile["id"]
    orders = counted_orders_query(member_ids=[current]).subquery("counted")
    order_rows = session.execute(
        select(
            orders.c.order_id,
            orders.c.ordered_at,
            orders.c.net_cents,
            orders.c.party_size,
            Store.code,
            Store.name,
        )
        .join(Store, Store.id == orders.c.store_id)
        .order_by(orders.c.ordered_at.desc())
        .limit(20)
    ).all()
    order_count, spent = session.execute(
        select(func.count(), func.coalesce(func.sum(orders.c.net_cents), 0))
    ).one()
    label_rows = _maybe(
        lambda: labels.list_labels(
            session, keyring, current, actor=actor, include_inactive=actor.role == "admin"
        )
    )
    audit_rows = None
    merges = None
    if actor.role == "admin":
        audit_rows = [
            {
                "at": e.at,
                "actor": f"{e.actor_kind}:{e.actor_id}",
                "role": e.role,
                "action": e.action,
                "store": e.store_code,
                "reason": e.reason,
                "outcome": e.outcome,
            }
            for e in audit.list_entries(session, member_id=current, limit=100)
        ]
        merges = [
            {
                "id": m.id,
                "survivor_id": m.survivor_id,
                "absorbed_id": m.absorbed_id,
                "reason": m.reason,
                "status": m.status,
                "created_at": m.created_at,
            }
            for m in session.scalars(
                select(MergeRecord)
                .where(or_(MergeRecord.survivor_id == current, MergeRecord.absorbed_id == current))
                .order_by(MergeRecord.created_at.desc())
                .limit(50)
            )
        ]
    complaints = None
    if actor.role in ("admin", "manager", "staff"):
        page, _total = desk.list_complaints(session, actor=actor, member_id=current, limit=20)
        complaints = [desk.complaint_view(session, keyring, c) for c in page]
    return {
        "profile": profile,
        "orders": [
            {
                "id": r.order_id,
                "at": r.ordered_at,
                "net_cents": r.net_cents,
                "party_size": r.party_size,
                "store": r.code,
                "store_name": r.name,
            }
            for r in order_rows
        ],
        "order_count": int(str(order_count)),
        "spent_cents": int(str(spent)),
        "labels": label_rows,
        "audit": audit_rows,
        "merges": merges,
        "complaints": complaints,
    }


# ---------------------------------------------------------------------------- dashboards
@dataclass
class Chart:
    """One chart: its numbers are a table first (shown, downloadable), drawn second."""

    id: str
    title_key: str
    columns: list[str]
    rows: list[list[Any]]
    kind: str = "bar"


def _tier_distribution(session: Session) -> Chart:
    counted = session.execute(
        select(Member.tier_code, func.count())
        .where(Member.status == MemberStatus.ACTIVE)
        .group_by(Member.tier_code)
        .order_by(func.count().desc(), Member.tier_code)
    ).all()
    rows: list[list[Any]] = [[tier or "-", int(n)] for tier, n in counted]
    return Chart("tiers", "dash.tiers", ["tier", "members"], rows)


def _store_mix(session: Session) -> Chart:
    since = utcnow() - timedelta(days=365)
    orders = counted_orders_query(ordered_since=since).subquery("counted")
    rows = session.execute(
        select(Store.code, func.count(), func.coalesce(func.sum(orders.c.net_cents), 0))
        .join(Store, Store.id == orders.c.store_id)
        .group_by(Store.code)
        .order_by(func.count().desc())
    ).all()
    return Chart(
        "stores",
        "dash.stores",
        ["store", "orders", "net_yuan"],
        [[code, int(str(n)), round(int(str(cents)) / 100)] for code, n, cents in rows],
    )


def _nps(session: Session) -> Chart:
    rows = desk.nps_by_store(session)
    return Chart(
        "nps",
        "dash.nps",
        ["store", "nps", "responses"],
        [[r["store_code"], r["nps"], r["responses"]] for r in rows],
    )


def _complaints(session: Session) -> Chart:
    rows = session.execute(
        select(Complaint.status, func.count()).group_by(Complaint.status).order_by(Complaint.status)
    ).all()
    return Chart(
        "complaints", "dash.complaints", ["status", "complaints"], [[s, int(n)] for s, n in rows]
    )


# Each entry reads one source; analytics serving tables add theirs here as they land.
DASHBOARDS: list[Callable[[Session], Chart]] = [_tier_distribution, _store_mix, _nps, _complaints]
DASHBOARD_ROLES = ("admin", "manager", "marketer", "analyst")


def build_charts(session: Session, *, actor: Actor, only: str | None = None) -> list[Chart]:
    """Every dashboard chart that has data (aggregates only: no member appears)."""
    if actor.role not in DASHBOARD_ROLES:
        raise Forbidden(f"dashboards need one of the roles: {', '.join(DASHBOARD_ROLES)}")
    charts = []
    for build in DASHBOARDS:
        chart = build(session)
        if only is not None and chart.id != only:
            continue
        if chart.rows:
            charts.append(chart)
    return charts
