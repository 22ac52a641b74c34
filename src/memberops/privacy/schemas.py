"""Wire shapes of the privacy routes: consents, erasure and the audit chain."""

from __future__ import annotations

from pydantic import BaseModel, Field, StrictBool

from memberops.privacy.rules import PURPOSES
from memberops.schemas import RequestModel

__all__ = ["AuditVerificationRead", "ConsentIn", "ConsentsRead", "ErasureIn", "ErasureRead"]


class ConsentIn(RequestModel):
    """A member's decision on one purpose; withdrawing is `granted: false`."""

    purpose: str = Field(max_length=32, json_schema_extra={"enum": list(PURPOSES)})
    granted: StrictBool
    channel: str = Field(min_length=1, max_length=24, pattern=r"^[a-z_]+$")
    notice_version: str = Field(min_length=1, max_length=32)
    reason: str | None = Field(
        default=None,
        min_length=1,
        max_length=400,
        description="required when an admin records the decision on the member's behalf",
    )


class ErasureIn(RequestModel):
    """Why the member's personal data is being erased (kept in the audit log)."""

    reason: str = Field(min_length=1, max_length=400)


class ConsentsRead(BaseModel):
    member_id: str
    consents: dict[str, bool]


class ErasureRead(BaseModel):
    erased: bool
    already_erased: bool


class AuditVerificationRead(BaseModel):
    ok: bool
    checked: int
    problems: list[str]
