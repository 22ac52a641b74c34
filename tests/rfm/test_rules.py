"""RFM scores and segment rules, one test per segment boundary."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memberops.rfm.rules import (
    SEGMENTS,
    RfmConfig,
    level,
    score_value,
    segment_for,
    segment_table,
)


def test_quintile_scores_split_ten_members_two_per_bin() -> None:
    assert [score_value(b, 10, 5) for b in range(10)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_tied_members_share_the_score_of_the_lowest_of_them() -> None:
    # Six of ten members tie at the bottom: all have below = 0.
    assert score_value(0, 10, 5) == 1
    assert score_value(6, 10, 5) == 4


def test_a_single_member_scores_one() -> None:
    assert score_value(0, 1, 5) == 1


@given(st.integers(1, 500), st.integers(2, 10), st.data())
def test_scores_stay_in_range_and_never_fall_as_below_rises(
    n: int, bins: int, data: st.DataObject
) -> None:
    a = data.draw(st.integers(0, n - 1))
    b = data.draw(st.integers(a, n - 1))
    assert 1 <= score_value(a, n, bins) <= score_value(b, n, bins) <= bins


def test_below_outside_the_scope_is_refused() -> None:
    with pytest.raises(ValueError):
        score_value(3, 3, 5)


def test_ten_bins_map_two_scores_to_each_level() -> None:
    assert [level(s, 10) for s in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert [level(s, 5) for s in range(1, 6)] == [1, 2, 3, 4, 5]


def test_bins_outside_two_to_ten_are_refused() -> None:
    assert RfmConfig(bins=1).problems() == [("bins", "must be between 2 and 10")]
    assert RfmConfig(bins=11).problems()
    assert RfmConfig().problems() == []


# ---------------------------------------------------------------- segment boundaries
def test_new_is_recent_with_the_lowest_frequency() -> None:
    assert segment_for(4, 1, 5) == "new"
    assert segment_for(5, 1, 1) == "new"
    assert segment_for(3, 1, 5) != "new"  # R 3 is not recent enough
    assert segment_for(4, 2, 1) != "new"  # a second visit bin is not new


def test_champions_need_r4_and_fm4() -> None:
    assert segment_for(4, 4, 4) == "champions"
    assert segment_for(5, 5, 3) == "champions"  # FM = (5 + 3) // 2 = 4
    assert segment_for(4, 4, 3) == "loyal"  # FM = 3
    assert segment_for(3, 5, 5) == "loyal"  # R = 3


def test_loyal_needs_r3_and_fm3() -> None:
    assert segment_for(3, 3, 3) == "loyal"
    assert segment_for(3, 3, 2) == "potential loyalists"  # FM = 2
    assert segment_for(2, 3, 3) == "at risk"  # R = 2


def test_potential_loyalists_are_recent_with_low_fm() -> None:
    assert segment_for(3, 2, 2) == "potential loyalists"
    assert segment_for(5, 2, 2) == "potential loyalists"
    assert segment_for(2, 2, 2) == "hibernating"


def test_cant_lose_are_lapsing_big_spenders() -> None:
    assert segment_for(2, 4, 4) == "can't lose"
    assert segment_for(1, 5, 5) == "can't lose"
    assert segment_for(2, 4, 3) == "at risk"  # FM = 3


def test_at_risk_is_fm3_with_low_recency() -> None:
    assert segment_for(1, 3, 3) == "at risk"
    assert segment_for(2, 2, 4) == "at risk"


def test_hibernating_is_r2_and_lost_is_r1_with_low_fm() -> None:
    assert segment_for(2, 1, 2) == "hibernating"
    assert segment_for(1, 2, 2) == "lost"
    assert segment_for(1, 1, 1) == "lost"


@pytest.mark.parametrize("bins", range(2, 11))
def test_every_cell_has_a_named_segment(bins: int) -> None:
    table = segment_table(bins)
    assert len(table) == bins**3
    assert set(table.values()) <= set(SEGMENTS)


def test_quintiles_reach_every_segment() -> None:
    assert set(segment_table(5).values()) == set(SEGMENTS)
