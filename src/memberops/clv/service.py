"""CLV on the live chain: fit BG/NBD and Gamma-Gamma on counted visits, score members.

A visit is a day with at least one counted order (two tickets at one dinner are one
visit); time is in days; spend is net of refunds, in cents. Members are scored from
their first counted visit on; members without one have no purchase history to score.
Nothing is stored: a fit over the chain takes seconds, and reading the same orders
always gives the same scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from memberops.clv.estimators import BetaGeo, GammaGamma, customer_lifetime_value
from memberops.clv.repository import counted_visits
from memberops.clv.summary import summarise_transactions
from memberops.errors import ValidationError

__all__ = ["ClvConfig", "ClvResult", "fit_summary", "score_members"]


@dataclass(frozen=True)
class ClvConfig:
    """What the scores mean: the horizon for expected visits, the CLV horizon in months
    of `month_days` days, and the monthly discount rate (1% a month is about 12.7% a year).
    """

    horizon_days: int = 90
    clv_months: int = 12
    month_days: float = 30.0
    monthly_discount_rate: float = 0.01

    def check(self) -> None:
        """Refuse meaningless settings, naming the field."""
        if self.horizon_days < 1:
            raise ValidationError("clv config", "horizon_days", "must be at least 1")
        if self.clv_months < 1:
            raise ValidationError("clv config", "clv_months", "must be at least 1")
        if not 0 <= self.monthly_discount_rate < 1:
            raise ValidationError("clv config", "monthly_discount_rate", "must be in [0, 1)")


@dataclass
class ClvResult:
    """Fitted models, per-member scores and chain aggregates."""

    beta_geo: BetaGeo
    gamma_gamma: GammaGamma | None
    scores: pd.DataFrame
    config: ClvConfig
    as_of: datetime | None = None
    aggregates: dict[str, Any] = field(default_factory=dict)


def fit_summary(summary: pd.DataFrame) -> tuple[BetaGeo, GammaGamma | None]:
    """Both models on a summary frame (frequency, recency, T, optional monetary_value)."""
    for column in ("frequency", "recency", "T"):
        if column not in summary.columns:
            raise ValidationError("summary", column, "column is missing")
    beta_geo = BetaGeo().fit(summary["frequency"], summary["recency"], summary["T"])
    gamma_gamma = None
    if "monetary_value" in summary.columns:
        usable = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
        gamma_gamma = GammaGamma().fit(usable["frequency"], usable["monetary_value"])
    return beta_geo, gamma_gamma


def score_summary(
    summary: pd.DataFrame, beta_geo: BetaGeo, gamma_gamma: GammaGamma | None, config: ClvConfig
) -> pd.DataFrame:
    """Per-row probability alive, expected visits, expected spend per visit and CLV."""
    config.check()
    frequency, recency, big_t = summary["frequency"], summary["recency"], summary["T"]
    scores = summary.copy()
    scores["p_alive"] = beta_geo.probability_alive(frequency, recency, big_t)
    scores["expected_visits"] = beta_geo.conditional_expected_purchases(
        float(config.horizon_days), frequency, recency, big_t
    )
    if gamma_gamma is not None and "monetary_value" in summary.columns:
        # A repeat buyer whose net spend is zero (refunded) is scored at the population mean.
        usable = np.where(summary["monetary_value"] > 0, frequency, 0.0)
        scores["expected_spend"] = gamma_gamma.conditional_expected_spend(
            usable, summary["monetary_value"]
        )
        scores["clv"] = customer_lifetime_value(
            beta_geo,
            gamma_gamma,
            usable,
            recency,
            big_t,
            summary["monetary_value"],
            periods=config.clv_months,
            period_length=config.month_days,
            discount_rate=config.monthly_discount_rate,
        )
    return scores


def _aggregates(scores: pd.DataFrame) -> dict[str, Any]:
    clv = scores["clv_cents"].to_numpy(dtype=np.float64)
    if not len(clv):
        return {"members_scored": 0}
    ordered = np.sort(clv)[::-1]
    top = max(1, len(ordered) // 5)
    return {
        "members_scored": len(scores),
        "repeat_visitors": int((scores["frequency"] > 0).sum()),
        "total_clv_cents": int(clv.sum()),
        "mean_clv_cents": round(float(clv.mean())),
        "median_clv_cents": round(float(np.median(clv))),
        "clv_cents_quantiles": {
            str(q): round(float(np.quantile(clv, q))) for q in (0.1, 0.25, 0.5, 0.75, 0.9, 0.99)
        },
        "top_20_percent_share_of_clv": float(ordered[:top].sum() / clv.sum()) if clv.sum() else 0.0,
        "mean_p_alive": float(scores["p_alive"].mean()),
        "expected_visits_total": float(scores["expected_visits"].sum()),
    }


def score_members(session: Session, *, now: datetime, config: ClvConfig | None = None) -> ClvResult:
    """Fit on every counted visit before `now` and score every member who has one."""
    config = config or ClvConfig()
    config.check()
    visits = counted_visits(session, until=now)
    if visits.empty:
        raise ValidationError("clv", "orders", "no counted orders to fit on")
    summary = summarise_transactions(
        visits,
        customer_column="member_id",
        time_column="ordered_at",
        monetary_column="net_cents",
        observation_end=now,
    )
    beta_geo, gamma_gamma = fit_summary(summary)
    scores = score_summary(summary, beta_geo, gamma_gamma, config).reset_index()
    scores = scores.rename(
        columns={
            "recency": "recency_days",
            "T": "age_days",
            "monetary_value": "mean_repeat_spend_cents",
        }
    )
    if "clv" not in scores.columns:  # no repeat buyer with spend: spend unknown
        scores["expected_spend"] = 0.0
        scores["clv"] = 0.0
    if not np.isfinite(scores[["expected_spend", "clv"]].to_numpy(dtype=float)).all():
        # A spend model fitted on a handful of repeat buyers can have no finite mean
        # (q <= 1): say so instead of inventing values.
        repeaters = int((summary["frequency"] > 0).sum())
        raise ValidationError(
            "clv",
            "orders",
            f"too little repeat-purchase history to estimate spend ({repeaters} repeat buyers)",
        )
    # Money leaves as integer cents.
    scores["expected_spend_cents"] = np.rint(scores.pop("expected_spend")).astype(np.int64)
    scores["clv_cents"] = np.rint(scores.pop("clv")).astype(np.int64)
    scores = scores.sort_values("clv_cents", ascending=False, kind="stable").reset_index(drop=True)
    return ClvResult(
        beta_geo=beta_geo,
        gamma_gamma=gamma_gamma,
        scores=scores,
        config=config,
        as_of=now,
        aggregates=_aggregates(scores),
    )
