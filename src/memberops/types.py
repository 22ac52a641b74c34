"""Constrained types shared by every capability, defined once.

`MemberId` and `Cents` are `NewType`s (free at run time, checked by mypy); `AwareDatetime`
is the only kind of datetime memberops passes around. Pydantic wire shapes use the
annotated forms so the same constraints reach the API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, NewType

from pydantic import AwareDatetime as _PydanticAwareDatetime
from pydantic import Field

__all__ = [
    "AwareDatetime",
    "Cents",
    "CentsField",
    "MemberId",
    "Points",
    "SegmentField",
    "ensure_aware",
]

MemberId = NewType("MemberId", str)
"""A member's opaque id (hex, time-ordered); never a phone or card number."""

Cents = NewType("Cents", int)
"""Money in integer minor units (fen, cents). Never a float."""

Points = NewType("Points", int)
"""Loyalty points, whole numbers."""

AwareDatetime = _PydanticAwareDatetime
"""A datetime that carries its offset; naive datetimes are refused at the boundary."""

CentsField = Annotated[int, Field(strict=True, ge=0, le=10**12)]
"""Non-negative money in cents on the wire (strict: a float or a string is refused)."""


def ensure_aware(value: datetime, *, name: str = "time") -> datetime:
    """Return `value` if it is timezone-aware; raise ValueError naming it otherwise."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value


@dataclass(frozen=True)
class SegmentField:
    """A per-member value an analysis offers to segment definitions.

    `kind` says how it compares ("number" or "text"); `query(session)` returns a
    SQLAlchemy Select with two columns, `member_id` and `value` (one row per member and
    value: a multi-valued field such as lifestyle traits gives several rows per member).
    """

    kind: Literal["number", "text"]
    description: str
    query: Callable[[Any], Any]
