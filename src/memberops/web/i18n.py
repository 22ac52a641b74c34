"""Message catalogues: Simplified Chinese and English, one JSON file per language.

Templates call `t("desk.title")`; a key missing from a catalogue falls back to English
and then to the key itself, so a page never fails on a missing translation (a test
checks that both catalogues hold the same keys).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "catalogue", "pick_language", "translate"]

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
_DIR = Path(__file__).parent / "locales"


@cache
def catalogue(language: str) -> dict[str, str]:
    """The messages of one language."""
    data: dict[str, str] = json.loads((_DIR / f"{language}.json").read_text(encoding="utf-8"))
    return data


def translate(language: str, key: str, **values: object) -> str:
    """One message in `language`, with `{name}` placeholders filled."""
    text = catalogue(language).get(key) or catalogue("en").get(key) or key
    return text.format(**values) if values else text


def pick_language(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's choice, else the browser's first supported language, else Chinese."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LANGUAGE
