"""One error body for every failure the API reports, mapped once from the error tree.

Every error, whether raised by a service, by request validation, by routing or by a bug,
reaches the client as

    {"error": "<code>", "message": "<text>", "details": [{"record", "field", "reason"}]}

with `details` present only when there is something per field to say. Bodies never repeat
what the caller sent (a rejected phone number must not come back in a response or a log),
and an unexpected failure says only "internal error": no stack trace, no exception text.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from memberops.db import is_unavailable
from memberops.errors import (
    BatchValidationError,
    ConfigurationError,
    Conflict,
    Forbidden,
    MalformedBody,
    MemberOpsError,
    NotFound,
    RateLimited,
    RequestTooLarge,
    Unauthenticated,
    Unavailable,
    ValidationError,
)
from memberops.schemas import ErrorBody, ErrorDetail

__all__ = [
    "UNAVAILABLE_MESSAGE",
    "error_body",
    "error_responses",
    "field_path",
    "install_error_handlers",
    "reason_of",
    "unavailable_response",
]

logger = logging.getLogger("memberops.api")


# Most specific first: BatchValidationError is not a ValidationError subclass, but order
# still matters for any future subclass of these.
_STATUS: tuple[tuple[type[MemberOpsError], int], ...] = (
    (BatchValidationError, 422),
    (ValidationError, 422),
    (NotFound, 404),
    (Conflict, 409),
    (Forbidden, 403),
    (Unauthenticated, 401),
    (ConfigurationError, 500),
    (MalformedBody, 400),
    (RequestTooLarge, 413),
    (RateLimited, 429),
    (Unavailable, 503),
)

_HTTP_CODES = {
    400: ("bad_request", "the request could not be read"),
    401: ("unauthenticated", "an API key is required"),
    403: ("forbidden", "this action is not allowed"),
    404: ("not_found", "no such resource"),
    405: ("method_not_allowed", "this method is not allowed on this resource"),
    406: ("not_acceptable", "the requested representation is not available"),
    413: ("too_large", "the request is too large"),
    415: ("unsupported_media_type", "send the body as application/json"),
    429: ("rate_limited", "too many requests"),
}

_DESCRIPTIONS = {
    400: "Malformed JSON body",
    401: "No valid API key",
    403: "The key's role or store does not allow this action (the denial is audited)",
    404: "Not found, or not visible to this key",
    409: "Conflicts with what is stored",
    413: "Too many records or bytes in one request",
    422: "Invalid input; details name each field and reason, never the value",
    429: "Too many requests from this key; Retry-After says when to try again",
    503: "The database is busy or not reachable; Retry-After says when to try again",
}


def error_body(code: str, message: str, details: Sequence[ErrorDetail] = ()) -> dict[str, Any]:
    """The JSON body of an error response."""
    body: dict[str, Any] = {"error": code, "message": message}
    if details:
        body["details"] = [d.model_dump() for d in details]
    return body


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the given statuses, all with the one error body."""
    return {s: {"model": ErrorBody, "description": _DESCRIPTIONS[s]} for s in statuses}


def field_path(loc: Sequence[str | int]) -> str:
    """A pydantic location as the field path the service errors use: `lines[1].quantity`.

    List positions are 1-based, as in the order rules, so both kinds of error agree.
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + 1}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "-"


_REASONS = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number (money is integer cents)",
    "int_parsing": "must be a whole number",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "model_type": "must be an object",
    "dict_type": "must be an object",
    "model_attributes_type": "must be an object",
}


def reason_of(error: Mapping[str, Any]) -> str:
    """The reason of one pydantic error, in the service's words, without the input value."""
    reason = _REASONS.get(str(error.get("type")))
    if reason is not None:
        return reason
    message = str(error.get("msg", "is not valid"))
    value = error.get("input")
    # Pydantic's own messages do not quote the input, but a custom validator's might.
    if isinstance(value, str | int | float) and len(str(value)) >= 3 and str(value) in message:
        return "is not valid"
    return message[:1].lower() + message[1:]


def _status_of(exc: MemberOpsError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def _details(errors: Sequence[ValidationError]) -> list[ErrorDetail]:
    return [ErrorDetail(record=e.record, field=e.field, reason=e.reason) for e in errors]


async def _memberops_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MemberOpsError)
    status = _status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, RateLimited | Unavailable):
        headers = {"Retry-After": str(exc.retry_after_s)}
    if isinstance(exc, ConfigurationError):
        # The reason names keys and settings: for the operator's log, not for the caller.
        logger.error("configuration error: %s", exc)
        body = error_body("configuration", "the service is not configured correctly")
    elif isinstance(exc, BatchValidationError):
        code = exc.code
        # A batch that failed only on conflicts with stored records is a 409, not a 422.
        if exc.only_conflicts:
            status, code = 409, Conflict.code
        body = error_body(code, str(exc), _details(exc.errors))
    elif isinstance(exc, ValidationError):
        body = error_body(exc.code, str(exc), _details([exc]))
    else:
        body = error_body(exc.code, str(exc))
    return JSONResponse(body, status_code=status, headers=headers)


async def _request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return JSONResponse(
            error_body(MalformedBody.code, "the request body is not valid JSON"), status_code=400
        )
    details = []
    for error in errors:
        loc = list(error.get("loc", ()))
        where = str(loc[0]) if loc else "request"
        # The input (and pydantic's ctx, which can hold it) is dropped here on purpose.
        details.append(
            ErrorDetail(record=where, field=field_path(loc[1:]), reason=reason_of(error))
        )
    first = details[0] if details else None
    message = f"{first.record}, field {first.field}: {first.reason}" if first else "invalid request"
    if len(details) > 1:
        message += f" (and {len(details) - 1} more)"
    return JSONResponse(error_body(ValidationError.code, message, details), status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, message = _HTTP_CODES.get(exc.status_code, (f"http_{exc.status_code}", "request failed"))
    return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)


UNAVAILABLE_MESSAGE = "the database is busy or not reachable; retry shortly"


def unavailable_response() -> JSONResponse:
    """The 503 every route answers while the database is down or saturated."""
    return JSONResponse(
        error_body(Unavailable.code, UNAVAILABLE_MESSAGE),
        status_code=503,
        headers={"Retry-After": "1"},
    )


class CatchAllErrors:
    """Turns any exception no handler took into a bare 500, logged without its message.

    Starlette's own catch-all re-raises after answering, so the server would log the
    exception text, which can carry SQL parameters; this layer logs type and frames only.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if is_unavailable(exc) and not started:
                # Database down, lock or pool wait ran out: the same answer on every route.
                logger.warning(
                    "database unavailable (%s) in %s", type(exc).__name__, scope.get("path")
                )
                await unavailable_response()(scope, receive, send)
                return
            route = scope.get("route")
            where = getattr(route, "path", "-")
            frames = "".join(traceback.format_tb(exc.__traceback__))
            logger.error(
                "unhandled %s in %s %s\n%s", type(exc).__name__, scope.get("method"), where, frames
            )
            if started:
                raise
            response = JSONResponse(error_body("internal", "internal error"), status_code=500)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the one body shape."""
    app.add_exception_handler(MemberOpsError, _memberops_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(CatchAllErrors)
