"""Wire shapes of the label routes: what staff and members send, what they read back."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from memberops.labels.rules import CATEGORIES
from memberops.labels.service import MAX_TEXT_CHARS
from memberops.schemas import RequestModel

__all__ = ["DisputeIn", "LabelCreate", "LabelRead", "LabelWritten", "Provenance"]


class LabelCreate(RequestModel):
    """A label typed by staff, or declared by the member about themself (unknown fields
    such as `source`, `status` or `sensitive` are refused: the server decides those)."""

    # Not strict: `valid_until` arrives as an ISO string in JSON.
    model_config = ConfigDict(extra="forbid", strict=False)

    category: str = Field(max_length=32, json_schema_extra={"enum": list(CATEGORIES)})
    text: str = Field(max_length=MAX_TEXT_CHARS)
    reason: str | None = Field(default=None, max_length=200)
    valid_until: datetime | None = None


class DisputeIn(RequestModel):
    """Why the member contests a label."""

    reason: str = Field(min_length=1, max_length=200)


class LabelWritten(BaseModel):
    """What was stored (never the text: the caller has it)."""

    id: str
    member_id: str
    category: str
    source: str
    status: str
    sensitive: bool
    sensitive_categories: list[str]
    consent_id: str | None


class Provenance(BaseModel):
    """Who recorded a label, when, in which store and why (or which rule computed it)."""

    created_by: str
    staff_id: str | None
    store_code: str | None
    created_at: datetime
    reason: str | None
    rule_id: str | None


class LabelRead(BaseModel):
    """A label as the caller may see it; `text` is None for computed or deleted labels."""

    id: str
    member_id: str
    category: str
    code: str | None
    text: str | None
    source: str
    status: str
    sensitive: bool
    sensitive_categories: list[str]
    consent_id: str | None
    valid_from: datetime
    valid_until: datetime | None
    provenance: Provenance
