"""Business-hours calendars: opening hours in the calendar's zone, weekends, holidays, DST."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from chalicelib.calendars import (
    ALWAYS,
    CalendarError,
    add_business_minutes,
    business_minutes_between,
    in_business_hours,
    load_calendars,
    parse_calendar,
)
from tests.conftest import POLICIES

MANILA = parse_calendar(
    "manila",
    {
        "timezone": "Asia/Manila",
        "hours": {"weekdays": ["08:00-20:00"], "sat": ["09:00-13:00", "14:00-18:00"]},
        "holidays": ["2026-11-30", "2026-12-25"],
    },
)
NEW_YORK = parse_calendar("ny", {"timezone": "America/New_York", "hours": {"weekdays": ["09:00-17:00"]}})


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (utc(2026, 11, 23, 0, 0), True),  # Monday 08:00 Manila: opening minute counts
        (utc(2026, 11, 23, 11, 59), True),  # Monday 19:59 Manila
        (utc(2026, 11, 23, 12, 0), False),  # Monday 20:00 Manila: closed
        (utc(2026, 11, 22, 23, 59), False),  # Monday 07:59 Manila
        (utc(2026, 11, 28, 5, 30), False),  # Saturday 13:30 Manila: the lunch gap
        (utc(2026, 11, 28, 6, 0), True),  # Saturday 14:00 Manila
        (utc(2026, 11, 29, 3, 0), False),  # Sunday
        (utc(2026, 11, 30, 3, 0), False),  # Monday, Bonifacio Day
    ],
)
def test_in_business_hours_uses_the_calendar_zone(moment: datetime, expected: bool) -> None:
    assert in_business_hours(MANILA, moment) is expected


def test_minutes_inside_one_day_are_plain_minutes() -> None:
    assert add_business_minutes(MANILA, utc(2026, 11, 23, 1, 0), 90) == utc(2026, 11, 23, 2, 30)


def test_deadline_carries_over_the_night() -> None:
    # Tuesday 19:30 Manila + 60 business minutes = Wednesday 08:30 Manila
    assert add_business_minutes(MANILA, utc(2026, 11, 24, 11, 30), 60) == utc(2026, 11, 25, 0, 30)


def test_deadline_skips_the_weekend_and_a_holiday() -> None:
    # Saturday 17:00 Manila + 120: 60 on Saturday, Sunday closed, Monday 30 Nov a holiday → Tuesday 09:00
    assert add_business_minutes(MANILA, utc(2026, 11, 28, 9, 0), 120) == utc(2026, 12, 1, 1, 0)


def test_a_start_outside_hours_counts_from_the_next_opening() -> None:
    # Sunday noon Manila → Monday 08:00 + 30
    assert add_business_minutes(MANILA, utc(2026, 11, 22, 4, 0), 30) == utc(2026, 11, 23, 0, 30)


def test_a_deadline_on_closing_time_stays_there() -> None:
    assert add_business_minutes(MANILA, utc(2026, 11, 23, 11, 0), 60) == utc(2026, 11, 23, 12, 0)


def test_lunch_gap_is_not_counted() -> None:
    # Saturday 12:30 Manila + 60 → 30 before the gap, 30 after → 14:30 Manila
    assert add_business_minutes(MANILA, utc(2026, 11, 28, 4, 30), 60) == utc(2026, 11, 28, 6, 30)


def test_daylight_saving_change_keeps_wall_clock_hours() -> None:
    # New York springs forward on Sunday 8 March 2026: Friday 16:00 EST (21:00Z) + 120 business minutes
    # = 60 on Friday, then Monday 10:00 EDT, which is 14:00Z (not 15:00Z as it would be in winter).
    assert add_business_minutes(NEW_YORK, utc(2026, 3, 6, 21, 0), 120) == utc(2026, 3, 9, 14, 0)
    assert in_business_hours(NEW_YORK, utc(2026, 3, 9, 13, 0))  # 09:00 EDT
    assert not in_business_hours(NEW_YORK, utc(2026, 3, 6, 13, 0))  # 08:00 EST


def test_same_moment_different_zones() -> None:
    moment = utc(2026, 11, 23, 14, 0)  # Monday 22:00 Manila, Monday 09:00 New York
    assert not in_business_hours(MANILA, moment)
    assert in_business_hours(NEW_YORK, moment)


def test_business_minutes_between_inverts_add() -> None:
    start = utc(2026, 11, 27, 10, 0)  # Friday 18:00 Manila
    end = add_business_minutes(MANILA, start, 500)
    assert business_minutes_between(MANILA, start, end) == pytest.approx(500)
    assert business_minutes_between(MANILA, end, start) == 0


def test_always_is_plain_time() -> None:
    assert add_business_minutes(ALWAYS, utc(2026, 11, 28, 23, 50), 20) == utc(2026, 11, 29, 0, 10)
    assert in_business_hours(ALWAYS, utc(2026, 12, 25, 3, 0))


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"timezone": "Mars/Olympus", "hours": {"mon": ["08:00-17:00"]}}, "unknown time zone"),
        ({"timezone": "UTC", "hours": {"mon": ["17:00-08:00"]}}, "ends before it starts"),
        ({"timezone": "UTC", "hours": {"mon": ["08:00-12:00", "11:00-13:00"]}}, "overlap"),
        ({"timezone": "UTC", "hours": {"mon": []}}, "no opening hours"),
        ({"timezone": "UTC", "hours": {"mon": ["08:00-17:00"]}, "holidays": ["25/12/2026"]}, "holidays"),
    ],
)
def test_bad_calendars_are_refused_with_the_field(doc: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_calendar("bad", doc)


def test_policy_calendars_load_and_bad_files_name_the_calendar(tmp_path: Path) -> None:
    calendars = load_calendars(POLICIES / "calendars.yaml")
    assert {"always", "manila-care", "manila-retention"} <= set(calendars)
    assert calendars["manila-care"].timezone == "Asia/Manila"
    broken = tmp_path / "calendars.yaml"
    broken.write_text("calendars:\n  desk:\n    timezone: UTC\n    hours: {funday: ['08:00-09:00']}\n")
    with pytest.raises(CalendarError, match=r"calendars\.desk\.hours"):
        load_calendars(broken)
