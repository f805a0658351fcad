"""Equipment as a resource: allows/forbids pairs for visit types that need equipment units."""

from __future__ import annotations

import attrs

from slotfinder._domain import Busy, BusyKind, Clinic, VisitType, VisitTypeFilter
from tests.clinic_builders import MAIN, MONDAY, OV, at, clinic, offered, request

ECHO = VisitType("ECHO", "DNE", "Echocardiogram", 30, equipment=("US-1",))
WITH_UNIT = attrs.evolve(MAIN, equipment=("US-1", "ECG-1"))


def where(*busy: Busy, location_has_unit: bool = True) -> Clinic:
    return clinic(locations=(WITH_UNIT if location_has_unit else MAIN,), visit_types=(OV, ECHO), busy=busy)


WHAT = request(visit_types=[VisitTypeFilter("ECHO")])


def test_unit_free_allows() -> None:
    """A visit needing an ultrasound is offered when the location has it and it is free."""
    assert offered(where(), WHAT, at(MONDAY, "10:00"))


def test_unit_missing_at_location_forbids() -> None:
    """A location without the unit offers no such visit at all."""
    assert not offered(where(location_has_unit=False), WHAT, at(MONDAY, "10:00"))


def test_unit_busy_forbids_overlap_only() -> None:
    """The unit booked 10:00-10:30 removes the starts whose visit overlaps it; touching is allowed."""
    used = Busy(BusyKind.BOOKING, at(MONDAY, "10:00"), at(MONDAY, "10:30"), location_id=MAIN.id, equipment="US-1")
    busy_clinic = where(used)
    assert not offered(busy_clinic, WHAT, at(MONDAY, "10:00"))
    assert not offered(busy_clinic, WHAT, at(MONDAY, "09:45"))
    assert offered(busy_clinic, WHAT, at(MONDAY, "09:30"))
    assert offered(busy_clinic, WHAT, at(MONDAY, "10:30"))


def test_other_unit_busy_allows() -> None:
    """Another unit's booking does not matter to a visit that does not need it."""
    other = Busy(BusyKind.BOOKING, at(MONDAY, "10:00"), at(MONDAY, "10:30"), location_id=MAIN.id, equipment="ECG-1")
    assert offered(where(other), WHAT, at(MONDAY, "10:00"))


def test_visit_without_equipment_ignores_unit_bookings() -> None:
    """An Office Visit needs no unit: the ultrasound's booking leaves it offered."""
    used = Busy(BusyKind.BOOKING, at(MONDAY, "10:00"), at(MONDAY, "10:30"), location_id=MAIN.id, equipment="US-1")
    assert offered(where(used), request(), at(MONDAY, "10:00"))
