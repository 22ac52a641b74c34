"""Wire shapes of the concentration routes."""

from __future__ import annotations

from pydantic import BaseModel

__all__ = ["ConcentrationRead", "CurvePoint", "TopMember", "TopRead"]


class CurvePoint(BaseModel):
    """Share of revenue (0..1) of the top `percent_of_members` % by spend."""

    percent_of_members: int
    share_of_revenue: float


class ConcentrationRead(BaseModel):
    """The latest concentration of a scope: aggregates only."""

    scope: str
    store: str | None
    as_of: str
    members: int
    revenue_cents: int
    gini: float
    top20_share: float
    top20_members: int
    curve: list[CurvePoint]


class TopMember(BaseModel):
    """A top spender; `member` is pseudonymous for marketers and analysts."""

    member: str
    spend_cents: int
    rank: int


class TopRead(BaseModel):
    """One page of the top `share` of members by net spend."""

    scope: str
    store: str | None
    as_of: str
    share: float
    total: int
    limit: int
    offset: int
    revenue_cents: int
    top_revenue_cents: int
    top_share_of_revenue: float
    members: list[TopMember]
