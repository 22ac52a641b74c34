"""A small clause classifier: hashed character n-grams and a logistic regression.

It answers one question about a clause the word lists have read: how much does it look
like the descriptions of people in the corpus rather than service needs? The guard uses
it in one place (see guard.py): a clause with a need word beside words the lists do not
know, nothing forbidden and no guess, is stored as a need when the model reads it as
service; otherwise it goes to review. (A second role, sending recognised clauses the
model finds person-like to review, is measured and off: ``MODEL_REVIEW_AT``.)

Trained offline on the development clauses by scripts/guard_train.py (numpy/scipy);
shipped as JSON (parameters, configuration, version); scoring is a sum of weights in
plain Python, so loading costs milliseconds and nothing is imported at run time.
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["MODEL_VERSION", "ClauseModel", "clause_features", "load_model"]

MODEL_VERSION = 1
_DATA = "memberops.labels.guard_data"
_FILE = "clause_model.json"


def clause_features(reading: str, buckets: int, orders: tuple[int, ...] = (1, 2, 3)) -> list[int]:
    """Hashed character n-grams of a clause reading (with boundary marks), deduplicated."""
    text = f"^{reading.strip()}$"
    out: set[int] = set()
    for n in orders:
        for i in range(len(text) - n + 1):
            gram = text[i : i + n]
            if gram.strip():
                out.add(zlib.crc32(gram.encode("utf-8")) % buckets)
    return sorted(out)


@dataclass(frozen=True)
class ClauseModel:
    """Fitted parameters: ``weights_`` by bucket (zero where absent) and ``bias_``."""

    buckets: int
    orders: tuple[int, ...]
    weights_: dict[int, float]
    bias_: float

    def forbidden_probability(self, reading: str) -> float:
        """Probability that the clause describes a person (0..1)."""
        z = self.bias_ + sum(
            self.weights_.get(f, 0.0) for f in clause_features(reading, self.buckets, self.orders)
        )
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> str:
        """Serialise parameters, configuration and version."""
        return json.dumps(
            {
                "version": MODEL_VERSION,
                "buckets": self.buckets,
                "orders": list(self.orders),
                "bias": round(self.bias_, 4),
                "weights": {str(k): round(v, 3) for k, v in sorted(self.weights_.items()) if v},
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> ClauseModel:
        """Load a model written by ``to_json``; refuses another version."""
        data = json.loads(text)
        if data.get("version") != MODEL_VERSION:
            raise ValueError(f"clause model version {data.get('version')} != {MODEL_VERSION}")
        return cls(
            buckets=int(data["buckets"]),
            orders=tuple(int(n) for n in data["orders"]),
            weights_={int(k): float(v) for k, v in data["weights"].items()},
            bias_=float(data["bias"]),
        )


@cache
def load_model() -> ClauseModel | None:
    """The shipped model, or None when the package carries none."""
    path = resources.files(_DATA).joinpath(_FILE)
    if not path.is_file():
        return None
    return ClauseModel.from_json(path.read_text(encoding="utf-8"))
