"""Response headers every answer carries: no MIME sniffing, no caching of anything that
may hold personal data, a strict CSP on HTML, and no server banner."""

from __future__ import annotations

import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HTML_CSP", "SecurityHeaders"]

# HTML pages load nothing from anywhere else.
HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

# Public, non-personal documents may be cached; everything else (members, labels, keys,
# reports) may not.
_CACHEABLE_SUFFIXES = ("/openapi.json", "/health")


def allowed_methods(app: Any, path: str) -> list[str]:
    """The methods the OpenAPI document lists for `path` (one path is often served by
    routes of several capabilities, so the matched route alone does not know them all)."""
    paths = app.openapi().get("paths", {})
    if path in paths:
        # A literal path is its own resource, not an id of a templated one beside it.
        return sorted(m.upper() for m in paths[path])
    methods: set[str] = set()
    for template, operations in paths.items():
        if _template_regex(template).fullmatch(path):
            methods.update(m.upper() for m in operations)
    return sorted(methods)


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)))


class SecurityHeaders:
    """Pure ASGI middleware adding the headers above to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, adding headers to the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = str(scope.get("path", "")).endswith(_CACHEABLE_SUFFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                names = {k.lower() for k, _v in headers}
                headers.append((b"x-content-type-options", b"nosniff"))
                if not cacheable and b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                content_type = dict(headers).get(b"content-type", b"")
                if (
                    content_type.startswith(b"text/html")
                    and b"content-security-policy" not in names
                ):
                    headers.append((b"content-security-policy", HTML_CSP.encode()))
                if message["status"] == 405 and "app" in scope:
                    allow = ", ".join(allowed_methods(scope["app"], str(scope["path"])))
                    headers = [(k, v) for k, v in headers if k.lower() != b"allow"]
                    headers.append((b"allow", allow.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
