"""The clause model: features, persistence, and its place in the guard."""

from __future__ import annotations

import pytest

from memberops.labels import guard
from memberops.labels.guard_model import MODEL_VERSION, ClauseModel, clause_features


def _model(weight: float) -> ClauseModel:
    buckets = 64
    weights = {f: weight for f in clause_features("不要香菜", buckets)}
    return ClauseModel(buckets=buckets, orders=(1, 2, 3), weights_=weights, bias_=0.0)


def test_features_are_deterministic_and_in_range() -> None:
    first = clause_features("不要香菜", 1 << 14)
    assert first == clause_features("不要香菜", 1 << 14)
    assert all(0 <= f < 1 << 14 for f in first)


def test_model_round_trips_through_json_and_refuses_another_version() -> None:
    model = _model(0.5)
    again = ClauseModel.from_json(model.to_json())
    assert again.forbidden_probability("不要香菜") == pytest.approx(
        model.forbidden_probability("不要香菜"), abs=1e-3
    )
    with pytest.raises(ValueError, match="version"):
        ClauseModel.from_json(model.to_json().replace(f'"version":{MODEL_VERSION}', '"version":0'))


def test_a_person_like_clause_of_service_words_goes_to_review(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert guard.screen("不要香菜").verdict == "allow"
    monkeypatch.setattr(guard, "load_model", lambda: _model(3.0))
    held = guard.screen("不要香菜")
    assert held.verdict == "review"
    assert any("reads like a description" in r for r in held.reasons)
