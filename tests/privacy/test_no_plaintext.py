"""Nothing personal leaks in plaintext: database, output, errors, files (issue item 4).

The real `memberops demo` runs as a subprocess; then the raw database (SQLite file and WAL,
or a pg_dump of the PostgreSQL schema), everything the commands printed (including a
failing import's errors) and every file under MEMBEROPS_HOME but the key file are searched
for the demo's phones, emails, names and account identifiers.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from memberops.demo.load import DEMO_END
from memberops.demo.simulate import DemoChain, normalise_phone

MEMBERS, SEED, MONTHS = 1000, 5, 6
IDENTIFIER_FIELDS = ("card_no", "app_user_id", "wechat_openid", "wechat_unionid")


def personal_values(chain: DemoChain) -> dict[str, set[str]]:
    """Every personal value the demo sends, in every spelling it could be stored or shown in."""
    found: dict[str, set[str]] = defaultdict(set)
    for record in chain.records():
        payload = record.payload
        customer: dict[str, Any] = payload.get("customer") or {}
        phones = [customer.get("phone"), payload.get("referred_phone")]
        for raw in filter(None, phones):
            national = normalise_phone(raw)
            found["phone"] |= {raw, national, f"+86{national}"}
        if email := customer.get("email"):
            found["email"] |= {email, email.casefold()}
        for key in ("name", "nickname"):
            if value := customer.get(key):
                found[key].add(value)
        for key in IDENTIFIER_FIELDS:
            if value := customer.get(key):
                found[key].add(value)
    return found


class Finder:
    """Finds any of many needles in bytes with one pass per haystack (a k-gram prefilter)."""

    def __init__(self, needles: dict[str, set[str]]) -> None:
        self.kind_of: dict[bytes, str] = {}
        for kind, values in needles.items():
            for value in values:
                self.kind_of[value.encode("utf-8")] = kind
        self.k = min(len(n) for n in self.kind_of)
        self.by_prefix: dict[bytes, list[bytes]] = defaultdict(list)
        for needle in self.kind_of:
            self.by_prefix[needle[: self.k]].append(needle)

    def find(self, haystack: bytes) -> list[tuple[str, str]]:
        hits: set[bytes] = set()
        by_prefix, k = self.by_prefix, self.k
        for i in range(len(haystack) - k + 1):
            candidates = by_prefix.get(haystack[i : i + k])
            if candidates:
                hits.update(n for n in candidates if haystack.startswith(n, i))
        return sorted((self.kind_of[h], h.decode()) for h in hits)


def run(
    cmd: list[str], env: dict[str, str], timeout: int = 120
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(cmd, env=env, capture_output=True, timeout=timeout, check=False)


def failing_import_file(path: Path, values: dict[str, set[str]]) -> tuple[Path, set[str]]:
    """Three records carrying real demo values, each with one malformed field."""
    phones = sorted(p for p in values["phone"] if p.isdigit() and len(p) == 11)
    names, emails = sorted(values["name"]), sorted(values["email"])
    malformed_phone = phones[0] + "9"
    base = {
        "source": "pos",
        "channel": "pos",
        "store_code": "BJ001",
        "ordered_at": "2026-05-01T19:00:00+08:00",
        "lines": [{"sku": "NOPE", "quantity": 1, "unit_price_cents": 100}],
        "total_cents": 100,
    }
    customers = [
        {"phone": malformed_phone, "phone_verified": True, "name": names[0], "email": emails[0]},
        {"phone": phones[1], "phone_verified": True, "name": names[1], "email": "x@@" + emails[1]},
        {"phone": phones[2], "name": names[2], "birthday": "last spring", "email": emails[2]},
    ]
    with path.open("w", encoding="utf-8") as handle:
        for i, customer in enumerate(customers, start=1):
            record = {**base, "source_order_id": f"bad-{i}", "customer": customer}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path, {malformed_phone, "x@@" + emails[1], "last spring"}


def files_under(home: Path, exclude: Iterable[Path]) -> list[Path]:
    skip = {p.resolve() for p in exclude}
    return sorted(p for p in home.rglob("*") if p.is_file() and p.resolve() not in skip)


@pytest.mark.slow
def test_demo_leaves_no_phone_email_name_or_account_id_in_the_database_output_or_files(
    tmp_path: Path,
    database_url: str,
    memberops_exe: str,
    subprocess_env: Callable[..., dict[str, str]],
    database_dump: Callable[[], bytes],
) -> None:
    home = tmp_path / "demo-home"
    on_sqlite = database_url.startswith("sqlite")
    url = f"sqlite:///{home / 'memberops.db'}" if on_sqlite else database_url
    env = subprocess_env(home, url)

    demo = run(
        [
            memberops_exe,
            "demo",
            "--members",
            str(MEMBERS),
            "--seed",
            str(SEED),
            "--months",
            str(MONTHS),
            "--no-serve",
        ],
        env,
        timeout=300,
    )
    assert demo.returncode == 0, demo.stderr.decode(errors="replace")
    assert b"orders from" in demo.stdout

    values = personal_values(DemoChain(members=MEMBERS, seed=SEED, months=MONTHS, end=DEMO_END))
    assert len(values["phone"]) > 2 * MEMBERS and len(values["name"]) > 100
    assert values["email"] and values["nickname"] and values["card_no"]

    bad_file, malformed = failing_import_file(tmp_path / "orders-bad.jsonl", values)
    failed = run([memberops_exe, "import", "orders", str(bad_file)], env)
    failed_json = run([memberops_exe, "import", "orders", str(bad_file), "--json"], env)
    shown_lookup = run([memberops_exe, "members", "show", sorted(values["phone"])[0] + "0"], env)
    for result in (failed, failed_json):
        assert result.returncode == 65, result.stderr.decode(errors="replace")
    errors = failed.stderr.decode()
    # Errors name the record and the field, never the value.
    # (An unusable phone or email alone is a warning; these records fail on their SKU.)
    assert "orders-bad.jsonl line 1, field lines[1].sku: is not a known item" in errors
    assert "orders-bad.jsonl line 2, field lines[1].sku" in errors
    assert "orders-bad.jsonl line 3, field customer.birthday" in errors
    assert shown_lookup.returncode == 66

    finder = Finder({**values, "malformed": malformed})
    planted = {kind for kind, _ in finder.find(bad_file.read_bytes())}
    assert {"name", "email", "phone", "malformed"} <= planted  # the search does see values
    sinks: dict[str, bytes] = {
        "demo output": demo.stdout + demo.stderr,
        "import errors": failed.stdout + failed.stderr + failed_json.stdout + failed_json.stderr,
        "lookup errors": shown_lookup.stdout + shown_lookup.stderr,
    }
    if on_sqlite:
        db = home / "memberops.db"
        sinks["sqlite file"] = db.read_bytes()
        wal = db.with_name(db.name + "-wal")
        if wal.exists():
            sinks["sqlite wal"] = wal.read_bytes()
    else:
        sinks["pg_dump"] = database_dump()
        assert b"COPY" in sinks["pg_dump"] and b"identifiers" in sinks["pg_dump"]
    key_file = home / "keys.json"
    assert key_file.exists()
    home_files = files_under(home, [key_file])
    assert (home / "demo_truth.db") in home_files
    for path in home_files:
        sinks.setdefault(f"file {path.relative_to(home)}", path.read_bytes())
    leaks = {sink: found[:5] for sink, data in sinks.items() if (found := finder.find(data))}
    assert leaks == {}


def test_the_finder_would_see_a_leak() -> None:
    finder = Finder({"phone": {"13912345678"}, "name": {"王芳"}, "email": {"li.na1@qq.com"}})
    haystack = "x 王芳 y".encode() + b"\x00..13912345678..LI.NA1@QQ.COM"
    assert finder.find(haystack) == [("name", "王芳"), ("phone", "13912345678")]
    assert finder.find(os.urandom(4096).replace(b"1", b"2")) == []
