"""The README's semantics, rule by rule, as allows/forbids pairs on small hand-made clinics.

Each rule has (at least) two tests: one where a start is offered and its twin, differing in exactly
one thing, where it is not. "Offered" means ``list_candidates`` holds an eligible candidate of the
provider at that instant (see ``tests/clinic_builders.py`` for the default clinic: P1 at MAIN,
weekdays 09:00-12:00, 15-minute grid; OV 30 min, NP 60 min, PROC 30 min with a room).
"""

from __future__ import annotations

import pytest
from attrs import evolve

from slotfinder import find_slots, list_candidates
from slotfinder._domain import (
    Busy,
    BusyKind,
    LocationFilter,
    Opening,
    PatientId,
    Preference,
    ProviderFilter,
    VisitTypeFilter,
)
from slotfinder._errors import InvalidRequest, WindowTooLarge
from slotfinder._settings import Settings
from tests.clinic_builders import (
    ANNEX,
    DAY,
    MAIN,
    MONDAY,
    NOW,
    P1,
    P2,
    PROC,
    at,
    candidate_at,
    clinic,
    day,
    minute,
    offered,
    request,
    weekly,
)

TUESDAY = day(1)
SATURDAY = day(5)


def _busy(kind: BusyKind, start: str, end: str, **where: str) -> Busy:
    """A busy item on MONDAY between two wall times, occupying what ``where`` names."""
    return Busy(
        kind,
        at(MONDAY, start),
        at(MONDAY, end),
        provider_id=where.get("provider"),
        location_id=where.get("location"),
        room=where.get("room"),
    )


# ---- template edges ---------------------------------------------------------------------------


def test_allows_visit_ending_exactly_at_block_end() -> None:
    """A visit may end exactly where its block ends (11:30 + 30 min = 12:00)."""
    assert offered(clinic(), request(), at(MONDAY, "11:30"))


def test_forbids_visit_one_step_past_block_end() -> None:
    """The next grid start (11:45) would run 15 minutes past the block end: not offered."""
    assert not offered(clinic(), request(), at(MONDAY, "11:45"))


def test_allows_visit_ending_at_block_end_on_one_minute_grid() -> None:
    """With a 1-minute start interval, 11:30 still ends exactly at the block end and is offered."""
    assert offered(clinic(), request(), at(MONDAY, "11:30"), settings=Settings(start_interval=1))


def test_forbids_visit_one_minute_past_block_end() -> None:
    """With a 1-minute start interval, 11:31 ends one minute after the block: not offered."""
    assert not offered(clinic(), request(), at(MONDAY, "11:31"), settings=Settings(start_interval=1))


def test_allows_start_at_block_start() -> None:
    """The block's own start (09:00) is a grid start."""
    assert offered(clinic(), request(), at(MONDAY, "09:00"), settings=Settings(start_interval=1))


def test_forbids_start_one_minute_before_block_start() -> None:
    """One minute before the block starts (08:59) is outside working time."""
    assert not offered(clinic(), request(), at(MONDAY, "08:59"), settings=Settings(start_interval=1))


def test_starts_step_from_block_start_on_its_slot_length() -> None:
    """Starts lie on the block's grid: a 20-minute slot length from 09:00 gives 09:20 but not 09:15."""
    where = clinic(templates=[weekly(slot_length=20)])
    assert offered(where, request(), at(MONDAY, "09:20"))
    assert not offered(where, request(), at(MONDAY, "09:15"))


# ---- template weekdays and effective dates ----------------------------------------------------


def test_allows_template_on_its_weekday() -> None:
    """A template for Mondays opens Monday 10:00."""
    assert offered(clinic(templates=[weekly(weekdays={0})]), request(), at(MONDAY, "10:00"))


def test_forbids_template_on_other_weekdays() -> None:
    """The same template for Tuesday to Friday does not open Monday."""
    assert not offered(clinic(templates=[weekly(weekdays={1, 2, 3, 4})]), request(), at(MONDAY, "10:00"))


def test_allows_template_from_its_effective_from_date() -> None:
    """effective_from is inclusive: a template effective from Monday opens that Monday."""
    where = clinic(templates=[weekly(effective_from=MONDAY)])
    assert offered(where, request(), at(MONDAY, "10:00"))


def test_forbids_template_before_its_effective_from_date() -> None:
    """A template effective from Tuesday does not open Monday."""
    where = clinic(templates=[weekly(effective_from=TUESDAY)])
    assert not offered(where, request(), at(MONDAY, "10:00"))


def test_allows_template_on_its_effective_until_date() -> None:
    """effective_until is inclusive: a template effective until Monday still opens that Monday."""
    where = clinic(templates=[weekly(effective_until=MONDAY)])
    assert offered(where, request(), at(MONDAY, "10:00"))


def test_forbids_template_after_its_effective_until_date() -> None:
    """A template that expired on Sunday does not open Monday."""
    where = clinic(templates=[weekly(effective_until=day(-1))])
    assert not offered(where, request(), at(MONDAY, "10:00"))


# ---- one-off openings -------------------------------------------------------------------------


def test_allows_start_in_one_off_opening() -> None:
    """A one-off opening on Saturday 10:00-11:00 (no template that day) opens Saturday 10:30."""
    where = clinic(templates=[], openings=[Opening(P1.id, MAIN.id, SATURDAY, minute("10:00"), minute("11:00"))])
    assert offered(where, request(first=SATURDAY), at(SATURDAY, "10:30"))


def test_forbids_start_when_opening_is_on_another_date() -> None:
    """The same opening dated a week later opens nothing this Saturday."""
    where = clinic(templates=[], openings=[Opening(P1.id, MAIN.id, day(12), minute("10:00"), minute("11:00"))])
    assert not offered(where, request(first=SATURDAY), at(SATURDAY, "10:30"))


# ---- bookings ---------------------------------------------------------------------------------


def test_allows_visit_ending_where_a_booking_starts() -> None:
    """Touching is not overlapping: a visit 09:30-10:00 fits before a booking starting at 10:00."""
    where = clinic(busy=[_busy(BusyKind.BOOKING, "10:00", "10:30", provider=P1.id, location=MAIN.id)])
    assert offered(where, request(), at(MONDAY, "09:30"))


def test_forbids_visit_overlapping_a_booking_by_one_minute() -> None:
    """A booking starting at 09:59 overlaps the visit 09:30-10:00 by a minute: not offered."""
    where = clinic(busy=[_busy(BusyKind.BOOKING, "09:59", "10:30", provider=P1.id, location=MAIN.id)])
    assert not offered(where, request(), at(MONDAY, "09:30"))


def test_allows_visit_starting_where_a_booking_ends() -> None:
    """A visit may start the minute a booking ends (booking 09:30-10:00, visit at 10:00)."""
    where = clinic(busy=[_busy(BusyKind.BOOKING, "09:30", "10:00", provider=P1.id, location=MAIN.id)])
    assert offered(where, request(), at(MONDAY, "10:00"))


def test_forbids_visit_starting_before_a_booking_ends() -> None:
    """A booking ending at 10:01 still holds the provider at 10:00."""
    where = clinic(busy=[_busy(BusyKind.BOOKING, "09:30", "10:01", provider=P1.id, location=MAIN.id)])
    assert not offered(where, request(), at(MONDAY, "10:00"))


def test_forbids_start_when_provider_is_booked_at_another_location() -> None:
    """A provider's booking at another location makes the provider busy everywhere."""
    where = clinic(busy=[_busy(BusyKind.BOOKING, "10:00", "10:30", provider=P1.id, location=ANNEX.id)])
    assert not offered(where, request(), at(MONDAY, "10:00"))


def test_allows_start_when_another_provider_is_booked() -> None:
    """Another provider's booking at the same time and place does not occupy this provider."""
    where = clinic(busy=[_busy(BusyKind.BOOKING, "10:00", "10:30", provider=P2.id, location=ANNEX.id)])
    assert offered(where, request(), at(MONDAY, "10:00"))


# ---- holds, out-of-office, closures -----------------------------------------------------------


def test_forbids_start_during_a_hold_of_the_provider() -> None:
    """A hold (patient-less appointment) of the provider makes the time busy."""
    where = clinic(busy=[_busy(BusyKind.HOLD, "10:00", "10:30", provider=P1.id)])
    assert not offered(where, request(), at(MONDAY, "10:00"))


def test_allows_start_during_a_hold_of_another_provider() -> None:
    """The same hold for another provider leaves this provider free."""
    where = clinic(busy=[_busy(BusyKind.HOLD, "10:00", "10:30", provider=P2.id)])
    assert offered(where, request(), at(MONDAY, "10:00"))


def test_forbids_start_during_out_of_office_at_any_location() -> None:
    """Out-of-office of the provider, even recorded at another location, is busy at every location."""
    where = clinic(busy=[_busy(BusyKind.OUT_OF_OFFICE, "00:00", "23:59", provider=P1.id, location=ANNEX.id)])
    assert not offered(where, request(), at(MONDAY, "10:00"))


def test_allows_start_during_out_of_office_of_another_provider() -> None:
    """Another provider's out-of-office does not touch this provider."""
    where = clinic(busy=[_busy(BusyKind.OUT_OF_OFFICE, "00:00", "23:59", provider=P2.id, location=ANNEX.id)])
    assert offered(where, request(), at(MONDAY, "10:00"))


def test_forbids_start_during_closure_of_the_location() -> None:
    """A closure (busy naming a location, no provider, no room) closes the location for everyone."""
    where = clinic(busy=[_busy(BusyKind.CLOSURE, "00:00", "23:59", location=MAIN.id)])
    assert not offered(where, request(), at(MONDAY, "10:00"))


def test_allows_start_during_closure_of_another_location() -> None:
    """A closure of another location leaves this one open."""
    where = clinic(busy=[_busy(BusyKind.CLOSURE, "00:00", "23:59", location=ANNEX.id)])
    assert offered(where, request(), at(MONDAY, "10:00"))


def test_forbids_start_during_an_unreserved_block() -> None:
    """A patient-less block reserved for no visit type is busy for every visit type."""
    where = clinic(busy=[_busy(BusyKind.BLOCK, "10:00", "11:00", provider=P1.id)])
    assert not offered(where, request(), at(MONDAY, "10:00"))


# ---- reserved blocks --------------------------------------------------------------------------


def _reserved(release_before: int | None = None) -> Busy:
    """P1's Monday 10:00-11:00 kept for OV visits (optionally released ``release_before`` minutes ahead)."""
    return Busy(
        BusyKind.BLOCK,
        at(MONDAY, "10:00"),
        at(MONDAY, "11:00"),
        provider_id=P1.id,
        reserved_for=("OV",),
        release_before=release_before,
    )


def test_allows_reserved_visit_type_in_reserved_block() -> None:
    """A block reserved for OV is open to OV visits."""
    assert offered(clinic(busy=[_reserved()]), request(), at(MONDAY, "10:00"))


def test_forbids_other_visit_type_in_reserved_block() -> None:
    """The same block is busy for a visit type it is not reserved for (NP)."""
    what = request(visit_types=[VisitTypeFilter("NP")])
    assert not offered(clinic(busy=[_reserved()]), what, at(MONDAY, "10:00"))


def test_allows_other_visit_type_once_reserved_block_is_released() -> None:
    """With release_before=120 the block opens to every type when now >= start - 120 (08:00)."""
    what = request(visit_types=[VisitTypeFilter("NP")])
    assert offered(clinic(busy=[_reserved(120)]), what, at(MONDAY, "10:00"), now=at(MONDAY, "08:00"))


def test_forbids_other_visit_type_one_minute_before_release() -> None:
    """At 07:59 the release (08:00) has not happened: the block is still busy for NP."""
    what = request(visit_types=[VisitTypeFilter("NP")])
    assert not offered(clinic(busy=[_reserved(120)]), what, at(MONDAY, "10:00"), now=at(MONDAY, "07:59"))


# ---- rooms ------------------------------------------------------------------------------------


def _room_booked(room: str) -> Busy:
    """Room ``room`` of MAIN taken 10:00-10:30 Monday (by a visit of no provider in this clinic)."""
    return _busy(BusyKind.BOOKING, "10:00", "10:30", location=MAIN.id, room=room)


PROC_REQUEST = request(visit_types=[VisitTypeFilter("PROC")])


def test_allows_room_visit_when_another_room_is_free() -> None:
    """A room-needing visit with room 136 booked takes the location's other room, 137."""
    found = candidate_at(clinic(busy=[_room_booked("136")]), PROC_REQUEST, at(MONDAY, "10:00"))
    assert found is not None and found.room == "137"


def test_forbids_room_visit_when_the_only_room_is_booked() -> None:
    """When the location's only room is booked, a room-needing visit cannot start then."""
    only_136 = evolve(MAIN, rooms=("136",))
    where = clinic(locations=[only_136, ANNEX], busy=[_room_booked("136")])
    assert not offered(where, PROC_REQUEST, at(MONDAY, "10:00"))


def test_room_visit_takes_first_free_room_in_location_order() -> None:
    """With every room free, the first room in the location's order is taken (136 of 136, 137)."""
    found = candidate_at(clinic(), PROC_REQUEST, at(MONDAY, "10:00"))
    assert found is not None and found.room == "136"


def test_room_visit_takes_first_room_of_reversed_order() -> None:
    """The same clinic listing its rooms as 137, 136 gives room 137: order is the location's, not sorted."""
    reversed_main = evolve(MAIN, rooms=("137", "136"))
    found = candidate_at(clinic(locations=[reversed_main, ANNEX]), PROC_REQUEST, at(MONDAY, "10:00"))
    assert found is not None and found.room == "137"


def test_allows_room_visit_when_a_room_is_free_again() -> None:
    """A room booked 10:00-10:30 is free for a room-needing visit starting at 10:30 (touching)."""
    only_136 = evolve(MAIN, rooms=("136",))
    where = clinic(locations=[only_136, ANNEX], busy=[_room_booked("136")])
    assert offered(where, PROC_REQUEST, at(MONDAY, "10:30"))


def test_forbids_room_visit_outside_visit_type_rooms() -> None:
    """A visit type listing only room 136 cannot use free room 137 while 136 is booked."""
    proc_136 = evolve(PROC, rooms=("136",))
    where = clinic(visit_types=[proc_136], busy=[_room_booked("136")])
    assert not offered(where, PROC_REQUEST, at(MONDAY, "10:00"))


def test_forbids_room_visit_when_template_room_is_booked() -> None:
    """A template naming room 136 limits room-needing visits to 136, even though 137 is free."""
    where = clinic(templates=[weekly(room="136")], busy=[_room_booked("136")])
    assert not offered(where, PROC_REQUEST, at(MONDAY, "10:00"))


def test_allows_room_visit_when_template_room_is_free() -> None:
    """With the template's room 137 and 136 booked, the visit gets 137."""
    where = clinic(templates=[weekly(room="137")], busy=[_room_booked("136")])
    found = candidate_at(where, PROC_REQUEST, at(MONDAY, "10:00"))
    assert found is not None and found.room == "137"


def test_forbids_room_visit_during_location_closure() -> None:
    """A closed location closes its rooms too."""
    where = clinic(busy=[_busy(BusyKind.CLOSURE, "10:00", "10:30", location=MAIN.id)])
    assert not offered(where, PROC_REQUEST, at(MONDAY, "10:00"))


# ---- request Room filter ----------------------------------------------------------------------


def test_allows_request_room_matching_template_room() -> None:
    """For a visit needing no room, Room filters on the template's room: 136 asked, template room 136."""
    where = clinic(templates=[weekly(room="136")])
    assert offered(where, request(locations=[LocationFilter(room="136")]), at(MONDAY, "10:00"))


def test_forbids_request_room_other_than_template_room() -> None:
    """Asking Room 137 excludes a block whose template room is 136."""
    where = clinic(templates=[weekly(room="136")])
    assert not offered(where, request(locations=[LocationFilter(room="137")]), at(MONDAY, "10:00"))


def test_allows_request_room_for_room_visit_when_that_room_is_free() -> None:
    """For a room-needing visit, Room picks the room: asking 137 gives 137 though 136 is free and first."""
    what = request(visit_types=[VisitTypeFilter("PROC")], locations=[LocationFilter(room="137")])
    found = candidate_at(clinic(), what, at(MONDAY, "10:00"))
    assert found is not None and found.room == "137"


def test_forbids_request_room_for_room_visit_when_that_room_is_booked() -> None:
    """Asking Room 137 while 137 is booked leaves nothing, though 136 is free."""
    what = request(visit_types=[VisitTypeFilter("PROC")], locations=[LocationFilter(room="137")])
    assert not offered(clinic(busy=[_room_booked("137")]), what, at(MONDAY, "10:00"))


# ---- provider filter --------------------------------------------------------------------------


def test_allows_provider_named_by_id() -> None:
    """AttendingProviders with the provider's ID keeps the provider."""
    assert offered(clinic(), request(providers=[ProviderFilter(P1.id)]), at(MONDAY, "10:00"))


def test_forbids_provider_not_named() -> None:
    """AttendingProviders naming only another provider removes this one."""
    assert not offered(clinic(), request(providers=[ProviderFilter(P2.id)]), at(MONDAY, "10:00"))


def test_allows_provider_with_matching_id_type() -> None:
    """With IDType given, it must match too: NPI matches."""
    assert offered(clinic(), request(providers=[ProviderFilter(P1.id, "NPI")]), at(MONDAY, "10:00"))


def test_forbids_provider_with_other_id_type() -> None:
    """The same ID under another IDType (DEA) is a different provider."""
    assert not offered(clinic(), request(providers=[ProviderFilter(P1.id, "DEA")]), at(MONDAY, "10:00"))


# ---- location filter --------------------------------------------------------------------------

MATCHING_LOCATIONS = {
    "id": LocationFilter(id="loc-main"),
    "facility": LocationFilter(facility="res general hospital"),  # case-insensitive
    "department": LocationFilter(department="3n"),
    "type": LocationFilter(type="CLINIC"),
    "all fields": LocationFilter(id="loc-main", facility="RES General Hospital", department="3N", type="Clinic"),
    "any entry": LocationFilter(id="loc-annex"),  # paired below with a second entry that matches
}
OTHER_LOCATIONS = {
    "id": LocationFilter(id="LOC-MAIN"),  # ID is exact
    "facility": LocationFilter(facility="RES Annex"),
    "department": LocationFilter(department="2W"),
    "type": LocationFilter(type="Imaging"),
    "all fields": LocationFilter(id="loc-main", facility="RES General Hospital", department="2W", type="Clinic"),
    "any entry": LocationFilter(id="loc-annex"),
}


@pytest.mark.parametrize("field", sorted(MATCHING_LOCATIONS))
def test_allows_location_matching_filter(field: str) -> None:
    """Every non-null field of a Locations entry matches (ID exactly, the others case-insensitively)."""
    entries = [MATCHING_LOCATIONS[field]]
    if field == "any entry":
        entries.append(LocationFilter(facility="RES General Hospital"))  # entries are alternatives
    assert offered(clinic(), request(locations=entries), at(MONDAY, "10:00"))


@pytest.mark.parametrize("field", sorted(OTHER_LOCATIONS))
def test_forbids_location_not_matching_filter(field: str) -> None:
    """One field that does not match (or the only entry naming another location) removes the location."""
    entries = [OTHER_LOCATIONS[field]]
    assert not offered(clinic(), request(locations=entries), at(MONDAY, "10:00"))


# ---- visit type filter ------------------------------------------------------------------------


def test_allows_visit_type_the_block_offers() -> None:
    """A block limited to OV offers OV."""
    where = clinic(templates=[weekly(visit_types=["OV"])])
    assert offered(where, request(visit_types=[VisitTypeFilter("OV")]), at(MONDAY, "10:00"))


def test_forbids_visit_type_the_block_does_not_offer() -> None:
    """The same block offers no NP visit."""
    where = clinic(templates=[weekly(visit_types=["OV"])])
    assert not offered(where, request(visit_types=[VisitTypeFilter("NP")]), at(MONDAY, "10:00"))


def test_allows_visit_type_with_matching_codeset() -> None:
    """With Codeset given it must match the visit type's codeset too (DNE)."""
    assert offered(clinic(), request(visit_types=[VisitTypeFilter("OV", "DNE")]), at(MONDAY, "10:00"))


def test_forbids_visit_type_with_other_codeset() -> None:
    """The same code in another codeset names no visit type of the clinic."""
    assert not offered(clinic(), request(visit_types=[VisitTypeFilter("OV", "OTHER")]), at(MONDAY, "10:00"))


# ---- visit length -----------------------------------------------------------------------------


def test_allows_visit_type_duration_to_fit_block_end() -> None:
    """Without a preferred duration the visit type's (OV, 30) applies: 11:30 fits a block ending 12:00."""
    found = candidate_at(clinic(), request(), at(MONDAY, "11:30"))
    assert found is not None and found.duration == 30


def test_forbids_when_preference_duration_overrides_visit_type() -> None:
    """A VisitPreference Duration of 60 wins over the visit type's 30: 11:30 + 60 overruns the block."""
    what = request(preferences=[Preference(duration=60)])
    assert not offered(clinic(), what, at(MONDAY, "11:30"))
    longest = candidate_at(clinic(), what, at(MONDAY, "11:00"))
    assert longest is not None and longest.duration == 60


def test_first_preference_with_a_duration_sets_the_length() -> None:
    """The first entry that gives a Duration sets the visit length; later ones do not."""
    what = request(preferences=[Preference(days={0}), Preference(duration=45), Preference(duration=15)])
    found = candidate_at(clinic(), what, at(MONDAY, "11:15"))
    assert found is not None and found.duration == 45


def test_allows_visit_type_duration_over_clinic_default() -> None:
    """A requested visit type's duration (OV, 30) wins over the clinic default (60): 11:30 fits."""
    assert offered(clinic(default_duration=60), request(), at(MONDAY, "11:30"))


def test_forbids_clinic_default_duration_without_visit_type() -> None:
    """Without a visit type the clinic default (60) applies: 11:30 + 60 overruns the block."""
    where = clinic(default_duration=60)
    assert not offered(where, request(visit_types=[]), at(MONDAY, "11:30"))
    found = candidate_at(where, request(visit_types=[]), at(MONDAY, "11:00"))
    assert found is not None and found.duration == 60 and found.visit_type is None


# ---- the patient's own appointments -----------------------------------------------------------


def _patient_booking(patient: PatientId, provider: str = P2.id) -> Busy:
    """A 10:00-10:30 Monday booking of ``patient`` with ``provider`` at MAIN."""
    return Busy(
        BusyKind.BOOKING,
        at(MONDAY, "10:00"),
        at(MONDAY, "10:30"),
        provider_id=provider,
        location_id=MAIN.id,
        patients=(patient,),
    )


def test_forbids_overlap_with_patients_appointment_with_another_provider() -> None:
    """The patient's booking with P2 at 10:00 makes 09:45 with P1 a double booking: not offered."""
    where = clinic(busy=[_patient_booking(PatientId("MRN1", "MR"))])
    what = request(patient_ids=[PatientId("MRN1", "MR")])
    assert not offered(where, what, at(MONDAY, "09:45"))


def test_allows_overlap_with_another_patients_appointment() -> None:
    """Another patient's booking with P2 at 10:00 does not stop this patient seeing P1 at 09:45."""
    where = clinic(busy=[_patient_booking(PatientId("MRN2", "MR"))])
    what = request(patient_ids=[PatientId("MRN1", "MR")])
    assert offered(where, what, at(MONDAY, "09:45"))


def test_allows_start_touching_patients_appointment() -> None:
    """Right after the patient's own appointment ends (10:30) is not a double booking."""
    where = clinic(busy=[_patient_booking(PatientId("MRN1", "MR"))])
    what = request(patient_ids=[PatientId("MRN1", "MR")])
    assert offered(where, what, at(MONDAY, "10:30"))


def test_allows_overlap_when_patient_id_type_differs() -> None:
    """Identifiers match on ID and, when both give one, IDType: MRN1/EPI is not MRN1/MR."""
    where = clinic(busy=[_patient_booking(PatientId("MRN1", "MR"))])
    what = request(patient_ids=[PatientId("MRN1", "EPI")])
    assert offered(where, what, at(MONDAY, "09:45"))


def test_forbids_overlap_when_request_gives_no_id_type() -> None:
    """An identifier without IDType matches the booking's MRN1/MR."""
    where = clinic(busy=[_patient_booking(PatientId("MRN1", "MR"))])
    what = request(patient_ids=[PatientId("MRN1")])
    assert not offered(where, what, at(MONDAY, "09:45"))


# ---- the window, now and notice -----------------------------------------------------------------


def test_allows_start_equal_to_window_start() -> None:
    """The window is half-open [start, end): a start at StartDateTime (10:00) is offered."""
    what = request(start=at(MONDAY, "10:00"))
    assert offered(clinic(), what, at(MONDAY, "10:00"))


def test_forbids_start_before_window_start() -> None:
    """With StartDateTime 10:01 the 10:00 start lies before the window."""
    what = request(start=at(MONDAY, "10:01"))
    assert not offered(clinic(), what, at(MONDAY, "10:00"))


def test_allows_visit_running_past_window_end() -> None:
    """Only the start must lie in the window: EndDateTime 10:01, visit 10:00-10:30 is offered."""
    what = request(end=at(MONDAY, "10:01"))
    assert offered(clinic(), what, at(MONDAY, "10:00"))


def test_forbids_start_equal_to_window_end() -> None:
    """A start at EndDateTime (10:00) lies outside [start, end)."""
    what = request(end=at(MONDAY, "10:00"))
    assert not offered(clinic(), what, at(MONDAY, "10:00"))


def test_allows_start_at_now() -> None:
    """A start at now is not in the past."""
    assert offered(clinic(), request(), at(MONDAY, "10:00"), now=at(MONDAY, "10:00"))


def test_forbids_start_before_now() -> None:
    """One minute after the start time, it is in the past."""
    assert not offered(clinic(), request(), at(MONDAY, "10:00"), now=at(MONDAY, "10:01"))


def test_allows_start_at_now_plus_notice() -> None:
    """min_notice_minutes=30 at 09:30 keeps 10:00."""
    notice = Settings(min_notice_minutes=30)
    assert offered(clinic(), request(), at(MONDAY, "10:00"), settings=notice, now=at(MONDAY, "09:30"))


def test_forbids_start_inside_notice() -> None:
    """min_notice_minutes=31 at 09:30 excludes 10:00."""
    notice = Settings(min_notice_minutes=31)
    assert not offered(clinic(), request(), at(MONDAY, "10:00"), settings=notice, now=at(MONDAY, "09:30"))


# ---- hard and soft preferences ----------------------------------------------------------------


def test_allows_unpreferred_day_when_preferences_are_soft() -> None:
    """Soft preferences rank but do not filter: Monday is offered though Tuesday is preferred."""
    what = request(preferences=[Preference(days={1})])
    assert offered(clinic(), what, at(MONDAY, "10:00"))


def test_forbids_unpreferred_day_when_preferences_are_hard() -> None:
    """With hard_preferences, the start's weekday must be among the entry's days."""
    what = request(preferences=[Preference(days={1})])
    assert not offered(clinic(), what, at(MONDAY, "10:00"), settings=Settings(hard_preferences=True))


def test_allows_hard_time_within_tolerance() -> None:
    """Hard: a start within hard_time_tolerance (60) of a preferred time (10:00) is kept: 11:00."""
    what = request(preferences=[Preference(times=[minute("10:00")])])
    assert offered(clinic(), what, at(MONDAY, "11:00"), settings=Settings(hard_preferences=True))


def test_forbids_hard_time_beyond_tolerance() -> None:
    """Hard: 11:15 is 75 minutes from the preferred 10:00, beyond the tolerance."""
    what = request(preferences=[Preference(times=[minute("10:00")])])
    assert not offered(clinic(), what, at(MONDAY, "11:15"), settings=Settings(hard_preferences=True))


def test_allows_hard_preference_matching_any_entry() -> None:
    """Hard: entries are alternatives; Monday matches the second entry."""
    what = request(preferences=[Preference(days={1}), Preference(days={0})])
    assert offered(clinic(), what, at(MONDAY, "10:00"), settings=Settings(hard_preferences=True))


def test_forbids_hard_preference_matching_day_but_not_time_of_one_entry() -> None:
    """Hard: within one entry day and time both apply: Monday 11:15 fails Monday-at-10:00."""
    what = request(preferences=[Preference(days={0}, times=[minute("10:00")])])
    assert not offered(clinic(), what, at(MONDAY, "11:15"), settings=Settings(hard_preferences=True))


# ---- adjacent blocks --------------------------------------------------------------------------


def test_allows_visit_across_adjacent_blocks_both_allowing_type() -> None:
    """09:00-10:00 and 10:00-11:00, both for OV, join: OV 09:45-10:15 is offered."""
    where = clinic(
        templates=[
            weekly(start="09:00", end="10:00", visit_types=["OV"]),
            weekly(start="10:00", end="11:00", visit_types=["OV"]),
        ]
    )
    assert offered(where, request(), at(MONDAY, "09:45"))


def test_forbids_visit_across_adjacent_blocks_when_second_disallows_type() -> None:
    """When the second block offers only NP, OV 09:45-10:15 would run into it: not offered."""
    where = clinic(
        templates=[
            weekly(start="09:00", end="10:00", visit_types=["OV"]),
            weekly(start="10:00", end="11:00", visit_types=["NP"]),
        ]
    )
    assert not offered(where, request(), at(MONDAY, "09:45"))


def test_overlapping_blocks_give_each_start_once() -> None:
    """Overlapping blocks of one provider and location: a start found in both is one candidate."""
    where = clinic(templates=[weekly(start="09:00", end="11:00"), weekly(start="10:00", end="12:00")])
    starts = [c.start for c in list_candidates(where, request(), Settings(), NOW)]
    assert starts.count(at(MONDAY, "10:00")) == 1
    assert len(starts) == len(set(starts))


# ---- horizon and window errors ----------------------------------------------------------------


def test_allows_last_day_of_default_horizon() -> None:
    """EndDateTime null gives a 30-day window: day 29 (Tuesday July 1) is inside."""
    what = request(open_ended=True)
    assert offered(clinic(), what, at(day(29), "11:30"))


def test_forbids_day_after_default_horizon() -> None:
    """Day 30 (Wednesday July 2, 00:00 = start + 30 days) is outside the default horizon."""
    what = request(open_ended=True)
    assert not offered(clinic(), what, at(day(30), "09:00"))


def test_allows_day_30_with_longer_default_horizon() -> None:
    """The same request with default_horizon_days=31 reaches day 30: the 30-day default is what cut it."""
    what = request(open_ended=True)
    assert offered(clinic(), what, at(day(30), "09:00"), settings=Settings(default_horizon_days=31))


def test_default_horizon_is_the_result_window() -> None:
    """find_slots reports the resolved window: [StartDateTime, StartDateTime + 30 days)."""
    what = request(open_ended=True)
    result = find_slots(clinic(), what, Settings(), NOW)
    assert result.window == (what.start, what.start + 30 * DAY)


def test_allows_window_of_the_maximum_horizon() -> None:
    """A window of exactly 366 days is allowed."""
    what = request(end=at(MONDAY, "00:00") + 366 * DAY)
    assert list_candidates(clinic(), what, Settings(), NOW)


def test_forbids_window_longer_than_the_maximum_horizon() -> None:
    """A window of 366 days and a minute raises WindowTooLarge naming the request's end."""
    what = request(end=at(MONDAY, "00:00") + 366 * DAY + 1)
    with pytest.raises(WindowTooLarge) as caught:
        list_candidates(clinic(), what, Settings(), NOW)
    assert [p.path for p in caught.value.problems] == ["end"]


def test_allows_end_one_minute_after_start() -> None:
    """The shortest window: EndDateTime one minute after StartDateTime is valid (and holds 10:00)."""
    what = request(start=at(MONDAY, "10:00"), end=at(MONDAY, "10:01"))
    assert offered(clinic(), what, at(MONDAY, "10:00"))


def test_forbids_end_equal_to_start() -> None:
    """end <= start is an InvalidRequest (not a WindowTooLarge) naming the request's end."""
    what = request(start=at(MONDAY, "10:00"), end=at(MONDAY, "10:00"))
    with pytest.raises(InvalidRequest) as caught:
        list_candidates(clinic(), what, Settings(), NOW)
    assert not isinstance(caught.value, WindowTooLarge)
    assert [p.path for p in caught.value.problems] == ["end"]


def test_forbids_end_before_start() -> None:
    """An EndDateTime before StartDateTime is refused the same way."""
    what = request(start=at(MONDAY, "10:00"), end=at(MONDAY, "09:00"))
    with pytest.raises(InvalidRequest, match="later than the start"):
        find_slots(clinic(), what, Settings(), NOW)
