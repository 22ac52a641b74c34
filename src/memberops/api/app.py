"""The memberops HTTP API: everything under `/v1`, one error shape, OpenAPI at
`/v1/openapi.json`, interactive documentation at `/v1/docs` (served from the package) and a
plain reference at `/v1/docs/reference`.

    uvicorn --factory memberops.api.app:app_from_env
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, TypeAdapter

from memberops import __version__
from memberops.api import health
from memberops.api.accesslog import AccessLog
from memberops.api.bodylimit import BodyLimit
from memberops.api.docs import install_docs
from memberops.api.errors import error_responses, install_error_handlers
from memberops.api.headers import SecurityHeaders
from memberops.api.overload import InFlightLimit
from memberops.api.ratelimit import DEFAULT_LIMITS, RateLimits, RequestLimiter
from memberops.apikeys import endpoints as apikeys_endpoints
from memberops.baskets import endpoints as baskets_endpoints
from memberops.catalog import endpoints as catalog_endpoints
from memberops.clv import endpoints as clv_endpoints
from memberops.concentration import endpoints as concentration_endpoints
from memberops.config import Settings
from memberops.cycles import endpoints as cycles_endpoints
from memberops.fans import endpoints as fans_endpoints
from memberops.identity import endpoints as identity_endpoints
from memberops.labels import endpoints as labels_endpoints
from memberops.lifecycle import endpoints as lifecycle_endpoints
from memberops.lifestyle import endpoints as lifestyle_endpoints
from memberops.logs import configure_logging
from memberops.loyalty import campaign_endpoints
from memberops.loyalty import endpoints as loyalty_endpoints
from memberops.members import endpoints as members_endpoints
from memberops.orders import endpoints as orders_endpoints
from memberops.pipeline.endpoints import install_profile_refresher
from memberops.privacy import endpoints as privacy_endpoints
from memberops.rfm import endpoints as rfm_endpoints
from memberops.runtime import Runtime, open_runtime
from memberops.schemas import ErrorBody
from memberops.segments import endpoints as segments_endpoints
from memberops.servicedesk import endpoints as servicedesk_endpoints
from memberops.storemix import endpoints as storemix_endpoints
from memberops.web.endpoints import install_console

__all__ = ["API_PREFIX", "ROUTERS", "app_from_env", "create_app"]

API_PREFIX = "/v1"

# Every router of the API, mounted under /v1 in this order. A capability adds its router
# here with one line; nothing is mounted anywhere else.
ROUTERS: list[APIRouter] = [
    health.router,
    apikeys_endpoints.router,
    orders_endpoints.router,
    members_endpoints.router,
    privacy_endpoints.router,
    identity_endpoints.router,
    privacy_endpoints.audit_router,
    labels_endpoints.router,
    labels_endpoints.reviews_router,
    catalog_endpoints.router,
    clv_endpoints.router,
    cycles_endpoints.router,
    baskets_endpoints.router,
    fans_endpoints.router,
    lifestyle_endpoints.router,
    storemix_endpoints.router,
    *servicedesk_endpoints.routers,
    loyalty_endpoints.router,
    rfm_endpoints.router,
    rfm_endpoints.member_router,
    concentration_endpoints.router,
    lifecycle_endpoints.router,
    segments_endpoints.router,
    campaign_endpoints.router,
]

# Bodies read by hand (see memberops.orders.endpoints) still get their schema in the OpenAPI file.
_EXTRA_SCHEMAS: tuple[type[BaseModel], ...] = (*orders_endpoints.REQUEST_SCHEMAS,)

# Answers any route can give, whatever it does: a malformed body, a body past its cap,
# the key's rate limit, a busy or unreachable database.
_COMMON_STATUSES = (400, 413, 429, 503)


def _document_common_answers(schema: dict[str, Any]) -> None:
    """Declare the bearer key scheme and document the common answers on every operation."""
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearerKey"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key: `Authorization: Bearer <key>`",
    }
    common = error_responses(*_COMMON_STATUSES)
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status_code, entry in common.items():
                responses.setdefault(
                    str(status_code),
                    {
                        "description": entry["description"],
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ErrorBody"}
                            }
                        },
                    },
                )
            if not path.endswith("/health"):
                operation["security"] = [{"bearerKey": []}]
    components.setdefault("schemas", {}).setdefault(
        "ErrorBody", TypeAdapter(ErrorBody).json_schema(ref_template="#/components/schemas/{model}")
    )


class MemberOpsAPI(FastAPI):
    """FastAPI with the hand-read request bodies added to the OpenAPI components."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            schema = super().openapi()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in _EXTRA_SCHEMAS:
                json_schema = TypeAdapter(model).json_schema(
                    ref_template="#/components/schemas/{model}"
                )
                components.update(json_schema.pop("$defs", {}))
                components[model.__name__] = json_schema
            _document_common_answers(schema)
            self.openapi_schema = schema
        return self.openapi_schema


def create_app(
    runtime: Runtime,
    *,
    rate_limits: RateLimits | None = DEFAULT_LIMITS,
    refresh_profiles: bool = False,
) -> FastAPI:
    """The API over an open runtime (the caller owns and closes the runtime).

    Rate limits are counted in Redis when the settings name one (MEMBEROPS_REDIS_URL),
    else in this process; `rate_limits=None` switches them off. With `refresh_profiles`,
    member profiles refresh in the background after ingestion.
    """
    app = MemberOpsAPI(
        title="memberops",
        version=__version__,
        openapi_url=f"{API_PREFIX}/openapi.json",
        # FastAPI's own pages pull Swagger UI from a CDN; /v1/docs serves it from the package.
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    app.state.limiter = (
        None
        if rate_limits is None
        else RequestLimiter(rate_limits, storage_url=runtime.settings.redis_url)
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit)
    # Requests beyond the bound are answered 503 before they read a body or take anything;
    # only the security headers wrap it, so even that answer carries them.
    app.add_middleware(InFlightLimit)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog)  # outermost: logs even the answers given before the app
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    if refresh_profiles:
        install_profile_refresher(app, runtime)
    install_console(app)  # the console at /, served from the package

    install_docs(app, API_PREFIX)
    return app


def app_from_env() -> FastAPI:
    """An app over the runtime described by the environment (for `uvicorn --factory`).

    Database waits are bounded at 5 s: past that a request answers 503, never hangs.
    """
    settings = dataclasses.replace(Settings.from_env(), lock_timeout_s=5.0)
    configure_logging()
    return create_app(open_runtime(settings), refresh_profiles=True)
