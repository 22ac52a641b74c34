"""GET /v1/fans (members per level) and /v1/fans/communicators (top communicators).

Levels are aggregates: admins, managers, marketers and analysts may read them. The
communicators list names members: admins see member ids, marketers and analysts
pseudonymous ids only (a keyed hash, stable across reports, see `privacy.pseudonyms`).
Front-desk roles (staff, POS) and members may read neither.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from memberops.actor import Actor
from memberops.api.auth import require_roles
from memberops.api.deps import ReadSessionDep, RuntimeDep
from memberops.api.errors import error_responses
from memberops.fans.rules import FanConfig
from memberops.fans.service import fan_level_counts, top_communicators
from memberops.privacy.pseudonyms import pseudonymous_id

__all__ = ["router"]

router = APIRouter(prefix="/fans", tags=["analytics"])

LevelReader = Annotated[Actor, Depends(require_roles("admin", "manager", "marketer", "analyst"))]
CommunicatorReader = Annotated[Actor, Depends(require_roles("admin", "marketer", "analyst"))]


class FanLevelsRead(BaseModel):
    """Members per level from the last run (as_of is null before the first run), with
    the default thresholds the levels are documented with."""

    as_of: str | None
    members: int
    levels: dict[str, int]
    thresholds: dict[str, float | int]


class Communicator(BaseModel):
    """One member's communication power; `member` is pseudonymous unless an admin asks."""

    member: str
    level: str
    shares: int
    reviews: int
    referrals: int
    referred_members: int
    referred_revenue_cents: int
    communication_score: float


class CommunicatorsRead(BaseModel):
    """The top communicators, highest score first."""

    communicators: list[Communicator]


@router.get(
    "",
    response_model=FanLevelsRead,
    responses=error_responses(401, 403),
    description="Members per fan level (hardcore, general, silent) from the last run.",
)
def get_fan_levels(actor: LevelReader, session: ReadSessionDep) -> FanLevelsRead:
    """Members per level from the last run."""
    counts = fan_level_counts(session)
    config = FanConfig()
    return FanLevelsRead(
        **counts,
        thresholds={
            "window_days": config.window_days,
            "repurchase_months": config.repurchase_months,
            "hardcore_min_visits": config.hardcore_min_visits,
            "hardcore_min_repurchase_rate": config.hardcore_min_repurchase_rate,
            "general_min_visits": config.general_min_visits,
        },
    )


@router.get(
    "/communicators",
    response_model=CommunicatorsRead,
    responses=error_responses(401, 403, 422),
    description="Members with the most communication power (shares, reviews, members brought).",
)
def get_communicators(
    actor: CommunicatorReader,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> CommunicatorsRead:
    """The top communicators; pseudonymous ids for marketers and analysts."""
    rows = top_communicators(session, limit=limit)
    show_ids = actor.role == "admin"
    return CommunicatorsRead(
        communicators=[
            Communicator(
                member=row["member_id"]
                if show_ids
                else pseudonymous_id(runtime.keyring, row["member_id"]),
                **{k: v for k, v in row.items() if k != "member_id"},
            )
            for row in rows
        ]
    )
