"""Buffers per visit type (docs/clinic-format.md, "Buffers"), as allows/forbids pairs.

The default clinic of ``tests/clinic_builders.py``: P1 at MAIN (rooms 136, 137) weekdays 09:00-12:00
on a 15-minute grid; OV 30 min, NP 60 min, PROC 30 min with a room. Buffers are given here per test.
"""

from __future__ import annotations

from attrs import evolve

from slotfinder import list_candidates
from slotfinder._domain import Busy, BusyKind, Clinic, Location, PatientId, VisitType, VisitTypeFilter
from slotfinder._settings import Settings
from tests.clinic_builders import (
    MAIN,
    MONDAY,
    NOW,
    NP,
    OV,
    P1,
    P2,
    PROC,
    ZONE,
    at,
    candidate_at,
    clinic,
    offered,
    request,
    weekly,
)

PATIENT = PatientId("0000000001", "MR")
EVERY_5 = Settings(start_interval=5)


def _item(
    start: str,
    end: str,
    kind: BusyKind = BusyKind.BOOKING,
    *,
    provider: str | None = P1.id,
    visit_type: str | None = None,
    patients: tuple[PatientId, ...] = (),
) -> Busy:
    """A busy item of ``provider`` (P1) on MONDAY between two wall times."""
    return Busy(
        kind, at(MONDAY, start), at(MONDAY, end), provider_id=provider, visit_type=visit_type, patients=patients
    )


def _types(ov: VisitType = OV, np_: VisitType = NP, proc: VisitType = PROC) -> list[VisitType]:
    """The default clinic's three visit types, any of them replaced (with buffers)."""
    return [ov, np_, proc]


OV_AFTER_15 = evolve(OV, buffer_after=15)
OV_BEFORE_15 = evolve(OV, buffer_before=15)


# ---- the new visit's own buffers ---------------------------------------------------------------


def test_allows_visit_whose_after_buffer_ends_where_a_booking_starts() -> None:
    """OV with 15 minutes after: 09:15-09:45 plus its buffer to 10:00 meets a 10:00 booking."""
    where = clinic(visit_types=_types(OV_AFTER_15), busy=[_item("10:00", "10:30")])
    assert offered(where, request(), at(MONDAY, "09:15"))


def test_forbids_visit_whose_after_buffer_overlaps_a_booking() -> None:
    """OV with 15 minutes after: 09:30-10:00 would need 10:00-10:15 free, but a booking starts at 10:00."""
    where = clinic(visit_types=_types(OV_AFTER_15), busy=[_item("10:00", "10:30")])
    assert not offered(where, request(), at(MONDAY, "09:30"))


def test_allows_visit_whose_before_buffer_starts_where_a_booking_ends() -> None:
    """OV with 15 minutes before: a 09:45 start needs 09:30-09:45 free; the booking ends at 09:30."""
    where = clinic(visit_types=_types(OV_BEFORE_15), busy=[_item("09:00", "09:30")])
    assert offered(where, request(), at(MONDAY, "09:45"))


def test_forbids_visit_whose_before_buffer_overlaps_a_booking() -> None:
    """OV with 15 minutes before: a 09:30 start needs 09:15-09:30, inside the 09:00-09:30 booking."""
    where = clinic(visit_types=_types(OV_BEFORE_15), busy=[_item("09:00", "09:30")])
    assert not offered(where, request(), at(MONDAY, "09:30"))


def test_allows_buffer_outside_working_time() -> None:
    """Buffers need not lie in working time: OV with 30 minutes either side starts at the block's 09:00."""
    where = clinic(visit_types=_types(evolve(OV, buffer_before=30, buffer_after=30)))
    assert offered(where, request(), at(MONDAY, "09:00"))
    assert offered(where, request(), at(MONDAY, "11:30"))  # its after-buffer runs to 12:30, past the block


def test_forbids_buffer_over_out_of_office_outside_working_time() -> None:
    """... but they need the provider: out of office 08:30-09:00 takes the 09:00 start away."""
    away = _item("08:30", "09:00", BusyKind.OUT_OF_OFFICE)
    where = clinic(visit_types=_types(evolve(OV, buffer_before=30, buffer_after=30)), busy=[away])
    assert not offered(where, request(), at(MONDAY, "09:00"))
    assert offered(where, request(), at(MONDAY, "09:30"))


def test_forbids_buffer_over_a_closure_of_the_location() -> None:
    """A closure of the location 12:00-13:00 is busy for the after-buffer of an 11:30 visit."""
    closed = Busy(BusyKind.CLOSURE, at(MONDAY, "12:00"), at(MONDAY, "13:00"), location_id=MAIN.id)
    where = clinic(visit_types=_types(OV_AFTER_15), busy=[closed])
    assert not offered(where, request(), at(MONDAY, "11:30"))
    assert offered(where, request(), at(MONDAY, "11:15"))


def test_allows_buffer_over_the_patients_appointment_with_another_provider() -> None:
    """Buffers are the provider's, room's and equipment's, not the patient's: OV 09:30-10:00 (buffer to
    10:15) is offered although the patient sees P2 at 10:00."""
    theirs = _item("10:00", "10:30", provider=P2.id, patients=(PATIENT,))
    where = clinic(visit_types=_types(OV_AFTER_15), busy=[theirs])
    assert offered(where, request(patient_ids=[PATIENT]), at(MONDAY, "09:30"))


def test_forbids_visit_overlapping_the_patients_appointment() -> None:
    """... while the visit itself still may not overlap it (09:45-10:15 against 10:00)."""
    theirs = _item("10:00", "10:30", provider=P2.id, patients=(PATIENT,))
    where = clinic(visit_types=_types(OV_AFTER_15), busy=[theirs])
    assert not offered(where, request(patient_ids=[PATIENT]), at(MONDAY, "09:45"))


# ---- existing bookings keep their type's buffers -------------------------------------------


def test_forbids_start_inside_an_existing_bookings_after_buffer() -> None:
    """An OV booking 09:00-09:30 with OV's 15-minute after-buffer keeps P1 until 09:45: NP may not start at 09:30."""
    booked = _item("09:00", "09:30", visit_type="OV")
    where = clinic(visit_types=_types(OV_AFTER_15), busy=[booked])
    assert not offered(where, request(visit_types=[VisitTypeFilter("NP")]), at(MONDAY, "09:30"))


def test_allows_start_where_an_existing_bookings_after_buffer_ends() -> None:
    """... and NP may start at 09:45."""
    booked = _item("09:00", "09:30", visit_type="OV")
    where = clinic(visit_types=_types(OV_AFTER_15), busy=[booked])
    assert offered(where, request(visit_types=[VisitTypeFilter("NP")]), at(MONDAY, "09:45"))


def test_allows_start_right_after_a_booking_without_a_visit_type() -> None:
    """The same booking without a visit type has no buffer: NP may start at 09:30."""
    where = clinic(visit_types=_types(OV_AFTER_15), busy=[_item("09:00", "09:30")])
    assert offered(where, request(visit_types=[VisitTypeFilter("NP")]), at(MONDAY, "09:30"))


def test_forbids_visit_ending_inside_an_existing_bookings_before_buffer() -> None:
    """An OV booking at 10:30 with OV's 15 minutes before keeps P1 from 10:15: NP 09:30-10:30 does not fit."""
    booked = _item("10:30", "11:00", visit_type="OV")
    where = clinic(visit_types=_types(OV_BEFORE_15), busy=[booked])
    assert not offered(where, request(visit_types=[VisitTypeFilter("NP")]), at(MONDAY, "09:30"))
    assert offered(where, request(visit_types=[VisitTypeFilter("NP")]), at(MONDAY, "09:15"))


def test_a_hold_of_a_buffered_type_keeps_its_buffer() -> None:
    """A hold naming OV occupies OV's after-buffer too; the same hold without a type does not."""
    typed = clinic(visit_types=_types(OV_AFTER_15), busy=[_item("09:00", "09:30", BusyKind.HOLD, visit_type="OV")])
    plain = clinic(visit_types=_types(OV_AFTER_15), busy=[_item("09:00", "09:30", BusyKind.HOLD)])
    assert not offered(typed, request(), at(MONDAY, "09:30"))
    assert offered(plain, request(visit_types=[VisitTypeFilter("NP")]), at(MONDAY, "09:30"))


# ---- neighbouring buffers are shared ---------------------------------------------------------


def test_allows_buffers_of_neighbours_to_overlap() -> None:
    """OV (10 after) booked 09:00-09:30 and a new NP with 15 before: the gap must be max(10, 15) = 15
    minutes, not 25: NP at 09:45 is offered (the two buffers share 09:30-09:40)."""
    types = _types(evolve(OV, buffer_after=10), evolve(NP, buffer_before=15))
    where = clinic(visit_types=types, busy=[_item("09:00", "09:30", visit_type="OV")])
    assert offered(where, request(visit_types=[VisitTypeFilter("NP")]), at(MONDAY, "09:45"), settings=EVERY_5)


def test_forbids_a_buffer_over_a_neighbours_visit() -> None:
    """... but NP at 09:40 is not: its own 15 minutes before (09:25-09:40) would overlap the OV visit itself."""
    types = _types(evolve(OV, buffer_after=10), evolve(NP, buffer_before=15))
    where = clinic(visit_types=types, busy=[_item("09:00", "09:30", visit_type="OV")])
    assert not offered(where, request(visit_types=[VisitTypeFilter("NP")]), at(MONDAY, "09:40"), settings=EVERY_5)


def test_forbids_a_visit_inside_a_neighbours_buffer() -> None:
    """With NP needing nothing before, the OV booking's own 10 minutes after still hold: 09:35 is not offered,
    09:40 is."""
    types = _types(evolve(OV, buffer_after=10))
    where = clinic(visit_types=types, busy=[_item("09:00", "09:30", visit_type="OV")])
    asked = request(visit_types=[VisitTypeFilter("NP")])
    assert not offered(where, asked, at(MONDAY, "09:35"), settings=EVERY_5)
    assert offered(where, asked, at(MONDAY, "09:40"), settings=EVERY_5)


# ---- rooms and equipment ---------------------------------------------------------------------


PROC_AFTER_15 = evolve(PROC, buffer_after=15)


def test_room_visit_skips_a_room_whose_turnover_would_overlap_a_booking() -> None:
    """PROC 09:30-10:00 with 15 minutes after needs its room until 10:15: room 136 is booked at 10:00, so 137."""
    in_136 = Busy(BusyKind.BOOKING, at(MONDAY, "10:00"), at(MONDAY, "10:30"), location_id=MAIN.id, room="136")
    where = clinic(visit_types=_types(proc=PROC_AFTER_15), busy=[in_136])
    found = candidate_at(where, request(visit_types=[VisitTypeFilter("PROC")]), at(MONDAY, "09:30"))
    assert found is not None
    assert found.room == "137"


def test_forbids_room_visit_when_every_rooms_turnover_overlaps_a_booking() -> None:
    """Both rooms booked at 10:00: PROC at 09:30 has no room for its buffer; PROC at 09:15 (buffer to 10:00) has."""
    rooms = [
        Busy(BusyKind.BOOKING, at(MONDAY, "10:00"), at(MONDAY, "10:30"), location_id=MAIN.id, room=name)
        for name in ("136", "137")
    ]
    where = clinic(visit_types=_types(proc=PROC_AFTER_15), busy=rooms)
    asked = request(visit_types=[VisitTypeFilter("PROC")])
    assert not offered(where, asked, at(MONDAY, "09:30"))
    assert offered(where, asked, at(MONDAY, "09:15"))


def test_existing_room_booking_keeps_its_room_for_its_buffer() -> None:
    """A PROC booked in room 136 09:00-09:30 (no provider named) keeps the room for its 15 minutes after, until
    09:45: a new PROC at 09:30 takes room 137; at 09:45, room 136 again."""
    booked = Busy(
        BusyKind.BOOKING, at(MONDAY, "09:00"), at(MONDAY, "09:30"), location_id=MAIN.id, room="136", visit_type="PROC"
    )
    where = clinic(visit_types=_types(proc=PROC_AFTER_15), busy=[booked])
    asked = request(visit_types=[VisitTypeFilter("PROC")])
    at_930, at_945 = candidate_at(where, asked, at(MONDAY, "09:30")), candidate_at(where, asked, at(MONDAY, "09:45"))
    assert at_930 is not None
    assert at_930.room == "137"
    assert at_945 is not None
    assert at_945.room == "136"


ECG_CLINIC = Location("loc-ecg", "RES General Hospital", "4E", ZONE, rooms=(), equipment=("ECG",))
ECG = VisitType("ECG", "DNE", "ECG", 30, equipment=("ECG",), buffer_after=15)


def _ecg_clinic(busy: list[Busy]) -> Clinic:
    """P1's weekday mornings at a location with one ECG cart; ECG visits need it, with 15 minutes after."""
    return clinic(
        locations=[ECG_CLINIC],
        visit_types=[ECG],
        templates=[weekly(location=ECG_CLINIC.id)],
        busy=busy,
    )


def test_forbids_visit_whose_buffer_overlaps_its_equipments_booking() -> None:
    """The ECG cart is booked at 10:00: an ECG visit 09:30-10:00 needs the cart until 10:15 to clean it."""
    cart = Busy(BusyKind.BOOKING, at(MONDAY, "10:00"), at(MONDAY, "10:30"), location_id=ECG_CLINIC.id, equipment="ECG")
    where = _ecg_clinic([cart])
    assert not offered(where, request(visit_types=[VisitTypeFilter("ECG")]), at(MONDAY, "09:30"))


def test_allows_visit_whose_buffer_ends_where_its_equipments_booking_starts() -> None:
    """... an ECG visit 09:15-09:45 (buffer to 10:00) is offered."""
    cart = Busy(BusyKind.BOOKING, at(MONDAY, "10:00"), at(MONDAY, "10:30"), location_id=ECG_CLINIC.id, equipment="ECG")
    where = _ecg_clinic([cart])
    assert offered(where, request(visit_types=[VisitTypeFilter("ECG")]), at(MONDAY, "09:15"))


# ---- without buffers nothing changes ---------------------------------------------------------


def test_zero_buffers_change_nothing() -> None:
    """Buffers of 0 (the default) and typed bookings give the same candidates as untyped bookings."""
    typed = clinic(busy=[_item("09:00", "09:30", visit_type="OV"), _item("10:30", "11:00", visit_type="NP")])
    plain = clinic(busy=[_item("09:00", "09:30"), _item("10:30", "11:00")])
    assert list_candidates(typed, request(), EVERY_5, NOW) == list_candidates(plain, request(), EVERY_5, NOW)


# ---- the worked example of docs/clinic-format.md ---------------------------------------------


def test_docs_worked_example() -> None:
    """docs/clinic-format.md, "Buffers": an Office Visit (10 after) booked 09:00-09:30; a Procedure (60 min,
    5 before, 15 after) may start at 09:40 but not at 09:35 or 09:30; booked 09:40-10:40 in a room, it
    keeps the provider and that room until 10:55."""
    office = evolve(OV, buffer_after=10)
    procedure = VisitType("240", "DNE", "Procedure", 60, needs_room=True, buffer_before=5, buffer_after=15)
    types = [office, NP, procedure]
    asked = request(visit_types=[VisitTypeFilter("240")])
    where = clinic(visit_types=types, busy=[_item("09:00", "09:30", visit_type="OV")])
    assert offered(where, asked, at(MONDAY, "09:40"), settings=EVERY_5)
    assert not offered(where, asked, at(MONDAY, "09:35"), settings=EVERY_5)
    assert not offered(where, asked, at(MONDAY, "09:30"), settings=EVERY_5)
    booked = Busy(
        BusyKind.BOOKING,
        at(MONDAY, "09:40"),
        at(MONDAY, "10:40"),
        provider_id=P1.id,
        location_id=MAIN.id,
        room="136",
        visit_type="240",
    )
    where = clinic(templates=[weekly(end="13:00")], visit_types=types, busy=[booked])
    assert not offered(where, asked, at(MONDAY, "10:50"), settings=EVERY_5)
    assert offered(where, asked, at(MONDAY, "10:55"), settings=EVERY_5)
    room_136 = Busy(BusyKind.BOOKING, booked.start, booked.end, location_id=MAIN.id, room="136", visit_type="240")
    others = clinic(templates=[weekly(provider=P2.id, end="13:00")], visit_types=types, busy=[room_136])
    rooms = [candidate_at(others, asked, at(MONDAY, t), provider=P2.id, settings=EVERY_5) for t in ("10:50", "10:55")]
    assert [c.room if c else None for c in rooms] == ["137", "136"]  # another provider: room 136 only after 10:55
