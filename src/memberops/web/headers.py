"""Headers of the console's answers, as a pure ASGI middleware (no per-request task group
or stream, unlike a decorator-style middleware: it runs on every API request too)."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONSOLE_CSP", "ConsoleHeaders"]

# Scripts, styles, images and fonts from this server only; no inline script.
CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


class ConsoleHeaders:
    """Server-Timing on every answer; CSP, framing and caching headers on console pages.

    Server-Timing (the app's time until the answer starts, readable in the browser's
    Navigation Timing) holds only a duration, no personal data. Static files change only
    with a release, so they may be cached for a day; every other console page may not.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, setting the headers on the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path = str(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed_ms = (time.perf_counter() - started) * 1000
                extra = {b"server-timing": f"app;dur={elapsed_ms:.1f}".encode()}
                if not path.startswith("/v1"):
                    extra.update(
                        {
                            b"content-security-policy": CONSOLE_CSP.encode(),
                            b"x-content-type-options": b"nosniff",
                            b"referrer-policy": b"no-referrer",
                            b"x-frame-options": b"DENY",
                            b"cache-control": b"public, max-age=86400"
                            if path.startswith("/static/")
                            else b"no-store",
                        }
                    )
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in extra]
                message["headers"] = kept + list(extra.items())
            await send(message)

        await self.app(scope, receive, send_with_headers)
