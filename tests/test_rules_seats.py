"""Group visits (``VisitType.seats``, docs/clinic-format.md "Group visits"), as allows/forbids pairs.

The default clinic of ``tests/clinic_builders.py``: P1 at MAIN weekdays 09:00-12:00 on a 15-minute
grid. GROUP is a 60-minute group therapy with 3 seats; a session is its bookings with one provider,
location and span. The generated properties (tests/test_rules_properties.py and
tests/test_reference_properties.py) draw seated types too and check them against the reference.
"""

from __future__ import annotations

from attrs import evolve

from slotfinder import find_slots
from slotfinder._domain import Busy, BusyKind, PatientId, VisitType, VisitTypeFilter
from slotfinder._settings import Settings
from tests.clinic_builders import MAIN, MONDAY, NOW, OV, P1, at, clinic, offered, request

GROUP = VisitType("GRP", "DNE", "Group therapy", 60, seats=3)
ASKED = request(visit_types=[VisitTypeFilter("GRP")])
PATIENT = PatientId("0000000001", "MR")


def _seat(start: str = "10:00", end: str = "11:00", *, patients: int = 1, visit_type: str = "GRP") -> Busy:
    people = tuple(PatientId(f"MR-{i}", "MR") for i in range(patients))
    return Busy(
        BusyKind.BOOKING,
        at(MONDAY, start),
        at(MONDAY, end),
        provider_id=P1.id,
        location_id=MAIN.id,
        visit_type=visit_type,
        patients=people,
    )


def _clinic(*busy: Busy, group: VisitType = GROUP) -> object:
    return clinic(visit_types=[OV, group], busy=list(busy))


def test_allows_joining_a_session_with_a_free_seat() -> None:
    """Two of three seats taken at 10:00: the 10:00 start stays open to GRP."""
    assert offered(_clinic(_seat(), _seat()), ASKED, at(MONDAY, "10:00"))  # type: ignore[arg-type]


def test_forbids_joining_a_full_session() -> None:
    """Three seats taken (one booking of two patients and one of one): 10:00 is no longer offered."""
    assert not offered(_clinic(_seat(patients=2), _seat()), ASKED, at(MONDAY, "10:00"))  # type: ignore[arg-type]


def test_forbids_other_starts_that_overlap_an_open_session() -> None:
    """The session keeps the provider for everything else: GRP at 10:30 (not the session's span) and OV
    at 10:00 are not offered; GRP at 11:00, after it, is."""
    where = _clinic(_seat())
    assert not offered(where, ASKED, at(MONDAY, "10:30"))  # type: ignore[arg-type]
    assert not offered(where, request(), at(MONDAY, "10:00"))  # type: ignore[arg-type]
    assert offered(where, ASKED, at(MONDAY, "11:00"))  # type: ignore[arg-type]


def test_forbids_joining_when_the_type_has_one_seat() -> None:
    """A one-seat type's booking is no session: nothing to join."""
    where = _clinic(_seat(), group=evolve(GROUP, seats=1))
    assert not offered(where, ASKED, at(MONDAY, "10:00"))  # type: ignore[arg-type]


def test_forbids_joining_a_session_the_patient_already_holds() -> None:
    session = evolve(_seat(), patients=(PATIENT,))
    asked = evolve(ASKED, patient_ids=(PATIENT,))
    assert not offered(_clinic(session), asked, at(MONDAY, "10:00"))  # type: ignore[arg-type]
    assert offered(_clinic(_seat()), asked, at(MONDAY, "10:00"))  # type: ignore[arg-type]


def test_a_session_off_the_grid_is_still_joined() -> None:
    """A session booked at 10:05 (off the 15-minute grid) is offered at 10:05, its own start."""
    assert offered(_clinic(_seat("10:05", "11:05")), ASKED, at(MONDAY, "10:05"))  # type: ignore[arg-type]


def test_notice_applies_to_joining() -> None:
    """The type's minimum notice: 10:00 is 60 minutes after now; 90 minutes of notice forbids it, 60 allows it."""
    now = at(MONDAY, "09:00")
    assert offered(_clinic(_seat(), group=evolve(GROUP, min_notice_minutes=60)), ASKED, at(MONDAY, "10:00"), now=now)  # type: ignore[arg-type]
    assert not offered(
        _clinic(_seat(), group=evolve(GROUP, min_notice_minutes=90)),  # type: ignore[arg-type]
        ASKED,
        at(MONDAY, "10:00"),
        now=now,
    )


def test_a_joined_seat_is_a_slot_of_the_session_span() -> None:
    result = find_slots(_clinic(_seat("10:00", "11:00")), ASKED, Settings(limit=20, per_day=9, per_provider_day=9), NOW)  # type: ignore[arg-type]
    joined = [s for s in result.slots if s.start == at(MONDAY, "10:00")]
    assert [(s.duration, s.provider.id, s.location.id) for s in joined] == [(60, P1.id, MAIN.id)]
