"""The segment language: a tokenizer, a recursive-descent parser and a checker. Pure.

    tier in ("gold", "black") and visits >= 3 and days_since_last_visit <= 90
        and consent("marketing") and not has_label("no_coriander")

Grammar (keywords are case-insensitive)::

    expression := or
    or         := and ("or" and)*
    and        := not ("and" not)*
    not        := "not" not | primary
    primary    := "(" expression ")"
                | NAME "(" literal ("," literal)* ")"            a function
                | NAME op literal                                op: == = != < <= > >=
                | NAME ["not"] "in" "(" literal ("," literal)* ")"
                | NAME ["not"] "between" literal "and" literal
                | NAME                                           a bool field
    literal    := NUMBER | STRING | "true" | "false"

Text is never evaluated: the parser builds plain dataclasses and the compiler turns them
into SQL with bound parameters. Every problem is an `ExpressionError` naming the column
(1-based) and the problem; nothing else escapes `parse_expression` or `check_expression`.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Union

from memberops.errors import ValidationError

__all__ = [
    "KINDS",
    "MAX_DEPTH",
    "MAX_EXPRESSION_CHARS",
    "And",
    "Between",
    "Call",
    "Compare",
    "ExpressionError",
    "Flag",
    "FunctionSpec",
    "In",
    "Literal",
    "Node",
    "Not",
    "Or",
    "check_expression",
    "fields_used",
    "format_expression",
    "parse_expression",
]

KINDS = ("number", "text", "bool", "date")
MAX_EXPRESSION_CHARS = 4000
# Deep enough for any segment a person writes; shallow enough that the recursive parser
# (and the SQL it compiles to) never nears Python's recursion limit.
MAX_DEPTH = 40

Literal = int | Decimal | str | bool
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
_KEYWORDS = frozenset({"and", "or", "not", "in", "between", "true", "false"})


class ExpressionError(ValidationError):
    """A segment expression that cannot be parsed or does not fit the fields.

    `column` is 1-based (0 when the problem is the whole expression).
    """

    def __init__(self, column: int, problem: str) -> None:
        self.column = column
        self.problem = problem
        where = f"column {column}: " if column else ""
        super().__init__("segment", "expression", f"{where}{problem}")


# ----------------------------------------------------------------------------- the tree
@dataclass(frozen=True)
class Compare:
    """`field op value`."""

    field: str
    op: str
    value: Literal
    column: int = dataclasses.field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class In:
    """`field [not] in (values...)`."""

    field: str
    values: tuple[Literal, ...]
    negated: bool = False
    column: int = dataclasses.field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Between:
    """`field [not] between low and high` (both ends included)."""

    field: str
    low: Literal
    high: Literal
    negated: bool = False
    column: int = dataclasses.field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Flag:
    """A bool field on its own: `is_active`."""

    field: str
    column: int = dataclasses.field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Call:
    """A predicate function: `has_label("no_coriander")`, `consent("marketing")`."""

    name: str
    args: tuple[Literal, ...]
    column: int = dataclasses.field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Not:
    """`not item`."""

    item: Node
    column: int = dataclasses.field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class And:
    """All items hold (two or more)."""

    items: tuple[Node, ...]
    column: int = dataclasses.field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class Or:
    """At least one item holds (two or more)."""

    items: tuple[Node, ...]
    column: int = dataclasses.field(default=0, compare=False, repr=False)


Node = Union[Compare, In, Between, Flag, Call, Not, And, Or]  # noqa: UP007 (forward refs)


# ----------------------------------------------------------------------------- tokens
@dataclass(frozen=True)
class _Token:
    kind: str  # name | keyword | number | string | op | ( | ) | , | end
    text: str
    value: Literal | None
    column: int


_SPACE = re.compile(r"\s+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?![A-Za-z0-9_.])")
_OPS = ("==", "!=", "<=", ">=", "<", ">", "=")


def _tokens(text: str) -> Iterator[_Token]:
    i = 0
    n = len(text)
    while i < n:
        space = _SPACE.match(text, i)
        if space:
            i = space.end()
            continue
        column = i + 1
        ch = text[i]
        if ch in "(),":
            yield _Token(ch, ch, None, column)
            i += 1
            continue
        if ch in "\"'":
            value, i = _string(text, i)
            yield _Token("string", text[column - 1 : i], value, column)
            continue
        number = _NUMBER.match(text, i)
        if number:
            raw = number.group()
            yield _Token("number", raw, Decimal(raw) if "." in raw else int(raw), column)
            i = number.end()
            continue
        name = _NAME.match(text, i)
        if name:
            word = name.group()
            if word.lower() in _KEYWORDS:
                yield _Token("keyword", word.lower(), None, column)
            else:
                yield _Token("name", word, None, column)
            i = name.end()
            continue
        op = next((o for o in _OPS if text.startswith(o, i)), None)
        if op is not None:
            yield _Token("op", "==" if op == "=" else op, None, column)
            i += len(op)
            continue
        raise ExpressionError(column, f"unexpected character {ch!r}")
    yield _Token("end", "", None, n + 1)


def _string(text: str, start: int) -> tuple[str, int]:
    """A quoted string from `start`; backslash escapes the quote and itself."""
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in (quote, "\\"):
            out.append(text[i + 1])
            i += 2
            continue
        if ch == quote:
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise ExpressionError(start + 1, "string is not closed")


# ----------------------------------------------------------------------------- parser
class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = list(_tokens(text))
        self.at = 0
        self.depth = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.at]

    def advance(self) -> _Token:
        token = self.tokens[self.at]
        self.at = min(self.at + 1, len(self.tokens) - 1)
        return token

    def is_keyword(self, word: str) -> bool:
        return self.token.kind == "keyword" and self.token.text == word

    def expect(self, kind: str, what: str) -> _Token:
        if self.token.kind != kind:
            raise ExpressionError(self.token.column, f"expected {what}, found {_shown(self.token)}")
        return self.advance()

    def nested(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(self.token.column, f"nested more than {MAX_DEPTH} levels deep")

    def expression(self) -> Node:
        self.nested()
        column = self.token.column
        items = [self.conjunction()]
        while self.is_keyword("or"):
            self.advance()
            items.append(self.conjunction())
        self.depth -= 1
        return items[0] if len(items) == 1 else Or(tuple(items), column)

    def conjunction(self) -> Node:
        column = self.token.column
        items = [self.negation()]
        while self.is_keyword("and"):
            self.advance()
            items.append(self.negation())
        return items[0] if len(items) == 1 else And(tuple(items), column)

    def negation(self) -> Node:
        if self.is_keyword("not"):
            column = self.advance().column
            self.nested()
            item = self.negation()
            self.depth -= 1
            return Not(item, column)
        return self.primary()

    def primary(self) -> Node:
        token = self.token
        if token.kind == "(":
            self.advance()
            inner = self.expression()
            self.expect(")", "')'")
            return inner
        if token.kind != "name":
            raise ExpressionError(
                token.column, f"expected a field or function, found {_shown(token)}"
            )
        self.advance()
        name, column = token.text, token.column
        nxt = self.token
        if nxt.kind == "(":
            self.advance()
            return Call(name, self.literal_list(), column)
        if nxt.kind == "op":
            self.advance()
            return Compare(name, nxt.text, self.literal(), column)
        negated = False
        if self.is_keyword("not"):
            self.advance()
            negated = True
            if not (self.is_keyword("in") or self.is_keyword("between")):
                raise ExpressionError(
                    self.token.column, f"expected 'in' or 'between', found {_shown(self.token)}"
                )
        if self.is_keyword("in"):
            self.advance()
            self.expect("(", "'(' after 'in'")
            return In(name, self.literal_list(), negated, column)
        if self.is_keyword("between"):
            self.advance()
            low = self.literal()
            if not self.is_keyword("and"):
                raise ExpressionError(
                    self.token.column, f"expected 'and' in 'between', found {_shown(self.token)}"
                )
            self.advance()
            return Between(name, low, self.literal(), negated, column)
        return Flag(name, column)

    def literal_list(self) -> tuple[Literal, ...]:
        """Literals separated by commas, up to the closing parenthesis (already past '(')."""
        values = [self.literal()]
        while self.token.kind == ",":
            self.advance()
            values.append(self.literal())
        self.expect(")", "',' or ')'")
        return tuple(values)

    def literal(self) -> Literal:
        token = self.token
        if token.kind in ("number", "string"):
            self.advance()
            assert token.value is not None
            return token.value
        if token.kind == "keyword" and token.text in ("true", "false"):
            self.advance()
            return token.text == "true"
        raise ExpressionError(
            token.column, f"expected a number, a quoted text or true/false, found {_shown(token)}"
        )


def _shown(token: _Token) -> str:
    if token.kind == "end":
        return "the end"
    return repr(token.text[:30])


def parse_expression(text: str) -> Node:
    """Parse a segment expression into its tree; ExpressionError on any problem.

    >>> parse_expression('visits >= 3 or consent("marketing")').items[0]
    Compare(field='visits', op='>=', value=3)
    """
    if not isinstance(text, str):
        raise ExpressionError(0, "must be text")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(0, f"longer than {MAX_EXPRESSION_CHARS} characters")
    if not text.strip():
        raise ExpressionError(0, "is empty")
    parser = _Parser(text)
    node = parser.expression()
    if parser.token.kind != "end":
        raise ExpressionError(parser.token.column, f"unexpected {_shown(parser.token)}")
    return node


# ----------------------------------------------------------------------------- printing
def _literal_text(value: Literal) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_expression(node: Node) -> str:
    """The canonical text of a tree; `parse_expression(format_expression(t)) == t`."""
    if isinstance(node, Compare):
        return f"{node.field} {node.op} {_literal_text(node.value)}"
    if isinstance(node, In):
        values = ", ".join(_literal_text(v) for v in node.values)
        return f"{node.field} {'not in' if node.negated else 'in'} ({values})"
    if isinstance(node, Between):
        word = "not between" if node.negated else "between"
        return f"{node.field} {word} {_literal_text(node.low)} and {_literal_text(node.high)}"
    if isinstance(node, Flag):
        return node.field
    if isinstance(node, Call):
        return f"{node.name}({', '.join(_literal_text(a) for a in node.args)})"
    if isinstance(node, Not):
        inner = format_expression(node.item)
        return f"not ({inner})" if isinstance(node.item, And | Or) else f"not {inner}"
    word = " and " if isinstance(node, And) else " or "
    return word.join(
        f"({format_expression(i)})" if isinstance(i, And | Or) else format_expression(i)
        for i in node.items
    )


# ----------------------------------------------------------------------------- checking
@dataclass(frozen=True)
class FunctionSpec:
    """What a predicate function takes: the kinds of its arguments, and allowed values."""

    args: tuple[str, ...]
    description: str
    choices: tuple[str, ...] = ()


def _walk(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, Not):
        yield from _walk(node.item)
    elif isinstance(node, And | Or):
        for item in node.items:
            yield from _walk(item)


def fields_used(node: Node) -> list[str]:
    """Field names the expression reads, in first-use order (functions excluded)."""
    seen: dict[str, None] = {}
    for n in _walk(node):
        if isinstance(n, Compare | In | Between | Flag):
            seen.setdefault(n.field, None)
    return list(seen)


def _unknown(column: int, what: str, name: str, known: list[str]) -> ExpressionError:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ExpressionError(column, f"unknown {what} {name!r}{hint}")


def _check_value(column: int, name: str, kind: str, value: Literal) -> None:
    ok = {
        "number": isinstance(value, int | Decimal) and not isinstance(value, bool),
        "text": isinstance(value, str),
        "bool": isinstance(value, bool),
        "date": isinstance(value, str),
    }[kind]
    if ok and kind == "date":
        try:
            date.fromisoformat(str(value))
        except ValueError:
            ok = False
    if not ok:
        wanted = {
            "number": "a number",
            "text": "a quoted text",
            "bool": "true or false",
            "date": 'a date like "2026-01-31"',
        }[kind]
        raise ExpressionError(column, f"field {name!r} is {kind}: compare it with {wanted}")


def check_expression(
    node: Node,
    fields: Mapping[str, str],
    functions: Mapping[str, FunctionSpec],
) -> None:
    """Check names and types against the known fields (name -> kind) and functions."""
    for n in _walk(node):
        if isinstance(n, Call):
            spec = functions.get(n.name)
            if spec is None:
                if n.name in fields:
                    raise ExpressionError(n.column, f"{n.name!r} is a field, not a function")
                raise _unknown(n.column, "function", n.name, sorted(functions))
            if len(n.args) != len(spec.args):
                raise ExpressionError(
                    n.column, f"{n.name}() takes {len(spec.args)} argument(s), got {len(n.args)}"
                )
            for value, kind in zip(n.args, spec.args, strict=True):
                _check_value(n.column, f"{n.name}()", kind, value)
                if spec.choices and value not in spec.choices:
                    raise ExpressionError(
                        n.column, f"{n.name}() takes one of: {', '.join(spec.choices)}"
                    )
            continue
        if not isinstance(n, Compare | In | Between | Flag):
            continue
        field_kind = fields.get(n.field)
        if field_kind is None:
            if n.field in functions:
                raise ExpressionError(n.column, f"{n.field!r} is a function: write {n.field}(...)")
            raise _unknown(n.column, "field", n.field, sorted(fields))
        kind = field_kind
        if isinstance(n, Flag):
            if kind != "bool":
                raise ExpressionError(
                    n.column, f"field {n.field!r} is {kind}: compare it with something"
                )
        elif isinstance(n, Compare):
            _check_value(n.column, n.field, kind, n.value)
            if kind in ("bool", "text") and n.op not in ("==", "!="):
                raise ExpressionError(n.column, f"field {n.field!r} is {kind}: use == or !=")
        elif isinstance(n, In):
            for value in n.values:
                _check_value(n.column, n.field, kind, value)
        else:
            if kind == "bool":
                raise ExpressionError(n.column, f"field {n.field!r} is bool: 'between' needs order")
            _check_value(n.column, n.field, kind, n.low)
            _check_value(n.column, n.field, kind, n.high)
