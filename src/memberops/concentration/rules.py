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

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import accumulate

__all__ = [
    "PERCENTILES",
    "Concentration",
    "concentration",
    "concentration_curve",
    "gini",
    "top_count",
    "top_share",
]

PERCENTILES = tuple(range(1, 101))


def _descending(spends: Iterable[int]) -> list[int]:
    """Spends as ints, negatives as zero, largest first (one sort serves every measure)."""
    cleaned = [s if s > 0 else 0 for s in map(int, spends)]
    cleaned.sort(reverse=True)
    return cleaned


def _gini_of_descending(ordered: Sequence[int], total: int) -> float:
    n = len(ordered)
    if n == 0 or total == 0:
        return 0.0
    # With x ascending, sum(i * x_i) = (n + 1) * total - sum(j * y_j) for y = x reversed.
    weighted = (n + 1) * total - sum(map(operator.mul, range(1, n + 1), ordered))
    return float(Fraction(2 * weighted - (n + 1) * total, n * total))


def _share_of_top(prefix: Sequence[int], total: int, share: float) -> float:
    if total == 0:
        return share
    return float(Fraction(prefix[top_count(len(prefix) - 1, share)], total))


def gini(spends: Iterable[int]) -> float:
    """The Gini coefficient of spends in cents (0 for no members or no revenue).

    >>> gini([100, 100, 100]), gini([0, 0, 0, 300])
    (0.0, 0.75)
    """
    ordered = _descending(spends)
    return _gini_of_descending(ordered, sum(ordered))


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
    prefix = list(accumulate(_descending(spends), initial=0))
    return [_share_of_top(prefix, prefix[-1], p / 100) for p in percentiles]


def top_share(spends: Iterable[int], share: float = 0.2) -> float:
    """The share of revenue of the top `share` of members (0.0 with no revenue)."""
    prefix = list(accumulate(_descending(spends), initial=0))
    if prefix[-1] == 0:
        return 0.0
    return _share_of_top(prefix, prefix[-1], share)


@dataclass(frozen=True)
class Concentration:
    """Every measure of one scope's spends, from one sort."""

    members: int
    revenue_cents: int
    gini: float
    top_share: float
    curve: list[float]


def concentration(
    spends: Iterable[int], *, share: float = 0.2, percentiles: Sequence[int] = PERCENTILES
) -> Concentration:
    """Members, revenue, Gini, the top `share`'s share and the curve of one scope: the same
    values as `gini`, `top_share` and `concentration_curve`, sorting the spends once."""
    ordered = _descending(spends)
    prefix = list(accumulate(ordered, initial=0))
    total = prefix[-1]
    return Concentration(
        members=len(ordered),
        revenue_cents=total,
        gini=_gini_of_descending(ordered, total),
        top_share=0.0 if total == 0 else _share_of_top(prefix, total, share),
        curve=[_share_of_top(prefix, total, p / 100) for p in percentiles],
    )
