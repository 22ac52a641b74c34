"""The transaction summary (frequency, recency, T, monetary value) against the grouped
pandas formulation, on random transactions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.clv.reference import reference_summarise_transactions

from memberops.clv import summarise_transactions

START = datetime(2025, 1, 1, tzinfo=UTC)
rows = st.lists(
    st.tuples(
        st.sampled_from(["c1", "c2", "c3", "c10", "c2x", None]),
        st.integers(0, 200),
        st.integers(0, 23),
        st.integers(0, 50_000),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(
    rows=rows,
    end_day=st.one_of(st.none(), st.integers(50, 250)),
    period_days=st.sampled_from([1.0, 7.0]),
    monetary=st.booleans(),
)
def test_summary_equals_the_grouped_pandas_formulation(
    rows: list[tuple[str | None, int, int, int]],
    end_day: int | None,
    period_days: float,
    monetary: bool,
) -> None:
    frame = pd.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "date": [START + timedelta(days=r[1], hours=r[2]) for r in rows],
            "spend": [r[3] / 100 for r in rows],
        }
    )
    options = {
        "monetary_column": "spend" if monetary else None,
        "observation_end": None if end_day is None else START + timedelta(days=end_day),
        "period_days": period_days,
    }
    ours = summarise_transactions(frame, **options)  # type: ignore[arg-type]
    reference = reference_summarise_transactions(frame, **options)  # type: ignore[arg-type]
    if reference.empty:
        assert ours.empty
        return
    assert ours.index.tolist() == reference.index.tolist()
    assert ours.index.name == reference.index.name
    assert list(ours.columns) == list(reference.columns)
    for column in ours.columns:
        np.testing.assert_allclose(
            ours[column].to_numpy(), reference[column].to_numpy(), rtol=1e-12, err_msg=column
        )


def test_nothing_before_the_end_gives_an_empty_summary() -> None:
    frame = pd.DataFrame({"customer_id": ["a"], "date": [START + timedelta(days=10)]})
    summary = summarise_transactions(frame, observation_end=START)
    assert summary.empty
    assert list(summary.columns) == ["frequency", "recency", "T"]


def test_arrow_backed_customer_ids_from_parquet_are_grouped() -> None:
    import pyarrow as pa

    table = pa.chunked_array([["b", "a"], ["b", "a", "c"]])
    frame = pd.DataFrame(
        {
            "customer_id": pd.Series(pd.arrays.ArrowExtensionArray(table)),
            "date": [START + timedelta(days=d) for d in (0, 1, 5, 9, 3)],
        }
    )
    summary = summarise_transactions(frame)
    assert summary.index.tolist() == ["a", "b", "c"]
    assert summary["frequency"].tolist() == [1.0, 1.0, 0.0]
