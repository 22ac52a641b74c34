"""SLA arithmetic on opening hours: weekends, closing time, time zones, across midnight."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from memberops.servicedesk.rules import (
    DEFAULT_OPENING_HOURS,
    Window,
    add_business_minutes,
    business_minutes_between,
    nps,
    parse_window,
    sla_state,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS_ONLY = {day: (Window(time(9, 0), time(18, 0)),) for day in range(5)}
LATE_NIGHT = {day: (Window(time(17, 0), time(2, 0)),) for day in range(7)}
SPLIT = {
    day: (Window(time(10, 0), time(14, 0)), Window(time(17, 0), time(21, 0))) for day in range(7)
}


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)  # type: ignore[misc]


def test_minutes_inside_one_window_are_plain_minutes() -> None:
    start = local(SHANGHAI, 2026, 3, 4, 11, 0)
    due = add_business_minutes(start, 90, DEFAULT_OPENING_HOURS, SHANGHAI)
    assert due.astimezone(SHANGHAI) == local(SHANGHAI, 2026, 3, 4, 12, 30)


def test_clock_stops_at_closing_time_and_resumes_at_opening() -> None:
    start = local(SHANGHAI, 2026, 3, 4, 21, 30)  # 30 minutes before closing
    due = add_business_minutes(start, 60, DEFAULT_OPENING_HOURS, SHANGHAI)
    assert due.astimezone(SHANGHAI) == local(SHANGHAI, 2026, 3, 5, 10, 30)


def test_complaint_taken_after_closing_starts_at_next_opening() -> None:
    start = local(SHANGHAI, 2026, 3, 4, 23, 15)
    due = add_business_minutes(start, 30, DEFAULT_OPENING_HOURS, SHANGHAI)
    assert due.astimezone(SHANGHAI) == local(SHANGHAI, 2026, 3, 5, 10, 30)


def test_weekend_closed_store_resumes_on_monday() -> None:
    friday = local(SHANGHAI, 2026, 3, 6, 17, 0)  # a Friday
    assert friday.weekday() == 4
    due = add_business_minutes(friday, 120, WEEKDAYS_ONLY, SHANGHAI)
    assert due.astimezone(SHANGHAI) == local(SHANGHAI, 2026, 3, 9, 10, 0)


def test_window_across_midnight_keeps_running_after_midnight() -> None:
    start = local(SHANGHAI, 2026, 3, 4, 23, 30)
    due = add_business_minutes(start, 90, LATE_NIGHT, SHANGHAI)
    assert due.astimezone(SHANGHAI) == local(SHANGHAI, 2026, 3, 5, 1, 0)


def test_yesterdays_late_window_is_open_in_the_small_hours() -> None:
    start = local(SHANGHAI, 2026, 3, 5, 1, 0)  # inside Wednesday's 17:00-02:00
    due = add_business_minutes(start, 90, LATE_NIGHT, SHANGHAI)
    assert due.astimezone(SHANGHAI) == local(SHANGHAI, 2026, 3, 5, 17, 30)  # 60 + 30


def test_split_shift_skips_the_afternoon_break() -> None:
    start = local(SHANGHAI, 2026, 3, 4, 13, 30)
    due = add_business_minutes(start, 60, SPLIT, SHANGHAI)
    assert due.astimezone(SHANGHAI) == local(SHANGHAI, 2026, 3, 4, 17, 30)


def test_store_zone_decides_not_the_callers_zone() -> None:
    # 02:00 UTC is 10:00 in Shanghai (open) and 03:00 in Berlin (closed).
    start = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
    in_shanghai = add_business_minutes(start, 60, DEFAULT_OPENING_HOURS, SHANGHAI)
    in_berlin = add_business_minutes(start, 60, DEFAULT_OPENING_HOURS, BERLIN)
    assert in_shanghai == datetime(2026, 3, 4, 3, 0, tzinfo=UTC)
    assert in_berlin.astimezone(BERLIN) == local(BERLIN, 2026, 3, 4, 11, 0)


def test_daylight_saving_night_does_not_shift_opening_hours() -> None:
    # Berlin moves to summer time on 29 March 2026; the store still opens at 10:00 local.
    start = local(BERLIN, 2026, 3, 28, 21, 0)
    due = add_business_minutes(start, 120, DEFAULT_OPENING_HOURS, BERLIN)
    assert due.astimezone(BERLIN) == local(BERLIN, 2026, 3, 29, 11, 0)
    assert due - start == timedelta(hours=13)  # one hour fewer overnight


def test_business_minutes_between_counts_open_time_only() -> None:
    start = local(SHANGHAI, 2026, 3, 4, 21, 0)
    end = local(SHANGHAI, 2026, 3, 5, 11, 0)
    assert business_minutes_between(start, end, DEFAULT_OPENING_HOURS, SHANGHAI) == 120
    assert business_minutes_between(end, start, DEFAULT_OPENING_HOURS, SHANGHAI) == -120


def test_a_store_that_never_opens_is_an_error_not_a_hang() -> None:
    with pytest.raises(ValueError, match="no opening hours"):
        add_business_minutes(local(SHANGHAI, 2026, 3, 4, 9, 0), 10, {}, SHANGHAI)


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        add_business_minutes(datetime(2026, 3, 4, 9, 0), 10, DEFAULT_OPENING_HOURS, SHANGHAI)


def test_parse_window_reads_windows_and_refuses_nonsense() -> None:
    assert parse_window("10:00-02:00").crosses_midnight
    assert not parse_window("10:00-22:00").crosses_midnight
    with pytest.raises(ValueError, match="HH:MM"):
        parse_window("ten to ten")


@given(
    start=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    minutes=st.integers(min_value=0, max_value=5000),
    hours=st.sampled_from([DEFAULT_OPENING_HOURS, WEEKDAYS_ONLY, LATE_NIGHT, SPLIT]),
    zone=st.sampled_from([SHANGHAI, BERLIN, ZoneInfo("America/New_York")]),
)
def test_adding_then_measuring_gives_back_the_minutes(
    start: datetime, minutes: int, hours: dict[int, tuple[Window, ...]], zone: ZoneInfo
) -> None:
    start = start.replace(second=0, microsecond=0)
    due = add_business_minutes(start, minutes, hours, zone)
    assert due >= start
    assert business_minutes_between(start, due, hours, zone) == minutes


def test_sla_states() -> None:
    due = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
    assert sla_state(due_at=due, now=due - timedelta(hours=2), resolved_at=None) == "running"
    assert sla_state(due_at=due, now=due - timedelta(minutes=10), resolved_at=None) == "due_soon"
    assert sla_state(due_at=due, now=due, resolved_at=None) == "lapsed"
    assert sla_state(due_at=due, now=due, resolved_at=due - timedelta(minutes=1)) == "met"
    assert sla_state(due_at=due, now=due, resolved_at=due + timedelta(minutes=1)) == "breached"


def test_nps_is_promoters_minus_detractors() -> None:
    assert nps([10, 9, 8, 7, 3]) == (5, 20.0)
    assert nps([0, 6]) == (2, -100.0)
    assert nps([]) == (0, None)
    with pytest.raises(ValueError):
        nps([11])
