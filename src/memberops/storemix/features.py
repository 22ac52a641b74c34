"""Store mix as engine-free Ibis expressions over the pipeline's per-member metrics.

Value segments reuse `memberops.pipeline.features.store_profiles` (the same premium and
value definition the store profiles use); trait shares count the store's home members
holding each lifestyle trait.

Input tables: ``metrics`` (the pipeline's metrics schema) and ``traits``: member_id,
trait (one row per trait a member holds).
"""

from __future__ import annotations

from datetime import datetime

import ibis.expr.types as ir  # type: ignore[import-untyped]  # ibis 12 ships no types
import pyarrow as pa
from ibis import _

from memberops.pipeline import features as pipeline_features

__all__ = ["TRAITS_SCHEMA", "store_segments", "store_traits"]

TRAITS_SCHEMA = pa.schema([("member_id", pa.string()), ("trait", pa.string())])


def store_segments(metrics: ir.Table, as_of: datetime) -> ir.Table:
    """Per home store: members, premium_members, value_members, premium_share,
    value_share (the store profiles' definition)."""
    profiles = pipeline_features.store_profiles(metrics, as_of)
    return profiles.select(
        "store_id", "members", "premium_members", "value_members", "premium_share", "value_share"
    )


def store_traits(metrics: ir.Table, traits: ir.Table) -> ir.Table:
    """Per home store and trait: members holding it. Columns: store_id, trait, members."""
    homes = metrics.select("member_id", store_id="home_store_id")
    joined = traits.join(homes, "member_id")
    return joined.group_by(["store_id", "trait"]).aggregate(
        members=_.member_id.nunique().cast("int64")
    )
