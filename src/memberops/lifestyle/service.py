"""Lifestyle scores on the live chain: read the mapping, score members, store, read back.

A run scores every active member's counted order lines over the mapping's lookback
window before "as of" on an Ibis engine (DuckDB by default, inside PostgreSQL, or on
Spark) and
replaces `lifestyle_scores`. Services flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from memberops.errors import ValidationError
from memberops.lifestyle import repository
from memberops.lifestyle.features import ITEM_TRAITS_SCHEMA, trait_scores
from memberops.lifestyle.rules import LifestyleMapping, has_trait, parse_mapping, trait_matches
from memberops.pipeline import engines
from memberops.pipeline.engines import EngineName

__all__ = [
    "LifestyleRunReport",
    "default_mapping",
    "load_mapping",
    "run_lifestyle",
    "score_lifestyles",
    "trait_summary",
]

Progress = Callable[[str], None]


@dataclass
class LifestyleRunReport:
    """What one run stored."""

    as_of: datetime
    engine: str
    members_scored: int
    traits: dict[str, int] = field(default_factory=dict)
    mapping: str = "default"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "as_of": self.as_of.isoformat(),
            "engine": self.engine,
            "mapping": self.mapping,
            "members_scored": self.members_scored,
            "traits": self.traits,
        }


def default_mapping() -> LifestyleMapping:
    """The mapping shipped with memberops (`memberops/lifestyle/mapping.toml`)."""
    text = resources.files("memberops.lifestyle").joinpath("mapping.toml").read_text("utf-8")
    return parse_mapping(text, source="mapping.toml")


def load_mapping(path: Path | None) -> LifestyleMapping:
    """The mapping in `path` (validated), or the default one."""
    if path is None:
        return default_mapping()
    if not path.is_file():
        raise ValidationError(path.name, "mapping", "file not found")
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(path.name, "mapping", "is not UTF-8 text") from None
    return parse_mapping(text, source=path.name)


def _item_traits(session: Session, mapping: LifestyleMapping) -> pa.Table:
    items, traits = [], []
    for item_id, sku, category, tags in repository.catalog_items(session):
        for trait in mapping.traits:
            if trait_matches(trait, sku=sku, category=category, tags=tags):
                items.append(item_id)
                traits.append(trait.id)
    return pa.table({"item_id": items, "trait": traits}, schema=ITEM_TRAITS_SCHEMA)


def score_lifestyles(
    session: Session,
    *,
    as_of: datetime,
    mapping: LifestyleMapping,
    engine: EngineName = "duckdb",
    database_url: str | None = None,
    spark: Any = None,
) -> list[dict[str, Any]]:
    """Rows of `lifestyle_scores`: every (member, trait) with a matching line.

    `database_url` is needed for the postgres engine; `spark` optionally names the
    SparkSession for the spark engine (a local one otherwise)."""
    lines = repository.lines_table(
        session, since=as_of - timedelta(days=mapping.lookback_days), until=as_of
    )
    item_traits = _item_traits(session, mapping)
    con = engines.connect(engine, database_url=database_url, spark=spark)
    try:
        expr = trait_scores(
            engines.bind_table(con, "lifestyle_lines", lines),
            engines.bind_table(con, "lifestyle_item_traits", item_traits),
            basis=mapping.basis,
        )
        scored = con.to_pyarrow(expr).to_pylist()
    finally:
        engines.release(con)
    thresholds = {t.id: t.threshold for t in mapping.traits}
    rows = [
        {
            "member_id": r["member_id"],
            "trait": r["trait"],
            "score": float(r["score"]),
            "has_trait": has_trait(float(r["score"]), thresholds[r["trait"]]),
            "as_of": as_of,
        }
        for r in scored
    ]
    rows.sort(key=lambda r: (r["member_id"], r["trait"]))
    return rows


def run_lifestyle(
    session: Session,
    *,
    as_of: datetime,
    mapping: LifestyleMapping | None = None,
    engine: EngineName = "duckdb",
    database_url: str | None = None,
    spark: Any = None,
    progress: Progress | None = None,
) -> LifestyleRunReport:
    """Score every member and replace the stored scores (flushes; the caller commits)."""
    mapping = mapping or default_mapping()
    rows = score_lifestyles(
        session,
        as_of=as_of,
        mapping=mapping,
        engine=engine,
        database_url=database_url,
        spark=spark,
    )
    if progress is not None:
        progress("compute")
    repository.replace_scores(session, rows)
    session.flush()
    if progress is not None:
        progress("store")
    traits = {t: 0 for t in mapping.trait_ids()}
    for row in rows:
        if row["has_trait"]:
            traits[row["trait"]] += 1
    return LifestyleRunReport(
        as_of=as_of,
        engine=engine,
        members_scored=len({r["member_id"] for r in rows}),
        traits=traits,
        mapping=mapping.source,
    )


def trait_summary(session: Session) -> dict[str, Any]:
    """Members per trait from the stored run: {"as_of", "members_scored", "traits"}."""
    counts, scored, as_of = repository.trait_counts(session)
    return {
        "as_of": as_of.isoformat() if as_of else None,
        "members_scored": scored,
        "traits": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
    }
