"""Orders, lines, refunds and voids, engagement events and import batches.

Orders are append-friendly: the idempotency key is (source system, source order id),
each row carries its content hash (a replay with the same content changes nothing, with
other content it is a conflict) and an ingestion watermark (`ingested_at`) for
incremental export to Parquet. Money is integer cents; times are stored in UTC with
the local offset kept, because meal times are a local-time concept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from memberops.db import Base, IdString, UtcDateTime, new_id, utcnow

__all__ = [
    "EngagementEvent",
    "ImportBatch",
    "Order",
    "OrderAdjustment",
    "OrderIdentifier",
    "OrderLine",
]


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("source_order_id", "source"),
        Index("ix_orders_member_ordered", "member_id", "ordered_at"),
        Index("ix_orders_ingested_at", "ingested_at"),
    )

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    source: Mapped[str] = mapped_column(String(40))
    source_order_id: Mapped[str] = mapped_column(String(80))
    content_hash: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(24))
    store_id: Mapped[str] = mapped_column(IdString(), ForeignKey("stores.id"), index=True)
    member_id: Mapped[str | None] = mapped_column(
        IdString(), ForeignKey("members.id"), info={"member_owned": "move"}
    )
    ordered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    utc_offset_minutes: Mapped[int] = mapped_column(Integer)
    meal_type: Mapped[str] = mapped_column(String(16))
    party_size: Mapped[int | None] = mapped_column(Integer)
    subtotal_cents: Mapped[int] = mapped_column(Integer)
    discount_cents: Mapped[int] = mapped_column(Integer, default=0)
    total_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    vouchers: Mapped[list[str]] = mapped_column(JSON, default=list)
    ingested_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    import_batch_id: Mapped[str | None] = mapped_column(IdString())


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(IdString(), ForeignKey("orders.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    # No foreign key: every line's SKU is checked against the catalog on ingestion, items
    # are never deleted (they are deactivated), and the per-row key check cost PostgreSQL
    # about 15% of its ingestion rate (BENCHMARKS.md).
    item_id: Mapped[str] = mapped_column(IdString())
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    line_total_cents: Mapped[int] = mapped_column(Integer)
    # Structured, normalised service requirements ("no onions"): the top-5 come from here.
    modifiers: Mapped[list[str]] = mapped_column(JSON, default=list)


class OrderIdentifier(Base):
    """Which identifiers were seen on an order (by reference: values stay encrypted)."""

    __tablename__ = "order_identifiers"

    order_id: Mapped[str] = mapped_column(IdString(), ForeignKey("orders.id"), primary_key=True)
    identifier_id: Mapped[str] = mapped_column(
        IdString(), ForeignKey("identifiers.id"), primary_key=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(24))
    verified: Mapped[bool] = mapped_column(Boolean, default=False)


class OrderAdjustment(Base):
    """A refund or void: its own event, referencing the order (which may arrive later)."""

    __tablename__ = "order_adjustments"
    __table_args__ = (
        UniqueConstraint("source", "source_adjustment_id"),
        Index("ix_order_adjustments_source_order", "source_order_id", "source"),
    )

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(8))  # refund | void
    source: Mapped[str] = mapped_column(String(40))
    source_adjustment_id: Mapped[str] = mapped_column(String(80))
    source_order_id: Mapped[str] = mapped_column(String(80))
    order_id: Mapped[str | None] = mapped_column(IdString(), ForeignKey("orders.id"), index=True)
    member_id: Mapped[str | None] = mapped_column(
        IdString(), ForeignKey("members.id"), index=True, info={"member_owned": "move"}
    )
    amount_cents: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reason: Mapped[str | None] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    ingested_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class EngagementEvent(Base):
    """Share, referral, review, survey answer or complaint."""

    __tablename__ = "engagement_events"
    __table_args__ = (UniqueConstraint("source", "source_event_id"),)

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    source: Mapped[str] = mapped_column(String(40))
    source_event_id: Mapped[str] = mapped_column(String(80))
    type: Mapped[str] = mapped_column(String(24), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    store_id: Mapped[str | None] = mapped_column(IdString(), ForeignKey("stores.id"))
    member_id: Mapped[str | None] = mapped_column(
        IdString(), ForeignKey("members.id"), index=True, info={"member_owned": "move"}
    )
    rating: Mapped[int | None] = mapped_column(Integer)
    referred_identifier_id: Mapped[str | None] = mapped_column(
        IdString(), ForeignKey("identifiers.id")
    )
    content_hash: Mapped[str] = mapped_column(String(64))
    ingested_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ImportBatch(Base):
    """One import (file or API batch), written in the same transaction as its rows."""

    __tablename__ = "import_batches"

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    source_name: Mapped[str] = mapped_column(String(400))
    file_sha256: Mapped[str | None] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
