"""BG/NBD and Gamma-Gamma estimators in the shape analysts know from lifetimes.

    >>> from memberops.clv import BetaGeo
    >>> model = BetaGeo().fit(frequency, recency, T)      # doctest: +SKIP
    >>> model.params                                       # doctest: +SKIP
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}

`fit` returns the model; fitted state ends in `_` (`params_`, `log_likelihood_`), with
`params` and `log_likelihood` as read-only aliases. Fitting is maximum likelihood on the
sufficient statistics: identical rows are collapsed into one weighted row first (a chain
with a million members has far fewer distinct (x, t_x, T) triples), then Newton's method
runs on log-parameters with the analytic gradient and Hessian from `likelihood.py`
(damped where the Hessian is not negative definite; L-BFGS-B takes over if it does not
converge). On many rows the BG/NBD fit starts from a fit on a sample of them.

Persistence is JSON (params + config + format version), never pickle: `to_json` /
`from_json` and `save` / `load`; loading a different model or version is refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

from memberops.clv.likelihood import (
    BetaGeoWeighted,
    GammaGammaWeighted,
    beta_geo_log_likelihood_and_gradient,
)
from memberops.errors import ValidationError

__all__ = [
    "FORMAT_VERSION",
    "BetaGeo",
    "GammaGamma",
    "NotFitted",
    "collapse_rows",
    "customer_lifetime_value",
]

FloatArray = NDArray[np.float64]

# Bumped when the JSON layout or the meaning of a parameter changes.
FORMAT_VERSION = 1

# Log-parameters stay in [-20, 20]: exp(+-20) covers every published fit by far and keeps
# L-BFGS-B from wandering into overflow on degenerate data.
_LOG_BOUND = 20.0

# Above this many distinct rows, the BG/NBD fit starts from a fit on a sample of them.
_SAMPLE_ROWS = 20_000

_Evaluated = tuple[float, NDArray[np.float64], NDArray[np.float64] | None]
_Evaluate = Callable[[NDArray[np.float64], bool], _Evaluated]


class NotFitted(ValidationError):
    """A prediction was asked of a model that has not been fitted or loaded."""

    def __init__(self, model: str) -> None:
        super().__init__(model, "params", "fit or load the model first")


def _column(name: str, values: ArrayLike) -> FloatArray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(array)):
        raise ValidationError("summary", name, "must be finite numbers (no blanks or NaN)")
    return array


_Decoder = float | FloatArray


def _integer_key(
    columns: Sequence[FloatArray],
) -> tuple[NDArray[np.signedinteger[Any]], list[_Decoder], list[int]] | None:
    """Rows packed into one integer each, with each column's decoder (its offset, for
    whole numbers such as counts and days; its sorted distinct values, for fractional
    ones, coded by rank) and span to unpack it; None when the packed range would
    overflow. The key is int32 when it fits: it sorts twice as fast."""
    codes: list[NDArray[np.int64]] = []
    decoders: list[_Decoder] = []
    spans: list[int] = []
    for column in columns:
        low, high = float(column.min()), float(column.max())
        if high - low < 2.0**53:
            offset = column - low
            code = offset.astype(np.int64)
            if np.array_equal(code, offset):
                codes.append(code)
                decoders.append(low)
                spans.append(int(high - low) + 1)
                continue
        levels, rank = np.unique(column, return_inverse=True)
        codes.append(rank.astype(np.int64).ravel())
        decoders.append(levels)
        spans.append(len(levels))
    product = float(np.prod(np.array(spans, dtype=np.float64)))
    if product >= 2.0**62:
        return None
    key = codes[0]
    for code, span in zip(codes[1:], spans[1:], strict=True):
        key = key * span + code
    if product < 2.0**31:
        return key.astype(np.int32), decoders, spans
    return key, decoders, spans


def _unpack(
    key: NDArray[np.signedinteger[Any]], decoders: list[_Decoder], spans: list[int]
) -> list[FloatArray]:
    """The columns packed by `_integer_key`, back as floats."""
    out: list[FloatArray] = []
    remainder = key
    for decoder, span in zip(decoders[::-1], spans[::-1], strict=True):
        remainder, digit = np.divmod(remainder, span)
        if isinstance(decoder, float):
            out.append(digit.astype(np.float64) + decoder)
        else:
            out.append(decoder[digit])
    return out[::-1]


def collapse_rows(
    columns: Sequence[FloatArray], weights: FloatArray | None = None
) -> tuple[list[FloatArray], FloatArray]:
    """Identical rows collapsed into one row each, their weights summed.

    Returns the distinct rows (one array per column, in sorted order) and their weights.
    """
    n = len(columns[0]) if columns else 0
    if n == 0:
        return [c.copy() for c in columns], (np.ones(0) if weights is None else weights.copy())
    packed = _integer_key(columns)
    if packed is not None:
        # One integer sort instead of a lexicographic sort of float rows: several times
        # faster on a million members (counts and days are whole numbers; a fractional
        # column such as mean spend is ranked first).
        key, decoders, spans = packed
        distinct_key: NDArray[np.signedinteger[Any]]
        key_span = int(np.prod(np.array(spans, dtype=np.int64)))
        if key_span <= max(4 * n, 1 << 16):
            # A narrow key range (one or two short columns) is counted, not sorted.
            counted = np.bincount(key, weights=weights, minlength=key_span)
            present = (
                np.bincount(key, minlength=key_span) > 0 if weights is not None else counted > 0
            )
            distinct_key = np.flatnonzero(present)
            summed = counted[present].astype(np.float64)
            return _unpack(distinct_key, decoders, spans), summed
        order = np.argsort(key) if weights is not None else None
        ordered_key = key[order] if order is not None else np.sort(key)
        starts = np.empty(n, dtype=bool)
        starts[0] = True
        np.not_equal(ordered_key[1:], ordered_key[:-1], out=starts[1:])
        distinct_key = ordered_key[starts]
        if weights is None:
            summed = np.diff(np.append(np.flatnonzero(starts), n)).astype(np.float64)
        else:
            assert order is not None
            summed = np.bincount(np.cumsum(starts) - 1, weights=weights[order]).astype(np.float64)
        return _unpack(distinct_key, decoders, spans), summed
    stacked = np.column_stack(columns)
    w = np.ones(n) if weights is None else weights
    order = np.lexsort(stacked.T[::-1])
    ordered = stacked[order]
    starts = np.empty(n, dtype=bool)
    starts[0] = True
    np.any(ordered[1:] != ordered[:-1], axis=1, out=starts[1:])
    summed = np.bincount(np.cumsum(starts) - 1, weights=w[order]).astype(np.float64)
    distinct = ordered[starts]
    return [distinct[:, i].copy() for i in range(distinct.shape[1])], summed


def _maximise(
    objective: Callable[[tuple[float, ...]], tuple[float, FloatArray]],
    start: FloatArray,
    tol: float,
) -> tuple[FloatArray, bool, int]:
    """Maximise a weighted mean log-likelihood over log-parameters with L-BFGS-B."""

    def negative(log_params: FloatArray) -> tuple[float, FloatArray]:
        params = np.exp(log_params)
        value, gradient = objective(tuple(float(p) for p in params))
        # Chain rule to log-parameters: d/d(log p) = p * d/dp.
        return -value, -gradient * params

    result = minimize(
        negative,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(-_LOG_BOUND, _LOG_BOUND)] * len(start),
        options={"gtol": tol, "ftol": tol * 1e-4, "maxiter": 2000},
    )
    return np.exp(result.x), bool(result.success), int(result.nit)


def _newton(
    evaluate: Callable[[FloatArray, bool], tuple[float, FloatArray, FloatArray | None]],
    start: FloatArray,
    *,
    step_tol: float = 1e-6,
    max_iter: int = 100,
) -> tuple[FloatArray, float, bool, int]:
    """Maximise over log-parameters by Newton's method with Levenberg-Marquardt damping.

    `evaluate(params, hessian)` gives the objective, its gradient and (if asked) Hessian
    in the parameters themselves. A step is taken only when it does not lower the
    objective; otherwise the damping grows. Converged when an undamped Newton step moves
    no log-parameter by more than `step_tol` (quadratic convergence then leaves the
    parameters within about its square of the optimum). Not converged when it runs out
    of iterations or into the log-parameter bounds; the caller then falls back to
    L-BFGS-B. Returns the log-parameters, the objective there, convergence, iterations.
    """

    def in_logs(theta: FloatArray, second: bool = True) -> tuple[float, FloatArray, FloatArray]:
        params = np.exp(theta)
        value, gradient, hessian = evaluate(params, second)
        if hessian is None:
            return value, gradient * params, np.full((len(theta), len(theta)), np.nan)
        # d/d(log p) = p d/dp; the second derivative adds p * gradient on the diagonal.
        return (
            value,
            gradient * params,
            hessian * np.outer(params, params) + np.diag(gradient * params),
        )

    theta = start.copy()
    value, gradient, hessian = in_logs(theta)
    damping = 0.0
    for iteration in range(1, max_iter + 1):
        if not (np.isfinite(value) and np.all(np.isfinite(hessian))):
            return theta, value, False, iteration
        curvature = -hessian
        scale = np.maximum(np.abs(np.diag(curvature)), 1e-12)
        while True:
            try:
                factor = np.linalg.cholesky(curvature + damping * np.diag(scale))
            except np.linalg.LinAlgError:
                damping = max(10.0 * damping, 1e-3)
                if damping > 1e12:
                    return theta, value, False, iteration
                continue
            step = np.linalg.solve(factor.T, np.linalg.solve(factor, gradient))
            # No step of more than e^2 in any parameter: the quadratic model is local.
            step *= min(1.0, 2.0 / max(float(np.max(np.abs(step))), 1e-300))
            trial = np.clip(theta + step, -_LOG_BOUND, _LOG_BOUND)
            # After an undamped step this short, the next would be about its square: the
            # point is only checked, with no Hessian, and is the optimum.
            last = damping == 0.0 and float(np.max(np.abs(step))) <= step_tol
            new_value, new_gradient, new_hessian = in_logs(trial, not last)
            if np.isfinite(new_value) and new_value >= value - 1e-15 * abs(value):
                break
            if last:  # rounding noise at the optimum: stay
                return theta, value, True, iteration
            damping = max(10.0 * damping, 1e-3)
            if damping > 1e12:
                return theta, value, False, iteration
        theta, value, gradient, hessian = trial, new_value, new_gradient, new_hessian
        damping = 0.0 if damping < 1e-2 else damping / 10.0
        if np.any(np.abs(theta) >= _LOG_BOUND):
            return theta, value, False, iteration
        if last:
            return theta, value, True, iteration
    return theta, value, False, max_iter


class _Model:
    """What both estimators share: fitted state, JSON persistence."""

    _param_names: ClassVar[tuple[str, ...]] = ()
    _name: ClassVar[str] = ""

    def __init__(self, *, tol: float = 1e-8) -> None:
        self.tol = tol
        self.params_: dict[str, float] | None = None
        self.log_likelihood_: float | None = None
        self.n_rows_: int | None = None
        self.n_distinct_rows_: int | None = None
        self.converged_: bool | None = None
        self.iterations_: int | None = None

    @property
    def params(self) -> dict[str, float]:
        """The fitted parameters by name."""
        if self.params_ is None:
            raise NotFitted(self._name)
        return dict(self.params_)

    @property
    def log_likelihood(self) -> float:
        """The total log-likelihood at the fitted parameters (weights included)."""
        if self.log_likelihood_ is None:
            raise NotFitted(self._name)
        return self.log_likelihood_

    def _values(self) -> tuple[float, ...]:
        params = self.params
        return tuple(params[name] for name in self._param_names)

    def to_dict(self) -> dict[str, Any]:
        """Params, config and format version, as stored by `save`."""
        return {
            "model": self._name,
            "format_version": FORMAT_VERSION,
            "params": self.params,
            "log_likelihood": self.log_likelihood_,
            "config": {"tol": self.tol},
            "fit": {
                "rows": self.n_rows_,
                "distinct_rows": self.n_distinct_rows_,
                "converged": self.converged_,
                "iterations": self.iterations_,
            },
        }

    def to_json(self) -> str:
        """The model as JSON text."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """A model from `to_dict` output; refuses another model or format version."""
        if data.get("model") != cls._name:
            raise ValidationError("model file", "model", f"is not a {cls._name} model")
        if data.get("format_version") != FORMAT_VERSION:
            raise ValidationError(
                "model file", "format_version", f"this version reads format {FORMAT_VERSION}"
            )
        params = data.get("params") or {}
        if sorted(params) != sorted(cls._param_names):
            raise ValidationError(
                "model file", "params", f"needs exactly {', '.join(cls._param_names)}"
            )
        model = cls(**data.get("config", {}))
        model.params_ = {name: float(params[name]) for name in cls._param_names}
        ll = data.get("log_likelihood")
        model.log_likelihood_ = None if ll is None else float(ll)
        fit = data.get("fit") or {}
        model.n_rows_ = fit.get("rows")
        model.n_distinct_rows_ = fit.get("distinct_rows")
        model.converged_ = fit.get("converged")
        model.iterations_ = fit.get("iterations")
        return model

    @classmethod
    def from_json(cls, text: str) -> Self:
        """A model from `to_json` output."""
        return cls.from_dict(json.loads(text))

    def save(self, path: str | Path) -> None:
        """Write the model as JSON."""
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a model written by `save`."""
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    def __repr__(self) -> str:
        if self.params_ is None:
            return f"{type(self).__name__}(unfitted)"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{type(self).__name__}({shown}, log_likelihood={self.log_likelihood_:.2f})"


class BetaGeo(_Model):
    """The BG/NBD model: purchases at Poisson rate lambda ~ Gamma(r, alpha) while alive,
    dropping out after each purchase with probability p ~ Beta(a, b).

    Time is in whatever unit `recency` and `T` use (weeks for the CDNOW results, days for
    the live chain); horizons `t` are in the same unit.
    """

    _param_names = ("r", "alpha", "a", "b")
    _name = "BetaGeo"

    def fit(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,  # noqa: N803 - T is the paper's and lifetimes' name
        weights: ArrayLike | None = None,
    ) -> Self:
        """Fit by maximum likelihood; returns self.

        frequency: repeat purchases x; recency: time of the last purchase t_x (0 if none),
        measured from the first purchase; T: time from the first purchase to the end of
        observation; weights: how many customers each row stands for (default 1).
        """
        x = _column("frequency", frequency)
        t_x = _column("recency", recency)
        big_t = _column("T", T)
        if not (len(x) == len(t_x) == len(big_t)):
            raise ValidationError("summary", "frequency/recency/T", "must have the same length")
        if len(x) == 0:
            raise ValidationError("summary", "frequency", "no customers to fit")
        if np.any(x < 0) or np.any(t_x < 0) or np.any(t_x > big_t):
            raise ValidationError(
                "summary", "recency", "needs 0 <= recency <= T and frequency >= 0"
            )
        if np.any((x == 0) & (t_x != 0)):
            raise ValidationError("summary", "recency", "must be 0 when frequency is 0")
        w = None if weights is None else _column("weights", weights)
        n_rows = len(x)
        (x, t_x, big_t), w_sum = collapse_rows([x, t_x, big_t], w)
        total_weight = float(w_sum.sum())
        full = BetaGeoWeighted(x, t_x, big_t, w_sum)

        def on(data: BetaGeoWeighted) -> _Evaluate:
            scale = data.total_weight

            def evaluate(params: FloatArray, hessian: bool) -> _Evaluated:
                value, gradient, second = data.evaluate(
                    (float(params[0]), float(params[1]), float(params[2]), float(params[3])),
                    hessian=hessian,
                )
                return value / scale, gradient / scale, None if second is None else second / scale

            return evaluate

        # Start from the data: alpha at the scale of T, r = a = b = 1. On many rows,
        # Newton first runs on a systematic sample of them (every k-th distinct row, x
        # sorted first, so each purchase count keeps its share), which leaves a few
        # full-data steps from close to the optimum.
        scale = max(float(np.average(big_t, weights=w_sum)), 1e-6)
        start = np.log(np.array([1.0, scale, 1.0, 1.0]))
        stride = len(x) // _SAMPLE_ROWS
        if stride >= 2:
            pick = np.zeros(len(x), dtype=bool)
            pick[::stride] = True
            pick |= x == 0
            sample_w = w_sum[pick] * np.where(x[pick] > 0, stride, 1.0)
            sample = BetaGeoWeighted(x[pick], t_x[pick], big_t[pick], sample_w)
            near, _, near_ok, _ = _newton(on(sample), start, step_tol=1e-3)
            if near_ok:
                start = near
        evaluate = on(full)
        fitted, mean_ll, converged, iterations = _newton_then_quasi_newton(
            evaluate, start, self.tol
        )
        self.params_ = dict(zip(self._param_names, (float(v) for v in fitted), strict=True))
        self.log_likelihood_ = mean_ll * total_weight
        self.n_rows_ = n_rows
        self.n_distinct_rows_ = len(x)
        self.converged_ = converged
        self.iterations_ = iterations
        return self

    def log_likelihood_of(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,  # noqa: N803
    ) -> FloatArray:
        """Per-customer log-likelihood at the fitted parameters."""
        r, alpha, a, b = self._values()
        ll, _ = beta_geo_log_likelihood_and_gradient(
            (r, alpha, a, b),
            _column("frequency", frequency),
            _column("recency", recency),
            _column("T", T),
        )
        return ll

    def expected_purchases(self, t: ArrayLike) -> FloatArray:
        """E[X(t)]: expected purchases in (0, t] by a customer just acquired (eq. 7)."""
        r, alpha, a, b = self._values()
        tt = np.asarray(t, dtype=np.float64)
        z = tt / (alpha + tt)
        hyp = hyp2f1(r, b, a + b - 1.0, z)
        value = (a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + tt)) ** r * hyp)
        return np.asarray(value, dtype=np.float64)

    def conditional_expected_purchases(
        self,
        t: ArrayLike,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,  # noqa: N803
    ) -> FloatArray:
        """E[Y(t) | x, t_x, T]: expected purchases in the next t of each customer (eq. 10)."""
        r, alpha, a, b = self._values()
        x = _column("frequency", frequency)
        t_x = _column("recency", recency)
        big_t = _column("T", T)
        tt = np.asarray(t, dtype=np.float64)
        z = tt / (alpha + big_t + tt)
        hyp = hyp2f1(r + x, b + x, a + b + x - 1.0, z)
        ratio = (alpha + big_t) / (alpha + big_t + tt)
        numerator = (a + b + x - 1.0) / (a - 1.0) * (1.0 - ratio ** (r + x) * hyp)
        return np.asarray(numerator * self._alive_factor(x, t_x, big_t), dtype=np.float64)

    def probability_alive(
        self,
        frequency: ArrayLike,
        recency: ArrayLike,
        T: ArrayLike,  # noqa: N803
    ) -> FloatArray:
        """P(alive | x, t_x, T) (Fader, Hardie and Lee 2005, eq. 11 note)."""
        return self._alive_factor(
            _column("frequency", frequency), _column("recency", recency), _column("T", T)
        )

    def _alive_factor(self, x: FloatArray, t_x: FloatArray, big_t: FloatArray) -> FloatArray:
        r, alpha, a, b = self._values()
        repeat = x > 0
        x_safe = np.where(repeat, x, 1.0)
        # (a/(b+x-1)) * ((alpha+T)/(alpha+t_x))^(r+x), in logs to avoid overflow.
        log_odds = (
            np.log(a)
            - np.log(b + x_safe - 1.0)
            + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        )
        odds_term = np.where(repeat, log_odds, -np.inf)
        return np.asarray(1.0 / (1.0 + np.exp(odds_term)), dtype=np.float64)

    def purchase_count_probability(self, n: int, t: float) -> float:
        """P(X(t) = n) for a customer just acquired (eq. 8), used by calibration plots."""
        r, alpha, a, b = self._values()
        log_first = (
            betaln(a, b + n)
            - betaln(a, b)
            + gammaln(r + n)
            - gammaln(r)
            - gammaln(n + 1.0)
            + r * np.log(alpha / (alpha + t))
            + n * np.log(t / (alpha + t))
        )
        value = float(np.exp(log_first))
        if n > 0:
            js = np.arange(n, dtype=np.float64)
            log_terms = (
                gammaln(r + js)
                - gammaln(r)
                - gammaln(js + 1.0)
                + r * np.log(alpha / (alpha + t))
                + js * np.log(t / (alpha + t))
            )
            tail = 1.0 - float(np.exp(log_terms).sum())
            value += float(np.exp(betaln(a + 1.0, b + n - 1.0) - betaln(a, b))) * tail
        return value


class GammaGamma(_Model):
    """The Gamma-Gamma spend model: transaction values ~ Gamma(p, nu), nu ~ Gamma(q, gamma).

    Fitted on repeat buyers only (frequency > 0); their `monetary_value` is the mean value
    of the repeat transactions. Assumes spend is independent of purchase frequency.
    """

    _param_names = ("p", "q", "gamma")
    _name = "GammaGamma"

    def fit(
        self,
        frequency: ArrayLike,
        monetary_value: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> Self:
        """Fit on the repeat buyers among the rows; returns self."""
        x_all = _column("frequency", frequency)
        m_all = _column("monetary_value", monetary_value)
        if len(x_all) != len(m_all):
            raise ValidationError("summary", "monetary_value", "must match frequency in length")
        w_all = np.ones(len(x_all)) if weights is None else _column("weights", weights)
        repeat = x_all > 0
        if np.any(m_all[repeat] <= 0):
            raise ValidationError(
                "summary", "monetary_value", "must be positive for every repeat buyer"
            )
        if not np.any(repeat):
            raise ValidationError("summary", "frequency", "no repeat buyers to fit spend on")
        (x, m), w_sum = collapse_rows([x_all[repeat], m_all[repeat]], w_all[repeat])
        total_weight = float(w_sum.sum())
        data = GammaGammaWeighted(x, m, w_sum)

        def evaluate(params: FloatArray, hessian: bool) -> _Evaluated:
            value, gradient, second = data.evaluate(
                (float(params[0]), float(params[1]), float(params[2])), hessian=hessian
            )
            return (
                value / total_weight,
                gradient / total_weight,
                None if second is None else second / total_weight,
            )

        # Start at p = q = 1 and gamma at the mean spend (the scale of the data).
        start = np.log(np.array([1.0, 1.0, max(float(np.average(m, weights=w_sum)), 1e-6)]))
        fitted, mean_ll, converged, iterations = _newton_then_quasi_newton(
            evaluate, start, self.tol
        )
        self.params_ = dict(zip(self._param_names, (float(v) for v in fitted), strict=True))
        self.log_likelihood_ = mean_ll * total_weight
        self.n_rows_ = int(repeat.sum())
        self.n_distinct_rows_ = len(x)
        self.converged_ = converged
        self.iterations_ = iterations
        return self

    def mean_spend(self) -> float:
        """Population mean transaction value, p*gamma/(q-1) (infinite when q <= 1)."""
        p, q, v = self._values()
        return float(p * v / (q - 1.0)) if q > 1.0 else float("inf")

    def conditional_expected_spend(
        self, frequency: ArrayLike, monetary_value: ArrayLike
    ) -> FloatArray:
        """E[Z | x, mean m]: a weighted average of the population mean and the customer's
        own mean, p(gamma + m x)/(p x + q - 1); the population mean when x = 0."""
        p, q, v = self._values()
        x = _column("frequency", frequency)
        m = np.where(x > 0, _column("monetary_value", monetary_value), 0.0)
        return np.asarray(p * (v + m * x) / (p * x + q - 1.0), dtype=np.float64)


def _newton_then_quasi_newton(
    evaluate: Any, start: FloatArray, tol: float
) -> tuple[FloatArray, float, bool, int]:
    """Fitted parameters, mean log-likelihood, converged and iterations: Newton's method
    from `start` (log-parameters), and where it does not converge the quasi-Newton
    maximiser from the same start."""
    fitted_log, mean_ll, converged, iterations = _newton(evaluate, start)
    fitted = np.exp(fitted_log)
    if not converged:

        def objective(params: tuple[float, ...]) -> tuple[float, FloatArray]:
            value, gradient, _ = evaluate(np.array(params), False)
            return value, gradient

        fitted, converged, more = _maximise(objective, start, tol)
        iterations += more
        mean_ll = evaluate(fitted, False)[0]
    return fitted, mean_ll, converged, iterations


def customer_lifetime_value(
    beta_geo: BetaGeo,
    gamma_gamma: GammaGamma,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803
    monetary_value: ArrayLike,
    *,
    periods: int = 12,
    period_length: float = 30.0,
    discount_rate: float = 0.01,
) -> FloatArray:
    """Discounted expected spend over the next `periods` periods of `period_length`
    (in the models' time unit), discounted at `discount_rate` per period:

        CLV = E[Z] * sum_{k=1..periods} (E[Y(k L)] - E[Y((k-1) L)]) / (1 + d)^k
    """
    if periods < 1:
        raise ValidationError("clv", "periods", "must be at least 1")
    if period_length <= 0:
        raise ValidationError("clv", "period_length", "must be positive")
    if discount_rate < 0:
        raise ValidationError("clv", "discount_rate", "must not be negative")
    spend = gamma_gamma.conditional_expected_spend(frequency, monetary_value)
    value = np.zeros_like(spend)
    previous = np.zeros_like(spend)
    for k in range(1, periods + 1):
        current = beta_geo.conditional_expected_purchases(k * period_length, frequency, recency, T)
        value += (current - previous) / (1.0 + discount_rate) ** k
        previous = current
    return np.asarray(value * spend, dtype=np.float64)
