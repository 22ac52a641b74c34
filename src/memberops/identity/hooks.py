"""Merge hooks: how a merge or an unmerge reaches state that other capabilities own.

Identity moves member-owned rows (tables declaring `info={"member_owned": "move"}`) and
the identifier links itself. State that must move *by posting* (a points balance and its
lots, vouchers, a tier) belongs to the capability that owns it, which registers a
`MergeHandler`; identity calls every registered handler inside the merge's transaction
and names no other capability's columns.

Orders that arrived after a merge through the absorbed member's identifiers belong to the
absorbed member again after an unmerge. Identity does not read orders: the orders
capability registers an `OrderReturner` that finds and moves them, and identity puts what
it returned in `UnmergeEvent.returned_order_ids` for the handlers.

Handlers are registered once by the assembly module (`memberops.capabilities`), never at
import time of the capability itself, so the order is explicit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from memberops.actor import Actor

__all__ = [
    "MergeEvent",
    "MergeHandler",
    "OrderReturner",
    "ReturnRequest",
    "UnmergeEvent",
    "clear_merge_handlers",
    "merge_handlers",
    "order_returners",
    "register_merge_handler",
    "register_order_returner",
]


@dataclass(frozen=True, slots=True)
class MergeEvent:
    """`absorbed_id` was merged into `survivor_id` by merge `merge_id`."""

    merge_id: str
    survivor_id: str
    absorbed_id: str
    actor: Actor
    at: datetime


@dataclass(frozen=True, slots=True)
class UnmergeEvent:
    """Merge `merge_id` was undone: `absorbed_id` exists again beside `survivor_id`.

    `returned_order_ids` are the orders that went back to the absorbed member: those the
    merge moved and those that arrived after the merge but carry the absorbed member's
    identifiers. A handler that derived state from orders (points earned) moves that
    state back with them.
    """

    merge_id: str
    survivor_id: str
    absorbed_id: str
    actor: Actor
    at: datetime
    returned_order_ids: Sequence[str] = field(default_factory=tuple)


class MergeHandler(Protocol):
    """State a capability owns per member, moved by its own postings on merge/unmerge."""

    name: str

    def on_merge(self, session: Session, event: MergeEvent) -> None:
        """Move the absorbed member's state to the survivor (same transaction)."""
        ...

    def on_unmerge(self, session: Session, event: UnmergeEvent) -> None:
        """Move back exactly what `on_merge` moved, plus state tied to returned orders."""
        ...


@dataclass(frozen=True, slots=True)
class ReturnRequest:
    """An unmerge asks: which orders placed since `merged_at` are the absorbed member's?

    An order goes back when it carries one of `absorbed_identifier_ids` and none of
    `survivor_identifier_ids` (identifiers the survivor holds in its own right).
    """

    survivor_id: str
    absorbed_id: str
    merged_at: datetime
    absorbed_identifier_ids: frozenset[str]
    survivor_identifier_ids: frozenset[str]


class OrderReturner(Protocol):
    """Moves orders that arrived after a merge back to the absorbed member on unmerge."""

    name: str

    def return_orders(self, session: Session, request: ReturnRequest) -> Sequence[str]:
        """Move the orders back (same transaction); return their ids."""
        ...


_handlers: list[MergeHandler] = []
_returners: list[OrderReturner] = []


def register_merge_handler(handler: MergeHandler) -> None:
    """Add a handler; registering the same name twice keeps the first (idempotent)."""
    if all(existing.name != handler.name for existing in _handlers):
        _handlers.append(handler)


def merge_handlers() -> tuple[MergeHandler, ...]:
    """Registered handlers, in registration order."""
    return tuple(_handlers)


def register_order_returner(returner: OrderReturner) -> None:
    """Add a returner; registering the same name twice keeps the first (idempotent)."""
    if all(existing.name != returner.name for existing in _returners):
        _returners.append(returner)


def order_returners() -> tuple[OrderReturner, ...]:
    """Registered order returners, in registration order."""
    return tuple(_returners)


def clear_merge_handlers() -> None:
    """Forget every handler and returner (tests that assemble their own set)."""
    _handlers.clear()
    _returners.clear()
