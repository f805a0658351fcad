"""The state one reading of a calendar shares, and the resolutions every phase of it needs.

Base of the reader (``ical_check`` checks components, ``ical_expand`` expands and converts them): it
holds the calendar, its source, the clinic and the window, and resolves a component's values against
them: a DATE or DATE-TIME to an instant under the DST policy of ``calendars.zones``, a LOCATION to a
location id of the clinic, an event's status to a busy kind.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from typing import Final

import icalendar
from icalendar.timezone.tzid import tzids_from_tzinfo
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from slotfinder._calendars import zones
from slotfinder._domain import MINUTES_PER_DAY, BusyKind, Clinic, Location
from slotfinder._errors import Problem
from slotfinder._problems import Problems, key_path
from slotfinder.ical._parse import _categories, _get, _iana, _text
from slotfinder.ical._sources import X_KIND, X_LOCATION, CalendarSource
from slotfinder.ical._zones import zone_of_vtimezone

_NO_ZONE: Final = "its TZID names no time zone (an IANA or Windows name, or a VTIMEZONE)"
_VTIMEZONE_VALUES: Final = {
    "DTSTART": "is not an RFC 5545 DATE-TIME",
    "TZOFFSETFROM": "is not an RFC 5545 UTC offset (such as -0500)",
    "TZOFFSETTO": "is not an RFC 5545 UTC offset (such as -0500)",
    "RRULE": "is not an RFC 5545 recurrence rule",
    "RDATE": "is not a list of RFC 5545 DATE-TIME values",
}
# Marks each parsed component with its path, so an expanded instance (a copy) knows where it came from.
_REF: Final = "X-SLOTFINDER-INTERNAL-REF"
_KINDS: Final = {"booking": BusyKind.BOOKING, "hold": BusyKind.HOLD, "block": BusyKind.BLOCK}
_KINDS_PROVIDER: Final = {**_KINDS, "out_of_office": BusyKind.OUT_OF_OFFICE}
_OUT_OF_OFFICE_WORDS: Final = frozenset(
    {"out of office", "out-of-office", "ooo", "oof", "vacation", "holiday", "leave"}
)


class _Context:
    """One calendar read against one clinic over one window of local dates: what every phase shares."""

    def __init__(
        self,
        calendar: icalendar.Component,
        source: CalendarSource,
        clinic: Clinic,
        first: dt.date,
        last: dt.date,
        default_slot_length: int | None,
        *,
        strict: bool = True,
        lines: dict[str, int] | None = None,
    ) -> None:
        self.calendar = calendar
        self.strict = strict  # False: a broken component is skipped (with its path and line), not the file
        self.lines = lines or {}
        self.source = source
        self.name = source.name
        self.clinic = clinic
        self.first, self.last = first, last
        self.default_slot_length = default_slot_length
        self.locations = {loc.id: loc for loc in clinic.locations}
        self.zone = self.locations[source.location_id].time_zone
        self.window = (zones.instant_of(self.zone, first, 0), zones.instant_of(self.zone, last, MINUTES_PER_DAY))
        self.codes = {v.code for v in clinic.visit_types}
        self.by_description = _unique_index(
            (v.description.casefold(), v.code) for v in clinic.visit_types if v.description
        )
        self.by_place = _unique_index(pair for loc in clinic.locations for pair in _place_keys(loc))
        self.problems = Problems()
        self.skips: Counter[tuple[str, str]] = Counter()
        self.notes: dict[str, None] = {}
        self.kept: Counter[str] = Counter()
        self.accounted: set[str] = set()  # components a skip reason already covers
        self.components: dict[str, icalendar.Component] = {}
        self.timezones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]
        self.zone_names: dict[str, str | None] = {}  # a non-IANA TZID -> the IANA zone it is read as
        self.unreadable_tzids: set[str] = set()  # TZIDs of VTIMEZONEs with a value that cannot be parsed

    def _zone_name(self, tzinfo: dt.tzinfo) -> str | None:
        """The IANA zone of a tzinfo icalendar gave: an IANA name, a Windows name (CLDR table), or a
        custom TZID whose VTIMEZONE has the offsets and transitions of an IANA zone over the window."""
        name = _iana(tzinfo)
        if name is not None:
            return name
        tzid = _tzid_of(tzinfo)
        if tzid is None:
            return None
        if tzid not in self.zone_names:
            self.zone_names[tzid] = self._resolve_tzid(tzid, tzinfo)
        return self.zone_names[tzid]

    def _no_zone_rule(self, tzinfo: dt.tzinfo) -> str:
        """Why a TZID that :meth:`_zone_name` could not resolve names no zone the DST policy can use."""
        tzid = _tzid_of(tzinfo)
        if tzid in self.unreadable_tzids:
            return "its TZID's VTIMEZONE has a value that cannot be parsed"
        if tzid is not None and self._vtimezone_index(tzid) is None:
            return _NO_ZONE
        return "its TZID has no IANA equivalent: wall times resolve only in IANA zones"

    def _vtimezone_index(self, tzid: str) -> int | None:
        return next((i for i, c in enumerate(self.timezones) if str(c.get("TZID", "")) == tzid), None)

    def _unreadable_timezone(self, vtimezone: icalendar.Component) -> bool:
        """Whether a VTIMEZONE (or a STANDARD or DAYLIGHT of it) holds a value that cannot be parsed.

        Such a definition is never used: in strict mode it is a problem of the file; otherwise it is
        listed in ``skipped``, a TZID that is an IANA or Windows name is read as that zone all the same,
        and a component whose TZID needs it is skipped (its TZID names no zone it can use).
        """
        index = next(i for i, c in enumerate(self.timezones) if c is vtimezone)
        where = f"{self.name}:VTIMEZONE[{index}]"
        broken = [(where, prop) for prop, _ in vtimezone.errors if prop is not None]
        for k, observance in enumerate(vtimezone.subcomponents):
            inner = f"{where}.{observance.name}[{k}]"
            broken += [(inner, prop) for prop, _ in observance.errors if prop is not None]
        if not broken:
            return False
        tzid = _get(vtimezone, "TZID")
        if tzid is not None:
            self.unreadable_tzids.add(str(tzid))
        problems = [
            Problem(key_path(path, prop), _VTIMEZONE_VALUES.get(prop, "cannot be parsed")) for path, prop in broken
        ]
        if self.strict:
            self.problems.extend(problems)
        else:
            self._broken(where, problems)
        return True

    def _resolve_tzid(self, tzid: str, tzinfo: dt.tzinfo) -> str | None:
        index = self._vtimezone_index(tzid)
        where = f"{self.name}:VTIMEZONE" + ("" if index is None else f"[{index}]")
        windows = WINDOWS_TO_OLSON.get(tzid)
        if windows is not None and zones.check_zone(windows):
            self.notes[f"{where}: a Windows time zone name, read as {windows} (CLDR windowsZones table)"] = None
            return windows
        if index is None or tzid in self.unreadable_tzids:
            # Not this file's definition: icalendar keeps every VTIMEZONE it has parsed for the life of the
            # process, so without one here the tzinfo it gave would be another file's.
            return None
        # This file's own definition: icalendar keeps the first VTIMEZONE of a TZID it built for the
        # life of the process, and another file may define the same TZID differently.
        try:
            definition = self.timezones[index]
            if isinstance(definition, icalendar.Timezone):
                tzinfo = definition.to_tz(lookup_tzid=False)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        low = dt.datetime.combine(self.first - dt.timedelta(days=3), dt.time(), tzinfo=dt.UTC)
        high = dt.datetime.combine(self.last + dt.timedelta(days=4), dt.time(), tzinfo=dt.UTC)
        found = zone_of_vtimezone(tzid, tzinfo, low, high)
        if found is not None:
            self.notes[
                f"{where}: a custom TZID, read as {found} (same UTC offsets and transitions over the window)"
            ] = None
        return found

    def _mark(self, component: icalendar.Component, path: str) -> None:
        component[_REF] = path  # copied into every instance the expander makes of it
        self.components[path] = component

    def _where(self, path: str) -> str:
        """A component's path, with the line it begins on when known (``ana.ics:VEVENT[3] (line 41)``)."""
        line = self.lines.get(path)
        return path if line is None else f"{path} (line {line})"

    def _broken(self, path: str, problems: Iterable[Problem]) -> None:
        """Lenient mode: a component skipped for its problems, each named by its path inside it and rule."""
        for problem in problems:
            inside = problem.path[len(path) :].lstrip(".") if problem.path.startswith(path) else problem.path
            self._skip(self._where(path), f"not read: {inside + ' ' if inside else ''}{problem.rule}")
        self.accounted.add(path)

    def _skip(self, path: str, why: str) -> None:
        self.skips[(path, why)] += 1
        self.accounted.add(path)

    def _instant(self, value: dt.date | dt.datetime, *, up: bool = False, zone: str | None = None) -> int:
        """The instant of a DATE or DATE-TIME under the DST policy (floating and DATE: at ``zone``)."""
        local_zone = zone or self.zone
        if not isinstance(value, dt.datetime):
            return zones.instant_of(local_zone, value, 0)
        extra = 1 if up and (value.second or value.microsecond) else 0
        tzinfo = value.tzinfo
        if tzinfo is None:
            return zones.instant_of(local_zone, value.date(), value.hour * 60 + value.minute + extra)
        name = self._zone_name(tzinfo)
        if name is None or value.fold:
            # A fixed offset, or fold=1 (the second of a repeated hour, which only a conversion from an
            # instant produces, never a wall time in the file): the instant is exact.
            seconds = (value - zones.EPOCH).total_seconds()
            return int(seconds // 60) + (1 if up and seconds % 60 else 0)
        return zones.instant_of(name, value.date(), value.hour * 60 + value.minute + extra)

    def _kind(self, component: icalendar.Component) -> BusyKind | str:
        """The busy kind of an event, or why it is not busy."""
        status = str(_get(component, "STATUS", "")).upper()
        if status == "CANCELLED":
            return "cancelled (STATUS:CANCELLED)"
        if str(_get(component, "TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            return "free time (TRANSP:TRANSPARENT)"
        explicit = _text(component, X_KIND)
        microsoft = str(_get(component, "X-MICROSOFT-CDO-BUSYSTATUS", "")).upper()
        if explicit is not None:
            kind = _KINDS_PROVIDER[explicit.casefold()]
        elif microsoft == "FREE":
            return "free time (X-MICROSOFT-CDO-BUSYSTATUS:FREE)"
        elif microsoft == "OOF":
            kind = BusyKind.OUT_OF_OFFICE
        elif microsoft == "TENTATIVE" or status == "TENTATIVE":
            kind = BusyKind.HOLD
        elif any(c.casefold() in _OUT_OF_OFFICE_WORDS for c in _categories(component)):
            kind = BusyKind.OUT_OF_OFFICE
        else:
            kind = BusyKind.BLOCK
        if kind is BusyKind.OUT_OF_OFFICE and self.source.room is not None:
            return BusyKind.BLOCK  # a room is not "out of office"; it is blocked
        return kind

    def _location(self, component: icalendar.Component, path: str, *, strict: bool) -> str | None:
        """The location id an event or AVAILABLE names (X-SLOTFINDER-LOCATION, else LOCATION); None: none."""
        explicit = _text(component, X_LOCATION)
        if explicit is not None:
            return explicit
        text = _text(component, "LOCATION")
        if text is None:
            return self.source.location_id
        found = self.by_place.get(_place(text))
        if found is None:
            if strict:
                self._skip(
                    path, "its LOCATION names no location of the clinic (by id, department or facility and department)"
                )
            return None
        if len(found) > 1:
            if self.source.location_id in found:
                return self.source.location_id
            if strict:
                self._skip(path, "its LOCATION matches several locations of the clinic")
            return None
        return next(iter(found))


def _tzid_of(tzinfo: dt.tzinfo) -> str | None:
    """The TZID a VTIMEZONE-built tzinfo carries (dateutil's ``_tzicalvtz``), else None."""
    tzid = getattr(tzinfo, "_tzid", None)
    if isinstance(tzid, str):
        return tzid
    names = tzids_from_tzinfo(tzinfo)
    return names[0] if names else None


def _wall_length(begin: dt.date | dt.datetime, end: dt.date | dt.datetime) -> dt.timedelta:
    """The wall-clock length the expander put between an instance's DTSTART and DTEND."""
    if isinstance(begin, dt.datetime) and isinstance(end, dt.datetime):
        return end.replace(tzinfo=None) - begin.replace(tzinfo=None)
    if isinstance(begin, dt.datetime) or isinstance(end, dt.datetime):
        return dt.timedelta(-1)
    return end - begin


def _place(text: str) -> str:
    """A location text compared loosely: case, punctuation between words and spacing do not count."""
    return " ".join(re.sub(r"[,;/|\-\u2013\u2014]+", " ", text).casefold().split())


def _place_keys(location: Location) -> Iterator[tuple[str, str]]:
    yield _place(location.id), location.id
    if location.department:
        yield _place(location.department), location.id
        if location.facility:
            yield _place(f"{location.facility} {location.department}"), location.id


def _unique_index(pairs: Iterable[tuple[str, str]]) -> dict[str, frozenset[str]]:
    index: dict[str, set[str]] = defaultdict(set)
    for key, value in pairs:
        if key:
            index[key].add(value)
    return {k: frozenset(v) for k, v in index.items()}
