"""The DuckDB engine's memory cap (MEMBEROPS_DUCKDB_MEMORY_LIMIT)."""

from __future__ import annotations

import pytest

from memberops.pipeline import engines
from memberops.pipeline.synthetic import synthetic_inputs


def _memory_limit(con: object) -> str:
    return str(con.raw_sql("select current_setting('memory_limit')").fetchone()[0])  # type: ignore[attr-defined]


def test_the_memory_limit_reaches_duckdb(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMBEROPS_DUCKDB_MEMORY_LIMIT", "1GB")
    con = engines.connect("duckdb")
    try:
        assert _memory_limit(con) == "953.6 MiB"
    finally:
        engines.release(con)


def test_a_bad_memory_limit_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMBEROPS_DUCKDB_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match="MEMBEROPS_DUCKDB_MEMORY_LIMIT"):
        engines.connect("duckdb")


def test_features_are_the_same_under_a_small_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = synthetic_inputs(members=300, orders=3000, stores=5, items=30, seed=3)

    def run() -> dict[str, list[dict[str, object]]]:
        con = engines.connect("duckdb")
        try:
            bound = engines.bind_inputs(con, inputs)
            out = engines.execute(con, engines.member_feature_exprs(bound, con=con))
            return {name: sorted(map(repr, t.to_pylist())) for name, t in out.items()}  # type: ignore[misc]
        finally:
            engines.release(con)

    free = run()
    monkeypatch.setenv("MEMBEROPS_DUCKDB_MEMORY_LIMIT", "64MB")
    assert run() == free
