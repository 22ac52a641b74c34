"""The edge's unit of work: commit once on success, roll back everything on any error.

Ingestion writes each chunk of a file as it goes (memory stays bounded), so a bad record
late in a large file fails a transaction that already holds thousands of written rows.
Only the rollback keeps the promise "nothing was stored"; these tests put the bad record
beyond the first chunk so that path really runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from memberops.actor import Actor
from memberops.catalog.models import Store
from memberops.db import transaction
from memberops.errors import BatchValidationError
from memberops.identity.models import MemberIdentifier
from memberops.members.models import Member
from memberops.orders.models import Order, OrderLine
from memberops.orders.readers import read_records
from memberops.orders.service import ingest
from memberops.runtime import Runtime

ORDERS = 3000
BAD_LINE = 2800
CHUNK = 2500  # ingestion's default chunk size: the bad record is in the second chunk


def count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def stored(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        return {
            "orders": count(session, Order),
            "lines": count(session, OrderLine),
            "members": count(session, Member),
            "identifiers": count(session, MemberIdentifier),
        }


def write_file_with_a_late_bad_record(path: Path, order: Callable[..., dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for n in range(1, ORDERS + 1):
            record = order(f"big-{n}", customer={"card_no": f"HD{n:06d}"})
            if n == BAD_LINE:
                record["store_code"] = "NOPE"
            handle.write(json.dumps(record) + "\n")
    return path


def test_success_commits(seeded: Runtime) -> None:
    with transaction(seeded.sessions) as session:
        session.add(
            Store(
                code="GZ001",
                name="Guangzhou",
                city="Guangzhou",
                region="South",
                timezone="Asia/Shanghai",
            )
        )
    with seeded.sessions() as session:
        assert session.scalar(select(Store.name).where(Store.code == "GZ001")) == "Guangzhou"


def test_an_error_rolls_back_rows_already_flushed(seeded: Runtime) -> None:
    with pytest.raises(RuntimeError, match="late failure"), transaction(seeded.sessions) as s:
        s.add(
            Store(
                code="GZ001",
                name="Guangzhou",
                city="Guangzhou",
                region="South",
                timezone="Asia/Shanghai",
            )
        )
        s.flush()
        assert s.scalar(select(func.count()).where(Store.code == "GZ001")) == 1
        raise RuntimeError("late failure")
    with seeded.sessions() as session:
        assert session.scalar(select(func.count()).where(Store.code == "GZ001")) == 0


def test_a_bad_record_beyond_the_first_chunk_rolls_back_the_chunks_already_written(
    seeded: Runtime, admin: Actor, order: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    path = write_file_with_a_late_bad_record(tmp_path / "late-bad.jsonl", order)
    written_after_each_chunk: list[int] = []
    with pytest.raises(BatchValidationError) as failure, transaction(seeded.sessions) as session:

        def spy(_records_in_chunk: int) -> None:
            written_after_each_chunk.append(count(session, Order))

        ingest(
            session,
            seeded.keyring,
            read_records(path),
            actor=admin,
            source_name=path.name,
            fmt="jsonl",
            chunk_size=CHUNK,
            on_progress=spy,
        )
    # The first chunk really was written inside the transaction before the bad record...
    assert written_after_each_chunk == [CHUNK, CHUNK]
    assert failure.value.errors[0].record == f"{path.name} line {BAD_LINE}"
    assert str(failure.value).endswith("nothing was stored")
    # ...and the rollback took all of it back, members and identifiers included.
    assert stored(seeded) == {"orders": 0, "lines": 0, "members": 0, "identifiers": 0}


def test_the_import_command_stores_nothing_of_a_large_file_with_a_late_bad_record(
    seeded: Runtime, cli: Callable[..., Any], order: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    path = write_file_with_a_late_bad_record(tmp_path / "late-bad.jsonl", order)
    result = cli("import", "orders", str(path))
    assert result.exit_code == 65, result.output
    message = " ".join(result.stderr.split())  # the console wraps long lines
    assert f"late-bad.jsonl line {BAD_LINE}, field store_code" in message
    assert "nothing was stored" in message
    assert stored(seeded) == {"orders": 0, "lines": 0, "members": 0, "identifiers": 0}
    # The same file without the bad record then loads whole.
    good = [r for r in path.read_text("utf-8").splitlines() if '"NOPE"' not in r]
    path.write_text("\n".join(good) + "\n", "utf-8")
    loaded = cli("import", "orders", str(path), "--json")
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.stdout)["orders_created"] == ORDERS - 1
