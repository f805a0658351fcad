"""Lenient readers for the value formats Redox senders really use (days, times, durations, instants).

Each returns the value or raises :class:`~slotfinder._problems.RuleError` (a ``ValueError``) with the
rule broken; the caller adds the JSON path. Messages never include the value itself.

``REDOX`` is how the Redox edge words its rules for the shared :class:`~slotfinder._problems.Reader`;
``read_instant`` and ``read_minutes`` read the two value kinds every Redox message has at a path.

Date-times are read by the standard library (``datetime.fromisoformat``), not ``pendulum.parse``:
the offset is checked first either way (any text without one "has no UTC offset"), and pendulum
would only swap one grammar for a slower one that differs at the edges (it refuses a space before
``Z``, accepts ordinal dates) and quotes the text in its errors.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from slotfinder._calendars import zones
from slotfinder._domain import MINUTES_PER_DAY
from slotfinder._problems import Dialect, Reader, RuleError

__all__ = [
    "MINUTES_RULE",
    "REDOX",
    "parse_day",
    "parse_duration",
    "parse_instant",
    "parse_time",
    "read_instant",
    "read_minutes",
]

REDOX = Dialect(integers_as_text=True, whole="must be a whole number of minutes")
"""Redox rules: IDs and numbers sent as JSON numbers are read as text, and whole numbers are minutes."""
MINUTES_RULE = "must be positive and at most a day (1440 minutes)"

_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME_24 = re.compile(r"^(\d{1,2}):?(\d{2})$")
_TIME_12 = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s*m\.?$", re.IGNORECASE)
_UNITS = {
    "m": 1, "min": 1, "mins": 1, "minute": 1, "minutes": 1,
    "h": 60, "hr": 60, "hrs": 60, "hour": 60, "hours": 60,
}  # fmt: skip
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)
_SHORTEST_PREFIX = 2  # "T" and "S" name two days each
_NOON = 12
_LAST_HOUR = 23
_LAST_MINUTE = 59


def parse_day(text: str) -> int:
    """A weekday (0 = Monday) from a 2-, 3- or 4-letter prefix or a full name, any case."""
    key = text.strip().casefold().rstrip(".")
    if len(key) >= _SHORTEST_PREFIX:
        matches = [i for i, name in enumerate(_DAYS) if name.startswith(key)]
        if len(matches) == 1:
            return matches[0]
    raise RuleError("is not a weekday (use Mon..Sun, a 2-4 letter prefix or the full name)")


def parse_time(text: str) -> int:
    """A wall time as minutes after midnight, from HHMM, HH:MM or H[:MM] AM/PM."""
    value = text.strip()
    match = _TIME_24.match(value)
    if match:
        hour, minute = int(match.group(1)), int(match.group(2))
    else:
        match = _TIME_12.match(value)
        if not match:
            raise RuleError("is not a time of day (use HHMM, HH:MM or H:MM AM/PM)")
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if not 1 <= hour <= _NOON:
            raise RuleError("hour must be 1..12 on a 12-hour clock")
        hour = hour % _NOON + (_NOON if match.group(3).lower() == "p" else 0)
    if hour > _LAST_HOUR or minute > _LAST_MINUTE:
        raise RuleError("is not a time of day (hours 0..23, minutes 0..59)")
    return hour * 60 + minute


def parse_duration(value: str | int | float, unit: str | None) -> int:
    """A positive whole number of minutes, at most a day, from a number and a unit (default minutes)."""
    if isinstance(value, bool):
        raise RuleError("must be a number")
    try:
        amount = float(value.strip()) if isinstance(value, str) else float(value)
    except ValueError:
        raise RuleError("must be a number") from None
    if not math.isfinite(amount):  # "inf" and "nan" are floats to Python, not durations
        raise RuleError("must be a number")
    factor = 1 if unit is None or not unit.strip() else _UNITS.get(unit.strip().casefold())
    if factor is None:
        raise RuleError("unit must be minutes or hours")
    minutes = amount * factor
    if minutes != int(minutes):
        raise RuleError("must be a whole number of minutes")
    if not 0 < minutes <= MINUTES_PER_DAY:
        raise RuleError(MINUTES_RULE)
    return int(minutes)


def parse_instant(text: str) -> int:
    """An ISO 8601 date-time with a UTC offset (``T`` or a space), as minutes since the epoch.

    Seconds and fractions are dropped: the engine's grain is the minute, and a window start at
    19:00:27 keeps every start from 19:01 on (rounded up, so nothing before the asked time).
    """
    value = text.strip()
    if not _OFFSET.search(value):
        raise RuleError("has no UTC offset (add Z or +HH:MM)")
    try:
        moment = dt.datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        raise RuleError("is not an ISO 8601 date-time") from None
    seconds = (moment - zones.EPOCH).total_seconds()
    minutes = -int(-seconds // 60)  # ceiling: never earlier than asked
    if not zones.EARLIEST <= minutes < zones.LATEST:
        raise RuleError(zones.RANGE_RULE)
    return minutes


def read_instant(reader: Reader, *, required: bool = False) -> int | None:
    """The instant at ``reader`` (see :func:`parse_instant`), or None with the problem recorded."""
    return reader.parsed(parse_instant, required=required)


def read_minutes(reader: Reader, *, required: bool = False) -> int | None:
    """A duration in minutes at ``reader``: a whole JSON number, positive and at most a day."""
    minutes = reader.whole(required=required)
    if minutes is not None and not 0 < minutes <= MINUTES_PER_DAY:
        reader.problem(MINUTES_RULE)
        return None
    return minutes
