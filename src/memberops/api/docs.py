"""Interactive API documentation at `/v1/docs`, served from the package.

Swagger UI's script and style ship inside the installed `fastapi-offline` wheel and are
served from `/v1/docs/assets/`, with our own start-up script (no inline script), so the
page works offline and its CSP allows scripts from this server only. `/v1/docs/reference`
keeps a plain HTML table of every operation for readers without JavaScript.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

__all__ = ["DOCS_CSP", "REFERENCE_CSP", "install_docs", "reference_page"]

_SWAGGER_DIR = Path(fastapi_offline.__file__).parent / "static"
_OWN_DIR = Path(__file__).parent / "docs_static"
_ASSETS = {
    "swagger-ui-bundle.js": _SWAGGER_DIR / "swagger-ui-bundle.js",
    "swagger-ui.css": _SWAGGER_DIR / "swagger-ui.css",
    "favicon.png": _SWAGGER_DIR / "favicon.png",
    "docs.js": _OWN_DIR / "docs.js",
}
_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}

# Scripts, styles and the OpenAPI document come from this server only. Swagger UI sets
# style attributes on its own elements and draws icons as data: images, hence those two.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
# The reference table loads nothing at all.
REFERENCE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def install_docs(app: FastAPI, prefix: str) -> None:
    """Add the interactive page, its assets and the plain reference under `prefix`/docs."""

    @app.get(f"{prefix}/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs(request: Request) -> HTMLResponse:
        page = _interactive_page(request.app, prefix)
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_CSP})

    @app.get(f"{prefix}/docs/reference", include_in_schema=False, response_class=HTMLResponse)
    def reference(request: Request) -> HTMLResponse:
        return HTMLResponse(
            reference_page(request.app.openapi(), prefix),
            headers={"Content-Security-Policy": REFERENCE_CSP},
        )

    @app.get(f"{prefix}/docs/assets/{{name}}", include_in_schema=False)
    def asset(name: str) -> FileResponse:
        path = _ASSETS.get(name)
        if path is None:
            raise HTTPException(status_code=404, detail="no such asset")
        # The assets change only with the installed version: let browsers keep them a day.
        return FileResponse(
            path,
            media_type=_MEDIA_TYPES[path.suffix],
            headers={"Cache-Control": "public, max-age=86400"},
        )


def _interactive_page(app: FastAPI, prefix: str) -> str:
    title = html.escape(f"{app.title} {app.version} API")
    assets = f"{prefix}/docs/assets"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title}</title>"
        f"<link rel='icon' href='{assets}/favicon.png'>"
        f"<link rel='stylesheet' href='{assets}/swagger-ui.css'></head>"
        f"<body data-openapi='{prefix}/openapi.json'>"
        f"<p>Send a key with <em>Authorize</em> (Bearer). Without JavaScript: "
        f"<a href='{prefix}/docs/reference'>the plain reference</a>.</p>"
        "<div id='swagger-ui'></div>"
        f"<script src='{assets}/swagger-ui-bundle.js'></script>"
        f"<script src='{assets}/docs.js'></script></body></html>"
    )


def reference_page(spec: dict[str, Any], prefix: str) -> str:
    """Every operation with its summary and documented responses, as plain HTML."""
    rows = []
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            statuses = ", ".join(sorted(operation.get("responses", {})))
            rows.append(
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>".format(
                    html.escape(method.upper()),
                    html.escape(path),
                    html.escape(operation.get("description") or operation.get("summary", "")),
                    html.escape(statuses),
                )
            )
    title = html.escape(f"{spec['info']['title']} {spec['info']['version']}")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title} API</title>"
        "<style>body{font-family:sans-serif;margin:2em}td{padding:.3em .8em;"
        "vertical-align:top;border-bottom:1px solid #ddd}</style></head><body>"
        f"<h1>{title} API</h1>"
        f"<p>Machine-readable: <a href='{prefix}/openapi.json'>openapi.json</a>; "
        f"interactive: <a href='{prefix}/docs'>{prefix}/docs</a>. "
        "Send the key as <code>Authorization: Bearer &lt;key&gt;</code>. Errors always read "
        '<code>{"error", "message", "details"}</code>.</p>'
        "<table><tr><th>method</th><th>path</th><th>what it does</th><th>responses</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )
