"""FHIR R4 Schedule + Slot: reading a Bundle into open and busy time, writing results and calendars back.

Written bundles are validated against the FHIR R4 (4.0.1) resource definitions with the SMART on FHIR
``fhirclient`` models (structure, types, cardinalities, the instant format, no unknown elements), plus
the R4 rules those models do not check (id format, required code bindings, no empty values, Bundle
invariants bdl-1, bdl-2 and bdl-7). Reading uses the small clinic of ``tests/clinic_builders.py``
(P1 and P2; MAIN is RES General Hospital 3N, ANNEX is RES Annex 2W; visit types OV, NP, PROC of DNE).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from attrs import evolve
from fhirclient.models.bundle import Bundle as R4Bundle  # type: ignore[import-untyped]
from hypothesis import given

from slotfinder import find_slots, list_candidates
from slotfinder._calendars import zones
from slotfinder._calendars.expand import expand_blocks
from slotfinder._calendars.intervals import Interval, merge
from slotfinder._domain import Busy, BusyKind, Clinic, Location, OpenTime, Provider, VisitTypeFilter
from slotfinder._errors import InvalidClinic
from slotfinder._settings import Settings
from slotfinder.fhir import FhirItems, read_fhir_bundle, write_clinic_bundle, write_slots_bundle
from slotfinder.fhir._write import clinic_period, fhir_id
from tests.clinic_builders import ANNEX, MAIN, MONDAY, NOW, OV, P1, P2, at, clinic, day, request, weekly
from tests.strategies import Scenario, scenarios

DATA = Path(__file__).resolve().parents[1] / "data" / "fhir"
NPI = "http://hl7.org/fhir/sid/us-npi"

# ---- the R4 rules the fhirclient models do not check --------------------------------------------

R4_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
R4_CODE = re.compile(r"[^\s]+(\s[^\s]+)*")
R4_SLOT_STATUS = {"busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error"}
R4_BUNDLE_TYPE = {"document", "message", "transaction", "transaction-response", "batch", "batch-response",
                  "history", "searchset", "collection"}  # fmt: skip
R4_SEARCH_MODE = {"match", "include", "outcome"}


def _no_empty_values(value: Any, path: str = "$") -> None:
    """FHIR JSON has no nulls, empty strings, empty arrays or empty objects (ele-1)."""
    assert value is not None and value not in ("", [], {}), path
    if isinstance(value, dict):
        for key, item in value.items():
            _no_empty_values(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _no_empty_values(item, f"{path}[{i}]")


def assert_valid_r4(bundle: dict[str, Any]) -> None:
    """``bundle`` conforms to the R4 Bundle, Schedule and Slot definitions (raises if not)."""
    model = R4Bundle(bundle, strict=True)  # FHIRValidationError on any structural problem
    assert model.as_json() == bundle  # every element was understood: nothing dropped or renamed
    _no_empty_values(bundle)
    assert bundle["type"] in R4_BUNDLE_TYPE
    assert "total" not in bundle or bundle["type"] in {"searchset", "history"}  # bdl-1
    entries = bundle.get("entry", [])
    urls = [entry["fullUrl"] for entry in entries]
    assert len(set(urls)) == len(urls)  # bdl-7
    for entry in entries:
        resource = entry["resource"]
        assert R4_ID.fullmatch(resource["id"]), resource["id"]
        if "search" in entry:  # bdl-2
            assert bundle["type"] == "searchset" and entry["search"]["mode"] in R4_SEARCH_MODE
        for concept in resource.get("serviceType", []):
            assert all(R4_CODE.fullmatch(c["code"]) for c in concept.get("coding", []) if "code" in c)
        if resource["resourceType"] == "Slot":
            assert resource["status"] in R4_SLOT_STATUS
            reference = resource["schedule"]["reference"]  # resolves inside the bundle (urn:uuid or Type/id)
            assert any(url == reference or url.endswith(f"/{reference}") for url in urls), reference


# ---- building bundles ---------------------------------------------------------------------------

P1_REF = {"reference": "Practitioner/ana", "identifier": {"system": NPI, "value": P1.id}}
MAIN_REF = {"type": "Location", "identifier": {"value": MAIN.id}}


def iso(instant: int) -> str:
    """An instant as a FHIR instant in UTC."""
    return zones.to_datetime(instant).strftime("%Y-%m-%dT%H:%M:%SZ")


def schedule(rid: str = "s1", actors: Iterable[dict[str, Any]] = (P1_REF, MAIN_REF), **extra: Any) -> dict[str, Any]:
    """A Schedule (default: P1 at MAIN)."""
    return {"resourceType": "Schedule", "id": rid, "actor": copy.deepcopy(list(actors)), **extra}


def slot(
    rid: str = "x1",
    status: str = "free",
    start: str = "10:00",
    end: str = "10:30",
    on: str = "Schedule/s1",
    **extra: Any,
) -> dict[str, Any]:
    """A Slot on MONDAY between two Chicago wall times, on Schedule ``on``."""
    return {
        "resourceType": "Slot",
        "id": rid,
        "schedule": {"reference": on},
        "status": status,
        "start": iso(at(MONDAY, start)),
        "end": iso(at(MONDAY, end)),
        **extra,
    }


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    """A collection Bundle of ``resources`` (no fullUrls: references resolve by Type/id)."""
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def base() -> Clinic:
    """The small clinic with no working time of its own (the bundle brings it)."""
    return clinic(templates=[])


def read(*resources: dict[str, Any]) -> FhirItems:
    """Read a bundle of ``resources`` against :func:`base`."""
    return read_fhir_bundle(bundle(*resources), base())


def example() -> dict[str, Any]:
    """tests/data/fhir/schedule-slots.json: one week of MAIN and ANNEX as an EHR might publish it."""
    data: dict[str, Any] = json.loads((DATA / "schedule-slots.json").read_text())
    return data


def problems(data: Any, where: Clinic | None = None) -> list[tuple[str, str]]:
    """The (path, rule) pairs ``read_fhir_bundle`` raises for ``data``."""
    with pytest.raises(InvalidClinic) as caught:
        read_fhir_bundle(data, where or base())
    return [(p.path, p.rule) for p in caught.value.problems]


# ---- reading ------------------------------------------------------------------------------------


def test_example_bundle_is_valid_r4() -> None:
    """The example bundle the reading tests use is itself valid FHIR R4."""
    assert_valid_r4(example())


def test_example_bundle_read() -> None:
    """Every free and busy Slot of known Schedules is read; everything else is listed as skipped."""
    items = read_fhir_bundle(example(), base())
    assert items.open_times == (
        OpenTime(P1.id, MAIN.id, at(MONDAY, "10:00"), at(MONDAY, "10:30"), visit_types=("OV",), source="free-ov"),
        OpenTime(P1.id, MAIN.id, at(MONDAY, "10:30"), at(MONDAY, "11:30"), visit_types=("NP",), source="free-np"),
        OpenTime(P2.id, ANNEX.id, at(day(2), "09:00"), at(day(2), "09:45"), visit_types=("OV",), source="free-ben"),
    )
    assert items.busy == (
        Busy(BusyKind.BOOKING, at(MONDAY, "11:30"), at(MONDAY, "12:00"), P1.id, MAIN.id, visit_number="busy-booked"),
        Busy(BusyKind.HOLD, at(day(1), "09:00"), at(day(1), "09:30"), P1.id, MAIN.id, visit_number="busy-held"),
        Busy(BusyKind.BLOCK, at(day(1), "13:00"), at(day(1), "17:00"), P2.id, ANNEX.id, visit_number="busy-ben"),
        Busy(BusyKind.CLOSURE, at(day(3), "00:00"), at(day(4), "00:00"), None, MAIN.id, visit_number="closed-main"),
    )
    assert items.skipped == (
        "$.entry[6].resource.actor[0]: its practitioner is not one of the clinic's, so the Schedule is skipped",
        "$.entry[7].resource.actor[0]: a Device that is not in the bundle, so the Schedule is skipped",
        "$.entry[15].resource: the Slot was entered in error",
        "$.entry[16].resource: its Schedule ($.entry[6].resource) is skipped",
        "$.entry[17].resource: no practitioner serves its Schedule's Location (no clinic provider stands for the "
        "location, no PractitionerRole of the bundle names it, no clinic provider works there)",
        "$.entry[18].resource: none of its serviceType/appointmentType codes is a visit type of the clinic",
        "$.entry[19].resource: a resource of type Appointment is not read (only Schedule and Slot, and the "
        "Practitioner, PractitionerRole and Location resources they reference)",
    )


@pytest.mark.parametrize(
    ("status", "kind"),
    [("busy", BusyKind.BOOKING), ("busy-tentative", BusyKind.HOLD), ("busy-unavailable", BusyKind.BLOCK)],
)
def test_busy_statuses_of_a_provider(status: str, kind: BusyKind) -> None:
    """busy is a booking, busy-tentative a hold, busy-unavailable a block of the provider (Slot id kept)."""
    items = read(schedule(), slot(status=status))
    assert items.open_times == ()
    assert items.busy == (Busy(kind, at(MONDAY, "10:00"), at(MONDAY, "10:30"), P1.id, MAIN.id, visit_number="x1"),)


@pytest.mark.parametrize(
    ("status", "kind"),
    [("busy", BusyKind.BOOKING), ("busy-tentative", BusyKind.HOLD), ("busy-unavailable", BusyKind.CLOSURE)],
)
def test_busy_statuses_of_a_location(status: str, kind: BusyKind) -> None:
    """On a Schedule naming only a location, busy time occupies the location; busy-unavailable closes it."""
    items = read(schedule(actors=[MAIN_REF]), slot(status=status))
    assert items.busy == (Busy(kind, at(MONDAY, "10:00"), at(MONDAY, "10:30"), None, MAIN.id, visit_number="x1"),)


def test_free_status_is_open_time() -> None:
    """A free Slot is one open span (one start) of the Schedule's provider and location, its id the source."""
    items = read(schedule(), slot())
    assert items.open_times == (OpenTime(P1.id, MAIN.id, at(MONDAY, "10:00"), at(MONDAY, "10:30"), source="x1"),)
    assert items.busy == () and items.skipped == ()


def test_entered_in_error_is_skipped() -> None:
    """An entered-in-error Slot is neither open nor busy, and is reported."""
    items = read(schedule(), slot(status="entered-in-error"))
    assert (items.open_times, items.busy) == ((), ())
    assert items.skipped == ("$.entry[1].resource: the Slot was entered in error",)


def test_offsets_are_read_as_instants() -> None:
    """A start with a UTC offset and the same instant in Z are the same minute."""
    local = slot(start="10:00") | {"start": "2025-06-02T10:00:00-05:00"}
    assert read(schedule(), local).open_times[0].start == at(MONDAY, "10:00")


def test_seconds_round_free_time_inwards_and_busy_time_outwards() -> None:
    """Never offer a busy minute: free time shrinks to whole minutes, busy time grows to them."""
    odd = {"start": "2025-06-02T15:00:30Z", "end": "2025-06-02T15:29:59.5Z"}
    free = read(schedule(), slot() | odd).open_times[0]
    busy = read(schedule(), slot(status="busy") | odd).busy[0]
    assert (free.start, free.end) == (at(MONDAY, "10:01"), at(MONDAY, "10:29"))
    assert (busy.start, busy.end) == (at(MONDAY, "10:00"), at(MONDAY, "10:30"))


def test_free_slot_shorter_than_a_minute_is_skipped() -> None:
    """A free Slot with no whole free minute is skipped and reported."""
    items = read(schedule(), slot() | {"start": "2025-06-02T15:00:10Z", "end": "2025-06-02T15:00:50Z"})
    assert items.open_times == ()
    assert items.skipped == ("$.entry[1].resource: no whole minute of it is free",)


# ---- visit types --------------------------------------------------------------------------------


def _concept(code: str, system: str | None = "DNE") -> dict[str, Any]:
    coding = {"code": code} if system is None else {"system": system, "code": code}
    return {"coding": [coding]}


@pytest.mark.parametrize(
    ("extra", "visit_types"),
    [
        ({"serviceType": [_concept("OV")]}, ("OV",)),
        ({"appointmentType": _concept("NP")}, ("NP",)),
        ({"serviceType": [_concept("OV"), _concept("NP")], "appointmentType": _concept("PROC")}, ("OV", "NP", "PROC")),
        ({"serviceType": [_concept("OV", None)]}, ("OV",)),  # no system: the code alone matches
        ({"serviceType": [_concept("OV"), _concept("XRAY", "urn:imaging")]}, ("OV",)),  # unknown codes dropped
        ({}, ()),  # no codes: every visit type
    ],
)
def test_service_and_appointment_types_allow_visit_types(extra: dict[str, Any], visit_types: tuple[str, ...]) -> None:
    """Codes of serviceType and appointmentType that are clinic visit types become the open time's types."""
    assert read(schedule(), slot(**extra)).open_times[0].visit_types == visit_types


@pytest.mark.parametrize(
    "extra",
    [
        {"serviceType": [_concept("OV", "urn:other-codeset")]},  # system given and not the codeset
        {"serviceType": [_concept("XRAY", "urn:imaging")]},
        {"appointmentType": {"text": "Office visit"}},  # a service named without a code
    ],
)
def test_service_types_that_are_no_visit_type_forbid_the_slot(extra: dict[str, Any]) -> None:
    """A free Slot that names only services the clinic does not book is skipped, not opened to every type."""
    items = read(schedule(), slot(**extra))
    assert items.open_times == ()
    assert items.skipped == (
        "$.entry[1].resource: none of its serviceType/appointmentType codes is a visit type of the clinic",
    )


def test_schedule_service_type_applies_unless_the_slot_names_its_own() -> None:
    """Schedule.serviceType is the default; a Slot's own serviceType overrides it."""
    items = read(
        schedule(serviceType=[_concept("NP")]),
        slot("inherits"),
        slot("overrides", start="11:00", end="11:30", serviceType=[_concept("OV")]),
    )
    assert [o.visit_types for o in items.open_times] == [("NP",), ("OV",)]


# ---- actors -------------------------------------------------------------------------------------


def _practitioner(rid: str, *identifiers: dict[str, str]) -> dict[str, Any]:
    return {"resourceType": "Practitioner", "id": rid, "identifier": list(identifiers)}


def _location(rid: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Location", "id": rid, **extra}


@pytest.mark.parametrize(
    ("resources", "actors"),
    [
        # by the Practitioner resource's NPI among other identifiers
        (
            [_practitioner("ana", {"system": "urn:ehr", "value": "S-1"}, {"system": NPI, "value": P1.id})],
            [{"reference": "Practitioner/ana"}, MAIN_REF],
        ),
        # by the reference's own identifier (a logical reference), any system
        ([], [{"type": "Practitioner", "identifier": {"system": "urn:ehr", "value": P1.id}}, MAIN_REF]),
        # a Location resource by identifier, a Location resource by name, a display, an alias
        ([_location("l1", identifier=[{"value": MAIN.id}])], [P1_REF, {"reference": "Location/l1"}]),
        ([_location("l1", name="3n")], [P1_REF, {"reference": "Location/l1"}]),
        ([], [P1_REF, {"type": "Location", "display": "RES General Hospital 3N"}]),
        (
            [_location("l1", name="Tower", alias=["  RES  General Hospital, 3N "])],
            [P1_REF, {"reference": "Location/l1"}],
        ),
        # a PractitionerRole: its practitioner, and its only location when the Schedule names none
        (
            [
                {
                    "resourceType": "PractitionerRole",
                    "id": "r1",
                    "practitioner": {"identifier": {"system": NPI, "value": P1.id}},
                    "location": [{"reference": "Location/l1"}],
                },
                _location("l1", name="3N"),
            ],
            [{"reference": "PractitionerRole/r1"}],
        ),
        # a contained Practitioner
        ([], [{"reference": "#ana"}, MAIN_REF]),
    ],
)
def test_actors_resolve_to_provider_and_location(resources: list[dict[str, Any]], actors: list[dict[str, Any]]) -> None:
    """Practitioner by identifier (resource or reference), Location by identifier or name, PractitionerRole."""
    contained = [_practitioner("ana", {"system": NPI, "value": P1.id})]
    items = read(*resources, schedule(actors=actors, contained=contained), slot())
    assert [(o.provider_id, o.location_id) for o in items.open_times] == [(P1.id, MAIN.id)]


def test_full_url_references_resolve() -> None:
    """A Slot may name its Schedule by the entry's fullUrl (urn:uuid or absolute URL)."""
    data = bundle(schedule(), slot(on="urn:uuid:5f1c0d1e-0000-4000-8000-000000000001"))
    data["entry"][0]["fullUrl"] = "urn:uuid:5f1c0d1e-0000-4000-8000-000000000001"
    assert len(read_fhir_bundle(data, base()).open_times) == 1
    absolute = bundle(schedule(), slot(on="https://ehr.example.org/fhir/Schedule/s1/_history/3"))
    assert len(read_fhir_bundle(absolute, base()).open_times) == 1


def test_npi_system_needs_an_npi_provider() -> None:
    """An NPI-system identifier names a provider only if its ID type is NPI; another system needs no type."""
    ext = clinic(templates=[], providers=[evolve(P1, id_type="EXT")])
    npi_ref = {"type": "Practitioner", "identifier": {"system": NPI, "value": P1.id}}
    ext_ref = {"type": "Practitioner", "identifier": {"system": "urn:ehr", "value": P1.id}}
    assert read_fhir_bundle(bundle(schedule(actors=[npi_ref, MAIN_REF]), slot()), ext).open_times == ()
    assert len(read_fhir_bundle(bundle(schedule(actors=[ext_ref, MAIN_REF]), slot()), ext).open_times) == 1


@pytest.mark.parametrize(
    ("actors", "where", "reason"),
    [
        (
            [{"type": "Practitioner", "identifier": {"system": NPI, "value": "9999999999"}}, MAIN_REF],
            "$.entry[0].resource.actor[0]",
            "its practitioner is not one of the clinic's, so the Schedule is skipped",
        ),
        (
            [{"reference": "Practitioner/nobody"}, MAIN_REF],  # not in the bundle, no identifier
            "$.entry[0].resource.actor[0]",
            "its practitioner is not one of the clinic's, so the Schedule is skipped",
        ),
        (
            [P1_REF, {"type": "Location", "display": "Somewhere Else"}],
            "$.entry[0].resource.actor[1]",
            "its location is not one of the clinic's, so the Schedule is skipped",
        ),
        (
            [P1_REF, {"reference": "Location/l9"}],  # not in the bundle, no identifier, no display
            "$.entry[0].resource.actor[1]",
            "its location is not one of the clinic's, so the Schedule is skipped",
        ),
        (
            [P1_REF, {"type": "Practitioner", "identifier": {"value": P2.id}}, MAIN_REF],
            "$.entry[0].resource",
            "the Schedule has several practitioner actors (a slot needing several clinicians is not read)",
        ),
        (
            [P1_REF, MAIN_REF, {"type": "Location", "identifier": {"value": ANNEX.id}}],
            "$.entry[0].resource",
            "the Schedule has several Location actors",
        ),
        (
            [{"reference": "HealthcareService/h1"}],  # not in the bundle: no location to serve
            "$.entry[0].resource.actor[0]",
            "a HealthcareService that is not in the bundle, so the Schedule is skipped",
        ),
        (
            [{"reference": "Patient/p1"}],
            "$.entry[0].resource",
            "the Schedule has no Practitioner, PractitionerRole, Location, HealthcareService or Device actor",
        ),
    ],
)
def test_unknown_actors_skip_the_schedule(actors: list[dict[str, Any]], where: str, reason: str) -> None:
    """A Schedule that is not one provider and/or one location of the clinic is skipped with its Slots."""
    items = read(schedule(actors=actors), slot())
    assert items.open_times == ()
    assert f"{where}: {reason}" in items.skipped
    assert "$.entry[1].resource: its Schedule ($.entry[0].resource) is skipped" in items.skipped


def test_ambiguous_location_name_is_not_guessed() -> None:
    """A facility name shared by two clinic locations matches neither (MAIN and ANNEX renamed alike)."""
    twin = evolve(ANNEX, facility=MAIN.facility)
    where = clinic(templates=[], locations=[MAIN, twin])
    data = bundle(schedule(actors=[P1_REF, {"type": "Location", "display": "RES General Hospital"}]), slot())
    items = read_fhir_bundle(data, where)
    assert items.open_times == ()
    assert items.skipped[0] == (
        "$.entry[0].resource.actor[1]: its location matches several of the clinic's, so the Schedule is skipped"
    )


def test_other_actors_are_noted_and_ignored() -> None:
    """A Patient beside the practitioner and location is reported; a Device there adds nothing (the Location
    already places the Schedule); the Schedule is still read."""
    items = read(schedule(actors=[P1_REF, MAIN_REF, {"reference": "Patient/p1"}, {"reference": "Device/d1"}]), slot())
    assert len(items.open_times) == 1
    assert items.skipped == (
        "$.entry[0].resource.actor[2]: an actor of type Patient is not read (only Practitioner, PractitionerRole, "
        "Location, HealthcareService and Device)",
    )


def test_inactive_schedule_is_skipped() -> None:
    """Schedule.active false: the Schedule is not in use, so neither are its Slots."""
    items = read(schedule(active=False), slot())
    assert items.open_times == ()
    assert items.skipped[0] == "$.entry[0].resource: the Schedule is not active"


def test_free_time_needs_a_provider_and_a_location() -> None:
    """Free time of a location-only Schedule is skipped; a provider-only Schedule has a location only in a
    one-location clinic, while its busy time occupies the provider everywhere."""
    location_only = read(schedule(actors=[MAIN_REF]), slot())
    provider_only = read(schedule(actors=[P1_REF]), slot(), slot("b1", "busy", "11:00", "11:30"))
    one_location = read_fhir_bundle(bundle(schedule(actors=[P1_REF]), slot()), clinic(templates=[], locations=[MAIN]))
    assert location_only.open_times == () and provider_only.open_times == ()
    assert provider_only.busy[0].location_id is None
    assert [(o.provider_id, o.location_id) for o in one_location.open_times] == [(P1.id, MAIN.id)]


# ---- bad input ----------------------------------------------------------------------------------


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    """A change to a valid bundle: set (or, for ``...``, delete) the element at ``path``."""

    def change(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        if value is ...:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return change


SLOT = ["entry", 1, "resource"]
SCHEDULE = ["entry", 0, "resource"]


@pytest.mark.parametrize(
    ("change", "path", "rule"),
    [
        (_set([*SLOT, "start"], ...), "$.entry[1].resource.start", "is required"),
        (_set([*SLOT, "start"], "2025-06-02T10:00:00"), "$.entry[1].resource.start", "must have a UTC offset"),
        (_set([*SLOT, "start"], "2025-06-02 10:00Z"), "$.entry[1].resource.start", "must be a FHIR instant"),
        (_set([*SLOT, "start"], 1748876400), "$.entry[1].resource.start", "must be a FHIR instant string"),
        (_set([*SLOT, "end"], "2025-02-30T10:00:00Z"), "$.entry[1].resource.end", "must be a real calendar date"),
        (_set([*SLOT, "end"], "2025-06-02T14:00:00Z"), "$.entry[1].resource.end", "must be later than start"),
        (_set([*SLOT, "status"], "booked"), "$.entry[1].resource.status", "must be one of busy, free"),
        (_set([*SLOT, "status"], ...), "$.entry[1].resource.status", "is required"),
        (_set([*SLOT, "schedule"], ...), "$.entry[1].resource.schedule", "is required"),
        (_set([*SLOT, "schedule"], {"display": "x"}), "$.entry[1].resource.schedule.reference", "is required"),
        (
            _set([*SLOT, "schedule", "reference"], "Schedule/nope"),
            "$.entry[1].resource.schedule.reference",
            "must reference a Schedule entry of the bundle",
        ),
        (
            _set([*SLOT, "schedule", "reference"], "Slot/x1"),
            "$.entry[1].resource.schedule.reference",
            "must reference a Schedule",
        ),
        (_set([*SLOT, "serviceType"], {"coding": []}), "$.entry[1].resource.serviceType", "must be a list"),
        (
            _set([*SLOT, "serviceType"], [{"coding": [{"code": 210}]}]),
            "$.entry[1].resource.serviceType[0].coding[0].code",
            "must be a non-empty string",
        ),
        (_set([*SLOT, "id"], 7), "$.entry[1].resource.id", "must be a string"),
        (_set([*SCHEDULE, "actor"], ...), "$.entry[0].resource.actor", "is required"),
        (_set([*SCHEDULE, "actor"], []), "$.entry[0].resource.actor", "must not be empty"),
        (_set([*SCHEDULE, "actor", 0], "Practitioner/ana"), "$.entry[0].resource.actor[0]", "must be a JSON object"),
        (_set([*SCHEDULE, "active"], "yes"), "$.entry[0].resource.active", "must be true or false"),
        (
            _set([*SCHEDULE, "actor", 0, "identifier"], [{"value": P1.id}]),
            "$.entry[0].resource.actor[0].identifier",
            "must be a JSON object",
        ),
        (_set(["resourceType"], "Slot"), "$.resourceType", "must be Bundle"),
        (_set(["entry"], {}), "$.entry", "must be a list"),
        (_set(["entry", 1], "Slot/x1"), "$.entry[1]", "must be a JSON object"),
        (_set([*SLOT, "resourceType"], ...), "$.entry[1].resource.resourceType", "is required"),
    ],
)
def test_malformed_input_names_the_path(change: Callable[[dict[str, Any]], None], path: str, rule: str) -> None:
    """Each malformed element is an InvalidClinic problem at its JSON path in the bundle."""
    data = bundle(schedule(), slot())
    assert read_fhir_bundle(copy.deepcopy(data), base()).open_times  # valid before the change
    change(data)
    found = problems(data)
    assert any(p == path and rule in r for p, r in found), found


def test_not_a_bundle() -> None:
    """Something other than a JSON object is one problem at the root."""
    assert problems(["Bundle"]) == [("$", "must be a FHIR Bundle (a JSON object)")]


def test_every_problem_is_reported_and_no_value_is_echoed() -> None:
    """All problems come at once; messages and skipped notes never repeat a value of the bundle."""
    secret = "SECRET-0000101"
    data = bundle(
        schedule(actors=[P1_REF, MAIN_REF, {"reference": f"Patient/{secret}", "display": secret}]),
        slot(secret, status=secret),
        slot("x2", start="10:30", end="10:00", comment=secret),
        slot("x3") | {"start": f"{secret}T10:00:00Z"},
    )
    found = problems(data)
    assert [p for p, _ in found] == [
        "$.entry[1].resource.status",
        "$.entry[2].resource.end",
        "$.entry[3].resource.start",
    ]
    with pytest.raises(InvalidClinic) as caught:
        read_fhir_bundle(data, base())
    assert secret not in str(caught.value) and secret not in caught.value.details()
    data["entry"][1]["resource"]["status"] = "busy"
    del data["entry"][2:]
    assert secret not in " ".join(read_fhir_bundle(data, base()).skipped)


# ---- the engine honours imported Slots ----------------------------------------------------------


def _starts(items: FhirItems) -> list[int]:
    result = find_slots(items.add_to(base()), request(), Settings(), now=NOW)
    return sorted(s.start for s in result.slots)


def test_free_slot_allows_its_start() -> None:
    """A free FHIR Slot is an offered start in a clinic with no other working time (one start per Slot)."""
    assert _starts(read(schedule(), slot(end="11:00"))) == [at(MONDAY, "10:00")]


def test_busy_slot_forbids_the_free_slot_it_covers() -> None:
    """The same free Slot with a busy Slot over it offers nothing."""
    assert _starts(read(schedule(), slot(end="11:00"), slot("b1", "busy", "10:15", "10:45"))) == []


def test_free_slot_of_another_visit_type_forbids_the_start() -> None:
    """A free Slot for NP only is not offered to an OV request."""
    assert _starts(read(schedule(), slot(serviceType=[_concept("NP")]))) == []


# ---- writing results ----------------------------------------------------------------------------


def _result(where: Clinic | None = None) -> Any:
    return find_slots(where or clinic(), request(days=2), Settings(limit=4), now=NOW)


def test_slots_bundle_is_valid_r4_searchset() -> None:
    """Ranked slots become matching free Slots (rank order) and their Schedules are included."""
    result = _result()
    written = write_slots_bundle(result)
    assert_valid_r4(written)
    assert (written["type"], written["total"], written["timestamp"]) == ("searchset", 4, iso(NOW))
    slots = [e["resource"] for e in written["entry"] if e["resource"]["resourceType"] == "Slot"]
    assert [e["search"]["mode"] for e in written["entry"]] == ["match"] * 4 + ["include"]
    assert [(s["id"], s["start"], s["end"], s["status"]) for s in slots] == [
        (r.slot_id, iso(r.start), iso(r.start + r.duration), "free") for r in result.slots
    ]
    assert slots[0]["serviceType"] == [
        {"coding": [{"system": "DNE", "code": "OV", "display": "Office Visit"}], "text": "Office Visit"}
    ]
    (sched,) = [e["resource"] for e in written["entry"] if e["resource"]["resourceType"] == "Schedule"]
    assert sched["actor"] == [
        {"type": "Practitioner", "identifier": {"system": NPI, "value": P1.id}, "display": "Ana Lindqvist, MD"},
        {
            "type": "Location",
            "identifier": {"system": "urn:slotfinder:location", "value": MAIN.id},
            "display": "RES General Hospital, 3N",
        },
    ]


def test_slots_bundle_reads_back_as_the_offered_slots() -> None:
    """Reading the written results gives one open time per slot: its start, length, provider, place, type."""
    result = _result()
    items = read_fhir_bundle(write_slots_bundle(result), clinic())
    assert [(o.start, o.end, o.provider_id, o.location_id, o.visit_types) for o in items.open_times] == [
        (r.start, r.start + r.duration, r.provider.id, r.location.id, ("OV",)) for r in result.slots
    ]
    assert items.skipped == ()


def test_empty_result_is_an_empty_searchset() -> None:
    """No slots: total 0 and no entry (FHIR has no empty arrays)."""
    empty = find_slots(clinic(), request(first=day(5)), Settings(), now=NOW)
    written = write_slots_bundle(empty)
    assert_valid_r4(written)
    assert "entry" not in written and written["total"] == 0


def test_unsafe_ids_are_made_fhir_ids() -> None:
    """Slot IDs with characters FHIR ids forbid (a department with a space) are cleaned, kept unique."""
    spaced = evolve(MAIN, department="Family Medicine")
    written = write_slots_bundle(_result(clinic(locations=[spaced, ANNEX])))
    assert_valid_r4(written)
    assert all(" " not in e["resource"]["id"] for e in written["entry"])


def test_fhir_id() -> None:
    """Valid ids are kept; others are cleaned and hashed, at most 64 characters, distinct for distinct text."""
    assert fhir_id("3N-136-1111111111-20250602T1500Z") == "3N-136-1111111111-20250602T1500Z"
    made = [fhir_id(text) for text in ("a b", "a_b", "x" * 65, "é" * 80, "")]
    assert all(R4_ID.fullmatch(i) for i in made)
    assert len(set(made)) == len(made)


# ---- writing calendars and round trips ----------------------------------------------------------

Key = tuple[str | None, str | None]


def _free(open_times: Iterable[OpenTime | Any]) -> dict[Key, list[Interval]]:
    """Merged open spans per (provider, location)."""
    spans: dict[Key, list[Interval]] = defaultdict(list)
    for item in open_times:
        spans[(item.provider_id, item.location_id)].append((item.start, item.end))
    return {key: merge(value) for key, value in spans.items()}


def _busy(items: Iterable[Busy]) -> dict[Key, list[Interval]]:
    """Merged busy spans per (provider, location)."""
    spans: dict[Key, list[Interval]] = defaultdict(list)
    for item in items:
        spans[(item.provider_id, item.location_id)].append((item.start, item.end))
    return {key: merge(value) for key, value in spans.items()}


def _expected_busy(where: Clinic, first: dt.date, last: dt.date) -> dict[Key, list[Interval]]:
    """The busy items a clinic bundle carries: of a known provider, or of a whole location, in the period."""
    low, high = clinic_period(where, first, last)
    for block in expand_blocks(where, first, last):
        low, high = min(low, block.start), max(high, block.end)
    providers = {p.id for p in where.providers}
    kept = [
        b
        for b in where.busy
        if b.start < high
        and low < b.end
        and (
            b.provider_id in providers
            or (b.provider_id is None and b.room is None and b.equipment is None and b.location_id is not None)
        )
    ]
    return _busy(kept)


def _round_trip(where: Clinic, first: dt.date, last: dt.date) -> FhirItems:
    written = write_clinic_bundle(where, first, last)
    return read_fhir_bundle(written, where)


def _busy_calendar() -> Clinic:
    """P1 mornings at MAIN and P2 Tuesday afternoons at ANNEX (OV only), with busy time of every kind."""
    return clinic(
        templates=[
            weekly(),
            weekly(provider=P2.id, location=ANNEX.id, weekdays=[1], start="13:00", end="17:00", visit_types=["OV"]),
        ],
        busy=[
            Busy(BusyKind.BOOKING, at(MONDAY, "09:30"), at(MONDAY, "10:00"), P1.id, MAIN.id, room="136"),
            Busy(BusyKind.HOLD, at(MONDAY, "11:00"), at(MONDAY, "11:20"), P1.id),
            Busy(BusyKind.OUT_OF_OFFICE, at(day(2), "00:00"), at(day(3), "00:00"), P1.id),
            Busy(BusyKind.BLOCK, at(day(1), "14:00"), at(day(1), "15:00"), P2.id, ANNEX.id, reserved_for=["NP"]),
            Busy(BusyKind.CLOSURE, at(day(3), "00:00"), at(day(4), "00:00"), location_id=MAIN.id),
            Busy(BusyKind.BOOKING, at(day(4), "09:00"), at(day(4), "09:30"), location_id=MAIN.id, room="137"),
        ],
    )


def test_clinic_bundle_is_valid_r4_collection() -> None:
    """A week of calendars is a valid R4 collection: Schedules, then free and busy Slots."""
    written = write_clinic_bundle(_busy_calendar(), MONDAY, day(6))
    assert_valid_r4(written)
    kinds = [e["resource"]["resourceType"] for e in written["entry"]]
    assert kinds == sorted(kinds, key=["Schedule", "Slot"].index)
    statuses = {e["resource"]["status"] for e in written["entry"] if e["resource"]["resourceType"] == "Slot"}
    assert statuses == {"free", "busy", "busy-tentative", "busy-unavailable"}


def test_clinic_round_trip_keeps_free_and_busy_instants() -> None:
    """Clinic -> FHIR -> clinic: the same open and busy minutes per provider and location."""
    where = _busy_calendar()
    items = _round_trip(where, MONDAY, day(6))
    assert _free(items.open_times) == _free(expand_blocks(where, MONDAY, day(6)))
    assert _busy(items.busy) == _expected_busy(where, MONDAY, day(6))
    assert items.skipped == ()


@pytest.mark.parametrize("visit_type", ["OV", "NP"])
def test_clinic_round_trip_keeps_the_engines_starts(visit_type: str) -> None:
    """The engine offers the same starts from the FHIR Slots as from the templates (a 60-minute NP
    visit runs across several 15-minute Slots); rooms stay free as before."""
    where = _busy_calendar()
    items = _round_trip(where, MONDAY, day(6))
    rebuilt = items.add_to(evolve(where, templates=(), openings=(), open_times=(), busy=()))
    asked = request(days=5, visit_types=[VisitTypeFilter(visit_type)])

    def starts(c: Clinic) -> list[tuple[int, str, str, str | None, str | None]]:
        found = list_candidates(c, asked, Settings(), NOW)
        return sorted((x.start, x.provider_id, x.location_id, x.visit_type, x.room) for x in found)

    # the room booking of 137 on Friday is not in FHIR (a room is not a Schedule actor here): drop it on both sides
    without_room = evolve(where, busy=[b for b in where.busy if b.provider_id is not None or b.room is None])
    assert starts(rebuilt) == starts(without_room)
    assert starts(rebuilt)


def test_fhir_round_trip_keeps_free_and_busy_instants() -> None:
    """FHIR -> clinic -> FHIR -> clinic: the example week's open and busy minutes come back the same."""
    first = read_fhir_bundle(example(), base())
    again = _round_trip(first.add_to(base()), MONDAY - dt.timedelta(days=1), day(7))
    assert _free(again.open_times) == _free(first.open_times)
    assert _busy(again.busy) == _busy(first.busy)
    assert [o.visit_types for o in again.open_times] == [o.visit_types for o in first.open_times]


@given(scenarios(small=True))
def test_round_trip_property(scenario: Scenario) -> None:
    """Any small clinic around a DST change: the written calendars read back to the same instants."""
    where = scenario.clinic
    first = zones.to_datetime(scenario.request.start).date() - dt.timedelta(days=1)
    last = first + dt.timedelta(days=3)
    written = write_clinic_bundle(where, first, last)
    items = read_fhir_bundle(written, where)
    assert _free(items.open_times) == _free(expand_blocks(where, first, last))
    assert _busy(items.busy) == _expected_busy(where, first, last)
    assert items.skipped == ()


def test_written_bundles_are_deterministic() -> None:
    """Same calendars, same bytes, whatever the order of templates and busy items."""
    where = _busy_calendar()
    shuffled = evolve(where, templates=where.templates[::-1], busy=where.busy[::-1])
    once = json.dumps(write_clinic_bundle(where, MONDAY, day(6)))
    assert once == json.dumps(write_clinic_bundle(where, MONDAY, day(6)))
    assert once == json.dumps(write_clinic_bundle(shuffled, MONDAY, day(6)))
    assert json.dumps(write_slots_bundle(_result())) == json.dumps(write_slots_bundle(_result()))


def test_unknown_providers_and_room_only_items_are_not_written() -> None:
    """Busy time of a provider the clinic does not have, of a room alone, or of a patient alone stays out."""
    stray = [
        Busy(BusyKind.BOOKING, at(MONDAY, "09:00"), at(MONDAY, "09:30"), "P9"),
        Busy(BusyKind.BOOKING, at(MONDAY, "09:00"), at(MONDAY, "09:30"), location_id=MAIN.id, room="136"),
    ]
    written = write_clinic_bundle(clinic(templates=[], busy=stray), MONDAY, MONDAY)
    assert written == {"resourceType": "Bundle", "type": "collection"}


def test_provider_without_npi_is_written_with_its_id_type() -> None:
    """A provider whose ID is not an NPI is identified by value with its ID type as text, and read back."""
    other = Provider("E-77", "EXT", "Ben", None)
    where = clinic(providers=[other], templates=[weekly(provider=other.id)])
    written = write_clinic_bundle(where, MONDAY, MONDAY)
    actor = written["entry"][0]["resource"]["actor"][0]
    assert actor == {"type": "Practitioner", "identifier": {"type": {"text": "EXT"}, "value": "E-77"}, "display": "Ben"}
    assert {o.provider_id for o in read_fhir_bundle(written, where).open_times} == {"E-77"}


def test_location_without_names_is_written_by_identifier() -> None:
    """A location without facility or department has no display; its identifier still names it."""
    bare = Location("bare", None, None, MAIN.time_zone)
    where = clinic(locations=[bare], templates=[weekly(location=bare.id)])
    written = write_clinic_bundle(where, MONDAY, MONDAY)
    assert written["entry"][0]["resource"]["actor"][1] == {
        "type": "Location",
        "identifier": {"system": "urn:slotfinder:location", "value": "bare"},
    }
    assert_valid_r4(written)
    assert {o.location_id for o in read_fhir_bundle(written, where).open_times} == {"bare"}


def test_visit_type_without_codeset_is_written_without_system() -> None:
    """A visit type with no codeset is a coding with code only, and reads back to the same type."""
    plain = evolve(OV, codeset=None)
    where = clinic(visit_types=[plain], templates=[weekly(visit_types=["OV"])])
    written = write_clinic_bundle(where, MONDAY, MONDAY)
    assert_valid_r4(written)
    free = next(e["resource"] for e in written["entry"] if e["resource"]["resourceType"] == "Slot")
    assert free["serviceType"] == [{"coding": [{"code": "OV", "display": "Office Visit"}], "text": "Office Visit"}]
    assert {o.visit_types for o in read_fhir_bundle(written, where).open_times} == {("OV",)}


# ---- reconciliation helpers ---------------------------------------------------------------------


def test_is_bundle_tells_a_bundle_from_other_json() -> None:
    """Only an object with resourceType Bundle is a bundle (a Redox message or a list is not)."""
    from slotfinder.fhir._read import is_bundle

    assert is_bundle(bundle())
    assert not is_bundle({"Meta": {"DataModel": "Scheduling"}, "Visits": []})
    assert not is_bundle([bundle()])
    assert not is_bundle({"resourceType": "Schedule"})


def test_slot_window_spans_every_slot_start() -> None:
    """From the earliest Slot start (any status) to just after the latest; unreadable starts are passed over."""
    from slotfinder.fhir._read import slot_window

    seconds = slot() | {"start": iso(at(MONDAY, "10:00")).replace(":00Z", ":30Z")}  # 10:00:30 floors to 10:00
    late = slot("x2", status="busy", start="11:00", end="11:30")
    broken = slot("x3", start="09:00", end="09:30") | {"start": "2025-06-02T09:00:00"}  # no offset: passed over
    found = bundle(schedule(), seconds, late, broken, {"resourceType": "Practitioner"})
    assert slot_window(found) == (at(MONDAY, "10:00"), at(MONDAY, "11:00") + 1)
    assert slot_window(bundle(schedule())) == (0, 1)
    assert slot_window({"entry": "Timothy"}) == (0, 1)
