"""The error tree every capability raises, mapped once to HTTP and once to CLI exit codes.

MemberOpsError
├── ValidationError(record, field, reason)   bad input; names where, never the value
│   └── BatchValidationError                 several records failed; nothing was stored
├── NotFound
├── Conflict                                 same key, different content; state forbids it
├── Forbidden                                role or scope does not allow the action
├── ConfigurationError                       keys or settings missing or wrong
├── RateLimited(retry_after_s)               too many requests; try again later
└── Unavailable(retry_after_s)               the database is down or saturated; retry
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "BatchValidationError",
    "ConfigurationError",
    "Conflict",
    "Forbidden",
    "MemberOpsError",
    "NotFound",
    "RateLimited",
    "Unavailable",
    "ValidationError",
]


class MemberOpsError(Exception):
    """Base of every error memberops raises on purpose."""

    code = "error"

    def to_dict(self) -> dict[str, object]:
        """The one error body shape, shared by the API and `--json` CLI output."""
        return {"error": self.code, "message": str(self)}


class ValidationError(MemberOpsError):
    """One record is invalid. The message names record, field and reason, never the value."""

    code = "invalid"

    def __init__(self, record: str, field: str, reason: str) -> None:
        self.record = record
        self.field = field
        self.reason = reason
        super().__init__(f"{record}, field {field}: {reason}")

    def to_dict(self) -> dict[str, object]:
        return {
            "error": self.code,
            "message": str(self),
            "details": [{"record": self.record, "field": self.field, "reason": self.reason}],
        }


class BatchValidationError(MemberOpsError):
    """Several records were invalid; the batch was rolled back as a whole."""

    code = "invalid"

    def __init__(self, errors: Sequence[ValidationError], *, total_errors: int | None = None):
        self.errors = list(errors)
        self.total_errors = total_errors if total_errors is not None else len(self.errors)
        first = self.errors[0] if self.errors else None
        more = self.total_errors - 1
        suffix = f" (and {more} more)" if more > 0 else ""
        super().__init__(f"{first}{suffix}; nothing was stored")

    def to_dict(self) -> dict[str, object]:
        return {
            "error": self.code,
            "message": str(self),
            "details": [
                {"record": e.record, "field": e.field, "reason": e.reason} for e in self.errors
            ],
            "total_errors": self.total_errors,
        }


class NotFound(MemberOpsError):
    """The thing asked for does not exist, or is not visible to the caller."""

    code = "not_found"


class Conflict(MemberOpsError):
    """The request contradicts what is stored (same key, different content; wrong state)."""

    code = "conflict"


class Forbidden(MemberOpsError):
    """The caller's role or scope does not allow this action."""

    code = "forbidden"


class ConfigurationError(MemberOpsError):
    """Settings or keys are missing or do not match the data."""

    code = "configuration"


class RateLimited(MemberOpsError):
    """The caller made more requests than its limit allows (HTTP 429 with Retry-After)."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        self.retry_after_s = max(1, retry_after_s)
        super().__init__(message)


class Unavailable(MemberOpsError):
    """The database is out of reach or saturated; the same request may succeed later."""

    code = "unavailable"

    def __init__(self, message: str, *, retry_after_s: int = 1) -> None:
        self.retry_after_s = max(1, retry_after_s)
        super().__init__(message)
