"""Two `memberops import orders` of one file at the same time: both succeed, the second
reports the records as duplicates, and nothing prints a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from memberops.runtime import Runtime

MEMBEROPS = Path(sys.executable).parent / "memberops"


def _orders_file(path: Path, count: int, make_order: Any) -> Path:
    with path.open("w") as handle:
        for n in range(count):
            customer = {"phone": f"139{n:08d}", "phone_verified": True}
            handle.write(json.dumps(make_order(f"c-{n}", customer=customer)) + "\n")
    return path


def test_two_concurrent_imports_of_one_file_both_succeed(
    seeded: Runtime, cli_env: dict[str, str], tmp_path: Path, order: Any
) -> None:
    seeded.close()  # the commands open their own
    file = _orders_file(tmp_path / "orders.jsonl", 400, order)
    env = {**os.environ, **cli_env}
    env.pop("MEMBEROPS_KEYS")
    runs = [
        subprocess.Popen(
            [str(MEMBEROPS), "import", "orders", str(file), "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (stdout, stderr) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, stdout + stderr
        assert "Traceback" not in stdout + stderr
    reports: list[dict[str, Any]] = [json.loads(stdout) for stdout, _err in outputs]
    assert sorted(r["orders_created"] for r in reports) == [0, 400]
    assert sorted(r["duplicates"] for r in reports) == [0, 400]
    assert sum(r["members_created"] for r in reports) == 400
