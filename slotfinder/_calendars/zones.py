"""The one boundary between local wall time and instants (minutes since the epoch, UTC).

DST policy ("compatible", as RFC 5545 and Temporal name it):

* a wall time inside a spring-forward gap moves forward by the length of the gap
  (02:30 on a night that skips 02:00-03:00 becomes 03:30 in the new offset);
* a wall time that occurs twice (fall-back) takes the earlier instant.

pendulum is asked to *raise* on such times so the two cases are named here, never left to a
library default (pendulum's own default picks the later of two repeated times).
"""

from __future__ import annotations

import datetime as dt
import functools

import pendulum
from pendulum.tz.exceptions import AmbiguousTime, InvalidTimezone, NonExistingTime

__all__ = [
    "EARLIEST",
    "EPOCH",
    "LATEST",
    "RANGE_RULE",
    "check_zone",
    "instant_of",
    "local_of",
    "offset_at",
    "to_datetime",
]

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MIN = dt.timedelta(minutes=1)
# The instants slotfinder accepts: far enough apart for any calendar, far enough from datetime's
# limits (years 1 and 9999) that a window plus a horizon can never overflow.
EARLIEST = int((dt.datetime(1900, 1, 1, tzinfo=dt.UTC) - EPOCH) // _MIN)
LATEST = int((dt.datetime(2200, 1, 1, tzinfo=dt.UTC) - EPOCH) // _MIN)
RANGE_RULE = "must lie between 1900-01-01 and 2199-12-31 (UTC)"


@functools.cache
def _zone(name: str) -> pendulum.Timezone:
    zone = pendulum.timezone(name)
    assert isinstance(zone, pendulum.Timezone)  # a name always gives a Timezone, never FixedTimezone
    return zone


def check_zone(name: str) -> bool:
    """True when ``name`` is a known IANA time zone."""
    try:
        _zone(name)
    except (InvalidTimezone, ValueError):
        return False
    return True


@functools.lru_cache(maxsize=1 << 16)
def instant_of(zone: str, date: dt.date, minute: int) -> int:
    """The instant of a wall time under the DST policy; ``minute`` may be 1440 (next midnight)."""
    naive = dt.datetime(date.year, date.month, date.day) + minute * _MIN
    tz = _zone(zone)
    try:
        aware = tz.convert(naive, raise_on_unknown_times=True)
    except NonExistingTime:  # skipped: read with the offset in force before the gap (lands the gap later)
        aware = _first_offset(naive, tz)
    except AmbiguousTime:  # repeated: the earlier instant, in the offset in force before the fold
        aware = _first_offset(naive, tz)
    return int((aware - EPOCH) // _MIN)


def _first_offset(naive: dt.datetime, tz: pendulum.Timezone) -> dt.datetime:
    """``naive`` read with the UTC offset in force before the transition it falls in (PEP 495 fold=0)."""
    return naive.replace(tzinfo=tz, fold=0)


@functools.lru_cache(maxsize=1 << 16)
def offset_at(zone: str, instant: int) -> int:
    """UTC offset in minutes in force at an instant."""
    moment = EPOCH + instant * _MIN
    offset = moment.astimezone(_zone(zone)).utcoffset()
    assert offset is not None
    return int(offset // _MIN)


def local_of(zone: str, instant: int) -> tuple[dt.date, int]:
    """The local date and minute after local midnight at an instant."""
    local = instant + offset_at(zone, instant)
    days, minute = divmod(local, 1440)
    return EPOCH.date() + dt.timedelta(days=days), minute


def to_datetime(instant: int) -> dt.datetime:
    """An instant as an aware UTC datetime."""
    return EPOCH + instant * _MIN
