"""Checked components to instances, and instances to busy time and open time.

The reader's pipeline (:meth:`_Reader.read`): check every component (``ical_check``), expand
recurrences with ``recurring_ical_events``, resolve each instance's span under the DST policy, then
turn VEVENT instances into :class:`~slotfinder._domain.Busy` and AVAILABLE instances (within their
VAVAILABILITY's bounds and priority) into :class:`~slotfinder._domain.OpenTime`, gathered in
:class:`IcalItems` with what was skipped and why.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, Final

import attrs
import icalendar
import recurring_ical_events

from slotfinder._calendars import zones
from slotfinder._calendars.intervals import Interval, merge, subtract
from slotfinder._domain import MINUTES_PER_DAY, Busy, OpenTime
from slotfinder._errors import InvalidClinic, Problem
from slotfinder._limits import CalendarTooLarge, Limits, exceeded
from slotfinder._problems import Problems
from slotfinder.ical._check import _Checks
from slotfinder.ical._context import _REF, _wall_length
from slotfinder.ical._parse import _categories, _get, _int, _text, _texts, _uid
from slotfinder.ical._sources import (
    MAX_RELEASE_BEFORE,
    X_RELEASE_BEFORE,
    X_RESERVED_FOR,
    X_ROOM,
    X_SLOT_LENGTH,
    X_VISIT_NUMBER,
)
from slotfinder.ical._zones import OBSERVANCE_RULE, observances_yearly

_FAR: Final = 1 << 62  # an instant beyond any calendar: the open end of an unbounded VAVAILABILITY


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


@attrs.frozen
class IcalItems:
    """What a calendar adds to a clinic, and what it left out.

    ``skipped``: what was read but not used, and why (cancelled, transparent, outside the window, an
    unknown LOCATION, ...). ``notes``: what was used with a caveat (a guessed time zone, seconds rounded).
    Both name components by path and never quote the file's text.
    """

    open_times: tuple[OpenTime, ...] = attrs.field(default=(), converter=_tuple)
    busy: tuple[Busy, ...] = attrs.field(default=(), converter=_tuple)
    skipped: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    notes: tuple[str, ...] = attrs.field(default=(), converter=_tuple)

    def __add__(self, other: IcalItems) -> IcalItems:
        return IcalItems(
            open_times=self.open_times + other.open_times,
            busy=self.busy + other.busy,
            skipped=self.skipped + other.skipped,
            notes=self.notes + other.notes,
        )


@attrs.frozen
class _Resolved:
    """An instance's span in instants, and whether seconds were rounded away."""

    start: int
    end: int
    rounded: bool


class _Reader(_Checks):
    """One calendar read against one clinic over one window of local dates: check, expand, convert."""

    def __init__(self, *args: Any, limits: Limits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self.expanded = 0  # instances expanded so far, against max_import_items

    # -- driver

    def read(self) -> IcalItems:
        events: list[tuple[str, icalendar.Component]] = []
        availabilities: list[tuple[str, icalendar.Component, list[tuple[str, icalendar.Component]]]] = []
        others: Counter[str] = Counter()
        if str(_get(self.calendar, "CALSCALE", "GREGORIAN")).upper() != "GREGORIAN":
            raise InvalidClinic([Problem(f"{self.name}:VCALENDAR.CALSCALE", "must be GREGORIAN")])
        for component in self.calendar.subcomponents:
            if component.name == "VEVENT":
                path = f"{self.name}:VEVENT[{len(events)}]"
                events.append((path, component))
                self._mark(component, path)
            elif component.name == "VAVAILABILITY":
                path = f"{self.name}:VAVAILABILITY[{len(availabilities)}]"
                children = []
                for k, child in enumerate(c for c in component.subcomponents if c.name == "AVAILABLE"):
                    children.append((f"{path}.AVAILABLE[{k}]", child))
                    self._mark(child, f"{path}.AVAILABLE[{k}]")
                availabilities.append((path, component, children))
            elif component.name == "VTIMEZONE":
                if self._unreadable_timezone(component):
                    continue  # not used: a TZID of it is an IANA or Windows name, or names no time zone
                if any(c.name not in ("STANDARD", "DAYLIGHT") for c in component.subcomponents):
                    path = f"{self.name}:VTIMEZONE"
                    self.problems.add(path, "may hold STANDARD and DAYLIGHT only (an END line is missing?)")
                if not observances_yearly(component):  # refused before any offset of it is evaluated
                    raise InvalidClinic([Problem(f"{self.name}:VTIMEZONE", OBSERVANCE_RULE)])
            else:
                others[str(component.name)] += 1
        events = [(p, e) for p, e in events if self._checked(p, e, available=False)]
        kept_availabilities = []
        for path, container, children in availabilities:
            if not self._checked(path, container, available=False, bounds=True):
                self.accounted.update(child_path for child_path, _ in children)
                continue
            readable = [(p, c) for p, c in children if self._checked(p, c, available=True)]
            kept_availabilities.append((path, container, readable))
        availabilities = kept_availabilities
        self.problems.raise_if_any(InvalidClinic)
        self._check_duplicate_uids([e for _, e in events])
        for _, _, children in availabilities:
            self._check_duplicate_uids([c for _, c in children])

        occurrences = self._expand([e for _, e in events], "VEVENT")
        busy = [b for occurrence in occurrences if (b := self._busy(occurrence)) is not None]
        open_times = self._availability(availabilities)
        self.problems.raise_if_any(InvalidClinic)
        for path in self.components:
            if self.kept[path] == 0 and path not in self.accounted:
                self._skip(path, "no instance in the window")
        for name, count in sorted(others.items()):
            self.skips[(f"{self.name}:{name}", "not read (only VEVENT and VAVAILABILITY are)")] += count
        return IcalItems(
            open_times=sorted(open_times, key=lambda o: (o.start, o.end, o.location_id, o.source or "")),
            busy=sorted(busy, key=lambda b: (b.start, b.end, b.kind.value, b.visit_number or "")),
            skipped=[
                f"{path}: {why}" + (f" ({n} instances)" if n > 1 else "") for (path, why), n in self.skips.items()
            ],
            notes=list(self.notes),
        )

    def _checked(self, path: str, component: icalendar.Component, *, available: bool, bounds: bool = False) -> bool:
        """Check one component: True to read it. Strict: its problems are the file's; lenient: it is skipped."""
        if self.strict:
            self._check(component, path, available=available, bounds=bounds)
            return True
        kept, self.problems = self.problems, Problems()
        try:
            self._check(component, path, available=available, bounds=bounds)
        finally:
            found, self.problems = self.problems, kept
        if not len(found):
            return True
        self._broken(path, found)
        return False

    # -- expansion

    def _expand(self, members: Sequence[icalendar.Component], kind: str) -> list[icalendar.Component]:
        """Every instance of ``members`` (VEVENTs, or the AVAILABLEs of one VAVAILABILITY) near the window."""
        low = dt.datetime.combine(self.first - dt.timedelta(days=2), dt.time())
        high = dt.datetime.combine(self.last + dt.timedelta(days=3), dt.time())
        selector: Any = kind if kind == "VEVENT" else _AvailableAdapter

        def expand(series: Sequence[icalendar.Component]) -> list[icalendar.Component]:
            # Only the checked components go in (the expander would also walk into nested ones).
            # CalendarQuery, not recurring_ical_events.of(): of() first moves UTC times into the zone of a
            # non-standard X-WR-TIMEZONE, and a UTC time in a repeated hour would lose which of the two it was.
            container = icalendar.Calendar()
            for member in (*self.timezones, *series):
                container.add_component(member)
            query = recurring_ical_events.CalendarQuery(container, components=[selector])
            start, stop = query.to_datetime(low), query.to_datetime(high)
            found: list[icalendar.Component] = []
            for recurring in query.series:
                occurrences = self._counted(recurring, start, stop)
                found += [o.as_component(query.keep_recurrence_attributes) for o in occurrences]
                if self.expanded + len(found) > self.limits.max_import_items:
                    rule = exceeded(self.limits.max_import_items, "max_import_items", "instances")
                    raise CalendarTooLarge([Problem(self.name, rule)])
            return [o for o in found if _REF in o]  # never anything unchecked (refused above; here for safety)

        try:
            found = expand(members)
            self.expanded += len(found)
            return found
        except _EXPANSION_ERRORS:
            pass
        # Find the series that breaks the expansion, to name it.
        by_uid: dict[str, list[icalendar.Component]] = defaultdict(list)
        for member in members:
            by_uid[str(_uid(member) or member[_REF])].append(member)
        found = []
        for series in by_uid.values():
            try:
                instances = expand(series)
                self.expanded += len(instances)
                found += instances
            except _EXPANSION_ERRORS:
                rule = "its recurrence (RRULE, RDATE, EXDATE, RECURRENCE-ID) cannot be expanded"
                if self.strict:
                    self.problems.add(str(series[0][_REF]), rule)
                else:
                    for member in series:
                        self._broken(str(member[_REF]), [Problem(str(member[_REF]), rule)])
        return found

    def _counted(self, recurring: Any, start: dt.datetime, stop: dt.datetime) -> list[Any]:
        """The instances of one series in ``[start, stop]``, refused past ``max_rule_instances``.

        The window is walked in spans doubling from a day, so a rule dense enough to break the limit
        (every minute, every second) is refused after its first spans instead of being expanded whole.
        """
        limit = self.limits.max_rule_instances
        found: dict[Any, Any] = {}  # by occurrence id: an instance across two spans is found in both
        # The expander keeps a series' RRULEs after its RDATE set; without one, nothing can be dense.
        rules = getattr(getattr(recurring, "recurrence", None), "rrules", None)
        low, span = start, dt.timedelta(days=1) if rules is None or len(rules) > 1 else stop - start
        while low < stop:
            high = min(low + span, stop)
            for occurrence in recurring.between(low, high):
                found.setdefault(occurrence.id, occurrence)
                if len(found) > limit:
                    path = str(occurrence.as_component(False).get(_REF, self.name))
                    rule = exceeded(limit, "max_rule_instances", "instances in the import window")
                    raise CalendarTooLarge([Problem(path, rule)])
            # Doubling starts at the first instance: spans grown over an empty lead-in (a series starting
            # months into the window) would hand a dense rule its whole window at once.
            low, span = high, span * 2 if found else span
        return list(found.values())

    def _span(self, occurrence: icalendar.Component, zone: str, *, outwards: bool) -> _Resolved | None:
        """Start and end of one instance; None when it takes no time (also after the DST policy).

        Seconds round ``outwards`` (busy time: start down, end up) or inwards (open time).
        """
        begin = _get(occurrence, "DTSTART").dt
        end_value = _get(occurrence, "DTEND").dt if "DTEND" in occurrence else begin
        rounded = any(isinstance(v, dt.datetime) and (v.second or v.microsecond) for v in (begin, end_value))
        start = self._instant(begin, up=not outwards, zone=zone)
        original = self.components[str(occurrence[_REF])]
        duration = _get(original, "DURATION")
        if (
            duration is not None
            and isinstance(duration.dt, dt.timedelta)
            and _wall_length(begin, end_value) == duration.dt
        ):
            # RFC 5545 3.3.6: days and weeks are nominal (the same wall time days later), hours to seconds exact.
            nominal = dt.timedelta(days=duration.dt.days)
            base = self._instant(begin + nominal, up=not outwards, zone=zone) if nominal else start
            seconds = duration.dt.seconds
            end = base + (-(-seconds // 60) if outwards else seconds // 60)
            rounded = rounded or seconds % 60 != 0
        else:
            end = self._instant(end_value, up=outwards, zone=zone)
        if end <= start:
            return None
        return _Resolved(start, end, rounded)

    # -- busy time

    def _busy(self, occurrence: icalendar.Component) -> Busy | None:
        path = str(occurrence[_REF])
        span = self._span(occurrence, self.zone, outwards=True)
        if span is None:
            if self.window[0] <= self._instant(_get(occurrence, "DTSTART").dt) < self.window[1]:
                self._skip(path, "takes no time (also after the DST policy)")
            return None
        if not (span.start < self.window[1] and self.window[0] < span.end):
            return None  # expanded with a margin; a component with no instance at all is reported later
        kind = self._kind(occurrence)
        if isinstance(kind, str):
            self._skip(path, kind)
            return None
        if span.rounded:
            self.notes[f"{path}: seconds rounded outwards to whole minutes"] = None
        self.kept[path] += 1
        reserved = tuple(dict.fromkeys(_texts(occurrence, X_RESERVED_FOR)))
        common: dict[str, Any] = {
            "visit_number": self._visit_number(occurrence),
            "reserved_for": reserved,
            "release_before": _int(occurrence, X_RELEASE_BEFORE, 0, MAX_RELEASE_BEFORE),
        }
        if self.source.room is not None:
            return Busy(
                kind, span.start, span.end, location_id=self.source.location_id, room=self.source.room, **common
            )
        location_id = self._location(occurrence, path, strict=False) or self.source.location_id
        return Busy(
            kind,
            span.start,
            span.end,
            provider_id=self.source.provider_id,
            location_id=location_id,
            room=_text(occurrence, X_ROOM),
            **common,
        )

    def _visit_number(self, occurrence: icalendar.Component) -> str | None:
        number = _text(occurrence, X_VISIT_NUMBER) or _uid(occurrence)
        if number is None:
            return None
        original = self.components[str(occurrence[_REF])]
        if not any(p in original for p in ("RRULE", "RDATE", "RECURRENCE-ID")):
            return number
        # One series, many instances: each is told apart by its RECURRENCE-ID, as an instant.
        recurrence = _get(occurrence, "RECURRENCE-ID")
        if recurrence is None:
            return number
        instant = self._instant(recurrence.dt)
        return f"{number}#{zones.to_datetime(instant):%Y%m%dT%H%MZ}"

    # -- open time

    def _availability(
        self, availabilities: Sequence[tuple[str, icalendar.Component, list[tuple[str, icalendar.Component]]]]
    ) -> list[OpenTime]:
        if self.source.room is not None:
            for path, _, children in availabilities:
                self._skip(path, "rooms have no working hours in slotfinder (VAVAILABILITY of a room calendar ignored)")
                self.accounted.update(child_path for child_path, _ in children)
            return []
        ranges = []
        for _path, container, _children in availabilities:
            low = self._instant(_get(container, "DTSTART").dt) if "DTSTART" in container else -_FAR
            if "DTEND" in container:
                high = self._instant(_get(container, "DTEND").dt, up=True)
            elif "DURATION" in container and "DTSTART" in container:
                high = low + int(_get(container, "DURATION").dt.total_seconds() // 60)
            else:
                high = _FAR
            priority = int(_get(container, "PRIORITY", 0))
            ranges.append((low, high, priority or 10))  # RFC 7953: 1 is the highest, 0 (undefined) the lowest
        opened: list[OpenTime] = []
        for (path, _container, children), (low, high, rank) in zip(availabilities, ranges, strict=True):
            # Time of a higher-priority VAVAILABILITY belongs to it alone.
            masked = merge((lo, hi) for lo, hi, r in ranges if r < rank)
            allowed = subtract([(low, high)], masked) if low < high else []
            occurrences = self._expand([c for _, c in children], "AVAILABLE")
            for occurrence in occurrences:
                opened += self._open_times(occurrence, allowed)
            if not children:
                self._skip(path, "has no AVAILABLE: all its time is busy")
        return opened

    def _open_times(self, occurrence: icalendar.Component, allowed: list[Interval]) -> list[OpenTime]:
        path = str(occurrence[_REF])
        location_id = self._location(occurrence, path, strict=True)
        if location_id is None:
            return []
        zone = self.locations[location_id].time_zone
        span = self._span(occurrence, zone, outwards=False)
        start = span.start if span is not None else self._instant(_get(occurrence, "DTSTART").dt, zone=zone)
        date, _ = zones.local_of(zone, start)
        if not self.first <= date <= self.last:
            return []
        if span is None:
            self._skip(path, "takes no time (also after the DST policy)")
            return []
        visit_types = self._visit_types(occurrence, path)
        if visit_types is None:
            return []
        if span.rounded:
            self.notes[f"{path}: seconds rounded inwards to whole minutes"] = None
        step = _int(occurrence, X_SLOT_LENGTH, 1, MINUTES_PER_DAY) or self.default_slot_length
        pieces = [(max(lo, span.start), min(hi, span.end)) for lo, hi in allowed if lo < span.end and span.start < hi]
        made = []
        for lo, hi in pieces:
            start = lo
            if (lo, hi) != (span.start, span.end):
                if step is None:
                    self._skip(path, "a one-slot AVAILABLE cut by its VAVAILABILITY's bounds or priority")
                    continue
                start = span.start + -(-(lo - span.start) // step) * step  # stay on the AVAILABLE's grid
            if start < hi:
                made.append(
                    OpenTime(
                        provider_id=str(self.source.provider_id),
                        location_id=location_id,
                        start=start,
                        end=hi,
                        slot_length=step,
                        visit_types=visit_types,
                        room=_text(occurrence, X_ROOM),
                        source=_uid(occurrence),
                    )
                )
        if not made and not pieces:
            self._skip(path, "outside its VAVAILABILITY's time (bounds, or a higher PRIORITY)")
        if made:
            self.kept[path] += 1
        return made

    def _visit_types(self, occurrence: icalendar.Component, path: str) -> tuple[str, ...] | None:
        """Visit types from CATEGORIES (codes, or descriptions); () for every type; None: none known."""
        categories = _categories(occurrence)
        if not categories:
            return ()
        found: list[str] = []
        unknown = 0
        for category in categories:
            if category in self.codes:
                found.append(category)
            elif (code := self.by_description.get(category.casefold())) is not None and len(code) == 1:
                found.append(next(iter(code)))
            else:
                unknown += 1
        if not found:
            self._skip(path, "its CATEGORIES name no visit type of the clinic (not opened to every type)")
            return None
        if unknown:
            self.notes[f"{path}: {unknown} CATEGORIES value(s) name no visit type (ignored)"] = None
        return tuple(dict.fromkeys(found))


class _AvailableAdapter(recurring_ical_events.EventAdapter):  # type: ignore[misc]
    """Lets the expander walk RFC 7953 AVAILABLE components (DTSTART, DTEND or DURATION, like VEVENT)."""

    @staticmethod
    def component_name() -> str:
        return "AVAILABLE"


_EXPANSION_ERRORS = (ValueError, TypeError, KeyError, AttributeError, OverflowError)
