"""A booking's visit type through the calendar store: named by its Reason, kept on its busy item, and
acting there (its buffers, booking limits), as docs/clinic-format.md says."""

from __future__ import annotations

import datetime as dt
import json

from attrs import evolve

from slotfinder._calendars.zones import instant_of
from slotfinder._domain import (
    BookingLimit,
    Busy,
    BusyKind,
    Clinic,
    LimitPeriod,
    Location,
    Need,
    PatientId,
    Pool,
    Provider,
    ProviderFilter,
    SlotRequest,
    VisitType,
    VisitTypeFilter,
    WeeklyTemplate,
)
from slotfinder._events import EventKind, LocationRef, VisitEvent
from slotfinder._pipeline import list_candidates
from slotfinder.store._records import dump_appointment, load_appointment
from slotfinder.store._sqlite import StoreState, materialise
from slotfinder.store._state import Appointment, apply_visit, appointment_busy, from_busy

ZONE = "America/Chicago"
MONDAY = dt.date(2025, 6, 2)
P1 = Provider("1111111111")
MAIN = Location("loc-main", facility="RES General Hospital", department="3N", time_zone=ZONE)
OV = VisitType("OV", "DNE", "Office Visit", 30, buffer_after=15)
NP = VisitType("NP", "DNE", "New Patient Visit", 60)
CLINIC = Clinic(
    providers=(P1,),
    locations=(MAIN,),
    visit_types=(OV, NP),
    templates=(WeeklyTemplate(P1.id, MAIN.id, range(5), start=9 * 60, end=12 * 60),),
)
PATIENT = PatientId("0000000001", "MR")


def at(hhmm: str) -> int:
    """The instant of Chicago wall time ``hhmm`` on MONDAY."""
    hours, mins = hhmm.split(":")
    return instant_of(ZONE, MONDAY, int(hours) * 60 + int(mins))


def new(reason: str | None, start: str = "10:00", duration: int = 30, number: str = "V-1") -> VisitEvent:
    """A New of P1 at MAIN on Monday with a patient and this Reason."""
    return VisitEvent(
        kind=EventKind.NEW,
        visit_number=number,
        start=at(start),
        duration=duration,
        provider_id=P1.id,
        location=LocationRef(department="3N", facility="RES General Hospital"),
        patients=(PATIENT,),
        reason=reason,
    )


def booked(*events: VisitEvent, clinic: Clinic = CLINIC) -> dict[str, Appointment]:
    """The records after applying ``events`` in order."""
    state: dict[str, Appointment] = {}
    for event in events:
        changes, _ = apply_visit(state, event, clinic)
        state.update(changes)
    return state


def starts(appointments: dict[str, Appointment], code: str, clinic: Clinic = CLINIC) -> set[int]:
    """Monday's starts of ``code`` in the clinic the store would give the engine."""
    snapshot = materialise(StoreState(clinic, appointments, ()))
    request = SlotRequest(start=at("00:00"), end=at("23:59"), visit_types=(VisitTypeFilter(code),))
    return {c.start for c in list_candidates(snapshot, request, now=at("00:00") - 7 * 1440) if c.eligible}


def test_reason_naming_a_visit_types_description_gives_the_booking_its_type() -> None:
    """Reason "Office Visit" (any case, stray spaces) is OV: the record and its busy item say so."""
    records = booked(new(" office visit "))
    assert records["V-1"].visit_type == "OV"
    assert [b.visit_type for b in appointment_busy(records["V-1"])] == ["OV"]


def test_reason_naming_a_visit_types_code_gives_the_booking_its_type() -> None:
    """Reason "np" is the code of NP."""
    assert booked(new("np"))["V-1"].visit_type == "NP"


def test_reason_naming_no_visit_type_leaves_the_booking_without_one() -> None:
    """An unknown Reason, or none, gives no visit type."""
    assert booked(new("Follow-up"))["V-1"].visit_type is None
    assert booked(new(None))["V-1"].visit_type is None


def test_a_booked_visit_keeps_its_types_buffer() -> None:
    """An OV booked 10:00-10:30 by a New keeps OV's 15 minutes after: NP may start at 10:45, not at 10:30."""
    found = starts(booked(new("Office Visit")), "NP")
    assert at("10:45") in found
    assert at("10:30") not in found


def test_a_booked_visit_without_a_type_keeps_no_buffer() -> None:
    """The same New with an unknown Reason: NP may start at 10:30."""
    assert at("10:30") in starts(booked(new("Follow-up")), "NP")


def test_a_booked_visit_counts_toward_its_types_limit() -> None:
    """At most 1 NP a day: a New whose Reason is NP fills Monday for NP; one whose Reason is unknown does not."""
    limited = Clinic(
        providers=CLINIC.providers,
        locations=CLINIC.locations,
        visit_types=CLINIC.visit_types,
        templates=CLINIC.templates,
        booking_limits=(BookingLimit(LimitPeriod.DAY, max_visits=1, visit_types=("NP",)),),
    )
    assert starts(booked(new("New Patient Visit", "09:00", 60), clinic=limited), "NP", limited) == set()
    assert starts(booked(new("Follow-up", "09:00", 60), clinic=limited), "NP", limited)


def test_a_clinic_files_booking_keeps_its_type_as_a_record() -> None:
    """A booking read from the clinic file becomes a record with its visit type (events then change it)."""
    item = Busy(BusyKind.BOOKING, at("09:00"), at("09:30"), provider_id=P1.id, visit_number="V-9", visit_type="OV")
    assert from_busy(item).visit_type == "OV"
    assert appointment_busy(from_busy(item))[0].visit_type == "OV"


def test_records_round_trip_and_older_records_read_without_a_type() -> None:
    """A record's JSON keeps the visit type; a record written before it existed reads with none."""
    record = booked(new("Office Visit"))["V-1"]
    assert load_appointment(dump_appointment(record)) == record
    older = json.loads(dump_appointment(record))
    del older["visit_type"]
    assert load_appointment(json.dumps(older)).visit_type is None


GROUP = VisitType("GRP", "DNE", "Group therapy", 60, seats=2)
GROUP_CLINIC = Clinic(
    providers=(P1,),
    locations=(MAIN,),
    visit_types=(OV, GROUP),
    templates=(WeeklyTemplate(P1.id, MAIN.id, range(5), start=9 * 60, end=12 * 60),),
)


def test_a_group_session_booked_through_events_stays_open_until_full() -> None:
    """Group visits through the store: one patient booked at 10:00 leaves a seat (10:00 still offered to
    GRP, not to OV); a second patient fills the session (10:00 no longer offered)."""
    first = new("Group therapy", duration=60)
    one = booked(first, clinic=GROUP_CLINIC)
    assert at("10:00") in starts(one, "GRP", GROUP_CLINIC)
    assert at("10:00") not in starts(one, "OV", GROUP_CLINIC)
    second = VisitEvent(
        kind=EventKind.NEW,
        visit_number="V-2",
        start=at("10:00"),
        duration=60,
        provider_id=P1.id,
        location=LocationRef(department="3N", facility="RES General Hospital"),
        patients=(PatientId("0000000002", "MR"),),
        reason="Group therapy",
    )
    both = booked(first, second, clinic=GROUP_CLINIC)
    assert at("10:00") not in starts(both, "GRP", GROUP_CLINIC)


def test_a_booking_through_events_takes_its_pooled_units() -> None:
    """Pooled resources through the store: MAIN has one infusion chair; a New infusion by P1 at 10:00
    takes it, so P2 is not offered an infusion at 10:00 (allows: at 11:00, and without the booking)."""
    p2 = Provider("2222222222")
    infusion = VisitType("INF", "DNE", "Infusion", 60, needs=(Need("CHAIR", 1),))
    chaired = Clinic(
        providers=(P1, p2),
        locations=(evolve(MAIN, pools=(Pool("CHAIR", 1),)),),
        visit_types=(OV, infusion),
        templates=tuple(WeeklyTemplate(p.id, MAIN.id, range(5), start=9 * 60, end=12 * 60) for p in (P1, p2)),
    )
    state = booked(new("Infusion", duration=60), clinic=chaired)
    assert state["V-1"].pools == (Need("CHAIR", 1),)
    snapshot = materialise(StoreState(chaired, state, ()))
    request = SlotRequest(
        start=at("00:00"), end=at("23:59"), providers=(ProviderFilter(p2.id),), visit_types=(VisitTypeFilter("INF"),)
    )
    found = {c.start for c in list_candidates(snapshot, request, now=at("00:00") - 7 * 1440) if c.eligible}
    assert at("10:00") not in found
    assert at("11:00") in found
    empty = materialise(StoreState(chaired, {}, ()))
    assert at("10:00") in {c.start for c in list_candidates(empty, request, now=at("00:00") - 7 * 1440)}
