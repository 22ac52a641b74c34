"""Engines: where the engine-free feature expressions run.

The expressions in `memberops.pipeline.features` never see a connection. This module
opens one (DuckDB in memory by default, PostgreSQL in place, Spark local or on a
cluster), binds the input tables to it and executes a set of named expressions,
returning Arrow tables.

Public API (what analytics builds on):

- `connect(engine, *, database_url=None, spark=None)` -> an Ibis backend;
- `FeatureInputs` (Arrow input tables) and `bind_inputs(con, inputs)` -> `BoundInputs`
  (Ibis tables on that backend);
- `member_feature_exprs(bound, con=con)` (shared intermediates materialised once on
  `con`) / `chain_feature_exprs(metrics, as_of)` -> named expressions;
- `execute(con, exprs)` -> named Arrow tables;
- `release(con)` when done (a SparkSession stays up for its owner);
- `spark_session(master="local[2]")` with the settings this project tested.
"""

from __future__ import annotations

import os
import tempfile
import uuid
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import duckdb
import ibis  # type: ignore[import-untyped]  # ibis 12 ships no type information
import ibis.expr.types as ir  # type: ignore[import-untyped]
import pyarrow as pa

from memberops.pipeline import features as feat

__all__ = [
    "ENGINES",
    "INPUT_SCHEMAS",
    "BoundInputs",
    "EngineName",
    "FeatureInputs",
    "bind_inputs",
    "bind_table",
    "chain_feature_exprs",
    "conform_table",
    "connect",
    "empty_inputs",
    "execute",
    "materialise",
    "member_feature_exprs",
    "release",
    "spark_session",
]

EngineName = Literal["duckdb", "postgres", "spark"]
ENGINES: tuple[EngineName, ...] = ("duckdb", "postgres", "spark")

_TS = pa.timestamp("us")
INPUT_SCHEMAS: dict[str, pa.Schema] = {
    "orders": pa.schema(
        [
            ("order_id", pa.string()),
            ("member_id", pa.string()),
            ("store_id", pa.string()),
            ("ordered_at", _TS),
            ("utc_offset_minutes", pa.int64()),
            ("meal_type", pa.string()),
            ("party_size", pa.int64()),
            ("net_cents", pa.int64()),
        ]
    ),
    "lines": pa.schema(
        [
            ("order_id", pa.string()),
            ("line_no", pa.int64()),
            ("item_id", pa.string()),
            ("quantity", pa.int64()),
            ("line_total_cents", pa.int64()),
        ]
    ),
    "modifiers": pa.schema(
        [("order_id", pa.string()), ("line_no", pa.int64()), ("modifier", pa.string())]
    ),
    "needs": pa.schema([("member_id", pa.string()), ("need", pa.string()), ("recorded_at", _TS)]),
    "members": pa.schema([("member_id", pa.string()), ("home_store_id", pa.string())]),
}

METRICS_SCHEMA = pa.schema(
    [
        ("member_id", pa.string()),
        ("home_store_id", pa.string()),
        ("home_store_source", pa.string()),
        ("spend_cents", pa.int64()),
        ("orders", pa.int64()),
        ("visits", pa.int64()),
        ("first_visit_at", _TS),
        ("last_visit_at", _TS),
        ("spend_per_person_cents", pa.int64()),
    ]
)


@dataclass(frozen=True)
class FeatureInputs:
    """The five input tables as Arrow (see `features` for their columns)."""

    orders: pa.Table
    lines: pa.Table
    modifiers: pa.Table
    needs: pa.Table
    members: pa.Table

    def conformed(self) -> FeatureInputs:
        """The same tables cast to the declared schemas (column order and types)."""
        return FeatureInputs(
            **{
                name: getattr(self, name)
                .select(INPUT_SCHEMAS[name].names)
                .cast(INPUT_SCHEMAS[name])
                for name in INPUT_SCHEMAS
            }
        )


@dataclass(frozen=True)
class BoundInputs:
    """The input tables as Ibis tables on one backend."""

    orders: ir.Table
    lines: ir.Table
    modifiers: ir.Table
    needs: ir.Table
    members: ir.Table


def empty_inputs() -> FeatureInputs:
    """Inputs with no rows (a chain before its first order)."""
    return FeatureInputs(**{name: schema.empty_table() for name, schema in INPUT_SCHEMAS.items()})


def spark_session(master: str = "local[2]", **conf: str) -> Any:
    """A SparkSession with the settings that work on this project's machines.

    UI off, 4 shuffle partitions (small data), loopback networking and a UTC session
    time zone (feature timestamps are naive UTC). On a cluster, pass `master` and
    `conf` (executor memory, lake credentials) from the deployment.
    """
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession  # pyspark is heavy: imported only for Spark runs

    warehouse = tempfile.mkdtemp(prefix="memberops-spark-")
    builder = (
        SparkSession.builder.master(master)
        .appName("memberops-pipeline")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.warehouse.dir", warehouse)
    )
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def connect(
    engine: EngineName = "duckdb",
    *,
    database_url: str | None = None,
    spark: Any = None,
) -> ibis.BaseBackend:
    """An Ibis backend for `engine`.

    duckdb: in memory; MEMBEROPS_DUCKDB_MEMORY_LIMIT (DuckDB's form: "4GB", "50%") caps
    the memory it holds, spilling intermediates to a temporary directory beyond that
    (DuckDB's own default is 80% of the machine). postgres: `database_url` (SQLAlchemy
    form accepted; features run inside PostgreSQL). spark: the given SparkSession or a
    local one.
    """
    if engine == "duckdb":
        limit = os.environ.get("MEMBEROPS_DUCKDB_MEMORY_LIMIT", "").strip()
        if not limit:
            return ibis.duckdb.connect()
        try:
            return ibis.duckdb.connect(memory_limit=limit)
        except duckdb.Error as exc:
            raise ValueError(
                f"MEMBEROPS_DUCKDB_MEMORY_LIMIT: not a DuckDB memory size ({exc})"
            ) from None
    if engine == "postgres":
        if database_url is None:
            raise ValueError("the postgres engine needs a database URL")
        return ibis.connect(database_url.replace("postgresql+psycopg://", "postgres://", 1))
    if engine == "spark":
        return ibis.pyspark.connect(spark if spark is not None else spark_session())
    raise ValueError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")


def release(con: ibis.BaseBackend) -> None:
    """Done with `con`: close DuckDB and PostgreSQL connections.

    A Spark backend is left open: disconnecting it would stop its SparkSession, which is
    shared (one per process) and belongs to whoever started it.
    """
    if con.name != "pyspark":
        con.disconnect()


def bind_inputs(con: ibis.BaseBackend, inputs: FeatureInputs) -> BoundInputs:
    """Bind Arrow inputs to `con` (registered as in-memory tables on first execution)."""
    conformed = inputs.conformed()
    return BoundInputs(
        **{name: bind_table(con, name, getattr(conformed, name)) for name in INPUT_SCHEMAS}
    )


def bind_table(con: ibis.BaseBackend, name: str, table: pa.Table) -> ir.Table:
    """One Arrow table as an Ibis table on `con`.

    Spark gets a temporary view built from Arrow directly: ibis's in-memory tables reach
    Spark through pandas, where a missing integer or string becomes NaN, which Spark
    does not treat as null (a party size of NaN would win every max()).
    """
    if con.name == "pyspark":
        session = con._session
        view = f"memberops_{name}_{uuid.uuid4().hex[:12]}"
        session.createDataFrame(table).createOrReplaceTempView(view)
        return con.table(view)
    return ibis.memtable(table)


def conform_table(table: ir.Table, name: str) -> ir.Table:
    """An engine-side input table with the declared columns and types (for SQL inputs)."""
    schema = ibis.Schema.from_pyarrow(INPUT_SCHEMAS[name])
    return table.select(*schema.names).cast(schema)


def member_feature_exprs(
    bound: BoundInputs, *, con: ibis.BaseBackend | None = None
) -> dict[str, ir.Table]:
    """The member-local features, by serving name.

    With `con`, the shared intermediates (local orders, visits, lines per member,
    quarter and dish, member summary, visits per store) are materialised on it now,
    each computed once, and the features read them (see `materialise`). Without `con`,
    each feature is one self-contained query that recomputes the intermediates it needs
    (for showing or compiling a single feature).
    """

    def shared(expr: ir.Table) -> ir.Table:
        return expr if con is None else materialise(con, expr)

    local = shared(feat.local_orders(bound.orders))
    v = shared(feat.visits(local))
    dq = shared(feat.dish_quarters(feat.member_lines(local, bound.lines)))
    summary = shared(feat.member_summary(v))
    store_visits = shared(feat.member_store_visits(v))
    return {
        "metrics": feat.member_metrics(summary, feat.home_stores(store_visits, bound.members)),
        "summary": summary,
        "store_visits": store_visits,
        "meal_mix": feat.member_meal_mix(v),
        "usual_hours": feat.member_usual_hours(v),
        "top_dishes": feat.top_dishes(dq),
        "top_needs": feat.top_service_needs(local, bound.modifiers, bound.needs),
        "quarterly_activity": feat.quarterly_activity(v),
        "quarterly_dishes": feat.quarterly_dishes(dq),
        "last_visit": feat.last_visit_lines(v, local, bound.lines),
    }


def materialise(con: ibis.BaseBackend, expr: ir.Table) -> ir.Table:
    """Compute `expr` once on `con` and return a table reading the result.

    A temporary table on DuckDB and PostgreSQL, a cached temporary view on Spark: ibis's
    own cache (what `Table.cache()` uses), called on the given backend because
    `Table.cache()` would pick ibis's default backend for in-memory inputs. Dropped when
    the returned table is garbage collected, or with the connection.

    In-memory tables the expression reads (`ibis.memtable`, such as lifecycle's
    evaluation points) are registered on `con` first, as an execution would: ibis's
    Spark cache compiles the query without registering them. The returned table has
    `expr`'s column types: an engine may store a column in a narrower type than the
    definition says (Spark keeps `year * 100 + month` and `row_number() + 1` as 32-bit
    integers, where ibis, and DuckDB, see 64), and later steps must not inherit that.
    """
    con._register_in_memory_tables(expr)
    with warnings.catch_warnings():
        # ibis 12 reads a new DuckDB table's schema with duckdb's deprecated
        # fetch_arrow_table(); the call still works, the warning is not ours.
        warnings.filterwarnings("ignore", "fetch_arrow_table", DeprecationWarning)
        cached = con._cached_table(expr)
    schema = expr.schema()
    return cached if cached.schema() == schema else cached.cast(schema)


def chain_feature_exprs(metrics: ir.Table, as_of: datetime) -> dict[str, ir.Table]:
    """Chain-wide and clock-driven features over the per-member metrics table."""
    return {
        "clock": feat.clock_features(metrics, as_of),
        "ranks": feat.spend_ranks(metrics),
        "stores": feat.store_profiles(metrics, as_of),
    }


def execute(con: ibis.BaseBackend, exprs: Mapping[str, ir.Table]) -> dict[str, pa.Table]:
    """Run each named expression on `con` and return Arrow tables."""
    return {name: con.to_pyarrow(expr) for name, expr in exprs.items()}
