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

The public entry is this module; the work is done in private siblings, in pipeline order:
``ical_sources`` (what a calendar belongs to, the X- properties, the calendar map), ``ical_parse``
(text to a VCALENDAR, line errors, property getters), ``ical_context`` (the state a reading shares,
instants and locations), ``ical_check`` (checks before expansion) and ``ical_expand`` (expansion,
busy time and open time).
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
from pathlib import Path

import attrs

from slotfinder._domain import MINUTES_PER_DAY, Clinic
from slotfinder._errors import InvalidClinic
from slotfinder._limits import CalendarTooLarge, Limits, resolve, size_problem
from slotfinder._problems import Problems
from slotfinder.ical._expand import IcalItems, _Reader
from slotfinder.ical._parse import _component_lines, _parse_text, _text_of, _warning_notes
from slotfinder.ical._sources import (
    X_KIND,
    X_LOCATION,
    X_PROVIDER,
    X_RELEASE_BEFORE,
    X_RESERVED_FOR,
    X_ROOM,
    X_SLOT_LENGTH,
    X_VISIT_NUMBER,
    CalendarSource,
    check_source,
    declared_source,
    load_calendar_map,
)

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


# ---- public entry points ------------------------------------------------------------------------


def read_ical(
    data: bytes | str,
    source: CalendarSource,
    clinic: Clinic,
    first: dt.date,
    last: dt.date,
    *,
    default_slot_length: int | None = None,
    strict: bool = False,
    limits: Limits | None = None,
) -> IcalItems:
    """Busy time and open time of one calendar on local dates ``first``..``last`` (inclusive).

    Lenient by default: a component that cannot be read (no DTSTART, an unparsable date, an unknown
    TZID, a recurrence that cannot be expanded, ...) is listed in ``skipped`` with its path, its line
    and the rule it breaks, and the rest is read; bare VEVENT / VAVAILABILITY components without a
    VCALENDAR are read as one calendar. ``strict=True`` refuses the whole file instead (InvalidClinic
    with every problem), and requires the VCALENDAR. Problems of the file itself (not iCalendar, not
    UTF-8, not Gregorian, a broken VTIMEZONE) and of its owner are raised in both modes.

    Busy instances are kept when they overlap those dates at the source's location; AVAILABLE
    instances when they start on one of them at their own location. ``default_slot_length`` is the
    grid of an AVAILABLE without ``X-SLOTFINDER-SLOT-LENGTH`` (None: the span is one slot).
    Raises :class:`InvalidClinic` with every problem found (paths like ``ana.ics:VEVENT[3].DTSTART``).
    Past ``limits`` (file size; instances of one series in the window; instances of the file) it raises
    ``CalendarTooLarge`` (an InvalidClinic), in both modes: nothing of the file is returned.
    """
    limits = resolve(limits)
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    too_large = size_problem(size, limits.max_file_bytes, "max_file_bytes", source.name)
    if too_large is not None:
        raise CalendarTooLarge([too_large])
    if last < first:
        raise ValueError("last must not be before first")
    if default_slot_length is not None and not 0 < default_slot_length <= MINUTES_PER_DAY:
        raise ValueError("default_slot_length must be 1..1440 minutes")
    check_source(clinic, source)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = _text_of(data, source.name)
        calendar, bare = _parse_text(text, source.name, bare=not strict)
        lines = _component_lines(text, source.name)
        reader = _Reader(
            calendar, source, clinic, first, last, default_slot_length, strict=strict, lines=lines, limits=limits
        )
        items = reader.read()
    notes = (f"{source.name}: no VCALENDAR around the components: read as one calendar",) if bare else ()
    return attrs.evolve(items, notes=notes + items.notes + _warning_notes(source.name, caught))


def read_ical_file(
    path: str | os.PathLike[str],
    clinic: Clinic,
    first: dt.date,
    last: dt.date,
    source: CalendarSource | None = None,
    *,
    default_slot_length: int | None = None,
    strict: bool = False,
    limits: Limits | None = None,
) -> IcalItems:
    """:func:`read_ical` of a file; without ``source``, the file's own X-SLOTFINDER properties say whose it is."""
    file = Path(path)
    limit = resolve(limits).max_file_bytes
    too_large = size_problem(file.stat().st_size, limit, "max_file_bytes", file.name)
    if too_large is not None:  # refused before it is read into memory
        raise CalendarTooLarge([too_large])
    data = file.read_bytes()
    if source is None:
        source = declared_source(data, file.name)
    return read_ical(
        data, source, clinic, first, last, default_slot_length=default_slot_length, strict=strict, limits=limits
    )


def load_calendars(
    map_path: str | os.PathLike[str],
    clinic: Clinic,
    first: dt.date,
    last: dt.date,
    *,
    default_slot_length: int | None = None,
    strict: bool = False,
    limits: Limits | None = None,
) -> IcalItems:
    """Every calendar of a map, read and joined; problems of all files are reported together."""
    problems = Problems()
    items = IcalItems()
    for file, source in load_calendar_map(map_path):
        try:
            items += read_ical_file(
                file, clinic, first, last, source, default_slot_length=default_slot_length, strict=strict, limits=limits
            )
        except CalendarTooLarge:
            raise  # a limit stops the whole map at once: nothing is read past it
        except InvalidClinic as error:
            problems.extend(error.problems)
    problems.raise_if_any(InvalidClinic)
    return items


def with_calendars(clinic: Clinic, *items: IcalItems) -> Clinic:
    """``clinic`` with the open time and busy time of imported calendars added."""
    return attrs.evolve(
        clinic,
        open_times=clinic.open_times + tuple(o for i in items for o in i.open_times),
        busy=clinic.busy + tuple(b for i in items for b in i.busy),
    )
