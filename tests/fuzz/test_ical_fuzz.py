"""Fuzzing iCalendar files: a mutated .ics is read (lenient: some components skipped) or refused with
InvalidClinic, in strict and lenient mode alike, never anything else, and nothing planted comes back.

Each example takes one of the files of ``tests/data/ical`` with a planted sentinel (a SUMMARY, an
ATTENDEE, a LOCATION: what carries patient names), then edits one to four of its content lines:
deletes, duplicates or swaps lines, gives a property a hostile value (a date that does not exist,
an RRULE that repeats every second, a TZID nobody knows, a negative DURATION), inserts a stray
BEGIN/END or a recurrence, or cuts the text short. Every file is read as Ana's calendar at the
clinic of ``tests/clinic_builders`` over a year; what is read is added to the clinic and searched.
``FUZZ_EXAMPLES`` sets how many examples each property draws (default 150). A long campaign, over
100,000 inputs in the whole directory: ``FUZZ_EXAMPLES=25000 HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/fuzz``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import slotfinder
from slotfinder.ical import CalendarSource, read_ical, with_calendars
from slotfinder.ical._sources import declared_source
from tests.clinic_builders import MAIN, NOW, P1, clinic, request
from tests.fuzz.hostile import SENTINEL, no_sentinel, preset, typed

PRESET = preset(150)
DATA = Path(__file__).resolve().parents[1] / "data" / "ical"
ANA = CalendarSource(MAIN.id, provider_id=P1.id, name="ana.ics")
FIRST, LAST = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
CLINIC = clinic()
LIMITS = slotfinder.Limits(max_rule_instances=500, max_import_items=5000)  # bounded work per example

_PLANTED = (f"SUMMARY:{SENTINEL}", f"ATTENDEE;CN={SENTINEL}:mailto:{SENTINEL}@example.com", f"LOCATION:{SENTINEL}")


def _planted(text: str) -> list[str]:
    lines = text.splitlines()
    at = [i for i, line in enumerate(lines) if line == "BEGIN:VEVENT"] or [len(lines) - 1]
    return lines[: at[0] + 1] + list(_PLANTED) + lines[at[0] + 1 :]


FILES = {path.name: _planted(path.read_text(encoding="utf-8")) for path in sorted(DATA.glob("*.ics"))}

_VALUES = [
    "", " ", SENTINEL, "\ud800", "\x00", "Z" * 300, "9" * 40, "-1", "0", "PT0M", "-P1D", "P99999999D", "PT1S",
    "20250230T100000", "20251301T100000Z", "20250101", "20250101T250000", "99991231T235959Z", "00010101T000000Z",
    "18991231T235959Z", "FREQ=SECONDLY", "FREQ=MINUTELY;INTERVAL=1", "FREQ=DAILY;INTERVAL=0", "FREQ=WEEKLY;COUNT=-1",
    "FREQ=YEARLY;BYMONTH=13", "FREQ=DAILY;UNTIL=2025", "FREQ=DAILY;BYSETPOS=0", "FREQ=HOURLY;BYDAY=1000MO",
    "FREE", "BUSY", "BUSY-UNAVAILABLE", "TENTATIVE", "CANCELLED", "TRANSPARENT", "-0600", "+2500", "America/Chicago",
]  # fmt: skip
_LINES = [
    "BEGIN:VEVENT", "END:VEVENT", "BEGIN:VCALENDAR", "END:VCALENDAR", "BEGIN:VTIMEZONE", "END:VTIMEZONE",
    "BEGIN:VAVAILABILITY", "BEGIN:AVAILABLE", "END:AVAILABLE", "RRULE:FREQ=SECONDLY", "RRULE:FREQ=MINUTELY",
    "RDATE:20250101T100000Z,99991231T000000Z", "EXDATE:20250230T100000", "DTSTART;TZID=Nowhere/Town:20250603T100000",
    f"DTSTART;TZID={SENTINEL}:20250603T100000", "DTSTART;VALUE=DATE:20250603", "DTEND:20250101T000000Z",
    "DURATION:-PT30M", "RECURRENCE-ID:20250603T100000Z", "X-SLOTFINDER-SLOT-LENGTH:0",
    "X-SLOTFINDER-SLOT-LENGTH:99999", f"X-SLOTFINDER-PROVIDER:{SENTINEL}", "CALSCALE:JULIAN", f"{SENTINEL}:{SENTINEL}",
    " folded continuation", ":", "",
]  # fmt: skip


@st.composite
def mutated_ics(draw: st.DrawFn) -> str:
    """One of the test calendars, with one to four line edits."""
    lines = list(FILES[draw(st.sampled_from(sorted(FILES)))])
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(["value", "value", "insert", "delete", "duplicate", "swap", "cut", "param"]))
        name, colon, _ = lines[at].partition(":")
        if edit == "value" and colon:
            lines[at] = f"{name}:{draw(st.sampled_from(_VALUES) | st.text(max_size=8))}"
        elif edit == "param" and colon:
            lines[at] = f"{name.split(';')[0]};TZID={draw(st.sampled_from(_VALUES))}:{lines[at].partition(':')[2]}"
        elif edit == "insert":
            lines.insert(at, draw(st.sampled_from(_LINES)))
        elif edit == "delete" and len(lines) > 1:
            del lines[at]
        elif edit == "duplicate":
            lines.insert(at, lines[at])
        elif edit == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif edit == "cut":
            return "\n".join(lines)[: draw(st.integers(0, len("\n".join(lines))))]
    return "\n".join(lines) + "\n"


@PRESET
@given(mutated_ics(), st.booleans(), st.booleans())
def test_mutated_calendars_read_or_raise_a_typed_error(text: str, strict: bool, as_bytes: bool) -> None:
    """Read, or refused with a SlotfinderError; what is read adds to a clinic that answers; nothing planted leaks."""
    data = text.encode("utf-8", "surrogatepass") if as_bytes else text
    try:
        items = read_ical(data, ANA, CLINIC, FIRST, LAST, strict=strict, limits=LIMITS)
    except Exception as error:
        typed(error, slotfinder.InvalidClinic)
        return
    no_sentinel(*items.skipped, *items.notes)
    result = slotfinder.find_slots(with_calendars(CLINIC, items), request(), now=NOW, relax=False)
    no_sentinel(result.reasons)


@PRESET
@given(mutated_ics())
def test_declared_owners_are_read_or_refused(text: str) -> None:
    """The X-SLOTFINDER properties of a mutated file name its owner or are refused with InvalidClinic."""
    try:
        declared_source(text, "mutated.ics")
    except Exception as error:
        typed(error, slotfinder.InvalidClinic)
