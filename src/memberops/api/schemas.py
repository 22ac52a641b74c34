"""Wire shapes of the API.

Request bodies forbid unknown fields (OWASP API3: a client cannot slip `points_balance` or
`member_id` into a write) and are strict: `true` or `12.5` is not a number of cents, and
`"12"` is not a quantity. Incoming records are checked here for shape only; the business
rules (known store, totals adding up, valid phone) stay in `memberops.orders.rules`, so the
API and file imports reject the same records for the same reasons.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, StrictBool, StrictInt

from memberops.api.errors import ErrorDetail
from memberops.privacy.consent import PURPOSES

__all__ = [
    "MAX_RECORDS_PER_REQUEST",
    "RECORD_MODELS",
    "AuditVerificationRead",
    "ConsentIn",
    "ConsentRecordIn",
    "ConsentsRead",
    "CustomerIn",
    "ErasureIn",
    "ErasureRead",
    "EventIn",
    "HealthRead",
    "ImportReportRead",
    "LineIn",
    "MemberListItem",
    "MemberMatch",
    "MemberMatches",
    "MemberPage",
    "OrderIn",
    "OrdersRequest",
    "RefundIn",
    "UnmergeRead",
    "VoidIn",
]

MAX_RECORDS_PER_REQUEST = 1000

Text = Annotated[str, Field(max_length=400)]


class RequestModel(BaseModel):
    """Base of every request body: unknown fields rejected, no type coercion."""

    model_config = ConfigDict(extra="forbid", strict=True)


# ------------------------------------------------------------------------- records in
class CustomerIn(RequestModel):
    """Who placed the order, as the channel knows them (all optional)."""

    card_no: Text | None = None
    app_user_id: Text | None = None
    wechat_unionid: Text | None = None
    wechat_openid: Text | None = None
    pos_customer_code: Text | None = None
    phone: Text | None = None
    email: Text | None = None
    device_id: Text | None = None
    phone_verified: StrictBool | None = None
    email_verified: StrictBool | None = None
    name: Text | None = None
    nickname: Text | None = None
    birthday: Text | None = Field(default=None, description="ISO date, e.g. 1990-04-01")
    gender: Text | None = None


class LineIn(RequestModel):
    """One order line."""

    sku: Text
    quantity: StrictInt
    unit_price_cents: StrictInt
    modifiers: list[Text] | Text | None = None


class OrderIn(RequestModel):
    """One order (docs/formats.md)."""

    record_type: Literal["order"] = "order"
    source: Text
    source_order_id: Text
    channel: Text
    store_code: Text
    ordered_at: Text = Field(description="ISO 8601; without an offset the store's zone applies")
    meal_type: Text | None = None
    party_size: StrictInt | None = None
    customer: CustomerIn | None = None
    lines: list[LineIn]
    discount_cents: StrictInt | None = None
    total_cents: StrictInt
    currency: Text | None = None
    vouchers: list[Text] | Text | None = None


class RefundIn(RequestModel):
    """A refund of part or all of an order."""

    record_type: Literal["refund"]
    source: Text
    source_refund_id: Text
    source_order_id: Text
    refunded_at: Text
    amount_cents: StrictInt
    reason: Text | None = None


class VoidIn(RequestModel):
    """A void of a whole order."""

    record_type: Literal["void"]
    source: Text
    source_void_id: Text
    source_order_id: Text
    voided_at: Text
    reason: Text | None = None


class EventIn(RequestModel):
    """An engagement event: share, referral, review, survey answer or complaint."""

    record_type: Literal["event"]
    source: Text
    source_event_id: Text
    type: Text
    occurred_at: Text
    store_code: Text | None = None
    rating: StrictInt | None = None
    customer: CustomerIn | None = None
    referred_phone: Text | None = None


class ConsentRecordIn(RequestModel):
    """A consent decision captured by a channel; the member is found by identifiers."""

    record_type: Literal["consent"]
    source: Text
    purpose: Text = Field(json_schema_extra={"enum": list(PURPOSES)})
    granted: StrictBool
    at: Text
    notice_version: Text
    channel: Text | None = None
    customer: CustomerIn


RECORD_MODELS: dict[str, type[RequestModel]] = {
    "order": OrderIn,
    "refund": RefundIn,
    "void": VoidIn,
    "event": EventIn,
    "consent": ConsentRecordIn,
}

RecordIn = OrderIn | RefundIn | VoidIn | EventIn | ConsentRecordIn


class OrdersEnvelope(RequestModel):
    """Several records in one request, stored all together or not at all."""

    orders: list[RecordIn] = Field(min_length=1, max_length=MAX_RECORDS_PER_REQUEST)


class OrdersRequest(RootModel[RecordIn | OrdersEnvelope | list[RecordIn]]):
    """`POST /v1/orders`: one record, `{"orders": [...]}` or a bare list (at most 1000)."""


# ------------------------------------------------------------------------- other input
class ConsentIn(RequestModel):
    """A member's decision on one purpose; withdrawing is `granted: false`."""

    purpose: str = Field(max_length=32, json_schema_extra={"enum": list(PURPOSES)})
    granted: StrictBool
    channel: str = Field(min_length=1, max_length=24, pattern=r"^[a-z_]+$")
    notice_version: str = Field(min_length=1, max_length=32)


class ErasureIn(RequestModel):
    """Why the member's personal data is being erased (kept in the audit log)."""

    reason: str = Field(min_length=1, max_length=400)


# ------------------------------------------------------------------------- output
class HealthRead(BaseModel):
    status: str
    database: str


class ImportReportRead(BaseModel):
    """What one ingestion request did, by record kind."""

    batch_id: str
    records: int
    orders_created: int
    order_lines_created: int
    adjustments_created: int
    events_created: int
    consents_recorded: int
    duplicates: int
    rejected: int
    members_created: int
    merges: int
    reviews: int
    unattached_orders: int
    errors: list[ErrorDetail]


class MemberMatch(BaseModel):
    """A front-desk match: enough to pick the right person, no more."""

    id: str
    tier: str | None
    phone: str | None = Field(description="masked (138****5678) for every role but admin")


class MemberListItem(BaseModel):
    """One member in the list (pseudonymous: no name, no phone)."""

    id: str
    tier: str | None
    points: int
    home_store: str | None
    created_at: datetime


class MemberPage(BaseModel):
    """One page of the member list."""

    members: list[MemberListItem]
    total: int
    limit: int
    offset: int


class MemberMatches(BaseModel):
    members: list[MemberMatch]


class ConsentsRead(BaseModel):
    member_id: str
    consents: dict[str, bool]


class ErasureRead(BaseModel):
    erased: bool
    already_erased: bool


class UnmergeRead(BaseModel):
    merge_id: str
    status: str
    survivor_id: str
    absorbed_id: str
    undone_at: str | None


class AuditVerificationRead(BaseModel):
    ok: bool
    checked: int
    problems: list[str]
