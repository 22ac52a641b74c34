"""RFM scores and named segments: pure rules, no I/O.

Scores: each of recency, frequency and monetary value is scored 1..`bins` (5 by default:
quintiles) among the members of one scope, higher is better (a recent visit scores high).
A member's score is `1 + floor(bins * below / n)`, where `below` is the number of members
of the scope strictly worse on that measure and `n` the members of the scope. Equal values
always get the same score (ties never split on member id), so the score is deterministic
and a bin can hold more than its share when many members tie (most members have one visit:
they all score F = 1).

Segments read R and FM = floor((F + M) / 2) on a five-level scale (`level`) and take the
first rule that matches (docs/analytics.md, "RFM segments"):

| segment             | rule                     |
|---------------------|--------------------------|
| new                 | R >= 4 and F = 1         |
| champions           | R >= 4 and FM >= 4       |
| loyal               | R >= 3 and FM >= 3       |
| potential loyalists | R >= 3                   |
| can't lose          | R <= 2 and FM >= 4       |
| at risk             | R <= 2 and FM = 3        |
| hibernating         | R = 2                    |
| lost                | R = 1                    |
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DEFAULT_BINS",
    "MAX_BINS",
    "MIN_BINS",
    "SEGMENTS",
    "RfmConfig",
    "level",
    "score_value",
    "segment_for",
    "segment_table",
]

DEFAULT_BINS = 5
MIN_BINS = 2
MAX_BINS = 10
# In the order the rules are tried; the order is also the display order (best first).
SEGMENTS = (
    "champions",
    "loyal",
    "potential loyalists",
    "new",
    "at risk",
    "can't lose",
    "hibernating",
    "lost",
)


@dataclass(frozen=True)
class RfmConfig:
    """How scores are cut: `bins` per measure (5 = quintiles)."""

    bins: int = DEFAULT_BINS

    def problems(self) -> list[tuple[str, str]]:
        """(field, reason) for each invalid setting; empty when valid."""
        if not MIN_BINS <= self.bins <= MAX_BINS:
            return [("bins", f"must be between {MIN_BINS} and {MAX_BINS}")]
        return []


def score_value(below: int, n: int, bins: int) -> int:
    """The 1..bins score of a member with `below` members of `n` strictly worse.

    >>> [score_value(b, 10, 5) for b in range(10)]
    [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    """
    if n <= 0 or not 0 <= below < n:
        raise ValueError("below must be in [0, n)")
    return 1 + (bins * below) // n


def level(score: int, bins: int) -> int:
    """A 1..bins score on the five-level scale the segment rules read.

    Identity for quintiles; ten bins map two to a level (1-2 -> 1, ..., 9-10 -> 5).
    """
    if not 1 <= score <= bins:
        raise ValueError("score must be in [1, bins]")
    return 1 + ((score - 1) * 5) // bins


def segment_for(r: int, f: int, m: int, bins: int = DEFAULT_BINS) -> str:
    """The named segment of one member's R, F and M scores (1..bins each).

    >>> segment_for(5, 5, 5), segment_for(5, 1, 1), segment_for(1, 5, 5), segment_for(1, 1, 1)
    ('champions', 'new', "can't lose", 'lost')
    """
    rl, fl, ml = level(r, bins), level(f, bins), level(m, bins)
    fm = (fl + ml) // 2
    if rl >= 4 and fl == 1:
        return "new"
    if rl >= 4 and fm >= 4:
        return "champions"
    if rl >= 3 and fm >= 3:
        return "loyal"
    if rl >= 3:
        return "potential loyalists"
    if fm >= 4:
        return "can't lose"
    if fm == 3:
        return "at risk"
    if rl == 2:
        return "hibernating"
    return "lost"


def segment_table(bins: int = DEFAULT_BINS) -> dict[tuple[int, int, int], str]:
    """Every (r, f, m) cell -> its segment: what the engines join on."""
    cells = range(1, bins + 1)
    return {(r, f, m): segment_for(r, f, m, bins) for r in cells for f in cells for m in cells}
