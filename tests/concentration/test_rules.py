"""Gini, the concentration curve and the top share: exact on integer cents."""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memberops.concentration.rules import (
    concentration,
    concentration_curve,
    gini,
    top_count,
    top_share,
)

spends = st.lists(st.integers(0, 10**9), min_size=1, max_size=300)


@given(st.integers(1, 10**9), st.integers(1, 500))
def test_equal_spends_have_gini_zero(amount: int, n: int) -> None:
    assert gini([amount] * n) == 0.0


@given(st.integers(1, 10**9), st.integers(1, 500))
def test_one_spender_has_gini_n_minus_one_over_n(amount: int, n: int) -> None:
    assert gini([0] * (n - 1) + [amount]) == pytest.approx((n - 1) / n, rel=1e-12)


@given(spends)
def test_gini_is_between_zero_and_one_and_ignores_order(values: list[int]) -> None:
    g = gini(values)
    assert 0.0 <= g < 1.0
    assert gini(list(reversed(values))) == g


@given(spends)
def test_curve_is_monotone_and_ends_at_one(values: list[int]) -> None:
    curve = concentration_curve(values)
    assert len(curve) == 100
    assert all(a <= b for a, b in pairwise(curve))
    assert curve[-1] == 1.0 or sum(values) == 0
    # The top p% hold at least p% of revenue (they are the biggest spenders).
    assert all(share >= p / 100 - 1e-12 for p, share in enumerate(curve, start=1))


def test_known_chain_values() -> None:
    values = [50000, 1500, 18000, 32000, 1000]
    assert gini(values) == pytest.approx(257000 / 512500, rel=1e-15)
    assert top_share(values, 0.2) == pytest.approx(50000 / 102500)
    curve = concentration_curve(values)
    assert curve[19] == pytest.approx(50000 / 102500)  # top 20% = 1 member
    assert curve[20] == pytest.approx(82000 / 102500)  # top 21% rounds up to 2 members
    assert curve[39] == pytest.approx(82000 / 102500)


def test_no_revenue_is_no_concentration() -> None:
    assert gini([0, 0]) == 0.0 and gini([]) == 0.0
    assert concentration_curve([0, 0], [50, 100]) == [0.5, 1.0]
    assert top_share([0, 0]) == 0.0


def test_negative_spend_counts_as_zero() -> None:
    assert gini([-500, 1000]) == gini([0, 1000])


def test_top_count_rounds_up_on_a_decimal_grid() -> None:
    assert top_count(10, 0.2) == 2
    assert top_count(11, 0.2) == 3
    assert top_count(5, 0.2) == 1
    assert top_count(0, 0.2) == 0
    with pytest.raises(ValueError):
        top_count(10, 0)


@given(st.lists(st.integers(-1000, 10**6), min_size=1, max_size=60))
def test_gini_is_the_mean_absolute_difference_over_twice_the_mean(values: list[int]) -> None:
    clean = [max(v, 0) for v in values]
    n, total = len(clean), sum(clean)
    pairs = sum(abs(a - b) for a in clean for b in clean)
    expected = 0.0 if total == 0 else float(Fraction(pairs, 2 * n * total))
    assert gini(values) == expected


@given(spends, st.sampled_from([0.05, 0.2, 0.5, 1.0]))
def test_one_sort_gives_the_same_measures_as_each_function(values: list[int], share: float) -> None:
    measures = concentration(values, share=share)
    assert measures.members == len(values)
    assert measures.revenue_cents == sum(values)
    assert measures.gini == gini(values)
    assert measures.top_share == top_share(values, share)
    assert measures.curve == concentration_curve(values)
