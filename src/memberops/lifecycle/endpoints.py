"""GET /v1/lifecycle (current counts), /v1/lifecycle/flows and /v1/lifecycle/cohorts.

Aggregates only, chain-wide: admins, managers, marketers and analysts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from memberops.actor import Actor
from memberops.api.auth import require_roles
from memberops.api.deps import ReadSessionDep
from memberops.api.errors import error_responses
from memberops.lifecycle.schemas import CohortsRead, FlowsRead, LifecycleRead
from memberops.lifecycle.service import read_cohorts, read_current, read_flows

__all__ = ["router"]

router = APIRouter(prefix="/lifecycle", tags=["analytics"])

Reader = Annotated[Actor, Depends(require_roles("admin", "manager", "marketer", "analyst"))]
_ANSWERS = error_responses(401, 403, 404, 422)


@router.get(
    "", response_model=LifecycleRead, responses=_ANSWERS, description="Members per state now."
)
def get_lifecycle(actor: Reader, session: ReadSessionDep) -> LifecycleRead:
    del actor  # the dependency decides who may read
    return LifecycleRead.model_validate(read_current(session))


@router.get(
    "/flows",
    response_model=FlowsRead,
    responses=_ANSWERS,
    description="Members moving between states, per month.",
)
def get_flows(
    actor: Reader,
    session: ReadSessionDep,
    since: Annotated[
        str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="first month, YYYY-MM")
    ] = None,
) -> FlowsRead:
    del actor
    return FlowsRead.model_validate(read_flows(session, since=since))


@router.get(
    "/cohorts",
    response_model=CohortsRead,
    responses=_ANSWERS,
    description="Share of each first-visit month visiting k months later.",
)
def get_cohorts(actor: Reader, session: ReadSessionDep) -> CohortsRead:
    del actor
    return CohortsRead.model_validate(read_cohorts(session))
