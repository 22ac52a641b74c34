"""Lifestyle traits from what members order: the mapping, its validation and the threshold.

Seed 002 (Tesco) maps ~50 product categories to lifestyles and family traits (nappies ->
young parents, fruit and vegetables -> a healthy lifestyle). Here a TOML mapping names,
for each trait, the item categories, tags or SKUs that signal it; a member's score is the
share of their spend (or lines) in those items, and they have the trait at or above the
trait's threshold.

The mapping never infers a sensitive trait (docs/analytics.md, "Lifestyle segments"):
every trait id and label is screened by the label guard (`memberops.labels.screen`, the
same screening staff notes pass) and refused when the guard rejects it or holds it as
sensitive, and refused when it names a sensitive kind (health condition, religion,
ethnicity, pregnancy, ...) from `SENSITIVE_KINDS`. Errors name the file, line and field.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from typing import Any, Literal

from memberops.errors import ValidationError
from memberops.labels import screen

__all__ = [
    "SENSITIVE_KINDS",
    "LifestyleMapping",
    "Trait",
    "has_trait",
    "parse_mapping",
    "refusal_reason",
    "trait_matches",
]

Basis = Literal["spend", "lines"]

# Word stems of the kinds of trait no purchase may be read as: special categories of
# personal data (GDPR art. 9, PIPL art. 28) and what they are commonly guessed from.
SENSITIVE_KINDS: dict[str, str] = {
    "health": "health condition",
    "medical": "health condition",
    "illness": "health condition",
    "ill": "health condition",
    "disease": "health condition",
    "diagnos": "health condition",
    "diabet": "health condition",
    "patient": "health condition",
    "allerg": "health condition",
    "intoleran": "health condition",
    "disab": "disability",
    "pregnan": "pregnancy",
    "expecting": "pregnancy",
    "maternity": "pregnancy",
    "relig": "religion",
    "faith": "religion",
    "halal": "religion",
    "kosher": "religion",
    "muslim": "religion",
    "jewish": "religion",
    "christian": "religion",
    "buddhis": "religion",
    "hindu": "religion",
    "ethnic": "ethnicity",
    "race": "ethnicity",
    "racial": "ethnicity",
    "nationality": "ethnicity",
    "minority": "ethnicity",
    "sexual": "sexual orientation",
    "gay": "sexual orientation",
    "lesbian": "sexual orientation",
    "politic": "political opinion",
    "union": "trade union membership",
    "criminal": "criminal record",
    "income": "financial situation",
    "poor": "financial situation",
    "debt": "financial situation",
}
# "health" alone is a sensitive kind, but "health-conscious" (a choice of dishes, seed
# 002's own example) is not: these exact words are allowed past the stem check.
_ALLOWED_WORDS = frozenset({"conscious", "healthy"})
_WORDS = re.compile(r"[a-z]+|[^\x00-\x7f]+")


@dataclass(frozen=True)
class Trait:
    """One lifestyle trait and the items that signal it (any category, tag or SKU)."""

    id: str
    label: str
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    threshold: float = 0.2
    line: int = 0  # where it is defined in its file, for messages


@dataclass(frozen=True)
class LifestyleMapping:
    """A validated mapping: traits, the score basis and how far back orders are read."""

    traits: tuple[Trait, ...]
    basis: Basis = "spend"
    lookback_days: int = 365
    source: str = "mapping"

    def trait_ids(self) -> list[str]:
        """Trait ids in file order."""
        return [t.id for t in self.traits]


def refusal_reason(text: str) -> str | None:
    """Why `text` may not name a trait (None when it may).

    Refused: what the label guard rejects or holds as sensitive, and any word naming a
    sensitive kind.

    >>> refusal_reason("family_with_children") is None
    True
    >>> refusal_reason("halal_diner")
    'names a sensitive kind (religion)'
    """
    words = _WORDS.findall(text.lower().replace("_", " ").replace("-", " "))
    for word in words:
        if word in _ALLOWED_WORDS:
            continue
        for stem, kind in SENSITIVE_KINDS.items():
            if word == stem or (len(stem) > 3 and word.startswith(stem)):
                if stem == "health" and "conscious" in words:
                    break  # "health conscious": a choice of dishes, not a condition
                return f"names a sensitive kind ({kind})"
    screening = screen(" ".join(words))
    if screening.verdict in ("reject", "sensitive") or screening.sensitive_categories:
        kinds = ", ".join(screening.sensitive_categories) or "refused"
        return f"the label guard refuses it ({kinds})"
    return None


def _line_of(lines: list[str], needle: str, start: int) -> int:
    for number in range(start, len(lines)):
        if needle in lines[number]:
            return number + 1
    return start + 1


def _strings(
    value: Any, *, record: str, field: str, pattern: re.Pattern[str] | None = None
) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValidationError(record, field, "must be a list of non-empty strings")
    if pattern is not None:
        for v in value:
            if not pattern.fullmatch(v):
                raise ValidationError(record, field, "holds an entry that is not a valid code")
    return tuple(value)


_ID = re.compile(r"[a-z][a-z0-9_]{1,39}")
_CODE = re.compile(r"[A-Za-z0-9_.\- ]{1,64}")


def parse_mapping(text: str, *, source: str = "mapping") -> LifestyleMapping:
    """Read and validate a mapping (TOML text); `source` names it in messages.

    Layout: optional top-level `basis` ("spend" or "lines"), `threshold` (default for
    traits) and `lookback_days`; then one `[[traits]]` table per trait with `id`
    (lower-case, digits, underscores), `label`, any of `categories`, `tags`, `skus`, and
    an optional `threshold` in (0, 1].
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(source, "toml", f"not valid TOML ({exc})") from None
    lines = text.splitlines()
    known = {"basis", "threshold", "lookback_days", "traits"}
    for key in data:
        if key not in known:
            raise ValidationError(
                f"{source} line {_line_of(lines, key, 0)}", key, "is not a known setting"
            )
    basis = data.get("basis", "spend")
    if basis not in ("spend", "lines"):
        line = _line_of(lines, "basis", 0)
        raise ValidationError(f"{source} line {line}", "basis", 'must be "spend" or "lines"')
    default_threshold = data.get("threshold", 0.2)
    if not isinstance(default_threshold, int | float) or not 0 < default_threshold <= 1:
        line = _line_of(lines, "threshold", 0)
        raise ValidationError(f"{source} line {line}", "threshold", "must be in (0, 1]")
    lookback = data.get("lookback_days", 365)
    if not isinstance(lookback, int) or isinstance(lookback, bool) or lookback < 1:
        line = _line_of(lines, "lookback_days", 0)
        raise ValidationError(
            f"{source} line {line}", "lookback_days", "must be a whole number of days >= 1"
        )
    raw_traits = data.get("traits")
    if not isinstance(raw_traits, list) or not raw_traits:
        raise ValidationError(source, "traits", "at least one [[traits]] table is needed")
    headers = [i for i, line in enumerate(lines) if line.strip().startswith("[[traits]]")]
    traits: list[Trait] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_traits):
        start = headers[index] if index < len(headers) else 0
        where = f"{source} line {start + 1}"
        if not isinstance(raw, dict):
            raise ValidationError(where, f"traits[{index}]", "must be a table")
        for key in raw:
            if key not in ("id", "label", "categories", "tags", "skus", "threshold"):
                line = _line_of(lines, key, start)
                raise ValidationError(
                    f"{source} line {line}", f"traits[{index}].{key}", "is not a known field"
                )
        trait_id = raw.get("id")
        if not isinstance(trait_id, str) or not _ID.fullmatch(trait_id):
            line = _line_of(lines, "id", start)
            raise ValidationError(
                f"{source} line {line}",
                f"traits[{index}].id",
                "must be 2-40 lower-case letters, digits or underscores, starting with a letter",
            )
        label = raw.get("label", trait_id)
        if not isinstance(label, str) or not label.strip() or len(label) > 80:
            line = _line_of(lines, "label", start)
            raise ValidationError(
                f"{source} line {line}", f"traits[{index}].label", "must be 1-80 characters"
            )
        for field, value in (("id", trait_id), ("label", label)):
            reason = refusal_reason(value)
            if reason is not None:
                line = _line_of(lines, value, start)
                raise ValidationError(
                    f"{source} line {line}",
                    f"traits[{index}].{field}",
                    f"sensitive trait refused: {reason}",
                )
        if trait_id in seen:
            line = _line_of(lines, trait_id, start)
            raise ValidationError(
                f"{source} line {line}", f"traits[{index}].id", "is defined twice"
            )
        seen.add(trait_id)
        record = f"{source} line {start + 1}"
        categories = _strings(
            raw.get("categories"), record=record, field=f"traits[{index}].categories"
        )
        tags = _strings(raw.get("tags"), record=record, field=f"traits[{index}].tags")
        skus = _strings(
            raw.get("skus"), record=record, field=f"traits[{index}].skus", pattern=_CODE
        )
        if not (categories or tags or skus):
            raise ValidationError(
                record, f"traits[{index}]", "names no categories, tags or skus to score"
            )
        threshold = raw.get("threshold", default_threshold)
        if (
            not isinstance(threshold, int | float)
            or isinstance(threshold, bool)
            or not 0 < threshold <= 1
        ):
            line = _line_of(lines, "threshold", start)
            raise ValidationError(
                f"{source} line {line}", f"traits[{index}].threshold", "must be in (0, 1]"
            )
        traits.append(
            Trait(
                id=trait_id,
                label=label.strip(),
                categories=categories,
                tags=tags,
                skus=skus,
                threshold=float(threshold),
                line=start + 1,
            )
        )
    return LifestyleMapping(
        traits=tuple(traits), basis=basis, lookback_days=lookback, source=source
    )


def trait_matches(trait: Trait, *, sku: str, category: str, tags: tuple[str, ...]) -> bool:
    """Whether an item signals `trait` (its category, one of its tags or its SKU is named)."""
    return (
        category in trait.categories or sku in trait.skus or any(tag in trait.tags for tag in tags)
    )


def has_trait(score: float, threshold: float) -> bool:
    """A member has a trait when their score reaches the trait's threshold.

    >>> has_trait(0.25, 0.25), has_trait(0.2499, 0.25)
    (True, False)
    """
    return score >= threshold
