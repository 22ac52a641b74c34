"""BG/NBD and Gamma-Gamma: the published CDNOW figures, recovery, gradients, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import approx_fprime, minimize

import memberops.clv
from memberops.clv import BetaGeo, GammaGamma, customer_lifetime_value
from memberops.clv.estimators import collapse_rows
from memberops.clv.likelihood import (
    BetaGeoWeighted,
    GammaGammaWeighted,
    beta_geo_log_likelihood,
    beta_geo_log_likelihood_and_gradient,
    gamma_gamma_log_likelihood,
    gamma_gamma_log_likelihood_and_gradient,
)
from memberops.clv.simulate import simulate_beta_geo, simulate_gamma_gamma
from memberops.errors import ValidationError

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    """The 2,357-customer CDNOW sample over its 39-week calibration period."""
    return pd.read_csv(DATA / "cdnow_customers_summary_with_transactions.csv")


def test_public_surface_is_pinned() -> None:
    assert memberops.clv.__all__ == [
        "BetaGeo",
        "GammaGamma",
        "customer_lifetime_value",
        "split_calibration_holdout",
        "summarise_transactions",
    ]


def test_beta_geo_reproduces_fader_hardie_lee_2005_on_cdnow(cdnow: pd.DataFrame) -> None:
    model = BetaGeo().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert len(cdnow) == 2357
    params = model.params
    # Published to three decimals (Fader, Hardie and Lee 2005, p. 281).
    assert round(params["r"], 3) == 0.243
    assert round(params["alpha"], 3) == 4.414
    assert round(params["a"], 3) == 0.793
    assert round(params["b"], 3) == 2.426
    assert round(model.log_likelihood, 1) == -9582.4
    assert model.converged_


def test_gamma_gamma_reproduces_the_iso_value_paper_on_cdnow_repeat_buyers(
    cdnow: pd.DataFrame,
) -> None:
    model = GammaGamma().fit(cdnow["x"], cdnow["zbar"])
    assert model.n_rows_ == 946
    params = model.params
    # Published as p = 6.25, q = 3.74, gamma = 15.44: within one unit of the last digit
    # (the summary file's zbar is rounded to cents; the maximum is q = 3.7446,
    # gamma = 15.4477).
    assert params["p"] == pytest.approx(6.25, abs=0.01)
    assert params["q"] == pytest.approx(3.74, abs=0.01)
    assert params["gamma"] == pytest.approx(15.44, abs=0.01)


def test_weighted_collapsed_rows_give_the_same_fit(cdnow: pd.DataFrame) -> None:
    full = BetaGeo().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    (x, t_x, big_t), weights = collapse_rows(
        [cdnow["x"].to_numpy(float), cdnow["t_x"].to_numpy(float), cdnow["T"].to_numpy(float)]
    )
    assert len(x) < len(cdnow)
    weighted = BetaGeo().fit(x, t_x, big_t, weights=weights)
    assert weighted.log_likelihood == pytest.approx(full.log_likelihood, abs=1e-6)
    for name, value in full.params.items():
        assert weighted.params[name] == pytest.approx(value, rel=1e-5)


def test_beta_geo_gradient_matches_finite_differences(cdnow: pd.DataFrame) -> None:
    x, t_x, big_t = (cdnow[c].to_numpy(float) for c in ("x", "t_x", "T"))
    point = np.array([0.4, 3.0, 1.3, 2.0])
    _, gradient = beta_geo_log_likelihood_and_gradient(tuple(point), x, t_x, big_t)
    numeric = approx_fprime(
        point, lambda p: beta_geo_log_likelihood(tuple(p), x, t_x, big_t).sum(), 1e-7
    )
    np.testing.assert_allclose(gradient.sum(axis=1), numeric, rtol=1e-4)


def test_weighted_beta_geo_sums_the_rows_and_its_hessian_matches_finite_differences(
    cdnow: pd.DataFrame,
) -> None:
    x, t_x, big_t = (cdnow[c].to_numpy(float) for c in ("x", "t_x", "T"))
    weights = np.random.default_rng(0).uniform(0.5, 2.0, len(x))
    objective = BetaGeoWeighted(x, t_x, big_t, weights)
    for point in (np.array([0.4, 3.0, 1.3, 2.0]), np.array([0.243, 4.414, 0.793, 2.426])):
        value, gradient, hessian = objective.evaluate(tuple(point))
        rows, row_gradient = beta_geo_log_likelihood_and_gradient(tuple(point), x, t_x, big_t)
        assert value == pytest.approx(float(rows @ weights), rel=1e-12)
        np.testing.assert_allclose(gradient, row_gradient @ weights, rtol=1e-9, atol=1e-9)
        numeric = approx_fprime(point, lambda p: objective.evaluate(tuple(p))[0], 1e-7)
        np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-3)
        assert hessian is not None
        np.testing.assert_allclose(hessian, hessian.T)
        central = np.empty((4, 4))
        for j in range(4):
            shift = np.zeros(4)
            shift[j] = 1e-6 * point[j]
            up = objective.evaluate(tuple(point + shift), hessian=False)[1]
            down = objective.evaluate(tuple(point - shift), hessian=False)[1]
            central[:, j] = (up - down) / (2 * shift[j])
        np.testing.assert_allclose(hessian, central, rtol=1e-6, atol=1e-6 * np.abs(hessian).max())


def test_newton_fit_lands_on_the_maximum_a_tight_quasi_newton_fit_finds() -> None:
    # Whole days and more distinct rows than the sampled start uses: the path of the
    # million-member fit.
    rng = np.random.default_rng(8)
    observed = rng.integers(30, 730, size=120_000).astype(np.float64)
    x, recency, big_t = simulate_beta_geo(
        120_000, r=0.243, alpha=30.9, a=0.793, b=2.426, T=observed, seed=9
    )
    recency = np.floor(recency)
    model = BetaGeo().fit(x, recency, big_t)
    assert model.converged_ and model.n_distinct_rows_ > 40_000
    (cx, ct, cbig_t), weights = collapse_rows([x, recency, big_t])
    objective = BetaGeoWeighted(cx, ct, cbig_t, weights)
    fitted = np.array([model.params[name] for name in ("r", "alpha", "a", "b")])
    value, gradient, _ = objective.evaluate(tuple(fitted), hessian=False)
    assert value == pytest.approx(model.log_likelihood, abs=1e-6)
    # At the maximum the gradient in log-parameters vanishes, per customer.
    assert np.max(np.abs(gradient * fitted)) / len(x) < 1e-9

    def negative(theta: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(theta)
        v, g, _ = objective.evaluate(tuple(params), hessian=False)
        return -v / len(x), -g * params / len(x)

    tight = minimize(
        negative,
        np.log([1.0, 100.0, 1.0, 1.0]),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 5000},
    )
    np.testing.assert_allclose(fitted, np.exp(tight.x), rtol=1e-5)
    assert model.log_likelihood >= -tight.fun * len(x) - 1e-7


def test_integer_weights_fit_as_the_expanded_rows() -> None:
    rng = np.random.default_rng(4)
    observed = rng.integers(30, 400, size=30_000).astype(np.float64)
    x, recency, big_t = simulate_beta_geo(
        30_000, r=1.5, alpha=20.0, a=2.0, b=6.0, T=observed, seed=4
    )
    recency = np.floor(recency)
    weights = rng.integers(1, 4, size=len(x))
    expanded = BetaGeo().fit(*(np.repeat(c, weights) for c in (x, recency, big_t)))
    weighted = BetaGeo().fit(x, recency, big_t, weights=weights)
    assert weighted.log_likelihood == pytest.approx(expanded.log_likelihood, rel=1e-12)
    for name, value in expanded.params.items():
        assert weighted.params[name] == pytest.approx(value, rel=1e-8)


@pytest.mark.parametrize("high", [5, 400])
@pytest.mark.parametrize("weighted", [False, True])
def test_collapsing_whole_numbers_matches_sorting_the_rows(high: int, weighted: bool) -> None:
    # A narrow range of whole numbers is counted, a wide one packed and sorted; fractional
    # columns take the row sort. All give the distinct rows in order, weights summed.
    rng = np.random.default_rng(high)
    columns = [rng.integers(0, high, size=5_000).astype(np.float64) for _ in range(3)]
    columns[1] -= 7.0
    weights = rng.uniform(0.0, 2.0, size=5_000) if weighted else None
    fractional = [*columns[:2], columns[2] + 0.5]
    for cols in (columns, fractional):
        distinct, summed = collapse_rows(cols, weights)
        rows, inverse = np.unique(np.column_stack(cols), axis=0, return_inverse=True)
        for i, column in enumerate(distinct):
            np.testing.assert_array_equal(column, rows[:, i])
        np.testing.assert_allclose(summed, np.bincount(inverse.ravel(), weights=weights))


def test_gamma_gamma_gradient_matches_finite_differences(cdnow: pd.DataFrame) -> None:
    repeat = cdnow[cdnow["x"] > 0]
    x, m = repeat["x"].to_numpy(float), repeat["zbar"].to_numpy(float)
    point = np.array([5.0, 3.0, 12.0])
    _, gradient = gamma_gamma_log_likelihood_and_gradient(tuple(point), x, m)
    numeric = approx_fprime(point, lambda p: gamma_gamma_log_likelihood(tuple(p), x, m).sum(), 1e-7)
    np.testing.assert_allclose(gradient.sum(axis=1), numeric, rtol=1e-4)


def test_weighted_gamma_gamma_sums_the_rows_and_its_hessian_matches_finite_differences(
    cdnow: pd.DataFrame,
) -> None:
    repeat = cdnow[cdnow["x"] > 0]
    x, m = repeat["x"].to_numpy(float), repeat["zbar"].to_numpy(float)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, len(x))
    objective = GammaGammaWeighted(x, m, weights)
    point = np.array([5.0, 3.0, 12.0])
    value, gradient, hessian = objective.evaluate(tuple(point))
    rows, row_gradient = gamma_gamma_log_likelihood_and_gradient(tuple(point), x, m)
    assert value == pytest.approx(float(rows @ weights), rel=1e-12)
    np.testing.assert_allclose(gradient, row_gradient @ weights, rtol=1e-9, atol=1e-9)
    assert hessian is not None
    central = np.empty((3, 3))
    for j in range(3):
        shift = np.zeros(3)
        shift[j] = 1e-6 * point[j]
        up = objective.evaluate(tuple(point + shift), hessian=False)[1]
        down = objective.evaluate(tuple(point - shift), hessian=False)[1]
        central[:, j] = (up - down) / (2 * shift[j])
    np.testing.assert_allclose(hessian, central, rtol=1e-6, atol=1e-6 * np.abs(hessian).max())
    # The fit stops where the gradient vanishes.
    model = GammaGamma().fit(repeat["x"], repeat["zbar"], weights=weights)
    fitted = np.array([model.params[name] for name in ("p", "q", "gamma")])
    _, at_fit, _ = objective.evaluate(tuple(fitted), hessian=False)
    assert model.converged_
    assert np.max(np.abs(at_fit * fitted)) / weights.sum() < 1e-9


@pytest.mark.parametrize(
    "truth",
    [
        {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
        {"r": 1.5, "alpha": 20.0, "a": 2.0, "b": 6.0},
    ],
)
def test_beta_geo_recovers_simulated_parameters(truth: dict[str, float]) -> None:
    frequency, recency, big_t = simulate_beta_geo(100_000, T=52.0, seed=3, **truth)
    model = BetaGeo().fit(frequency, recency, big_t)
    for name, value in truth.items():
        assert model.params[name] == pytest.approx(value, rel=0.12), name


def test_gamma_gamma_recovers_simulated_parameters() -> None:
    frequency, _, _ = simulate_beta_geo(60_000, r=1.5, alpha=20.0, a=2.0, b=6.0, T=52.0, seed=5)
    spend = simulate_gamma_gamma(frequency, p=6.25, q=3.74, gamma=15.44, seed=6)
    model = GammaGamma().fit(frequency, spend)
    assert model.params["p"] == pytest.approx(6.25, rel=0.1)
    assert model.params["q"] == pytest.approx(3.74, rel=0.1)
    assert model.params["gamma"] == pytest.approx(15.44, rel=0.15)


def test_expected_purchases_agree_with_the_simulated_mean() -> None:
    truth = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    frequency, _, _ = simulate_beta_geo(200_000, T=39.0, seed=11, **truth)
    model = BetaGeo()
    model.params_ = truth
    assert float(model.expected_purchases(39.0)) == pytest.approx(frequency.mean(), rel=0.03)
    # The count distribution sums to one and its first moment is E[X(t)].
    probabilities = [model.purchase_count_probability(n, 39.0) for n in range(200)]
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-6)
    mean = sum(n * p for n, p in enumerate(probabilities))
    assert mean == pytest.approx(float(model.expected_purchases(39.0)), rel=1e-3)


def test_a_customer_without_repeats_is_alive_and_a_long_silence_lowers_it(
    cdnow: pd.DataFrame,
) -> None:
    model = BetaGeo().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    alive = model.probability_alive([0, 5, 5], [0, 38.0, 5.0], [38.86, 38.86, 38.86])
    assert alive[0] == 1.0
    assert alive[1] > 0.8 > 0.2 > alive[2]
    expected = model.conditional_expected_purchases(39.0, [5, 5], [38.0, 5.0], [38.86, 38.86])
    assert expected[0] > expected[1] > 0


def test_clv_discounting_lowers_value_and_longer_horizons_raise_it(
    cdnow: pd.DataFrame,
) -> None:
    bg = BetaGeo().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    gg = GammaGamma().fit(cdnow["x"], cdnow["zbar"])
    args = (cdnow["x"], cdnow["t_x"], cdnow["T"], cdnow["zbar"])
    undiscounted = customer_lifetime_value(
        bg, gg, *args, periods=12, period_length=4.345, discount_rate=0.0
    )
    discounted = customer_lifetime_value(
        bg, gg, *args, periods=12, period_length=4.345, discount_rate=0.01
    )
    longer = customer_lifetime_value(
        bg, gg, *args, periods=24, period_length=4.345, discount_rate=0.01
    )
    assert np.all(discounted <= undiscounted) and np.all(longer >= discounted)
    spend = gg.conditional_expected_spend(cdnow["x"], cdnow["zbar"])
    visits = bg.conditional_expected_purchases(12 * 4.345, cdnow["x"], cdnow["t_x"], cdnow["T"])
    np.testing.assert_allclose(undiscounted, spend * visits, rtol=1e-9)


def test_json_round_trip_keeps_predictions_and_refuses_another_model(
    cdnow: pd.DataFrame, tmp_path: Path
) -> None:
    model = BetaGeo().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    path = tmp_path / "bg.json"
    model.save(path)
    loaded = BetaGeo.load(path)
    assert loaded.params == model.params
    np.testing.assert_array_equal(
        loaded.probability_alive(cdnow["x"], cdnow["t_x"], cdnow["T"]),
        model.probability_alive(cdnow["x"], cdnow["t_x"], cdnow["T"]),
    )
    with pytest.raises(ValidationError, match="model"):
        GammaGamma.load(path)
    stale = model.to_dict() | {"format_version": 0}
    with pytest.raises(ValidationError, match="format_version"):
        BetaGeo.from_dict(stale)


def test_predicting_before_fitting_is_refused() -> None:
    with pytest.raises(ValidationError, match="fit or load"):
        BetaGeo().expected_purchases(10.0)


@pytest.mark.parametrize(
    ("frequency", "recency", "big_t", "field"),
    [
        ([1, 2], [3.0, 1.0], [2.0, 5.0], "recency"),
        ([0], [1.0], [5.0], "recency"),
        ([1, float("nan")], [1.0, 1.0], [5.0, 5.0], "frequency"),
    ],
)
def test_impossible_summaries_are_refused_naming_the_field(
    frequency: list[float], recency: list[float], big_t: list[float], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        BetaGeo().fit(frequency, recency, big_t)
    assert caught.value.field == field
