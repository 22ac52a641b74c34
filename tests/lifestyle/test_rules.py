"""The lifestyle mapping: never a sensitive trait, errors that name file, line and field."""

from __future__ import annotations

import pytest

from memberops.errors import ValidationError
from memberops.lifestyle.rules import Trait, has_trait, parse_mapping, refusal_reason, trait_matches
from memberops.lifestyle.service import default_mapping

GOOD = """basis = "spend"

[[traits]]
id = "family_with_children"
label = "Family with children"
categories = ["kids"]
"""


def test_the_shipped_mapping_is_valid() -> None:
    mapping = default_mapping()
    assert "family_with_children" in mapping.trait_ids()
    assert "health_conscious" in mapping.trait_ids()


@pytest.mark.parametrize(
    "name",
    [
        "diabetic",
        "halal_diner",
        "pregnant_guests",
        "ethnic_cuisine_fan",
        "muslim",
        "gout_patient",
        "low_income",
        "religious_family",
        "allergy_sufferer",
    ],
)
def test_sensitive_names_are_refused(name: str) -> None:
    assert refusal_reason(name) is not None


@pytest.mark.parametrize(
    "name",
    ["family_with_children", "health_conscious", "Health-conscious", "premium", "sweet_tooth"],
)
def test_menu_choices_are_allowed(name: str) -> None:
    assert refusal_reason(name) is None


def test_a_sensitive_trait_is_refused_with_its_line() -> None:
    text = GOOD + '\n[[traits]]\nid = "diabetic_diet"\nlabel = "Diabetic diet"\ntags = ["sweet"]\n'
    with pytest.raises(ValidationError) as caught:
        parse_mapping(text, source="mine.toml")
    error = caught.value
    assert error.record == "mine.toml line 9"
    assert error.field == "traits[1].id"
    assert "sensitive trait refused" in error.reason


def test_a_sensitive_label_is_refused_even_with_a_neutral_id() -> None:
    text = GOOD + '\n[[traits]]\nid = "cuisine_a"\nlabel = "Halal eaters"\ncategories = ["meats"]\n'
    with pytest.raises(ValidationError) as caught:
        parse_mapping(text, source="mine.toml")
    assert (caught.value.record, caught.value.field) == ("mine.toml line 10", "traits[1].label")


def test_what_the_label_guard_refuses_is_refused() -> None:
    # No denylist word: the guard itself rejects a guess at age.
    text = GOOD + '\n[[traits]]\nid = "elderly"\nlabel = "Elderly"\ncategories = ["broths"]\n'
    with pytest.raises(ValidationError, match="label guard"):
        parse_mapping(text, source="mine.toml")


@pytest.mark.parametrize(
    ("text", "record", "field"),
    [
        ("not toml [", "m.toml", "toml"),
        ('basis = "money"\n' + GOOD.split("\n", 1)[1], "m.toml line 1", "basis"),
        ("colour = 1\n" + GOOD, "m.toml line 1", "colour"),
        (GOOD + "threshold = 2\n", "m.toml line 7", "traits[0].threshold"),
        (GOOD.replace('categories = ["kids"]', "skus = []"), "m.toml line 3", "traits[0]"),
        (GOOD.replace('"family_with_children"', '"Family!"'), "m.toml line 4", "traits[0].id"),
        (GOOD + GOOD.split("\n", 2)[2], "m.toml line 8", "traits[1].id"),
        ('basis = "spend"\n', "m.toml", "traits"),
    ],
)
def test_malformed_mappings_name_line_and_field(text: str, record: str, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_mapping(text, source="m.toml")
    assert (caught.value.record, caught.value.field) == (record, field)


def test_items_match_by_category_tag_or_sku() -> None:
    trait = Trait(id="t", label="t", categories=("kids",), tags=("premium",), skus=("BR002",))
    assert trait_matches(trait, sku="X", category="kids", tags=())
    assert trait_matches(trait, sku="X", category="meats", tags=("premium",))
    assert trait_matches(trait, sku="BR002", category="broths", tags=())
    assert not trait_matches(trait, sku="BR001", category="broths", tags=("spicy",))
    assert has_trait(0.2, 0.2) and not has_trait(0.19, 0.2)
