"""Compile a segment tree into one SQL query, and the membership queries.

Every used field becomes one subquery joined on the member id; every literal is a bound
parameter. A comparison on a member without a value for the field is false, and so is
its `not in` / `not between`; `not (...)` is the plain negation of what is inside, so
`not visits >= 3` includes members who never visited.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select, true
from sqlalchemy.orm import Session

from memberops.catalog.models import Store
from memberops.members.models import Member, MemberStatus
from memberops.pipeline.models import MemberMetrics
from memberops.segments.fields import FUNCTIONS, Field, all_fields, function_condition, text_aliases
from memberops.segments.models import SegmentMembership
from memberops.segments.rules import (
    And,
    Between,
    Call,
    Compare,
    Flag,
    In,
    Literal,
    Node,
    Not,
    check_expression,
    fields_used,
    parse_expression,
)

__all__ = ["compile_segment", "count_members", "open_members", "parse_and_check"]


def parse_and_check(text: str) -> Node:
    """Parse and check against the registered fields and functions (ExpressionError)."""
    node = parse_expression(text)
    check_expression(node, {n: f.kind for n, f in all_fields().items()}, FUNCTIONS)
    return node


def _day_start(value: Literal) -> datetime:
    return datetime.combine(date.fromisoformat(str(value)), time(), tzinfo=UTC)


class _Compiler:
    def __init__(self, session: Session, node: Node) -> None:
        self.session = session
        fields = all_fields()
        self.fields: dict[str, Field] = {name: fields[name] for name in fields_used(node)}
        self.columns: dict[str, Any] = {}
        self.aliases: dict[str, dict[str, str]] = {}

    def value(self, field: str, value: Literal) -> Any:
        kind = self.fields[field].kind
        if isinstance(value, Decimal):
            return float(value)  # SQLite binds no Decimal; counts and cents are whole anyway
        if kind == "text" and isinstance(value, str):
            if field not in self.aliases:
                self.aliases[field] = text_aliases(self.session, field)
            return self.aliases[field].get(value.lower(), value)
        return value

    def leaf(self, field: str, condition: ColumnElement[bool]) -> ColumnElement[bool]:
        # A missing value matches nothing (rather than NULL leaking into `not`).
        return and_(self.columns[field].is_not(None), condition)

    def compare(self, field: str, op: str, raw: Literal) -> ColumnElement[bool]:
        column = self.columns[field]
        if self.fields[field].kind == "date":
            # A date means the whole UTC day: `last_visit <= "2026-01-31"` includes that day.
            start = _day_start(raw)
            end = start + timedelta(days=1)
            by_op: dict[str, ColumnElement[bool]] = {
                "==": and_(column >= start, column < end),
                "!=": or_(column < start, column >= end),
                "<": column < start,
                "<=": column < end,
                ">": column >= end,
                ">=": column >= start,
            }
            return by_op[op]
        value = self.value(field, raw)
        ops: dict[str, ColumnElement[bool]] = {
            "==": column == value,
            "!=": column != value,
            "<": column < value,
            "<=": column <= value,
            ">": column > value,
            ">=": column >= value,
        }
        return ops[op]

    def condition(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, Compare):
            return self.leaf(node.field, self.compare(node.field, node.op, node.value))
        if isinstance(node, Flag):
            return self.leaf(node.field, self.columns[node.field] == true())
        if isinstance(node, In):
            kind = self.fields[node.field].kind
            if kind == "date":
                inside = or_(*(self.compare(node.field, "==", v) for v in node.values))
            else:
                inside = self.columns[node.field].in_(
                    [self.value(node.field, v) for v in node.values]
                )
            return self.leaf(node.field, not_(inside) if node.negated else inside)
        if isinstance(node, Between):
            inside = and_(
                self.compare(node.field, ">=", node.low), self.compare(node.field, "<=", node.high)
            )
            return self.leaf(node.field, not_(inside) if node.negated else inside)
        if isinstance(node, Call):
            return function_condition(node.name, node.args, Member.id)
        if isinstance(node, Not):
            return not_(self.condition(node.item))
        if isinstance(node, And):
            return and_(*(self.condition(i) for i in node.items))
        return or_(*(self.condition(i) for i in node.items))

    def query(self, node: Node, *, home_store_code: str | None) -> Select[Any]:
        stmt = select(Member.id.label("member_id")).where(Member.status == MemberStatus.ACTIVE)
        for i, (name, field) in enumerate(self.fields.items()):
            sub = field.select(self.session).subquery(f"f{i}_{name}")
            stmt = stmt.outerjoin(sub, sub.c.member_id == Member.id)
            self.columns[name] = sub.c.value
        if home_store_code is not None:
            stmt = stmt.where(
                Member.id.in_(
                    select(MemberMetrics.member_id)
                    .join(Store, Store.id == MemberMetrics.home_store_id)
                    .where(Store.code == home_store_code)
                )
            )
        # A multi-valued field (lifestyle traits) joins one row per value: one member once.
        return stmt.where(self.condition(node)).distinct()


def compile_segment(
    session: Session, node: Node, *, home_store_code: str | None = None
) -> Select[Any]:
    """One SELECT of `member_id` for the active members the (checked) tree matches.

    `home_store_code` narrows to members whose home store is that store.
    """
    return _Compiler(session, node).query(node, home_store_code=home_store_code)


def count_members(session: Session, stmt: Select[Any]) -> int:
    """How many rows a compiled segment query yields, counted in the database."""
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def open_members(segment_id: str) -> Select[Any]:
    """The open stays (current members) of a segment."""
    return select(SegmentMembership).where(
        SegmentMembership.segment_id == segment_id, SegmentMembership.left_at.is_(None)
    )
