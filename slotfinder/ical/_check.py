"""Checks of every component before expansion: what makes a calendar unreadable is reported, all of it.

Separate from expansion because it runs first and alone: nothing is expanded from a component that was
not checked. In strict mode a calendar with any problem is refused as a whole
(:class:`~slotfinder._errors.InvalidClinic` with every path); in lenient mode (the default) a component
with a problem is skipped, with its path, line and rule, and the others are read. Duplicate UIDs are
settled here too (a higher SEQUENCE wins).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Final

import icalendar

from slotfinder._domain import MINUTES_PER_DAY, BusyKind
from slotfinder._problems import RuleError, key_path
from slotfinder.ical._context import _KINDS_PROVIDER, _NO_ZONE, _REF, _Context, _wall_length
from slotfinder.ical._parse import _COPY, _dt_values, _get, _int, _text, _texts
from slotfinder.ical._sources import (
    MAX_RELEASE_BEFORE,
    X_KIND,
    X_LOCATION,
    X_RELEASE_BEFORE,
    X_RESERVED_FOR,
    X_ROOM,
    X_SLOT_LENGTH,
    X_VISIT_NUMBER,
)

_DATE_PROPERTIES: Final = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE")
_READ_PROPERTIES: Final = {
    "DTSTART": "is not an RFC 5545 DATE or DATE-TIME",
    "DTEND": "is not an RFC 5545 DATE or DATE-TIME",
    "RECURRENCE-ID": "is not an RFC 5545 DATE or DATE-TIME",
    "DURATION": "is not an RFC 5545 DURATION (such as PT30M or P1D)",
    "RRULE": "is not an RFC 5545 recurrence rule",
    "RDATE": "is not a list of RFC 5545 DATE, DATE-TIME or PERIOD values",
    "EXDATE": "is not a list of RFC 5545 DATE or DATE-TIME values",
    "PRIORITY": "is not an integer 0..9",
    "SEQUENCE": "is not an integer",
}
_ONCE: Final = (  # properties RFC 5545/7953 allow at most once in a component, that the reader uses
    "DTSTART",
    "DTEND",
    "DURATION",
    "RECURRENCE-ID",
    "UID",
    "STATUS",
    "TRANSP",
    "SEQUENCE",
    "PRIORITY",
    "LOCATION",
    "BUSYTYPE",
    X_KIND,
    X_LOCATION,
    X_ROOM,
    X_SLOT_LENGTH,
    X_RELEASE_BEFORE,
    X_VISIT_NUMBER,
    "X-MICROSOFT-CDO-BUSYSTATUS",
)


class _Checks(_Context):
    """The reader's first phase: every component checked before any is expanded (into ``self.problems``)."""

    def _check(self, component: icalendar.Component, path: str, *, available: bool, bounds: bool = False) -> None:
        problems = self.problems
        repeated = [prop for prop in _ONCE if isinstance(_get(component, prop), list)]
        for prop in repeated:
            problems.add(key_path(path, prop), "must appear once")
        if repeated:
            return
        before = len(problems)
        allowed_inside = () if available or bounds else ("VALARM",)
        if bounds:
            allowed_inside = ("AVAILABLE",)
        if any(c.name not in allowed_inside for c in component.subcomponents):
            inside = ", ".join(allowed_inside) or "no component"
            problems.add(path, f"may hold {inside} inside (an END line is missing or misplaced?)")
        broken = {prop for prop, _ in component.errors if prop is not None}
        for prop in sorted(broken & _READ_PROPERTIES.keys()):
            problems.add(key_path(path, prop), _READ_PROPERTIES[prop])
        if "DTSTART" not in component and not bounds:
            problems.add(key_path(path, "DTSTART"), "is required")
        if "DTEND" in component and "DURATION" in component:
            problems.add(key_path(path, "DURATION"), "DTEND and DURATION must not both be given")
        for prop in _DATE_PROPERTIES:
            if prop not in broken:
                self._check_zones(component, prop, key_path(path, prop))
        if len(problems) == before:
            self._check_span(component, path)
        self._check_extensions(component, path, available=available, bounds=bounds)

    def _check_zones(self, component: icalendar.Component, prop: str, path: str) -> None:
        try:
            values = _dt_values(component, prop)
        except (ValueError, TypeError, AttributeError):
            self.problems.add(path, _READ_PROPERTIES.get(prop, "cannot be read"))
            return
        for params, value in values:
            if not isinstance(value, dt.datetime):
                continue
            if value.tzinfo is None and "TZID" in params:
                self.problems.add(path, _NO_ZONE)
                return
            if (
                value.tzinfo is not None
                and self._zone_name(value.tzinfo) is None
                and not isinstance(value.tzinfo, dt.timezone)
            ):
                self.problems.add(path, self._no_zone_rule(value.tzinfo))
                return

    def _check_span(self, component: icalendar.Component, path: str) -> None:
        start = _get(component, "DTSTART")
        if start is None:
            return
        begin = start.dt
        if not isinstance(begin, dt.date):  # icalendar reads a DURATION or a PERIOD where a date belongs
            self.problems.add(key_path(path, "DTSTART"), "must be a DATE or a DATE-TIME")
            return
        if "DURATION" in component:
            duration = _get(component, "DURATION").dt
            if not isinstance(duration, dt.timedelta) or duration < dt.timedelta(0):
                self.problems.add(key_path(path, "DURATION"), "must not be negative")
        elif "DTEND" in component:
            end = _get(component, "DTEND").dt
            if not isinstance(end, dt.date):
                self.problems.add(key_path(path, "DTEND"), "must be a DATE or a DATE-TIME")
                return
            if isinstance(begin, dt.datetime) != isinstance(end, dt.datetime):
                self.problems.add(
                    key_path(path, "DTEND"), "must be a DATE when DTSTART is one, a DATE-TIME when it is one"
                )
                return
            # On one clock, compared as the file writes them (the DST policy may still leave no time).
            if _same_clock(begin, end):
                backwards = _wall_length(begin, end) < dt.timedelta(0)
            else:
                backwards = self._instant(end, up=True) < self._instant(begin)
            if backwards:
                self.problems.add(key_path(path, "DTEND"), "must not be before DTSTART")

    def _check_extensions(self, component: icalendar.Component, path: str, *, available: bool, bounds: bool) -> None:
        if bounds:
            return
        problems = self.problems
        before = len(problems)
        try:
            explicit = _text(component, X_LOCATION)
            if explicit is not None and explicit not in self.locations:
                problems.add(key_path(path, X_LOCATION), "names no location of the clinic")
            room = _text(component, X_ROOM)
            if room is not None and self.source.provider_id is not None and len(problems) == before:
                location_id = self._location(component, path, strict=False) or self.source.location_id
                if room not in self.locations[location_id].rooms:
                    problems.add(key_path(path, X_ROOM), "is not a room of the component's location")
            _text(component, "LOCATION")
            _text(component, "UID")
        except RuleError as error:
            problems.add(path, f"a property the reader uses (UID, LOCATION, X-SLOTFINDER-*) {error.rule}")
        if available:
            try:
                _int(component, X_SLOT_LENGTH, 1, MINUTES_PER_DAY)
            except RuleError as error:
                problems.add(key_path(path, X_SLOT_LENGTH), error.rule)
            return
        try:
            kind_text = _text(component, X_KIND)
        except RuleError as error:
            problems.add(key_path(path, X_KIND), error.rule)
            return
        if kind_text is not None and kind_text.casefold() not in _KINDS_PROVIDER:
            problems.add(key_path(path, X_KIND), "must be booking, hold, block or out_of_office")
        reserved = _texts(component, X_RESERVED_FOR)
        if any(code not in self.codes for code in reserved):
            problems.add(key_path(path, X_RESERVED_FOR), "names a visit type code the clinic does not have")
        try:
            release = _int(component, X_RELEASE_BEFORE, 0, MAX_RELEASE_BEFORE)
        except RuleError as error:
            problems.add(key_path(path, X_RELEASE_BEFORE), error.rule)
            release = None
        if release is not None and not reserved:
            problems.add(key_path(path, X_RELEASE_BEFORE), f"needs {X_RESERVED_FOR}")
        kind = self._kind(component) if len(problems) == before else None
        if reserved and isinstance(kind, BusyKind) and kind is not BusyKind.BLOCK:
            problems.add(key_path(path, X_RESERVED_FOR), "only a block may be reserved (X-SLOTFINDER-KIND:block)")

    def _check_duplicate_uids(self, members: Sequence[icalendar.Component]) -> None:
        """Same UID (and RECURRENCE-ID) twice among VEVENTs, or AVAILABLEs of one VAVAILABILITY.

        The expander would keep one silently. A higher SEQUENCE is an update and replaces the others;
        with equal SEQUENCE every copy is read (busy time is never dropped on a guess).
        """
        groups: dict[tuple[str, str], list[icalendar.Component]] = defaultdict(list)
        for event in members:
            uid = _text(event, "UID")
            if uid is not None:
                recurrence = _get(event, "RECURRENCE-ID")
                groups[(uid, "" if recurrence is None else recurrence.to_ical().decode())].append(event)
        for (uid, recurrence), same in groups.items():
            if len(same) == 1:  # groups are never empty
                continue
            sequences = {int(_get(e, "SEQUENCE", 0)) for e in same}
            if len(sequences) > 1:
                newest = max(sequences)
                for e in same:
                    if int(_get(e, "SEQUENCE", 0)) != newest:
                        self._skip(str(e[_REF]), "superseded by a version with the same UID and a higher SEQUENCE")
                continue
            if recurrence:
                continue  # two overrides of one instance: the expander keeps one; rare enough to leave to it
            for n, e in enumerate(same[1:], start=1):
                e["UID"] = f"{uid}{_COPY}{n}"  # told apart for the expander; _uid() gives the file's UID back
                self.notes[f"{e[_REF]}: same UID as another {e.name} without RECURRENCE-ID; both are read"] = None


def _same_clock(begin: dt.date | dt.datetime, end: dt.date | dt.datetime) -> bool:
    """Both dates, both floating, or both in one zone: compared as wall times."""
    if not (isinstance(begin, dt.datetime) and isinstance(end, dt.datetime)):
        return True
    return begin.tzinfo is end.tzinfo or (begin.tzinfo is not None and begin.tzinfo == end.tzinfo)
