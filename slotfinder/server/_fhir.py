"""FHIR R4 scheduling (IHE ITI Scheduling): ``metadata`` and ``Appointment/$find`` (ITI-115); ``$hold`` and
``$book`` (ITI-116, ITI-117) are in ``_fhir_book.py``.

``$find`` reads its parameters (query string, or a ``Parameters`` resource in a POST), searches the
store's calendars like ``slotfinder find --db`` with the FHIR writer's resources, and answers a
``searchset`` Bundle of ``proposed`` Appointments, best first, each naming its practitioner and location
as participants. Problems are an ``OperationOutcome`` naming the parameter and the rule, never its value.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from slotfinder._domain import LocationFilter, ProviderFilter, SlotRequest, VisitTypeFilter
from slotfinder._errors import InvalidClinic, InvalidRequest
from slotfinder._pipeline import find_slots
from slotfinder._problems import RuleError
from slotfinder._settings import Settings
from slotfinder.fhir._read import NPI_SYSTEM
from slotfinder.fhir._write import write_slots_bundle
from slotfinder.redox._values import parse_instant
from slotfinder.server._capacity import search_settings
from slotfinder.server._config import ServerConfig
from slotfinder.server._ids import proposal_id
from slotfinder.server._logs import note_search
from slotfinder.server._maintenance import request_store
from slotfinder.server._redox import Reply
from slotfinder.store._sqlite import ClinicCache

__all__ = ["FHIR_JSON", "capability_statement", "find_appointments", "parameters_of"]

FHIR_JSON = "application/fhir+json"
IHE_OPERATIONS = "https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-"
IHE_FIND = IHE_OPERATIONS + "find"
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:slotfinder:fhir:appointment")
_PARAMETERS = ("start", "end", "practitioner", "location", "visit-type", "_count")
_MAX_COUNT = 100
_VALUE_KEYS = ("valueString", "valueDateTime", "valueInstant", "valueDate", "valueCode", "valueUri", "valueInteger")


class _ParameterError(Exception):
    """A parameter breaks a rule: answered as an OperationOutcome naming the parameter."""

    def __init__(self, name: str, rule: str) -> None:
        super().__init__(f"{name}: {rule}")
        self.name, self.rule = name, rule


def _json(status: int, resource: Mapping[str, Any]) -> Reply:
    return Reply(status, (json.dumps(resource, indent=2) + "\n").encode("utf-8"), FHIR_JSON)


def outcome(status: int, issues: Iterable[tuple[str, str]], code: str = "invalid", severity: str = "error") -> Reply:
    """An OperationOutcome: one issue per (expression, rule); never a value."""
    found = [
        {"severity": severity, "code": code, "diagnostics": f"{where}: {rule}", "expression": [where]}
        for where, rule in issues
    ]
    return _json(status, {"resourceType": "OperationOutcome", "issue": found})


def capability_statement() -> dict[str, Any]:
    """What this server does on FHIR: R4, JSON, ``Appointment/$find``, ``$hold`` and ``$book``."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-27",
        "kind": "instance",
        "software": {"name": "slotfinder"},
        "implementation": {"description": "slotfinder scheduling server"},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "resource": [
                    {
                        "type": "Appointment",
                        "operation": [
                            {"name": name, "definition": IHE_OPERATIONS + name} for name in ("find", "hold", "book")
                        ],
                    }
                ],
            }
        ],
    }


def parameters_of(resource: Any) -> list[tuple[str, str]]:
    """(name, value) of a ``Parameters`` resource's primitive parameters (a POST of ``$find``)."""
    if not isinstance(resource, Mapping) or resource.get("resourceType") != "Parameters":
        raise _ParameterError("$", "must be a Parameters resource")
    found: list[tuple[str, str]] = []
    for n, parameter in enumerate(resource.get("parameter") or []):
        name = parameter.get("name") if isinstance(parameter, Mapping) else None
        values = [parameter[k] for k in _VALUE_KEYS if isinstance(parameter, Mapping) and k in parameter]
        if not isinstance(name, str) or len(values) != 1 or isinstance(values[0], bool | dict | list):
            raise _ParameterError(f"Parameters.parameter[{n}]", "must have a name and one primitive value")
        found.append((name, str(values[0])))
    return found


def _instant(name: str, value: str) -> int:
    try:
        return parse_instant(value)
    except RuleError as error:
        raise _ParameterError(name, f"{error.rule} (a FHIR dateTime with a UTC offset)") from None
    except ValueError:
        raise _ParameterError(name, "must be a FHIR dateTime with a UTC offset") from None


def _token(value: str) -> tuple[str | None, str]:
    """``system|code`` or ``code`` (a FHIR token); a reference ``Type/id`` gives its id."""
    system, bar, code = value.partition("|")
    if bar:
        return system or None, code
    return None, value.rsplit("/", 1)[-1]


def _request(parameters: list[tuple[str, str]]) -> tuple[SlotRequest, Settings]:
    unknown = [name for name, _ in parameters if name not in _PARAMETERS]
    if unknown:
        raise _ParameterError(unknown[0], f"is not supported (supported: {', '.join(_PARAMETERS)})")
    starts = [v for k, v in parameters if k == "start"]
    ends = [v for k, v in parameters if k == "end"]
    counts = [v for k, v in parameters if k == "_count"]
    for name, given in (("start", starts), ("end", ends), ("_count", counts)):
        if len(given) > 1:
            raise _ParameterError(name, "may be given once")
    if not starts:
        raise _ParameterError("start", "is required")
    providers = []
    for _, value in (p for p in parameters if p[0] == "practitioner"):
        system, code = _token(value)
        providers.append(ProviderFilter(code, "NPI" if system == NPI_SYSTEM else None))
    locations = [LocationFilter(id=_token(v)[1]) for k, v in parameters if k == "location"]
    visit_types = [
        VisitTypeFilter(code, system) for system, code in (_token(v) for k, v in parameters if k == "visit-type")
    ]
    settings = Settings()
    if counts:
        if not counts[0].isdigit() or not 1 <= int(counts[0]) <= _MAX_COUNT:
            raise _ParameterError("_count", f"must be a whole number from 1 to {_MAX_COUNT}")
        settings = Settings(limit=int(counts[0]))
    request = SlotRequest(
        start=_instant("start", starts[0]),
        end=_instant("end", ends[0]) if ends else None,
        providers=providers,
        locations=locations,
        visit_types=visit_types,
    )
    return request, settings


def _appointments(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The written bundle's free Slots as proposed Appointments whose participants are their Schedule's actors."""
    entries = bundle.get("entry", [])
    actors = {e["fullUrl"]: e["resource"]["actor"] for e in entries if e["resource"]["resourceType"] == "Schedule"}
    found = []
    for entry in entries:
        slot = entry["resource"]
        if slot["resourceType"] != "Slot":
            continue
        appointment: dict[str, Any] = {"resourceType": "Appointment", "id": slot["id"], "status": "proposed"}
        if "serviceType" in slot:
            appointment["serviceType"] = slot["serviceType"]
        appointment.update(start=slot["start"], end=slot["end"])
        appointment["participant"] = [
            {"actor": actor, "required": "required", "status": "needs-action"}
            for actor in actors[slot["schedule"]["reference"]]
        ]
        found.append(appointment)
    return found


def find_appointments(
    parameters: list[tuple[str, str]],
    config: ServerConfig,
    now: dt.datetime | None = None,
    cache: ClinicCache | None = None,
) -> Reply:
    """``Appointment/$find``: a searchset Bundle of proposed Appointments (best first), or an OperationOutcome.
    ``cache``: the worker's clinic cache (None: the clinic is read and prepared afresh)."""
    try:
        request, settings = _request(parameters)
        with request_store(config.db, cache) as store:
            clinic = store.prepared()
        settings = search_settings(config, settings)
        result = find_slots(clinic, request, settings, now or dt.datetime.now(dt.UTC), relax=False)
    except _ParameterError as error:
        return outcome(400, [(error.name, error.rule)])
    except InvalidRequest as error:
        return outcome(400, [(p.path, p.rule) for p in error.problems])
    except InvalidClinic as error:
        return outcome(503, [(p.path, p.rule) for p in error.problems], code="transient")
    note_search(result)
    written = write_slots_bundle(result)
    appointments = _appointments(written)
    for appointment, ranked in zip(appointments, result.slots, strict=True):  # the Slots are written in order
        vt = ranked.visit_type.code if ranked.visit_type else None
        appointment["id"] = proposal_id(ranked.start, ranked.duration, ranked.provider.id, ranked.location.id, vt)
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": written["timestamp"],
        "total": len(appointments),
    }
    if appointments:
        bundle["entry"] = [
            {
                "fullUrl": f"urn:uuid:{uuid.uuid5(_NAMESPACE, a['id'])}",
                "resource": a,
                "search": {"mode": "match"},
            }
            for a in appointments
        ]
    return _json(200, bundle)


def post_parameters(resource: Any) -> list[tuple[str, str]] | Reply:
    """The parameters of a POSTed ``Parameters`` resource, or the OperationOutcome refusing it."""
    try:
        return parameters_of(resource)
    except _ParameterError as error:
        return outcome(400, [(error.name, error.rule)])
