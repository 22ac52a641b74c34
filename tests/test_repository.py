"""The shared repository base: one row or NotFound naming what is missing, and pages that
know their total."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from memberops.catalog.models import Item
from memberops.errors import NotFound
from memberops.repository import get_one, get_one_or_none, paginate


def test_get_one_names_what_is_missing(session: Session) -> None:
    item_id = session.scalars(select(Item.id).where(Item.sku == "BR001")).one()
    assert get_one(session, Item, item_id, what="item").sku == "BR001"
    assert get_one_or_none(session, Item, "0" * 26) is None
    with pytest.raises(NotFound, match=f"item {'0' * 26} not found"):
        get_one(session, Item, "0" * 26, what="item")


def test_paginate_returns_one_page_and_the_total(session: Session) -> None:
    statement = select(Item).order_by(Item.sku)
    first = paginate(session, statement, limit=2)
    rest = paginate(session, statement, limit=10, offset=2)
    assert first.total == rest.total == 5
    assert [i.sku for i in first.rows] == ["BR001", "BR002"]
    assert [i.sku for i in rest.rows] == ["DR001", "MT001", "VG001"]
