"""FHIR ``Appointment/$hold`` (IHE ITI-116) and ``$book`` (ITI-117) on the real server: a hold keeps the time
out of ``$find`` and Redox ``AvailableSlots`` until booked, a booking is written to the store once, a time
taken since it was proposed is 409, bad Parameters are 400 naming the path, and nothing is echoed."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
from fhirclient.models.bundle import Bundle as R4Bundle  # type: ignore[import-untyped]
from fhirclient.models.capabilitystatement import (  # type: ignore[import-untyped]
    CapabilityStatement as R4CapabilityStatement,
)
from fhirclient.models.operationoutcome import OperationOutcome as R4OperationOutcome  # type: ignore[import-untyped]

from slotfinder.server import ServerConfig, create_app
from slotfinder.store import CalendarStore
from tests.server.fhir_client import ANA, booked_resource, find, operate, window, with_reference, with_resource
from tests.server.running import Server
from tests.support import seed

SECRET = "Zebulon-Quixote-4471"  # a name and a comment no answer or log line may repeat
SECRET_MRN = "MRN-SECRET-31337"


def with_patient(appointment: dict[str, Any]) -> dict[str, Any]:
    """``appointment`` for a patient: an MRN identifier (kept), a name in display and a comment (never kept)."""
    planted = copy.deepcopy(appointment)
    identifier = {"type": {"coding": [{"code": "MR"}]}, "system": "urn:clinic:mrn", "value": SECRET_MRN}
    patient = {"type": "Patient", "identifier": identifier, "display": SECRET}
    planted["participant"].append({"actor": patient, "required": "required", "status": "needs-action"})
    planted["comment"] = SECRET
    return planted


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def outcome_of(response: Any) -> dict[str, Any]:
    """The OperationOutcome of an error answer, validated against the R4 model."""
    assert response.headers["content-type"] == "application/fhir+json"
    body: dict[str, Any] = response.json()
    R4OperationOutcome(body)
    return body


def test_metadata_lists_hold_and_book(server: Server) -> None:
    """The CapabilityStatement declares $find, $hold and $book with IHE's operation definitions."""
    with server.client() as client:
        statement = client.get("/fhir/metadata").json()
    R4CapabilityStatement(statement)
    operations = statement["rest"][0]["resource"][0]["operation"]
    assert [o["name"] for o in operations] == ["find", "hold", "book"]
    assert operations[2]["definition"].endswith("/OperationDefinition/appointment-book")


def test_hold_then_book(server: Server) -> None:
    """$hold answers the Appointment pending (with until when, as an informational outcome) and takes its time
    out of $find; $book of that hold by reference answers it booked under the same id; the store holds one
    booking record, logged once per step, and its replay equals its state."""
    proposed = find(server, 1)[0]
    held = operate(server, "hold", with_resource(with_patient(proposed)))
    assert held.status_code == 200, held.text
    R4Bundle(held.json())
    pending = booked_resource(held)
    assert pending["status"] == "pending" and (pending["start"], pending["end"]) == (proposed["start"], proposed["end"])
    (information,) = [e["resource"] for e in held.json()["entry"] if e["search"]["mode"] == "outcome"]
    assert information["issue"][0]["diagnostics"].startswith("held until ")
    assert proposed["start"] not in [a["start"] for a in find(server, 4)]
    booked = operate(server, "book", with_reference(pending["id"]))
    assert booked.status_code == 200, booked.text
    R4Bundle(booked.json())
    appointment = booked_resource(booked)
    assert appointment["status"] == "booked" and appointment["id"] == pending["id"]
    assert [p["actor"]["type"] for p in appointment["participant"]] == ["Practitioner", "Location", "Patient"]
    assert proposed["start"] not in [a["start"] for a in find(server, 4)]
    with CalendarStore(server.db) as store:
        record = store.state().appointments[pending["id"]]
        assert (record.status, record.provider_id, record.booking) == ("booked", ANA, True)
        assert [p.id for p in record.patients] == [SECRET_MRN]
        assert [e.kind for e in store.log()[-2:]] == ["booking", "booking"]
        assert store.replay() == store.state()
    again = operate(server, "book", with_reference(pending["id"]))
    assert again.status_code == 409


def test_hold_and_book_by_reference_to_the_proposal(server: Server) -> None:
    """IHE ITI-116's form: $hold names the proposed Appointment of $find by ``appointment-reference`` (its id
    says what it proposes; nothing was stored by the search); $book by reference to a proposal books it
    directly. A second hold of either is 409."""
    first = find(server, 1)[0]
    held = operate(server, "hold", with_reference(first["id"]))
    assert held.status_code == 200, held.text
    pending = booked_resource(held)
    assert (pending["status"], pending["start"], pending["end"]) == ("pending", first["start"], first["end"])
    assert operate(server, "hold", with_reference(first["id"])).status_code == 409
    assert operate(server, "hold", with_reference(pending["id"])).status_code == 409
    second = find(server, 1)[0]
    booked = operate(server, "book", with_reference(second["id"]))
    assert booked.status_code == 200, booked.text
    assert booked_resource(booked)["start"] == second["start"]
    assert operate(server, "book", with_reference(second["id"])).status_code == 409
    assert operate(server, "book", with_reference(pending["id"])).status_code == 200


def test_book_with_the_pending_resource_books_the_hold(server: Server) -> None:
    """ITI-117's form: $book with the pending Appointment $hold answered (its id) books that hold."""
    proposed = find(server, 1)[0]
    pending = booked_resource(operate(server, "hold", with_resource(proposed)))
    answer = operate(server, "book", with_resource(pending))
    assert answer.status_code == 200, answer.text
    assert booked_resource(answer)["id"] == pending["id"]
    moved = dict(pending, start=find(server, 1)[0]["start"])
    assert operate(server, "book", with_resource(moved)).status_code == 400


def test_book_of_a_taken_slot_is_409(server: Server) -> None:
    """Booking a proposal twice, or one held by someone else, is 409 with an OperationOutcome (fatal,
    not-found, as ITI-116 asks for an appointment no longer available) naming the parameter's path."""
    proposed = find(server, 1)[0]
    assert operate(server, "book", with_resource(proposed)).status_code == 200
    for operation in ("book", "hold"):
        taken = operate(server, operation, with_resource(proposed, "appointment"))
        assert taken.status_code == 409
        issue = outcome_of(taken)["issue"][0]
        assert (issue["severity"], issue["code"]) == ("fatal", "not-found")
        assert issue["expression"] == ["Parameters.parameter[0].resource"]
    other = find(server, 1)[0]
    assert operate(server, "hold", with_resource(other)).status_code == 200
    assert operate(server, "book", with_resource(other)).status_code == 409


def test_a_fhir_booking_is_not_offered_to_redox(server: Server) -> None:
    """A time booked with $book is no longer in the Redox AvailableSlots answer on the same store."""
    query = seed()
    query["StartDateTime"], query["EndDateTime"] = window(2)
    first = server.post(query).json()["AvailableSlots"][0]
    provider = first["Provider"]["ID"]
    found = find(server, 10, start=first["DateTime"], practitioner=provider)
    (proposed,) = [a for a in found if instant(a["start"]) == instant(first["DateTime"])]
    assert operate(server, "book", with_resource(proposed)).status_code == 200
    offered = [(instant(s["DateTime"]), s["Provider"]["ID"]) for s in server.post(query).json()["AvailableSlots"]]
    assert (instant(first["DateTime"]), provider) not in offered


def test_bad_parameters_are_400_with_the_path(server: Server) -> None:
    """Malformed Parameters are 400 OperationOutcomes whose expression is the path of the offending element
    and whose text holds no value of the request; an unknown reference is 404."""
    proposed = with_patient(find(server, 1)[0])
    resource = "Parameters.parameter[0].resource"
    cases: list[tuple[Any, str]] = [
        ({"resourceType": "Bundle"}, "$"),
        ({"resourceType": "Parameters"}, "Parameters.parameter"),
        (
            {"resourceType": "Parameters", "parameter": [{"name": "slot", "valueString": SECRET}]},
            "Parameters.parameter[0].name",
        ),
        (with_resource(dict(proposed, status="booked")), f"{resource}.status"),
        (with_resource(dict(proposed, start="2031-02-03T04:05:00")), f"{resource}.start"),
        (with_resource(dict(proposed, start=proposed["start"].replace(":00Z", ":30Z"))), f"{resource}.start"),
        (with_resource(dict(proposed, participant=proposed["participant"][:1])), f"{resource}.participant"),
        (with_resource(dict(proposed, end=proposed["start"])), f"{resource}.end"),
        (with_resource(dict(proposed, serviceType=[{"coding": [{"code": SECRET}]}])), f"{resource}.serviceType"),
    ]
    patient_reference = with_reference("x")
    patient_reference["parameter"][0]["valueReference"]["reference"] = f"Patient/{SECRET}"
    cases.append((patient_reference, "Parameters.parameter[0].valueReference.reference"))
    typeless = copy.deepcopy(proposed)
    typeless["participant"][1]["actor"] = {"reference": "Location/"}
    cases.append((with_resource(typeless), f"{resource}.participant[1].actor.type"))
    stranger = copy.deepcopy(proposed)
    stranger["participant"][0]["actor"]["identifier"]["value"] = SECRET
    cases.append((with_resource(stranger), f"{resource}.participant[0].actor"))
    for body, path in cases:
        answer = operate(server, "book", body)
        assert answer.status_code == 400, (path, answer.text)
        assert outcome_of(answer)["issue"][0]["expression"] == [path]
        assert SECRET not in answer.text and SECRET_MRN not in answer.text and "2031" not in answer.text
    for operation in ("hold", "book"):
        unknown = operate(server, operation, with_reference("fhir-0000"))
        assert unknown.status_code == 404
        assert outcome_of(unknown)["issue"][0]["expression"] == ["Parameters.parameter[0].valueReference.reference"]
    assert operate(server, "book", b"{not json").status_code == 400


def test_nothing_of_a_request_reaches_the_log_or_the_file(server: Server) -> None:
    """The server's log names routes and statuses only; the store file keeps the patient's identifier (the
    engine matches on it) but never the name or comment sent with it."""
    proposed = find(server, 1)[0]
    booked = operate(server, "book", with_resource(with_patient(proposed)))
    assert booked.status_code == 200
    statuses = {
        (line["route"], line["status"]) for line in server.wait_logged({booked.headers["x-request-id"]}).values()
    }
    log = server.log_text()
    assert {("/fhir/Appointment/$book", 200), ("/fhir/Appointment/$hold", 200)} <= statuses
    assert SECRET not in log and SECRET_MRN not in log
    with CalendarStore(server.db) as store:
        assert SECRET not in json.dumps([e.record for e in store.log()])
    for suffix in ("", "-wal"):
        data = server.db.with_name(server.db.name + suffix)
        assert not data.exists() or SECRET.encode() not in data.read_bytes()


async def _book_on(db: str) -> tuple[int, dict[str, Any]]:
    transport = httpx.ASGITransport(app=create_app(ServerConfig(db=db, token="redox")), client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://slotfinder") as client:
        answer = await client.post("/fhir/Appointment/$book", json=with_reference("proposed-1-1e-0000000000000000"))
    return answer.status_code, answer.json()


def test_no_clinic_is_503(tmp_path: Path) -> None:
    """On a store without a clinic, $book is 503 (retry once a clinic is imported), an OperationOutcome."""
    CalendarStore(tmp_path / "empty.db").close()
    status, body = asyncio.run(_book_on(str(tmp_path / "empty.db")))
    assert status == 503 and body["issue"][0]["code"] == "transient"
