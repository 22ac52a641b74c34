"""Member 360: transaction and personalised features, one definition on several engines."""

from memberops.pipeline.engines import (
    ENGINES,
    FeatureInputs,
    bind_inputs,
    chain_feature_exprs,
    connect,
    execute,
    member_feature_exprs,
    spark_session,
)

__all__ = [
    "ENGINES",
    "FeatureInputs",
    "bind_inputs",
    "chain_feature_exprs",
    "connect",
    "execute",
    "member_feature_exprs",
    "spark_session",
]
