"""iCalendar (RFC 5545 events, RFC 7953 availability) read into busy time and open time.

A provider's or a room's calendar arrives as an ``.ics`` file. Its ``VEVENT`` components are busy
time; the ``AVAILABLE`` components of its ``VAVAILABILITY`` components are working hours (open time).
Recurrences (RRULE, RDATE, EXDATE, RECURRENCE-ID overrides) are expanded by ``recurring_ical_events``
on top of ``icalendar``'s parser; nothing here parses iCalendar text or rules by hand.

The DST policy of ``calendars.zones`` applies to every instance: the expander yields each instance's
*nominal* wall time in its TZID (02:30 on a night that skips 02:00-03:00 comes out as 02:30, not
shifted), and that wall time is resolved by ``zones.instant_of`` (02:30 becomes 03:30 EDT; a repeated
01:30 takes the earlier instant). Floating times use the location's zone, UTC times are instants as
they stand. See ``docs/icalendar.md`` for every mapping and its limits.

What a calendar belongs to (a :class:`CalendarSource`) comes from a calendar map file (JSON) or from
the calendar's own ``X-SLOTFINDER-PROVIDER`` / ``X-SLOTFINDER-ROOM`` / ``X-SLOTFINDER-LOCATION``
properties; a map entry wins over the file.

Messages (problems, skipped items, notes) name the file and the component (``ana.ics:VEVENT[3].DTSTART``)
and never repeat text from the file: SUMMARY and DESCRIPTION may hold patient names.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import attrs
import icalendar
import recurring_ical_events
from icalendar.timezone import tzids_from_tzinfo

from slotfinder.calendars import zones
from slotfinder.calendars.intervals import Interval, merge, subtract
from slotfinder.domain import MINUTES_PER_DAY, Busy, BusyKind, Clinic, Location, OpenTime
from slotfinder.errors import InvalidClinic, Problem

__all__ = [
    "X_KIND",
    "X_LOCATION",
    "X_PROVIDER",
    "X_RELEASE_BEFORE",
    "X_RESERVED_FOR",
    "X_ROOM",
    "X_SLOT_LENGTH",
    "X_VISIT_NUMBER",
    "CalendarSource",
    "IcalItems",
    "check_source",
    "declared_source",
    "load_calendar_map",
    "load_calendars",
    "read_ical",
    "read_ical_file",
    "with_calendars",
]

# Calendar properties: what the calendar belongs to.
X_PROVIDER: Final = "X-SLOTFINDER-PROVIDER"
X_ROOM: Final = "X-SLOTFINDER-ROOM"  # also on VEVENT / AVAILABLE of a provider calendar: the room it uses
X_LOCATION: Final = "X-SLOTFINDER-LOCATION"  # also on VEVENT / AVAILABLE: a location id (wins over LOCATION)
# Component properties.
X_SLOT_LENGTH: Final = "X-SLOTFINDER-SLOT-LENGTH"  # AVAILABLE: grid step of starts, minutes
X_KIND: Final = "X-SLOTFINDER-KIND"  # VEVENT: booking, hold, block, out_of_office
X_RESERVED_FOR: Final = "X-SLOTFINDER-RESERVED-FOR"  # VEVENT (blocks): visit type codes, comma separated
X_RELEASE_BEFORE: Final = "X-SLOTFINDER-RELEASE-BEFORE"  # VEVENT (reserved blocks): minutes
X_VISIT_NUMBER: Final = "X-SLOTFINDER-VISIT-NUMBER"  # VEVENT: the visit number (else the UID)

# Marks each parsed component with its path, so an expanded instance (a copy) knows where it came from.
_REF: Final = "X-SLOTFINDER-INTERNAL-REF"
_COPY: Final = "\x00"  # joins a duplicated UID to the number that tells its copies apart
_FAR: Final = 1 << 62  # an instant beyond any calendar: the open end of an unbounded VAVAILABILITY
_KINDS: Final = {"booking": BusyKind.BOOKING, "hold": BusyKind.HOLD, "block": BusyKind.BLOCK}
_KINDS_PROVIDER: Final = {**_KINDS, "out_of_office": BusyKind.OUT_OF_OFFICE}
_OUT_OF_OFFICE_WORDS: Final = frozenset(
    {"out of office", "out-of-office", "ooo", "oof", "vacation", "holiday", "leave"}
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
_MAP_KEYS: Final = frozenset({"file", "provider_id", "room", "location_id"})


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


@attrs.frozen
class CalendarSource:
    """What a calendar belongs to: one provider or one room, at a location.

    ``location_id`` is the provider calendar's default location (an event or AVAILABLE without a
    LOCATION is there) or the room's location. ``name`` labels messages (usually the file name).
    """

    location_id: str
    provider_id: str | None = None
    room: str | None = None
    name: str = "calendar.ics"

    def __attrs_post_init__(self) -> None:
        if (self.provider_id is None) == (self.room is None):
            raise ValueError("a calendar belongs to exactly one of a provider (provider_id) or a room (room)")


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


# ---- public entry points ------------------------------------------------------------------------


def read_ical(
    data: bytes | str,
    source: CalendarSource,
    clinic: Clinic,
    first: dt.date,
    last: dt.date,
    *,
    default_slot_length: int | None = None,
) -> IcalItems:
    """Busy time and open time of one calendar on local dates ``first``..``last`` (inclusive).

    Busy instances are kept when they overlap those dates at the source's location; AVAILABLE
    instances when they start on one of them at their own location. ``default_slot_length`` is the
    grid of an AVAILABLE without ``X-SLOTFINDER-SLOT-LENGTH`` (None: the span is one slot).
    Raises :class:`InvalidClinic` with every problem found (paths like ``ana.ics:VEVENT[3].DTSTART``).
    """
    if last < first:
        raise ValueError("last must not be before first")
    if default_slot_length is not None and not 0 < default_slot_length <= MINUTES_PER_DAY:
        raise ValueError("default_slot_length must be 1..1440 minutes")
    check_source(clinic, source)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        calendar = _parse(data, source.name)
        items = _Reader(calendar, source, clinic, first, last, default_slot_length).read()
    return attrs.evolve(items, notes=items.notes + _warning_notes(source.name, caught))


def read_ical_file(
    path: str | os.PathLike[str],
    clinic: Clinic,
    first: dt.date,
    last: dt.date,
    source: CalendarSource | None = None,
    *,
    default_slot_length: int | None = None,
) -> IcalItems:
    """:func:`read_ical` of a file; without ``source``, the file's own X-SLOTFINDER properties say whose it is."""
    file = Path(path)
    data = file.read_bytes()
    if source is None:
        source = declared_source(data, file.name)
    return read_ical(data, source, clinic, first, last, default_slot_length=default_slot_length)


def declared_source(data: bytes | str, name: str) -> CalendarSource:
    """The source a calendar declares with X-SLOTFINDER-PROVIDER or -ROOM, and X-SLOTFINDER-LOCATION."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        declared = _declared(_parse(data, name), name)
    return _complete_source(declared, name, name)


def check_source(clinic: Clinic, source: CalendarSource) -> None:
    """Raise :class:`InvalidClinic` unless the source's provider, location and room exist in ``clinic``."""
    problems = []
    location = next((loc for loc in clinic.locations if loc.id == source.location_id), None)
    if location is None:
        problems.append(Problem(source.name, "its location (X-SLOTFINDER-LOCATION / location_id) is not in the clinic"))
    if source.provider_id is not None and all(p.id != source.provider_id for p in clinic.providers):
        problems.append(Problem(source.name, "its provider (X-SLOTFINDER-PROVIDER / provider_id) is not in the clinic"))
    if source.room is not None and location is not None and source.room not in location.rooms:
        problems.append(Problem(source.name, "its room (X-SLOTFINDER-ROOM / room) is not a room of its location"))
    if problems:
        raise InvalidClinic(problems)


def load_calendar_map(path: str | os.PathLike[str]) -> list[tuple[Path, CalendarSource]]:
    """The calendar files a map lists, each with what it belongs to (see ``docs/icalendar.md``).

    The map is a JSON list of ``{"file", "provider_id" | "room", "location_id"}``; ``file`` is relative
    to the map. A key left out is taken from the file's own X-SLOTFINDER properties (so the file is read
    then); a key given in the map wins over the file.
    """
    map_path = Path(path)
    label = map_path.name
    try:
        raw = json.loads(map_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InvalidClinic(
            [Problem(f"{label}:$", f"is not JSON (line {error.lineno}, column {error.colno})")]
        ) from None
    except UnicodeDecodeError:
        raise InvalidClinic([Problem(f"{label}:$", "is not UTF-8 text")]) from None
    if not isinstance(raw, list):
        raise InvalidClinic([Problem(f"{label}:$", "must be a list of calendar entries")])
    problems: list[Problem] = []
    found: list[tuple[Path, CalendarSource]] = []
    for i, entry in enumerate(raw):
        where = f"{label}:$[{i}]"
        try:
            found.append(_map_entry(entry, where, map_path.parent))
        except InvalidClinic as error:
            problems += error.problems
    if problems:
        raise InvalidClinic(problems)
    return found


def load_calendars(
    map_path: str | os.PathLike[str],
    clinic: Clinic,
    first: dt.date,
    last: dt.date,
    *,
    default_slot_length: int | None = None,
) -> IcalItems:
    """Every calendar of a map, read and joined; problems of all files are reported together."""
    problems: list[Problem] = []
    items = IcalItems()
    for file, source in load_calendar_map(map_path):
        try:
            items += read_ical(file.read_bytes(), source, clinic, first, last, default_slot_length=default_slot_length)
        except InvalidClinic as error:
            problems += error.problems
    if problems:
        raise InvalidClinic(problems)
    return items


def with_calendars(clinic: Clinic, *items: IcalItems) -> Clinic:
    """``clinic`` with the open time and busy time of imported calendars added."""
    return attrs.evolve(
        clinic,
        open_times=clinic.open_times + tuple(o for i in items for o in i.open_times),
        busy=clinic.busy + tuple(b for i in items for b in i.busy),
    )


# ---- sources and the map ------------------------------------------------------------------------


def _declared(calendar: icalendar.Component, name: str) -> dict[str, str]:
    declared: dict[str, str] = {}
    problems: list[Problem] = []
    for prop, key in ((X_PROVIDER, "provider_id"), (X_ROOM, "room"), (X_LOCATION, "location_id")):
        try:
            value = _text(calendar, prop)
        except _Broken as error:
            problems.append(Problem(f"{name}:VCALENDAR.{prop}", error.rule))
            continue
        if value is not None:
            declared[key] = value
    if "provider_id" in declared and "room" in declared:
        problems.append(Problem(f"{name}:VCALENDAR", f"declares both {X_PROVIDER} and {X_ROOM}; a calendar is one's"))
    if problems:
        raise InvalidClinic(problems)
    return declared


def _complete_source(values: Mapping[str, str], name: str, where: str) -> CalendarSource:
    problems = []
    if "provider_id" not in values and "room" not in values:
        problems.append(Problem(where, f"names no provider or room (provider_id / room, or {X_PROVIDER} / {X_ROOM})"))
    if "location_id" not in values:
        problems.append(Problem(where, f"names no location (location_id, or {X_LOCATION})"))
    if problems:
        raise InvalidClinic(problems)
    return CalendarSource(
        location_id=values["location_id"], provider_id=values.get("provider_id"), room=values.get("room"), name=name
    )


def _map_entry(entry: object, where: str, base: Path) -> tuple[Path, CalendarSource]:
    if not isinstance(entry, dict):
        raise InvalidClinic([Problem(where, "must be an object with file, provider_id or room, and location_id")])
    problems = [Problem(f"{where}.{k}" if re.fullmatch(r"[A-Za-z_]{1,40}", k) else where, "unknown key") for k in entry
                if k not in _MAP_KEYS]  # fmt: skip
    given: dict[str, str] = {}
    for key in sorted(_MAP_KEYS & entry.keys()):
        value = entry[key]
        if value is None and key != "file":
            continue
        if not isinstance(value, str) or not value.strip():
            problems.append(Problem(f"{where}.{key}", "must be a non-empty string"))
        else:
            given[key] = value
    if "file" not in entry:
        problems.append(Problem(f"{where}.file", "is required"))
    if "provider_id" in given and "room" in given:
        problems.append(Problem(where, "names both provider_id and room; a calendar is one's"))
    if problems:
        raise InvalidClinic(problems)
    file = base / given.pop("file")
    name = file.relative_to(base).as_posix()
    owner_known = "provider_id" in given or "room" in given
    if not owner_known or "location_id" not in given:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            declared = _declared(_parse(file.read_bytes(), name), name)
        if owner_known:  # the map's owner wins as a whole: a declared room does not join a mapped provider
            declared.pop("provider_id", None)
            declared.pop("room", None)
        given = {**declared, **given}
    return file, _complete_source(given, name, where)


# ---- parsing ------------------------------------------------------------------------------------


class _Broken(ValueError):
    """A property that cannot be read; ``rule`` says why without quoting it."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


def _parse(data: bytes | str, name: str) -> icalendar.Component:
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidClinic([Problem(name, "is not UTF-8 text")]) from None
    try:
        # Always bytes: icalendar reads a one-line str as a file path.
        components = icalendar.Component.from_ical(text.encode("utf-8"), multiple=True)
    except ValueError:
        line, rule = _bad_line(text)
        raise InvalidClinic([Problem(name if line is None else f"{name}:line {line}", rule)]) from None
    if len(components) != 1 or components[0].name != "VCALENDAR":
        line, rule = _bad_line(text)
        if line is not None:
            raise InvalidClinic([Problem(f"{name}:line {line}", rule)])
        raise InvalidClinic([Problem(name, "must hold exactly one VCALENDAR (BEGIN:VCALENDAR ... END:VCALENDAR)")])
    return components[0]


_CONTENT_LINE = re.compile(r"[A-Za-z0-9-]+(;[^:]*)?:")


def _bad_line(text: str) -> tuple[int | None, str]:
    """The first line that makes the text unreadable, and why (never quoting it)."""
    stack: list[str] = []
    for number, line in _logical_lines(text):
        if not _CONTENT_LINE.match(line):
            return number, "is not an iCalendar content line (NAME;PARAMS:VALUE)"
        head, _, value = line.partition(":")
        if head.upper() not in ("BEGIN", "END"):
            try:
                icalendar.Component.from_ical(f"BEGIN:X-LINE\r\n{line}\r\nEND:X-LINE\r\n".encode())
            except ValueError:
                return number, "is not an iCalendar content line (NAME;PARAMS:VALUE)"
        if head.upper() == "BEGIN":
            stack.append(value.strip().upper())
        elif head.upper() == "END" and (not stack or stack.pop() != value.strip().upper()):
            return number, "END does not close the component its BEGIN opened"
    if stack:
        return None, "a component is not closed (BEGIN without END)"
    return None, "is not iCalendar (RFC 5545) content"


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Unfolded lines (RFC 5545 3.1) with the 1-based number of the physical line each starts on."""
    current: str | None = None
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line[:1] in (" ", "\t") and current is not None:
            current += line[1:]
            continue
        if current:
            yield start, current
        current, start = line, number
    if current:
        yield start, current


def _warning_notes(name: str, caught: Iterable[warnings.WarningMessage]) -> tuple[str, ...]:
    """Parser and expander warnings as notes (by category only: a message may quote the file); others go on."""
    notes = []
    for warning in caught:
        if warning.category.__name__ == "GloballyUniqueTZIDGuessed":
            notes.append(f"{name}: a vendor-prefixed TZID was read as the IANA zone at its end (icalendar's guess)")
        elif any(part in warning.filename for part in ("icalendar", "recurring_ical_events", "dateutil")):
            notes.append(f"{name}: the iCalendar parser or expander warned ({warning.category.__name__})")
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return tuple(dict.fromkeys(notes))


# ---- property access ----------------------------------------------------------------------------


def _get(component: icalendar.Component, prop: str, default: Any = None) -> Any:
    """A property's parsed value (icalendar types it as a union of every value class)."""
    return component.get(prop, default)


def _text(component: icalendar.Component, prop: str) -> str | None:
    """A single text value, stripped; None when absent or empty."""
    value = _get(component, prop)
    if value is None:
        return None
    if isinstance(value, list):
        raise _Broken("must appear once")
    text = str(value).strip()
    return text or None


def _texts(component: icalendar.Component, prop: str) -> list[str]:
    """Comma-separated text values of every occurrence of ``prop``."""
    value = _get(component, prop)
    if value is None:
        return []
    out: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        out += [part.strip() for part in str(item).split(",") if part.strip()]
    return out


def _uid(component: icalendar.Component) -> str | None:
    """The UID as the file gives it (a duplicate's distinguishing suffix removed)."""
    uid = _text(component, "UID")
    return None if uid is None else uid.split(_COPY)[0]


def _categories(component: icalendar.Component) -> list[str]:
    value = _get(component, "CATEGORIES")
    if value is None:
        return []
    out: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        cats = getattr(item, "cats", None)
        out += [str(c).strip() for c in (cats if cats is not None else [item]) if str(c).strip()]
    return out


def _int(component: icalendar.Component, prop: str, low: int, high: int) -> int | None:
    text = _text(component, prop)
    if text is None:
        return None
    if not re.fullmatch(r"\d{1,5}", text) or not low <= int(text) <= high:
        raise _Broken(f"must be a whole number of minutes, {low}..{high}")
    return int(text)


def _dt_values(component: icalendar.Component, prop: str) -> list[Any]:
    """Every date, date-time or period start of a (possibly repeated, possibly list) date property."""
    value = _get(component, prop)
    if value is None:
        return []
    out: list[Any] = []
    for item in value if isinstance(value, list) else [value]:
        dts = getattr(item, "dts", None)
        for one in dts if dts is not None else [item]:
            moment = one.dt
            out.append((item.params, moment[0] if isinstance(moment, tuple) else moment))
    return out


def _iana(tzinfo: dt.tzinfo) -> str | None:
    """The IANA name of a tzinfo icalendar gave (ZoneInfo, a mapped Windows name, UTC), else None."""
    key = getattr(tzinfo, "key", None)
    if isinstance(key, str) and zones.check_zone(key):
        return key
    return next((tzid for tzid in tzids_from_tzinfo(tzinfo) if zones.check_zone(tzid)), None)


# ---- the reader ---------------------------------------------------------------------------------


@attrs.frozen
class _Resolved:
    """An instance's span in instants, and whether seconds were rounded away."""

    start: int
    end: int
    rounded: bool


class _Reader:
    """One calendar read against one clinic over one window of local dates."""

    def __init__(
        self,
        calendar: icalendar.Component,
        source: CalendarSource,
        clinic: Clinic,
        first: dt.date,
        last: dt.date,
        default_slot_length: int | None,
    ) -> None:
        self.calendar = calendar
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
        self.problems: list[Problem] = []
        self.skips: Counter[tuple[str, str]] = Counter()
        self.notes: dict[str, None] = {}
        self.kept: Counter[str] = Counter()
        self.accounted: set[str] = set()  # components a skip reason already covers
        self.components: dict[str, icalendar.Component] = {}
        self.timezones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]

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
                self._check(component, path, available=False, bounds=True)
                children = []
                for k, child in enumerate(c for c in component.subcomponents if c.name == "AVAILABLE"):
                    children.append((f"{path}.AVAILABLE[{k}]", child))
                    self._mark(child, f"{path}.AVAILABLE[{k}]")
                availabilities.append((path, component, children))
            elif component.name == "VTIMEZONE":
                if any(c.name not in ("STANDARD", "DAYLIGHT") for c in component.subcomponents):
                    path = f"{self.name}:VTIMEZONE"
                    self.problems.append(Problem(path, "may hold STANDARD and DAYLIGHT only (an END line is missing?)"))
            else:
                others[str(component.name)] += 1
        for path, event in events:
            self._check(event, path, available=False)
        for _, _, children in availabilities:
            for path, child in children:
                self._check(child, path, available=True)
        if self.problems:
            raise InvalidClinic(self.problems)
        self._check_duplicate_uids([e for _, e in events])
        for _, _, children in availabilities:
            self._check_duplicate_uids([c for _, c in children])

        occurrences = self._expand([e for _, e in events], "VEVENT")
        busy = [b for occurrence in occurrences if (b := self._busy(occurrence)) is not None]
        open_times = self._availability(availabilities)
        if self.problems:
            raise InvalidClinic(self.problems)
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

    def _mark(self, component: icalendar.Component, path: str) -> None:
        component[_REF] = path  # copied into every instance the expander makes of it
        self.components[path] = component

    def _skip(self, path: str, why: str) -> None:
        self.skips[(path, why)] += 1
        self.accounted.add(path)

    # -- checks before expansion

    def _check(self, component: icalendar.Component, path: str, *, available: bool, bounds: bool = False) -> None:
        repeated = [
            Problem(f"{path}.{prop}", "must appear once") for prop in _ONCE if isinstance(_get(component, prop), list)
        ]
        if repeated:
            self.problems += repeated
            return
        problems: list[Problem] = []
        allowed_inside = () if available or bounds else ("VALARM",)
        if bounds:
            allowed_inside = ("AVAILABLE",)
        if any(c.name not in allowed_inside for c in component.subcomponents):
            inside = ", ".join(allowed_inside) or "no component"
            problems.append(Problem(path, f"may hold {inside} inside (an END line is missing or misplaced?)"))
        broken = {prop for prop, _ in component.errors if prop is not None}
        for prop in sorted(broken & _READ_PROPERTIES.keys()):
            problems.append(Problem(f"{path}.{prop}", _READ_PROPERTIES[prop]))
        if "DTSTART" not in component and not bounds:
            problems.append(Problem(f"{path}.DTSTART", "is required"))
        if "DTEND" in component and "DURATION" in component:
            problems.append(Problem(f"{path}.DURATION", "DTEND and DURATION must not both be given"))
        for prop in _DATE_PROPERTIES:
            if prop not in broken:
                problems += self._check_zones(component, prop, f"{path}.{prop}")
        if not problems:
            problems += self._check_span(component, path)
        problems += self._check_extensions(component, path, available=available, bounds=bounds)
        self.problems += problems

    def _check_zones(self, component: icalendar.Component, prop: str, path: str) -> list[Problem]:
        try:
            values = _dt_values(component, prop)
        except (ValueError, TypeError, AttributeError):
            return [Problem(path, _READ_PROPERTIES.get(prop, "cannot be read"))]
        for params, value in values:
            if not isinstance(value, dt.datetime):
                continue
            if value.tzinfo is None and "TZID" in params:
                return [Problem(path, "its TZID names no time zone (an IANA or Windows name, or a VTIMEZONE)")]
            if value.tzinfo is not None and _iana(value.tzinfo) is None and not isinstance(value.tzinfo, dt.timezone):
                return [Problem(path, "its TZID has no IANA equivalent: wall times resolve only in IANA zones")]
        return []

    def _check_span(self, component: icalendar.Component, path: str) -> list[Problem]:
        start = _get(component, "DTSTART")
        if start is None:
            return []
        begin = start.dt
        if "DURATION" in component:
            duration = _get(component, "DURATION").dt
            if not isinstance(duration, dt.timedelta) or duration < dt.timedelta(0):
                return [Problem(f"{path}.DURATION", "must not be negative")]
        elif "DTEND" in component:
            end = _get(component, "DTEND").dt
            if isinstance(begin, dt.datetime) != isinstance(end, dt.datetime):
                return [Problem(f"{path}.DTEND", "must be a DATE when DTSTART is one, a DATE-TIME when it is one")]
            # On one clock, compared as the file writes them (the DST policy may still leave no time).
            if _same_clock(begin, end):
                backwards = _wall_length(begin, end) < dt.timedelta(0)
            else:
                backwards = self._instant(end, up=True) < self._instant(begin)
            if backwards:
                return [Problem(f"{path}.DTEND", "must not be before DTSTART")]
        return []

    def _check_extensions(
        self, component: icalendar.Component, path: str, *, available: bool, bounds: bool
    ) -> list[Problem]:
        problems: list[Problem] = []
        if bounds:
            return problems
        try:
            explicit = _text(component, X_LOCATION)
            if explicit is not None and explicit not in self.locations:
                problems.append(Problem(f"{path}.{X_LOCATION}", "names no location of the clinic"))
            room = _text(component, X_ROOM)
            if room is not None and self.source.provider_id is not None and not problems:
                location_id = self._location(component, path, strict=False) or self.source.location_id
                if room not in self.locations[location_id].rooms:
                    problems.append(Problem(f"{path}.{X_ROOM}", "is not a room of the component's location"))
            _text(component, "LOCATION")
            _text(component, "UID")
        except _Broken as error:
            problems.append(Problem(path, f"a property the reader uses (UID, LOCATION, X-SLOTFINDER-*) {error.rule}"))
        if available:
            try:
                _int(component, X_SLOT_LENGTH, 1, MINUTES_PER_DAY)
            except _Broken as error:
                problems.append(Problem(f"{path}.{X_SLOT_LENGTH}", error.rule))
            return problems
        try:
            kind_text = _text(component, X_KIND)
        except _Broken as error:
            return [*problems, Problem(f"{path}.{X_KIND}", error.rule)]
        if kind_text is not None and kind_text.casefold() not in _KINDS_PROVIDER:
            problems.append(Problem(f"{path}.{X_KIND}", "must be booking, hold, block or out_of_office"))
        reserved = _texts(component, X_RESERVED_FOR)
        if any(code not in self.codes for code in reserved):
            problems.append(Problem(f"{path}.{X_RESERVED_FOR}", "names a visit type code the clinic does not have"))
        try:
            release = _int(component, X_RELEASE_BEFORE, 0, 10**6)
        except _Broken as error:
            problems.append(Problem(f"{path}.{X_RELEASE_BEFORE}", error.rule))
            release = None
        if release is not None and not reserved:
            problems.append(Problem(f"{path}.{X_RELEASE_BEFORE}", f"needs {X_RESERVED_FOR}"))
        kind = self._kind(component) if not problems else None
        if reserved and isinstance(kind, BusyKind) and kind is not BusyKind.BLOCK:
            problems.append(
                Problem(f"{path}.{X_RESERVED_FOR}", "only a block may be reserved (X-SLOTFINDER-KIND:block)")
            )
        return problems

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
            if len(same) < 2:
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
            found = recurring_ical_events.CalendarQuery(container, components=[selector]).between(low, high)
            return [o for o in found if _REF in o]  # never anything unchecked (refused above; here for safety)

        try:
            return expand(members)
        except _EXPANSION_ERRORS:
            pass
        # Find the series that breaks the expansion, to name it.
        by_uid: dict[str, list[icalendar.Component]] = defaultdict(list)
        for member in members:
            by_uid[str(_uid(member) or member[_REF])].append(member)
        found: list[icalendar.Component] = []
        for series in by_uid.values():
            try:
                found += expand(series)
            except _EXPANSION_ERRORS:
                self.problems.append(
                    Problem(
                        str(series[0][_REF]), "its recurrence (RRULE, RDATE, EXDATE, RECURRENCE-ID) cannot be expanded"
                    )
                )
        return found

    def _instant(self, value: dt.date | dt.datetime, *, up: bool = False, zone: str | None = None) -> int:
        """The instant of a DATE or DATE-TIME under the DST policy (floating and DATE: at ``zone``)."""
        local_zone = zone or self.zone
        if not isinstance(value, dt.datetime):
            return zones.instant_of(local_zone, value, 0)
        extra = 1 if up and (value.second or value.microsecond) else 0
        tzinfo = value.tzinfo
        if tzinfo is None:
            return zones.instant_of(local_zone, value.date(), value.hour * 60 + value.minute + extra)
        name = _iana(tzinfo)
        if name is None or value.fold:
            # A fixed offset, or fold=1 (the second of a repeated hour, which only a conversion from an
            # instant produces, never a wall time in the file): the instant is exact.
            seconds = (value - zones.EPOCH).total_seconds()
            return int(seconds // 60) + (1 if up and seconds % 60 else 0)
        return zones.instant_of(name, value.date(), value.hour * 60 + value.minute + extra)

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
            "release_before": _int(occurrence, X_RELEASE_BEFORE, 0, 10**6),
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


def _wall_length(begin: dt.date | dt.datetime, end: dt.date | dt.datetime) -> dt.timedelta:
    """The wall-clock length the expander put between an instance's DTSTART and DTEND."""
    if isinstance(begin, dt.datetime) and isinstance(end, dt.datetime):
        return end.replace(tzinfo=None) - begin.replace(tzinfo=None)
    if isinstance(begin, dt.datetime) or isinstance(end, dt.datetime):
        return dt.timedelta(-1)
    return end - begin


def _same_clock(begin: dt.date | dt.datetime, end: dt.date | dt.datetime) -> bool:
    """Both dates, both floating, or both in one zone: compared as wall times."""
    if not (isinstance(begin, dt.datetime) and isinstance(end, dt.datetime)):
        return True
    return begin.tzinfo is end.tzinfo or (begin.tzinfo is not None and begin.tzinfo == end.tzinfo)


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
