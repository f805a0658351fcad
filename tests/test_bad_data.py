"""The Python API's contract for bad data (docs/semantics.md, "Bad data from Python"): a clinic built in
Python that the engine cannot search is refused with InvalidClinic naming the path, when it is prepared;
what the engine defines a meaning for is allowed; a domain value breaking its rule is InvalidValue (a
SlotfinderError and a ValueError). Also the crashes the fuzz suites found, each pinned as a typed error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from pathlib import Path

import attrs
import pytest

import slotfinder
from slotfinder import (
    InvalidClinic,
    InvalidValue,
    Limits,
    Preference,
    Settings,
    SlotfinderError,
    UnknownTimeZone,
    Weights,
)
from slotfinder._calendars import clinic_check
from slotfinder._domain import (
    BookingLimit,
    Busy,
    BusyKind,
    DateOverride,
    LimitPeriod,
    OpenTime,
    VisitType,
    WorkingHours,
)
from slotfinder._limits import LimitExceeded, MessageTooLarge
from slotfinder.ical import CalendarSource, read_ical
from slotfinder.redox import parse_event
from slotfinder.store import CalendarStore
from tests.clinic_builders import MAIN, MONDAY, NOW, P1, clinic, request, weekly
from tests.server.running import demo_store
from tests.support import example

BASE = clinic()


def _problem(make: object) -> tuple[str, str]:
    """The first (path, rule) that preparing the clinic ``make()`` gives raises."""
    with pytest.raises(InvalidClinic) as caught:
        slotfinder.prepare(make())  # type: ignore[operator]
    first = caught.value.problems[0]
    return first.path, first.rule


# ---- a clinic built in Python: forbidden (the engine cannot search it) -------------------------


def test_a_template_at_an_unknown_location_is_refused_at_its_path() -> None:
    assert _problem(lambda: clinic(templates=[weekly(), weekly(location="nowhere")])) == (
        "$.templates[1].location_id",
        "no location has this id",
    )


def test_a_template_of_an_unknown_provider_or_visit_type_is_refused() -> None:
    assert _problem(lambda: clinic(templates=[weekly(provider="nobody")]))[0] == "$.templates[0].provider_id"
    assert _problem(lambda: clinic(templates=[weekly(visit_types=["XX"])]))[0] == "$.templates[0].visit_types[0]"


def test_an_unknown_time_zone_is_unknown_time_zone_not_pendulums_error() -> None:
    bad = attrs.evolve(BASE, locations=(attrs.evolve(MAIN, time_zone="Mars/Olympus"), *BASE.locations[1:]))
    with pytest.raises(UnknownTimeZone) as caught:
        slotfinder.find_slots(bad, request(), now=NOW)
    assert caught.value.path == "$.locations[0].time_zone"


def test_overrides_and_limits_naming_unknown_things_are_refused() -> None:
    override = DateOverride(P1.id, "nowhere", MONDAY, (WorkingHours(600, 660),))
    assert _problem(lambda: attrs.evolve(BASE, date_overrides=(override,)))[0] == "$.date_overrides[0].location_id"
    limit = BookingLimit(LimitPeriod.DAY, 1, providers=("nobody",))
    assert _problem(lambda: attrs.evolve(BASE, booking_limits=(limit,)))[0] == "$.booking_limits[0].providers[0]"


def test_repeated_ids_are_refused() -> None:
    assert _problem(lambda: clinic(providers=(P1, P1)))[0] == "$.providers[1].id"


def test_the_index_named_is_that_of_the_item_whatever_items_share_references() -> None:
    """Templates are checked once per distinct reference; the path still names the first offending one."""
    afternoon = weekly(start="13:00", end="14:00")
    assert _problem(lambda: clinic(templates=[weekly(), weekly(), afternoon, weekly(location="x")]))[0] == (
        "$.templates[3].location_id"
    )


# ---- allowed: what the engine gives a meaning (nothing asked for matches it) -------------------


def test_rooms_busy_items_and_open_times_naming_what_the_clinic_lacks_are_searched() -> None:
    """A store's pushed slots and imported items may name what the clinic lacks: they match nothing asked."""
    busy = (
        Busy(BusyKind.BOOKING, NOW + 10_000, NOW + 10_030, provider_id="elsewhere"),
        Busy(BusyKind.BOOKING, NOW + 10_000, NOW + 10_030, provider_id=P1.id, visit_type="XX", pool="chairs"),
    )
    stray = OpenTime("nobody", "nowhere", NOW + 10_080, NOW + 10_140)
    odd = attrs.evolve(clinic(templates=[weekly(room="999")]), busy=busy, open_times=(stray,))
    assert slotfinder.find_slots(odd, request(), now=NOW).slots


def test_an_update_of_busy_items_checks_nothing_again() -> None:
    """``updated`` after busy changes reads no template again, nor does a search (cheap for a server)."""
    prepared = slotfinder.prepare(clinic(templates=[weekly(), weekly(start="13:00", end="14:00")]))
    seen: list[int] = []
    original = clinic_check._distinct

    def counting(items: object) -> object:
        found = original(items)  # type: ignore[arg-type]
        seen.append(len(found[0]))
        return found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clinic_check, "_distinct", counting)
        prepared.updated(attrs.evolve(prepared.clinic, busy=(Busy(BusyKind.HOLD, NOW, NOW + 30, provider_id=P1.id),)))
        assert seen == []  # the same templates and rules: nothing to read again
        slotfinder.find_slots(prepared, request(), now=NOW)
        assert seen == []  # a search on a prepared clinic checks nothing
    with pytest.raises(InvalidClinic):  # a changed template is checked
        prepared.updated(attrs.evolve(prepared.clinic, templates=(weekly(location="nowhere"),)))


# ---- domain values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: Preference(days={7}),
        lambda: Preference(times=[1440]),
        lambda: Settings(limit=0),
        lambda: Weights(earliness=float("nan")),
        lambda: VisitType("OV", None, None, 0),
        lambda: Limits(max_depth=0),
    ],
)
def test_a_value_breaking_its_rule_is_invalid_value_a_slotfinder_error_and_a_value_error(make: object) -> None:
    with pytest.raises(InvalidValue) as caught:
        make()  # type: ignore[operator]
    assert isinstance(caught.value, SlotfinderError) and isinstance(caught.value, ValueError)


def test_values_at_their_bounds_are_allowed() -> None:
    Preference(days={0, 6}, times=[0, 1439], duration=1440)
    Settings(limit=1, min_notice_minutes=0)
    VisitType("OV", None, None, 1440)


# ---- what the fuzz suites found ----------------------------------------------------------------

ANA = CalendarSource(MAIN.id, provider_id=P1.id, name="ana.ics")
ICS = (Path(__file__).resolve().parent / "data" / "ical" / "recurrence.ics").read_text(encoding="utf-8")
YEAR = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))


def test_a_time_zone_rule_repeating_every_second_is_refused_before_it_is_evaluated() -> None:
    runaway = ICS.replace("RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU", "RRULE:FREQ=SECONDLY", 1)
    with pytest.raises(InvalidClinic) as caught:
        read_ical(runaway, ANA, clinic(), *YEAR)
    assert caught.value.problems[0].path == "ana.ics:VTIMEZONE"


def test_a_dense_rule_starting_months_into_the_window_is_refused_after_a_day_of_it() -> None:
    """Spans double from the first instance, not over the empty months before it (which once handed a
    rule repeating every second its whole remaining window: 8.6 million instances, before the limit)."""
    dense = ICS.replace("RRULE:FREQ=WEEKLY;COUNT=4", "RRULE:FREQ=WEEKLY;COUNT=4\nRRULE:FREQ=SECONDLY", 1)
    with pytest.raises(LimitExceeded) as caught:
        read_ical(dense, ANA, clinic(), *YEAR)
    assert caught.value.problems[0].rule.endswith("(limit max_rule_instances)")  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text",
    [
        "BEGIN:VCALENDAR\ud800\nEND:VCALENDAR\n",  # a lone surrogate in a str
        ICS.replace("TZID:America/Chicago", "TZID:America/Chicago\nTZID:America/Chicago", 1),  # TZID twice
        ICS.replace("TZID=America/Chicago", "TZID=" + "Z" * 300),  # a TZID too long for a file name
        ICS.replace("DTSTART;TZID=America/Chicago:20250603T100000", "DTSTART;VALUE=DATE:PT0M", 1),  # a duration
    ],
)
def test_text_icalendar_trips_on_is_invalid_clinic(text: str) -> None:
    """Refused in strict mode; the lenient reading skips what it can and never raises anything else."""
    with pytest.raises(InvalidClinic):
        read_ical(text, ANA, clinic(), *YEAR, strict=True)
    with contextlib.suppress(InvalidClinic):
        read_ical(text, ANA, clinic(), *YEAR)


def test_a_clinic_file_instant_past_the_supported_range_is_refused() -> None:
    data = json.loads(json.dumps(slotfinder._calendars.clinic_file.clinic_to_dict(slotfinder.demo_clinic())))
    data["busy"][0]["duration"] = 4_000_000_000
    data["busy"][1]["start"] = "9999-12-31T00:00:00Z"
    with pytest.raises(InvalidClinic) as caught:
        slotfinder.load_clinic(data)
    assert {p.path for p in caught.value.problems} == {"$.busy[0].duration", "$.busy[1].start"}


def test_an_event_past_a_limit_is_message_too_large_and_logged_as_rejected(tmp_path: Path) -> None:
    push = example("pushslots.json")
    push["Slots"] = push["Slots"] * 3
    with pytest.raises(MessageTooLarge) as caught:
        parse_event(push, limits=Limits(max_array_items=5))
    assert isinstance(caught.value, LimitExceeded) and caught.value.problems[0].path == "$.Slots"
    parse_event(push, limits=Limits(max_array_items=6))  # at the limit: read
    with CalendarStore(demo_store(tmp_path / "clinic.db")) as store:
        for text in ("[" * 100_000 + "]" * 100_000, json.dumps({"Meta": _deep(40)})):
            done = store.ingest(text)
            assert not done.applied and "max_depth" in done.anomalies[0]


def _deep(levels: int) -> object:
    node: object = "x"
    for _ in range(levels):
        node = [node]
    return node
