"""Wire shapes of the segment routes. Member ids are pseudonymous except for admins."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from memberops.segments.rules import MAX_EXPRESSION_CHARS

__all__ = [
    "FieldRead",
    "HistoryRead",
    "MaterialiseRead",
    "MemberRow",
    "MembersRead",
    "PreviewIn",
    "PreviewRead",
    "SegmentCreate",
    "SegmentRead",
    "SegmentUpdate",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PreviewIn(_Strict):
    """An expression to count, without storing anything."""

    expression: str = Field(max_length=MAX_EXPRESSION_CHARS)
    sample: int = Field(default=10, ge=0, le=100)


class PreviewRead(BaseModel):
    """How many members match now, and a few of them (pseudonymous ids)."""

    count: int
    sample: list[str]
    expression: str
    scope: Literal["chain", "store"]


class SegmentCreate(_Strict):
    """A new segment definition."""

    name: str = Field(min_length=1, max_length=80)
    expression: str = Field(max_length=MAX_EXPRESSION_CHARS)
    description: str = Field(default="", max_length=400)


class SegmentUpdate(_Strict):
    """A new version: the expression, the description or both."""

    expression: str | None = Field(default=None, max_length=MAX_EXPRESSION_CHARS)
    description: str | None = Field(default=None, max_length=400)


class SegmentRead(BaseModel):
    """A stored definition and its current size."""

    id: str
    name: str
    expression: str
    description: str
    owner: str
    version: int
    created_at: str
    updated_at: str
    materialised_at: str | None
    size: int


class MaterialiseRead(BaseModel):
    """What one materialisation changed."""

    segment_id: str
    version: int
    at: str
    entered: int
    left: int
    size: int


class MemberRow(BaseModel):
    """One current member: pseudonymous id (real id for admins) and when they entered."""

    member: str
    entered_at: str


class MembersRead(BaseModel):
    """A page of current members."""

    segment_id: str
    size: int
    members: list[MemberRow]


class HistoryRead(BaseModel):
    """Versions of the definition and every materialisation, newest first."""

    segment_id: str
    versions: list[dict[str, str | int]]
    runs: list[dict[str, str | int]]


class FieldRead(BaseModel):
    """A field or function an expression can use."""

    name: str
    kind: str
    description: str
    function: bool = False
