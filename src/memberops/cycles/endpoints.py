"""GET /v1/analytics/cycles/due: members past their usual visit cycle.

Admins see member ids; marketers and analysts see pseudonymous ids only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from memberops import clock
from memberops.actor import Actor
from memberops.api.auth import require_roles
from memberops.api.deps import ReadSessionDep, RuntimeDep
from memberops.api.errors import error_responses
from memberops.cycles.rules import CycleConfig
from memberops.cycles.service import member_cycles
from memberops.privacy.pseudonyms import pseudonymous_id

__all__ = ["router"]

router = APIRouter(prefix="/analytics/cycles", tags=["analytics"])

AnalyticsReader = Annotated[Actor, Depends(require_roles("admin", "marketer", "analyst"))]


class DueMember(BaseModel):
    """A member (or member x category) past the usual cycle."""

    member: str
    category: str | None
    visits: int
    median_gap_days: float
    p25_gap_days: float
    p75_gap_days: float
    days_since_last: float
    expected_next_visit: str
    days_overdue: float


class DueRead(BaseModel):
    """The due list with the thresholds used and the chain's gap histogram."""

    as_of: str
    min_visits: int
    due_factor: float
    lapsed_factor: float
    status_counts: dict[str, int]
    gap_histogram: list[dict[str, int | None]]
    due: list[DueMember]


@router.get(
    "/due",
    response_model=DueRead,
    responses=error_responses(401, 403, 422),
    description="Members whose time since the last visit passed their usual cycle.",
)
def get_due(
    actor: AnalyticsReader,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    category: Annotated[str | None, Query(max_length=40)] = None,
    min_visits: Annotated[int, Query(ge=2, le=1000)] = 3,
    due_factor: Annotated[float, Query(gt=0, le=100)] = 1.25,
    lapsed_factor: Annotated[float, Query(gt=0, le=1000)] = 4.0,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 500,
) -> DueRead:
    config = CycleConfig(min_visits=min_visits, due_factor=due_factor, lapsed_factor=lapsed_factor)
    now = clock.now()
    cycles, histogram = member_cycles(session, now=now, category=category, config=config)
    due = cycles[cycles["status"] == "due"].copy()
    due["ratio"] = due["days_since_last"] / due["median_gap_days"]
    due = due.sort_values("ratio", ascending=False).head(limit)
    show_ids = actor.role == "admin"
    counts = cycles["status"].value_counts().to_dict() if len(cycles) else {}
    return DueRead(
        as_of=now.isoformat(),
        min_visits=min_visits,
        due_factor=due_factor,
        lapsed_factor=lapsed_factor,
        status_counts={str(k): int(v) for k, v in counts.items()},
        gap_histogram=histogram,
        due=[
            DueMember(
                member=row["member_id"]
                if show_ids
                else pseudonymous_id(runtime.keyring, row["member_id"]),
                category=row.get("category"),
                visits=int(row["visits"]),
                median_gap_days=float(row["median_gap_days"]),
                p25_gap_days=float(row["p25_gap_days"]),
                p75_gap_days=float(row["p75_gap_days"]),
                days_since_last=float(row["days_since_last"]),
                expected_next_visit=row["expected_next_visit"].date().isoformat(),
                days_overdue=float(row["days_overdue"]),
            )
            for row in due.to_dict(orient="records")
        ],
    )
