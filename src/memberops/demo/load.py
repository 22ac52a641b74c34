"""Loading the simulated chain through the real ingestion path, truth kept apart.

The demo's records go through the same validation, identity resolution and storage as a
chain's real POS, app and mini-program feeds. The ground truth (which person is behind
each record, their latent tastes and when they lapsed) goes to a separate SQLite file,
`demo_truth.db` in MEMBEROPS_HOME, used by evaluation only.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from memberops.actor import system_actor
from memberops.catalog.service import ItemIn, StoreIn, upsert_items, upsert_stores
from memberops.db import Base, transaction
from memberops.demo.simulate import DemoChain, DemoRecord
from memberops.errors import Conflict
from memberops.loyalty.campaigns import create_campaign
from memberops.loyalty.coupons import define_coupon, issue_coupons
from memberops.loyalty.rules import DEFAULT_POLICY_TOML, parse_policy
from memberops.loyalty.service import activate_policy, evaluate_tiers
from memberops.orders.models import ImportBatch
from memberops.orders.readers import SourceRecord
from memberops.orders.service import ImportReport, ingest
from memberops.privacy.key_records import check_keys
from memberops.runtime import Runtime, migrate

__all__ = ["DEMO_END", "DemoSummary", "load_demo", "reset_demo_database", "truth_path"]

# A fixed "today" keeps the demo deterministic for a given seed.
DEMO_END = datetime(2026, 11, 1, tzinfo=UTC)
POLICY = parse_policy(DEFAULT_POLICY_TOML)
# Member day (Wednesday, local) earns double points in the last quarter, above a spend.
DEMO_CAMPAIGN = {
    "code": "MEMBER-DAY-X2",
    "name": "Member day double points",
    "valid_from": "2026-08-01",
    "valid_to": "2026-10-31",
    "days": ["wed"],
    "min_spend_cents": 15000,
    "multiplier_pct": 200,
    "member_cap_points": 2000,
}
DEMO_COUPON = {
    "code": "GOLD20",
    "name": "20 yuan off 150 for Gold and Black",
    "kind": "fixed",
    "value": 2000,
    "min_spend_cents": 15000,
    "valid_from": "2026-11-01",
    "valid_to": "2026-12-31",
}
DEMO_BATCH_PREFIX = "demo:"


def truth_path(home: Path) -> Path:
    return home / "demo_truth.db"


@dataclass
class DemoSummary:
    members: int
    seed: int
    months: int
    records: int = 0
    orders: int = 0
    members_created: int = 0
    merges: int = 0
    reviews: int = 0
    rejected: int = 0
    seconds: float = 0.0


def reset_demo_database(runtime: Runtime) -> None:
    """Empty the database for a fresh demo; refuses if it holds non-demo imports."""
    with transaction(runtime.sessions) as session:
        try:
            foreign = session.scalar(
                select(func.count())
                .select_from(ImportBatch)
                .where(~ImportBatch.source_name.startswith(DEMO_BATCH_PREFIX))
            )
        except Exception:  # a database from before the schema existed
            foreign = 0
    if foreign:
        raise Conflict(
            "this database holds imported (non-demo) data; point MEMBEROPS_HOME or "
            "MEMBEROPS_DATABASE_URL at another database for the demo"
        )
    with runtime.engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    migrate(runtime.engine)
    with transaction(runtime.sessions) as session:
        check_keys(session, runtime.keyring)


def _truth_db(path: Path) -> sqlite3.Connection:
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE record_truth (kind TEXT, source TEXT, source_id TEXT, person_id TEXT,
                                   PRIMARY KEY (kind, source, source_id));
        CREATE TABLE person_truth (person_id TEXT PRIMARY KEY, segment TEXT, home_store TEXT,
                                   first_visit TEXT, lapse_at TEXT, shares_phone_with TEXT,
                                   tastes TEXT, service_requirements TEXT);
        CREATE TABLE demo_meta (key TEXT PRIMARY KEY, value TEXT);
        """
    )
    return con


def _source_id(record: DemoRecord) -> tuple[str, str]:
    p = record.payload
    for key in ("source_order_id", "source_refund_id", "source_event_id"):
        if key in p and (record.kind != "refund" or key == "source_refund_id"):
            return p["source"], str(p[key])
    return p.get("source", ""), ""


def load_demo(
    runtime: Runtime,
    *,
    members: int,
    seed: int,
    months: int,
    chunk_records: int = 5000,
    on_progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Simulate the chain and ingest it; `on_progress(people_done, people_total)`."""
    started = time.perf_counter()
    chain = DemoChain(members=members, seed=seed, months=months, end=DEMO_END)
    with transaction(runtime.sessions) as session:
        upsert_stores(
            session,
            (
                StoreIn(s.code, s.name, s.city, s.region, s.timezone, s.opened_on)
                for s in chain.stores
            ),
        )
        upsert_items(
            session,
            (
                ItemIn(i.sku, i.name, i.category, i.price_cents, i.name_zh, tuple(sorted(i.tags)))
                for i in chain.items
            ),
        )
        # The chain runs the default Sea ladder; orders earn and upgrade as they land.
        activate_policy(session, DEFAULT_POLICY_TOML, actor=system_actor("demo"))
        # One campaign, so demo ledgers show bonuses and the reasons they did not apply.
        create_campaign(session, DEMO_CAMPAIGN, policy=POLICY, actor=system_actor("demo"))
    summary = DemoSummary(members=members, seed=seed, months=months)
    truth = _truth_db(truth_path(runtime.settings.home))
    truth.execute(
        "INSERT INTO demo_meta VALUES ('params', ?)",
        (json.dumps({"members": members, "seed": seed, "months": months}),),
    )
    truth.executemany(
        "INSERT INTO person_truth VALUES (?,?,?,?,?,?,?,?)",
        (
            (
                p.person_id,
                p.segment,
                p.home_store,
                p.first_visit.isoformat(),
                p.lapse_at.isoformat() if p.lapse_at else None,
                p.shares_phone_with,
                json.dumps(p.tastes),
                json.dumps(list(p.service_requirements)),
            )
            for p in chain.people()
        ),
    )
    people_seen: set[str] = set()
    buffer: list[SourceRecord] = []
    truth_rows: list[tuple[str, str, str, str | None]] = []
    actor = system_actor("demo")
    batch_no = 0

    def flush() -> None:
        nonlocal batch_no
        if not buffer:
            return
        batch_no += 1
        with transaction(runtime.sessions) as session:
            report = ingest(
                session,
                runtime.keyring,
                list(buffer),
                actor=actor,
                source_name=f"{DEMO_BATCH_PREFIX}seed={seed}:batch={batch_no}",
                fmt="demo",
                skip_invalid=True,
            )
        _add(summary, report)
        truth.executemany("INSERT OR REPLACE INTO record_truth VALUES (?,?,?,?)", truth_rows)
        truth.commit()
        buffer.clear()
        truth_rows.clear()
        if on_progress is not None:
            on_progress(len(people_seen), members)

    for i, record in enumerate(_records(chain)):
        payload = dict(record.payload)
        payload["record_type"] = record.kind
        buffer.append((f"demo record {i + 1}", payload))
        if record.person_id is not None:
            people_seen.add(record.person_id)
        source, source_id = _source_id(record)
        if source_id:
            truth_rows.append((record.kind, source, source_id, record.person_id))
        if len(buffer) >= chunk_records:
            flush()
    flush()
    truth.close()
    with transaction(runtime.sessions) as session:
        # The period-end job for the last quarter boundary before the demo's end.
        evaluate_tiers(session, as_of=DEMO_END, actor=actor)
        # A few coupons for the chain's best members, to try in the checkout quote.
        define_coupon(session, DEMO_COUPON, zone=POLICY.zone, actor=actor)
        issue_coupons(session, "GOLD20", tiers=["gold", "black"], policy=POLICY, actor=actor)
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def _records(chain: DemoChain) -> Iterator[DemoRecord]:
    yield from chain.records()


def _add(summary: DemoSummary, report: ImportReport) -> None:
    summary.records += report.records
    summary.orders += report.orders_created
    summary.members_created += report.members_created
    summary.merges += report.merges
    summary.reviews += report.reviews
    summary.rejected += report.rejected
