"""FHIR R4 on the real server: the CapabilityStatement and ``Appointment/$find`` (IHE ITI-115), validated
against the R4 models of ``fhirclient``; problems are OperationOutcomes naming parameters, never values."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from fhirclient.models.bundle import Bundle as R4Bundle  # type: ignore[import-untyped]
from fhirclient.models.capabilitystatement import (  # type: ignore[import-untyped]
    CapabilityStatement as R4CapabilityStatement,
)

from slotfinder._domain import ProviderFilter, SlotRequest, VisitTypeFilter
from slotfinder._pipeline import find_slots
from slotfinder._settings import Settings
from slotfinder.store import CalendarStore
from tests.server.running import Server
from tests.support import example

NPI = "http://hl7.org/fhir/sid/us-npi"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def window() -> tuple[str, str]:
    """Tomorrow 00:00 UTC to a week later: in the future whatever the wall clock says."""
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ"), (start + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")


def find(server: Server, params: list[tuple[str, str]]) -> httpx.Response:
    """GET ``Appointment/$find`` with ``params``."""
    with server.client() as client:
        return client.get("/fhir/Appointment/$find", params=tuple(params))


def ana(count: int = 4) -> list[tuple[str, str]]:
    """$find parameters: Ana Lindqvist's Office Visits next week, ``count`` of them."""
    start, end = window()
    return [
        ("start", start),
        ("end", end),
        ("practitioner", f"{NPI}|1234567890"),
        ("visit-type", "DNER15|210"),
        ("_count", str(count)),
    ]


def appointments(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The Appointment resources of a searchset Bundle."""
    return [e["resource"] for e in bundle.get("entry", [])]


def test_metadata_is_a_capability_statement_with_find(server: Server) -> None:
    """``/fhir/metadata`` is an R4 CapabilityStatement (fhir+json) declaring ``Appointment/$find``."""
    with server.client() as client:
        response = client.get("/fhir/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fhir+json"
    statement = response.json()
    R4CapabilityStatement(statement)
    assert statement["fhirVersion"] == "4.0.1"
    (resource,) = statement["rest"][0]["resource"]
    assert resource["type"] == "Appointment" and resource["operation"][0]["name"] == "find"


def test_find_answers_proposed_appointments_the_engine_finds(server: Server) -> None:
    """$find answers a valid searchset Bundle of ``_count`` proposed Appointments, best first, each with the
    practitioner and location as participants: the same starts the engine finds on the store's calendars."""
    response = find(server, ana(4))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fhir+json"
    bundle = response.json()
    R4Bundle(bundle)
    assert bundle["type"] == "searchset" and bundle["total"] == 4
    found = appointments(bundle)
    assert {a["status"] for a in found} == {"proposed"}
    for appointment in found:
        kinds = [p["actor"]["type"] for p in appointment["participant"]]
        assert kinds == ["Practitioner", "Location"]
        assert appointment["participant"][0]["actor"]["identifier"] == {"system": NPI, "value": "1234567890"}
        assert appointment["serviceType"][0]["coding"][0]["code"] == "210"
    start, end = window()
    request = SlotRequest(
        start=int((dt.datetime.fromisoformat(start) - EPOCH).total_seconds() // 60),
        end=int((dt.datetime.fromisoformat(end) - EPOCH).total_seconds() // 60),
        providers=[ProviderFilter("1234567890", "NPI")],
        visit_types=[VisitTypeFilter("210", "DNER15")],
    )
    with CalendarStore(server.db) as store:
        expected = find_slots(store.snapshot(), request, Settings(limit=4), dt.datetime.now(dt.UTC), relax=False)
    as_text = [(EPOCH + dt.timedelta(minutes=s.start)).strftime("%Y-%m-%dT%H:%M:%SZ") for s in expected.slots]
    assert [a["start"] for a in found] == as_text


def test_find_by_post_parameters_is_the_same(server: Server) -> None:
    """POSTing a Parameters resource gives the same Appointments as the query string."""
    parameters: list[dict[str, Any]] = [{"name": n, "valueString": v} for n, v in ana(3)[:-1]]
    parameters.append({"name": "_count", "valueInteger": 3})
    with server.client() as client:
        posted = client.post("/fhir/Appointment/$find", json={"resourceType": "Parameters", "parameter": parameters})
    assert posted.status_code == 200
    assert appointments(posted.json()) == appointments(find(server, ana(3)).json())


def test_a_booking_received_from_redox_is_no_longer_proposed(server: Server) -> None:
    """A Scheduling.New applied through ``/redox`` takes its time out of the next $find answer."""
    first = appointments(find(server, ana(1)).json())[0]
    message = example("new.json")
    message["Visit"].update(VisitNumber="V-FHIR-0001", VisitDateTime=first["start"], Duration=30)
    assert server.post(message).status_code == 200
    assert first["start"] not in [a["start"] for a in appointments(find(server, ana(4)).json())]


def test_bad_parameters_are_operation_outcomes_without_values(server: Server) -> None:
    """A missing or malformed start, an unsupported parameter and a bad _count are 400 OperationOutcomes whose
    issues name the parameter and the rule, never the value given."""
    start, _ = window()
    cases = {
        "start": [("end", start)],
        "_count": [("start", start), ("_count", "0")],
        "patient": [("start", start), ("patient", "Patient/SECRET-PATIENT-99")],
    }
    for where, params in cases.items():
        response = find(server, params)
        assert response.status_code == 400, where
        issue = response.json()["issue"][0]
        assert issue["expression"] == [where] and issue["severity"] == "error"
        assert "SECRET-PATIENT" not in response.text
    offsetless = find(server, [("start", "2031-02-03T04:05:06")])
    assert offsetless.status_code == 400
    assert "2031" not in offsetless.text and "has no UTC offset" in offsetless.text
