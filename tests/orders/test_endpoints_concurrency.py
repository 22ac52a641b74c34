"""Concurrent posts of one batch: every client gets an answer, the data is stored once."""

from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from builders import Api, new_phone, order
from memberops.db import transaction
from memberops.orders.models import Order

THREADS = 10


def test_ten_clients_posting_one_batch_store_it_once_and_all_get_200(api: Api) -> None:
    # New phones on every order: the members and identifiers race too, not just orders.
    batch = {"orders": [order(phone=new_phone()) for _ in range(40)]}
    ids = [o["source_order_id"] for o in batch["orders"]]
    headers = api.auth("admin")
    start = threading.Barrier(THREADS)
    answers: list[tuple[int, Any]] = []
    lock = threading.Lock()

    def post() -> None:
        client = TestClient(api.client.app)
        start.wait()
        response = client.post("/v1/orders", json=batch, headers=headers)
        with lock:
            answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=post) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(status for status, _body in answers) == [200] * THREADS, answers
    bodies = [body for _status, body in answers]
    assert sum(b["orders_created"] for b in bodies) == len(ids)
    assert sum(b["duplicates"] for b in bodies) == len(ids) * (THREADS - 1)
    assert sum(b["members_created"] for b in bodies) == len(ids)
    with transaction(api.runtime.sessions) as session:
        stored = session.scalar(
            select(func.count()).select_from(Order).where(Order.source_order_id.in_(ids))
        )
    assert stored == len(ids)


def test_a_batch_beyond_the_line_limit_is_413_and_stores_nothing(api: Api) -> None:
    # 11 orders of 500 lines: within the record limit, beyond the 5,000 lines one
    # request may hold SQLite's write lock for.
    lines = [{"sku": "TEA-JASMINE", "quantity": 1, "unit_price_cents": 1200}] * 500
    batch = [order(lines=lines, total_cents=500 * 1200) for _ in range(11)]
    response = api.post_orders({"orders": batch})
    assert response.status_code == 413, response.text
    assert "5000 order lines" in response.json()["message"]
    with transaction(api.runtime.sessions) as session:
        stored = session.scalar(
            select(func.count())
            .select_from(Order)
            .where(Order.source_order_id.in_([o["source_order_id"] for o in batch]))
        )
    assert stored == 0
