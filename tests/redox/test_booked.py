"""Reading Redox BookedResponse messages for reconciliation: visits as domain values, problems by path.

Only the Redox edge knows a BookedResponse; the store compares the :class:`BookedVisit` values it gives.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from slotfinder._domain import Busy, BusyKind
from slotfinder._errors import InvalidMessage
from slotfinder.redox import BookedVisit, booked_window, format_differences, read_booked
from slotfinder.store import Difference, reconcile_booked, reconcile_visits
from tests.clinic_builders import P1, P2, clinic

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
PATIENT_VALUES = ("MRN-SECRET-4711", "Timothy", "Bixby")


def minutes(hour: int, minute: int = 0) -> int:
    """2025-10-24 at a UTC wall time, as minutes since the epoch (computed apart from the parser)."""
    return int((dt.datetime(2025, 10, 24, hour, minute, tzinfo=dt.UTC) - EPOCH).total_seconds()) // 60


def booked(*visits: Any) -> dict[str, Any]:
    """A BookedResponse listing ``visits``."""
    return {"Meta": {"DataModel": "Scheduling", "EventType": "BookedResponse"}, "Visits": list(visits)}


def visit(**fields: Any) -> dict[str, Any]:
    """A booked visit at 14:30Z for 30 minutes with provider 1234567890; keyword arguments override."""
    body: dict[str, Any] = {
        "VisitNumber": "V-1",
        "VisitDateTime": "2025-10-24T14:30:00Z",
        "Duration": 30,
        "AttendingProvider": {"ID": "1234567890", "FirstName": "Timothy"},
        "Patient": {"Identifiers": [{"ID": "MRN-SECRET-4711", "IDType": "MR"}]},
    }
    body.update(fields)
    return body


def problems_of(message: Any) -> list[str]:
    """Every problem of a refused BookedResponse, as ``path: rule``; no patient value in any text."""
    with pytest.raises(InvalidMessage) as caught:
        read_booked(message)
    text = str(caught.value) + "\n" + caught.value.details()
    for value in PATIENT_VALUES:
        assert value not in text
    return [str(p) for p in caught.value.problems]


def test_visits_are_read_as_domain_values() -> None:
    """Number, start (UTC minutes), duration and attending provider; patient data is not read."""
    found = read_booked(booked(visit(), visit(VisitNumber="V-2", VisitDateTime="2025-10-24T10:00:00-05:00")))
    assert found == (
        BookedVisit("V-1", minutes(14, 30), 30, "1234567890"),
        BookedVisit("V-2", minutes(15), 30, "1234567890"),
    )


def test_duration_and_provider_are_optional() -> None:
    """Without Duration or AttendingProvider the visit is still read; they are then not compared."""
    assert read_booked(booked(visit(Duration=None, AttendingProvider=None))) == (
        BookedVisit("V-1", minutes(14, 30), None, None),
    )


def test_numbers_sent_as_json_numbers_are_read_as_text() -> None:
    """A VisitNumber or provider ID sent as a number is read as its text, as scheduling events are."""
    (found,) = read_booked(booked(visit(VisitNumber=4711, AttendingProvider={"ID": 1234567890})))
    assert (found.visit_number, found.provider_id) == ("4711", "1234567890")


def test_no_visits_is_an_empty_list() -> None:
    """An empty Visits array lists nothing (every visit of ours is then missing in the EHR)."""
    assert read_booked(booked()) == ()


def test_every_problem_is_listed_with_its_path() -> None:
    """Problems of several visits come together, each at its JSON path, values never repeated."""
    message = booked(
        visit(VisitNumber=None),
        visit(VisitDateTime="2025-10-24T14:30:00"),
        "MRN-SECRET-4711",
        visit(Duration=1441, AttendingProvider="Timothy Bixby"),
        visit(VisitNumber=True, VisitDateTime="Timothy", Duration=7.5),
    )
    assert problems_of(message) == [
        "$.Visits[0].VisitNumber: is required",
        "$.Visits[1].VisitDateTime: has no UTC offset (add Z or +HH:MM)",
        "$.Visits[2]: must be an object",
        "$.Visits[3].Duration: must be positive and at most a day (1440 minutes)",
        "$.Visits[3].AttendingProvider: must be an object",
        "$.Visits[4].VisitNumber: must be a string",
        "$.Visits[4].VisitDateTime: has no UTC offset (add Z or +HH:MM)",
        "$.Visits[4].Duration: must be a whole number of minutes",
    ]


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ({"Meta": {}}, "$.Visits: is required"),
        ({"Visits": None}, "$.Visits: is required"),
        ({"Visits": {"VisitNumber": "V-1"}}, "$.Visits: must be an array"),
        (["MRN-SECRET-4711"], "$: must be a JSON object"),
        ("MRN-SECRET-4711", "$: must be a JSON object"),
    ],
)
def test_a_message_without_a_visits_array_is_refused(message: Any, problem: str) -> None:
    """Visits must be there and be an array; the message must be an object."""
    assert problems_of(message) == [problem]


def test_window_spans_the_listed_starts() -> None:
    """From the earliest start to just after the latest; (0, 1) when nothing is listed."""
    message = booked(visit(VisitDateTime="2025-10-24T16:00:00Z"), visit(VisitNumber="V-2"))
    assert booked_window(message) == (minutes(14, 30), minutes(16) + 1)
    assert booked_window(booked()) == (0, 1)
    with pytest.raises(InvalidMessage):
        booked_window(booked(visit(VisitDateTime=None)))


def test_differences_are_written_in_the_redox_style() -> None:
    """Each difference becomes {"VisitNumber", "Difference"}, in order."""
    found = [Difference("V-1", "time"), Difference("V-2", "missing_in_store")]
    assert format_differences(found) == [
        {"VisitNumber": "V-1", "Difference": "time"},
        {"VisitNumber": "V-2", "Difference": "missing_in_store"},
    ]


def test_reconcile_compares_domain_values() -> None:
    """The store compares BookedVisit values with its bookings: time, duration, provider, missing either side."""
    ours = clinic(
        busy=[
            Busy(BusyKind.BOOKING, minutes(9), minutes(9, 30), provider_id=P1.id, visit_number="V-1"),
            Busy(BusyKind.BOOKING, minutes(10), minutes(10, 30), provider_id=P1.id, visit_number="V-2"),
            Busy(BusyKind.BOOKING, minutes(11), minutes(11, 30), provider_id=P1.id, visit_number="V-3"),
        ]
    )
    window = (minutes(0), minutes(23))
    theirs = [
        BookedVisit("V-1", minutes(9), 30, P1.id),
        BookedVisit("V-2", minutes(10, 15), 45, P2.id),
        BookedVisit("V-4", minutes(12), None, None),
    ]
    assert reconcile_visits(theirs, ours, window) == [
        Difference("V-2", "time"),
        Difference("V-2", "duration"),
        Difference("V-2", "provider"),
        Difference("V-3", "missing_in_ehr"),
        Difference("V-4", "missing_in_store"),
    ]


def test_reconcile_booked_reads_the_message_at_the_redox_edge() -> None:
    """``reconcile_booked`` is ``reconcile_visits`` of ``read_booked``: a malformed message is refused by path."""
    ours = clinic(busy=[Busy(BusyKind.BOOKING, minutes(14, 30), minutes(15), provider_id=P1.id, visit_number="V-1")])
    window = (minutes(0), minutes(23))
    assert reconcile_booked(booked(visit(AttendingProvider={"ID": P1.id})), ours, window) == []
    with pytest.raises(InvalidMessage, match=r"\$\.Visits\[0\]\.VisitNumber: is required"):
        reconcile_booked(booked(visit(VisitNumber="")), ours, window)
