"""A custom VTIMEZONE matched to the IANA zone it behaves as, so the DST policy can resolve its wall times.

The DST policy (``calendars.zones``) is defined on IANA zones: a wall time in a gap moves forward, a
repeated one takes the earlier instant, and ``zones.instant_of`` is the one place that decides it. A
calendar whose TZID is its own (``/example.com/Custom-Berlin``, an exporter's ``Zone 1``) defines the
zone in a VTIMEZONE instead. Rather than resolve wall times a second way, the VTIMEZONE (as the tzinfo
icalendar built from it) is compared with every IANA zone: one that has the same UTC offset at every
instant of the window (at least a year, so a whole DST cycle is seen) is the zone the calendar means
there, and its wall times go through ``zones.instant_of`` like any other. Zones that agree over the
window give the same instants there, so which of them is chosen does not change a result; the one whose
city the TZID names is preferred, then the one CLDR maps a Windows zone to.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from icalendar.timezone.tzid import get_equivalent_tzids
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from slotfinder._calendars import zones

__all__ = ["OBSERVANCE_RULE", "observances_yearly", "zone_of_vtimezone"]

_DAY = dt.timedelta(days=1)
_STEP = dt.timedelta(minutes=15)  # transitions fall on quarter hours in every zone
_YEAR = dt.timedelta(days=366)
_SHORT = 2  # TZID words this long or shorter (com, tz, st) name no city

Offset = Callable[[dt.datetime], int | None]  # minutes east of UTC at an instant

OBSERVANCE_RULE = "a STANDARD or DAYLIGHT RRULE must repeat yearly (FREQ=YEARLY, by month and day only)"
_YEARLY_PARTS = frozenset({"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYMONTH", "BYDAY", "BYMONTHDAY", "BYSETPOS", "WKST"})


def observances_yearly(vtimezone: Any) -> bool:
    """Whether every RRULE of a VTIMEZONE's observances repeats yearly on whole days (as every zone does).

    dateutil and icalendar evaluate an observance by stepping from its DTSTART: one that repeats
    every second since 1601 would take hours for a single offset, so it is refused before any is asked.
    """
    for observance in getattr(vtimezone, "subcomponents", ()):
        rules = observance.get("RRULE")
        for rule in rules if isinstance(rules, list) else [] if rules is None else [rules]:
            if not isinstance(rule, Mapping) or [str(f).upper() for f in rule.get("FREQ", [])] != ["YEARLY"]:
                return False
            if not set(map(str, rule)) <= _YEARLY_PARTS:
                return False
    return True


_PRIMARY = frozenset(WINDOWS_TO_OLSON.values())  # the IANA zone CLDR names for each Windows zone


def _candidates() -> tuple[str, ...]:
    """IANA zones to compare with: one for every Windows zone (CLDR: every distinct set of rules in use)
    and the zones icalendar knows to be equivalent to them (so a TZID's city can pick its own name)."""
    names = {n for olson in WINDOWS_TO_OLSON.values() for n in get_equivalent_tzids(olson)}
    return tuple(sorted(n for n in names if "/" in n and not n.startswith("Etc/") and zones.check_zone(n)))


def _iana_offset(name: str) -> Offset:
    return lambda moment: zones.offset_at(name, int((moment - zones.EPOCH) // dt.timedelta(minutes=1)))


def _own_offset(tzinfo: dt.tzinfo) -> Offset:
    def offset(moment: dt.datetime) -> int | None:
        delta = moment.astimezone(tzinfo).utcoffset()
        return None if delta is None else int(delta // dt.timedelta(minutes=1))

    return offset


def zone_of_vtimezone(tzid: str, tzinfo: dt.tzinfo, low: dt.datetime, high: dt.datetime) -> str | None:
    """The IANA zone with ``tzinfo``'s UTC offsets at every instant of ``low``..``high`` (UTC, widened
    to a year), preferring one whose city ``tzid`` names; None when no zone agrees."""
    high = max(high, low + _YEAR)
    days = [low + k * _DAY for k in range((high - low) // _DAY + 1)]
    own = _own_offset(tzinfo)
    try:
        wanted = [own(d) for d in days]
    except (ValueError, TypeError, OverflowError, IndexError):
        return None  # a VTIMEZONE that dateutil cannot evaluate
    changes = [d for d, a, b in zip(days, wanted, wanted[1:], strict=False) if a != b]
    fine = {d + k * _STEP: own(d + k * _STEP) for d in changes for k in range(int(_DAY / _STEP))}
    hints = {w for w in re.split(r"[^a-z]+", tzid.casefold().replace("_", " ")) if len(w) > _SHORT}
    matches = []
    for name in _candidates():
        offset = _iana_offset(name)
        if _agrees(offset, days, wanted) and all(offset(m) == o for m, o in fine.items()):
            matches.append(name)
    if not matches:
        return None
    # The zone the TZID's city names, else the one CLDR maps a Windows zone to (Europe/Berlin rather
    # than its equivalent Arctic/Longyearbyen), else the first by name: the same instants either way.
    return min(matches, key=lambda n: (not _named(n, hints), n not in _PRIMARY, n))


def _agrees(offset: Offset, days: Sequence[dt.datetime], wanted: Sequence[int | None]) -> bool:
    # Four probes first (most zones differ there), then every day.
    probes = range(0, len(days), max(1, len(days) // 4))
    return all(offset(days[i]) == wanted[i] for i in probes) and all(
        offset(d) == w for d, w in zip(days, wanted, strict=True)
    )


def _named(name: str, hints: set[str]) -> bool:
    city = name.rsplit("/", 1)[-1].casefold().replace("_", " ")
    return bool(city) and all(word in hints for word in city.split())
