"""`POST /v1/orders`: orders, refunds, voids, events and consents from tills and apps.

One request is one batch: every record is checked, and the batch is stored whole or not
at all. Replaying a request stores nothing new and says how many records were duplicates.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.api.auth import deny, require_roles
from memberops.api.deps import RuntimeDep
from memberops.api.errors import error_responses, field_path, reason_of
from memberops.catalog.service import store_codes
from memberops.db import read_transaction, run_in_transaction
from memberops.errors import (
    Forbidden,
    MalformedBody,
    RequestTooLarge,
    ValidationError,
)
from memberops.orders.readers import SourceRecord, records_from_json
from memberops.orders.repository import store_ids_of_orders
from memberops.orders.schemas import (
    MAX_LINES_PER_REQUEST,
    MAX_RECORDS_PER_REQUEST,
    RECORD_MODELS,
    ImportReportRead,
    OrdersRequest,
)
from memberops.orders.service import ingest
from memberops.runtime import Runtime

__all__ = ["MAX_BODY_BYTES", "REQUEST_SCHEMAS", "router"]

# 1000 orders of a few dozen lines each fit well inside this; a bigger body is refused
# before it is parsed (OWASP API4: bounded resource use per request).
MAX_BODY_BYTES = 8 * 1024 * 1024

router = APIRouter(tags=["orders"])


async def read_json_body(request: Request) -> Any:
    """The parsed JSON body, read with a size cap; 413 beyond it, 400 if not JSON."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise RequestTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
    received = bytearray()
    async for chunk in request.stream():
        received.extend(chunk)
        if len(received) > MAX_BODY_BYTES:
            raise RequestTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
    try:
        return json.loads(bytes(received))
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise MalformedBody("the request body is not valid JSON") from None


def _check_shape(records: list[SourceRecord]) -> list[SourceRecord]:
    """Each record against its wire model; a misshapen record becomes its error.

    The error joins the rule errors of the other records in one BatchValidationError, so
    the caller sees every problem of the request at once.
    """
    checked: list[SourceRecord] = []
    for locator, data in records:
        if isinstance(data, ValidationError):
            checked.append((locator, data))
            continue
        model = RECORD_MODELS.get(str(data.get("record_type", "order")))
        if model is not None:
            try:
                model.model_validate(data)
            except PydanticValidationError as exc:
                first = exc.errors(include_input=True)[0]
                error = ValidationError(locator, field_path(first["loc"]), reason_of(first))
                checked.append((locator, error))
                continue
        # An unknown record_type is left to the service, which names the allowed ones.
        checked.append((locator, data))
    return checked


def _records(body: Any) -> list[SourceRecord]:
    if isinstance(body, dict) and "orders" in body:
        extra = sorted(set(body) - {"orders"})
        if extra:
            raise ValidationError("request", extra[0], "is not a known field")
        if not isinstance(body["orders"], list):
            raise ValidationError("request", "orders", "must be a list")
    records = records_from_json(body)
    if not records:
        raise ValidationError("request", "orders", "must not be empty")
    if len(records) > MAX_RECORDS_PER_REQUEST:
        raise RequestTooLarge(f"at most {MAX_RECORDS_PER_REQUEST} records per request")
    lines = sum(
        len(data["lines"])
        for _locator, data in records
        if isinstance(data, dict) and isinstance(data.get("lines"), list)
    )
    if lines > MAX_LINES_PER_REQUEST:
        # One request is one transaction; on SQLite it holds the write lock while it runs,
        # so its size bounds how long every other writer (and audited read) waits.
        raise RequestTooLarge(f"at most {MAX_LINES_PER_REQUEST} order lines per request")
    return _check_shape(records)


def _store_of_orders(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The store code of each already stored order, by (source, source_order_id)."""
    store_ids = store_ids_of_orders(session, keys)
    codes = store_codes(session, store_ids.values())
    return {key: codes[store_id] for key, store_id in store_ids.items() if store_id in codes}


def _enforce_store_scope(runtime: Runtime, actor: Actor, records: list[SourceRecord]) -> None:
    """A key bound to a store posts only that store's records (OWASP API1).

    Orders and events name their store. A refund or void names an order, which must be
    one this store already holds: a till may not void another store's sale.

    Runs before the request's own session touches the database: a denial is audited in a
    transaction of its own, and on SQLite that one would wait forever behind the request's
    write lock.
    """
    if actor.store_code is None:
        return
    adjustments: set[tuple[str, str]] = set()
    in_request: dict[tuple[str, str], str] = {}
    for locator, data in records:
        if isinstance(data, ValidationError):
            continue
        kind = data.get("record_type", "order")
        store = data.get("store_code")
        if kind in ("order", "event") and store is not None and store != actor.store_code:
            _deny(runtime, actor, f"{locator}: record for another store")
        key = (str(data.get("source")), str(data.get("source_order_id")))
        if kind == "order":
            in_request[key] = str(store)
        elif kind in ("refund", "void"):
            adjustments.add(key)
    with read_transaction(runtime.read_sessions) as lookup:
        # Stored first: an order id already held elsewhere stays elsewhere's.
        stores = {**in_request, **_store_of_orders(lookup, adjustments)}
    for key in adjustments:
        if stores.get(key) != actor.store_code:
            _deny(runtime, actor, "refund or void of an order this store does not hold")


def _deny(runtime: Runtime, actor: Actor, what: str) -> None:
    deny(runtime, actor, what=f"POST /v1/orders: {what}")
    raise Forbidden("this key may post records for its own store only")


@router.post(
    "/orders",
    response_model=ImportReportRead,
    responses=error_responses(400, 401, 403, 409, 413, 422, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/OrdersRequest"}}
            },
        }
    },
)
def post_orders(
    runtime: RuntimeDep,
    actor: Annotated[Actor, Depends(require_roles("admin", "pos"))],
    body: Annotated[Any, Depends(read_json_body)],
) -> ImportReportRead:
    """Store one record or up to 1000, all or nothing; replays are counted, not stored.

    A record whose id is already stored with other content is a conflict (409 when every
    problem in the request is a conflict, else 422 naming each record, field and reason).
    """
    records = _records(body)
    _enforce_store_scope(runtime, actor, records)

    def store(session: Session) -> ImportReportRead:
        keyring = runtime.refresh_keyring(session)
        report = ingest(session, keyring, records, actor=actor, source_name="api", fmt="api")
        return ImportReportRead.model_validate(report.to_dict())

    # Concurrent posts of the same records race on the unique keys (on PostgreSQL); the
    # loser runs again from the start and finds them stored: "duplicate", never a 500.
    return run_in_transaction(runtime.sessions, store)


# Added to the OpenAPI components by memberops.api.app (the body is read by hand so
# that shape errors and rule errors come back together, per record).
REQUEST_SCHEMAS = (OrdersRequest,)
