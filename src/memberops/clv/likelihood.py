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
    "beta_geo_log_likelihood",
    "beta_geo_log_likelihood_and_gradient",
    "gamma_gamma_log_likelihood",
    "gamma_gamma_log_likelihood_and_gradient",
]

FloatArray = NDArray[np.float64]


def beta_geo_log_likelihood_and_gradient(
    params: tuple[float, float, float, float],
    x: FloatArray,
    t_x: FloatArray,
    T: FloatArray,  # noqa: N803 - T is the paper's name
) -> tuple[FloatArray, FloatArray]:
    """Per-row log-likelihood and its gradient in (r, alpha, a, b) (shape (4, n))."""
    r, alpha, a, b = params
    repeat = x > 0
    # x - 1 is only used where x > 0; a stand-in of 1 keeps betaln finite elsewhere.
    x_safe = np.where(repeat, x, 1.0)

    log_alpha_big_t = np.log(alpha + T)
    log_alpha_tx = np.log(alpha + t_x)
    beta_ab = betaln(a, b)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - beta_ab - (r + x) * log_alpha_big_t
    a3 = np.where(
        repeat,
        betaln(a + 1.0, b + x_safe - 1.0) - beta_ab - (r + x) * log_alpha_tx,
        -np.inf,
    )
    top = np.maximum(a2, a3)
    w2 = np.exp(a2 - top)
    w3 = np.exp(a3 - top)
    total = w2 + w3
    log_lik = a1 + top + np.log(total)
    w2 /= total
    w3 /= total

    psi_ab = digamma(a + b)
    psi_abx = digamma(a + b + x)
    psi_a = digamma(a)
    psi_b = digamma(b)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w2 * log_alpha_big_t - w3 * log_alpha_tx
    d_alpha = r / alpha - (r + x) * (w2 / (alpha + T) + w3 / (alpha + t_x))
    d_a = w2 * (psi_ab - psi_abx) + w3 * (digamma(a + 1.0) - psi_a + psi_ab - psi_abx)
    d_b = w2 * (digamma(b + x) - psi_abx - psi_b + psi_ab) + w3 * (
        digamma(b + x_safe - 1.0) - psi_abx - psi_b + psi_ab
    )
    return log_lik, np.vstack([d_r, d_alpha, d_a, d_b])


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
