"""Customer lifetime value: BG/NBD visits, Gamma-Gamma spend, discounted CLV.

>>> from memberops.clv import BetaGeo, GammaGamma
>>> bg = BetaGeo().fit(summary.frequency, summary.recency, summary.T)  # doctest: +SKIP
"""

from memberops.clv.estimators import BetaGeo, GammaGamma, customer_lifetime_value
from memberops.clv.summary import split_calibration_holdout, summarise_transactions

__all__ = [
    "BetaGeo",
    "GammaGamma",
    "customer_lifetime_value",
    "split_calibration_holdout",
    "summarise_transactions",
]
