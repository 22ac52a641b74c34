"""The fields a segment can read, and the predicate functions.

A field is a name, a kind (number | text | bool | date), a description and a callable
`(session) -> Select` whose rows are `(member_id, value)`: one row per member at most,
members without a value simply absent. The compiler joins each used field's select as a
subquery, so a count over a million members is one query in the database.

Other capabilities plug their own fields in with `register_field(name, kind, description,
select)` (or `register_fields(SEGMENT_FIELDS)` for a whole mapping of
`name -> (kind, description, select)`), called from `memberops.capabilities`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, and_, cast, exists, func, literal, select
from sqlalchemy.orm import Session

from memberops import clock
from memberops.catalog.models import Store
from memberops.labels.service import members_with_label_query
from memberops.loyalty.service import active_policy
from memberops.members.models import Member
from memberops.pipeline.models import MemberMetrics
from memberops.privacy.models import ConsentState
from memberops.privacy.rules import PURPOSES
from memberops.segments.rules import KINDS, FunctionSpec

__all__ = [
    "FUNCTIONS",
    "Field",
    "FieldSelect",
    "all_fields",
    "function_condition",
    "get_field",
    "register_field",
    "register_fields",
    "text_aliases",
]

FieldSelect = Callable[[Session], Select[Any, Any]]


@dataclass(frozen=True)
class Field:
    """One readable attribute of a member."""

    name: str
    kind: str
    description: str
    select: FieldSelect
    source: str = "built-in"


_FIELDS: dict[str, Field] = {}
_LOCK = threading.Lock()


def register_field(
    name: str, kind: str, description: str, select: FieldSelect, *, source: str = "plug-in"
) -> Field:
    """Make a field available to every segment (idempotent for the same callable).

    `select(session)` must return a Select with the columns `member_id` and `value`.
    Registering a different callable under a taken name is refused: two capabilities
    must not silently disagree about what `visits` means.
    """
    if not name.isidentifier() or name.lower() in ("and", "or", "not", "in", "between"):
        raise ValueError(f"field name {name!r} is not a plain identifier")
    if kind not in KINDS:
        raise ValueError(f"field {name!r}: kind must be one of {', '.join(KINDS)}")
    if name in FUNCTIONS:
        raise ValueError(f"field {name!r}: the name is a function")
    with _LOCK:
        existing = _FIELDS.get(name)
        if existing is not None:
            if existing.select is select and existing.kind == kind:
                return existing
            raise ValueError(f"field {name!r} is already registered (by {existing.source})")
        field = Field(name, kind, description, select, source)
        _FIELDS[name] = field
        return field


def register_fields(
    fields: Mapping[str, tuple[str, str, FieldSelect]], *, source: str = "plug-in"
) -> None:
    """Register a capability's `SEGMENT_FIELDS` (name -> (kind, description, select))."""
    for name, (kind, description, select_fn) in fields.items():
        register_field(name, kind, description, select_fn, source=source)


def all_fields() -> dict[str, Field]:
    """Every registered field by name, sorted by name."""
    with _LOCK:
        return dict(sorted(_FIELDS.items()))


def get_field(name: str) -> Field | None:
    """One field, or None."""
    return _FIELDS.get(name)


# ----------------------------------------------------------------------------- built-in
def _metric(column: Any) -> FieldSelect:
    def build(_session: Session) -> Select[Any, Any]:
        return select(MemberMetrics.member_id.label("member_id"), column.label("value"))

    return build


def _days_since_last_visit(session: Session) -> Select[Any, Any]:
    """Whole days between the last visit and now (the injected clock), on both engines."""
    now = clock.now()
    last = MemberMetrics.last_visit_at
    days: ColumnElement[Any]
    if session.get_bind().dialect.name == "postgresql":
        seconds = func.extract("epoch", literal(now) - last)
        days = func.floor(seconds / 86400)
    else:
        naive = now.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        # julianday differences are fractional days; whole days like PostgreSQL's floor
        # (the same for every visit in the past, where the difference is positive).
        days = cast(func.julianday(naive) - func.julianday(last), Integer)
    return select(MemberMetrics.member_id.label("member_id"), days.label("value"))


def _home_store_code(_session: Session) -> Select[Any, Any]:
    return select(MemberMetrics.member_id.label("member_id"), Store.code.label("value")).join(
        Store, Store.id == MemberMetrics.home_store_id
    )


def _member_column(column: Any) -> FieldSelect:
    def build(_session: Session) -> Select[Any, Any]:
        return select(Member.id.label("member_id"), column.label("value"))

    return build


def _joined_at(_session: Session) -> Select[Any, Any]:
    return select(Member.id.label("member_id"), Member.created_at.label("value"))


_BUILT_IN: dict[str, tuple[str, str, FieldSelect]] = {
    "spend_cents": (
        "number",
        "Counted spend, all time, in cents",
        _metric(MemberMetrics.spend_cents),
    ),
    "visits": (
        "number",
        "Visits (distinct dining occasions), all time",
        _metric(MemberMetrics.visits),
    ),
    "orders": ("number", "Counted orders, all time", _metric(MemberMetrics.orders)),
    "spend_per_person_cents": (
        "number",
        "Average spend per diner, in cents",
        _metric(MemberMetrics.spend_per_person_cents),
    ),
    "first_visit": ("date", "Date of the first visit", _metric(MemberMetrics.first_visit_at)),
    "last_visit": ("date", "Date of the latest visit", _metric(MemberMetrics.last_visit_at)),
    "days_since_last_visit": (
        "number",
        "Whole days since the latest visit, as of now",
        _days_since_last_visit,
    ),
    "home_store": ("text", "Home store code (given, or where they dine most)", _home_store_code),
    "tier": (
        "text",
        'Loyalty tier code ("gold"); tier names such as "Gold Sea" work too',
        _member_column(Member.tier_code),
    ),
    "points_balance": ("number", "Loyalty points balance", _member_column(Member.points_balance)),
    "joined": ("date", "Date the member joined", _joined_at),
}


def _install_built_in() -> None:
    for name, (kind, description, select_fn) in _BUILT_IN.items():
        register_field(name, kind, description, select_fn, source="built-in")


# ----------------------------------------------------------------------------- functions
FUNCTIONS: dict[str, FunctionSpec] = {
    "has_label": FunctionSpec(("text",), "Holds an active label with this code"),
    "consent": FunctionSpec(
        ("text",), "Has currently granted consent for this purpose", choices=PURPOSES
    ),
}


def function_condition(name: str, args: tuple[Any, ...], member_id: Any) -> ColumnElement[bool]:
    """The SQL condition for a predicate function, correlated on `member_id`."""
    if name == "has_label":
        condition: ColumnElement[bool] = member_id.in_(members_with_label_query(str(args[0])))
        return condition
    if name == "consent":
        return exists().where(
            and_(
                ConsentState.member_id == member_id,
                ConsentState.purpose == str(args[0]),
                ConsentState.granted.is_(True),
            )
        )
    raise KeyError(name)


def text_aliases(session: Session, field: str) -> dict[str, str]:
    """Other spellings a text field accepts (lower-cased), e.g. tier names for codes."""
    if field != "tier":
        return {}
    try:
        _version, policy = active_policy(session)
    except Exception:  # an unreadable stored policy: fall back to codes only
        return {}
    return {t.name.lower(): t.code for t in policy.tiers}


_install_built_in()
