"""A size cap on every request body (OWASP API4): 64 KiB by default, more only for the
routes that carry batches (`POST /v1/orders` has its own 8 MiB cap, checked while it
streams; stores and menu items 2 MiB). A body past its cap answers 413 before any route sees it.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BATCH_MAX_BODY_BYTES", "DEFAULT_MAX_BODY_BYTES", "BodyLimit"]

DEFAULT_MAX_BODY_BYTES = 64 * 1024

# Paths whose endpoints read and cap their own (larger) bodies as they stream.
_OWN_CAP_SUFFIXES = ("/orders",)
# Batch routes of up to 1,000 records (stores, menu items) get a larger cap.
BATCH_MAX_BODY_BYTES = 2 * 1024 * 1024
_BATCH_SUFFIXES = ("/stores", "/catalog/items")


def _too_large(limit: int) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = json.dumps(
        {"error": "too_large", "message": f"the body is larger than {limit} bytes"}
    ).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    return body, headers


class BodyLimit:
    """Pure ASGI middleware: buffer at most `limit` bytes of a body, answer 413 past it."""

    def __init__(self, app: ASGIApp, limit: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, with its body replayed, unless the body is too large."""
        if scope["type"] != "http" or str(scope.get("path", "")).endswith(_OWN_CAP_SUFFIXES):
            await self.app(scope, receive, send)
            return
        limit = (
            BATCH_MAX_BODY_BYTES
            if str(scope.get("path", "")).endswith(_BATCH_SUFFIXES)
            else self.limit
        )
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self._refuse(send, limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, limit: int) -> None:
        body, headers = _too_large(limit)
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
