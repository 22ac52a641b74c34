"""GET /v1/analytics/clv: chain aggregates and per-member scores.

Admins see member ids; marketers and analysts see pseudonymous ids only (a keyed hash,
stable across reports, see `privacy.pseudonyms`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from memberops import clock
from memberops.actor import Actor
from memberops.api.auth import require_roles
from memberops.api.deps import ReadSessionDep, RuntimeDep
from memberops.api.errors import error_responses
from memberops.clv.service import ClvConfig, score_members
from memberops.privacy.pseudonyms import pseudonymous_id

__all__ = ["router"]

router = APIRouter(prefix="/analytics", tags=["analytics"])

AnalyticsReader = Annotated[Actor, Depends(require_roles("admin", "marketer", "analyst"))]


class MemberScore(BaseModel):
    """One member's CLV scores; `member` is pseudonymous unless the caller is an admin."""

    member: str
    visits: int
    recency_days: float
    age_days: float
    p_alive: float
    expected_visits: float
    expected_spend_cents: int
    clv_cents: int


class ClvRead(BaseModel):
    """Fitted parameters, chain aggregates and the highest-CLV members."""

    as_of: str
    horizon_days: int
    clv_months: int
    monthly_discount_rate: float
    beta_geo: dict[str, float]
    beta_geo_log_likelihood: float
    gamma_gamma: dict[str, float] | None
    aggregates: dict[str, Any]
    members: list[MemberScore]


@router.get(
    "/clv",
    response_model=ClvRead,
    responses=error_responses(401, 403, 422),
    description="CLV per member (BG/NBD x Gamma-Gamma, discounted) and chain aggregates.",
)
def get_clv(
    actor: AnalyticsReader,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    horizon_days: Annotated[int, Query(ge=1, le=3650)] = 90,
    clv_months: Annotated[int, Query(ge=1, le=120)] = 12,
    monthly_discount_rate: Annotated[float, Query(ge=0.0, lt=1.0)] = 0.01,
    limit: Annotated[int, Query(ge=0, le=100_000)] = 100,
) -> ClvRead:
    config = ClvConfig(
        horizon_days=horizon_days,
        clv_months=clv_months,
        monthly_discount_rate=monthly_discount_rate,
    )
    now = clock.now()
    result = score_members(session, now=now, config=config)
    show_ids = actor.role == "admin"
    members = [
        MemberScore(
            member=row["member_id"]
            if show_ids
            else pseudonymous_id(runtime.keyring, row["member_id"]),
            visits=int(row["frequency"]) + 1,
            recency_days=float(row["recency_days"]),
            age_days=float(row["age_days"]),
            p_alive=float(row["p_alive"]),
            expected_visits=float(row["expected_visits"]),
            expected_spend_cents=int(row["expected_spend_cents"]),
            clv_cents=int(row["clv_cents"]),
        )
        for row in result.scores.head(limit).to_dict(orient="records")
    ]
    return ClvRead(
        as_of=now.isoformat(),
        horizon_days=horizon_days,
        clv_months=clv_months,
        monthly_discount_rate=monthly_discount_rate,
        beta_geo=result.beta_geo.params,
        beta_geo_log_likelihood=result.beta_geo.log_likelihood,
        gamma_gamma=None if result.gamma_gamma is None else result.gamma_gamma.params,
        aggregates=result.aggregates,
        members=members,
    )
