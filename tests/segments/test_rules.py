"""The segment language: parsing, printing, checking; junk never raises anything but
ExpressionError."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memberops.segments.rules import (
    MAX_DEPTH,
    And,
    Between,
    Call,
    Compare,
    ExpressionError,
    Flag,
    FunctionSpec,
    In,
    Node,
    Not,
    Or,
    check_expression,
    fields_used,
    format_expression,
    parse_expression,
)

FIELDS = {"visits": "number", "tier": "text", "vip": "bool", "last_visit": "date"}
FUNCTIONS = {
    "has_label": FunctionSpec(("text",), "label"),
    "consent": FunctionSpec(("text",), "consent", choices=("marketing", "profiling")),
}


def test_the_brief_example_parses() -> None:
    node = parse_expression(
        'tier in ("Gold Sea", "Black Sea") and visits >= 3 and consent("marketing")'
        ' and not has_label("no_coriander")'
    )
    assert node == And(
        (
            In("tier", ("Gold Sea", "Black Sea")),
            Compare("visits", ">=", 3),
            Call("consent", ("marketing",)),
            Not(Call("has_label", ("no_coriander",))),
        )
    )
    check_expression(node, FIELDS, FUNCTIONS)


def test_and_binds_tighter_than_or() -> None:
    assert parse_expression("vip or visits > 1 and tier == 'x'") == Or(
        (Flag("vip"), And((Compare("visits", ">", 1), Compare("tier", "==", "x"))))
    )


def test_keywords_ignore_case_and_single_equals_means_equal() -> None:
    assert parse_expression("visits = 2 AND NOT vip") == And(
        (Compare("visits", "==", 2), Not(Flag("vip")))
    )


def test_between_and_not_in() -> None:
    assert parse_expression("visits not between 1 and 2.5") == Between(
        "visits", 1, Decimal("2.5"), negated=True
    )
    assert parse_expression("tier not in ('a')") == In("tier", ("a",), negated=True)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("visits >= ", "column 11: expected a number, a quoted text or true/false, found the end"),
        ("visits >= 3 and", "column 16: expected a field or function, found the end"),
        ("(visits > 1", "column 12: expected ')', found the end"),
        ("visits > 1)", "column 11: unexpected ')'"),
        ("tier == 'open", "column 9: string is not closed"),
        ("visits # 3", "column 8: unexpected character '#'"),
        ("visits between 1 or 2", "column 18: expected 'and' in 'between'"),
        ("", "is empty"),
    ],
)
def test_syntax_errors_name_the_column(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as error:
        parse_expression(text)
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("vists >= 3", "column 1: unknown field 'vists' (did you mean 'visits'?)"),
        ("visits >= 'many'", "field 'visits' is number: compare it with a number"),
        ("tier > 'gold'", "field 'tier' is text: use == or !="),
        ("visits", "field 'visits' is number: compare it with something"),
        ("last_visit >= '2026-13-01'", 'compare it with a date like "2026-01-31"'),
        ("consent('spam')", "consent() takes one of: marketing, profiling"),
        ("has_lable('x')", "unknown function 'has_lable' (did you mean 'has_label'?)"),
        ("consent == 'x'", "'consent' is a function: write consent(...)"),
        ("visits('x')", "'visits' is a field, not a function"),
        ("has_label('a', 'b')", "has_label() takes 1 argument(s), got 2"),
        ("vip between true and false", "'between' needs order"),
    ],
)
def test_check_names_the_problem(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as error:
        check_expression(parse_expression(text), FIELDS, FUNCTIONS)
    assert message in str(error.value)


def test_nesting_is_bounded() -> None:
    deep = "(" * (MAX_DEPTH + 5) + "vip" + ")" * (MAX_DEPTH + 5)
    with pytest.raises(ExpressionError, match="nested more than"):
        parse_expression(deep)
    with pytest.raises(ExpressionError, match="nested more than"):
        parse_expression("not " * 500 + "vip")


def test_fields_used_in_order() -> None:
    node = parse_expression("tier == 'a' or (visits > 1 and tier == 'b' and consent('x'))")
    assert fields_used(node) == ["tier", "visits"]


# ----------------------------------------------------------------------------- properties
names = st.sampled_from(["visits", "tier", "vip", "last_visit", "x_1", "Spend"])
literals = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-1000, max_value=1000),
    st.text(max_size=12),
    st.booleans(),
)
leaves = st.one_of(
    st.builds(Compare, names, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), literals),
    st.builds(In, names, st.lists(literals, min_size=1, max_size=4).map(tuple), st.booleans()),
    st.builds(Between, names, literals, literals, st.booleans()),
    st.builds(Flag, names),
    st.builds(
        Call,
        st.sampled_from(["has_label", "consent"]),
        st.lists(literals, min_size=1, max_size=3).map(tuple),
    ),
)
trees: st.SearchStrategy[Node] = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.builds(And, st.lists(inner, min_size=2, max_size=4).map(tuple)),
        st.builds(Or, st.lists(inner, min_size=2, max_size=4).map(tuple)),
    ),
    max_leaves=15,
)


@given(trees)
@settings(max_examples=300, deadline=None)
def test_printed_trees_parse_back_to_themselves(tree: Node) -> None:
    assert parse_expression(format_expression(tree)) == tree


@given(st.text(max_size=200))
@settings(max_examples=500, deadline=None)
def test_junk_raises_only_expression_errors(text: str) -> None:
    with contextlib.suppress(ExpressionError):
        check_expression(parse_expression(text), FIELDS, FUNCTIONS)


tokens = st.sampled_from(
    [
        "visits",
        "tier",
        "(",
        ")",
        "and",
        "or",
        "not",
        "in",
        "between",
        ",",
        "==",
        ">=",
        "<",
        "3",
        "-2.5",
        "'a'",
        '"b"',
        "true",
        "consent",
        "has_label",
        "vip",
        "'",
        "!",
        "=",
        "\\",
    ]
)


@given(st.lists(tokens, max_size=40).map(" ".join))
@settings(max_examples=500, deadline=None)
def test_token_soup_raises_only_expression_errors(text: str) -> None:
    with contextlib.suppress(ExpressionError):
        check_expression(parse_expression(text), FIELDS, FUNCTIONS)
