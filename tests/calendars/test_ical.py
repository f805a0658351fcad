"""iCalendar import and export: what a calendar allows, what it forbids, and where a problem is.

The files live in ``tests/data/ical``; smaller calendars are written inline with :func:`ics`. The
clinic is the one of ``tests/clinic_builders`` (``P1`` and ``P2`` at ``MAIN``, Chicago; ``ANNEX``).
Instants are written as ISO date-times with their offset, so a test states the wall time it means.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, note
from hypothesis import settings as hsettings

from slotfinder import list_candidates
from slotfinder._calendars import zones
from slotfinder._calendars.clinic_file import demo_clinic
from slotfinder._calendars.expand import expand_blocks
from slotfinder._domain import Busy, BusyKind, Clinic, OpenTime
from slotfinder._errors import InvalidClinic, Problem
from slotfinder._settings import Settings
from slotfinder.ical._read import (
    CalendarSource,
    IcalItems,
    declared_source,
    load_calendar_map,
    load_calendars,
    read_ical,
    read_ical_file,
    with_calendars,
)
from slotfinder.ical._write import write_ical
from tests.clinic_builders import ANNEX, MAIN, MONDAY, NOW, P1, P2, at, clinic, day, offered, request
from tests.strategies import Scenario, scenarios

DATA = Path(__file__).resolve().parents[1] / "data" / "ical"
ANA = CalendarSource(MAIN.id, provider_id=P1.id, name="ana.ics")
SECRET = "Jane Q. Patient"  # a SUMMARY that must never reach a message
STAMP = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def minutes(iso: str) -> int:
    """An ISO date-time with offset as an instant."""
    return int((dt.datetime.fromisoformat(iso) - zones.EPOCH) // dt.timedelta(minutes=1))


def ics(*components: str, header: str = "") -> str:
    """A VCALENDAR around ``components`` (each the lines inside one VEVENT, or a whole component)."""
    body = []
    for component in components:
        text = component.strip()
        body.append(
            text if text.startswith("BEGIN:") else f"BEGIN:VEVENT\nDTSTAMP:20250101T000000Z\n{text}\nEND:VEVENT"
        )
    head = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//slotfinder tests//EN\n{header.strip()}\n".replace("\n\n", "\n")
    return head + "\n".join(body) + "\nEND:VCALENDAR\n"


def read(
    text: str,
    first: dt.date = MONDAY,
    last: dt.date | None = None,
    source: CalendarSource = ANA,
    *,
    strict: bool = False,
) -> IcalItems:
    """``read_ical`` against the builders' clinic, by default over the week of ``MONDAY``."""
    return read_ical(text, source, clinic(), first, last or first + dt.timedelta(days=6), strict=strict)


def spans(items: IcalItems) -> list[tuple[int, int]]:
    """Busy spans, in order."""
    return [(b.start, b.end) for b in items.busy]


def problems(text: str, source: CalendarSource = ANA) -> tuple[Problem, ...]:
    """The problems reading ``text`` raises in strict mode (it must raise)."""
    with pytest.raises(InvalidClinic) as caught:
        read(text, source=source, strict=True)
    return caught.value.problems


# ---- DST: every instance follows the project's policy ---------------------------------------


def test_weekly_rule_keeps_nine_local_across_spring_forward_and_fall_back() -> None:
    """A weekly 09:00 New York meeting is at 09:00 on the clock in EST, in EDT, and in EST again."""
    source = declared_source((DATA / "dst.ics").read_bytes(), "dst.ics")
    items = read_ical((DATA / "dst.ics").read_bytes(), source, clinic(), dt.date(2025, 3, 3), dt.date(2025, 11, 10))
    weekly = [b for b in items.busy if (b.visit_number or "").startswith("weekly-monday-nine")]
    assert len(weekly) == 37
    assert (weekly[0].start, weekly[0].end) == (minutes("2025-03-03T09:00-05:00"), minutes("2025-03-03T10:00-05:00"))
    assert weekly[1].start == minutes("2025-03-10T09:00-04:00")  # the Monday after spring-forward
    assert weekly[-2].start == minutes("2025-11-03T09:00-05:00")  # the Monday after fall-back
    assert {zones.local_of("America/New_York", b.start)[1] for b in weekly} == {9 * 60}
    assert {b.end - b.start for b in weekly} == {60}


def test_instance_inside_the_spring_forward_gap_moves_forward_by_the_gap() -> None:
    """02:30 on 2025-03-09 does not exist in New York: the weekly instance is at 03:30 EDT (07:30Z)."""
    items = read_ical((DATA / "dst.ics").read_bytes(), ANA, clinic(), dt.date(2025, 3, 1), dt.date(2025, 3, 9))
    nights = [b for b in items.busy if (b.visit_number or "").startswith("sunday-half-past-two")]
    assert [(b.start, b.end) for b in nights] == [
        (minutes("2025-03-02T02:30-05:00"), minutes("2025-03-02T03:00-05:00")),
        (minutes("2025-03-09T03:30-04:00"), minutes("2025-03-09T04:00-04:00")),  # DURATION PT30M is elapsed time
    ]
    # Each instance is told apart by its RECURRENCE-ID, resolved by the same policy.
    assert nights[1].visit_number == "sunday-half-past-two#20250309T0730Z"


def test_repeated_wall_time_on_fall_back_takes_the_earlier_instant() -> None:
    """01:30 on 2025-11-02 happens twice in New York: the event starts at the first (EDT, 05:30Z)."""
    items = read_ical((DATA / "dst.ics").read_bytes(), ANA, clinic(), dt.date(2025, 11, 2), dt.date(2025, 11, 2))
    assert spans(items) == [(minutes("2025-11-02T01:30-04:00"), minutes("2025-11-02T02:00-05:00"))]
    assert spans(items)[0][1] - spans(items)[0][0] == 90  # both ends are wall times: 01:30 EDT to 02:00 EST


def test_the_expander_gives_nominal_wall_times_that_the_policy_then_resolves() -> None:
    """Pins the library behaviour the reader relies on: an instance in a gap comes out un-shifted (02:30)."""
    import icalendar
    import recurring_ical_events

    calendar = icalendar.Calendar.from_ical((DATA / "dst.ics").read_bytes())
    found = recurring_ical_events.CalendarQuery(calendar).between((2025, 3, 9), (2025, 3, 10))
    start = next(e for e in found if str(e["UID"]) == "sunday-half-past-two")["DTSTART"].dt
    assert (start.hour, start.minute, start.fold) == (2, 30, 0)


def test_both_ends_of_an_event_move_under_the_policy() -> None:
    """02:00-02:45 on a night without 02:00-03:00 becomes 03:00-03:45; 02:30-03:15 has no time left and is skipped."""
    items = read(
        ics(
            "UID:a\nDTSTART;TZID=America/Chicago:20250309T020000\nDTEND;TZID=America/Chicago:20250309T024500",
            "UID:b\nDTSTART;TZID=America/Chicago:20250309T023000\nDTEND;TZID=America/Chicago:20250309T031500",
        ),
        first=dt.date(2025, 3, 9),
    )
    assert spans(items) == [(minutes("2025-03-09T03:00-05:00"), minutes("2025-03-09T03:45-05:00"))]
    assert items.skipped == ("ana.ics:VEVENT[1]: takes no time (also after the DST policy)",)


def test_utc_and_floating_times() -> None:
    """``Z`` times are instants as they stand; floating times are wall times at the source's location (Chicago)."""
    items = read(
        ics(
            "UID:utc\nDTSTART:20250602T150000Z\nDTEND:20250602T153000Z",
            "UID:floating\nDTSTART:20250603T090000\nDTEND:20250603T093000",
        )
    )
    assert spans(items) == [
        (minutes("2025-06-02T15:00Z"), minutes("2025-06-02T15:30Z")),
        (at(day(1), "09:00"), at(day(1), "09:30")),
    ]


def test_windows_names_are_read_as_their_iana_zone() -> None:
    """Outlook writes ``TZID=Central Standard Time``; icalendar maps it to America/Chicago, the policy applies."""
    items = read(ics("UID:w\nDTSTART;TZID=Central Standard Time:20250602T090000\nDURATION:PT1H"))
    assert spans(items) == [(at(MONDAY, "09:00"), at(MONDAY, "10:00"))]


def test_utc_time_in_the_repeated_hour_stays_the_instant_it_names() -> None:
    """07:30Z on 2025-11-02 is the *second* 01:30 in Chicago; a calendar's X-WR-TIMEZONE does not move it."""
    items = read(ics("UID:u\nDTSTART:20251102T073000Z\nDURATION:PT30M", header="X-WR-TIMEZONE:America/Chicago"),
                 first=dt.date(2025, 11, 2))  # fmt: skip
    assert spans(items) == [(minutes("2025-11-02T01:30-06:00"), minutes("2025-11-02T02:00-06:00"))]


def test_vendor_prefixed_tzid_is_read_with_a_note() -> None:
    """``/freeassociation.sourceforge.net/Tzfile/America/Chicago`` is icalendar's guess of Chicago: read, and noted."""
    items = read(ics("UID:v\nDTSTART;TZID=/freeassociation.sourceforge.net/Tzfile/America/Chicago:20250602T090000"
                     "\nDURATION:PT30M"))  # fmt: skip
    assert spans(items) == [(at(MONDAY, "09:00"), at(MONDAY, "09:30"))]
    assert items.notes == ("ana.ics: a vendor-prefixed TZID was read as the IANA zone at its end (icalendar's guess)",)


def test_custom_vtimezone_is_read_as_the_iana_zone_it_behaves_as() -> None:
    """A VTIMEZONE of its own name with Chicago's rules resolves as America/Chicago, under the DST policy."""
    vtimezone = """BEGIN:VTIMEZONE
TZID:Clinic Time
BEGIN:STANDARD
DTSTART:16011104T020000
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11
TZOFFSETFROM:-0500
TZOFFSETTO:-0600
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010311T020000
RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3
TZOFFSETFROM:-0600
TZOFFSETTO:-0500
END:DAYLIGHT
END:VTIMEZONE"""
    items = read(ics(vtimezone, "UID:c\nDTSTART;TZID=Clinic Time:20250602T090000\nDURATION:PT30M"))
    assert spans(items) == [(minutes("2025-06-02T09:00-05:00"), minutes("2025-06-02T09:30-05:00"))]
    assert len(items.notes) == 1 and "a custom TZID, read as America/" in items.notes[0]
    gap = read(ics(vtimezone, "UID:g\nDTSTART;TZID=Clinic Time:20250309T023000\nDURATION:PT30M"), dt.date(2025, 3, 9))
    assert spans(gap) == [(minutes("2025-03-09T03:30-05:00"), minutes("2025-03-09T04:00-05:00"))]


def test_custom_vtimezone_without_iana_equivalent_is_refused() -> None:
    """A VTIMEZONE no IANA zone matches (UTC-05:17 all year) cannot take the DST policy: a problem in strict
    mode, a skipped component naming the rule in lenient mode. Its TZID is the one the test above defines
    with Chicago's rules: each file is read by its own definition (icalendar keeps the first it built)."""
    test_custom_vtimezone_is_read_as_the_iana_zone_it_behaves_as()
    vtimezone = """BEGIN:VTIMEZONE
TZID:Clinic Time
BEGIN:STANDARD
DTSTART:16010101T000000
TZOFFSETFROM:-0517
TZOFFSETTO:-0517
END:STANDARD
END:VTIMEZONE"""
    text = ics(vtimezone, "UID:c\nDTSTART;TZID=Clinic Time:20250602T090000\nDURATION:PT30M")
    rule = "its TZID has no IANA equivalent: wall times resolve only in IANA zones"
    assert problems(text) == (Problem("ana.ics:VEVENT[0].DTSTART", rule),)
    assert read(text).skipped == (f"ana.ics:VEVENT[0] (line 12): not read: DTSTART {rule}",)


# ---- recurrence: EXDATE, RDATE, RECURRENCE-ID -------------------------------------------------


def recurrence_items() -> IcalItems:
    """``recurrence.ics`` over June 2025."""
    data = (DATA / "recurrence.ics").read_bytes()
    return read_ical(data, ANA, clinic(), dt.date(2025, 6, 1), dt.date(2025, 6, 30))


def test_exdate_removes_rdate_adds_and_an_override_moves_one_instance() -> None:
    """Tuesdays 10:00 x4, minus 06-10 (EXDATE), plus Thu 06-12 15:00 (RDATE), 06-17 moved to Wed, 06-24 cancelled."""
    # (the VTIMEZONE in the file is ignored in favour of the IANA zone of the same name)
    items = recurrence_items()
    assert spans(items) == [
        (minutes("2025-06-03T10:00-05:00"), minutes("2025-06-03T10:30-05:00")),
        (minutes("2025-06-12T15:00-05:00"), minutes("2025-06-12T15:30-05:00")),
        (minutes("2025-06-18T14:00-05:00"), minutes("2025-06-18T14:30-05:00")),
    ]
    assert [b.visit_number for b in items.busy] == [
        "tuesday-clinic-meeting#20250603T1500Z",
        "tuesday-clinic-meeting#20250612T2000Z",
        "tuesday-clinic-meeting#20250617T1500Z",  # the override keeps the instance's identity
    ]
    assert all(b.provider_id == P1.id and b.location_id == MAIN.id and b.kind is BusyKind.BLOCK for b in items.busy)
    assert items.skipped == ("ana.ics:VEVENT[2]: cancelled (STATUS:CANCELLED)",)


# ---- what is busy, and as what ----------------------------------------------------------------


def test_cancelled_and_transparent_events_are_not_busy() -> None:
    """STATUS:CANCELLED and TRANSP:TRANSPARENT are read and reported as skipped; an opaque event is busy."""
    items = read(
        ics(
            f"UID:a\nSUMMARY:{SECRET}\nDTSTART:20250602T150000Z\nDURATION:PT30M\nSTATUS:CANCELLED",
            "UID:b\nDTSTART:20250602T160000Z\nDURATION:PT30M\nTRANSP:TRANSPARENT",
            "UID:c\nDTSTART:20250602T170000Z\nDURATION:PT30M\nTRANSP:OPAQUE",
        )
    )
    assert [b.visit_number for b in items.busy] == ["c"]
    assert items.skipped == (
        "ana.ics:VEVENT[0]: cancelled (STATUS:CANCELLED)",
        "ana.ics:VEVENT[1]: free time (TRANSP:TRANSPARENT)",
    )
    assert SECRET not in repr(items)


@pytest.mark.parametrize(
    ("lines", "kind"),
    [
        ("", BusyKind.BLOCK),
        ("STATUS:TENTATIVE", BusyKind.HOLD),
        ("STATUS:CONFIRMED", BusyKind.BLOCK),
        ("CATEGORIES:Vacation", BusyKind.OUT_OF_OFFICE),
        ("X-MICROSOFT-CDO-BUSYSTATUS:OOF", BusyKind.OUT_OF_OFFICE),
        ("X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE", BusyKind.HOLD),
        ("X-SLOTFINDER-KIND:booking", BusyKind.BOOKING),
        ("X-SLOTFINDER-KIND:hold\nSTATUS:CONFIRMED", BusyKind.HOLD),
    ],
)
def test_busy_kind(lines: str, kind: BusyKind) -> None:
    """Opaque events are blocks unless STATUS, categories, Outlook's busy status or X-SLOTFINDER-KIND say more."""
    items = read(ics(f"UID:k\nDTSTART:20250602T150000Z\nDURATION:PT30M\n{lines}"))
    assert [b.kind for b in items.busy] == [kind]


def test_out_of_office_in_a_room_calendar_is_a_block() -> None:
    """A room is not away: what would be out-of-office blocks the room."""
    room = CalendarSource(MAIN.id, room="136", name="room.ics")
    items = read(ics("UID:k\nDTSTART:20250602T150000Z\nDURATION:PT30M\nCATEGORIES:Out of office"), source=room)
    assert items.busy == (
        Busy(
            BusyKind.BLOCK, at(MONDAY, "10:00"), at(MONDAY, "10:30"), location_id=MAIN.id, room="136", visit_number="k"
        ),
    )


def test_reserved_block_keeps_its_visit_types_and_release() -> None:
    """X-SLOTFINDER-RESERVED-FOR / -RELEASE-BEFORE make a reserved block (open to OV only, a day before)."""
    items = read(
        ics(
            "UID:r\nDTSTART:20250602T150000Z\nDURATION:PT1H\nX-SLOTFINDER-KIND:block\n"
            "X-SLOTFINDER-RESERVED-FOR:OV\nX-SLOTFINDER-RELEASE-BEFORE:1440"
        )
    )
    assert [(b.reserved_for, b.release_before) for b in items.busy] == [(("OV",), 1440)]


def test_all_day_event_is_busy_from_local_midnight_to_midnight_after_its_last_day() -> None:
    """DTSTART;VALUE=DATE 06-03 / DTEND 06-05 (exclusive): busy 06-03 00:00 to 06-05 00:00 Chicago."""
    items = read(ics("UID:d\nDTSTART;VALUE=DATE:20250603\nDTEND;VALUE=DATE:20250605\nCATEGORIES:Vacation"))
    assert spans(items) == [(at(day(1), "00:00"), at(day(3), "00:00"))]
    assert items.busy[0].kind is BusyKind.OUT_OF_OFFICE


def test_all_day_event_without_dtend_takes_its_day() -> None:
    """A DATE DTSTART alone is one day (RFC 5545 3.6.1)."""
    assert spans(read(ics("UID:d\nDTSTART;VALUE=DATE:20250603"))) == [(at(day(1), "00:00"), at(day(2), "00:00"))]


def test_duration_and_dtend_give_the_same_span() -> None:
    """DURATION:PT45M and a DTEND 45 minutes later: the same busy time (also P1D and the next day's DTEND)."""
    by_end = read(
        ics("UID:a\nDTSTART;TZID=America/Chicago:20250602T100000\nDTEND;TZID=America/Chicago:20250602T104500")
    )
    by_duration = read(ics("UID:a\nDTSTART;TZID=America/Chicago:20250602T100000\nDURATION:PT45M"))
    assert spans(by_end) == spans(by_duration) == [(at(MONDAY, "10:00"), at(MONDAY, "10:45"))]
    day_long = read(ics("UID:a\nDTSTART;TZID=America/Chicago:20250602T100000\nDURATION:P1D"))
    assert spans(day_long) == [(at(MONDAY, "10:00"), at(day(1), "10:00"))]


def test_duration_hours_are_elapsed_and_days_nominal_across_a_transition() -> None:
    """RFC 5545 3.3.6: PT2H from 01:30 CST is two real hours (04:30 CDT); P1D is the same wall time a day later."""
    hours = read(ics("UID:h\nDTSTART;TZID=America/Chicago:20250309T013000\nDURATION:PT2H"), first=dt.date(2025, 3, 9))
    days = read(ics("UID:d\nDTSTART;TZID=America/Chicago:20250308T090000\nDURATION:P1D"), first=dt.date(2025, 3, 8))
    assert spans(hours) == [(minutes("2025-03-09T01:30-06:00"), minutes("2025-03-09T04:30-05:00"))]
    assert spans(days) == [(minutes("2025-03-08T09:00-06:00"), minutes("2025-03-09T09:00-05:00"))]
    # A DTEND is a wall time like DTSTART (as templates are): 01:30 to 03:30 on the clock is one real hour.
    by_end = read(
        ics("UID:e\nDTSTART;TZID=America/Chicago:20250309T013000\nDTEND;TZID=America/Chicago:20250309T033000"),
        first=dt.date(2025, 3, 9),
    )
    assert spans(by_end) == [(minutes("2025-03-09T01:30-06:00"), minutes("2025-03-09T03:30-05:00"))]


def test_window_keeps_overlapping_events_and_reports_components_without_instances() -> None:
    """An event overlapping the window is kept whole; one outside it is reported, not silently lost."""
    items = read(
        ics(
            "UID:long\nDTSTART;VALUE=DATE:20250530\nDTEND;VALUE=DATE:20250604",
            "UID:later\nDTSTART:20250801T150000Z\nDURATION:PT30M",
        )
    )
    assert spans(items) == [(at(day(-3), "00:00"), at(day(2), "00:00"))]
    assert items.skipped == ("ana.ics:VEVENT[1]: no instance in the window",)


def test_same_uid_twice_reads_both_unless_a_sequence_says_one_is_newer() -> None:
    """The expander keeps one of two components with one UID; the reader keeps busy time unless SEQUENCE orders them."""
    twins = read(
        ics("UID:x\nDTSTART:20250602T150000Z\nDURATION:PT30M", "UID:x\nDTSTART:20250603T150000Z\nDURATION:PT30M")
    )
    assert [b.visit_number for b in twins.busy] == ["x", "x"]
    assert twins.notes == ("ana.ics:VEVENT[1]: same UID as another VEVENT without RECURRENCE-ID; both are read",)
    updated = read(
        ics(
            "UID:x\nSEQUENCE:0\nDTSTART:20250602T150000Z\nDURATION:PT30M",
            "UID:x\nSEQUENCE:1\nDTSTART:20250603T150000Z\nDURATION:PT30M",
        )
    )
    assert spans(updated) == [(minutes("2025-06-03T15:00Z"), minutes("2025-06-03T15:30Z"))]
    assert "ana.ics:VEVENT[0]: superseded by a version with the same UID and a higher SEQUENCE" in updated.skipped


def test_busy_item_names_its_location_and_room() -> None:
    """X-SLOTFINDER-LOCATION, or LOCATION matched to a location; X-SLOTFINDER-ROOM; unknown LOCATION: the source's."""
    items = read(
        ics(
            "UID:a\nDTSTART:20250602T150000Z\nDURATION:PT30M\nLOCATION:res annex, 2w\nX-SLOTFINDER-ROOM:201",
            "UID:b\nDTSTART:20250602T160000Z\nDURATION:PT30M\nLOCATION:Cafeteria",
            "UID:c\nDTSTART:20250602T170000Z\nDURATION:PT30M\nX-SLOTFINDER-LOCATION:loc-annex",
        )
    )
    assert [(b.location_id, b.room) for b in items.busy] == [(ANNEX.id, "201"), (MAIN.id, None), (ANNEX.id, None)]


# ---- working hours: VAVAILABILITY / AVAILABLE ---------------------------------------------------


def ben_items(first: dt.date = MONDAY, last: dt.date | None = None) -> IcalItems:
    """``working-hours.ics`` (P2's hours) over the week of ``MONDAY``."""
    return read_ical_file(DATA / "working-hours.ics", clinic(), first, last or first + dt.timedelta(days=6))


def test_available_with_location_rrule_and_categories_becomes_open_time() -> None:
    """Mon/Wed 09:00-12:00 at the Annex for OV on a 15-minute grid; Tue 13:00 + PT3H at MAIN on 30 minutes."""
    items = ben_items()
    assert items.open_times[0] == OpenTime(
        provider_id=P2.id,
        location_id=ANNEX.id,
        start=at(MONDAY, "09:00"),
        end=at(MONDAY, "12:00"),
        slot_length=15,
        visit_types=("OV",),
        source="ben-annex-mornings",
    )
    assert [(o.location_id, o.start, o.end, o.slot_length) for o in items.open_times[1:]] == [
        (MAIN.id, at(day(1), "13:00"), at(day(1), "16:00"), 30),
    ]  # Wednesday 06-04 is inside a PRIORITY:1 VAVAILABILITY without AVAILABLE: busy all day


def test_availability_bounds_priority_and_unknown_location() -> None:
    """Instances before the VAVAILABILITY's DTSTART are not open; an unknown LOCATION is skipped and said so."""
    items = ben_items(first=dt.date(2025, 5, 26), last=day(6))  # from the Monday before the bounds start
    assert min(o.start for o in items.open_times) == at(MONDAY, "09:00")
    # Mon 05-26 and Wed 05-28 lie before the bounds, Wed 06-04 under the PRIORITY:1 VAVAILABILITY.
    outside = "outside its VAVAILABILITY's time (bounds, or a higher PRIORITY) (3 instances)"
    assert f"working-hours.ics:VAVAILABILITY[0].AVAILABLE[0]: {outside}" in items.skipped
    assert (
        "working-hours.ics:VAVAILABILITY[0].AVAILABLE[2]: its LOCATION names no location of the clinic "
        "(by id, department or facility and department)"
    ) in items.skipped
    assert "working-hours.ics:VAVAILABILITY[1]: has no AVAILABLE: all its time is busy" in items.skipped


def test_available_cut_by_a_higher_priority_stays_on_its_grid() -> None:
    """A higher-priority VAVAILABILITY from 09:10 cuts an 09:00 AVAILABLE; what is left starts at 09:15 (its grid)."""
    text = ics(
        """BEGIN:VAVAILABILITY
UID:v0
DTSTAMP:20250101T000000Z
BEGIN:AVAILABLE
UID:a
DTSTAMP:20250101T000000Z
DTSTART;TZID=America/Chicago:20250602T090000
DTEND;TZID=America/Chicago:20250602T120000
X-SLOTFINDER-SLOT-LENGTH:15
END:AVAILABLE
END:VAVAILABILITY""",
        """BEGIN:VAVAILABILITY
UID:v1
DTSTAMP:20250101T000000Z
PRIORITY:2
DTSTART;TZID=America/Chicago:20250602T080000
DTEND;TZID=America/Chicago:20250602T091000
END:VAVAILABILITY""",
    )
    assert [(o.start, o.end) for o in read(text).open_times] == [(at(MONDAY, "09:15"), at(MONDAY, "12:00"))]


def test_available_without_a_grid_is_one_slot_unless_a_default_is_given() -> None:
    """No X-SLOTFINDER-SLOT-LENGTH: one slot (the FHIR-like reading), or ``default_slot_length``."""
    text = ics(
        """BEGIN:VAVAILABILITY
UID:v
DTSTAMP:20250101T000000Z
BEGIN:AVAILABLE
UID:a
DTSTAMP:20250101T000000Z
DTSTART;TZID=America/Chicago:20250602T090000
DTEND;TZID=America/Chicago:20250602T100000
END:AVAILABLE
END:VAVAILABILITY"""
    )
    assert [o.slot_length for o in read(text).open_times] == [None]
    items = read_ical(text, ANA, clinic(), MONDAY, MONDAY, default_slot_length=20)
    assert [o.slot_length for o in items.open_times] == [20]


def test_room_calendar_reads_busy_time_and_skips_working_hours() -> None:
    """Rooms have no templates in slotfinder: a room's AVAILABLE is reported as skipped, its events are busy."""
    items = read_ical_file(DATA / "room137.ics", clinic(), MONDAY, day(6))
    assert items.busy == (
        Busy(
            BusyKind.BLOCK,
            at(MONDAY, "09:00"),
            at(MONDAY, "11:00"),
            location_id=MAIN.id,
            room="137",
            visit_number="room-137-cleaning",
        ),
    )
    assert items.open_times == ()
    assert items.skipped == (
        "room137.ics:VAVAILABILITY[0]: "
        "rooms have no working hours in slotfinder (VAVAILABILITY of a room calendar ignored)",
    )


# ---- which calendar is whose ---------------------------------------------------------------------


def test_calendar_map_entries_win_over_the_files_own_properties() -> None:
    """recurrence.ics declares P1, the map says P2: P2. room137.ics is mapped by file alone. Paths are relative."""
    mapped = load_calendar_map(DATA / "calendars.json")
    assert mapped == [
        (DATA / "recurrence.ics", CalendarSource(MAIN.id, provider_id=P2.id, name="recurrence.ics")),
        (DATA / "room137.ics", CalendarSource(MAIN.id, room="137", name="room137.ics")),
        (DATA / "working-hours.ics", CalendarSource(ANNEX.id, provider_id=P2.id, name="working-hours.ics")),
    ]


def test_load_calendars_joins_every_mapped_file() -> None:
    """``load_calendars`` reads the whole map; ``with_calendars`` adds the result to a clinic."""
    items = load_calendars(DATA / "calendars.json", clinic(), dt.date(2025, 6, 1), dt.date(2025, 6, 30))
    assert {b.provider_id for b in items.busy} == {P2.id, None}
    assert {b.room for b in items.busy} == {None, "137"}
    assert items.open_times and {o.provider_id for o in items.open_times} == {P2.id}
    joined = with_calendars(clinic(), items)
    assert joined.busy[-len(items.busy) :] == items.busy


def test_declared_source_reads_x_slotfinder_properties() -> None:
    """X-SLOTFINDER-PROVIDER and X-SLOTFINDER-LOCATION name the owner."""
    assert declared_source((DATA / "dst.ics").read_bytes(), "dst.ics") == CalendarSource(
        MAIN.id, provider_id=P1.id, name="dst.ics"
    )


@pytest.mark.parametrize(
    ("entries", "path", "rule"),
    [
        ("{}", "calendars.json:$", "must be a list of calendar entries"),
        ('[{"provider_id": "1"}]', "calendars.json:$[0].file", "is required"),
        ('[{"file": "a.ics", "provider_id": "1", "room": "2", "location_id": "x"}]', "calendars.json:$[0]",
         "names both provider_id and room; a calendar is one's"),
        ('[{"file": "a.ics", "provider_id": 7, "location_id": "x"}]', "calendars.json:$[0].provider_id",
         "must be a non-empty string"),
        ('[{"file": "a.ics", "provider": "1", "location_id": "x"}]', "calendars.json:$[0].provider", "unknown key"),
        ("[{", "calendars.json:$", "is not JSON (line 1, column 3)"),
    ],
)  # fmt: skip
def test_calendar_map_problems(tmp_path: Path, entries: str, path: str, rule: str) -> None:
    """A broken map names the entry and key, like the clinic file does."""
    (tmp_path / "calendars.json").write_text(entries)
    with pytest.raises(InvalidClinic) as caught:
        load_calendar_map(tmp_path / "calendars.json")
    assert Problem(path, rule) in caught.value.problems


def test_calendar_map_entry_without_owner_needs_the_file_to_declare_one(tmp_path: Path) -> None:
    """An entry that names no owner takes the file's; a file that declares none is a problem at the entry."""
    (tmp_path / "plain.ics").write_text(ics("UID:a\nDTSTART:20250602T150000Z"))
    (tmp_path / "calendars.json").write_text(json.dumps([{"file": "plain.ics", "location_id": MAIN.id}]))
    with pytest.raises(InvalidClinic) as caught:
        load_calendar_map(tmp_path / "calendars.json")
    assert caught.value.problems == (
        Problem(
            "calendars.json:$[0]",
            "names no provider or room (provider_id / room, or X-SLOTFINDER-PROVIDER / X-SLOTFINDER-ROOM)",
        ),
    )


def test_source_must_exist_in_the_clinic() -> None:
    """A provider, location or room the clinic does not have is a problem at the calendar's name."""
    with pytest.raises(InvalidClinic) as caught:
        read(
            ics("UID:a\nDTSTART:20250602T150000Z"), source=CalendarSource("nowhere", provider_id="nobody", name="x.ics")
        )
    assert [p.path for p in caught.value.problems] == ["x.ics", "x.ics"]
    with pytest.raises(InvalidClinic):
        read(ics("UID:a\nDTSTART:20250602T150000Z"), source=CalendarSource(MAIN.id, room="999", name="r.ics"))
    with pytest.raises(ValueError, match="exactly one"):
        CalendarSource(MAIN.id, name="neither.ics")


# ---- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path", "rule"),
    [
        (ics(f"UID:a\nSUMMARY:{SECRET}\nDTSTART;TZID=America/Chicago:2025060X"), "ana.ics:VEVENT[0].DTSTART",
         "is not an RFC 5545 DATE or DATE-TIME"),
        (ics(f"UID:a\nSUMMARY:{SECRET}"), "ana.ics:VEVENT[0].DTSTART", "is required"),
        (ics("UID:a\nDTSTART:20250602T150000Z\nDTSTART:20250603T150000Z"), "ana.ics:VEVENT[0].DTSTART",
         "must appear once"),
        (ics("UID:a\nDTSTART:20250602T150000Z\nBEGIN:VEVENT\nUID:b\nDTSTART:20250602T150000Z\nEND:VEVENT"),
         "ana.ics:VEVENT[0]", "may hold VALARM inside (an END line is missing or misplaced?)"),
        (ics("UID:a\nDTSTART:20250602T150000Z", header="CALSCALE:ETHIOPIC"), "ana.ics:VCALENDAR.CALSCALE",
         "must be GREGORIAN"),
        (ics("UID:a\nDTSTART:20250602T150000Z\nDTEND:20250602T140000Z"), "ana.ics:VEVENT[0].DTEND",
         "must not be before DTSTART"),
        (ics("UID:a\nDTSTART:20250602T150000Z\nDTEND:20250602T160000Z\nDURATION:PT1H"), "ana.ics:VEVENT[0].DURATION",
         "DTEND and DURATION must not both be given"),
        (ics("UID:a\nDTSTART;VALUE=DATE:20250602\nDTEND:20250602T160000Z"), "ana.ics:VEVENT[0].DTEND",
         "must be a DATE when DTSTART is one, a DATE-TIME when it is one"),
        (ics("UID:a\nDTSTART:20250602T150000Z\nRRULE:FREQ=SOMETIMES"), "ana.ics:VEVENT[0].RRULE",
         "is not an RFC 5545 recurrence rule"),
        (ics("UID:a\nDTSTART:20250602T150000Z\nDURATION:one hour"), "ana.ics:VEVENT[0].DURATION",
         "is not an RFC 5545 DURATION (such as PT30M or P1D)"),
        (ics("UID:a\nDTSTART:20250602T150000Z\nRDATE;VALUE=PERIOD:20250603T150000Z/20250603T140000Z"),
         "ana.ics:VEVENT[0]", "its recurrence (RRULE, RDATE, EXDATE, RECURRENCE-ID) cannot be expanded"),
        (ics("UID:a\nDTSTART;TZID=Mars/Olympus_Mons:20250602T090000"), "ana.ics:VEVENT[0].DTSTART",
         "its TZID names no time zone (an IANA or Windows name, or a VTIMEZONE)"),
        (ics("UID:a\nDTSTART:20250602T150000Z\nX-SLOTFINDER-KIND:closure"), "ana.ics:VEVENT[0].X-SLOTFINDER-KIND",
         "must be booking, hold, block or out_of_office"),
        (ics("UID:a\nDTSTART:20250602T150000Z\nX-SLOTFINDER-ROOM:999"), "ana.ics:VEVENT[0].X-SLOTFINDER-ROOM",
         "is not a room of the component's location"),
        (ics("UID:a\nDTSTART:20250602T150000Z\nX-SLOTFINDER-RESERVED-FOR:XX"),
         "ana.ics:VEVENT[0].X-SLOTFINDER-RESERVED-FOR", "names a visit type code the clinic does not have"),
        (ics("UID:a\nDTSTART:20250602T150000Z\nSTATUS:TENTATIVE\nX-SLOTFINDER-RESERVED-FOR:OV"),
         "ana.ics:VEVENT[0].X-SLOTFINDER-RESERVED-FOR", "only a block may be reserved (X-SLOTFINDER-KIND:block)"),
        (f"BEGIN:VCALENDAR\nVERSION:2.0\nSUMMARY:{SECRET}\n{SECRET} was here\nEND:VCALENDAR\n", "ana.ics:line 4",
         "is not an iCalendar content line (NAME;PARAMS:VALUE)"),
        ("BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VCALENDAR\n", "ana.ics:line 3",
         "END does not close the component its BEGIN opened"),
        ("BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VEVENT\n", "ana.ics", "a component is not closed (BEGIN without END)"),
        ("BEGIN:VEVENT\nUID:a\nEND:VEVENT\n", "ana.ics",
         "must hold exactly one VCALENDAR (BEGIN:VCALENDAR ... END:VCALENDAR); "
         "bare VEVENTs are read only without strict"),
        (b"BEGIN:VCALENDAR\n\xff\xfe\nEND:VCALENDAR\n", "ana.ics", "is not UTF-8 text"),
    ],
)  # fmt: skip
def test_malformed_calendar_names_the_place_and_the_rule_never_the_text(
    text: str | bytes, path: str, rule: str
) -> None:
    """Strict: each problem has a path into the file and a rule; no SUMMARY (or other text of the file) is repeated.

    Lenient (the default): a problem of one component skips that component, named by its path, line and
    rule (never its text); a problem of the file itself is still raised.
    """
    with pytest.raises(InvalidClinic) as caught:
        read_ical(text, ANA, clinic(), MONDAY, day(6), strict=True)
    assert Problem(path, rule) in caught.value.problems
    assert SECRET not in str(caught.value) and SECRET not in caught.value.details()
    if not path.startswith("ana.ics:VEVENT[0]"):
        if path != "ana.ics":  # the bare VEVENT is read leniently (test_bare_vevent_...)
            with pytest.raises(InvalidClinic):
                read_ical(text, ANA, clinic(), MONDAY, day(6))
        return
    lenient = read_ical(text, ANA, clinic(), MONDAY, day(6))
    assert lenient.busy == () and lenient.open_times == ()
    inside = path.removeprefix("ana.ics:VEVENT[0]").lstrip(".")
    line = 4 if isinstance(text, str) and text.startswith("BEGIN:VCALENDAR\nVERSION") else None
    assert f"ana.ics:VEVENT[0] (line {line}): not read: {inside + ' ' if inside else ''}{rule}" in lenient.skipped
    assert all(SECRET not in s for s in lenient.skipped + lenient.notes)


def test_lenient_reading_skips_the_broken_event_and_reads_the_rest() -> None:
    """One event without DTSTART among good ones: it is skipped with its line, the others are busy time;
    strict=True refuses the file as before."""
    text = ics(
        "UID:good-1\nDTSTART:20250602T150000Z\nDURATION:PT30M",
        f"UID:broken\nSUMMARY:{SECRET}",
        "UID:good-2\nDTSTART:20250603T150000Z\nDURATION:PT30M",
    )
    items = read(text)
    assert spans(items) == [
        (minutes("2025-06-02T15:00Z"), minutes("2025-06-02T15:30Z")),
        (minutes("2025-06-03T15:00Z"), minutes("2025-06-03T15:30Z")),
    ]
    assert items.skipped == ("ana.ics:VEVENT[1] (line 10): not read: DTSTART is required",)
    assert problems(text) == (Problem("ana.ics:VEVENT[1].DTSTART", "is required"),)


def test_lenient_reading_skips_a_broken_available_and_a_broken_vavailability() -> None:
    """A broken AVAILABLE is skipped alone; a VAVAILABILITY with a broken bound is skipped with its AVAILABLEs."""
    available = "BEGIN:AVAILABLE\nUID:{uid}\nDTSTAMP:20250101T000000Z\n{start}DURATION:PT3H\nEND:AVAILABLE"
    good = available.format(uid="am", start="DTSTART;TZID=America/Chicago:20250602T090000\n")
    bad = available.format(uid="pm", start="")
    ok = f"BEGIN:VAVAILABILITY\nUID:v1\nDTSTAMP:20250101T000000Z\n{good}\n{bad}\nEND:VAVAILABILITY"
    bounds = "DTSTART:20250610T000000Z\nDTEND:20250601T000000Z"  # DTEND before DTSTART
    broken = f"BEGIN:VAVAILABILITY\nUID:v2\nDTSTAMP:20250101T000000Z\n{bounds}\n{good}\nEND:VAVAILABILITY"
    items = read(ics(ok, broken))
    assert [(o.start, o.end) for o in items.open_times] == [(at(MONDAY, "09:00"), at(MONDAY, "12:00"))]
    assert items.skipped == (
        "ana.ics:VAVAILABILITY[0].AVAILABLE[1] (line 13): not read: DTSTART is required",
        "ana.ics:VAVAILABILITY[1] (line 19): not read: DTEND must not be before DTSTART",
    )


def test_bare_vevent_without_vcalendar_is_read_leniently_and_refused_strictly() -> None:
    """A file of VEVENTs with no VCALENDAR (some exporters write one event so) is read as one calendar,
    with a note; strict=True refuses it, saying why."""
    text = "BEGIN:VEVENT\nUID:a\nDTSTAMP:20250101T000000Z\nDTSTART:20250602T150000Z\nDURATION:PT30M\nEND:VEVENT\n"
    items = read(text)
    assert spans(items) == [(minutes("2025-06-02T15:00Z"), minutes("2025-06-02T15:30Z"))]
    assert items.notes == ("ana.ics: no VCALENDAR around the components: read as one calendar",)
    assert [p.rule for p in problems(text)] == [
        "must hold exactly one VCALENDAR (BEGIN:VCALENDAR ... END:VCALENDAR); bare VEVENTs are read only without strict"
    ]


def test_expander_warnings_become_notes() -> None:
    """COUNT with UNTIL is read (dateutil warns it is deprecated); the warning is a note, not an exception."""
    items = read(
        ics("UID:a\nDTSTART:20250602T150000Z\nDURATION:PT30M\nRRULE:FREQ=DAILY;COUNT=2;UNTIL=20250701T000000Z")
    )
    assert len(items.busy) == 2
    assert items.notes == ("ana.ics: the iCalendar parser or expander warned (DeprecationWarning)",)


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    """Two broken events: two problems, in file order."""
    found = problems(ics("UID:a", "UID:b\nDTSTART:20250602T150000Z\nDTEND:20250602T140000Z"))
    assert [p.path for p in found] == ["ana.ics:VEVENT[0].DTSTART", "ana.ics:VEVENT[1].DTEND"]


# ---- the engine honours imported calendars ------------------------------------------------------


def test_imported_busy_event_removes_starts_the_template_offered() -> None:
    """P1 works weekdays 09:00-12:00 (template); a 10:00-10:30 VEVENT takes 09:45 and 10:00 (30-minute visits) away."""
    base = clinic()
    event = ics("UID:busy\nDTSTART;TZID=America/Chicago:20250602T100000\nDTEND;TZID=America/Chicago:20250602T103000")
    joined = with_calendars(base, read_ical(event, ANA, base, MONDAY, MONDAY))
    for when in ("09:45", "10:00", "10:15"):
        assert offered(base, request(), at(MONDAY, when)) and not offered(joined, request(), at(MONDAY, when)), when
    for when in ("09:30", "10:30"):
        assert offered(joined, request(), at(MONDAY, when)), when


def test_imported_working_hours_are_offered() -> None:
    """Without templates, P2's AVAILABLE opens Monday 09:00-12:00 at the Annex on a 15-minute grid, for OV."""
    base = clinic(templates=[])
    joined = with_calendars(base, ben_items())
    starts = [c.start for c in list_candidates(joined, request(), Settings(), NOW) if c.provider_id == P2.id]
    assert at(MONDAY, "09:00") in starts and at(MONDAY, "11:30") in starts and at(MONDAY, "11:45") not in starts
    assert offered(joined, request(), at(MONDAY, "09:15"), provider=P2.id)
    assert not offered(joined, request(days=7), at(day(2), "09:00"), provider=P2.id)  # the conference day


# ---- export and round trip ----------------------------------------------------------------------


def busy_key(item: Busy) -> tuple[object, ...]:
    """What of a busy item its calendar carries: the free/busy meaning, room and visit number.

    An item without a visit number comes back with the UID the writer made for it as one.
    """
    kind = BusyKind.BLOCK if item.kind is BusyKind.CLOSURE else item.kind
    number = None if (item.visit_number or "").startswith("slotfinder-busy-") else item.visit_number
    return kind.value, item.start, item.end, item.room or "", item.reserved_for, item.release_before or 0, number or ""


def block_key(clinic_: Clinic, provider: str, first: dt.date, last: dt.date) -> list[tuple[object, ...]]:
    """The provider's working blocks (start, end, grid, types, room, location) on local dates first..last."""
    blocks = [b for b in expand_blocks(clinic_, first, last, providers=[provider]) if first <= b.date <= last]
    return sorted(
        (b.start, b.end, b.step if b.step < b.end - b.start else None, b.visit_types, b.room, b.location_id)
        for b in blocks
    )


def test_round_trip_keeps_every_provider_and_room_calendar_of_the_demo_clinic() -> None:
    """``read_ical(write_ical(...))``: the same busy instants (kinds, rooms, reservations) and the same open blocks."""
    demo = demo_clinic()
    first, last = dt.date(2025, 10, 20), dt.date(2025, 11, 30)
    for provider in demo.providers:
        source = CalendarSource(demo.templates[0].location_id, provider_id=provider.id, name=f"{provider.id}.ics")
        items = read_ical(write_ical(demo, source, first, last, stamp=STAMP), source, demo, first, last)
        zone = demo.location(source.location_id).time_zone
        window = zones.instant_of(zone, first, 0), zones.instant_of(zone, last, 1440)
        mine = [b for b in demo.busy if b.provider_id == provider.id and b.start < window[1] and window[0] < b.end]
        assert sorted(map(busy_key, items.busy)) == sorted(map(busy_key, mine)), provider.id
        imported = attrs.evolve(demo, templates=(), openings=(), open_times=items.open_times)
        assert block_key(imported, provider.id, first, last) == block_key(demo, provider.id, first, last), provider.id
        assert items.skipped == () and items.notes == ()
    for location in demo.locations:
        for room in location.rooms:
            source = CalendarSource(location.id, room=room, name=f"{room}.ics")
            items = read_ical(write_ical(demo, source, first, last, stamp=STAMP), source, demo, first, last)
            mine = [b for b in demo.busy if (b.location_id, b.room) == (location.id, room)]
            assert sorted(map(busy_key, items.busy)) == sorted(map(busy_key, mine)), room


def test_export_is_utc_deterministic_and_carries_no_patient_identifiers() -> None:
    """Same input and stamp, same bytes; times in UTC; no patient ID and no name in the file."""
    demo = demo_clinic()
    source = CalendarSource("res-3n", provider_id="1234567890", name="ana.ics")
    first, last = dt.date(2025, 10, 20), dt.date(2025, 11, 10)
    data = write_ical(demo, source, first, last, stamp=STAMP)
    assert data == write_ical(demo, source, first, last, stamp=STAMP)
    text = data.decode()
    assert "TZID" not in text and "DTSTART:20251021T140000Z" in text
    assert "0000000101" not in text and "Lindqvist" not in text
    assert "X-SLOTFINDER-PROVIDER:1234567890" in text and "BEGIN:VAVAILABILITY" in text


def sanitized(clinic_: Clinic) -> Clinic:
    """The scenario's clinic without references the clinic file would reject (rooms, reserved codes)."""
    rooms = {loc.id: set(loc.rooms) for loc in clinic_.locations}
    codes = {v.code for v in clinic_.visit_types}

    def room(location_id: str | None, name: str | None) -> str | None:
        return name if location_id is not None and name in rooms[location_id] else None

    busy = [
        attrs.evolve(b, room=room(b.location_id, b.room), reserved_for=[c for c in b.reserved_for if c in codes])
        for b in clinic_.busy
        if b.room is None or room(b.location_id, b.room) is not None or b.provider_id is not None
    ]
    return attrs.evolve(
        clinic_,
        templates=[attrs.evolve(t, room=room(t.location_id, t.room)) for t in clinic_.templates],
        openings=[attrs.evolve(o, room=room(o.location_id, o.room)) for o in clinic_.openings],
        busy=busy,
    )


@hsettings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(small=True))
def test_round_trip_gives_the_engine_the_same_candidates(s: Scenario) -> None:
    """Every provider and room calendar exported and imported again: the engine finds the same candidates and scores."""
    original = sanitized(s.clinic)
    request_ = s.request if s.request.end is not None else attrs.evolve(s.request, end=s.request.start + 3 * 1440)
    first = zones.to_datetime(request_.start).date() - dt.timedelta(days=4)
    last = zones.to_datetime(request_.end or request_.start).date() + dt.timedelta(days=4)
    items = IcalItems()
    sources = [
        CalendarSource(original.locations[0].id, provider_id=p.id, name=f"{p.id}.ics") for p in original.providers
    ]
    sources += [CalendarSource(loc.id, room=r, name=f"{r}.ics") for loc in original.locations for r in loc.rooms]
    for source in sources:
        items += read_ical(write_ical(original, source, first, last, stamp=STAMP), source, original, first, last)
    providers = {p.id for p in original.providers}
    rooms = {(loc.id, r) for loc in original.locations for r in loc.rooms}
    kept = [
        b
        for b in original.busy
        if b.patients or (b.provider_id not in providers and (b.location_id, b.room) not in rooms)
    ]  # what no calendar carries: closures, patients' own appointments, items of unknown providers
    rebuilt = attrs.evolve(original, templates=(), openings=(), open_times=items.open_times, busy=[*kept, *items.busy])
    note(f"{len(items.busy)} busy, {len(items.open_times)} open")

    def seen(c: Clinic) -> list[tuple[object, ...]]:
        found = list_candidates(c, request_, s.settings, s.now)
        return sorted((x.start, x.provider_id, x.location_id, x.visit_type, x.room, x.points) for x in found)

    assert seen(rebuilt) == seen(original)


def test_calendar_map_never_repeats_a_key_that_is_a_value(tmp_path: Path) -> None:
    """A patient identifier used as a map key is reported at its entry, unnamed; a null file is missing."""
    entries = [{"file": None, "location_id": "x", "provider_id": "1", "MRN-SECRET-4711": "MR"}]
    (tmp_path / "calendars.json").write_text(json.dumps(entries))
    with pytest.raises(InvalidClinic) as caught:
        load_calendar_map(tmp_path / "calendars.json")
    assert caught.value.problems == (
        Problem("calendars.json:$[0]", "unknown key"),
        Problem("calendars.json:$[0].file", "is required"),
    )
    assert "MRN-SECRET-4711" not in caught.value.details()


# ---- exports of other calendar programs: Windows zone names, custom TZIDs ---------------------------


def test_outlook_export_with_windows_zone_name_is_read_under_the_dst_policy() -> None:
    """An Outlook export whose VTIMEZONE is ``Eastern Standard Time`` reads as America/New_York: a weekly
    09:00 stays 09:00 on the clock across the November change, and a 01:30 on the fall-back night takes
    the first 01:30; the event without DTSTART is skipped with its line, the others are read."""
    items = read_ical((DATA / "outlook-eastern.ics").read_bytes(), ANA, clinic(), dt.date(2025, 10, 1), day(180))
    huddles = [b for b in items.busy if "60D3A5C1E925" in (b.visit_number or "")]
    assert [b.start for b in huddles] == [
        minutes("2025-10-06T09:00-04:00"),
        minutes("2025-10-20T09:00-04:00"),  # 13 October is an EXDATE
        minutes("2025-10-27T09:00-04:00"),
        minutes("2025-11-03T09:00-05:00"),
        minutes("2025-11-10T09:00-05:00"),
        minutes("2025-11-17T09:00-05:00"),
    ]
    kinds = {(zones.to_datetime(b.start).isoformat(), b.kind) for b in items.busy if b not in huddles}
    assert kinds == {
        ("2025-10-21T14:30:00+00:00", BusyKind.HOLD),  # BUSYSTATUS:TENTATIVE
        ("2025-10-30T05:00:00+00:00", BusyKind.OUT_OF_OFFICE),  # all day, at the calendar's location (Chicago)
        ("2025-11-02T05:30:00+00:00", BusyKind.BLOCK),  # 01:30 EDT, the first of the two
    }
    assert items.skipped == ("ana.ics:VEVENT[4] (line 95): not read: DTSTART is required",)
    assert items.notes == (
        "ana.ics:VTIMEZONE[0]: a Windows time zone name, read as America/New_York (CLDR windowsZones table)",
    )
    assert all(SECRET not in text for text in items.skipped + items.notes)


@pytest.mark.parametrize(
    ("windows", "offsets", "iana", "utc"),
    [
        ("Pacific Standard Time", ("-0700", "-0800"), "America/Los_Angeles", "2025-06-02T16:00Z"),
        ("GMT Standard Time", ("+0100", "+0000"), "Europe/London", "2025-06-02T08:00Z"),
        ("Eastern Standard Time", ("-0400", "-0500"), "America/New_York", "2025-06-02T13:00Z"),
    ],
)
def test_windows_zone_names_map_to_iana(windows: str, offsets: tuple[str, str], iana: str, utc: str) -> None:
    """The Windows names Outlook and Exchange write (with their VTIMEZONE) map to IANA zones (CLDR table)."""
    summer, winter = offsets
    vtimezone = (
        f"BEGIN:VTIMEZONE\nTZID:{windows}\nBEGIN:STANDARD\nDTSTART:16011026T020000\n"
        f"RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\nTZOFFSETFROM:{summer}\nTZOFFSETTO:{winter}\nEND:STANDARD\n"
        f"BEGIN:DAYLIGHT\nDTSTART:16010330T010000\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\n"
        f"TZOFFSETFROM:{winter}\nTZOFFSETTO:{summer}\nEND:DAYLIGHT\nEND:VTIMEZONE"
    )
    items = read(ics(vtimezone, f'UID:w\nDTSTART;TZID="{windows}":20250602T090000\nDURATION:PT30M'))
    assert [b.start for b in items.busy] == [minutes(utc)]
    assert items.notes == (f"ana.ics:VTIMEZONE[0]: a Windows time zone name, read as {iana} (CLDR windowsZones table)",)


def test_custom_tzid_is_resolved_from_its_vtimezone() -> None:
    """``/example.com/Custom-Berlin`` with CET/CEST rules reads as Europe/Berlin: a weekly 14:00 keeps
    its wall time across the March change, 02:30 on the spring-forward night is 03:30 CEST, and 02:30 on
    the fall-back night is the first (CEST) one."""
    items = read_ical((DATA / "custom-berlin.ics").read_bytes(), ANA, clinic(), dt.date(2025, 3, 1), day(160))
    assert spans(items) == [
        (minutes("2025-03-21T14:00+01:00"), minutes("2025-03-21T15:30+01:00")),
        (minutes("2025-03-28T14:00+01:00"), minutes("2025-03-28T15:30+01:00")),
        (minutes("2025-03-30T03:30+02:00"), minutes("2025-03-30T04:00+02:00")),
        (minutes("2025-04-04T14:00+02:00"), minutes("2025-04-04T15:30+02:00")),
        (minutes("2025-10-26T02:30+02:00"), minutes("2025-10-26T04:00+01:00")),
    ]
    assert items.notes == (
        "ana.ics:VTIMEZONE[0]: a custom TZID, read as Europe/Berlin (same UTC offsets and transitions over the window)",
    )


# ---- values the reader does not use, and time zones a file does not define (issue 11) ---------------

CET = (
    "BEGIN:VTIMEZONE\nTZID:{tzid}\nBEGIN:STANDARD\nDTSTART:19701025T030000\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\n"
    "TZOFFSETFROM:{summer}\nTZOFFSETTO:+0100\nEND:STANDARD\nBEGIN:DAYLIGHT\nDTSTART:19700329T020000\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\nEND:DAYLIGHT\nEND:VTIMEZONE"
)
BERLIN_NINE = "2025-06-02T09:00+02:00"


def test_an_unparsable_value_in_an_alarm_does_not_refuse_the_file() -> None:
    """Allows: an alarm's TRIGGER written ``PT-2H`` (RFC 5545 says ``-PT2H``) is a value the reader does not
    use: the event is read, in lenient and in strict mode (it refused the whole file as a bad line);
    likewise a to-do's unparsable DUE."""
    alarm = "BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER;RELATED=START:PT-2H\nEND:VALARM"
    todo = "BEGIN:VTODO\nUID:t\nDUE:tomorrow\nEND:VTODO"  # nor does a to-do's value
    text = ics(f"UID:a\nDTSTART:20250602T150000Z\nDURATION:PT30M\n{alarm}", todo)
    for strict in (False, True):
        items = read(text, strict=strict)
        assert spans(items) == [(minutes("2025-06-02T15:00Z"), minutes("2025-06-02T15:30Z"))]
        assert items.skipped == ("ana.ics:VTODO: not read (only VEVENT and VAVAILABILITY are)",)


def test_an_unparsable_value_the_reader_uses_in_an_available_skips_that_available() -> None:
    """Forbids: an AVAILABLE whose DTSTART cannot be parsed is skipped at its path and line (strict: a
    problem there), no longer a refusal of the whole file as a bad line; its siblings are read."""
    good = "BEGIN:AVAILABLE\nUID:ok\nDTSTART:20250602T140000Z\nDTEND:20250602T160000Z\nEND:AVAILABLE"
    bad = f"BEGIN:AVAILABLE\nUID:bad\nSUMMARY:{SECRET}\nDTSTART:2025-06-03 09:00\nDURATION:PT2H\nEND:AVAILABLE"
    text = ics(f"BEGIN:VAVAILABILITY\nUID:v\nDTSTAMP:20250101T000000Z\n{good}\n{bad}\nEND:VAVAILABILITY")
    items = read(text)
    assert [(o.start, o.end) for o in items.open_times] == [
        (minutes("2025-06-02T14:00Z"), minutes("2025-06-02T16:00Z"))
    ]
    assert items.skipped == (
        "ana.ics:VAVAILABILITY[0].AVAILABLE[1] (line 12): not read: DTSTART is not an RFC 5545 DATE or DATE-TIME",
    )
    assert Problem("ana.ics:VAVAILABILITY[0].AVAILABLE[1].DTSTART", "is not an RFC 5545 DATE or DATE-TIME") in problems(
        text
    )
    assert all(SECRET not in line for line in items.skipped)


def test_a_broken_vtimezone_of_an_iana_tzid_is_skipped_and_the_zone_used() -> None:
    """Allows: a VTIMEZONE ``Europe/Berlin`` with a TZOFFSETFROM of 53 hours is never consulted (an IANA
    TZID is read as that zone): it is listed in ``skipped`` and the event is read; strict refuses it."""
    text = ics(CET.format(tzid="Europe/Berlin", summer="+5328"), "UID:a\nDTSTART;TZID=Europe/Berlin:20250602T090000")
    items = read(text.replace("UID:a\n", "UID:a\nDURATION:PT30M\n"))
    assert [b.start for b in items.busy] == [minutes(BERLIN_NINE)]
    assert items.skipped == (
        "ana.ics:VTIMEZONE[0] (line 4): not read: STANDARD[0].TZOFFSETFROM "
        "is not an RFC 5545 UTC offset (such as -0500)",
    )
    assert Problem(
        "ana.ics:VTIMEZONE[0].STANDARD[0].TZOFFSETFROM", "is not an RFC 5545 UTC offset (such as -0500)"
    ) in problems(text)


def test_a_broken_vtimezone_of_a_custom_tzid_skips_the_events_that_need_it() -> None:
    """Forbids: the same broken VTIMEZONE under a TZID of its own cannot say what the wall times mean."""
    items = read(clinic_time(summer="+5328"))
    assert items.busy == ()
    assert "ana.ics:VEVENT[0] (line 19): not read: DTSTART its TZID's VTIMEZONE has a value that cannot be parsed" in (
        items.skipped
    )


def clinic_time(summer: str = "+0200") -> str:
    """A calendar defining the TZID ``Clinic Time`` (CET rules) with one event at 09:00 on 2 June 2025."""
    return ics(
        CET.format(tzid="Clinic Time", summer=summer),
        'UID:a\nDTSTART;TZID="Clinic Time":20250602T090000\nDURATION:PT30M',
    )


def test_a_custom_tzid_is_read_by_its_own_file_s_vtimezone() -> None:
    """Allows: a file defining ``Clinic Time`` reads its events in it (here CET, so Europe/Berlin, the
    CLDR zone preferred over an equivalent such as Arctic/Longyearbyen when the TZID names no city)."""
    items = read(clinic_time())
    assert [b.start for b in items.busy] == [minutes(BERLIN_NINE)]
    assert items.notes == (
        "ana.ics:VTIMEZONE[0]: a custom TZID, read as Europe/Berlin (same UTC offsets and transitions over the window)",
    )


def test_a_tzid_defined_only_by_another_file_names_no_time_zone() -> None:
    """Forbids: icalendar keeps every VTIMEZONE it parsed for the life of the process; a file using
    ``Clinic Time`` without defining it is not read by another file's definition, whatever was read first."""
    alone = ics('UID:b\nDTSTART;TZID="Clinic Time":20250602T090000\nDURATION:PT30M')
    before = read(alone)
    assert len(read(clinic_time()).busy) == 1  # Clinic Time is now in icalendar's cache
    after = read(alone)
    for items in (before, after):
        assert items.busy == ()
        assert items.skipped == (
            "ana.ics:VEVENT[0] (line 4): not read: DTSTART its TZID names no time zone (an IANA or Windows name, "
            "or a VTIMEZONE)",
        )
