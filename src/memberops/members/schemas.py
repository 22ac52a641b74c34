"""Wire shapes of the member routes: the front-desk lookup."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["MemberMatch", "MemberMatches"]


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
