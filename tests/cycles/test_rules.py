"""Visit cycles and the due rule, on plain frames."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.cycles.reference import reference_visit_cycles

from memberops.cycles import CycleConfig, visit_cycles
from memberops.cycles.rules import gap_histogram
from memberops.errors import ValidationError

TODAY = datetime(2026, 6, 1, 12, tzinfo=UTC)


def visits(member: str, days_ago: list[int]) -> list[dict[str, object]]:
    return [{"member_id": member, "ordered_at": TODAY - timedelta(days=d)} for d in days_ago]


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        visits("weekly-on-time", [3, 10, 17, 24])
        + visits("weekly-late", [12, 19, 26, 33])
        + visits("weekly-gone", [60, 67, 74])
        + visits("twice", [5, 40])
        # Two orders on one day are one visit.
        + visits("same-day", [1, 1, 8, 15])
    )


def test_each_member_gets_a_usual_cycle_and_a_status() -> None:
    cycles = visit_cycles(frame(), as_of=TODAY).set_index("member_id")
    assert cycles.loc["weekly-on-time", "median_gap_days"] == 7
    assert cycles.loc["weekly-on-time", "status"] == "not_due"
    assert cycles.loc["weekly-late", "status"] == "due"
    assert cycles.loc["weekly-late", "days_overdue"] == 5
    assert cycles.loc["weekly-gone", "status"] == "lapsed"
    assert cycles.loc["twice", "status"] == "too_few_visits"
    assert cycles.loc["same-day", "visits"] == 3
    expected = (TODAY - timedelta(days=3)).replace(hour=0) + timedelta(days=7)
    assert cycles.loc["weekly-on-time", "expected_next_visit"] == pd.Timestamp(expected)


def test_thresholds_are_configurable_and_checked() -> None:
    strict = visit_cycles(frame(), as_of=TODAY, config=CycleConfig(due_factor=3.0))
    assert "due" not in set(strict["status"])
    with pytest.raises(ValidationError) as caught:
        visit_cycles(frame(), as_of=TODAY, config=CycleConfig(due_factor=2.0, lapsed_factor=1.5))
    assert caught.value.field == "lapsed_factor"


def test_per_category_cycles_key_on_member_and_category() -> None:
    data = frame()
    data["category"] = ["desserts" if i % 2 else "broths" for i in range(len(data))]
    cycles = visit_cycles(data, as_of=TODAY, keys=("member_id", "category"))
    assert set(cycles.columns) >= {"member_id", "category", "status"}
    assert cycles.groupby("member_id").size().max() == 2


def test_gap_histogram_counts_every_gap_once() -> None:
    histogram = gap_histogram(frame())
    # 3 + 3 + 2 + 1 + 2 gaps between consecutive visit days.
    assert sum(b["gaps"] for b in histogram) == 11
    assert histogram[-1]["to_days"] is None


def test_a_missing_column_is_named() -> None:
    with pytest.raises(ValidationError) as caught:
        visit_cycles(pd.DataFrame({"member_id": ["a"]}), as_of=TODAY)
    assert caught.value.field == "ordered_at"


def test_public_surface_is_pinned() -> None:
    import memberops.cycles

    assert memberops.cycles.__all__ == ["CycleConfig", "visit_cycles"]


member_ids = st.sampled_from(["m1", "m2", "m3", "m10", "m2b", None])
visit_rows = st.lists(
    st.tuples(member_ids, st.integers(0, 400), st.integers(0, 23), st.sampled_from("ab")),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(rows=visit_rows, by_category=st.booleans())
def test_cycles_equal_the_grouped_pandas_formulation(
    rows: list[tuple[str | None, int, int, str]], by_category: bool
) -> None:
    data = pd.DataFrame(
        {
            "member_id": [r[0] for r in rows],
            "ordered_at": [TODAY - timedelta(days=r[1], hours=r[2]) for r in rows],
            "category": [r[3] for r in rows],
        }
    )
    keys = ("member_id", "category") if by_category else ("member_id",)
    ours = visit_cycles(data, as_of=TODAY, keys=keys).reset_index(drop=True)
    reference = reference_visit_cycles(data, as_of=TODAY, keys=keys).reset_index(drop=True)
    assert list(ours.columns) == list(reference.columns)
    for column in ours.columns:
        left, right = ours[column], reference[column]
        if column in ("first_visit", "last_visit", "expected_next_visit"):
            left, right = left.astype("datetime64[us, UTC]"), right.astype("datetime64[us, UTC]")
            assert left.equals(right), column
        elif left.dtype.kind == "f" or right.dtype.kind == "f":
            np.testing.assert_allclose(
                left.to_numpy(dtype=float), right.to_numpy(dtype=float), rtol=1e-12, err_msg=column
            )
        else:
            assert left.tolist() == right.tolist(), column


@pytest.mark.parametrize("dtype", ["object", "string[pyarrow]", "str"])
def test_no_visits_give_an_empty_table_and_visits_without_a_member_are_left_out(
    dtype: str,
) -> None:
    empty = pd.DataFrame({"member_id": pd.Series([], dtype=dtype), "ordered_at": []})
    assert visit_cycles(empty, as_of=TODAY).empty
    data = pd.DataFrame(
        {
            "member_id": pd.Series(["b", None, "a", "b"], dtype=dtype),
            "ordered_at": [TODAY - timedelta(days=d) for d in (1, 2, 3, 9)],
        }
    )
    assert visit_cycles(data, as_of=TODAY)["member_id"].tolist() == ["a", "b"]
