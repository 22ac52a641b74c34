"""The small base every capability's repository builds on: fetch one row, fetch or fail,
fetch a page. Queries stay in the capability that owns the table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from memberops.errors import NotFound

__all__ = ["Page", "get_one", "get_one_or_none", "paginate"]

T = TypeVar("T")


def get_one_or_none(session: Session, model: type[T], row_id: str) -> T | None:
    """The row of `model` with primary key `row_id`, or None."""
    return session.get(model, row_id)


def get_one(session: Session, model: type[T], row_id: str, *, what: str) -> T:
    """The row of `model` with primary key `row_id`; NotFound naming `what` otherwise."""
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(f"{what} {row_id} not found")
    return row


@dataclass(frozen=True, slots=True)
class Page:
    """One page of rows and the total count across pages."""

    rows: Sequence[Any]
    total: int


def paginate(session: Session, statement: Select[Any], *, limit: int, offset: int = 0) -> Page:
    """Rows `offset`..`offset + limit` of `statement`, and how many rows it has in all."""
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = session.scalars(statement.limit(limit).offset(offset)).all()
    return Page(rows=rows, total=int(total or 0))
