"""Wire shapes of the lifecycle routes (aggregates only)."""

from __future__ import annotations

from pydantic import BaseModel

__all__ = [
    "CohortCell",
    "CohortRead",
    "CohortsRead",
    "FlowRead",
    "FlowsRead",
    "LifecycleRead",
    "StateCount",
]


class StateCount(BaseModel):
    """Members in one state."""

    state: str
    members: int
    share: float


class LifecycleRead(BaseModel):
    """Members per state in the latest month."""

    month: str
    as_of: str
    members: int
    states: list[StateCount]


class FlowRead(BaseModel):
    """Members who moved from one state to another into `month`."""

    month: str
    from_state: str
    to_state: str
    members: int


class FlowsRead(BaseModel):
    """The monthly flow table ('none': a member's first month)."""

    as_of: str
    states: list[str]
    flows: list[FlowRead]


class CohortCell(BaseModel):
    """Members of the cohort visiting k months after their first month."""

    k: int
    members: int
    share: float


class CohortRead(BaseModel):
    """One first-visit month and its retention."""

    cohort: str
    size: int
    retention: list[CohortCell]


class CohortsRead(BaseModel):
    """Cohort retention for every first-visit month."""

    as_of: str
    cohorts: list[CohortRead]
