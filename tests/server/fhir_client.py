"""What a FHIR Scheduling client sends: ``$find`` queries and ``$hold``/``$book`` Parameters."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from tests.server.running import Server

NPI = "http://hl7.org/fhir/sid/us-npi"
ANA = "1234567890"  # the demo clinic's Ana Lindqvist (NPI)


def window(days: int = 1) -> tuple[str, str]:
    """``days`` from today at 00:00 UTC to a week later: in the future whatever the wall clock says."""
    now = dt.datetime.now(dt.UTC) + dt.timedelta(days=days)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.strftime("%Y-%m-%dT%H:%M:%SZ"), (start + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")


def find(
    server: Server, count: int = 4, days: int = 1, start: str | None = None, practitioner: str = ANA
) -> list[dict[str, Any]]:
    """The proposed Appointments of ``$find`` for a practitioner's (Ana's) Office Visits in the week from
    ``start``, else from ``days`` ahead."""
    first, end = window(days)
    if start is not None:
        end = (dt.datetime.fromisoformat(start) + dt.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    params = [
        ("start", start or first),
        ("end", end),
        ("practitioner", f"{NPI}|{practitioner}"),
        ("visit-type", "DNER15|210"),
        ("_count", str(count)),
    ]
    with server.client() as client:
        response = client.get("/fhir/Appointment/$find", params=tuple(params))
    assert response.status_code == 200, response.text
    return [e["resource"] for e in response.json().get("entry", [])]


def with_resource(appointment: dict[str, Any], name: str = "appointment-resource") -> dict[str, Any]:
    """A Parameters resource carrying ``appointment`` whole."""
    return {"resourceType": "Parameters", "parameter": [{"name": name, "resource": appointment}]}


def with_reference(appointment_id: str) -> dict[str, Any]:
    """A Parameters resource naming an Appointment by reference."""
    reference = {"reference": f"Appointment/{appointment_id}"}
    return {"resourceType": "Parameters", "parameter": [{"name": "appointment-reference", "valueReference": reference}]}


def operate(server: Server, operation: str, parameters: Any, client: httpx.Client | None = None) -> httpx.Response:
    """POST ``parameters`` (a JSON value, or bytes as they are) to ``Appointment/$<operation>``."""
    url = f"/fhir/Appointment/${operation}"
    body = parameters if isinstance(parameters, bytes) else None
    if client is not None:
        return client.post(url, content=body) if body is not None else client.post(url, json=parameters)
    with server.client() as own:
        return own.post(url, content=body) if body is not None else own.post(url, json=parameters)


def booked_resource(response: httpx.Response) -> dict[str, Any]:
    """The Appointment of a ``$hold``/``$book`` answer (the Bundle's match entry)."""
    (match,) = [e for e in response.json()["entry"] if e["search"]["mode"] == "match"]
    resource: dict[str, Any] = match["resource"]
    return resource
