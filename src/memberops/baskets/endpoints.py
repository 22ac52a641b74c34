"""GET /v1/analytics/baskets/rules: dish combinations, chain-wide or per store."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from memberops.actor import Actor
from memberops.api.auth import require_roles
from memberops.api.deps import ReadSessionDep
from memberops.api.errors import error_responses
from memberops.baskets.service import (
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_MIN_LIFT,
    DEFAULT_MIN_SUPPORT,
    dish_combinations,
)

__all__ = ["router"]

router = APIRouter(prefix="/analytics/baskets", tags=["analytics"])

AnalyticsReader = Annotated[Actor, Depends(require_roles("admin", "marketer", "analyst"))]


class RuleRead(BaseModel):
    """A rule: orders with the antecedents also hold the consequents."""

    antecedents: list[str]
    consequents: list[str]
    antecedent_support: float
    consequent_support: float
    support: float
    confidence: float
    lift: float
    leverage: float
    conviction: float | None


class ItemsetRead(BaseModel):
    """A frequent itemset with its support and basket count."""

    items: list[str]
    support: float
    count: int


class RulesRead(BaseModel):
    """Rules (best lift first) and, on request, every frequent itemset."""

    scope: str
    baskets: int
    min_support: float
    min_confidence: float
    min_lift: float
    rules: list[RuleRead]
    itemsets: list[ItemsetRead] | None = None


@router.get(
    "/rules",
    response_model=RulesRead,
    responses=error_responses(401, 403, 404, 422),
    description="Association rules over counted orders (support, confidence, lift).",
)
def get_rules(
    _actor: AnalyticsReader,
    session: ReadSessionDep,
    store: Annotated[str | None, Query(max_length=32)] = None,
    min_support: Annotated[float, Query(gt=0.0, le=1.0)] = DEFAULT_MIN_SUPPORT,
    min_confidence: Annotated[float, Query(ge=0.0, le=1.0)] = DEFAULT_MIN_CONFIDENCE,
    min_lift: Annotated[float, Query(ge=0.0)] = DEFAULT_MIN_LIFT,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 200,
    include_itemsets: bool = False,
) -> RulesRead:
    report = dish_combinations(
        session,
        store_code=store,
        min_support=min_support,
        min_confidence=min_confidence,
        min_lift=min_lift,
    )
    return RulesRead(
        scope=report.scope,
        baskets=report.baskets,
        min_support=min_support,
        min_confidence=min_confidence,
        min_lift=min_lift,
        rules=[RuleRead(**rule) for rule in report.rules[:limit]],
        itemsets=[ItemsetRead(**i) for i in report.itemsets] if include_itemsets else None,
    )
