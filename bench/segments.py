"""Segment counts and materialisation over a large synthetic member base.

    uv run python bench/segments.py --members 1000000 [--skip-pg]

Members, their pipeline metrics, tiers and marketing consent are generated in SQL (one
INSERT ... SELECT per table), then the brief's example expression is previewed (count
only) and a segment is materialised twice (the second run changes nothing) on SQLite
and PostgreSQL. Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from memberops.actor import Actor
from memberops.config import Settings
from memberops.db import transaction
from memberops.runtime import open_runtime
from memberops.segments import service

EXPRESSION = (
    'tier in ("Gold Sea", "Black Sea") and visits >= 3 and days_since_last_visit <= 90'
    ' and consent("marketing")'
)
ACTOR = Actor(kind="cli", id="bench", role="admin")
PG_URL = os.environ.get("MEMBEROPS_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

_SQLITE_SEQ = "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :n)"
_PG_SEQ = "WITH seq(n) AS (SELECT generate_series(1, :n))"


def _fill(url: str, members: int, *, pg: bool) -> None:
    seq = _PG_SEQ if pg else _SQLITE_SEQ
    now = "now()" if pg else "datetime('now')"
    ago = (
        "now() - make_interval(days => ((n::bigint * 7919) % 400)::int)"
        if pg
        else "datetime('now', '-' || ((n * 7919) % 400) || ' days')"
    )
    pad = "lpad(to_hex(n), 26, '0')" if pg else "printf('%026x', n)"
    tier = (
        "(ARRAY['red','silver','gold','black'])[1 + n % 4]"
        if pg
        else (
            "CASE n % 4 WHEN 0 THEN 'red' WHEN 1 THEN 'silver' WHEN 2 THEN 'gold' ELSE 'black' END"
        )
    )
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(
            text(
                f"{seq} INSERT INTO members (id, status, created_at, updated_at, tier_code,"
                f" points_balance) SELECT {pad}, 'active', {now}, {now}, {tier}, n % 5000 FROM seq"
            ),
            {"n": members},
        )
        c.execute(
            text(
                f"{seq} INSERT INTO member_metrics (member_id, home_store_source, spend_cents,"
                " orders, visits, first_visit_at, last_visit_at, spend_per_person_cents,"
                f" computed_at) SELECT {pad}, 'visits', (n % 97) * 1000, n % 11, n % 11,"
                f" {ago}, {ago}, 5000, {now} FROM seq WHERE n % 10 <> 0"
            ),
            {"n": members},
        )
        c.execute(
            text(
                f"{seq} INSERT INTO consent_states (member_id, purpose, granted, decided_at,"
                f" consent_id) SELECT {pad}, 'marketing', n % 3 = 0, {now}, {pad} FROM seq"
                " WHERE n % 2 = 0"
            ),
            {"n": members},
        )
        if pg:
            c.execute(text("ANALYZE"))
    engine.dispose()


def _run(name: str, url: str, home: Path, members: int, *, pg: bool) -> list[str]:
    runtime = open_runtime(Settings(home=home, database_url=url, keys_json=None))
    started = time.perf_counter()
    _fill(url, members, pg=pg)
    fill_s = time.perf_counter() - started
    rows = []
    with transaction(runtime.sessions) as session:
        t0 = time.perf_counter()
        preview = service.preview_segment(session, EXPRESSION, sample=0)
        rows.append(
            f"| preview count | {name} | {members:,} | {preview.count:,} |"
            f" {time.perf_counter() - t0:.2f} |"
        )
        service.create_segment(session, name="bench", expression=EXPRESSION, actor=ACTOR)
    for label in ("materialise (first run)", "materialise (no change)"):
        t0 = time.perf_counter()
        with transaction(runtime.sessions) as session:
            run = service.materialise_segment(session, "bench", actor=ACTOR)
        rows.append(
            f"| {label}: +{run.entered:,} -{run.left:,} | {name} | {members:,} | {run.size:,} |"
            f" {time.perf_counter() - t0:.2f} |"
        )
    runtime.close()
    print(f"({name}: generated the data in {fill_s:.1f} s)", *rows, sep="\n", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    rows = ["| what | database | members | matching | seconds |", "|---|---|---:|---:|---:|"]
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        rows += _run("sqlite", f"sqlite:///{home / 'bench.db'}", home / "s", args.members, pg=False)
        if not args.skip_pg:
            schema = f"bench_{secrets.token_hex(4)}"
            admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f"CREATE SCHEMA {schema}"))
            try:
                url = f"{PG_URL}?options=-csearch_path%3D{schema}"
                rows += _run("postgresql", url, home / "p", args.members, pg=True)
            finally:
                with admin.connect() as c:
                    c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()
    print("\n".join(rows))


if __name__ == "__main__":
    main()
