"""GET /v1/lifestyle: members per lifestyle trait (aggregates only, no member ids).

Admins, managers, marketers and analysts may read it; front-desk roles and members may not.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from memberops.actor import Actor
from memberops.api.auth import require_roles
from memberops.api.deps import ReadSessionDep
from memberops.api.errors import error_responses
from memberops.lifestyle.service import trait_summary

__all__ = ["router"]

router = APIRouter(prefix="/lifestyle", tags=["analytics"])

Reader = Annotated[Actor, Depends(require_roles("admin", "manager", "marketer", "analyst"))]


class TraitCount(BaseModel):
    """Members holding one trait and their share of the members scored."""

    trait: str
    members: int
    share: float


class LifestyleRead(BaseModel):
    """Members per trait from the last run (as_of is null before the first run)."""

    as_of: str | None
    members_scored: int
    traits: list[TraitCount]


@router.get(
    "",
    response_model=LifestyleRead,
    responses=error_responses(401, 403),
    description="Members per lifestyle trait from the last `memberops lifestyle run`.",
)
def get_lifestyle(actor: Reader, session: ReadSessionDep) -> LifestyleRead:
    """Members per trait from the last run."""
    summary = trait_summary(session)
    scored = summary["members_scored"]
    return LifestyleRead(
        as_of=summary["as_of"],
        members_scored=scored,
        traits=[
            TraitCount(trait=t, members=n, share=n / scored if scored else 0.0)
            for t, n in summary["traits"].items()
        ],
    )
