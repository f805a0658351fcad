"""The AvailableSlotsResponse: Redox-exact, golden against the demo clinic, byte-identical on repeat."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from redox.scheduling.availableslotsresponse import AvailableSlotsResponse

from slotfinder import answer_redox, demo_clinic, find_slots_redox
from slotfinder._settings import Settings
from tests.support import seed

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "seed_response.golden.json"

# The AvailableSlotsResponse field table Redox publishes: nothing outside it may appear.
META_KEYS = {"DataModel", "EventType", "EventDateTime", "Test", "Source", "Destinations", "Message",
             "Transmission", "FacilityCode", "IsIncomplete"}  # fmt: skip
SLOT_KEYS = {"ID", "DateTime", "Duration", "Reason", "Notes", "Provider", "Location"}
PROVIDER_KEYS = {"ID", "IDType", "FirstName", "LastName", "Credentials", "EmailAddresses", "Address", "PhoneNumber",
                 "Location"}  # fmt: skip
LOCATION_KEYS = {"Type", "Facility", "Department", "Room", "FacilityIdentifiers", "DepartmentIdentifiers"}


def test_response_validates_against_redox_models() -> None:
    """Redox's own generated models (which forbid unknown fields) accept what we emit."""
    response = answer_redox(seed())
    AvailableSlotsResponse.model_validate(response)


def test_response_carries_only_table_fields() -> None:
    """Every key is in the response table; score breakdowns stay in the Python result."""
    response = answer_redox(seed())
    assert set(response) == {"Meta", "AvailableSlots"}
    assert set(response["Meta"]) <= META_KEYS
    for slot in response["AvailableSlots"]:
        assert set(slot) <= SLOT_KEYS
        assert set(slot["Provider"]) <= PROVIDER_KEYS
        assert set(slot["Location"]) <= LOCATION_KEYS


def test_golden_seed_response_field_by_field() -> None:
    """The seed's request against the demo clinic gives the reviewed golden response."""
    golden: dict[str, Any] = json.loads(GOLDEN.read_text())
    response = answer_redox(seed())
    assert response["Meta"] == golden["Meta"]
    assert len(response["AvailableSlots"]) == len(golden["AvailableSlots"]) == 10
    for got, want in zip(response["AvailableSlots"], golden["AvailableSlots"], strict=True):
        for key in SLOT_KEYS:
            assert got[key] == want[key], key


def test_seed_response_facts() -> None:
    """Independent of the golden file: the facts the seed's request must produce on the demo clinic."""
    response = answer_redox(seed())
    meta = response["Meta"]
    assert meta["EventType"] == "AvailableSlotsResponse"
    assert meta["EventDateTime"] == "2025-10-21T19:01:00Z"  # now = Meta.EventDateTime, rounded up
    assert meta["IsIncomplete"] is False
    assert meta["Source"] == {"ID": "af394f14-b34a-464f-8d24-895f370af4c9", "Name": "Redox EMR"}
    assert meta["Destinations"] == [{"ID": "7ce6f387-c33c-417d-8682-81e83628cbd9", "Name": "Redox Dev Tools"}]
    slots = response["AvailableSlots"]
    first = slots[0]
    assert first["DateTime"] == "2025-10-24T15:00:00Z"  # Friday 10:00 CDT: preferred day and time
    assert first["ID"] == "3N-136-1234567890-20251024T1500Z"
    assert first["Reason"] == "Office Visit"
    assert first["Provider"]["ID"] == "1234567890"
    assert first["Location"] == {"Type": "Inpatient", "Facility": "RES General Hospital", "Department": "3N",
                                 "Room": "136"}  # fmt: skip
    for slot in slots:
        assert slot["Duration"] == 30
        assert slot["DateTime"].endswith("Z")
        assert "2025-10-21T19:01:00Z" <= slot["DateTime"] < "2025-11-20T19:01:00Z"


def test_no_patient_data_in_response() -> None:
    """Nothing of the patient is echoed."""
    text = json.dumps(answer_redox(seed()))
    for value in ("Timothy", "Bixby", "0000000001", "101-01-0001", "Hickory"):
        assert value not in text


def test_same_input_same_bytes() -> None:
    """Determinism: the same request twice gives byte-identical JSON."""
    first = find_slots_redox(seed()).to_json()
    second = find_slots_redox(seed(), demo_clinic()).to_json()
    assert first == second


def test_incomplete_flag_when_time_limit_cuts(monkeypatch: pytest.MonkeyPatch) -> None:
    """IsIncomplete mirrors the solver: a FEASIBLE (time-limited) answer is flagged (CP-SAT decides here)."""
    from slotfinder._solve import cpsat
    from slotfinder._solve.problem import Selection

    real = cpsat.solve

    def cut_short(problem: Any, time_limit: float, seed_: int) -> Selection:
        found = real(problem, time_limit, seed_)
        return Selection(rows=found.rows, status="FEASIBLE", complete=False, method="cp-sat")

    monkeypatch.setattr(cpsat, "solve", cut_short)
    result = find_slots_redox(seed(), settings=Settings(time_limit_seconds=0.001, min_providers=2))
    assert result.to_redox()["Meta"]["IsIncomplete"] is True
