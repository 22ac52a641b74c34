"""Revenue concentration (80/20): the curve, the top share and the Gini coefficient.

Pure integer arithmetic on spend in cents; a member whose net spend is negative (refunds
beyond what they paid, which counted orders never produce) counts as zero. Definitions
(docs/analytics.md, "Revenue concentration"):

- the curve at percentile p (1..100) is the share of revenue of the top ceil(p * n / 100)
  members by spend: non-decreasing, 1.0 at p = 100 (when revenue is zero, p / 100);
- the Gini coefficient of spends x_1 <= ... <= x_n is
  (2 * sum(i * x_i) - (n + 1) * sum(x)) / (n * sum(x)): 0 when everyone spends the same,
  (n - 1) / n when one member brings all revenue; 0 when revenue is zero.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction

__all__ = ["PERCENTILES", "concentration_curve", "gini", "top_count", "top_share"]

PERCENTILES = tuple(range(1, 101))


def _clean(spends: Iterable[int]) -> list[int]:
    return [max(int(s), 0) for s in spends]


def gini(spends: Iterable[int]) -> float:
    """The Gini coefficient of spends in cents (0 for no members or no revenue).

    >>> gini([100, 100, 100]), gini([0, 0, 0, 300])
    (0.0, 0.75)
    """
    ordered = sorted(_clean(spends))
    n, total = len(ordered), sum(ordered)
    if n == 0 or total == 0:
        return 0.0
    weighted = sum(i * x for i, x in enumerate(ordered, start=1))
    return float(Fraction(2 * weighted - (n + 1) * total, n * total))


def top_count(n: int, share: float) -> int:
    """How many members the top `share` (0 < share <= 1) of `n` is: ceil(share * n).

    Computed on a millionth grid so 0.2 * 10 is 2, not 3 from float rounding.
    """
    if not 0 < share <= 1:
        raise ValueError("share must be in (0, 1]")
    millionths = round(share * 1_000_000)
    return -(-n * millionths // 1_000_000)


def concentration_curve(
    spends: Iterable[int], percentiles: Sequence[int] = PERCENTILES
) -> list[float]:
    """Share of revenue of the top p% of members, for each p in `percentiles`.

    >>> concentration_curve([0, 0, 0, 100], [25, 50, 100])
    [1.0, 1.0, 1.0]
    """
    ordered = sorted(_clean(spends), reverse=True)
    n, total = len(ordered), sum(ordered)
    prefix = [0]
    for x in ordered:
        prefix.append(prefix[-1] + x)
    out = []
    for p in percentiles:
        if total == 0:
            out.append(p / 100)
            continue
        k = top_count(n, p / 100)
        out.append(float(Fraction(prefix[k], total)))
    return out


def top_share(spends: Iterable[int], share: float = 0.2) -> float:
    """The share of revenue of the top `share` of members (0.0 with no revenue)."""
    ordered = sorted(_clean(spends), reverse=True)
    total = sum(ordered)
    if total == 0:
        return 0.0
    return float(Fraction(sum(ordered[: top_count(len(ordered), share)]), total))
