"""Wire shapes of the member routes: the front-desk lookup and the member list."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

__all__ = ["MemberListItem", "MemberMatch", "MemberMatches", "MemberPage"]


class MemberMatch(BaseModel):
    """A front-desk match: enough to pick the right person, no more."""

    id: str
    tier: str | None
    phone: str | None = Field(
        description="masked (138****5678) for staff, in full for admin, absent for POS"
    )
    discount_bp: int | None = Field(
        default=None, description="the member discount in basis points (POS keys only)"
    )


class MemberMatches(BaseModel):
    members: list[MemberMatch]


class MemberListItem(BaseModel):
    """One member in the list (pseudonymous: no name, no phone)."""

    id: str
    tier: str | None
    points: int
    home_store: str | None
    created_at: datetime


class MemberPage(BaseModel):
    """One page of the member list."""

    members: list[MemberListItem]
    total: int
    limit: int
    offset: int
