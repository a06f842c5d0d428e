"""Business-hours calendars: when a queue is staffed, and when a promise made now falls due.

Pure: no clock, no I/O beyond `load_calendars`. Opening hours are wall-clock times in the calendar's own
time zone (`zoneinfo`), so daylight-saving changes and a queue served from another country come out
right; holidays are local dates. SLA deadlines count only minutes inside opening hours.

    calendars:
      manila-care:
        timezone: Asia/Manila
        hours: {weekdays: ["08:00-20:00"], sat: ["09:00-13:00", "14:00-18:00"]}
        holidays: ["2026-12-25"]
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SHORTHANDS = {"daily": DAYS, "weekdays": DAYS[:5], "weekend": DAYS[5:]}
_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-(([01]\d|2[0-3]):([0-5]\d)|24:00)$")
_MAX_DAYS_AHEAD = 400
"""How far a deadline may be searched for: more than a year of holidays in a row is a broken calendar."""

Window = tuple[int, int]
"""Opening hours of one day: minutes since local midnight, [start, end)."""


class CalendarError(ValueError):
    """A calendar definition is wrong; the message names the file, calendar and field."""


@dataclass(frozen=True)
class Calendar:
    name: str
    timezone: str
    hours: tuple[tuple[Window, ...], ...]
    """Seven entries, Monday first; each the day's windows in order."""
    holidays: frozenset[date] = field(default_factory=frozenset)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def windows(self, day: date) -> tuple[Window, ...]:
        return () if day in self.holidays else self.hours[day.weekday()]


ALWAYS = Calendar("always", "UTC", tuple(((0, 24 * 60),) for _ in DAYS))
"""Staffed around the clock: business minutes are plain minutes."""


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _at(calendar: Calendar, day: date, minute: int) -> datetime:
    """The UTC instant of local wall-clock `minute` on `day` (24:00 is the next midnight)."""
    local = datetime.combine(day, time(), tzinfo=calendar.zone) + timedelta(minutes=minute)
    return local.astimezone(UTC)


def _open_spans(calendar: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Yield (open, close) UTC spans from the local day of `start` onwards, in order."""
    first = _utc(start).astimezone(calendar.zone).date()
    for offset in range(_MAX_DAYS_AHEAD):
        day = first + timedelta(days=offset)
        for begin, end in calendar.windows(day):
            yield _at(calendar, day, begin), _at(calendar, day, end)


def in_business_hours(calendar: Calendar, moment: datetime) -> bool:
    """True when `moment` falls inside the calendar's opening hours (never on a holiday)."""
    local = _utc(moment).astimezone(calendar.zone)
    minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    return any(begin <= minute < end for begin, end in calendar.windows(local.date()))


def add_business_minutes(calendar: Calendar, start: datetime, minutes: float) -> datetime:
    """The UTC instant when `minutes` of opening hours have passed since `start`. A start outside opening
    hours counts from the next opening; a deadline that lands exactly on a closing time stays there."""
    remaining = timedelta(minutes=minutes)
    cursor = _utc(start)
    if remaining <= timedelta(0):
        return cursor
    for opens, closes in _open_spans(calendar, cursor):
        if closes <= cursor:
            continue
        begin = max(cursor, opens)
        if remaining <= closes - begin:
            return begin + remaining
        remaining -= closes - begin
    raise CalendarError(f"calendar {calendar.name!r}: no opening hours within {_MAX_DAYS_AHEAD} days of {start}")


def business_minutes_between(calendar: Calendar, start: datetime, end: datetime) -> float:
    """Minutes of opening hours in [start, end); 0 when end is not after start."""
    start, end = _utc(start), _utc(end)
    total = timedelta(0)
    for opens, closes in _open_spans(calendar, start):
        if opens >= end:
            break
        overlap = min(closes, end) - max(opens, start)
        if overlap > timedelta(0):
            total += overlap
    return total.total_seconds() / 60


# ------------------------------------------------------------------------------------------------ loading

CALENDARS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "calendars": {
            "type": "object",
            "propertyNames": {
                "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$",
                "x-hint": "a calendar name: lower-case letters, digits, '-' and '_'",
            },
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "timezone": {"type": "string", "description": "an IANA zone, e.g. Asia/Manila"},
                    "hours": {
                        "type": "object",
                        "propertyNames": {"enum": [*DAYS, *SHORTHANDS]},
                        "additionalProperties": {
                            "type": "array",
                            "items": {
                                "type": "string",
                                "pattern": _WINDOW.pattern,
                                "x-hint": "an opening window HH:MM-HH:MM on a 24-hour clock, like 08:00-20:00",
                            },
                        },
                        "description": "day (mon..sun, or daily/weekdays/weekend) → [HH:MM-HH:MM, …]",
                    },
                    "holidays": {"type": "array", "items": {"type": "string", "format": "date"}},
                },
                "required": ["timezone", "hours"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["calendars"],
    "additionalProperties": False,
}


def _window(text: str) -> Window:
    match = _WINDOW.match(text)
    if not match:
        raise ValueError(f"{text!r} is not HH:MM-HH:MM")
    start = int(match.group(1)) * 60 + int(match.group(2))
    end = 24 * 60 if match.group(3) == "24:00" else int(match.group(4)) * 60 + int(match.group(5))
    if end <= start:
        raise ValueError(f"{text!r} ends before it starts (split a window that crosses midnight in two)")
    return start, end


def parse_calendar(name: str, doc: Mapping[str, Any]) -> Calendar:
    """One calendar from its policy document; ValueError naming the field when it is wrong."""
    try:
        ZoneInfo(str(doc["timezone"]))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"timezone: unknown time zone {doc['timezone']!r}") from exc
    by_day: dict[str, list[Window]] = {}
    hours = doc.get("hours") or {}
    # Shorthands first, so a named day overrides them (`weekdays` then `fri: [...]`).
    for key in sorted(hours, key=lambda k: k in DAYS):
        if key not in DAYS and key not in SHORTHANDS:
            raise ValueError(f"hours.{key}: unknown day; valid: {[*DAYS, *SHORTHANDS]}")
        try:
            windows = sorted(_window(str(w)) for w in hours[key] or [])
        except ValueError as exc:
            raise ValueError(f"hours.{key}: {exc}") from exc
        for earlier, later in itertools.pairwise(windows):
            if later[0] < earlier[1]:
                raise ValueError(f"hours.{key}: windows overlap")
        for day in SHORTHANDS.get(key, (key,)):
            by_day[day] = windows
    if not any(by_day.values()):
        raise ValueError("hours: no opening hours on any day")
    holidays = set()
    for text in doc.get("holidays") or []:
        try:
            holidays.add(date.fromisoformat(str(text)))
        except ValueError as exc:
            raise ValueError(f"holidays: {text!r} is not a YYYY-MM-DD date") from exc
    return Calendar(
        name=name,
        timezone=str(doc["timezone"]),
        hours=tuple(tuple(by_day.get(day, ())) for day in DAYS),
        holidays=frozenset(holidays),
    )


def parse_calendars(doc: Any, source: str, check_schema: bool = True) -> dict[str, Calendar]:
    """Every calendar in a `calendars.yaml` document, plus `always`; CalendarError lists every problem.
    `check_schema=False` trusts a document already validated (see the policy loader's digest)."""
    problems = []
    if check_schema:
        from chalicelib.policy.located import field_name, schema_problems

        problems = [
            f"{source}: {field_name(place) or '(top)'}: {message}"
            for place, message in schema_problems(doc, CALENDARS_SCHEMA)
        ]
    calendars = {ALWAYS.name: ALWAYS}
    if not problems:
        for name, raw in doc["calendars"].items():
            try:
                calendars[name] = parse_calendar(name, raw)
            except ValueError as exc:
                problems.append(f"{source}: calendars.{name}.{exc}")
    if problems:
        raise CalendarError("\n".join(problems))
    return calendars


def load_calendars(path: Path, check_schema: bool = True) -> dict[str, Calendar]:
    """`policies/calendars.yaml`; a missing file means only `always` exists."""
    import yaml

    if not path.exists():
        return {ALWAYS.name: ALWAYS}
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        from chalicelib.policy.located import yaml_problem

        message, line = yaml_problem(exc)
        raise CalendarError(f"{path}:{line}: {message}" if line else f"{path}: {message}") from exc
    for raw in (doc or {}).get("calendars", {}).values() if isinstance(doc, dict) else ():
        if isinstance(raw, dict) and isinstance(raw.get("holidays"), list):  # YAML reads 2026-12-25 as a date
            raw["holidays"] = [d.isoformat() if isinstance(d, date) else d for d in raw["holidays"]]
    return parse_calendars(doc, str(path), check_schema)
