"""Group-by on integer codes: the few grouped steps the pandas rules need, in NumPy.

pandas groups string keys by hashing them on every group-by; a chain's visits (millions
of rows keyed by member id, often Arrow strings) pay that cost several times per
analysis. Here keys are dictionary-encoded once (`key_codes`), rows are sorted once, and
each grouped reduction is a slice of the sorted arrays. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["group_quantile", "group_starts", "key_codes"]


def _codes_and_uniques(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Codes that sort like the values (-1 for a missing value) and the sorted uniques.
    Factorised once, then only the uniques are sorted (for Arrow strings pandas sorts
    them in Arrow, not as Python objects)."""
    codes, uniques = pd.factorize(values)
    ranked = pd.Series(uniques).sort_values(kind="stable")
    rank = np.empty(len(uniques) + 1, dtype=np.int64)
    rank[ranked.index.to_numpy()] = np.arange(len(uniques))
    rank[-1] = -1  # the sentinel code -1 indexes the last slot
    ordered = pd.Series(uniques, name=values.name).iloc[ranked.index].reset_index(drop=True)
    return rank[codes], ordered


def key_codes(frame: pd.DataFrame, keys: Sequence[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """One int64 code per row for the combination of `keys`, ordered like the sorted keys
    (-1 for a row with a missing key, which group-bys leave out, as pandas does), and the
    frame of distinct key values indexed by code (row i holds code i's keys)."""
    codes = np.zeros(len(frame), dtype=np.int64)
    missing = np.zeros(len(frame), dtype=bool)
    parts: list[pd.Series] = []
    sizes: list[int] = []
    for key in keys:
        key_code, uniques = _codes_and_uniques(frame[key])
        missing |= key_code < 0
        codes = codes * len(uniques) + key_code
        parts.append(uniques)
        sizes.append(len(uniques))
    if len(keys) == 1:
        # Every code of a single key is present: the dictionary came from these rows.
        codes[missing] = -1
        return codes, pd.DataFrame({keys[0]: parts[0]})
    present, inverse = np.unique(codes[~missing], return_inverse=True)
    codes = np.full(len(frame), -1, dtype=np.int64)
    codes[~missing] = inverse
    # Recover each present combination's key values from its mixed-radix code.
    columns: dict[str, pd.Series] = {}
    remainder = present.copy()
    for key, uniques, size in reversed(list(zip(keys, parts, sizes, strict=True))):
        columns[key] = uniques.iloc[remainder % size].reset_index(drop=True)
        remainder //= size
    distinct = pd.DataFrame({key: columns[key] for key in keys})
    return codes, distinct


def group_starts(sorted_codes: np.ndarray) -> np.ndarray:
    """Where each run of equal codes starts in a sorted code array."""
    if sorted_codes.size == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(sorted_codes[1:] != sorted_codes[:-1]) + 1
    return np.concatenate(([0], change)).astype(np.int64)


def group_quantile(
    values: np.ndarray, starts: np.ndarray, counts: np.ndarray, q: float
) -> np.ndarray:
    """The `q` quantile of each group (linear interpolation, as pandas and NumPy default),
    where group g is values[starts[g] : starts[g] + counts[g]] sorted ascending; NaN for
    an empty group."""
    out = np.full(starts.size, np.nan)
    has = counts > 0
    position = q * (counts[has] - 1)
    low = np.floor(position).astype(np.int64)
    high = np.ceil(position).astype(np.int64)
    base = starts[has]
    lo_value = values[base + low]
    hi_value = values[base + high]
    out[has] = lo_value + (hi_value - lo_value) * (position - low)
    return out
