"""Small named builders for API tests: order payloads and the identifiers on them."""

from __future__ import annotations

import itertools
import secrets
from typing import Any

__all__ = ["OTHER_STORE", "SKUS", "STORE", "new_card", "new_order_id", "new_phone", "order"]

STORE = "S001"
OTHER_STORE = "S002"
SKUS = {"HOTPOT-BEEF": 6800, "TEA-JASMINE": 1200}

_counter = itertools.count(1)
# One random prefix per test run, so runs against a kept database never collide.
_RUN = secrets.token_hex(3)


def new_order_id() -> str:
    """A source order id no other test uses."""
    return f"ord-{_RUN}-{next(_counter)}"


def new_phone() -> str:
    """A valid mainland mobile number no other test uses, in a till's spelling."""
    digits = f"{secrets.randbelow(10**8):08d}"
    return f"+86 139 {digits[:4]} {digits[4:]}"


def new_card() -> str:
    """A membership card number no other test uses."""
    return f"CARD{_RUN}{next(_counter):06d}".upper()


def order(
    *,
    source_order_id: str | None = None,
    store_code: str = STORE,
    phone: str | None = None,
    card: str | None = None,
    quantity: int = 2,
    sku: str = "HOTPOT-BEEF",
    **overrides: Any,
) -> dict[str, Any]:
    """One valid POS order (two of one dish), with its total adding up."""
    price = SKUS.get(sku, 1000)
    customer: dict[str, Any] = {}
    if phone is not None:
        customer.update(phone=phone, phone_verified=True)
    if card is not None:
        customer["card_no"] = card
    payload: dict[str, Any] = {
        "source": "pos",
        "source_order_id": source_order_id or new_order_id(),
        "channel": "pos",
        "store_code": store_code,
        "ordered_at": "2025-03-14T19:05:00+08:00",
        "customer": customer,
        "lines": [{"sku": sku, "quantity": quantity, "unit_price_cents": price}],
        "total_cents": quantity * price,
    }
    payload.update(overrides)
    return payload
