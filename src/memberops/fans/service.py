"""Fan levels on the live chain: compute, store in `fan_levels`, read back.

One run reads the counted orders and the shares, referrals and reviews before "as of",
computes activity, repurchase rate and referrals with the engine-free expressions of
`memberops.fans.features` (DuckDB in memory by default, inside PostgreSQL, or on
Spark), applies
the rules of `memberops.fans.rules` and replaces every row of `fan_levels`. Services
flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from memberops.errors import ValidationError
from memberops.fans import repository
from memberops.fans.features import fan_activity, member_engagement, referrals
from memberops.fans.rules import LEVELS, FanConfig, communication_score, fan_level
from memberops.pipeline import engines
from memberops.pipeline.engines import EngineName
from memberops.pipeline.extract import naive_utc

__all__ = [
    "FanRunReport",
    "check_config",
    "compute_fan_levels",
    "fan_level_counts",
    "run_fan_levels",
    "score_fans",
    "top_communicators",
]

Progress = Callable[[str], None]


@dataclass
class FanRunReport:
    """What one run stored."""

    as_of: datetime
    engine: str
    members: int
    levels: dict[str, int] = field(default_factory=dict)
    communicators: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "as_of": self.as_of.isoformat(),
            "engine": self.engine,
            "members": self.members,
            "levels": self.levels,
            "communicators": self.communicators,
        }


def check_config(config: FanConfig) -> None:
    """The rules' own check, as a validation error naming the setting."""
    try:
        config.check()
    except ValueError as exc:
        setting = str(exc).split(" ", 1)[0]
        raise ValidationError("fan config", setting, str(exc)) from None


def compute_fan_levels(
    session: Session,
    *,
    as_of: datetime,
    config: FanConfig,
    engine: EngineName = "duckdb",
    database_url: str | None = None,
    spark: Any = None,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Every active member with a counted order or a share/referral/review before
    `as_of`, with level and communication power (rows of `fan_levels`).

    `database_url` is needed for the postgres engine; `spark` optionally names the
    SparkSession for the spark engine (a local one otherwise)."""
    check_config(config)
    members = repository.active_member_ids(session)
    orders = repository.counted_orders_table(session, until=as_of, members=members)
    events = repository.events_table(session, until=as_of, members=members)
    holders = repository.holders_table(session, events.column("referred_identifier_id").to_pylist())
    if progress is not None:
        progress("extract")
    con = engines.connect(engine, database_url=database_url, spark=spark)
    try:
        rows = score_fans(
            con,
            engines.bind_table(con, "fan_orders", orders),
            engines.bind_table(con, "fan_events", events),
            engines.bind_table(con, "fan_holders", holders),
            as_of=as_of,
            config=config,
        )
    finally:
        engines.release(con)
    if progress is not None:
        progress("compute")
    return rows


_COUNTS = ("shares", "referrals", "reviews", "referred_members", "referred_revenue_cents")


def score_fans(
    con: Any,
    orders: Any,
    events: Any,
    holders: Any,
    *,
    as_of: datetime,
    config: FanConfig,
) -> list[dict[str, Any]]:
    """Rows of `fan_levels` from counted `orders`, `events` and identifier `holders`
    (Ibis tables on `con`; `fans.features` describes them): every member with a visit or
    an event, in member id order."""
    activity = con.to_pyarrow(
        fan_activity(
            orders,
            as_of=naive_utc(as_of),
            window_days=config.window_days,
            repurchase_months=config.repurchase_months,
        )
    )
    engagement = con.to_pyarrow(member_engagement(events)).to_pylist()
    brought = con.to_pyarrow(referrals(events, holders, orders)).to_pylist()
    # Activity covers most members: read it by column (integer and float columns through
    # NumPy, several times faster than row dictionaries).
    by_member: dict[str, dict[str, Any]] = {
        member_id: {"visits_window": visits_window, "repurchase_rate": rate}
        for member_id, visits_window, rate in zip(
            activity.column("member_id").to_pylist(),
            activity.column("visits_window").to_numpy().tolist(),
            activity.column("repurchase_rate").to_numpy().tolist(),
            strict=True,
        )
    }
    for source in (engagement, brought):
        for row in source:
            by_member.setdefault(row["member_id"], {}).update(row)
    rows = []
    for member_id in sorted(by_member):
        values = by_member[member_id]
        visits_window = int(values.get("visits_window", 0))
        rate = round(float(values.get("repurchase_rate", 0.0)), 6)
        counts = {key: int(values.get(key) or 0) for key in _COUNTS}
        rows.append(
            {
                "member_id": member_id,
                "level": fan_level(visits_window, rate, config),
                "visits_window": visits_window,
                "repurchase_rate": rate,
                **counts,
                "communication_score": communication_score(**counts, weights=config.weights),
                "as_of": as_of,
            }
        )
    return rows


def run_fan_levels(
    session: Session,
    *,
    as_of: datetime,
    config: FanConfig | None = None,
    engine: EngineName = "duckdb",
    database_url: str | None = None,
    spark: Any = None,
    progress: Progress | None = None,
) -> FanRunReport:
    """Compute and store every member's fan level (flushes; the caller commits)."""
    config = config or FanConfig()
    rows = compute_fan_levels(
        session,
        as_of=as_of,
        config=config,
        engine=engine,
        database_url=database_url,
        spark=spark,
        progress=progress,
    )
    repository.replace_levels(session, rows)
    session.flush()
    if progress is not None:
        progress("store")
    levels: dict[str, int] = {level: 0 for level in LEVELS}
    for row in rows:
        levels[row["level"]] += 1
    return FanRunReport(
        as_of=as_of,
        engine=engine,
        members=len(rows),
        levels=levels,
        communicators=sum(1 for r in rows if r["communication_score"] > 0),
    )


def fan_level_counts(session: Session) -> dict[str, Any]:
    """Members per level from the stored run: {"as_of", "members", "levels"}."""
    counts, as_of = repository.level_counts(session)
    levels = {level: counts.get(level, 0) for level in LEVELS}
    return {
        "as_of": as_of.isoformat() if as_of else None,
        "members": sum(levels.values()),
        "levels": levels,
    }


def top_communicators(session: Session, *, limit: int = 20) -> list[dict[str, Any]]:
    """The members with the most communication power, highest first (real member ids:
    the edge pseudonymises them for roles that may not see ids)."""
    if limit < 1:
        raise ValidationError("communicators", "limit", "must be at least 1")
    return repository.top_communicators(session, limit=limit)
