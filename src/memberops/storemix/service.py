"""Store mix on the live chain: value segments and lifestyle traits per home store, and
what to do about them.

Read at request time from the pipeline's per-member metrics (home store, spend per
person: refreshed by `memberops pipeline refresh`) and the stored lifestyle traits
(`memberops lifestyle run`); nothing is stored, so the mix follows those runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session

from memberops.catalog.service import all_store_codes
from memberops.errors import NotFound
from memberops.lifestyle.repository import trait_holders
from memberops.pipeline import engines
from memberops.pipeline.engines import METRICS_SCHEMA, EngineName
from memberops.pipeline.extract import naive_utc
from memberops.pipeline.repository import metrics_rows
from memberops.storemix.features import TRAITS_SCHEMA, store_segments, store_traits
from memberops.storemix.rules import MixConfig, recommend

__all__ = ["store_mix"]


def _metrics(session: Session) -> pa.Table:
    cols: dict[str, list[Any]] = {name: [] for name in METRICS_SCHEMA.names}
    for row in metrics_rows(session):
        for name in METRICS_SCHEMA.names:
            value = getattr(row, name)
            cols[name].append(naive_utc(value) if isinstance(value, datetime) else value)
    return pa.table(cols, schema=METRICS_SCHEMA)


def _traits(session: Session) -> pa.Table:
    held = trait_holders(session)
    return pa.table(
        {"member_id": [m for m, _t in held], "trait": [t for _m, t in held]}, schema=TRAITS_SCHEMA
    )


def store_mix(
    session: Session,
    *,
    as_of: datetime,
    store_code: str | None = None,
    config: MixConfig | None = None,
    engine: EngineName = "duckdb",
    database_url: str | None = None,
    spark: Any = None,
) -> list[dict[str, Any]]:
    """One entry per store with home members (or only `store_code`), by store code.

    Each: store_code, store_id, members, segments ({premium, mainstream, value}: members
    and share), traits ({trait: {members, share}}), recommendation ({code, text}).
    Computed on `engine` (`database_url` for postgres; `spark` optionally names the
    SparkSession for spark).
    """
    config = config or MixConfig()
    codes = all_store_codes(session)
    wanted_id = None
    if store_code is not None:
        wanted_id = next((sid for sid, code in codes.items() if code == store_code), None)
        if wanted_id is None:
            raise NotFound(f"store {store_code} not found")
    metrics, traits = _metrics(session), _traits(session)
    con = engines.connect(engine, database_url=database_url, spark=spark)
    try:
        m = engines.bind_table(con, "storemix_metrics", metrics)
        t = engines.bind_table(con, "storemix_traits", traits)
        segments = con.to_pyarrow(store_segments(m, naive_utc(as_of))).to_pylist()
        per_trait = con.to_pyarrow(store_traits(m, t)).to_pylist()
    finally:
        engines.release(con)
    trait_members: dict[str, dict[str, int]] = {}
    for row in per_trait:
        trait_members.setdefault(row["store_id"], {})[row["trait"]] = int(row["members"])
    out = []
    for row in segments:
        store_id = row["store_id"]
        if store_id is None or (wanted_id is not None and store_id != wanted_id):
            continue
        members = int(row["members"])
        premium, value = int(row["premium_members"]), int(row["value_members"])
        mainstream = members - premium - value
        held = trait_members.get(store_id, {})
        traits_out = {
            trait: {"members": n, "share": n / members}
            for trait, n in sorted(held.items(), key=lambda kv: (-kv[1], kv[0]))
        }
        family = held.get(config.family_trait, 0) / members if members else 0.0
        advice = recommend(
            members=members,
            premium_share=float(row["premium_share"]),
            value_share=float(row["value_share"]),
            family_share=family,
            config=config,
        )
        out.append(
            {
                "store_code": codes.get(store_id, store_id),
                "store_id": store_id,
                "members": members,
                "segments": {
                    "premium": {"members": premium, "share": premium / members},
                    "mainstream": {"members": mainstream, "share": mainstream / members},
                    "value": {"members": value, "share": value / members},
                },
                "traits": traits_out,
                "recommendation": {"code": advice.code, "text": advice.text},
            }
        )
    out.sort(key=lambda s: str(s["store_code"]))
    return out
