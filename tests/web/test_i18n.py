"""Both catalogues hold the same keys, every key a template names exists, and the guard's
categories all have a message in both languages."""

from __future__ import annotations

import re
from pathlib import Path

from memberops.labels.guard import FORBIDDEN_CATEGORIES, SENSITIVE_CATEGORIES
from memberops.labels.rules import CATEGORIES
from memberops.web.i18n import catalogue, pick_language, translate

TEMPLATES = Path(__file__).parents[2] / "src" / "memberops" / "web" / "templates"


def test_catalogues_have_the_same_keys() -> None:
    assert set(catalogue("zh")) == set(catalogue("en"))


def test_every_literal_key_in_the_templates_exists() -> None:
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"\bt\('([a-z_.-]+)'[,)]", template.read_text(encoding="utf-8")))
    missing = sorted(k for k in used if k not in catalogue("en"))
    assert missing == []


def test_every_guard_and_label_category_is_translated() -> None:
    for category in (*FORBIDDEN_CATEGORIES, *SENSITIVE_CATEGORIES):
        assert f"guard.{category}" in catalogue("zh"), category
    for category in CATEGORIES:
        assert f"label.{category}" in catalogue("zh"), category


def test_language_choice() -> None:
    assert pick_language("en", "zh-CN") == "en"
    assert pick_language(None, "en-GB,en;q=0.8") == "en"
    assert pick_language(None, "zh-TW,zh;q=0.9") == "zh"
    assert pick_language("fr", None) == "zh"


def test_missing_key_falls_back_to_the_key() -> None:
    assert translate("zh", "desk.times", n=3) == "3 次"
    assert translate("zh", "no.such.key") == "no.such.key"
