"""Reading Redox Scheduling event messages: every example, every event type, problems with exact paths.

``parse_event`` collects every problem of a message with its JSON path and raises them together; it
never repeats a value it was sent, so no patient identifier or name can leak through an error.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from slotfinder._domain import PatientId
from slotfinder._errors import InvalidMessage
from slotfinder._events import EventKind, LocationRef, PushedSlot, SlotsPushed, StaffTime, VisitEvent
from slotfinder.redox._events import EVENT_TYPES, parse_event
from slotfinder.store._sqlite import CalendarStore
from tests.support import EXAMPLES, example

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
PATIENT_VALUES = ("MRN-SECRET-4711", "SSN-101-01-0001", "Timothy", "Bixby", "2008-01-06")
EVENT_EXAMPLES = ("new.json", "hold.json", "pushslots.json")


def minutes(year: int, month: int, day: int, hour: int, minute: int) -> int:
    """A UTC wall time as minutes since the epoch (computed here, independently of the parser)."""
    return int((dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC) - EPOCH).total_seconds()) // 60


def message(event_type: str = "New", **visit: Any) -> dict[str, Any]:
    """A small valid visit message of ``event_type``; keyword arguments override or add Visit fields."""
    body: dict[str, Any] = {
        "VisitNumber": "V-1",
        "VisitDateTime": "2025-10-24T14:30:00Z",
        "Duration": 30,
        "AttendingProvider": {"ID": "1234567890", "IDType": "NPI"},
        "Location": {"Department": "3N"},
    }
    body.update(visit)
    return {"Meta": {"DataModel": "Scheduling", "EventType": event_type}, "Visit": body}


def visit_of(data: Any) -> VisitEvent:
    """The message parsed, which must be a visit event."""
    event = parse_event(data)
    assert isinstance(event, VisitEvent)
    return event


def problems_of(data: Any) -> list[str]:
    """Every problem of a message the parser refuses, as ``path: rule``; no patient value in any text."""
    with pytest.raises(InvalidMessage) as caught:
        parse_event(data)
    text = str(caught.value) + "\n" + caught.value.details()
    for value in PATIENT_VALUES:
        assert value not in text
    return [str(p) for p in caught.value.problems]


def paths_of(data: Any) -> list[str]:
    """The JSON paths of every problem of a refused message."""
    return [p.split(": ", 1)[0] for p in problems_of(data)]


# ---- the shared examples ------------------------------------------------------------------------


def test_every_event_example_is_read() -> None:
    """Every shared scheduling-event example parses; the other examples (AvailableSlots) are refused by type."""
    names = sorted(p.name for p in EXAMPLES.glob("*.json"))
    assert set(EVENT_EXAMPLES) <= set(names)
    for name in names:
        data = example(name)
        if data["Meta"]["EventType"] in EVENT_TYPES:
            assert isinstance(parse_event(data), VisitEvent | SlotsPushed), name
        else:
            assert problems_of(data) == [
                "$.Meta.EventType: must be one of Cancel, Modification, New, NoShow, PushSlots, Reschedule"
            ], name


def test_new_example_is_a_booking_with_every_field() -> None:
    """new.json: a New with a patient, its provider, location with room, reason and its time in minutes."""
    assert parse_event(example("new.json")) == VisitEvent(
        kind=EventKind.NEW,
        visit_number="V-20251024-0001",
        start=minutes(2025, 10, 24, 14, 30),
        duration=30,
        provider_id="1234567890",
        location=LocationRef(department="3N", facility="RES General Hospital", room="136", type="Inpatient"),
        patients=(PatientId("0000000001", "MR"),),
        reason="Office Visit",
    )


def test_hold_example_has_no_patient() -> None:
    """hold.json: a New without a Patient object (a hold or block) reads with no patients."""
    event = visit_of(example("hold.json"))
    assert event.patients == ()
    assert (event.visit_number, event.start, event.duration) == ("H-77", minutes(2025, 10, 24, 16, 0), 60)
    assert event.location == LocationRef(department="3N")


def test_pushslots_example_reads_every_slot() -> None:
    """pushslots.json: both slots, with the space-separated date-time form, reasons, providers and locations."""
    assert parse_event(example("pushslots.json")) == SlotsPushed(
        [
            PushedSlot(
                "s-1",
                minutes(2025, 10, 24, 14, 0),
                15,
                "Office Visit",
                "1234567890",
                LocationRef(department="3N", facility="RES General Hospital", room="136", type="Inpatient"),
            ),
            PushedSlot("s-2", minutes(2025, 10, 24, 14, 15), 15, "Blocked", "1234567890", LocationRef(department="3N")),
        ]
    )


def test_examples_are_not_changed_by_parsing() -> None:
    """Parsing reads the message and leaves it as it was (the store logs the verbatim text)."""
    for name in EVENT_EXAMPLES:
        data = example(name)
        before = copy.deepcopy(data)
        parse_event(data)
        assert data == before


# ---- event types --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(EventKind))
def test_each_visit_event_type_is_read(kind: EventKind) -> None:
    """New, Reschedule, Modification, Cancel and NoShow each give a visit event of that kind."""
    event = visit_of(message(kind.value))
    assert event.kind is kind
    assert (event.visit_number, event.start, event.duration) == ("V-1", minutes(2025, 10, 24, 14, 30), 30)
    assert event.provider_id == "1234567890"


def test_pushslots_type_is_read() -> None:
    """PushSlots gives the pushed slots, not a visit event."""
    data = {"Meta": {"DataModel": "Scheduling", "EventType": "PushSlots"}, "Slots": []}
    assert parse_event(data) == SlotsPushed([])


def test_reschedule_reads_old_visit_number_and_time() -> None:
    """A Reschedule reads OldVisitNumber and OldDateTime (the visit it replaces)."""
    event = visit_of(message("Reschedule", OldVisitNumber="V-0", OldDateTime="2025-10-23T09:00:00Z"))
    assert event.old_visit_number == "V-0"
    assert event.old_start == minutes(2025, 10, 23, 9, 0)


def test_other_types_ignore_old_visit_number() -> None:
    """Only a Reschedule links two visits: a Modification carrying OldVisitNumber names only its own."""
    event = visit_of(message("Modification", OldVisitNumber="V-0", OldDateTime="2025-10-23T09:00:00Z"))
    assert event.old_visit_number is None
    assert event.old_start is None


@pytest.mark.parametrize("kind", ["Cancel", "NoShow"])
def test_cancel_and_noshow_need_no_time(kind: str) -> None:
    """Cancel and NoShow name a visit by number: VisitDateTime and Duration may be absent."""
    data = message(kind)
    del data["Visit"]["VisitDateTime"], data["Visit"]["Duration"]
    event = visit_of(data)
    assert (event.start, event.duration) == (None, None)


@pytest.mark.parametrize("kind", ["New", "Reschedule", "Modification"])
def test_booking_types_need_time_and_duration(kind: str) -> None:
    """New, Reschedule and Modification book time: VisitDateTime and Duration are both required."""
    data = message(kind)
    del data["Visit"]["VisitDateTime"], data["Visit"]["Duration"]
    assert problems_of(data) == ["$.Visit.VisitDateTime: is required", "$.Visit.Duration: is required"]


def test_unknown_event_type_is_refused() -> None:
    """An EventType outside the scheduling events is refused at $.Meta.EventType."""
    assert paths_of(message("AvailableSlots")) == ["$.Meta.EventType"]
    assert paths_of(message("Delete")) == ["$.Meta.EventType"]


def test_event_type_is_case_sensitive() -> None:
    """Redox spells event types exactly: "new" is not "New"."""
    assert paths_of(message("new")) == ["$.Meta.EventType"]


def test_missing_event_type_is_required() -> None:
    """A Meta without EventType: the problem says it is required."""
    data = message()
    del data["Meta"]["EventType"]
    assert problems_of(data) == ["$.Meta.EventType: is required"]


def test_other_data_model_is_refused() -> None:
    """Meta.DataModel must be Scheduling (a Clinical Summary New is not a scheduling New)."""
    data = message()
    data["Meta"]["DataModel"] = "Clinical Summary"
    assert problems_of(data) == ["$.Meta.DataModel: must be Scheduling"]


# ---- Meta and the root --------------------------------------------------------------------------


def test_missing_meta_is_required() -> None:
    """A message without Meta is refused at $.Meta."""
    data = message()
    del data["Meta"]
    assert problems_of(data) == ["$.Meta: is required"]


def test_meta_must_be_an_object() -> None:
    """A Meta that is not an object is refused at $.Meta."""
    data = message()
    data["Meta"] = "Scheduling.New"
    assert problems_of(data) == ["$.Meta: must be an object"]


@pytest.mark.parametrize("data", [[], "New", 7, None])
def test_message_must_be_an_object(data: Any) -> None:
    """A message that is not a JSON object is refused at $."""
    assert problems_of(data) == ["$: must be a JSON object"]


def test_empty_meta_lists_its_required_fields() -> None:
    """An empty Meta object is refused with both of its required fields, not a crash."""
    data = message()
    data["Meta"] = {}
    assert problems_of(data) == ["$.Meta.DataModel: is required", "$.Meta.EventType: is required"]


@pytest.mark.parametrize("event_type", [["New"], {"Type": "New"}])
def test_event_type_of_wrong_shape_is_refused(event_type: Any) -> None:
    """An EventType that is an array or an object is a problem at $.Meta.EventType, not a crash."""
    data = message()
    data["Meta"]["EventType"] = event_type
    assert paths_of(data) == ["$.Meta.EventType"]


def test_missing_visit_is_required() -> None:
    """A visit event without Visit is refused at $.Visit (and its number is then missing too)."""
    data = message("Cancel")
    del data["Visit"]
    assert problems_of(data) == ["$.Visit: is required", "$.Visit.VisitNumber: is required"]


# ---- VisitNumber, VisitDateTime, Duration -------------------------------------------------------


def test_visit_number_is_required() -> None:
    """Every visit event names its visit: a missing, null or blank VisitNumber is refused."""
    for value in (None, "", "   "):
        data = message("Cancel", VisitNumber=value)
        assert problems_of(data) == ["$.Visit.VisitNumber: is required"], value
    data = message("Cancel")
    del data["Visit"]["VisitNumber"]
    assert problems_of(data) == ["$.Visit.VisitNumber: is required"]


def test_numeric_visit_number_is_read_as_text() -> None:
    """A number sent as a JSON number is read as its text; a boolean or object is refused."""
    assert visit_of(message(VisitNumber=4711)).visit_number == "4711"
    assert problems_of(message(VisitNumber=True)) == ["$.Visit.VisitNumber: must be a string"]
    assert problems_of(message(VisitNumber={"ID": "4711"})) == ["$.Visit.VisitNumber: must be a string"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-10-24T14:30:00Z", minutes(2025, 10, 24, 14, 30)),
        ("2025-10-24 14:30:00Z", minutes(2025, 10, 24, 14, 30)),
        ("2025-10-24T14:30:00.862Z", minutes(2025, 10, 24, 14, 31)),  # rounded up: never earlier
        ("2025-10-24T09:30:00-05:00", minutes(2025, 10, 24, 14, 30)),
        ("2025-10-24T16:30:00+0200", minutes(2025, 10, 24, 14, 30)),
    ],
)
def test_visit_date_time_with_offset_is_read(text: str, expected: int) -> None:
    """VisitDateTime with Z or an offset, T or a space, with or without fractions, reads as UTC minutes."""
    assert visit_of(message(VisitDateTime=text)).start == expected


def test_offsetless_visit_date_time_is_refused() -> None:
    """A VisitDateTime without a UTC offset is ambiguous and refused at its path."""
    assert problems_of(message(VisitDateTime="2025-10-24T14:30:00")) == [
        "$.Visit.VisitDateTime: has no UTC offset (add Z or +HH:MM)"
    ]


@pytest.mark.parametrize("text", ["next Tuesday Z", "2025-13-45T14:30:00Z", "2025-10-24T25:00:00+00:00"])
def test_malformed_visit_date_time_is_refused(text: str) -> None:
    """A VisitDateTime that is no ISO 8601 date-time is refused at its path, without its value."""
    assert problems_of(message(VisitDateTime=text)) == ["$.Visit.VisitDateTime: is not an ISO 8601 date-time"]


def test_visit_date_time_of_wrong_type_is_refused() -> None:
    """A VisitDateTime that is not a string (an object) is refused at its path."""
    assert problems_of(message(VisitDateTime={"Date": "2025-10-24"})) == ["$.Visit.VisitDateTime: must be a string"]


@pytest.mark.parametrize("value", [1, 30, 30.0, 1440])
def test_positive_whole_duration_is_allowed(value: float) -> None:
    """A Duration of 1..1440 whole minutes (30.0 included) is read as an int."""
    duration = visit_of(message(Duration=value)).duration
    assert duration == value and isinstance(duration, int)


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (-30, "must be positive and at most a day (1440 minutes)"),
        (0, "must be positive and at most a day (1440 minutes)"),
        (1441, "must be positive and at most a day (1440 minutes)"),
        (15.5, "must be a whole number of minutes"),
        ("30", "must be a whole number of minutes"),
        (True, "must be a whole number of minutes"),
    ],
)
def test_bad_duration_is_refused(value: Any, rule: str) -> None:
    """A negative, zero, over-a-day, fractional, string or boolean Duration is refused at $.Visit.Duration."""
    assert problems_of(message(Duration=value)) == [f"$.Visit.Duration: {rule}"]


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_duration_is_refused(value: float) -> None:
    """A NaN or infinite Duration (json.loads reads NaN and Infinity) is a problem at its path."""
    assert paths_of(message(Duration=value)) == ["$.Visit.Duration"]


def test_every_problem_is_listed_at_once() -> None:
    """A message with several faults lists each with its own path, in the order of the message's fields."""
    data = message(
        "New",
        VisitNumber=None,
        VisitDateTime="2025-10-24T14:30:00",
        Duration=-5,
        AttendingProvider="Dr. Lindqvist",
        Location={"Department": ["3N"]},
        AdditionalStaff=[{"StartDateTime": "soon"}],
        Equipment=[{"Code": "XR-1", "Duration": 0}, "ultrasound"],
    )
    assert problems_of(data) == [
        "$.Visit.VisitNumber: is required",
        "$.Visit.VisitDateTime: has no UTC offset (add Z or +HH:MM)",
        "$.Visit.Duration: must be positive and at most a day (1440 minutes)",
        "$.Visit.AttendingProvider: must be an object",
        "$.Visit.Location.Department: must be a string",
        "$.Visit.AdditionalStaff[0].ID: is required",
        "$.Visit.AdditionalStaff[0].StartDateTime: has no UTC offset (add Z or +HH:MM)",
        "$.Visit.Equipment[0].Duration: must be positive and at most a day (1440 minutes)",
        "$.Visit.Equipment[1]: must be an object",
        "$.Visit.Equipment[1].Code: is required",
    ]


# ---- patients -----------------------------------------------------------------------------------


def test_patient_identifiers_are_read() -> None:
    """Every Patient.Identifiers entry with an ID becomes a patient identifier (with its IDType)."""
    data = message()
    data["Patient"] = {"Identifiers": [{"ID": "A1", "IDType": "MR"}, {"ID": 42}, {"IDType": "EPI"}]}
    assert visit_of(data).patients == (PatientId("A1", "MR"), PatientId("42", None))


def test_patient_values_never_appear_in_errors() -> None:
    """Wrongly shaped patient fields are refused by path only: no identifier, name or birth date is echoed."""
    data = message(VisitDateTime="Timothy Bixby 2008-01-06Z", Reason={"Text": "MRN-SECRET-4711"})
    data["Patient"] = {
        "Identifiers": [
            {"ID": ["MRN-SECRET-4711"], "IDType": "MR"},
            {"ID": "SSN-101-01-0001", "IDType": {"Type": "Timothy"}},
            "MRN-SECRET-4711",
        ],
        "Demographics": {"FirstName": "Timothy", "LastName": "Bixby", "DOB": "2008-01-06"},
    }
    assert problems_of(data) == [
        "$.Visit.VisitDateTime: is not an ISO 8601 date-time",
        "$.Patient.Identifiers[0].ID: must be a string",
        "$.Patient.Identifiers[1].IDType: must be a string",
        "$.Patient.Identifiers[2]: must be an object",
        "$.Visit.Reason: must be a string",
    ]


def test_patient_of_wrong_shape_is_refused_by_path() -> None:
    """A Patient that is not an object, or Identifiers that is not an array, is refused without its value."""
    data = message()
    data["Patient"] = "MRN-SECRET-4711 Timothy Bixby"
    assert problems_of(data) == ["$.Patient: must be an object"]
    data["Patient"] = {"Identifiers": {"ID": "MRN-SECRET-4711"}}
    assert problems_of(data) == ["$.Patient.Identifiers: must be an array"]


# ---- AdditionalStaff and Equipment --------------------------------------------------------------


def test_staff_and_equipment_inherit_the_visit_time() -> None:
    """AdditionalStaff and Equipment without their own time occupy the visit's start and duration."""
    start = minutes(2025, 10, 24, 14, 30)
    event = visit_of(message(AdditionalStaff=[{"ID": "2222222222", "Role": "RN"}], Equipment=[{"Code": "US-1"}]))
    assert event.staff == (StaffTime("2222222222", start, start + 30), StaffTime("US-1", start, start + 30, True))


def test_staff_and_equipment_keep_their_own_time() -> None:
    """An own StartDateTime and Duration replace the visit's; each may be given alone."""
    start = minutes(2025, 10, 24, 14, 30)
    event = visit_of(
        message(
            AdditionalStaff=[
                {"ID": "2222222222", "StartDateTime": "2025-10-24T14:45:00Z", "Duration": 10},
                {"ID": "3333333333", "Duration": 5},
            ],
            Equipment=[{"Code": "US-1", "StartDateTime": "2025-10-24T15:00:00Z"}],
        )
    )
    assert event.staff == (
        StaffTime("2222222222", start + 15, start + 25),
        StaffTime("3333333333", start, start + 5),
        StaffTime("US-1", start + 30, start + 60, True),
    )


def test_staff_of_a_cancel_without_time_needs_its_own() -> None:
    """A Cancel without VisitDateTime: staff with their own time are read, staff without are left out."""
    data = message(
        "Cancel",
        AdditionalStaff=[{"ID": "2222222222"}, {"ID": "3333333333", "StartDateTime": "2025-10-24T14:45:00Z"}],
    )
    del data["Visit"]["VisitDateTime"]
    start = minutes(2025, 10, 24, 14, 45)
    assert visit_of(data).staff == (StaffTime("3333333333", start, start + 30),)


def test_staff_need_their_identifier() -> None:
    """AdditionalStaff needs an ID and Equipment a Code, each at its own indexed path."""
    data = message(AdditionalStaff=[{"ID": "2222222222"}, {"FirstName": "Ben"}], Equipment=[{"Description": "US"}])
    assert problems_of(data) == ["$.Visit.AdditionalStaff[1].ID: is required", "$.Visit.Equipment[0].Code: is required"]


def test_staff_own_time_problems_have_their_paths() -> None:
    """An own StartDateTime without offset or a negative own Duration is refused at the item's path."""
    data = message(
        AdditionalStaff=[{"ID": "2222222222", "StartDateTime": "2025-10-24T14:45:00"}],
        Equipment=[{"Code": "US-1", "Duration": -10}],
    )
    assert problems_of(data) == [
        "$.Visit.AdditionalStaff[0].StartDateTime: has no UTC offset (add Z or +HH:MM)",
        "$.Visit.Equipment[0].Duration: must be positive and at most a day (1440 minutes)",
    ]


def test_staff_lists_must_be_arrays() -> None:
    """AdditionalStaff and Equipment are arrays; null and [] mean none."""
    assert visit_of(message(AdditionalStaff=None, Equipment=[])).staff == ()
    assert problems_of(message(AdditionalStaff={"ID": "2222222222"})) == ["$.Visit.AdditionalStaff: must be an array"]


# ---- PushSlots ----------------------------------------------------------------------------------


def push(slots: Any = None, *, omit: bool = False) -> dict[str, Any]:
    """A PushSlots message with ``slots`` (left out entirely with ``omit``)."""
    data: dict[str, Any] = {"Meta": {"DataModel": "Scheduling", "EventType": "PushSlots"}}
    if not omit:
        data["Slots"] = slots
    return data


def test_pushslots_needs_slots() -> None:
    """Slots is required for PushSlots: missing or null is refused; an empty array pushes nothing."""
    assert problems_of(push(omit=True)) == ["$.Slots: is required"]
    assert problems_of(push(None)) == ["$.Slots: is required"]
    assert parse_event(push([])) == SlotsPushed([])


def test_pushslots_slots_must_be_an_array() -> None:
    """Slots that is an object is refused at $.Slots."""
    assert problems_of(push({"ID": "s-1"})) == ["$.Slots: must be an array"]


def test_pushed_slot_needs_time_and_duration() -> None:
    """Each slot requires DateTime and Duration, reported at its index."""
    good = {"DateTime": "2025-10-24T14:00:00Z", "Duration": 15}
    assert problems_of(push([good, {"ID": "s-2"}, {"DateTime": "2025-10-24T14:00:00", "Duration": 0}])) == [
        "$.Slots[1].DateTime: is required",
        "$.Slots[1].Duration: is required",
        "$.Slots[2].DateTime: has no UTC offset (add Z or +HH:MM)",
        "$.Slots[2].Duration: must be positive and at most a day (1440 minutes)",
    ]


def test_pushed_slot_without_provider_or_location_is_read() -> None:
    """Provider and Location are optional on a slot (the store decides what to do without them)."""
    event = parse_event(push([{"DateTime": "2025-10-24T14:00:00Z", "Duration": 15}]))
    assert event == SlotsPushed([PushedSlot(None, minutes(2025, 10, 24, 14, 0), 15, None, None, None)])


# ---- the store's log ----------------------------------------------------------------------------


def test_store_logs_a_refused_message_as_rejected(tmp_path: Path) -> None:
    """A message the parser refuses is still logged, as rejected: its digest and its problems by path."""
    text = json.dumps(message(Duration=-5))
    with CalendarStore(tmp_path / "calendar.sqlite") as store:
        ingested = store.ingest(text)
        assert not ingested.applied
        assert ingested.anomalies == ("rejected: $.Visit.Duration: must be positive and at most a day (1440 minutes)",)
        [entry] = store.log()
    assert (entry.seq, entry.kind, entry.outcome) == (ingested.seq, "redox", "rejected")
    assert entry.digest == hashlib.sha256(text.encode()).hexdigest()
    assert json.loads(entry.record) == {
        "problems": ["$.Visit.Duration: must be positive and at most a day (1440 minutes)"]
    }


def test_store_logs_a_message_with_empty_meta_as_rejected(tmp_path: Path) -> None:
    """Every message received is logged, even one whose Meta is an empty object."""
    text = json.dumps({"Meta": {}, "Visit": {"VisitNumber": "V-1"}})
    with CalendarStore(tmp_path / "calendar.sqlite") as store:
        assert not store.ingest(text).applied
        assert [entry.outcome for entry in store.log()] == ["rejected"]
