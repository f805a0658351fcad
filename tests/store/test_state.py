"""The rules of ``slotfinder.store._state``, each shown by what it allows and what it forbids.

A small clinic in America/Chicago: ``P1`` and ``P2`` work at ``MAIN`` (department 3N, rooms 136 and
137) Monday to Friday 09:00-12:00 on a 15-minute grid; ``ANNEX`` (department 2W) has no template.
Events are built as domain values (``VisitEvent``, ``SlotsPushed``) on Monday 2025-06-02; the engine
tests search that Monday for an Office Visit (30 minutes) in the clinic ``materialise`` builds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import pytest

from slotfinder._calendars.zones import instant_of
from slotfinder._domain import (
    Busy,
    BusyKind,
    Clinic,
    Location,
    OpenTime,
    PatientId,
    Provider,
    SlotRequest,
    VisitType,
    VisitTypeFilter,
    WeeklyTemplate,
)
from slotfinder._events import EventKind, LocationRef, PushedSlot, SlotsPushed, StaffTime, VisitEvent
from slotfinder._pipeline import list_candidates
from slotfinder.store._sqlite import StoreState, materialise
from slotfinder.store._state import (
    Appointment,
    PushedEntry,
    ReasonMap,
    apply_push,
    apply_visit,
    appointment_busy,
    pushed_items,
)

ZONE = "America/Chicago"
MONDAY = dt.date(2025, 6, 2)
P1 = Provider("1111111111", "NPI", "Ana", "Lindqvist")
P2 = Provider("2222222222", "NPI", "Ben", "Okafor")
MAIN = Location("loc-main", facility="RES General Hospital", department="3N", time_zone=ZONE, rooms=("136", "137"))
ANNEX = Location("loc-annex", facility="RES Annex", department="2W", time_zone=ZONE)
OV = VisitType("OV", "DNE", "Office Visit", 30)
NP = VisitType("NP", "DNE", "New Patient Visit", 60)
CLINIC = Clinic(
    providers=(P1, P2),
    locations=(MAIN, ANNEX),
    visit_types=(OV, NP),
    templates=(
        WeeklyTemplate(P1.id, MAIN.id, range(5), start=9 * 60, end=12 * 60),
        WeeklyTemplate(P2.id, MAIN.id, range(5), start=9 * 60, end=12 * 60),
    ),
)
AT_MAIN = LocationRef(department="3N", facility="RES General Hospital", room="136")
PATIENT = PatientId("0000000001", "MR")
NO_REASONS = ReasonMap()


def at(hhmm: str, date: dt.date = MONDAY) -> int:
    """The instant of Chicago wall time ``hhmm`` on ``date``."""
    hours, mins = hhmm.split(":")
    return instant_of(ZONE, date, int(hours) * 60 + int(mins))


NOW = at("00:00", MONDAY - dt.timedelta(days=7))


def visit(
    kind: EventKind = EventKind.NEW,
    number: str = "V-1",
    start: str | None = "10:00",
    duration: int | None = 30,
    *,
    patient: bool = True,
    provider: str | None = P1.id,
    location: LocationRef | None = AT_MAIN,
    staff: Sequence[StaffTime] = (),
    old: str | None = None,
) -> VisitEvent:
    """A visit event of P1 at MAIN room 136 on Monday (10:00, 30 minutes, with a patient) unless told."""
    return VisitEvent(
        kind=kind,
        visit_number=number,
        start=None if start is None else at(start),
        duration=duration,
        provider_id=provider,
        location=location,
        patients=(PATIENT,) if patient else (),
        reason="Office Visit",
        staff=tuple(staff),
        old_visit_number=old,
    )


def cancel(number: str = "V-1") -> VisitEvent:
    """A Cancel naming only the visit number."""
    return visit(EventKind.CANCEL, number, None, None, patient=False, provider=None, location=None)


def fold(
    *events: VisitEvent, known: Mapping[str, Appointment] | None = None, clinic: Clinic = CLINIC
) -> tuple[dict[str, Appointment], list[str]]:
    """The records after applying ``events`` in order, and every anomaly met on the way."""
    state = dict(known or {})
    anomalies: list[str] = []
    for event in events:
        changes, found = apply_visit(state, event, clinic)
        state.update(changes)
        anomalies += found
    return state, anomalies


def busy_of(appointments: Mapping[str, Appointment]) -> list[Busy]:
    """The busy time every record stands for."""
    return [b for number in sorted(appointments) for b in appointment_busy(appointments[number])]


def push(
    *slots: tuple[str, int, str | None],
    provider: str = P1.id,
    location: LocationRef | None = AT_MAIN,
) -> SlotsPushed:
    """A PushSlots of (start, duration, Reason) slots for one provider and location, IDs s-0, s-1, ..."""
    return SlotsPushed(
        PushedSlot(f"s-{i}", at(start), length, reason, provider, location)
        for i, (start, length, reason) in enumerate(slots)
    )


def entry(start: str, end: str, provider: str = P1.id, location: str = MAIN.id, slot_id: str = "old") -> PushedEntry:
    """An earlier pushed slot, bookable for any visit type."""
    return PushedEntry(provider, location, at(start), at(end), True, (), slot_id)


def starts(
    appointments: Mapping[str, Appointment] | None = None,
    pushed: Iterable[PushedEntry] = (),
    *,
    provider: str = P1.id,
    clinic: Clinic = CLINIC,
) -> set[int]:
    """The eligible Office Visit starts of ``provider`` on Monday in the clinic the store would give the engine."""
    snapshot = materialise(StoreState(clinic, dict(appointments or {}), tuple(pushed)))
    request = SlotRequest(
        start=at("00:00"), end=at("00:00", MONDAY + dt.timedelta(days=1)), visit_types=(VisitTypeFilter("OV"),)
    )
    return {c.start for c in list_candidates(snapshot, request, now=NOW) if c.provider_id == provider and c.eligible}


def grid(first: str, last: str) -> set[int]:
    """Every 15-minute start from ``first`` to ``last`` inclusive."""
    return set(range(at(first), at(last) + 1, 15))


TEMPLATE = grid("09:00", "11:30")  # a 30-minute visit fits from 09:00 to 11:30


# ---- New ------------------------------------------------------------------------------------------


def test_new_with_patient_is_a_booking() -> None:
    """A New with a patient books its provider and room as a BOOKING of that patient (of the visit type its
    Reason, "Office Visit", names)."""
    state, anomalies = fold(visit())
    assert anomalies == []
    assert state["V-1"].status == "booked"
    assert busy_of(state) == [
        Busy(
            BusyKind.BOOKING,
            at("10:00"),
            at("10:30"),
            provider_id=P1.id,
            location_id=MAIN.id,
            room="136",
            visit_number="V-1",
            patients=(PATIENT,),
            visit_type="OV",
        )
    ]


def test_new_without_patient_is_a_block() -> None:
    """A New without a patient (a hold) is a BLOCK, not a booking, over the same time."""
    state, _ = fold(visit(patient=False))
    (item,) = busy_of(state)
    assert item.kind is BusyKind.BLOCK
    assert (item.start, item.end, item.provider_id, item.patients) == (at("10:00"), at("10:30"), P1.id, ())


def test_new_for_a_booked_visit_replaces_it() -> None:
    """A second, different New for a booked visit replaces it (and says so); the first time is freed."""
    state, anomalies = fold(visit(), visit(start="11:00"))
    assert [(b.start, b.end) for b in busy_of(state)] == [(at("11:00"), at("11:30"))]
    assert anomalies == ["visit V-1: New for a visit already booked (applied as a Modification)"]


# ---- Cancel ---------------------------------------------------------------------------------------


def test_cancel_frees_the_visit() -> None:
    """A booked visit is busy; after its Cancel it occupies nothing and is remembered as cancelled."""
    booked, _ = fold(visit())
    assert busy_of(booked) != []
    state, anomalies = fold(cancel(), known=booked)
    assert busy_of(state) == []
    assert state["V-1"].status == "cancelled"
    assert anomalies == []


def test_cancel_frees_only_its_own_visit() -> None:
    """Cancelling V-1 leaves another visit at the same time booked."""
    state, _ = fold(visit(), visit(number="V-2", provider=P2.id), cancel("V-1"))
    assert [b.visit_number for b in busy_of(state)] == ["V-2"]


def test_cancel_before_new_keeps_it_cancelled() -> None:
    """A Cancel that arrives before its New: recorded (with an anomaly) and the late New stays freed."""
    state, anomalies = fold(cancel(), visit())
    assert busy_of(state) == []
    assert state["V-1"].status == "cancelled"
    assert anomalies == [
        "visit V-1: Cancel of an unknown visit (kept; a later New stays cancelled)",
        "visit V-1: New after the visit was cancelled (stays freed)",
    ]


def test_new_after_cancel_of_another_number_books() -> None:
    """Only the cancelled number stays freed: a New of another number (a rebooking) is booked."""
    state, anomalies = fold(cancel("V-1"), visit(number="V-2"))
    assert [b.visit_number for b in busy_of(state)] == ["V-2"]
    assert anomalies == ["visit V-1: Cancel of an unknown visit (kept; a later New stays cancelled)"]


# ---- Modification ---------------------------------------------------------------------------------


def test_modification_replaces_the_visit() -> None:
    """A Modification moves the visit: the new time is busy, the old time is free; nothing is odd."""
    state, anomalies = fold(visit(), visit(EventKind.MODIFICATION, start="11:00", duration=15, patient=False))
    assert [(b.kind, b.start, b.end) for b in busy_of(state)] == [(BusyKind.BLOCK, at("11:00"), at("11:15"))]
    assert anomalies == []


def test_modification_of_unknown_visit_books_it() -> None:
    """A Modification of a visit never heard of is booked as given, with an anomaly."""
    state, anomalies = fold(visit(EventKind.MODIFICATION))
    assert [(b.visit_number, b.start) for b in busy_of(state)] == [("V-1", at("10:00"))]
    assert anomalies == ["visit V-1: Modification of an unknown visit (booked as given)"]


def test_modification_after_cancel_stays_freed() -> None:
    """A Modification of a cancelled visit changes its record but books no time."""
    state, anomalies = fold(visit(), cancel(), visit(EventKind.MODIFICATION, start="11:00"))
    assert busy_of(state) == []
    assert state["V-1"].start == at("11:00")
    assert anomalies == ["visit V-1: Modification after the visit was cancelled (stays freed)"]


# ---- Reschedule -----------------------------------------------------------------------------------


def test_reschedule_frees_old_and_books_new() -> None:
    """A Reschedule with OldVisitNumber frees the old visit and books the new number at the new time."""
    state, anomalies = fold(visit(number="V-1"), visit(EventKind.RESCHEDULE, "V-2", "11:00", old="V-1"))
    assert [(b.visit_number, b.start) for b in busy_of(state)] == [("V-2", at("11:00"))]
    assert state["V-1"].status == "rescheduled"
    assert anomalies == []


def test_reschedule_of_unknown_old_visit_records_it() -> None:
    """A Reschedule whose old visit is unknown: the new one is booked, the old recorded as rescheduled, odd."""
    state, anomalies = fold(visit(EventKind.RESCHEDULE, "V-2", "11:00", old="V-1"))
    assert [(b.visit_number, b.start) for b in busy_of(state)] == [("V-2", at("11:00"))]
    assert state["V-1"] == Appointment("V-1", "rescheduled")
    assert anomalies == ["visit V-1: rescheduled but unknown (recorded as rescheduled)"]


def test_reschedule_in_place_moves_the_visit() -> None:
    """A Reschedule without OldVisitNumber moves its own visit: old time free, new time busy."""
    state, anomalies = fold(visit(), visit(EventKind.RESCHEDULE, start="11:00"))
    assert [(b.visit_number, b.start) for b in busy_of(state)] == [("V-1", at("11:00"))]
    assert anomalies == []


@pytest.mark.parametrize("history", ["booked then cancelled", "cancel arrived first"])
def test_reschedule_in_place_after_cancel_stays_freed(history: str) -> None:
    """A cancelled number is never rebooked (a rebooking gets a new number): a late in-place Reschedule stays freed."""
    before = (visit(), cancel()) if history == "booked then cancelled" else (cancel(),)
    state, anomalies = fold(*before, visit(EventKind.RESCHEDULE, start="11:00"))
    assert busy_of(state) == []
    assert state["V-1"].status == "cancelled"
    assert "visit V-1: Reschedule after the visit was cancelled (stays freed)" in anomalies


def test_reschedule_onto_a_cancelled_number_stays_freed() -> None:
    """A Reschedule onto a number already cancelled frees the old visit and books nothing."""
    state, anomalies = fold(visit(number="V-1"), cancel("V-2"), visit(EventKind.RESCHEDULE, "V-2", "11:00", old="V-1"))
    assert busy_of(state) == []
    assert anomalies[-1] == "visit V-2: Reschedule onto a visit already cancelled (stays freed)"


# ---- NoShow ---------------------------------------------------------------------------------------


def test_no_show_changes_no_busy_time() -> None:
    """A NoShow is history: the visit keeps its time and is marked as a no-show."""
    booked, _ = fold(visit())
    state, anomalies = fold(visit(EventKind.NO_SHOW, start=None, duration=None), known=booked)
    assert busy_of(state) == busy_of(booked)
    assert state["V-1"].no_show
    assert anomalies == []


def test_no_show_of_unknown_visit_books_nothing() -> None:
    """A NoShow of an unknown visit is recorded (status unknown, an anomaly) and occupies nothing."""
    state, anomalies = fold(visit(EventKind.NO_SHOW))
    assert busy_of(state) == []
    assert state["V-1"] == Appointment("V-1", "unknown", no_show=True)
    assert anomalies == ["visit V-1: NoShow of an unknown visit"]


# ---- duplicates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        visit(),
        visit(patient=False),
        visit(EventKind.MODIFICATION),
        cancel(),
        visit(EventKind.NO_SHOW),
        visit(EventKind.RESCHEDULE, start="11:00"),
        visit(EventKind.RESCHEDULE, "V-2", "11:00", old="V-1"),
    ],
    ids=["new", "hold", "modification", "cancel", "noshow", "reschedule", "reschedule-linked"],
)
def test_same_event_twice_changes_nothing(event: VisitEvent) -> None:
    """An event delivered twice (at-least-once delivery): the second leaves the state and busy time as they were."""
    for before in ({}, fold(visit())[0]):
        once, _ = fold(event, known=before)
        twice, again = fold(event, known=once)
        assert twice == once
        assert busy_of(twice) == busy_of(once)
        assert not any("already booked" in a for a in again)


# ---- staff and equipment --------------------------------------------------------------------------


def test_additional_staff_occupy_their_provider() -> None:
    """AdditionalStaff make their provider busy for their own span, with the visit's kind."""
    staff = StaffTime(P2.id, at("10:15"), at("10:45"))
    state, _ = fold(visit(staff=[staff]))
    assert busy_of(state)[1] == Busy(BusyKind.BOOKING, at("10:15"), at("10:45"), provider_id=P2.id, visit_number="V-1")


def test_staff_of_a_cancelled_visit_are_freed() -> None:
    """Cancelling the visit frees its additional staff and equipment with it."""
    state, _ = fold(visit(staff=[StaffTime(P2.id, at("10:00"), at("10:30"))]), cancel())
    assert busy_of(state) == []


def test_equipment_is_busy_as_equipment() -> None:
    """Equipment yields a Busy naming the equipment (at the visit's location), not a provider."""
    state, _ = fold(visit(patient=False, staff=[StaffTime("US-1", at("10:00"), at("10:20"), is_equipment=True)]))
    assert busy_of(state)[1] == Busy(
        BusyKind.BLOCK, at("10:00"), at("10:20"), location_id=MAIN.id, visit_number="V-1", equipment="US-1"
    )


def test_engine_honours_additional_staff() -> None:
    """P1's visit with P2 as additional staff removes P2's overlapping starts; without staff P2 stays open."""
    plain, _ = fold(visit())
    assert starts(plain, provider=P2.id) == TEMPLATE
    with_staff, _ = fold(visit(staff=[StaffTime(P2.id, at("10:00"), at("10:30"))]))
    assert starts(with_staff, provider=P2.id) == TEMPLATE - grid("09:45", "10:15")


# ---- locations and providers ----------------------------------------------------------------------


def test_known_location_is_resolved() -> None:
    """A Department (and Facility) of the clinic resolves to its location, whatever the case."""
    state, anomalies = fold(visit(location=LocationRef(department="3n", facility="res general hospital", room="137")))
    assert (state["V-1"].location_id, state["V-1"].room) == (MAIN.id, "137")
    assert anomalies == []


def test_unknown_location_is_kept_with_an_anomaly() -> None:
    """A location no clinic location matches: the visit is kept (its provider busy) without one, and noted."""
    state, anomalies = fold(visit(location=LocationRef(department="9Z", room="901")))
    assert state["V-1"].location_id is None
    assert [(b.provider_id, b.location_id, b.room) for b in busy_of(state)] == [(P1.id, None, None)]
    assert anomalies == ["visit V-1: its location matches no clinic location (kept without one)"]


def test_facility_must_match_when_given() -> None:
    """Department 3N of another facility is not MAIN: the visit is kept without a location."""
    state, anomalies = fold(visit(location=LocationRef(department="3N", facility="RES Annex")))
    assert state["V-1"].location_id is None
    assert len(anomalies) == 1


def test_unknown_provider_is_kept_with_an_anomaly() -> None:
    """A provider not in the clinic: the visit is kept as given (its room busy), and noted."""
    state, anomalies = fold(visit(provider="9999999999"))
    assert [(b.provider_id, b.room) for b in busy_of(state)] == [("9999999999", "136")]
    assert anomalies == ["visit V-1: its provider is not in the clinic (kept as given)"]


# ---- PushSlots ------------------------------------------------------------------------------------


def test_push_replaces_overlapping_slots_of_same_provider_and_location() -> None:
    """A push for P1 at MAIN replaces P1's MAIN slots it overlaps; P2's, ANNEX's and later ones stay."""
    earlier = [
        entry("09:00", "09:30", slot_id="replaced"),
        entry("14:00", "14:30", slot_id="later"),
        entry("09:00", "09:30", provider=P2.id, slot_id="other-provider"),
        entry("09:00", "09:30", location=ANNEX.id, slot_id="other-location"),
    ]
    kept, anomalies = apply_push(earlier, push(("09:15", 30, "Office Visit")), CLINIC, NO_REASONS)
    assert sorted(e.slot_id or "" for e in kept) == ["later", "other-location", "other-provider", "s-0"]
    assert anomalies == []


def test_push_replaces_within_its_span_only() -> None:
    """The replaced span runs from the push's first start to its last end: an old slot touching it stays."""
    earlier = [entry("08:30", "09:00", slot_id="before"), entry("09:30", "09:45", slot_id="inside")]
    pushed = push(("09:00", 15, "Office Visit"), ("10:00", 15, "Office Visit"))
    kept, _ = apply_push(earlier, pushed, CLINIC, NO_REASONS)
    assert sorted(e.slot_id or "" for e in kept) == ["before", "s-0", "s-1"]


def test_push_twice_changes_nothing() -> None:
    """The same PushSlots applied twice gives the same pushed slots."""
    pushed = push(("09:00", 15, "Office Visit"), ("09:15", 15, "Blocked"))
    once, _ = apply_push([], pushed, CLINIC, NO_REASONS)
    twice, _ = apply_push(once, pushed, CLINIC, NO_REASONS)
    assert twice == once


def test_push_without_known_location_is_noted() -> None:
    """A pushed slot of an unknown location (or without provider) cannot be placed: it is noted as an anomaly."""
    kept, anomalies = apply_push(
        [], push(("09:00", 15, "Office Visit"), location=LocationRef("9Z")), CLINIC, NO_REASONS
    )
    assert kept == []
    assert anomalies == ["pushed slot 0: no provider or no known location (not applied)"]


# ---- ReasonMap ------------------------------------------------------------------------------------

REASONS = ReasonMap({"Follow-up only": ("OV",), "Any visit": (), "Lunch": None})


def pushed_one(
    reason: str | None, reasons: ReasonMap = REASONS, clinic: Clinic = CLINIC
) -> tuple[PushedEntry, list[str]]:
    """The single entry a one-slot push (P1, MAIN, 14:00, 30 minutes) becomes, and its anomalies."""
    (only,), anomalies = apply_push([], push(("14:00", 30, reason)), clinic, reasons)
    return only, anomalies


def test_mapped_reason_is_bookable_for_its_codes() -> None:
    """A Reason mapped to codes (compared case-insensitively) opens the slot to those visit types only."""
    item, anomalies = pushed_one("  FOLLOW-UP ONLY ")
    assert (item.bookable, item.visit_types, anomalies) == (True, ("OV",), [])
    open_times, busy = pushed_items([item])
    assert open_times == [OpenTime(P1.id, MAIN.id, at("14:00"), at("14:30"), None, ("OV",), "136", "s-0")]
    assert busy == []


def test_reason_mapped_to_no_codes_is_bookable_for_any_type() -> None:
    """A Reason mapped to an empty tuple opens the slot to every visit type."""
    item, _ = pushed_one("Any visit")
    assert (item.bookable, item.visit_types) == (True, ())


def test_reason_mapped_to_none_is_busy() -> None:
    """A Reason mapped to None is not bookable: the slot is busy time for its provider."""
    item, anomalies = pushed_one("lunch")
    assert (item.bookable, anomalies) == (False, [])
    open_times, busy = pushed_items([item])
    assert open_times == []
    assert busy == [Busy(BusyKind.BLOCK, at("14:00"), at("14:30"), provider_id=P1.id, visit_number="s-0")]


@pytest.mark.parametrize("reason", ["Office Visit", "office visit", "OV", "New Patient Visit"])
def test_visit_type_description_or_code_is_bookable(reason: str) -> None:
    """A Reason naming a visit type by description or code (not in the map) opens the slot to that type."""
    item, anomalies = pushed_one(reason)
    assert item.bookable and anomalies == []
    assert item.visit_types == (("NP",) if reason.startswith("New") else ("OV",))


@pytest.mark.parametrize("reason", ["Blocked", "Office", None, ""])
def test_unmapped_reason_is_busy_with_an_anomaly(reason: str | None) -> None:
    """A Reason neither mapped nor naming a visit type (or none at all) is not bookable, and noted."""
    item, anomalies = pushed_one(reason)
    assert not item.bookable
    assert anomalies == ["pushed slot s-0: Reason missing or not mapped (not bookable)"]


def test_missing_reason_does_not_match_a_visit_type_without_description() -> None:
    """A slot without Reason names no visit type, even when a clinic visit type has no description."""
    clinic = Clinic(providers=(P1,), locations=(MAIN,), visit_types=(VisitType("OV", None, None, 30),))
    assert REASONS.lookup(None, clinic) == (False, (), False)
    item, anomalies = pushed_one(None, clinic=clinic)
    assert not item.bookable
    assert anomalies == ["pushed slot s-0: Reason missing or not mapped (not bookable)"]


# ---- the engine honours the state -----------------------------------------------------------------


def test_engine_sees_the_template_without_events() -> None:
    """With no events, P1's Monday offers every 15-minute start from 09:00 to 11:30."""
    assert starts() == TEMPLATE


def test_booked_visit_removes_overlapping_starts() -> None:
    """A booking 10:00-10:30 removes the starts whose visit would overlap it (09:45, 10:00, 10:15), no others."""
    state, _ = fold(visit())
    assert starts(state) == TEMPLATE - grid("09:45", "10:15")


def test_hold_removes_overlapping_starts() -> None:
    """A patient-less hold (a block) removes overlapping starts like a booking."""
    state, _ = fold(visit(patient=False))
    assert starts(state) == TEMPLATE - grid("09:45", "10:15")


def test_cancelled_visit_restores_its_starts() -> None:
    """After the Cancel, every start the booking had removed is offered again."""
    state, _ = fold(visit(), cancel())
    assert starts(state) == TEMPLATE


def test_rescheduled_visit_moves_the_removed_starts() -> None:
    """After a linked Reschedule to 11:00 the 10:00 starts are back and the 11:00 ones are gone."""
    state, _ = fold(visit(), visit(EventKind.RESCHEDULE, "V-2", "11:00", old="V-1"))
    assert starts(state) == TEMPLATE - grid("10:45", "11:15")


def test_clinic_file_booking_is_replaced_by_its_events() -> None:
    """A booking of the clinic file is busy until an event names its visit number and cancels it."""
    filed = Busy(BusyKind.BOOKING, at("10:00"), at("10:30"), provider_id=P1.id, visit_number="V-file")
    clinic = Clinic(CLINIC.providers, CLINIC.locations, CLINIC.visit_types, CLINIC.templates, busy=(filed,))
    assert starts(clinic=clinic) == TEMPLATE - grid("09:45", "10:15")
    state, _ = fold(cancel("V-file"), clinic=clinic)
    assert starts(state, clinic=clinic) == TEMPLATE


def test_bookable_pushed_slot_outside_template_is_a_candidate() -> None:
    """A bookable pushed slot at 14:00 (no template then) becomes an Office Visit start; before, there is none."""
    assert at("14:00") not in starts()
    pushed, _ = apply_push([], push(("14:00", 30, "Office Visit")), CLINIC, NO_REASONS)
    assert starts(pushed=pushed) == TEMPLATE | {at("14:00")}


def test_pushed_slot_for_other_types_is_no_candidate() -> None:
    """A pushed slot bookable only for New Patient Visits gives no Office Visit start."""
    pushed, _ = apply_push([], push(("14:00", 60, "New Patient Visit")), CLINIC, NO_REASONS)
    assert starts(pushed=pushed) == TEMPLATE


def test_unbookable_pushed_slot_removes_template_starts() -> None:
    """A pushed slot that is not bookable, inside template time, is busy: overlapping starts go."""
    pushed, _ = apply_push([], push(("10:00", 30, "Lunch")), CLINIC, REASONS)
    assert starts(pushed=pushed) == TEMPLATE - grid("09:45", "10:15")


def test_booking_on_a_pushed_slot_removes_it() -> None:
    """A booking over a bookable pushed slot takes it: the pushed start is offered no more."""
    pushed, _ = apply_push([], push(("14:00", 30, "Office Visit")), CLINIC, NO_REASONS)
    state, _ = fold(visit(start="14:00"))
    assert at("14:00") not in starts(state, pushed)
