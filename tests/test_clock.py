""" "Now" comes from the process clock everywhere it matters, so a test can set it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from memberops.clock import FixedClock, use_clock
from memberops.db import utcnow
from memberops.errors import ValidationError
from memberops.orders.rules import parse_customer


def test_database_time_reads_the_process_clock() -> None:
    at = datetime(2031, 2, 3, 4, 5, tzinfo=UTC)
    with use_clock(FixedClock(at)):
        assert utcnow() == at
    assert utcnow() != at


def test_a_birthday_in_the_future_is_judged_by_the_process_clock() -> None:
    # 2030-05-31 lies in the future on the real calendar of these tests; under a clock set
    # to June 2030 it is yesterday and must be accepted, and tomorrow is still refused.
    with use_clock(FixedClock(datetime(2030, 6, 1, 12, tzinfo=UTC))):
        assert parse_customer("r1", {"birthday": "2030-05-31"}).birthday == "2030-05-31"
        with pytest.raises(ValidationError, match="outside 1900 to today"):
            parse_customer("r1", {"birthday": "2030-06-02"})
