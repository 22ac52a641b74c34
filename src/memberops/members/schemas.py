"""Wire shapes of the member routes: the front-desk lookup."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["MemberMatch", "MemberMatches"]


class MemberMatch(BaseModel):
    """A front-desk match: enough to pick the right person, no more."""

    id: str
    tier: str | None
    phone: str | None = Field(description="masked (138****5678) for every role but admin")


class MemberMatches(BaseModel):
    members: list[MemberMatch]
