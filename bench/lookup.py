"""Front-desk lookup over HTTP, open loop, with and without a maximum-size batch importing.

    uv run python bench/lookup.py [--databases sqlite,postgresql] [--rates 50,100,200]
                                  [--seconds 10] [--members 3000] [--port 8131]

For each database: a fresh database with `--members` members (one order each), a real
server (`uvicorn --factory memberops.api.app:app_from_env`, one worker, in a subprocess,
rate limits on), then for each rate an open-loop generator on 127.0.0.1 sends
`GET /v1/members?query=<phone>` with staff keys (one key per front desk, 200 desks, so
the per-key limits are not what is measured) at fixed intervals for `--seconds`. Latency
is measured from the moment each request was due, not when it was sent, so a slow server
cannot hide its queue (no coordinated omission). A request counts as an error if it is
not a 200 naming exactly one member within 2 s.

"During a batch" repeats each rate while another client posts maximum-size batches
(1,000 orders, 5,000 lines, new customers) to `POST /v1/orders` back to back.

Prints a Markdown table (paste it into BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from memberops.actor import system_actor
from memberops.apikeys.service import create_api_key
from memberops.catalog.service import ItemIn, StoreIn, upsert_items, upsert_stores
from memberops.config import Settings
from memberops.db import transaction
from memberops.orders.service import ingest
from memberops.runtime import open_runtime

sys.path.insert(0, str(Path(__file__).parent))
from run import machine, percentile

PG_URL = os.environ.get(
    "MEMBEROPS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DESKS = 200
SKUS = {"BR001": 5800, "MT001": 6800, "VG001": 1200, "DR001": 1500, "BR002": 3800}
BATCH_ORDERS = 1000
BATCH_LINES_PER_ORDER = 5  # 5,000 lines: the most one request may carry


def _order(order_id: str, phone: str, lines: int) -> dict[str, Any]:
    skus = list(SKUS)
    order_lines = [
        {"sku": skus[n % len(skus)], "quantity": 1, "unit_price_cents": SKUS[skus[n % len(skus)]]}
        for n in range(lines)
    ]
    return {
        "source": "pos",
        "source_order_id": order_id,
        "channel": "pos",
        "store_code": "BJ001",
        "ordered_at": "2026-10-03T18:32:00+08:00",
        "customer": {"phone": phone, "phone_verified": True},
        "lines": order_lines,
        "total_cents": sum(line["unit_price_cents"] for line in order_lines),
    }


@dataclass
class Server:
    url: str
    staff_keys: list[str]
    admin_key: str
    phones: list[str]
    process: subprocess.Popen[bytes]
    cleanup: Any = None


def start(kind: str, members: int, port: int, home: Path) -> Server:
    """A fresh database with `members` members, and a server over it."""
    cleanup = None
    if kind == "sqlite":
        url = f"sqlite:///{home / 'memberops.db'}"
    else:
        schema = f"bench_{secrets.token_hex(4)}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        url = f"{PG_URL}?options=-csearch_path%3D{schema}"

        def cleanup() -> None:
            with admin.connect() as connection:
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()

    runtime = open_runtime(Settings(home=home, database_url=url))
    phones = [f"139{n:08d}" for n in range(members)]
    with transaction(runtime.sessions) as session:
        upsert_stores(session, [StoreIn("BJ001", "Beijing", "Beijing", "North", "Asia/Shanghai")])
        upsert_items(session, [ItemIn(sku, sku, "menu", price) for sku, price in SKUS.items()])
    with transaction(runtime.sessions) as session:
        records = [(f"seed {n}", _order(f"seed-{n}", p, 3)) for n, p in enumerate(phones)]
        ingest(
            session, runtime.keyring, records, actor=system_actor(), source_name="bench", fmt="t"
        )
        staff = [create_api_key(session, name=f"desk {n}", role="staff")[1] for n in range(DESKS)]
        _key, admin_key = create_api_key(session, name="bench pos", role="admin")
    runtime.close()
    env = {**os.environ, "MEMBEROPS_HOME": str(home), "MEMBEROPS_DATABASE_URL": url}
    env.pop("MEMBEROPS_KEYS", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "memberops.api.app:app_from_env",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while True:
        try:
            if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.terminate()
            raise SystemExit("the server did not start")
        time.sleep(0.2)
    return Server(base, staff, admin_key, phones, process, cleanup)


@dataclass
class LoadResult:
    sent: int
    latencies_ms: list[float]
    errors: Counter[str] = field(default_factory=Counter)


async def open_loop(server: Server, rate: int, seconds: float) -> LoadResult:
    """Requests due every 1/rate s regardless of answers; in flight bounded by the pool."""
    loop = asyncio.get_running_loop()
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    result = LoadResult(sent=int(rate * seconds), latencies_ms=[])
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=2.0) as client:
        begin = loop.time() + 0.1

        async def one(n: int) -> None:
            due = begin + n / rate
            await asyncio.sleep(max(0.0, due - loop.time()))
            phone = server.phones[(n * 7919) % len(server.phones)]
            key = server.staff_keys[n % len(server.staff_keys)]
            try:
                response = await client.get(
                    "/v1/members",
                    params={"query": phone},
                    headers={"Authorization": f"Bearer {key}"},
                )
            except httpx.HTTPError as exc:
                result.errors[type(exc).__name__] += 1
                return
            elapsed_ms = (loop.time() - due) * 1000
            if response.status_code != 200:
                result.errors[str(response.status_code)] += 1
            elif len(response.json()["members"]) != 1:
                result.errors["not found"] += 1
            else:
                result.latencies_ms.append(elapsed_ms)

        await asyncio.gather(*(one(n) for n in range(result.sent)))
    return result


class BatchPoster(threading.Thread):
    """Posts maximum-size batches back to back until stopped."""

    def __init__(self, server: Server, tag: str) -> None:
        super().__init__(daemon=True)
        self.server, self.tag = server, tag
        self.stop = threading.Event()
        self.seconds: list[float] = []
        self.statuses: Counter[int] = Counter()

    def run(self) -> None:
        headers = {
            "Authorization": f"Bearer {self.server.admin_key}",
            "Content-Type": "application/json",
        }
        n = 0
        with httpx.Client(base_url=self.server.url, timeout=120) as client:
            while not self.stop.is_set():
                orders = [
                    _order(
                        f"batch-{self.tag}-{n}-{i}",
                        f"137{(n * BATCH_ORDERS + i) % 10**8:08d}",
                        BATCH_LINES_PER_ORDER,
                    )
                    for i in range(BATCH_ORDERS)
                ]
                body = json.dumps({"orders": orders}).encode()
                started = time.perf_counter()
                response = client.post("/v1/orders", content=body, headers=headers)
                self.seconds.append(time.perf_counter() - started)
                self.statuses[response.status_code] += 1
                n += 1


def row(kind: str, scenario: str, rate: int, result: LoadResult) -> str:
    lat = result.latencies_ms
    errors = sum(result.errors.values())
    detail = ", ".join(f"{k}: {v}" for k, v in sorted(result.errors.items())) or "-"
    p50 = f"{percentile(lat, 0.50):.1f}" if lat else "-"
    p99 = f"{percentile(lat, 0.99):.1f}" if lat else "-"
    worst = f"{max(lat):.1f}" if lat else "-"
    return (
        f"| {kind} | {scenario} | {rate} | {result.sent:,} | {p50} | {p99} | {worst} "
        f"| {errors} ({detail}) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--rates", default="50,100,200")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--port", type=int, default=8131)
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    rows: list[str] = []
    batch_notes: list[str] = []
    for kind in args.databases.split(","):
        with tempfile.TemporaryDirectory(prefix="memberops-lookup-") as tmp:
            server = start(kind, args.members, args.port, Path(tmp))
            try:
                asyncio.run(open_loop(server, 50, 2))  # warm-up, not reported
                for rate in rates:
                    rows.append(
                        row(kind, "idle", rate, asyncio.run(open_loop(server, rate, args.seconds)))
                    )
                    print(rows[-1], flush=True)
                for rate in rates:
                    poster = BatchPoster(server, f"{kind}{rate}")
                    poster.start()
                    time.sleep(0.5)  # the first batch is running
                    result = asyncio.run(open_loop(server, rate, args.seconds))
                    poster.stop.set()
                    poster.join()
                    rows.append(row(kind, "during batches", rate, result))
                    print(rows[-1], flush=True)
                    batch_notes.append(
                        f"- {kind}, {rate}/s: {len(poster.seconds)} batches "
                        f"(statuses {dict(poster.statuses)}), median "
                        f"{statistics.median(poster.seconds):.2f} s each"
                    )
            finally:
                server.process.terminate()
                server.process.wait(timeout=30)
                if server.cleanup is not None:
                    server.cleanup()
    print()
    print(
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `uv run python bench/lookup.py "
        f"--seconds {args.seconds:g} --members {args.members}` on: {machine()}"
    )
    print()
    print("| database | load | requests/s | requests | p50 ms | p99 ms | max ms | errors |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    print("\n".join(rows))
    print()
    print("\n".join(batch_notes))


if __name__ == "__main__":
    main()
