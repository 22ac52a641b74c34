"""The BG/NBD and Gamma-Gamma log-likelihoods, each written once.

Both are per-row functions of the sufficient statistics, vectorised over NumPy arrays,
with their analytic gradients. For fitting, `BetaGeoWeighted` and `GammaGammaWeighted`
give the same likelihoods summed over weighted rows, with gradient and Hessian,
rearranged so that most terms are summed once per distinct x or T (tests check them
against the per-row functions and finite differences). Nothing outside this module
re-derives a likelihood.

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
from scipy.special import betaln, digamma, gammaln, polygamma

__all__ = [
    "BetaGeoTerms",
    "BetaGeoWeighted",
    "GammaGammaWeighted",
    "beta_geo_log_likelihood",
    "beta_geo_log_likelihood_and_gradient",
    "gamma_gamma_log_likelihood",
    "gamma_gamma_log_likelihood_and_gradient",
]

FloatArray = NDArray[np.float64]


def _levels(values: FloatArray) -> tuple[FloatArray, NDArray[np.intp]]:
    """Distinct values and, per row, the index of its value.

    Whole numbers in a range no wider than the rows (counts, days) are indexed by their
    offset from the smallest, with no sort; every value in the range is then a level,
    used or not, which costs nothing where levels are weighted by their rows' totals.
    """
    if len(values) == 0:
        return values.copy(), np.zeros(0, dtype=np.intp)
    low, high = float(values.min()), float(values.max())
    if high - low < max(len(values), 1024):
        offset = values - low
        index = offset.astype(np.intp)
        if np.array_equal(index, offset):
            return low + np.arange(int(high - low) + 1, dtype=np.float64), index
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

    def evaluate(self, params: tuple[float, float, float, float]) -> tuple[FloatArray, FloatArray]:
        """Per-row log-likelihood and its gradient in (r, alpha, a, b), shape (4, n)."""
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

        d_r = dr_x[xi] - w2 * log_alpha_big_t - w3 * log_alpha_tx
        d_alpha = r / alpha - rx * (
            w2 / (alpha + self.t_levels)[self.t_index]
            + w3 / (alpha + self.t_x_levels)[self.t_x_index]
        )
        d_a = w2 * da2_x[xi] + w3 * da3_x[xi]
        d_b = w2 * db2_x[xi] + w3 * db3_x[xi]
        return log_lik, np.vstack([d_r, d_alpha, d_a, d_b])


def _dot(left: FloatArray, right: FloatArray) -> float:
    # einsum, not `@`: a multithreaded BLAS dot on a busy two-core machine costs more than
    # the arithmetic around it.
    return float(np.einsum("i,i->", left, right))


class BetaGeoWeighted:
    """The weighted total BG/NBD log-likelihood of fixed rows, with its gradient and
    Hessian in (r, alpha, a, b): what Newton's method needs to fit in a few steps.

    Per row, log L = A1(x) + A2 + log(1 + e^d) with A1 = log Gamma(r+x) - log Gamma(r)
    + r log alpha, A2 = log B(a, b+x) - log B(a, b) - (r+x) log(alpha+T), and (repeat
    buyers only) d = A3 - A2 = log a - log(b+x-1) + (r+x) log((alpha+T)/(alpha+t_x)).
    A1 + A2 sums over rows through per-x and per-T weight totals taken once, so an
    evaluation touches each repeat-buyer row only for d and its softplus; the
    derivatives of d are G = log((alpha+T)/(alpha+t_x)) in r, (r+x) H with
    H = 1/(alpha+T) - 1/(alpha+t_x) in alpha, 1/a in a and -1/(b+x-1) in b.
    """

    def __init__(
        self,
        x: FloatArray,
        t_x: FloatArray,
        T: FloatArray,  # noqa: N803 - the paper's name
        weights: FloatArray,
    ) -> None:
        self.total_weight = float(weights.sum())
        self.x_levels, x_index = _levels(x)
        self.t_levels, t_index = _levels(T)
        n_x, n_t = len(self.x_levels), len(self.t_levels)
        self.weight_per_x = np.bincount(x_index, weights=weights, minlength=n_x)
        self.weight_per_t = np.bincount(t_index, weights=weights, minlength=n_t)
        self.x_weight_per_t = np.bincount(t_index, weights=weights * x, minlength=n_t)
        repeat = x > 0
        self.rep_weight = weights[repeat]
        self.rep_x = x[repeat]
        self.rep_x_index = x_index[repeat]
        self.rep_t_index = t_index[repeat]
        self.rep_t_x_levels, self.rep_t_x_index = _levels(t_x[repeat])
        self._buffers = np.empty((9, len(self.rep_weight)))

    def evaluate(
        self, params: tuple[float, float, float, float], *, hessian: bool = True
    ) -> tuple[float, FloatArray, FloatArray | None]:
        """The total log-likelihood, its gradient (4,) and, if asked, Hessian (4, 4)."""
        r, alpha, a, b = params
        xs = self.x_levels
        wx, wt, xwt = self.weight_per_x, self.weight_per_t, self.x_weight_per_t
        total = self.total_weight
        inv_t_levels = 1.0 / (alpha + self.t_levels)
        log_t_levels = np.log(alpha + self.t_levels)
        rwt = r * wt + xwt
        log_alpha = float(np.log(alpha))
        psi_ab = float(digamma(a + b))
        psi_abx = digamma(a + b + xs)

        # The terms without e^d: per distinct x and per distinct T.
        value = float(
            wx @ (gammaln(r + xs) + betaln(a, b + xs))
            + total * (r * log_alpha - gammaln(r) - betaln(a, b))
            - rwt @ log_t_levels
        )
        grad = np.array(
            [
                float(wx @ digamma(r + xs)) + total * (log_alpha - digamma(r)) - wt @ log_t_levels,
                total * r / alpha - rwt @ inv_t_levels,
                total * psi_ab - float(wx @ psi_abx),
                float(wx @ (digamma(b + xs) - psi_abx)) + total * (psi_ab - digamma(b)),
            ]
        )
        hess = None
        if hessian:
            tri_ab = float(polygamma(1, a + b))
            tri_abx = polygamma(1, a + b + xs)
            h_ab = total * tri_ab - float(wx @ tri_abx)
            hess = np.zeros((4, 4))
            hess[0, 0] = float(wx @ polygamma(1, r + xs)) - total * float(polygamma(1, r))
            hess[0, 1] = total / alpha - wt @ inv_t_levels
            hess[1, 1] = -total * r / alpha**2 + rwt @ inv_t_levels**2
            hess[2, 2] = h_ab
            hess[2, 3] = h_ab
            hess[3, 3] = float(wx @ (polygamma(1, b + xs) - tri_abx)) + total * (
                tri_ab - float(polygamma(1, b))
            )

        # Repeat buyers: log(1 + e^d), one exponential and one log1p per row, written
        # into buffers kept between evaluations (fresh multi-megabyte temporaries cost
        # page faults on every call).
        w = self.rep_weight
        if len(w) == 0:
            return value, grad, None if hess is None else hess + np.triu(hess, 1).T
        # x - 1 is only read where x > 0; a stand-in of 1 keeps the x = 0 level finite.
        b_x_levels = b + np.where(xs > 0, xs, 1.0) - 1.0
        inv_b_levels = 1.0 / b_x_levels
        d_levels = np.log(a) - np.log(b_x_levels)
        inv_tx_levels = 1.0 / (alpha + self.rep_t_x_levels)
        log_tx_levels = np.log(alpha + self.rep_t_x_levels)
        ti, txi, xi = self.rep_t_index, self.rep_t_x_index, self.rep_x_index
        buf = self._buffers
        g_row, h_row, rx, d, small, larger, s, ws, tmp = (buf[i] for i in range(9))
        np.take(log_t_levels, ti, out=g_row)
        np.take(log_tx_levels, txi, out=tmp)
        g_row -= tmp  # G = log((alpha+T)/(alpha+t_x))
        np.take(inv_t_levels, ti, out=h_row)
        np.take(inv_tx_levels, txi, out=tmp)
        h_row -= tmp  # H = 1/(alpha+T) - 1/(alpha+t_x)
        np.add(self.rep_x, r, out=rx)
        np.take(d_levels, xi, out=d)
        np.multiply(rx, g_row, out=tmp)
        d += tmp
        np.abs(d, out=small)
        np.negative(small, out=small)
        np.exp(small, out=small)  # e^-|d|
        np.maximum(d, 0.0, out=tmp)
        value += _dot(w, tmp)
        np.log1p(small, out=tmp)
        value += _dot(w, tmp)
        np.add(small, 1.0, out=larger)
        np.reciprocal(larger, out=larger)  # the logistic of |d|
        # The logistic of d: 1/(1+e^-|d|) where d > 0, else e^-|d|/(1+e^-|d|) = 1 - that.
        np.subtract(larger, 0.5, out=s)
        np.sign(d, out=tmp)
        s *= tmp
        s += 0.5
        np.multiply(w, s, out=ws)
        sum_ws = float(ws.sum())
        np.multiply(rx, h_row, out=tmp)  # (r+x) H
        rx_h = tmp
        q = np.take(inv_b_levels, xi, out=rx)  # rx is not read again
        grad += [_dot(ws, g_row), _dot(ws, rx_h), sum_ws / a, -_dot(ws, q)]
        if hess is not None:
            # d2 d / d alpha2 = (r+x) (1/(alpha+t_x)^2 - 1/(alpha+T)^2)
            #                 = -(r+x) H (1/(alpha+T) + 1/(alpha+t_x)), with the second
            # factor 2/(alpha+T) - H.
            ws_h = _dot(ws, h_row)
            np.take(inv_t_levels, ti, out=s)
            s *= 2.0
            s -= h_row
            s *= rx_h
            ws_d2 = _dot(ws, s)
            ws_q2 = _dot(ws, q * q)
            wu = small
            wu *= larger
            wu *= larger
            wu *= w  # w s (1 - s) = w e^-|d| / (1 + e^-|d|)^2
            wu_g = np.multiply(wu, g_row, out=d)
            wu_rx_h = np.multiply(wu, rx_h, out=larger)
            sum_wu = float(wu.sum())
            wu_q = np.multiply(wu, q, out=ws)
            hess += np.array(
                [
                    [
                        _dot(wu_g, g_row),
                        _dot(wu_g, rx_h) + ws_h,
                        float(wu_g.sum()) / a,
                        -_dot(wu_g, q),
                    ],
                    [
                        0.0,
                        _dot(wu_rx_h, rx_h) - ws_d2,
                        float(wu_rx_h.sum()) / a,
                        -_dot(wu_q, rx_h),
                    ],
                    [0.0, 0.0, (sum_wu - sum_ws) / a**2, -float(wu_q.sum()) / a],
                    [0.0, 0.0, 0.0, _dot(wu_q, q) + ws_q2],
                ]
            )
            hess += np.triu(hess, 1).T
        return value, grad, hess


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


class GammaGammaWeighted:
    """The weighted total Gamma-Gamma log-likelihood of fixed repeat-buyer rows, with its
    gradient and Hessian in (p, q, gamma).

    Per row, log L = log Gamma(px+q) - log Gamma(px) - log Gamma(q) + q log gamma
    + (px-1) log m + px log x - (px+q) log(gamma + m x). The gamma functions depend on x
    alone (few distinct values) and the log m, log x terms on no parameter, so they are
    summed once; an evaluation takes one log per row, log(gamma + m x).
    """

    def __init__(self, x: FloatArray, m: FloatArray, weights: FloatArray) -> None:
        self.total_weight = float(weights.sum())
        self.x_levels, x_index = _levels(x)
        self.weight_per_x = np.bincount(x_index, weights=weights, minlength=len(self.x_levels))
        self.weight = weights
        self.weight_x = weights * x
        self.spend = m * x
        log_m = np.log(m)
        # sum w ((px - 1) log m + px log x) = p sum w x log(m x) - sum w log m
        self.fixed_p = _dot(self.weight_x, log_m + np.log(x))
        self.fixed = -_dot(weights, log_m)
        self._buffers = np.empty((2, len(x)))

    def evaluate(
        self, params: tuple[float, float, float], *, hessian: bool = True
    ) -> tuple[float, FloatArray, FloatArray | None]:
        """The total log-likelihood, its gradient (3,) and, if asked, Hessian (3, 3)."""
        p, q, v = params
        xs, wx = self.x_levels, self.weight_per_x
        total = self.total_weight
        pxq = p * xs + q
        psi_pxq = digamma(pxq)
        log_v = float(np.log(v))
        log_vmx, inverse = self._buffers
        np.add(self.spend, v, out=log_vmx)
        np.reciprocal(log_vmx, out=inverse)  # 1/(gamma + m x)
        np.log(log_vmx, out=log_vmx)
        w_log = _dot(self.weight, log_vmx)
        wx_log = _dot(self.weight_x, log_vmx)
        w_inv = _dot(self.weight, inverse)
        wx_inv = _dot(self.weight_x, inverse)
        value = (
            float(wx @ (gammaln(pxq) - gammaln(p * xs)))
            + total * (q * log_v - float(gammaln(q)))
            + p * self.fixed_p
            + self.fixed
            - p * wx_log
            - q * w_log
        )
        grad = np.array(
            [
                float(wx @ (xs * (psi_pxq - digamma(p * xs)))) + self.fixed_p - wx_log,
                float(wx @ psi_pxq) - total * float(digamma(q)) + total * log_v - w_log,
                total * q / v - p * wx_inv - q * w_inv,
            ]
        )
        if not hessian:
            return value, grad, None
        tri_pxq = polygamma(1, pxq)
        np.multiply(inverse, inverse, out=log_vmx)
        hess = np.empty((3, 3))
        hess[0, 0] = float(wx @ (xs * xs * (tri_pxq - polygamma(1, p * xs))))
        hess[0, 1] = hess[1, 0] = float(wx @ (xs * tri_pxq))
        hess[1, 1] = float(wx @ tri_pxq) - total * float(polygamma(1, q))
        hess[0, 2] = hess[2, 0] = -wx_inv
        hess[1, 2] = hess[2, 1] = total / v - w_inv
        hess[2, 2] = (
            -total * q / v**2 + p * _dot(self.weight_x, log_vmx) + q * _dot(self.weight, log_vmx)
        )
        return value, grad, hess


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
