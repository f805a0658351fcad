"""iCalendar text to one parsed VCALENDAR, and typed access to its properties.

Separate from the reader because it knows nothing of clinics: it turns bytes into an ``icalendar``
component (or a :class:`~slotfinder._errors.InvalidClinic` naming the first unreadable line, without
quoting it), turns parser warnings into notes, and reads single properties (text, lists, minutes,
dates, time zones) the same way for the calendar map and for the reader.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Iterable, Iterator
from typing import Any, Final

import icalendar
from icalendar.cal.component_factory import ComponentFactory
from icalendar.parser.content_line import Contentline
from icalendar.parser.ical.component import ComponentIcalParser
from icalendar.parser.parameter import Parameters
from icalendar.prop import vBroken
from icalendar.timezone import tzids_from_tzinfo

from slotfinder._calendars import zones
from slotfinder._errors import InvalidClinic, Problem
from slotfinder._problems import RuleError

_COPY: Final = "\x00"  # joins a duplicated UID to the number that tells its copies apart


# ---- parsing ------------------------------------------------------------------------------------


_BARE: Final = frozenset({"VEVENT", "VAVAILABILITY", "VTIMEZONE"})  # what a file without VCALENDAR may hold


def _parse(data: bytes | str, name: str, *, bare: bool = False) -> icalendar.Component:
    """The file's one VCALENDAR; with ``bare``, VEVENT, VAVAILABILITY and VTIMEZONE components without a
    VCALENDAR around them (as some exporters write a single event) are read as one calendar."""
    return _parse_text(_text_of(data, name), name, bare=bare)[0]


# What icalendar raises on a text it cannot read: ValueError mostly, other errors on some shapes (a TZID
# given twice), and zoneinfo's OSError for a TZID too long to be a file name.
_TRIPS = (ValueError, TypeError, AttributeError, KeyError, IndexError, OSError)


def _text_of(data: bytes | str, name: str) -> str:
    try:  # text with a lone surrogate (a str not from UTF-8) is refused like bytes that are not UTF-8
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        return raw.decode("utf-8-sig")
    except (UnicodeDecodeError, UnicodeEncodeError):
        raise InvalidClinic([Problem(name, "is not UTF-8 text")]) from None


class _PropertyTolerantParser(ComponentIcalParser):
    """icalendar's parser, keeping a property value it cannot parse in every component, not only in VEVENT.

    icalendar records an unparsable value (``component.errors``, the value a ``vBroken``) only in the
    components it marks ``ignore_exceptions`` (VEVENT); in any other (VALARM, AVAILABLE, VAVAILABILITY,
    VTIMEZONE, VTODO) it raises, and one ``TRIGGER:PT-2H`` in an alarm refused the whole file. Recorded
    the same way everywhere, a broken value is what the checks make of it: ignored where the reader does
    not use it (an alarm, a to-do), the component's problem where it does (an AVAILABLE's DTSTART, a
    VTIMEZONE's offsets). Lines that are not content lines still raise.
    """

    def handle_property_parse_error(
        self, exception: Exception, name: str, params: Parameters, val: str, line: Contentline
    ) -> None:
        component = self.component
        if component is None or component.ignore_exceptions or name[:2].upper() == "X-":
            super().handle_property_parse_error(exception, name, params, val, line)
            return
        factory = self.get_factory_for_property(name, params)
        broken = vBroken.from_parse_error(
            raw_value=val,
            params=params,
            property_name=name,
            expected_type=getattr(factory, "__name__", "unknown"),
            error=exception,
        )
        component.errors.append((name, str(exception)))
        component.add(name, broken, encode=False)


def _components(data: bytes) -> list[icalendar.Component]:
    """Every top-level component of ``data``, parsed by :class:`_PropertyTolerantParser`."""
    return _PropertyTolerantParser(data, ComponentFactory(), icalendar.Component.types_factory).parse()


def _parse_text(text: str, name: str, *, bare: bool = False) -> tuple[icalendar.Component, bool]:
    """The VCALENDAR, and whether it was made around bare components (see :func:`_parse`)."""
    try:
        # Always bytes: icalendar reads a one-line str as a file path.
        components = _components(text.encode("utf-8"))
    except _TRIPS:
        line, rule = _bad_line(text)
        raise InvalidClinic([Problem(name if line is None else f"{name}:line {line}", rule)]) from None
    if bare and components and all(c.name in _BARE for c in components):
        calendar = icalendar.Calendar()
        for component in components:
            calendar.add_component(component)
        return calendar, True
    if len(components) != 1 or components[0].name != "VCALENDAR":
        line, rule = _bad_line(text)
        if line is not None:
            raise InvalidClinic([Problem(f"{name}:line {line}", rule)])
        if rule == _NOT_CLOSED:  # icalendar drops a component left open: say so rather than count VCALENDARs
            raise InvalidClinic([Problem(name, rule)])
        hint = "" if bare else "; bare VEVENTs are read only without strict"
        raise InvalidClinic(
            [Problem(name, f"must hold exactly one VCALENDAR (BEGIN:VCALENDAR ... END:VCALENDAR){hint}")]
        )
    return components[0], False


def _component_lines(text: str, name: str) -> dict[str, int]:
    """The line each VEVENT, VAVAILABILITY, VTIMEZONE and AVAILABLE begins on, by the path the reader gives it."""
    lines: dict[str, int] = {}
    counts: dict[str, int] = {"VEVENT": 0, "VAVAILABILITY": 0, "VTIMEZONE": 0}
    stack: list[str] = []
    available = 0
    for number, line in _logical_lines(text):
        head, _, value = line.partition(":")
        head, value = head.strip().upper(), value.strip().upper()
        if head == "END":
            if stack:
                stack.pop()
            continue
        if head != "BEGIN":
            continue
        outer = [c for c in stack if c != "VCALENDAR"]
        if not outer and value in counts:
            path = f"{name}:{value}[{counts[value]}]"
            counts[value] += 1
            lines[path] = number
            available = 0
        elif outer == ["VAVAILABILITY"] and value == "AVAILABLE":
            lines[f"{name}:VAVAILABILITY[{counts['VAVAILABILITY'] - 1}].AVAILABLE[{available}]"] = number
            available += 1
        stack.append(value)
    return lines


_NOT_CLOSED: Final = "a component is not closed (BEGIN without END)"
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
            except _TRIPS:
                return number, "is not an iCalendar content line (NAME;PARAMS:VALUE)"
        if head.upper() == "BEGIN":
            stack.append(value.strip().upper())
        elif head.upper() == "END" and (not stack or stack.pop() != value.strip().upper()):
            return number, "END does not close the component its BEGIN opened"
    if stack:
        return None, _NOT_CLOSED
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
        raise RuleError("must appear once")
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
        raise RuleError(f"must be a whole number of minutes, {low}..{high}")
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
