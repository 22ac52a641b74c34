"""The label policy and the computed-label rule language, without a database."""

from __future__ import annotations

import math

import pytest

from memberops.errors import RuleError
from memberops.labels import rules
from memberops.labels.rules import evaluate_rule, evaluate_rules, parse_rule, parse_rules


def test_rule_from_the_brief_parses_into_feature_threshold_and_code() -> None:
    rule = parse_rule("spicy_share >= 0.6 -> loves_spicy")
    assert rule.category == "dining_preference"
    assert rule.code == "loves_spicy"
    assert rule.conditions == (rules.Condition("spicy_share", ">=", 0.6),)
    assert rule.rule_id.startswith("rule:")


def test_rule_id_is_stable_across_spacing_so_refresh_finds_earlier_labels() -> None:
    assert (
        parse_rule("spicy_share >= 0.6 -> loves_spicy").rule_id
        == parse_rule("  spicy_share   >=  0.6   ->  loves_spicy ").rule_id
    )


def test_category_prefix_and_conjunction() -> None:
    rule = parse_rule("visits_90d >= 6 and repurchase_rate > 0.5 -> fan_level:hardcore_fan")
    assert rule.category == "fan_level"
    assert rule.code == "hardcore_fan"
    assert rule.features == frozenset({"visits_90d", "repurchase_rate"})


def test_matching_rule_explains_itself_with_the_feature_values() -> None:
    rule = parse_rule("spicy_share >= 0.6 -> loves_spicy")
    assert evaluate_rule(rule, {"spicy_share": 0.72}) == "spicy_share=0.72 >= 0.6"
    assert evaluate_rule(rule, {"spicy_share": 0.5}) is None


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        (">=", 2, True),
        (">", 2, False),
        ("<=", 2, True),
        ("<", 2, False),
        ("==", 2, True),
        ("!=", 2, False),
        ("!=", 3, True),
    ],
)
def test_every_operator(op: str, value: float, expected: bool) -> None:
    rule = parse_rule(f"x {op} 2 -> some_code")
    assert (evaluate_rule(rule, {"x": value}) is not None) is expected


def test_nan_feature_never_matches() -> None:
    rule = parse_rule("x != 2 -> some_code")
    assert evaluate_rule(rule, {"x": math.nan}) is None


def test_all_conditions_must_hold() -> None:
    rule = parse_rule("a >= 1 and b >= 1 -> lifecycle:active")
    assert evaluate_rule(rule, {"a": 1, "b": 0}) is None
    assert evaluate_rule(rule, {"a": 1, "b": 2}) == "a=1 >= 1 and b=2 >= 1"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("spicy_share >= 0.6", "has no '->'"),
        ("spicy_share >= 0.6 -> ", "names no label code"),
        ("spicy_share => 0.6 -> loves_spicy", "must read '<feature> <op> <number>'"),
        ("spicy_share >= lots -> loves_spicy", "'lots' is not a number"),
        ("spicy_share >= inf -> loves_spicy", "not a finite number"),
        ("Spicy >= 0.6 -> loves_spicy", "feature 'Spicy'"),
        ("spicy_share >= 0.6 -> Loves Spicy", "code 'Loves Spicy'"),
        ("spicy_share >= 0.6 -> flavour:loves_spicy", "category 'flavour'"),
        ("a > 1 -> b -> c", "more than one '->'"),
        ("", "is empty"),
    ],
)
def test_errors_name_the_rule_and_the_problem(text: str, problem: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_rule(text)
    assert problem in str(caught.value)
    if text:
        assert caught.value.rule in str(caught.value)


def test_rule_labelling_looks_or_age_is_refused_at_parse_time() -> None:
    with pytest.raises(RuleError, match="not allowed as a label"):
        parse_rule("age >= 50 -> old_customer")


def test_rule_may_not_infer_a_sensitive_need_from_purchases() -> None:
    with pytest.raises(RuleError, match="sensitive"):
        parse_rule("peanut_share == 0 -> peanut_allergy")


def test_missing_feature_is_an_error_naming_rule_and_feature() -> None:
    rule = parse_rule("spicy_share >= 0.6 -> loves_spicy")
    with pytest.raises(RuleError, match="feature 'spicy_share' is missing"):
        evaluate_rule(rule, {"spicey_share": 0.9})


def test_parse_rules_skips_comments_and_refuses_duplicate_labels() -> None:
    parsed = parse_rules(["# taste", "", "spicy_share >= 0.6 -> loves_spicy  # hot pot"])
    assert [r.code for r in parsed] == ["loves_spicy"]
    with pytest.raises(RuleError, match="same label"):
        parse_rules(["a >= 1 -> x_code", "b >= 1 -> x_code"])


def test_evaluate_rules_returns_only_matches() -> None:
    rule_set = parse_rules(["a >= 1 -> one_code", "a >= 5 -> five_code"])
    matched = evaluate_rules(rule_set, {"a": 3})
    assert [(r.code, why) for r, why in matched] == [("one_code", "a=3 >= 1")]


def test_groupings_are_computed_only_never_typed_by_staff() -> None:
    for category in ("value_segment", "lifecycle", "lifestyle", "fan_level"):
        assert category in rules.CATEGORIES
        assert category not in rules.STAFF_CATEGORIES
    assert "service_need" in rules.STAFF_CATEGORIES
    assert "dining_preference" in rules.MEMBER_CATEGORIES


def test_sensitive_labels_are_for_serving_roles_and_the_member_only() -> None:
    for role in ("admin", "staff"):
        assert rules.may_see_sensitive(role, is_self=False)
    for role in ("pos", "marketer", "analyst"):
        assert not rules.may_see_sensitive(role, is_self=False)
    assert rules.may_see_sensitive("member", is_self=True)
    assert not rules.may_see_sensitive("member", is_self=False)


def test_modifier_code_fits_the_code_column() -> None:
    assert rules.modifier_code("no onions") == "modifier:no onions"
    assert rules.modifier_code("x" * 80) is None
