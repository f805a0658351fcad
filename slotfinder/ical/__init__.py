"""iCalendar (RFC 5545) in and out: provider and room calendars read under the DST policy, written back.

>>> items = read_ical(text, source, first, last)     # busy time and working hours of one calendar
>>> clinic = with_calendars(clinic, items)          # the engine then honours them
>>> write_ical(clinic, source, first, last)         # a calendar of the clinic as .ics text
"""

from slotfinder.ical._read import (
    CalendarSource,
    IcalItems,
    load_calendar_map,
    load_calendars,
    read_ical,
    read_ical_file,
    with_calendars,
)
from slotfinder.ical._write import write_ical

__all__ = [
    "CalendarSource",
    "IcalItems",
    "load_calendar_map",
    "load_calendars",
    "read_ical",
    "read_ical_file",
    "with_calendars",
    "write_ical",
]
