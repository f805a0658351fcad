"""The Redox entry points speak the message's own field names, where the engine speaks the domain's."""

from __future__ import annotations

import pytest

import slotfinder
from slotfinder.redox import RedoxSlotResult, find_slots_redox
from tests.support import seed


def test_window_problem_names_the_message_field() -> None:
    """An EndDateTime before StartDateTime is refused at $.EndDateTime, in the message's terms."""
    message = seed()
    message["EndDateTime"] = "2025-10-20T19:00:00Z"
    with pytest.raises(slotfinder.InvalidRequest) as caught:
        find_slots_redox(message)
    assert [str(p) for p in caught.value.problems] == ["$.EndDateTime: must be later than StartDateTime"]


def test_window_too_large_keeps_its_type_and_names_the_message_field() -> None:
    """A window longer than the horizon stays a WindowTooLarge, at $.EndDateTime."""
    message = seed()
    message["EndDateTime"] = "2027-10-21T19:00:00Z"
    with pytest.raises(slotfinder.WindowTooLarge) as caught:
        find_slots_redox(message)
    assert [p.path for p in caught.value.problems] == ["$.EndDateTime"]


def test_empty_reason_names_the_message_field() -> None:
    """A provider filter matching nobody: the reason names Visit.AttendingProviders (the engine says 'providers')."""
    message = seed()
    message["Visit"]["AttendingProviders"] = [{"ID": "9999999999", "IDType": "NPI"}]
    result = find_slots_redox(message)
    assert result.slots == ()
    assert result.reasons == ("no provider of the clinic matches Visit.AttendingProviders",)


def test_core_result_knows_no_redox() -> None:
    """The engine's result has no Redox method; the Redox entry point's result adds the echo and to_redox."""
    core = slotfinder.find_slots(slotfinder.demo_clinic(), slotfinder.parse_request(seed()).request)
    assert not hasattr(core, "to_redox") and not hasattr(core, "echo")
    answered = find_slots_redox(seed())
    assert isinstance(answered, RedoxSlotResult) and answered.echo is not None
    assert answered.to_redox()["Meta"]["EventType"] == "AvailableSlotsResponse"
