"""Idempotent ingestion of orders, refunds, voids, engagement events and consents.

One call ingests one batch (a file, or an API request) in the caller's transaction:
- every record is validated; errors name the record, the field and the reason;
- without `skip_invalid` any error fails the whole batch (the edge rolls back);
  with it, valid records load and rejected ones go to `reject` with their reasons;
- (source, source id) is the idempotency key: the same content again is a no-op,
  different content is a conflict, reported and never written over;
- a refund or void that arrives before its order is kept and linked when the order comes.
Records are processed in chunks so memory stays bounded for files of any size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.catalog.service import item_ids_by_sku, stores_by_code
from memberops.db import bulk_insert, new_id, utcnow
from memberops.errors import BatchValidationError, RecordConflict, ValidationError
from memberops.identity.resolver import IdentityResolver, PersonalFields
from memberops.orders.hooks import OrdersStored, StoredAdjustment, orders_stored_handlers
from memberops.orders.models import (
    EngagementEvent,
    ImportBatch,
    Order,
    OrderAdjustment,
    OrderIdentifier,
    OrderLine,
)
from memberops.orders.readers import SourceRecord
from memberops.orders.rules import (
    AdjustmentDraft,
    ConsentDraft,
    CustomerDraft,
    EventDraft,
    OrderDraft,
    parse_adjustment,
    parse_consent,
    parse_event,
    parse_order,
)
from memberops.privacy import audit
from memberops.privacy.consent import ConsentDecision, record_consents_bulk
from memberops.privacy.crypto import KeyRing
from memberops.privacy.rules import SEPARATE_CONSENT_PURPOSES

__all__ = ["Catalog", "ImportReport", "ingest"]

MAX_REPORTED_ERRORS = 200
_IN_CHUNK = 500
Draft = OrderDraft | AdjustmentDraft | EventDraft | ConsentDraft


@dataclass
class ImportReport:
    """What a batch did, by record kind."""

    batch_id: str
    records: int = 0
    orders_created: int = 0
    order_lines_created: int = 0
    adjustments_created: int = 0
    events_created: int = 0
    consents_recorded: int = 0
    duplicates: int = 0
    rejected: int = 0
    members_created: int = 0
    merges: int = 0
    reviews: int = 0
    unattached_orders: int = 0
    # Records stored without an unusable phone or email (nothing of the sale is lost).
    warnings: int = 0
    errors: list[ValidationError] = field(default_factory=list)
    warning_details: list[ValidationError] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("errors", "warning_details")}
        for name in ("errors", "warning_details"):
            data[name] = [
                {"record": e.record, "field": e.field, "reason": e.reason}
                for e in getattr(self, name)
            ]
        return data


@dataclass(frozen=True)
class Catalog:
    """Store codes (with ids and zones) and SKUs (with ids), loaded once per batch."""

    store_ids: dict[str, str]
    store_zones: dict[str, ZoneInfo]
    item_ids: dict[str, str]
    skus: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "skus", frozenset(self.item_ids))

    @classmethod
    def load(cls, session: Session) -> Catalog:
        stores = stores_by_code(session)
        return cls(
            store_ids={code: sid for code, (sid, _tz) in stores.items()},
            store_zones={code: ZoneInfo(tz) for code, (_sid, tz) in stores.items()},
            item_ids=item_ids_by_sku(session),
        )


def _parse(locator: str, data: dict[str, Any], catalog: Catalog) -> Draft:
    kind = data.get("record_type", "order")
    if kind == "order":
        return parse_order(locator, data, store_zones=catalog.store_zones, known_skus=catalog.skus)
    if kind in ("refund", "void"):
        return parse_adjustment(locator, data)
    if kind == "event":
        return parse_event(locator, data, store_zones=catalog.store_zones)
    if kind == "consent":
        return parse_consent(locator, data)
    raise ValidationError(locator, "record_type", "must be order, refund, void, event or consent")


def _personal(customer: CustomerDraft) -> PersonalFields | None:
    if not (customer.name or customer.nickname or customer.birthday or customer.gender):
        return None
    return PersonalFields(customer.name, customer.nickname, customer.birthday, customer.gender)


def _chunks(records: Iterable[SourceRecord], size: int) -> Iterator[list[SourceRecord]]:
    chunk: list[SourceRecord] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Batch:
    """The state of one ingestion call."""

    def __init__(
        self,
        session: Session,
        keyring: KeyRing,
        *,
        actor: Actor,
        report: ImportReport,
        skip_invalid: bool,
        reject: Callable[[str, dict[str, Any] | None, ValidationError], None] | None,
        warn: Callable[[str, dict[str, Any] | None, ValidationError], None] | None = None,
    ) -> None:
        self.warn_sink = warn
        self.session = session
        self.keyring = keyring
        self.actor = actor
        self.report = report
        self.skip_invalid = skip_invalid
        self.reject_sink = reject
        self.catalog = Catalog.load(session)
        self.resolver = IdentityResolver(session, keyring, actor=actor)
        self.failed = False
        # What this chunk stored, for the order hooks (loyalty earns in this transaction).
        self.stored_orders: list[str] = []
        self.stored_adjustments: list[StoredAdjustment] = []

    def reject(self, error: ValidationError, data: dict[str, Any] | None) -> None:
        self.report.rejected += 1
        if len(self.report.errors) < MAX_REPORTED_ERRORS:
            self.report.errors.append(error)
        if self.skip_invalid:
            if self.reject_sink is not None:
                self.reject_sink(error.record, data, error)
        else:
            self.failed = True

    def warn(self, warning: ValidationError, data: dict[str, Any]) -> None:
        self.report.warnings += 1
        if len(self.report.warning_details) < MAX_REPORTED_ERRORS:
            self.report.warning_details.append(warning)
        if self.warn_sink is not None:
            self.warn_sink(warning.record, data, warning)

    # ------------------------------------------------------------------ chunk
    def process(self, chunk: list[SourceRecord]) -> None:
        drafts: list[tuple[Draft, dict[str, Any]]] = []
        for locator, data in chunk:
            self.report.records += 1
            if isinstance(data, ValidationError):
                self.reject(data, None)
                continue
            try:
                draft = _parse(locator, data, self.catalog)
            except ValidationError as exc:
                self.reject(exc, data)
                continue
            drafts.append((draft, data))
            if isinstance(draft, OrderDraft):
                for warning in draft.customer.warnings:
                    self.warn(warning, data)
        if self.failed:
            return  # keep validating the rest for the report; nothing will be written
        orders = [(d, raw) for d, raw in drafts if isinstance(d, OrderDraft)]
        fresh_orders = self._drop_replays(orders)
        if self.failed:
            return
        self.resolver.prefetch(
            s
            for d, _raw in drafts
            if not isinstance(d, AdjustmentDraft)
            for s in d.customer.identifiers
        )
        self._write_orders(fresh_orders)
        self._write_events([(d, raw) for d, raw in drafts if isinstance(d, EventDraft)])
        consents: list[ConsentDecision] = []
        for draft, raw in drafts:
            if isinstance(draft, AdjustmentDraft):
                self._write_adjustment(draft, raw)
            elif isinstance(draft, ConsentDraft):
                if self._separate_consent_from_till(draft):
                    # Sensitive data and partner sharing need the member's separate
                    # consent (PIPL Art. 23, 29): the member's own app or an admin, never
                    # a till's order feed. The rest of the batch is kept.
                    self.warn(
                        ValidationError(
                            draft.locator,
                            "purpose",
                            f"{draft.purpose} needs the member's separate consent (their own "
                            "app or an admin), not a POS feed; ignored",
                        ),
                        raw,
                    )
                    continue
                decision = self._consent_decision(draft)
                if decision is not None:
                    consents.append(decision)
        self.resolver.flush()
        recorded = record_consents_bulk(self.session, consents, actor=self.actor)
        self.report.consents_recorded += recorded
        self.report.duplicates += len(consents) - recorded
        self._notify_stored()
        self.resolver.forget()

    def _notify_stored(self) -> None:
        if self.stored_orders or self.stored_adjustments:
            self.session.flush()
            event = OrdersStored(
                tuple(self.stored_orders), tuple(self.stored_adjustments), self.actor
            )
            for handler in orders_stored_handlers():
                handler.on_orders_stored(self.session, event)
        self.stored_orders = []
        self.stored_adjustments = []

    def _drop_replays(self, orders: list[tuple[OrderDraft, dict[str, Any]]]) -> list[OrderDraft]:
        """Same key and content as stored (or seen earlier): skip. Other content: conflict."""
        stored: dict[tuple[str, str], str] = {}
        ids = list({d.source_order_id for d, _raw in orders})
        for start in range(0, len(ids), _IN_CHUNK):
            for source, source_id, stored_digest in self.session.execute(
                select(Order.source, Order.source_order_id, Order.content_hash).where(
                    Order.source_order_id.in_(ids[start : start + _IN_CHUNK])
                )
            ):
                stored[(source, source_id)] = stored_digest
        fresh: list[OrderDraft] = []
        for draft, raw in orders:
            digest = stored.get(draft.key)
            if digest is None:
                stored[draft.key] = draft.content_hash
                fresh.append(draft)
            elif digest == draft.content_hash:
                self.report.duplicates += 1
            else:
                self.reject(
                    RecordConflict(
                        draft.locator,
                        "source_order_id",
                        "conflict: this order id is already stored with different content",
                    ),
                    raw,
                )
        return fresh

    def _write_orders(self, drafts: list[OrderDraft]) -> None:
        if not drafts:
            return
        order_rows: list[dict[str, Any]] = []
        line_rows: list[dict[str, Any]] = []
        ident_rows: list[dict[str, Any]] = []
        now = utcnow()
        for draft in drafts:
            resolution = self.resolver.resolve(
                draft.customer.identifiers,
                at=draft.ordered_at,
                source=draft.channel,
                personal=_personal(draft.customer),
            )
            order_id = new_id()
            if resolution.member_id is None:
                self.report.unattached_orders += 1
            order_rows.append(
                {
                    "id": order_id,
                    "source": draft.source,
                    "source_order_id": draft.source_order_id,
                    "content_hash": draft.content_hash,
                    "channel": draft.channel,
                    "store_id": self.catalog.store_ids[draft.store_code],
                    "member_id": resolution.member_id,
                    "ordered_at": draft.ordered_at,
                    "utc_offset_minutes": draft.utc_offset_minutes,
                    "meal_type": draft.meal_type,
                    "party_size": draft.party_size,
                    "subtotal_cents": draft.subtotal_cents,
                    "discount_cents": draft.discount_cents,
                    "total_cents": draft.total_cents,
                    "currency": draft.currency,
                    "vouchers": list(draft.vouchers),
                    "ingested_at": now,
                    "import_batch_id": self.report.batch_id,
                }
            )
            for line_no, line in enumerate(draft.lines, start=1):
                line_rows.append(
                    {
                        "order_id": order_id,
                        "line_no": line_no,
                        "item_id": self.catalog.item_ids[line.sku],
                        "quantity": line.quantity,
                        "unit_price_cents": line.unit_price_cents,
                        "line_total_cents": line.total_cents,
                        "modifiers": list(line.modifiers),
                    }
                )
            for ident_id, kind, verified in dict.fromkeys(resolution.identifiers):
                ident_rows.append(
                    {
                        "order_id": order_id,
                        "identifier_id": ident_id,
                        "kind": kind,
                        "verified": verified,
                    }
                )
        self.resolver.flush()
        for row in order_rows:  # merges later in the chunk may have moved a member
            row["member_id"] = self.resolver.canonical(row["member_id"])
        bulk_insert(self.session, Order, order_rows)
        bulk_insert(self.session, OrderLine, line_rows)
        if ident_rows:
            bulk_insert(self.session, OrderIdentifier, ident_rows)
        self.report.orders_created += len(order_rows)
        self.stored_orders.extend(row["id"] for row in order_rows)
        self.report.order_lines_created += len(line_rows)
        self._link_waiting_adjustments(order_rows)

    def _link_waiting_adjustments(self, order_rows: list[dict[str, Any]]) -> None:
        """Refunds and voids that arrived before their order are linked to it now."""
        by_key = {(r["source"], r["source_order_id"]): r for r in order_rows}
        ids = list({k[1] for k in by_key})
        for start in range(0, len(ids), _IN_CHUNK):
            waiting = self.session.execute(
                select(
                    OrderAdjustment.id,
                    OrderAdjustment.source,
                    OrderAdjustment.source_order_id,
                    OrderAdjustment.kind,
                    OrderAdjustment.source_adjustment_id,
                    OrderAdjustment.amount_cents,
                ).where(
                    OrderAdjustment.order_id.is_(None),
                    OrderAdjustment.source_order_id.in_(ids[start : start + _IN_CHUNK]),
                )
            ).all()
            for adj_id, source, source_order_id, kind, source_adj_id, amount in waiting:
                row = by_key.get((source, source_order_id))
                if row is not None:
                    self.session.execute(
                        update(OrderAdjustment)
                        .where(OrderAdjustment.id == adj_id)
                        .values(order_id=row["id"], member_id=row["member_id"])
                    )
                    self.stored_adjustments.append(
                        StoredAdjustment(adj_id, kind, source, source_adj_id, row["id"], amount)
                    )

    def _write_adjustment(self, draft: AdjustmentDraft, raw: dict[str, Any]) -> None:
        existing = self.session.execute(
            select(OrderAdjustment.content_hash).where(
                OrderAdjustment.source == draft.source,
                OrderAdjustment.source_adjustment_id == draft.source_adjustment_id,
            )
        ).scalar_one_or_none()
        if existing is not None:
            if existing == draft.content_hash:
                self.report.duplicates += 1
            else:
                self.reject(
                    RecordConflict(
                        draft.locator,
                        f"source_{draft.kind}_id",
                        "conflict: already stored with different content",
                    ),
                    raw,
                )
            return
        order = self.session.execute(
            select(Order.id, Order.member_id, Order.total_cents).where(
                Order.source == draft.source, Order.source_order_id == draft.source_order_id
            )
        ).one_or_none()
        amount = draft.amount_cents
        if order is not None:
            already = sum(
                self.session.scalars(
                    select(OrderAdjustment.amount_cents).where(OrderAdjustment.order_id == order.id)
                )
            )
            remaining = order.total_cents - already
            if amount is None:
                amount = remaining
            if amount > remaining:
                self.reject(
                    ValidationError(
                        draft.locator,
                        "amount_cents",
                        f"exceeds what remains refundable on the order ({remaining})",
                    ),
                    raw,
                )
                return
        elif amount is None:
            self.reject(
                ValidationError(
                    draft.locator, "source_order_id", "a void needs its order to be known first"
                ),
                raw,
            )
            return
        adjustment_id = new_id()
        self.session.execute(
            insert(OrderAdjustment).values(
                id=adjustment_id,
                kind=draft.kind,
                source=draft.source,
                source_adjustment_id=draft.source_adjustment_id,
                source_order_id=draft.source_order_id,
                order_id=order.id if order is not None else None,
                member_id=order.member_id if order is not None else None,
                amount_cents=amount,
                occurred_at=draft.occurred_at,
                reason=draft.reason,
                content_hash=draft.content_hash,
                ingested_at=utcnow(),
            )
        )
        self.report.adjustments_created += 1
        if order is not None:
            self.stored_adjustments.append(
                StoredAdjustment(
                    adjustment_id,
                    draft.kind,
                    draft.source,
                    draft.source_adjustment_id,
                    order.id,
                    amount,
                )
            )

    def _write_events(self, events: list[tuple[EventDraft, dict[str, Any]]]) -> None:
        if not events:
            return
        stored: dict[tuple[str, str], str] = {}
        ids = list({d.source_event_id for d, _raw in events})
        for start in range(0, len(ids), _IN_CHUNK):
            for source, event_id, stored_digest in self.session.execute(
                select(
                    EngagementEvent.source,
                    EngagementEvent.source_event_id,
                    EngagementEvent.content_hash,
                ).where(EngagementEvent.source_event_id.in_(ids[start : start + _IN_CHUNK]))
            ):
                stored[(source, event_id)] = stored_digest
        rows: list[dict[str, Any]] = []
        now = utcnow()
        for draft, raw in events:
            key = (draft.source, draft.source_event_id)
            digest = stored.get(key)
            if digest is not None:
                if digest == draft.content_hash:
                    self.report.duplicates += 1
                else:
                    self.reject(
                        RecordConflict(
                            draft.locator,
                            "source_event_id",
                            "conflict: already stored with different content",
                        ),
                        raw,
                    )
                continue
            stored[key] = draft.content_hash
            resolution = self.resolver.resolve(
                draft.customer.identifiers, at=draft.occurred_at, source=draft.source
            )
            referred_id = None
            if draft.referred is not None:
                referred = self.resolver.resolve(
                    [draft.referred], at=draft.occurred_at, source=draft.source
                )
                referred_id = referred.identifiers[0][0]
            rows.append(
                {
                    "id": new_id(),
                    "source": draft.source,
                    "source_event_id": draft.source_event_id,
                    "type": draft.type,
                    "occurred_at": draft.occurred_at,
                    "store_id": self.catalog.store_ids.get(draft.store_code or ""),
                    "member_id": resolution.member_id,
                    "rating": draft.rating,
                    "referred_identifier_id": referred_id,
                    "content_hash": draft.content_hash,
                    "ingested_at": now,
                }
            )
        self.resolver.flush()
        for row in rows:
            row["member_id"] = self.resolver.canonical(row["member_id"])
        if rows:
            bulk_insert(self.session, EngagementEvent, rows)
        self.report.events_created += len(rows)

    def _separate_consent_from_till(self, draft: ConsentDraft) -> bool:
        """A separate-consent purpose arriving from a till (a POS key, or a record whose
        source or channel is the POS)."""
        from_till = (
            self.actor.role == "pos"
            or draft.source.casefold() == "pos"
            or draft.channel.casefold() == "pos"
        )
        return from_till and draft.purpose in SEPARATE_CONSENT_PURPOSES

    def _consent_decision(self, draft: ConsentDraft) -> ConsentDecision | None:
        resolution = self.resolver.resolve(
            draft.customer.identifiers, at=draft.at, source=draft.channel
        )
        member_id = self.resolver.canonical(resolution.member_id)
        if member_id is None:
            self.reject(
                ValidationError(
                    draft.locator,
                    "customer",
                    "matches no single member (queued for identity review)",
                ),
                None,
            )
            return None
        return ConsentDecision(
            member_id=member_id,
            purpose=draft.purpose,
            granted=draft.granted,
            decided_at=draft.at,
            channel=draft.channel,
            source=draft.source,
            notice_version=draft.notice_version,
        )


def ingest(
    session: Session,
    keyring: KeyRing,
    records: Iterable[SourceRecord],
    *,
    actor: Actor,
    source_name: str,
    fmt: str,
    file_sha256: str | None = None,
    skip_invalid: bool = False,
    reject: Callable[[str, dict[str, Any] | None, ValidationError], None] | None = None,
    warn: Callable[[str, dict[str, Any] | None, ValidationError], None] | None = None,
    chunk_size: int = 2500,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Ingest a batch in the caller's transaction; raises BatchValidationError on bad input.

    The caller commits on success and rolls back on error, so a batch is stored whole or
    not at all (with `skip_invalid`, whole minus the rejected records). An order with an
    unusable phone or email is stored without it; `warn` receives each such warning.
    """
    report = ImportReport(batch_id=new_id())
    batch = _Batch(
        session,
        keyring,
        actor=actor,
        report=report,
        skip_invalid=skip_invalid,
        reject=reject,
        warn=warn,
    )
    received = 0
    for chunk in _chunks(records, chunk_size):
        received += len(chunk)
        batch.process(chunk)
        if on_progress is not None:
            on_progress(len(chunk))
    if batch.failed:
        raise BatchValidationError(report.errors, total_errors=report.rejected)
    report.members_created = batch.resolver.counts["members_created"]
    report.merges = batch.resolver.counts["merges"]
    report.reviews = batch.resolver.counts["reviews"]
    session.add(
        ImportBatch(
            id=report.batch_id,
            source_name=source_name[:400],
            file_sha256=file_sha256,
            format=fmt,
            actor=actor.label,
            finished_at=utcnow(),
            counts={k: v for k, v in report.to_dict().items() if isinstance(v, int)},
        )
    )
    # Who imported which batch and how much: the audit chain, beside the batch row.
    audit.record(
        session,
        actor,
        "orders.import",
        fields=[fmt[:16]],
        reason=(
            f"batch {report.batch_id} from {source_name[:80]}: {received} records, "
            f"{report.orders_created} orders, {report.duplicates} duplicates, "
            f"{report.rejected} rejected, {report.warnings} warnings"
        ),
    )
    session.flush()
    return report
