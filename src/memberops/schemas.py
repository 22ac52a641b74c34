"""Wire shapes every capability shares: the strict request base and the error body.

A capability's own shapes live in `<capability>/schemas.py` and build on these.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ErrorBody", "ErrorDetail", "RequestModel", "Text"]

# Free text in a request: long enough for any name or note field, short enough to bound
# what one field can cost.
Text = Annotated[str, Field(max_length=400)]


class RequestModel(BaseModel):
    """Base of every request body: unknown fields rejected, no type coercion.

    Unknown fields are refused so a client cannot slip `points_balance` or `member_id`
    into a write (OWASP API3); strict, so `true` or `12.5` is not a number of cents.
    """

    model_config = ConfigDict(extra="forbid", strict=True)


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
