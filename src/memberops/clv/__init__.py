"""Customer lifetime value: BG/NBD visits, Gamma-Gamma spend, discounted CLV."""

from memberops.clv.estimators import BetaGeo, GammaGamma, customer_lifetime_value

__all__ = ["BetaGeo", "GammaGamma", "customer_lifetime_value"]
