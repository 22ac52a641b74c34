"""Wire shapes of the RFM routes (aggregates, and one member's scores)."""

from __future__ import annotations

from pydantic import BaseModel

__all__ = ["MemberRfmRead", "RfmGrid", "RfmRead", "RfmScopeScore", "SegmentSummary"]


class SegmentSummary(BaseModel):
    """One named segment: how many members and how much they spent."""

    segment: str
    members: int
    share_of_members: float
    spend_cents: int
    share_of_spend: float


class RfmGrid(BaseModel):
    """Members and spend per R x F cell: `members[r-1][f-1]`."""

    r: list[int]
    f: list[int]
    members: list[list[int]]
    spend_cents: list[list[int]]


class RfmRead(BaseModel):
    """The latest RFM run of a scope, as aggregates only (no member appears)."""

    scope: str
    store: str | None
    as_of: str
    bins: int
    members: int
    spend_cents: int
    segments: list[SegmentSummary]
    grid: RfmGrid


class RfmScopeScore(BaseModel):
    """A member's scores in one scope ('chain' or a store, by code)."""

    scope: str
    store: str | None
    r: int
    f: int
    m: int
    score: int
    segment: str
    recency_days: int
    visits: int
    spend_cents: int
    bins: int
    as_of: str


class MemberRfmRead(BaseModel):
    """One member's RFM; `member` is pseudonymous unless the caller is an admin."""

    member: str
    scores: list[RfmScopeScore]
