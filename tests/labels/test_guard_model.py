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
    # The second opinion is off in the shipped guard (it held no forbidden note more on
    # the fifth split); the path stays for a model that earns it.
    monkeypatch.setattr(guard, "MODEL_REVIEW_AT", 0.9)
    monkeypatch.setattr(guard, "load_model", lambda: _model(3.0))
    held = guard.screen("不要香菜")
    assert held.verdict == "review"
    assert any("reads like a description" in r for r in held.reasons)


def test_a_need_with_unknown_words_is_stored_only_when_the_model_reads_it_as_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    note = "毛肚鸭肠各一份"  # 各 is in no list; 毛肚 is a need word
    monkeypatch.setattr(guard, "load_model", lambda: None)
    assert guard.screen(note).verdict == "review"
    service = ClauseModel(buckets=64, orders=(1,), weights_={}, bias_=-5.0)
    monkeypatch.setattr(guard, "load_model", lambda: service)
    assert guard.screen(note).verdict == "allow"
    person = ClauseModel(buckets=64, orders=(1,), weights_={}, bias_=5.0)
    monkeypatch.setattr(guard, "load_model", lambda: person)
    assert guard.screen(note).verdict == "review"


def test_the_model_never_stores_a_clause_without_a_need_word_or_with_a_forbidden_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = ClauseModel(buckets=64, orders=(1,), weights_={}, bias_=-5.0)
    monkeypatch.setattr(guard, "load_model", lambda: service)
    assert guard.screen("人很闷骚").verdict in ("review", "reject")  # no need word
    assert guard.screen("胖胖的，不要香菜").verdict == "reject"  # the lexicon decides first
    assert guard.screen("looks rich, push the premium set").verdict in ("review", "reject")


def test_the_shipped_model_loads_and_separates_a_need_from_a_description() -> None:
    model = guard.load_model()
    assert model is not None
    assert model.forbidden_probability("毛肚鸭肠各一份") < model.forbidden_probability("国字脸")
