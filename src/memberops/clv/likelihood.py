"""The BG/NBD and Gamma-Gamma log-likelihoods, each written once.

Both are per-row functions of the sufficient statistics, vectorised over NumPy arrays,
with their analytic gradients. The estimators, the tests and the parameter-recovery
check all call these; nothing else re-derives a likelihood.

BG/NBD (Fader, Hardie and Lee 2005, "Counting Your Customers the Easy Way", eq. 6), for a
customer with x repeat purchases, the last at t_x, observed for T:

    L = B(a, b+x)/B(a, b) * Gamma(r+x) alpha^r / (Gamma(r) (alpha+T)^(r+x))
      + [x > 0] B(a+1, b+x-1)/B(a, b) * Gamma(r+x) alpha^r / (Gamma(r) (alpha+t_x)^(r+x))

Gamma-Gamma (Fader, Hardie and Lee 2005, "RFM and CLV", appendix; Colombo and Jiang 1999),
for a repeat buyer with x transactions of mean value m:

    L = Gamma(px+q) / (Gamma(px) Gamma(q)) * gamma^q m^(px-1) x^(px) / (gamma + m x)^(px+q)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.special import betaln, digamma, gammaln

__all__ = [
    "BetaGeoTerms",
    "beta_geo_log_likelihood",
    "beta_geo_log_likelihood_and_gradient",
    "gamma_gamma_log_likelihood",
    "gamma_gamma_log_likelihood_and_gradient",
]

FloatArray = NDArray[np.float64]


def _levels(values: FloatArray) -> tuple[FloatArray, NDArray[np.intp]]:
    """Distinct values and, per row, the index of its value (sort-based)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.empty(len(values), dtype=bool)
    starts[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    index = np.empty(len(values), dtype=np.intp)
    index[order] = np.cumsum(starts) - 1
    return ordered[starts], index


class BetaGeoTerms:
    """The BG/NBD likelihood over fixed data, evaluated at any parameters.

    Every special function depends on one statistic only (gammaln and digamma on x, logs
    on T and on t_x), and real data has few distinct values of each (purchase counts,
    whole days), so they are computed once per distinct value and gathered per row.
    """

    def __init__(self, x: FloatArray, t_x: FloatArray, T: FloatArray) -> None:  # noqa: N803
        self.x = x
        self.repeat = x > 0
        self.x_levels, self.x_index = _levels(x)
        self.t_x_levels, self.t_x_index = _levels(t_x)
        self.t_levels, self.t_index = _levels(T)

    def evaluate(
        self, params: tuple[float, float, float, float], weights: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """Per-row log-likelihood and its gradient in (r, alpha, a, b), shape (4, n); with
        `weights`, their weighted sums instead (shapes () and (4,))."""
        r, alpha, a, b = params
        xs = self.x_levels
        # x - 1 is only used where x > 0; a stand-in of 1 keeps betaln finite elsewhere.
        xs_safe = np.where(xs > 0, xs, 1.0)
        beta_ab = betaln(a, b)
        psi_ab = digamma(a + b)
        psi_abx = digamma(a + b + xs)
        # Per distinct x: the parts of A1, A2, A3 and of the gradient that need no time.
        a1_x = gammaln(r + xs) - gammaln(r) + r * np.log(alpha)
        a2_x = betaln(a, b + xs) - beta_ab
        a3_x = betaln(a + 1.0, b + xs_safe - 1.0) - beta_ab
        dr_x = digamma(r + xs) - digamma(r) + np.log(alpha)
        da2_x = psi_ab - psi_abx
        da3_x = digamma(a + 1.0) - digamma(a) + psi_ab - psi_abx
        db2_x = digamma(b + xs) - psi_abx - digamma(b) + psi_ab
        db3_x = digamma(b + xs_safe - 1.0) - psi_abx - digamma(b) + psi_ab

        xi = self.x_index
        rx = r + self.x
        log_alpha_big_t_levels = np.log(alpha + self.t_levels)
        log_alpha_tx_levels = np.log(alpha + self.t_x_levels)
        log_alpha_big_t = log_alpha_big_t_levels[self.t_index]
        log_alpha_tx = log_alpha_tx_levels[self.t_x_index]
        a2 = a2_x[xi] - rx * log_alpha_big_t
        a3 = np.where(self.repeat, a3_x[xi] - rx * log_alpha_tx, -np.inf)
        # log(e^a2 + e^a3) = max + log1p(e^-|a2 - a3|), with the softmax weights from the
        # same exponential: two transcendental calls per row instead of three.
        gap = a3 - a2
        small = np.exp(-np.abs(gap))
        log_lik = a1_x[xi] + np.maximum(a2, a3) + np.log1p(small)
        share_of_larger = 1.0 / (1.0 + small)
        w3 = np.where(gap > 0, share_of_larger, 1.0 - share_of_larger)
        w2 = 1.0 - w3

        if weights is not None:
            # Weighted sums straight from per-level totals: a per-x or per-day factor
            # times the weights summed over its rows (bincount) avoids gathering it back.
            ww2 = weights * w2
            ww3 = weights * w3
            n_x = len(xs)
            per_x = np.bincount(xi, weights=weights, minlength=n_x)
            per_x2 = np.bincount(xi, weights=ww2, minlength=n_x)
            per_x3 = np.bincount(xi, weights=ww3, minlength=n_x)
            n_t, n_tx = len(self.t_levels), len(self.t_x_levels)
            per_t2 = np.bincount(self.t_index, weights=ww2, minlength=n_t)
            per_t2rx = np.bincount(self.t_index, weights=ww2 * rx, minlength=n_t)
            per_tx3 = np.bincount(self.t_x_index, weights=ww3, minlength=n_tx)
            per_tx3rx = np.bincount(self.t_x_index, weights=ww3 * rx, minlength=n_tx)
            total_weight = float(per_x.sum())
            sums = [
                float(
                    dr_x @ per_x - log_alpha_big_t_levels @ per_t2 - log_alpha_tx_levels @ per_tx3
                ),
                r / alpha * total_weight
                - float(per_t2rx @ (1.0 / (alpha + self.t_levels)))
                - float(per_tx3rx @ (1.0 / (alpha + self.t_x_levels))),
                float(da2_x @ per_x2 + da3_x @ per_x3),
                float(db2_x @ per_x2 + db3_x @ per_x3),
            ]
            # einsum, not `@`, on the long vector: a multithreaded BLAS dot on a busy
            # two-core machine costs more than the whole likelihood.
            return np.asarray(np.einsum("i,i->", log_lik, weights)), np.asarray(sums)

        d_r = dr_x[xi] - w2 * log_alpha_big_t - w3 * log_alpha_tx
        d_alpha = r / alpha - rx * (
            w2 / (alpha + self.t_levels)[self.t_index]
            + w3 / (alpha + self.t_x_levels)[self.t_x_index]
        )
        d_a = w2 * da2_x[xi] + w3 * da3_x[xi]
        d_b = w2 * db2_x[xi] + w3 * db3_x[xi]
        return log_lik, np.vstack([d_r, d_alpha, d_a, d_b])


def beta_geo_log_likelihood_and_gradient(
    params: tuple[float, float, float, float],
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,  # noqa: N803 - T is the paper's name
) -> tuple[FloatArray, FloatArray]:
    """Per-row log-likelihood and its gradient in (r, alpha, a, b) (shape (4, n))."""
    return BetaGeoTerms(x, t_x, T).evaluate(params)


def beta_geo_log_likelihood(
    params: tuple[float, float, float, float],
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,  # noqa: N803 - T is the paper's name
) -> FloatArray:
    """Per-row BG/NBD log-likelihood."""
    return beta_geo_log_likelihood_and_gradient(params, x, t_x, T)[0]


def gamma_gamma_log_likelihood_and_gradient(
    params: tuple[float, float, float], x: FloatArray, m: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per-row Gamma-Gamma log-likelihood and its gradient in (p, q, gamma), shape (3, n).

    Rows must be repeat buyers (x >= 1, m > 0).
    """
    p, q, v = params
    px = p * x
    log_vmx = np.log(v + m * x)
    log_lik = (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1.0) * np.log(m)
        + px * np.log(x)
        - (px + q) * log_vmx
    )
    psi_pxq = digamma(px + q)
    d_p = x * (psi_pxq - digamma(px) + np.log(m) + np.log(x) - log_vmx)
    d_q = psi_pxq - digamma(q) + np.log(v) - log_vmx
    d_v = q / v - (px + q) / (v + m * x)
    return log_lik, np.vstack([d_p, d_q, d_v])


def gamma_gamma_log_likelihood(
    params: tuple[float, float, float], x: FloatArray, m: FloatArray
) -> FloatArray:
    """Per-row Gamma-Gamma log-likelihood (repeat buyers only)."""
    return gamma_gamma_log_likelihood_and_gradient(params, x, m)[0]
