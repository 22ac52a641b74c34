"""`memberops pipeline run`, `memberops export orders` and the profile in `members show`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pyarrow.dataset as pads
from tests.conftest import CliResult
from tests.pipeline.conftest import START, load, order_record, refund_record

from memberops.clock import FixedClock
from memberops.runtime import Runtime

Cli = Callable[..., CliResult]


def test_pipeline_run_then_members_show_prints_the_computed_groups(
    seeded: Runtime, cli: Cli, clock: FixedClock
) -> None:
    load(
        seeded,
        order_record(
            "1", phone="13812345678", at=START - timedelta(days=3), modifiers=["no coriander"]
        ),
    )
    first = cli("pipeline", "run", "--json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["full"] is True
    again = json.loads(cli("pipeline", "run", "--json").stdout)
    assert again["full"] is False and again["members_refreshed"] == 1  # within the look-back
    shown = json.loads(cli("members", "show", "13812345678", "--json").stdout)
    assert shown["transaction"]["visits"] == 1
    assert shown["personalised"]["top_service_needs"][0]["need"] == "no coriander"
    text = cli("members", "show", "13812345678")
    assert "no coriander" in text.stdout


def test_unknown_engine_is_refused_naming_the_field(seeded: Runtime, cli: Cli) -> None:
    result = cli("pipeline", "run", "--engine", "oracle")
    assert result.exit_code != 0
    assert "engine" in result.output


def test_export_is_incremental_from_its_watermark_and_partitioned_by_date(
    seeded: Runtime, cli: Cli, clock: FixedClock, tmp_path: Path
) -> None:
    load(
        seeded,
        order_record("1", phone="13812345678", at=START - timedelta(days=3)),
        order_record("2", phone="13812345678", at=START - timedelta(days=1)),
    )
    clock.advance(timedelta(hours=1))
    lake = tmp_path / "lake"
    first = json.loads(cli("export", "orders", "--out", str(lake), "--json").stdout)
    assert first["orders"] == 2 and len(first["partitions"]) == 2
    load(seeded, refund_record("R1", "2", 500, clock.now()))
    load(seeded, order_record("3", phone="13812345678", at=START))
    clock.advance(timedelta(hours=1))
    second = json.loads(cli("export", "orders", "--out", str(lake), "--json").stdout)
    assert second["since"] == first["to"]
    # The order ingested since the watermark, and the refunded one with its new net.
    assert second["orders"] == 2
    orders = pads.dataset(lake / "orders", format="parquet", partitioning="hive").to_table()
    assert sorted(orders.column("order_date").to_pylist()) == sorted(
        [*first["partitions"], *second["partitions"]]
    )
    assert (lake / "lines").is_dir()
