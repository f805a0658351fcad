"""Reading AvailableSlots requests: every field honoured, problems with paths, no patient data echoed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from slotfinder._domain import LocationFilter, PatientId, Preference, ProviderFilter, VisitTypeFilter
from slotfinder._errors import InvalidRequest
from slotfinder.redox._parse import parse_request
from tests.support import seed

PATIENT_VALUES = ["Timothy", "Bixby", "101-01-0001", "2008-01-06", "4762 Hickory Street", "+18088675301"]


def problems_of(message: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidRequest) as caught:
        parse_request(message)
    text = str(caught.value) + caught.value.details()
    for value in PATIENT_VALUES:
        assert value not in text
    return [str(p) for p in caught.value.problems]


def test_seed_request_reads_every_used_field() -> None:
    """The seed request: window, location, visit type, preferences and the patient's identifiers."""
    parsed = parse_request(seed())
    request = parsed.request
    assert request.start == 29351221  # 2025-10-21T19:00:27.415Z rounded up to 19:01
    assert request.end is None
    assert request.locations == (LocationFilter(None, "RES General Hospital", "3N", "136", "Inpatient"),)
    assert request.visit_types == (VisitTypeFilter("210", "DNER15"),)
    assert request.preferences == (Preference(days={1, 4}, times=(600,), duration=30),)
    assert PatientId("0000000001", "MR") in request.patient_ids
    assert parsed.now == 29351221
    assert parsed.echo.test is True
    assert parsed.echo.source is not None and parsed.echo.source.name == "Redox Dev Tools"


def test_seed_request_reports_unused_fields_by_path_only() -> None:
    """Demographics, diagnoses, reasons, logs are reported as ignored, without their values."""
    parsed = parse_request(seed())
    assert "$.Patient.Demographics" in parsed.ignored
    assert "$.Patient.Diagnoses" in parsed.ignored
    assert "$.Visit.Reasons" in parsed.ignored
    assert "$.Meta.Logs" in parsed.ignored
    assert not any(v in " ".join(parsed.ignored) for v in PATIENT_VALUES)


def test_empty_lists_and_nulls_are_not_reported() -> None:
    """Null and empty values carry nothing, so they are not listed as ignored."""
    parsed = parse_request(seed())
    assert "$.Patient.Notes" not in parsed.ignored
    assert "$.Visit.Locations[0].SpecialtyDepartment" not in parsed.ignored


def test_unknown_field_is_reported_not_refused() -> None:
    """Fields Redox does not define are ignored and reported by path."""
    message = seed()
    message["Visit"]["Urgency"] = "high"
    parsed = parse_request(message)
    assert any(p.startswith("$.Visit.Urgency") for p in parsed.ignored)


def test_visit_type_and_preference_as_single_objects() -> None:
    """Older documents send VisitType and VisitPreference as objects: read as one-element arrays."""
    message = seed()
    message["Visit"]["VisitType"] = message["Visit"]["VisitType"][0]
    message["Visit"]["VisitPreference"] = message["Visit"]["VisitPreference"][0]
    request = parse_request(message).request
    assert request.visit_types == (VisitTypeFilter("210", "DNER15"),)
    assert request.preferences[0].days == frozenset({1, 4})


def test_attending_providers_are_read() -> None:
    """AttendingProviders become provider filters (ID and IDType)."""
    message = seed()
    message["Visit"]["AttendingProviders"] = [{"ID": "1234567890", "IDType": "NPI", "FirstName": "Ana"}]
    parsed = parse_request(message)
    assert parsed.request.providers == (ProviderFilter("1234567890", "NPI"),)
    assert "$.Visit.AttendingProviders[0].FirstName" in parsed.ignored


def test_end_date_time_is_read() -> None:
    """EndDateTime bounds the window."""
    message = seed()
    message["EndDateTime"] = "2025-10-28 19:00:00Z"
    assert parse_request(message).request.end == 29351220 + 7 * 1440


def test_missing_start_is_named() -> None:
    """StartDateTime is required."""
    message = seed()
    del message["StartDateTime"]
    assert problems_of(message) == ["$.StartDateTime: is required"]


def test_every_problem_is_listed_with_its_path() -> None:
    """Several bad values: every one reported, each with its JSON path and rule."""
    message = seed()
    message["StartDateTime"] = "2025-10-21T19:00:00"
    message["Visit"]["VisitPreference"][0]["Day"] = ["Tues", "Someday"]
    message["Visit"]["VisitPreference"][0]["Time"] = ["2500"]
    message["Visit"]["VisitPreference"][0]["Duration"] = "-30"
    message["Visit"]["VisitType"][0]["Code"] = None
    found = problems_of(message)
    assert found == [
        "$.StartDateTime: has no UTC offset (add Z or +HH:MM)",
        "$.Visit.VisitType[0].Code: is required to choose a visit type",
        "$.Visit.VisitPreference[0].Day[1]: is not a weekday (use Mon..Sun, a 2-4 letter prefix or the full name)",
        "$.Visit.VisitPreference[0].Time[0]: is not a time of day (hours 0..23, minutes 0..59)",
        "$.Visit.VisitPreference[0].Duration: must be positive and at most a day (1440 minutes)",
    ]


def test_wrong_types_are_named() -> None:
    """Type errors from the structure pass carry Redox paths with indices."""
    message = seed()
    message["Meta"]["Test"] = "yes"
    message["Visit"]["Locations"][0]["Department"] = {"x": 1}
    message["Visit"]["VisitPreference"][0]["Day"] = "Tues"
    assert problems_of(message) == [
        "$.Meta.Test: must be true, false or null",
        "$.Visit.Locations[0].Department: must be a string or null",
        "$.Visit.VisitPreference[0].Day: must be an array",
    ]


def test_wrong_event_type() -> None:
    """Only Scheduling.AvailableSlots is answered."""
    message = seed()
    message["Meta"]["EventType"] = "New"
    assert problems_of(message) == ["$.Meta.EventType: must be AvailableSlots"]


def test_not_an_object() -> None:
    """A JSON array is not a message."""
    with pytest.raises(InvalidRequest, match=r"\$: must be a JSON object"):
        parse_request([])  # type: ignore[arg-type]


def test_patient_demographics_never_appear_in_errors() -> None:
    """Even when demographics are malformed, nothing of them is repeated."""
    message = seed()
    message["Patient"]["Demographics"]["DOB"] = 12
    message["StartDateTime"] = "Timothy"
    problems = problems_of(message)
    assert problems == ["$.StartDateTime: has no UTC offset (add Z or +HH:MM)"]


def test_conflicting_preference_durations_use_the_first() -> None:
    """Alternatives with different durations: the first is used, the rest reported as ignored."""
    message = seed()
    second = copy.deepcopy(message["Visit"]["VisitPreference"][0])
    second["Duration"] = "45"
    message["Visit"]["VisitPreference"].append(second)
    parsed = parse_request(message)
    assert parsed.request.preferences[1].duration == 45
    assert any(p.startswith("$.Visit.VisitPreference[1].Duration") for p in parsed.ignored)


@pytest.mark.parametrize("value", ["Timothy", 5, True, ["Timothy"]])
def test_an_object_field_of_another_type_is_refused(value: Any) -> None:
    """Visit, Patient and Meta must be objects: a string or an array is not read as an empty object."""
    for field, rule in (("Visit", "must be an object or null"), ("Patient", "must be an object or null")):
        message = seed()
        message[field] = value
        assert problems_of(message) == [f"$.{field}: {rule}"]
    message = seed()
    message["Meta"] = value
    assert problems_of(message) == ["$.Meta: must be an object"]


def test_an_item_of_another_type_is_refused_at_its_index() -> None:
    """An array item that should be an object is refused at its index, not read as an empty object."""
    message = seed()
    message["Visit"]["VisitType"] = ["Timothy"]
    last = len(message["Patient"]["Identifiers"])
    message["Patient"]["Identifiers"].append("Bixby")
    assert problems_of(message) == [
        f"$.Patient.Identifiers[{last}]: must be an object",
        "$.Visit.VisitType[0]: must be an object",
    ]


def test_an_unknown_key_that_is_not_a_field_name_is_not_repeated() -> None:
    """A patient value used as a key is reported as ignored at its object, without the key."""
    message = seed()
    message["Visit"]["101-01-0001"] = "x"
    parsed = parse_request(message)
    assert "$.Visit (a key that is not a field of AvailableSlots)" in parsed.ignored
    assert not any("101-01-0001" in p for p in parsed.ignored)
