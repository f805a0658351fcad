"""Lenient readers for the value formats Redox senders really use (days, times, durations, instants).

Each returns the value or raises ``ValueError`` with the rule broken; the caller adds the JSON path.
Messages never include the value itself.
"""

from __future__ import annotations

import datetime as dt
import re

from slotfinder._calendars import zones

__all__ = ["parse_day", "parse_duration", "parse_instant", "parse_time"]

_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME_24 = re.compile(r"^(\d{1,2}):?(\d{2})$")
_TIME_12 = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s*m\.?$", re.IGNORECASE)
_UNITS = {
    "m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1,
    "h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60,
}  # fmt: skip
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)


def parse_day(text: str) -> int:
    """A weekday (0 = Monday) from a 2-, 3- or 4-letter prefix or a full name, any case."""
    key = text.strip().casefold().rstrip(".")
    if len(key) >= 2:
        matches = [i for i, name in enumerate(_DAYS) if name.startswith(key)]
        if len(matches) == 1:
            return matches[0]
    raise ValueError("is not a weekday (use Mon..Sun, a 2-4 letter prefix or the full name)")


def parse_time(text: str) -> int:
    """A wall time as minutes after midnight, from HHMM, HH:MM or H[:MM] AM/PM."""
    value = text.strip()
    match = _TIME_24.match(value)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
    else:
        match = _TIME_12.match(value)
        if not match:
            raise ValueError("is not a time of day (use HHMM, HH:MM or H:MM AM/PM)")
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if not 1 <= hour <= 12:
            raise ValueError("hour must be 1..12 on a 12-hour clock")
        hour = hour % 12 + (12 if match.group(3).lower() == "p" else 0)
    if hour > 23 or minute > 59:
        raise ValueError("is not a time of day (hours 0..23, minutes 0..59)")
    return hour * 60 + minute


def parse_duration(value: str | int | float, unit: str | None) -> int:
    """A positive whole number of minutes, at most a day, from a number and a unit (default minutes)."""
    if isinstance(value, bool):
        raise ValueError("must be a number")
    try:
        amount = float(value.strip()) if isinstance(value, str) else float(value)
    except ValueError:
        raise ValueError("must be a number") from None
    factor = 1 if unit is None or not unit.strip() else _UNITS.get(unit.strip().casefold())
    if factor is None:
        raise ValueError("unit must be minutes or hours")
    minutes = amount * factor
    if minutes != int(minutes):
        raise ValueError("must be a whole number of minutes")
    if not 0 < minutes <= 1440:
        raise ValueError("must be positive and at most a day (1440 minutes)")
    return int(minutes)


def parse_instant(text: str) -> int:
    """An ISO 8601 date-time with a UTC offset (``T`` or a space), as minutes since the epoch.

    Seconds and fractions are dropped: the engine's grain is the minute, and a window start at
    19:00:27 keeps every start from 19:01 on (rounded up, so nothing before the asked time).
    """
    value = text.strip()
    if not _OFFSET.search(value):
        raise ValueError("has no UTC offset (add Z or +HH:MM)")
    try:
        moment = dt.datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        raise ValueError("is not an ISO 8601 date-time") from None
    seconds = (moment - zones.EPOCH).total_seconds()
    return -int(-seconds // 60)  # ceiling: never earlier than asked
