"""The orders capability's part in an unmerge: orders that arrived after the merge through
the absorbed member's identifiers go back to the absorbed member."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from memberops.identity.hooks import ReturnRequest
from memberops.orders.models import Order, OrderIdentifier

__all__ = ["LaterOrdersReturner"]

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
