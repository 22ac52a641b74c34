"""Keeping stores and the catalog in step with a chain's master data."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.catalog.models import Item, Store
from memberops.catalog.rules import ItemIn, StoreIn, parse_item, parse_store
from memberops.errors import BatchValidationError, NotFound, ValidationError

__all__ = [
    "MAX_MASTER_RECORDS",
    "ItemIn",
    "MasterImportReport",
    "StoreIn",
    "all_store_codes",
    "get_store_id_by_code_or_raise",
    "import_items",
    "import_stores",
    "item_categories",
    "item_categories_by_sku",
    "item_ids_by_sku",
    "item_traits_source",
    "public_prices",
    "store_codes",
    "stores_by_code",
    "upsert_items",
    "upsert_stores",
]

# Far above any chain's stores or menu; a bigger file is a mistake, refused before work.
MAX_MASTER_RECORDS = 100_000
_MAX_REPORTED = 200

T = TypeVar("T", StoreIn, ItemIn)
SourceRecord = tuple[str, "Mapping[str, Any] | ValidationError"]


@dataclass
class MasterImportReport:
    """What a stores or catalog import did."""

    records: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def to_dict(self) -> dict[str, int]:
        """The counts, for JSON output."""
        return dict(self.__dict__)


def upsert_stores(session: Session, stores: Iterable[StoreIn]) -> int:
    """Insert new stores and update known ones by code; returns how many were written."""
    report = _write_stores(session, [(f"store {s.code}", s) for s in stores])
    return report.created + report.updated + report.unchanged


def upsert_items(session: Session, items: Iterable[ItemIn]) -> int:
    """Insert new items and update known ones by SKU; returns how many were written."""
    report = _write_items(session, [(f"item {i.sku}", i) for i in items])
    return report.created + report.updated + report.unchanged


def _validated(
    records: Iterable[SourceRecord],
    parse: Callable[[str, Mapping[str, Any]], T],
    key: Callable[[T], str],
    key_field: str,
) -> list[tuple[str, T]]:
    """Every record parsed; all problems at once, nothing written if there is one."""
    errors: list[ValidationError] = []
    total_errors = 0
    seen: dict[str, tuple[str, T]] = {}
    out: list[tuple[str, T]] = []
    count = 0
    for locator, data in records:
        count += 1
        if count > MAX_MASTER_RECORDS:
            raise ValidationError(locator, "-", f"more than {MAX_MASTER_RECORDS} records")
        try:
            if isinstance(data, ValidationError):
                raise data
            parsed = parse(locator, data)
            earlier = seen.get(key(parsed))
            if earlier is not None and earlier[1] != parsed:
                raise ValidationError(
                    locator, key_field, f"appears twice with different content (also {earlier[0]})"
                )
        except ValidationError as exc:
            total_errors += 1
            if len(errors) < _MAX_REPORTED:
                errors.append(exc)
            continue
        if earlier is None:  # an identical repeat is harmless and counted once
            seen[key(parsed)] = (locator, parsed)
            out.append((locator, parsed))
    if total_errors:
        raise BatchValidationError(errors, total_errors=total_errors)
    if count == 0:
        raise ValidationError("file", "-", "holds no records")
    return out


def _write_stores(session: Session, stores: list[tuple[str, StoreIn]]) -> MasterImportReport:
    report = MasterImportReport(records=len(stores))
    known = {s.code: s for s in session.scalars(select(Store))}
    for locator, store_in in stores:
        # Callers that build StoreIn themselves still get the zone checked.
        try:
            ZoneInfo(store_in.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(locator, "timezone", "is not an IANA zone") from None
        store = known.get(store_in.code)
        values = (
            store_in.name,
            store_in.city,
            store_in.region,
            store_in.timezone,
            store_in.opened_on,
        )
        if store is None:
            store = Store(code=store_in.code)
            session.add(store)
            known[store_in.code] = store
            report.created += 1
        elif (store.name, store.city, store.region, store.timezone, store.opened_on) == values:
            report.unchanged += 1
            continue
        else:
            report.updated += 1
        store.name, store.city, store.region, store.timezone, store.opened_on = values
    session.flush()
    return report


def _write_items(session: Session, items: list[tuple[str, ItemIn]]) -> MasterImportReport:
    report = MasterImportReport(records=len(items))
    known = {i.sku: i for i in session.scalars(select(Item))}
    for locator, item_in in items:
        if not item_in.price_cents >= 0:
            raise ValidationError(locator, "price_cents", "must not be negative")
        item = known.get(item_in.sku)
        values = (
            item_in.name,
            item_in.name_local,
            item_in.category,
            item_in.price_cents,
            sorted(item_in.tags),
            item_in.active,
        )
        if item is None:
            item = Item(sku=item_in.sku)
            session.add(item)
            known[item_in.sku] = item
            report.created += 1
        elif (
            item.name,
            item.name_local,
            item.category,
            item.price_cents,
            list(item.tags or []),
            item.active,
        ) == values:
            report.unchanged += 1
            continue
        else:
            report.updated += 1
        (item.name, item.name_local, item.category, item.price_cents, item.tags, item.active) = (
            values
        )
    session.flush()
    return report


def import_stores(session: Session, records: Iterable[SourceRecord]) -> MasterImportReport:
    """Validate every store record, then create or update by code (idempotent).

    Raises BatchValidationError naming each bad record and field; nothing is written
    then. Stores missing from the file are left as they are.
    """
    return _write_stores(session, _validated(records, parse_store, lambda s: s.code, "code"))


def import_items(session: Session, records: Iterable[SourceRecord]) -> MasterImportReport:
    """Validate every catalog record, then create or update by SKU (idempotent).

    Raises BatchValidationError naming each bad record and field; nothing is written
    then. Items missing from the file are left as they are (deactivate with active=false:
    orders keep pointing at them).
    """
    return _write_items(session, _validated(records, parse_item, lambda i: i.sku, "sku"))


def store_codes(session: Session, store_ids: Iterable[str]) -> dict[str, str]:
    """The code of each store, by store id (ids that do not exist are left out)."""
    ids = sorted(set(store_ids))
    if not ids:
        return {}
    rows = session.execute(select(Store.id, Store.code).where(Store.id.in_(ids))).all()
    return {store_id: code for store_id, code in rows}


def stores_by_code(session: Session) -> dict[str, tuple[str, str]]:
    """Every store: code -> (store id, IANA time zone)."""
    rows = session.execute(select(Store.code, Store.id, Store.timezone)).all()
    return {code: (store_id, zone) for code, store_id, zone in rows}


def item_ids_by_sku(session: Session) -> dict[str, str]:
    """Every menu item: SKU -> item id."""
    return {sku: item_id for sku, item_id in session.execute(select(Item.sku, Item.id)).all()}


def item_categories(session: Session) -> dict[str, tuple[str, str, str]]:
    """Every item (active or not) by id: (sku, name, category), for analytics labels."""
    rows = session.execute(select(Item.id, Item.sku, Item.name, Item.category))
    return {item_id: (sku, name, category) for item_id, sku, name, category in rows}


def item_traits_source(session: Session) -> list[tuple[str, str, str, list[str]]]:
    """Every item (active or not): (item id, SKU, category, tags), for lifestyle mapping."""
    rows = session.execute(select(Item.id, Item.sku, Item.category, Item.tags).order_by(Item.id))
    return [(item_id, sku, category, list(tags or [])) for item_id, sku, category, tags in rows]


def item_categories_by_sku(session: Session, skus: Iterable[str]) -> dict[str, str]:
    """The category of each known SKU (unknown SKUs are absent)."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    rows = session.execute(select(Item.sku, Item.category).where(Item.sku.in_(wanted)))
    return {sku: category for sku, category in rows}


def all_store_codes(session: Session) -> dict[str, str]:
    """Every store's code, by store id."""
    return {store_id: code for store_id, code in session.execute(select(Store.id, Store.code))}


def get_store_id_by_code_or_raise(session: Session, code: str) -> str:
    """The id of the store with this code; NotFound otherwise."""
    store_id = session.scalar(select(Store.id).where(Store.code == code))
    if store_id is None:
        raise NotFound(f"store {code} not found")
    return store_id


def public_prices(session: Session, skus: Iterable[str]) -> dict[str, int]:
    """The public price in cents of each known SKU (unknown SKUs are absent)."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    return {
        sku: int(price)
        for sku, price in session.execute(
            select(Item.sku, Item.price_cents).where(Item.sku.in_(wanted), Item.active.is_(True))
        )
    }
