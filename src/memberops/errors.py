"""The error tree every capability raises, mapped once to HTTP and once to CLI exit codes.

MemberOpsError
├── ValidationError(record, field, reason)   bad input; names where, never the value
│   ├── RecordConflict                       same record id, different content (also a Conflict)
│   └── LabelRejected                        the label guard refused a note
├── BatchValidationError                     several records failed; nothing was stored
├── RuleError(rule, problem)                 a computed-label rule cannot be parsed or read
├── MalformedBody                            a request body that is not JSON
├── RequestTooLarge                          more records or bytes than one request may carry
├── NotFound
├── Conflict                                 same key, different content; state forbids it
│   ├── RecordConflict
│   └── ConsentRequired                      a sensitive need without the member's consent
├── Forbidden                                role or scope does not allow the action
├── Unauthenticated                          no valid API key was presented
├── RateLimited(retry_after_s)               too many requests; try again later
├── Unavailable(retry_after_s)               the database is down or saturated; retry
└── ConfigurationError                       keys or settings missing or wrong
    └── DecryptionError                      a ciphertext could not be opened

Every class lives in this module, so the HTTP mapping (memberops.api.errors) and the exit
codes (memberops.cli.common) see the whole tree. Messages name records, fields and
categories, never the personal value that failed.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "BatchValidationError",
    "ConfigurationError",
    "Conflict",
    "ConsentRequired",
    "DecryptionError",
    "Forbidden",
    "LabelRejected",
    "MalformedBody",
    "MemberOpsError",
    "NotFound",
    "RateLimited",
    "RecordConflict",
    "RequestTooLarge",
    "RuleError",
    "Unauthenticated",
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

    @property
    def only_conflicts(self) -> bool:
        """True when every reported problem is a conflict with what is stored."""
        return bool(self.errors) and all(isinstance(e, Conflict) for e in self.errors)

    def to_dict(self) -> dict[str, object]:
        return {
            "error": self.code,
            "message": str(self),
            "details": [
                {"record": e.record, "field": e.field, "reason": e.reason} for e in self.errors
            ],
            "total_errors": self.total_errors,
        }


class RuleError(MemberOpsError, ValueError):
    """A rule that cannot be parsed or evaluated; the message names the rule and the problem."""

    code = "invalid_rule"

    def __init__(self, rule: str, problem: str) -> None:
        self.rule = rule
        self.problem = problem
        super().__init__(f"rule {rule!r}: {problem}")


class MalformedBody(MemberOpsError):
    """The request body is not valid JSON (HTTP 400)."""

    code = "malformed_json"


class RequestTooLarge(MemberOpsError):
    """The request carries more than one request may (HTTP 413)."""

    code = "too_large"


class NotFound(MemberOpsError):
    """The thing asked for does not exist, or is not visible to the caller."""

    code = "not_found"


class Conflict(MemberOpsError):
    """The request contradicts what is stored (same key, different content; wrong state)."""

    code = "conflict"


class RecordConflict(ValidationError, Conflict):
    """One record's id is already stored with different content.

    A ValidationError (it names record, field and reason, and joins the other problems of
    its batch) and a Conflict (a batch that fails only on these is a conflict, HTTP 409).
    """

    code = "invalid"


class Forbidden(MemberOpsError):
    """The caller's role or scope does not allow this action."""

    code = "forbidden"


class Unauthenticated(MemberOpsError):
    """No valid API key was presented (HTTP 401)."""

    code = "unauthenticated"


class ConfigurationError(MemberOpsError):
    """Settings or keys are missing or do not match the data."""

    code = "configuration"


class DecryptionError(ConfigurationError):
    """A ciphertext could not be opened: wrong key, or it was moved from its row."""


class LabelRejected(ValidationError):
    """The label guard rejected a note. Carries the verdict, reasons and span categories only."""

    def __init__(
        self,
        field: str,
        *,
        verdict: str,
        reasons: Sequence[str],
        categories: Sequence[str],
        remainder: str | None,
    ) -> None:
        self.verdict = verdict
        self.reasons = tuple(reasons)
        self.categories = tuple(categories)
        # The guard's remainder (the part that could be stored on its own) is the
        # caller's own text; it is returned to them, never put in the message.
        self.remainder = remainder or None
        # The API's error body carries record, field and reason, so the verdict and the
        # categories travel in the reason too (never the note itself).
        listed = ", ".join(self.categories) or "unspecified"
        why = "; ".join(self.reasons) or "not allowed"
        super().__init__(
            "label", field, f"rejected by the label guard (categories: {listed}): {why}"
        )

    def to_dict(self) -> dict[str, object]:
        body = super().to_dict()
        body.update(
            verdict=self.verdict,
            reasons=list(self.reasons),
            categories=list(self.categories),
            remainder=self.remainder,
        )
        return body


class ConsentRequired(Conflict):
    """A sensitive need cannot be stored without the member's consent to `purpose`."""

    code = "consent_required"

    def __init__(
        self, member_id: str, categories: Sequence[str], *, by_member: bool, purpose: str
    ) -> None:
        self.member_id = member_id
        self.categories = tuple(categories)
        self.purpose = purpose
        who = "the member must first consent" if by_member else "record the member's consent first"
        super().__init__(
            f"this note records a sensitive need ({', '.join(self.categories)});"
            f" {who} to the purpose {purpose!r}; nothing was stored"
        )

    def to_dict(self) -> dict[str, object]:
        body = super().to_dict()
        body.update(
            verdict="sensitive", categories=list(self.categories), consent_purpose=self.purpose
        )
        return body


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
