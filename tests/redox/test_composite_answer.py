"""A Redox AvailableSlots request naming a composite visit type: offers laid out as slots.

Each appointment of an offer is one slot; its Notes carry ``offer:<id>`` (shared by the offer),
``step:<i>/<n>`` and ``with:<provider ID>`` for the other participants. The response still
validates against Redox's own models.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest
from redox.scheduling.availableslotsresponse import AvailableSlotsResponse

from slotfinder import InvalidRequest, demo_clinic, find_slots_redox, load_clinic
from slotfinder.redox import with_visit_type

DEMO = json.loads(resources.files("slotfinder").joinpath("data/demo_request.json").read_text("utf-8"))


def _message(code: str, providers: list[str] | None = None) -> dict[str, Any]:
    message = with_visit_type(copy.deepcopy(DEMO), code)
    message["Visit"]["Locations"] = [{"Department": "3N"}]  # the demo request also names a room
    if providers is not None:
        message["Visit"]["AttendingProviders"] = [{"ID": p, "IDType": "NPI"} for p in providers]
    return message


def _groups(response: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The slots grouped by their offer note, in order."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for slot in response["AvailableSlots"]:
        offer = next(n for n in slot["Notes"] if n.startswith("offer:"))
        groups.setdefault(offer, []).append(slot)
    return list(groups.values())


def test_a_series_answers_one_slot_per_visit_with_offer_and_step_notes() -> None:
    result = find_slots_redox(_message("320"))
    response = result.to_redox()
    AvailableSlotsResponse.model_validate(response)
    groups = _groups(response)
    assert result.method == "chain"  # one provider per visit: exact without a solver
    assert len(groups) == 10  # Settings().limit offers
    for group in groups:
        assert [n for s in group for n in s["Notes"] if n.startswith("step:")] == [
            "step:1/4",
            "step:2/4",
            "step:3/4",
            "step:4/4",
        ]
        assert [s["DateTime"] for s in group] == sorted(s["DateTime"] for s in group)
    assert "$.Visit.VisitPreference[0].Duration" in result.ignored  # each visit type has its own length


def test_a_sequence_keeps_its_second_step_with_the_named_provider() -> None:
    groups = _groups(find_slots_redox(_message("300")).to_redox())
    assert groups
    for first, second in groups:
        assert second["Provider"]["ID"] == "1356072918"
        assert first["DateTime"] < second["DateTime"]


def test_attending_providers_narrow_the_steps_they_offer() -> None:
    """Okafor takes the office visit (he offers 210); the consult stays with the cardiologist."""
    groups = _groups(find_slots_redox(_message("300", ["1538296147"])).to_redox())
    assert groups
    assert {(a["Provider"]["ID"], b["Provider"]["ID"]) for a, b in groups} == {("1538296147", "1356072918")}


def test_attending_providers_who_offer_no_step_find_nothing_and_say_why() -> None:
    result = find_slots_redox(_message("300", ["1669473825"]))
    assert result.slots == ()
    assert result.reasons == ("no provider of the clinic matches Visit.AttendingProviders",)


def test_two_participants_at_once_name_the_second_in_the_notes() -> None:
    data = json.loads(resources.files("slotfinder").joinpath("data/demo_clinic.json").read_text("utf-8"))
    roles = [{"providers": ["1538296147"]}, {"providers": ["1093817264"]}]
    data["composites"].append({"code": "330", "steps": [{"visit_type": "210", "roles": roles}]})
    result = find_slots_redox(_message("330"), load_clinic(data))
    slots = result.to_redox()["AvailableSlots"]
    assert slots
    for slot in slots:
        assert slot["Provider"]["ID"] == "1538296147"
        assert "with:1093817264" in slot["Notes"]


def test_a_composite_asked_with_another_visit_type_is_refused() -> None:
    message = _message("300")
    message["Visit"]["VisitType"] = [{"Code": "300"}, {"Code": "210"}]
    with pytest.raises(InvalidRequest) as caught:
        find_slots_redox(message)
    assert [(p.path, p.rule) for p in caught.value.problems] == [
        ("$.Visit.VisitType", "a composite visit type must be asked for alone")
    ]


def test_the_same_composite_request_gives_the_same_bytes() -> None:
    clinic = demo_clinic()
    assert find_slots_redox(_message("320"), clinic).to_json() == find_slots_redox(_message("320"), clinic).to_json()
