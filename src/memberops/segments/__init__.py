"""Segments: a safe expression language over member fields, compiled to one SQL query,
stored with versions and materialised with entry and exit history."""

from memberops.segments.fields import Field, all_fields, register_field, register_fields
from memberops.segments.rules import (
    ExpressionError,
    check_expression,
    format_expression,
    parse_expression,
)

__all__ = [
    "ExpressionError",
    "Field",
    "all_fields",
    "check_expression",
    "format_expression",
    "parse_expression",
    "register_field",
    "register_fields",
]
