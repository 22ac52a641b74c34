"""Order hooks: how newly stored orders reach capabilities that react to them, and the
orders capability's part in an unmerge.

Orders knows nothing about points or tiers. A capability that must act on orders in the
order's own transaction (loyalty earns points and upgrades tiers as orders land)
registers an `OrdersStoredHandler`; ingestion calls every handler after each chunk of
orders and adjustments is flushed, with their ids. Handlers are registered once by the
assembly module (`memberops.capabilities`). On an unmerge, `LaterOrdersReturner` sends
back the orders that arrived after the merge through the absorbed member's identifiers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.identity.hooks import ReturnRequest
from memberops.orders.models import Order, OrderIdentifier

__all__ = [
    "LaterOrdersReturner",
    "OrdersStored",
    "OrdersStoredHandler",
    "StoredAdjustment",
    "clear_orders_stored_handlers",
    "orders_stored_handlers",
    "register_orders_stored_handler",
]


@dataclass(frozen=True, slots=True)
class StoredAdjustment:
    """A refund or void that was stored, or linked to its order, in this chunk."""

    id: str
    kind: str  # refund | void
    source: str
    source_adjustment_id: str
    order_id: str
    amount_cents: int


@dataclass(frozen=True, slots=True)
class OrdersStored:
    """Orders created in this chunk (ids) and adjustments that now reference an order."""

    order_ids: Sequence[str]
    adjustments: Sequence[StoredAdjustment] = field(default_factory=tuple)
    actor: Actor | None = None


class OrdersStoredHandler(Protocol):
    """Reacts to stored orders inside the ingestion transaction."""

    name: str

    def on_orders_stored(self, session: Session, event: OrdersStored) -> None:
        """Act on the orders (same transaction; raising rolls the batch back)."""
        ...


_handlers: list[OrdersStoredHandler] = []


def register_orders_stored_handler(handler: OrdersStoredHandler) -> None:
    """Add a handler; registering the same name twice keeps the first (idempotent)."""
    if all(existing.name != handler.name for existing in _handlers):
        _handlers.append(handler)


def orders_stored_handlers() -> tuple[OrdersStoredHandler, ...]:
    """Registered handlers, in registration order."""
    return tuple(_handlers)


def clear_orders_stored_handlers() -> None:
    """Forget every handler (tests and benchmarks that assemble their own set)."""
    _handlers.clear()


_IN_CHUNK = 500


class LaterOrdersReturner:
    """Finds and moves back the orders an unmerge returns (registered with identity)."""

    name = "orders.later_orders"

    def return_orders(self, session: Session, request: ReturnRequest) -> Sequence[str]:
        """Orders placed on the survivor since the merge that carry only the absorbed
        member's identifiers; moved to the absorbed member. Returns their ids, so merge
        handlers can move what those orders earned."""
        if not request.absorbed_identifier_ids:
            return []
        candidates = session.execute(
            select(Order.id, OrderIdentifier.identifier_id)
            .join(OrderIdentifier, OrderIdentifier.order_id == Order.id)
            .where(Order.member_id == request.survivor_id, Order.ingested_at >= request.merged_at)
        )
        seen: dict[str, set[str]] = {}
        for order_id, ident_id in candidates:
            seen.setdefault(order_id, set()).add(ident_id)
        back = [
            order_id
            for order_id, idents in seen.items()
            if idents & request.absorbed_identifier_ids
            and not idents & request.survivor_identifier_ids
        ]
        for start in range(0, len(back), _IN_CHUNK):
            session.execute(
                update(Order)
                .where(Order.id.in_(back[start : start + _IN_CHUNK]))
                .values(member_id=request.absorbed_id)
            )
        return back
