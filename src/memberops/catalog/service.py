"""Keeping stores and the catalog in step with a chain's master data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.catalog.models import Item, Store
from memberops.errors import ValidationError

__all__ = ["ItemIn", "StoreIn", "public_prices", "upsert_items", "upsert_stores"]


@dataclass(frozen=True)
class StoreIn:
    code: str
    name: str
    city: str
    region: str
    timezone: str
    opened_on: date | None = None


@dataclass(frozen=True)
class ItemIn:
    sku: str
    name: str
    category: str
    price_cents: int
    name_local: str | None = None
    tags: tuple[str, ...] = ()


def upsert_stores(session: Session, stores: Iterable[StoreIn]) -> int:
    """Insert new stores and update known ones by code; returns how many were written."""
    known = {s.code: s for s in session.scalars(select(Store))}
    count = 0
    for store_in in stores:
        try:
            ZoneInfo(store_in.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(
                f"store {store_in.code}", "timezone", "is not an IANA zone"
            ) from None
        store = known.get(store_in.code)
        if store is None:
            store = Store(code=store_in.code)
            session.add(store)
        store.name, store.city, store.region = store_in.name, store_in.city, store_in.region
        store.timezone, store.opened_on = store_in.timezone, store_in.opened_on
        count += 1
    session.flush()
    return count


def upsert_items(session: Session, items: Iterable[ItemIn]) -> int:
    """Insert new items and update known ones by SKU; returns how many were written."""
    known = {i.sku: i for i in session.scalars(select(Item))}
    count = 0
    for item_in in items:
        if item_in.price_cents < 0:
            raise ValidationError(f"item {item_in.sku}", "price_cents", "must not be negative")
        item = known.get(item_in.sku)
        if item is None:
            item = Item(sku=item_in.sku)
            session.add(item)
        item.name, item.name_local, item.category = (
            item_in.name,
            item_in.name_local,
            item_in.category,
        )
        item.price_cents, item.tags = item_in.price_cents, sorted(item_in.tags)
        count += 1
    session.flush()
    return count


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
