"""Stores and the catalog of dishes and products."""

from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from memberops.db import Base, IdString, new_id

__all__ = ["Item", "Store"]


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    city: Mapped[str] = mapped_column(String(60), index=True)
    region: Mapped[str] = mapped_column(String(60), index=True)
    # Times without an offset from this store's POS are read in this zone (documented).
    timezone: Mapped[str] = mapped_column(String(64))
    opened_on: Mapped[date | None]


class Item(Base):
    __tablename__ = "items"

    id: Mapped[str] = mapped_column(IdString(), primary_key=True, default=new_id)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(160))
    name_local: Mapped[str | None] = mapped_column(String(160))
    category: Mapped[str] = mapped_column(String(40), index=True)
    price_cents: Mapped[int] = mapped_column(Integer)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
