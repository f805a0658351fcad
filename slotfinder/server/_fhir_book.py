"""FHIR ``Appointment/$hold`` (IHE ITI-116) and ``Appointment/$book`` (ITI-117): read, check, write, answer.

Input: a ``Parameters`` resource with one ``appointment-reference`` (``Appointment/ID``: a proposal of
``$find``, whose id says what it proposes, or for ``$book`` a hold ``$hold`` answered) or one
``appointment-resource`` (alias ``appointment``): the Appointment itself, as ``$find`` proposed it (status
``proposed``) or as ``$hold`` answered it (``pending``, as ITI-117 asks; its id then names the hold).
The store checks that the time is still free and writes the hold or booking in one write transaction
(``CalendarStore.hold_if_free``/``book_if_free``/``book_held``).

Output: a ``searchset`` Bundle with the Appointment (``pending`` when held, ``booked`` when booked), and
for a hold an informational OperationOutcome saying until when. Problems are OperationOutcomes naming
the parameter's path and the rule, never a value (see ``docs/server.md`` for the status codes).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from slotfinder._calendars import zones
from slotfinder._domain import Clinic, PatientId, VisitType
from slotfinder._errors import InvalidClinic, Problem
from slotfinder._problems import RuleError
from slotfinder.fhir._read import LOCATION_SYSTEM, NPI_SYSTEM
from slotfinder.redox._values import parse_instant
from slotfinder.server._fhir import FHIR_JSON, outcome
from slotfinder.server._ids import read_proposal_id
from slotfinder.server._maintenance import request_store
from slotfinder.server._redox import Reply
from slotfinder.store._reserve import Proposal, Reserved
from slotfinder.store._sqlite import CalendarStore, ClinicCache
from slotfinder.store._state import HELD, Appointment

__all__ = ["BOOK", "HOLD", "reserve"]

HOLD, BOOK = "hold", "book"
CONFLICT = 409  # the time is no longer free
NO_CLINIC = "no clinic loaded in the store"
RESOURCE, ALIAS, REFERENCE = "appointment-resource", "appointment", "appointment-reference"
_NAMES = (RESOURCE, ALIAS, REFERENCE)
_STATUSES = ("proposed", "pending")  # what $find answers, and what ITI-117 asks a client to send
_REFERENCE = re.compile(r"(?:.*/)?Appointment/([A-Za-z0-9\-.]{1,64})")
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:slotfinder:fhir:booked")


class _RefusedError(Exception):
    """The request breaks a rule: answered with ``status`` and one issue at ``path``."""

    def __init__(self, status: int, path: str, rule: str, code: str = "invalid") -> None:
        super().__init__(f"{path}: {rule}")
        self.status, self.path, self.rule, self.code = status, path, rule, code

    def reply(self) -> Reply:
        severity = "fatal" if self.status == CONFLICT else "error"
        return outcome(self.status, [(self.path, self.rule)], code=self.code, severity=severity)


def _mapping(value: Any, path: str, rule: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _RefusedError(400, path, rule)
    return value


def _argument(resource: Any) -> tuple[str, str, Any]:
    """(path, name, value) of the one appointment parameter of a ``Parameters`` resource."""
    body = _mapping(resource, "$", "must be a Parameters resource")
    if body.get("resourceType") != "Parameters":
        raise _RefusedError(400, "$", "must be a Parameters resource")
    parameters = body.get("parameter")
    if not isinstance(parameters, list) or not parameters:
        raise _RefusedError(400, "Parameters.parameter", f"needs one {RESOURCE} or {REFERENCE}")
    if len(parameters) > 1:
        raise _RefusedError(400, "Parameters.parameter[1]", f"one parameter only: {RESOURCE} or {REFERENCE}")
    path = "Parameters.parameter[0]"
    parameter = _mapping(parameters[0], path, "must be an object")
    name = parameter.get("name")
    if name not in _NAMES:
        raise _RefusedError(400, f"{path}.name", f"must be one of {', '.join(_NAMES)}")
    if name == REFERENCE:
        return f"{path}.valueReference", name, parameter.get("valueReference")
    return f"{path}.resource", name, parameter.get("resource")


def _reference_id(value: Any, path: str) -> str:
    reference = _mapping(value, path, "must be a Reference").get("reference")
    found = _REFERENCE.fullmatch(reference) if isinstance(reference, str) else None
    if found is None:
        raise _RefusedError(400, f"{path}.reference", "must be Appointment/ID (as $find or $hold answered it)")
    return found.group(1)


def _instant(value: Any, path: str) -> int:
    if not isinstance(value, str):
        raise _RefusedError(400, path, "is required: a FHIR instant with a UTC offset")
    try:
        minute = parse_instant(value)
        moment = dt.datetime.fromisoformat(value.strip().replace(" ", "T", 1))
    except RuleError as error:
        raise _RefusedError(400, path, f"{error.rule} (a FHIR instant with a UTC offset)") from None
    except ValueError:
        raise _RefusedError(400, path, "must be a FHIR instant with a UTC offset") from None
    if moment.second or moment.microsecond:
        raise _RefusedError(400, path, "must fall on a whole minute (as $find proposes)")
    return minute


def _identifiers(actor: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = actor.get("identifier")
    if isinstance(found, Mapping):
        return [found]
    return [i for i in found if isinstance(i, Mapping)] if isinstance(found, list) else []


def _actor_type(actor: Mapping[str, Any]) -> str | None:
    kind = actor.get("type")
    reference = actor.get("reference")
    if isinstance(kind, str):
        return kind
    parts = reference.rstrip("/").split("/") if isinstance(reference, str) else []
    return parts[-2] if len(parts) > 1 else None


def _provider(clinic: Clinic, actor: Mapping[str, Any], path: str) -> str:
    """The clinic provider a Practitioner reference names: NPI-system identifier, any identifier, or ``/ID``."""
    named: list[tuple[str, bool]] = []  # (value, whether of the NPI system)
    for identifier in _identifiers(actor):
        if isinstance(identifier.get("value"), str):
            named.append((identifier["value"], identifier.get("system") == NPI_SYSTEM))
    reference = actor.get("reference")
    if isinstance(reference, str):
        named.append((reference.rstrip("/").split("/")[-1], False))
    for value, npi in sorted(named, key=lambda n: not n[1]):
        match = [p for p in clinic.providers if p.id == value and (not npi or p.id_type.upper() == "NPI")]
        if len(match) == 1:
            return match[0].id
    raise _RefusedError(400, path, "names no provider of the clinic (an NPI identifier, or Practitioner/ID)")


def _location(clinic: Clinic, actor: Mapping[str, Any], path: str) -> str:
    values = [i["value"] for i in _identifiers(actor) if isinstance(i.get("value"), str)]
    if isinstance(actor.get("reference"), str):
        values.append(actor["reference"].rstrip("/").split("/")[-1])
    for value in values:
        if any(loc.id == value for loc in clinic.locations):
            return str(value)
    rule = f"names no location of the clinic (an identifier of {LOCATION_SYSTEM}, or Location/ID)"
    raise _RefusedError(400, path, rule)


def _patients(actor: Mapping[str, Any]) -> list[PatientId]:
    """The patient's identifiers (value, and the v2 type code such as MR when given): what the store keeps."""
    found = []
    for identifier in _identifiers(actor):
        value = identifier.get("value")
        if not isinstance(value, str) or not value.strip():
            continue
        codings = identifier.get("type", {}).get("coding") if isinstance(identifier.get("type"), Mapping) else None
        code = next((c.get("code") for c in codings or [] if isinstance(c, Mapping)), None)
        found.append(PatientId(value, code if isinstance(code, str) else None))
    return found


def _visit_type(clinic: Clinic, appointment: Mapping[str, Any], path: str) -> VisitType | None:
    concepts = appointment.get("serviceType")
    if concepts is None:
        return None
    if not isinstance(concepts, list):
        raise _RefusedError(400, f"{path}.serviceType", "must be a list of CodeableConcepts")
    for concept in concepts:
        codings = concept.get("coding") if isinstance(concept, Mapping) else None
        for coding in codings if isinstance(codings, list) else []:
            if not isinstance(coding, Mapping):
                continue
            for vt in clinic.visit_types:
                system = coding.get("system")
                if coding.get("code") == vt.code and (system is None or vt.codeset is None or system == vt.codeset):
                    return vt
    raise _RefusedError(400, f"{path}.serviceType", "names no visit type of the clinic")


def _proposal(clinic: Clinic, value: Any, path: str) -> Proposal:
    """The Appointment at ``path`` as a proposal on the clinic (its participants, times and visit type)."""
    appointment = _mapping(value, path, "must be an Appointment resource")
    if appointment.get("resourceType") != "Appointment":
        raise _RefusedError(400, path, "must be an Appointment resource")
    if appointment.get("status") not in _STATUSES:
        raise _RefusedError(400, f"{path}.status", f"must be {' or '.join(_STATUSES)}")
    start = _instant(appointment.get("start"), f"{path}.start")
    end = _instant(appointment.get("end"), f"{path}.end")
    participants = appointment.get("participant")
    if not isinstance(participants, list):
        raise _RefusedError(400, f"{path}.participant", "is required: a Practitioner and a Location")
    providers, locations, patients = [], [], []
    for n, participant in enumerate(participants):
        where = f"{path}.participant[{n}].actor"
        actor = _mapping(participant.get("actor") if isinstance(participant, Mapping) else None, where, "is required")
        kind = _actor_type(actor)
        if kind == "Practitioner":
            providers.append(_provider(clinic, actor, where))
        elif kind == "Location":
            locations.append(_location(clinic, actor, where))
        elif kind == "Patient":
            patients += _patients(actor)
        else:
            raise _RefusedError(400, f"{where}.type", "must be Practitioner, Location or Patient")
    if len(providers) != 1 or len(locations) != 1:
        raise _RefusedError(400, f"{path}.participant", "must name exactly one Practitioner and one Location")
    visit_type = _visit_type(clinic, appointment, path)
    duration = visit_type.duration if visit_type is not None else clinic.default_duration
    if end - start != duration:
        rule = f"must be the start plus the visit type's duration ({duration} minutes)"
        raise _RefusedError(400, f"{path}.end", rule)
    return Proposal(start, end, providers[0], locations[0], visit_type.code if visit_type else None, patients)


def _instant_text(minute: int) -> str:
    return zones.to_datetime(minute).strftime("%Y-%m-%dT%H:%M:%SZ")


def _resource(clinic: Clinic, record: Appointment) -> dict[str, Any]:
    """The held or booked Appointment: status, visit type, times and participants (as ``$find`` names them)."""
    assert record.start is not None
    assert record.end is not None
    held = record.status == HELD
    resource: dict[str, Any] = {"resourceType": "Appointment", "id": record.visit_number}
    resource["status"] = "pending" if held else "booked"
    vt = next((v for v in clinic.visit_types if v.code == record.visit_type), None)
    if vt is not None:
        coding = {k: v for k, v in (("system", vt.codeset), ("code", vt.code), ("display", vt.description)) if v}
        resource["serviceType"] = [{"coding": [coding], "text": vt.description or vt.code}]
    resource.update(start=_instant_text(record.start), end=_instant_text(record.end))
    provider = next((p for p in clinic.providers if p.id == record.provider_id), None)
    practitioner: dict[str, Any] = {"value": record.provider_id}
    if provider is not None and provider.id_type.upper() == "NPI":
        practitioner = {"system": NPI_SYSTEM, "value": record.provider_id}
    status = "tentative" if held else "accepted"
    actors: list[dict[str, Any]] = [
        {"type": "Practitioner", "identifier": practitioner},
        {"type": "Location", "identifier": {"system": LOCATION_SYSTEM, "value": record.location_id}},
    ]
    for patient in record.patients:
        identifier: dict[str, Any] = {"value": patient.id}
        if patient.id_type:
            identifier["type"] = {"coding": [{"code": patient.id_type}]}
        actors.append({"type": "Patient", "identifier": identifier})
    resource["participant"] = [{"actor": a, "required": "required", "status": status} for a in actors]
    return resource


def _answer(clinic: Clinic, done: Reserved) -> Reply:
    assert done.appointment is not None
    resource = _resource(clinic, done.appointment)
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"urn:uuid:{uuid.uuid5(_NAMESPACE, resource['id'])}",
            "resource": resource,
            "search": {"mode": "match"},
        }
    ]
    if done.appointment.held_until is not None:
        until = dt.datetime.fromisoformat(done.appointment.held_until).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        information = {"severity": "information", "code": "informational", "diagnostics": f"held until {until}"}
        held = {"resourceType": "OperationOutcome", "issue": [information]}
        entries.append({"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": held, "search": {"mode": "outcome"}})
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "total": 1,
        "entry": entries,
    }
    return Reply(200, (json.dumps(bundle, indent=2) + "\n").encode("utf-8"), FHIR_JSON)


def _taken(path: str) -> _RefusedError:
    # ITI-116: an appointment no longer available is an issue of severity fatal, code not-found.
    return _RefusedError(CONFLICT, path, "is no longer free (booked or held since it was proposed)", "not-found")


def _by_reference(
    store: CalendarStore, clinic: Clinic, operation: str, text: str, value: Any, path: str, hold: dt.timedelta
) -> Reserved:
    """Hold or book a ``$find`` proposal by its id, or book a hold by its id."""
    number = _reference_id(value, path)
    now = dt.datetime.now(dt.UTC)
    proposal = read_proposal_id(number, clinic)
    if proposal is not None:
        if operation == HOLD:
            return store.hold_if_free(proposal, now + hold, text, now)
        return store.book_if_free(proposal, text, now)
    known = store.appointment(number)
    if known is None or not known.booking:
        raise _RefusedError(404, f"{path}.reference", "names no Appointment of this server", "not-found")
    if operation == HOLD:
        return Reserved("taken", known)  # held or booked already
    return store.book_held(number, text, now)


def _held(store: CalendarStore, value: Mapping[str, Any], proposal: Proposal, path: str) -> str | None:
    """The visit number of the hold an Appointment's ``id`` names (None: a new appointment)."""
    number = value.get("id")
    held = store.appointment(number) if isinstance(number, str) and number else None
    if held is None or not held.booking:
        return None
    if (held.start, held.end, held.provider_id, held.location_id) != (
        proposal.start,
        proposal.end,
        proposal.provider_id,
        proposal.location_id,
    ):
        raise _RefusedError(400, path, "differs from the held Appointment of its id (times or participants)")
    return held.visit_number


def _reserve(operation: str, text: str, resource: Any, db: str, hold: dt.timedelta, cache: ClinicCache | None) -> Reply:
    path, name, value = _argument(resource)
    now = dt.datetime.now(dt.UTC)
    with request_store(db, cache) as store:
        clinic = store.clinic()
        if clinic is None:
            raise InvalidClinic([Problem("$", NO_CLINIC)])
        if name == REFERENCE:
            done = _by_reference(store, clinic, operation, text, value, path, hold)
        else:
            proposal = _proposal(clinic, value, path)
            number = _held(store, value, proposal, path) if operation == BOOK else None
            if number is not None:
                done = store.book_held(number, text, now)
            elif operation == HOLD:
                done = store.hold_if_free(proposal, now + hold, text, now)
            else:
                done = store.book_if_free(proposal, text, now)
    if not done.done:
        raise _taken(path)
    return _answer(clinic, done)


def reserve(operation: str, text: str, db: str, hold: dt.timedelta, cache: ClinicCache | None = None) -> Reply:
    """The answer to ``$hold`` or ``$book`` with body ``text``: the Bundle, or an OperationOutcome (``cache``:
    the worker's clinic cache; None: the clinic is read afresh)."""
    try:
        resource = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return outcome(400, [("$", "not valid JSON")])
    try:
        return _reserve(operation, text, resource, db, hold, cache)
    except _RefusedError as refused:
        return refused.reply()
    except InvalidClinic:
        return outcome(503, [("$", NO_CLINIC)], code="transient")
