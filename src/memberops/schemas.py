"""Wire shapes every capability shares: the strict request base and the error body.

A capability's own shapes live in `<capability>/schemas.py` and build on these.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["CONTROL_CHARACTERS", "ErrorBody", "ErrorDetail", "RequestModel", "Text", "no_control"]

# Free text in a request: long enough for any name or note field, short enough to bound
# what one field can cost.
Text = Annotated[str, Field(max_length=400)]

# NUL and the other C0/C1 control characters (tab and newline are allowed in notes): PostgreSQL
# refuses NUL in text, and none of them belongs in a name, a reason or a version.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def no_control(value: Any) -> Any:
    """`value` unchanged, or ValueError when a string in it holds a control character."""
    if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
        raise ValueError("must not contain NUL or other control characters")
    if isinstance(value, list | tuple):
        for item in value:
            no_control(item)
    return value


# The same rule, as a JSON Schema pattern on every text property of a request, so the
# OpenAPI document says what the server accepts.
NO_CONTROL_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"


def _pattern_on_text(node: Any) -> None:
    if not isinstance(node, dict):
        return
    plain_text = node.get("type") == "string" and not {"pattern", "format", "enum", "const"} & set(
        node
    )
    if plain_text:
        node["pattern"] = NO_CONTROL_PATTERN
    for option in node.get("anyOf", []):
        _pattern_on_text(option)
    items = node.get("items")
    if isinstance(items, dict):
        _pattern_on_text(items)


def _document_no_control(schema: dict[str, Any], model: type[Any]) -> None:
    for prop in schema.get("properties", {}).values():
        _pattern_on_text(prop)


class RequestModel(BaseModel):
    """Base of every request body: unknown fields rejected, no type coercion.

    Unknown fields are refused so a client cannot slip `points_balance` or `member_id`
    into a write (OWASP API3); strict, so `true` or `12.5` is not a number of cents.
    """

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_document_no_control)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        """Every text field of every request refuses NUL and control characters (422)."""
        return no_control(value)


class ErrorDetail(BaseModel):
    """Where one problem is and why; never the offending value."""

    record: str | None = None
    field: str
    reason: str


class ErrorBody(BaseModel):
    """The one error shape of the API."""

    error: str
    message: str
    details: list[ErrorDetail] | None = None
