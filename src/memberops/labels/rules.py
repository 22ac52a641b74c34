"""Label policy and the computed-label rule language, as plain functions over plain data.

Nothing here touches a database: the categories and sources a label may have, which
roles may write or read which labels, and the small rule language the pipeline uses to
turn profile features into computed labels.

The rule language (one rule per line)::

    <feature> <op> <number> [and <feature> <op> <number> ...] -> [<category>:]<code>

    spicy_share >= 0.6 -> loves_spicy
    visits_90d >= 6 and repurchase_rate >= 0.5 -> fan_level:hardcore_fan

``op`` is one of ``>= > <= < == !=``. A code without a category takes the default
category given to `parse_rule` (``dining_preference``). A rule matches when every
condition holds. Codes are screened by the label guard when the rule is parsed, so a
rule such as ``bmi >= 30 -> obese`` or ``age >= 50 -> old_customer`` is refused before
it can label anyone (seed 000: no physical characteristics, no guessed age), and a rule
may not infer a sensitive need (health, religion, allergy) from purchases: those are
recorded only from what the member or staff state, with consent.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from memberops.errors import RuleError
from memberops.labels.guard import screen

__all__ = [
    "CATEGORIES",
    "COMPUTED_ONLY_CATEGORIES",
    "DEFAULT_RULE_CATEGORY",
    "LABEL_READER_ROLES",
    "LABEL_WRITER_ROLES",
    "MEMBER_CATEGORIES",
    "MODIFIER_CODE_PREFIX",
    "MODIFIER_MIN_ORDERS",
    "MODIFIER_RULE_ID",
    "OPERATORS",
    "SENSITIVE_READER_ROLES",
    "SOURCES",
    "STAFF_CATEGORIES",
    "STATUSES",
    "Condition",
    "Rule",
    "evaluate_rule",
    "evaluate_rules",
    "is_current_status",
    "may_see_sensitive",
    "modifier_code",
    "parse_rule",
    "parse_rules",
]

# What a label is about. Serving people (dining preference, service need, occasion,
# channel) and grouping them (value segment, lifecycle, lifestyle, fan level), PRODUCT.md §5.
CATEGORIES = (
    "dining_preference",  # loves tomato broth, ice in the lemon juice
    "service_need",  # no onions, high chair, quiet corner
    "occasion",  # birthday dinner, business lunch
    "value_segment",  # top 20% by revenue, premium vs value
    "lifecycle",  # new, active, lapsing, silent
    "lifestyle",  # young parents, healthy living (Tesco-style, from purchases)
    "fan_level",  # hardcore fan, general fan, silent user
    "channel_preference",  # prefers the mini-program, orders delivery
    "communication",  # shares, refers, reviews (communication power)
)

# Groupings are computed from behaviour, never typed: a waiter typing "low value" or
# "silent user" about a guest is a judgement of the person, not a service need.
COMPUTED_ONLY_CATEGORIES = ("value_segment", "lifecycle", "lifestyle", "fan_level", "communication")
STAFF_CATEGORIES = tuple(c for c in CATEGORIES if c not in COMPUTED_ONLY_CATEGORIES)
MEMBER_CATEGORIES = STAFF_CATEGORIES

SOURCES = ("computed", "staff", "member", "import")
STATUSES = ("active", "disputed", "deleted", "quarantined", "expired")

# Roles allowed to write a label about a member from the store or the back office.
LABEL_WRITER_ROLES = ("admin", "staff", "pos")
# Roles allowed to read a member's labels at all (members read their own, see below).
LABEL_READER_ROLES = ("admin", "staff", "marketer", "system")
# Sensitive needs (allergy, health, religious or disability needs) are for serving the
# member at the table; marketing and analysis have no need for them (GDPR Art. 9, PIPL
# Art. 28-29), so marketer and analyst keys never see them.
SENSITIVE_READER_ROLES = ("admin", "staff", "system")

DEFAULT_RULE_CATEGORY = "dining_preference"

# Service needs derived from order-line modifiers ("no onions"): a modifier seen on at
# least this many distinct orders of the member becomes a computed service_need label.
# Two orders separate a habit from a one-off ("no onions, just today") while still
# labelling a need after the second visit.
MODIFIER_MIN_ORDERS = 2
MODIFIER_RULE_ID = "service_need.modifier"
MODIFIER_CODE_PREFIX = "modifier:"
_CODE_COLUMN_LENGTH = 64

OPERATORS = (">=", "<=", "==", "!=", ">", "<")
_FEATURE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_CONDITION = re.compile(r"^\s*(?P<feature>\S+)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<number>\S+)\s*$")


@dataclass(frozen=True)
class Condition:
    """One comparison of a feature with a number."""

    feature: str
    op: str
    threshold: float

    def holds(self, value: float) -> bool:
        """Whether `value` satisfies the comparison (NaN never does)."""
        if math.isnan(value):
            return False
        if self.op == ">=":
            return value >= self.threshold
        if self.op == ">":
            return value > self.threshold
        if self.op == "<=":
            return value <= self.threshold
        if self.op == "<":
            return value < self.threshold
        if self.op == "==":
            return value == self.threshold
        return value != self.threshold

    def describe(self, value: float) -> str:
        """`spicy_share=0.72 >= 0.6`: the provenance of a computed label."""
        return f"{self.feature}={value:g} {self.op} {self.threshold:g}"


@dataclass(frozen=True)
class Rule:
    """A parsed rule: all conditions must hold for the member to get `category`/`code`."""

    rule_id: str
    source: str
    conditions: tuple[Condition, ...]
    category: str
    code: str

    @property
    def features(self) -> frozenset[str]:
        """The features the rule reads."""
        return frozenset(c.feature for c in self.conditions)


def _parse_number(rule: str, raw: str) -> float:
    try:
        number = float(raw)
    except ValueError:
        raise RuleError(rule, f"{raw!r} is not a number") from None
    if not math.isfinite(number):
        raise RuleError(rule, f"{raw!r} is not a finite number")
    return number


def _screen_code(rule: str, category: str, code: str) -> None:
    screening = screen(code.replace("_", " "))
    if screening.verdict == "reject":
        categories = ", ".join(sorted({s.category for s in screening.spans})) or "forbidden"
        raise RuleError(rule, f"code {code!r} is not allowed as a label ({categories})")
    if screening.verdict == "sensitive":
        categories = ", ".join(screening.sensitive_categories)
        raise RuleError(
            rule,
            f"code {code!r} would infer a sensitive need ({categories}); sensitive needs are"
            " recorded only when stated, with consent",
        )
    if category not in CATEGORIES:
        raise RuleError(rule, f"category {category!r} is not one of {', '.join(CATEGORIES)}")


def parse_rule(
    text: str, *, rule_id: str | None = None, default_category: str = DEFAULT_RULE_CATEGORY
) -> Rule:
    """Parse one rule; `RuleError` names the rule and what is wrong with it.

    >>> r = parse_rule("spicy_share >= 0.6 -> loves_spicy")
    >>> r.category, r.code, r.conditions[0].threshold
    ('dining_preference', 'loves_spicy', 0.6)
    """
    source = " ".join(text.split())
    if not source:
        raise RuleError(text, "is empty")
    condition_part, arrow, target = source.partition("->")
    if not arrow:
        raise RuleError(source, "has no '->' between the condition and the label code")
    if "->" in target:
        raise RuleError(source, "has more than one '->'")
    target = target.strip()
    if not target:
        raise RuleError(source, "names no label code after '->'")
    category, colon, code = target.partition(":")
    if not colon:
        category, code = default_category, target
    if not _CODE.match(code):
        raise RuleError(
            source, f"code {code!r} must be lower-case letters, digits and '_' (at most 48)"
        )
    conditions: list[Condition] = []
    for part in re.split(r"\s+and\s+", condition_part.strip()):
        match = _CONDITION.match(part)
        if match is None:
            raise RuleError(
                source,
                f"condition {part.strip()!r} must read '<feature> <op> <number>'"
                f" with op one of {' '.join(OPERATORS)}",
            )
        feature = match["feature"]
        if not _FEATURE.match(feature):
            raise RuleError(
                source, f"feature {feature!r} must be lower-case letters, digits and '_'"
            )
        conditions.append(Condition(feature, match["op"], _parse_number(source, match["number"])))
    _screen_code(source, category, code)
    if rule_id is None:
        # Stable across runs, so a refresh finds the labels the same rule made before.
        rule_id = "rule:" + hashlib.sha256(source.encode()).hexdigest()[:16]
    return Rule(
        rule_id=rule_id,
        source=source,
        conditions=tuple(conditions),
        category=category,
        code=code,
    )


def parse_rules(
    lines: Iterable[str], *, default_category: str = DEFAULT_RULE_CATEGORY
) -> list[Rule]:
    """Parse a rule file's lines; blank lines and `#` comments are skipped.

    Two rules giving the same category and code are refused: a computed label must have
    exactly one explanation.
    """
    rules: list[Rule] = []
    seen: dict[tuple[str, str], str] = {}
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        rule = parse_rule(line, default_category=default_category)
        key = (rule.category, rule.code)
        if key in seen:
            raise RuleError(rule.source, f"gives the same label as {seen[key]!r}")
        seen[key] = rule.source
        rules.append(rule)
    return rules


def evaluate_rule(rule: Rule, features: Mapping[str, float]) -> str | None:
    """The provenance text when the rule matches `features`, else None.

    A feature the rule reads but `features` lacks is an error, not a silent "no": a
    misspelt feature would otherwise switch a label off for everyone.
    """
    described: list[str] = []
    for condition in rule.conditions:
        if condition.feature not in features:
            raise RuleError(rule.source, f"feature {condition.feature!r} is missing")
        raw = features[condition.feature]
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise RuleError(rule.source, f"feature {condition.feature!r} is not a number") from None
        if not condition.holds(value):
            return None
        described.append(condition.describe(value))
    return " and ".join(described)


def evaluate_rules(rules: Sequence[Rule], features: Mapping[str, float]) -> list[tuple[Rule, str]]:
    """The rules that match, each with the provenance of its match."""
    matched: list[tuple[Rule, str]] = []
    for rule in rules:
        why = evaluate_rule(rule, features)
        if why is not None:
            matched.append((rule, why))
    return matched


def modifier_code(modifier: str) -> str | None:
    """`modifier:no onions`, or None when the modifier is too long for the code column."""
    code = MODIFIER_CODE_PREFIX + modifier
    return code if len(code) <= _CODE_COLUMN_LENGTH else None


def may_see_sensitive(role: str, *, is_self: bool) -> bool:
    """Whether a reader in `role` sees sensitive labels (the member always sees their own)."""
    return is_self or role in SENSITIVE_READER_ROLES


def is_current_status(status: str) -> bool:
    """Statuses shown to staff at the table: active, and disputed (flagged as such)."""
    return status in ("active", "disputed")
