"""Draw customers from the BG/NBD and Gamma-Gamma stories, for parameter recovery and
benchmarks.

The draws follow the generative story, not the likelihood, so a fit that recovers the
parameters checks the likelihood independently:

- BG/NBD: lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b). While alive a customer buys at
  Poisson rate lambda and, after each repeat purchase, drops out with probability p. So
  the purchase that ends the relationship is the K-th with K ~ Geometric(p), and
  x = min(N(T), K) with N(T) ~ Poisson(lambda T). Given N(T) = n arrivals on (0, T], the
  x-th arrival is the x-th order statistic of n uniforms: T * Beta(x, n - x + 1).
- Gamma-Gamma: nu ~ Gamma(q, rate gamma); each transaction ~ Gamma(p, rate nu), so the
  mean of x transactions is Gamma(p x, rate nu x).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["simulate_beta_geo", "simulate_gamma_gamma"]

FloatArray = NDArray[np.float64]


def simulate_beta_geo(
    n: int,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: float | FloatArray,  # noqa: N803 - the paper's name
    seed: int = 0,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """`n` customers observed for `T` after their first purchase: (frequency, recency, T)."""
    rng = np.random.default_rng(seed)
    big_t = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    rate = rng.gamma(shape=r, scale=1.0 / alpha, size=n)
    dropout = rng.beta(a, b, size=n)
    arrivals = rng.poisson(rate * big_t)
    # The purchase after which the customer drops out; numpy's geometric counts from 1.
    last_possible = rng.geometric(np.clip(dropout, 1e-12, 1.0))
    x = np.minimum(arrivals, last_possible)
    bought = x > 0
    recency = np.zeros(n)
    recency[bought] = big_t[bought] * rng.beta(
        x[bought].astype(np.float64), (arrivals[bought] - x[bought] + 1).astype(np.float64)
    )
    return x.astype(np.float64), recency, big_t


def simulate_gamma_gamma(
    frequency: FloatArray, *, p: float, q: float, gamma: float, seed: int = 0
) -> FloatArray:
    """Mean transaction value for customers with the given repeat counts (0 without)."""
    rng = np.random.default_rng(seed)
    x = np.asarray(frequency, dtype=np.float64)
    nu = rng.gamma(shape=q, scale=1.0 / gamma, size=x.shape)
    repeat = x > 0
    means = np.zeros_like(x)
    means[repeat] = rng.gamma(shape=p * x[repeat], scale=1.0 / (nu[repeat] * x[repeat]))
    return means
