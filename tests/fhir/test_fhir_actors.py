"""Schedules of a Location, a HealthcareService or a Device: who their free Slots are bookable with.

Fixtures: ``tests/data/fhir/hl7-location-schedule.json`` (an HL7 R4-style immunization Schedule whose
actor is a Location, with free, busy, busy-tentative and busy-unavailable Slots) and
``smart-scheduling-links.json`` (a SMART Scheduling Links-style publication: Locations, one Schedule per
Location, Slots with booking extensions; one Location the clinic does not have).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from slotfinder import list_candidates
from slotfinder._domain import BusyKind, Clinic, Provider, VisitType, VisitTypeFilter
from slotfinder._settings import Settings
from slotfinder.fhir import read_fhir_bundle
from tests.clinic_builders import ANNEX, MAIN, MONDAY, NOW, NP, OV, P1, P2, PROC, at, clinic, day, request, weekly
from tests.fhir.test_fhir import assert_valid_r4, bundle

DATA = Path(__file__).resolve().parents[1] / "data" / "fhir"
IMMUNIZATION = VisitType("57", "http://terminology.hl7.org/CodeSystem/service-type", "Immunization", 15)
SITE = Provider(MAIN.id, "SITE", None, "3N immunization team")  # a provider standing for MAIN: a pooled resource
NOBODY_SERVES = (
    "no practitioner serves its Schedule's {kind} (no clinic provider stands for the location, no "
    "PractitionerRole of the bundle names it, no clinic provider works there)"
)


def fixture(name: str) -> dict[str, Any]:
    """A bundle of ``tests/data/fhir``."""
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


def immunization_clinic(*, templates: bool = True, site: bool = False) -> Clinic:
    """The builders' clinic with an Immunization visit type; P1 works mornings at MAIN, P2 at ANNEX."""
    return clinic(
        visit_types=(OV, NP, PROC, IMMUNIZATION),
        templates=[weekly(), weekly(provider=P2.id, location=ANNEX.id)] if templates else [],
        providers=(P1, P2, SITE) if site else (P1, P2),
    )


def test_fixtures_are_valid_r4() -> None:
    """Both publications are valid FHIR R4 Bundles (the same checks as the writers' output)."""
    assert_valid_r4(fixture("hl7-location-schedule.json"))
    assert_valid_r4(fixture("smart-scheduling-links.json"))


def test_location_schedule_opens_time_of_the_providers_working_there() -> None:
    """HL7's shape (Schedule.actor = a Location): free Slots open time of the clinic's providers who work at
    that location (P1's template at MAIN); busy Slots occupy the location as before."""
    items = read_fhir_bundle(fixture("hl7-location-schedule.json"), immunization_clinic())
    assert [(o.provider_id, o.location_id, o.start, o.end, o.visit_types, o.source) for o in items.open_times] == [
        (P1.id, MAIN.id, at(MONDAY, "09:00"), at(MONDAY, "09:15"), ("57",), "imm-0602-0900"),
        (P1.id, MAIN.id, at(MONDAY, "09:30"), at(MONDAY, "09:45"), ("57",), "imm-0602-0930"),  # Schedule's type
    ]
    assert [(b.kind, b.provider_id, b.location_id) for b in items.busy] == [
        (BusyKind.BOOKING, None, MAIN.id),
        (BusyKind.CLOSURE, None, MAIN.id),
        (BusyKind.HOLD, None, MAIN.id),
    ]
    assert items.skipped == ()
    assert items.notes == (
        "$.entry[1].resource: a Location's Schedule: its free Slots open time of the clinic's providers who "
        "work at the location (templates, openings, open times)",
    )


def test_a_provider_standing_for_the_location_is_the_pooled_resource() -> None:
    """A clinic provider whose id is the location's id stands for the site: the Slots open its time only."""
    items = read_fhir_bundle(fixture("hl7-location-schedule.json"), immunization_clinic(site=True))
    assert {o.provider_id for o in items.open_times} == {SITE.id}
    assert "a pooled resource" in items.notes[0]


def test_location_schedule_nobody_serves_is_skipped_with_the_reason() -> None:
    """No site provider, no PractitionerRole, nobody working at MAIN: every free Slot is skipped, saying why."""
    items = read_fhir_bundle(fixture("hl7-location-schedule.json"), immunization_clinic(templates=False))
    assert items.open_times == ()
    assert items.skipped == (
        f"$.entry[2].resource: {NOBODY_SERVES.format(kind='Location')}",
        f"$.entry[4].resource: {NOBODY_SERVES.format(kind='Location')}",
    )
    assert len(items.busy) == 3  # busy time needs no one to book


def test_smart_scheduling_links_publication_is_bookable() -> None:
    """A SMART Scheduling Links-style publication: MAIN's free Slots are the site provider's, ANNEX's are
    P2's (who works there), the pharmacy the clinic does not have is skipped; the engine offers them."""
    where = immunization_clinic(site=True)
    items = read_fhir_bundle(fixture("smart-scheduling-links.json"), where)
    opened = {(o.provider_id, o.location_id) for o in items.open_times}
    assert opened == {(SITE.id, MAIN.id), (P2.id, ANNEX.id)}
    assert len(items.open_times) == 12 and len(items.busy) == 4
    assert items.skipped[0] == (
        "$.entry[5].resource.actor[0]: its location is not one of the clinic's, so the Schedule is skipped"
    )
    assert len(items.skipped) == 9  # the pharmacy's Schedule and its 8 Slots
    text = " ".join(items.skipped + items.notes)
    assert "Lakeview" not in text and "CV1702215" not in text and "312-555" not in text
    joined = items.add_to(where)
    wanted = request(visit_types=(VisitTypeFilter("57"),))
    starts = {(c.provider_id, c.start) for c in list_candidates(joined, wanted, Settings(), NOW)}
    assert (SITE.id, at(MONDAY, "09:00")) in starts and (P2.id, at(MONDAY, "09:00")) in starts


def location_resource(rid: str = "l1") -> dict[str, Any]:
    """A Location resource naming MAIN by identifier."""
    return {"resourceType": "Location", "id": rid, "identifier": [{"value": MAIN.id}]}


def free_slot(on: str) -> dict[str, Any]:
    """A free Slot on MONDAY 10:00-10:30 Chicago, on Schedule ``on``."""
    return {
        "resourceType": "Slot",
        "id": "f1",
        "schedule": {"reference": on},
        "status": "free",
        "start": "2025-06-02T10:00:00-05:00",
        "end": "2025-06-02T10:30:00-05:00",
    }


def role(rid: str, provider: Provider, **links: Any) -> dict[str, Any]:
    """A PractitionerRole of ``provider`` (by NPI) with ``location`` / ``healthcareService`` references."""
    practitioner = {"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": provider.id}}
    return {"resourceType": "PractitionerRole", "id": rid, "practitioner": practitioner, **links}


def test_practitioner_roles_of_the_bundle_link_practitioners_to_a_location() -> None:
    """A PractitionerRole naming the Location wins over the clinic's templates (P2, not P1, at MAIN)."""
    data = bundle(
        location_resource(),
        role("r2", P2, location=[{"reference": "Location/l1"}]),
        role("r-off", P1, active=False, location=[{"reference": "Location/l1"}]),
        {"resourceType": "Schedule", "id": "s1", "actor": [{"reference": "Location/l1"}]},
        free_slot("Schedule/s1"),
    )
    items = read_fhir_bundle(data, immunization_clinic())
    assert [(o.provider_id, o.location_id) for o in items.open_times] == [(P2.id, MAIN.id)]
    assert "PractitionerRoles link to it" in items.notes[0]


def test_healthcare_service_schedule_is_served_by_its_practitioner_roles() -> None:
    """Schedule.actor = a HealthcareService at MAIN: PractitionerRoles naming the service serve it."""
    service = {"resourceType": "HealthcareService", "id": "hs1", "location": [{"reference": "Location/l1"}]}
    data = bundle(
        location_resource(),
        service,
        role("r1", P1, healthcareService=[{"reference": "HealthcareService/hs1"}]),
        {"resourceType": "Schedule", "id": "s1", "actor": [{"reference": "HealthcareService/hs1"}]},
        free_slot("Schedule/s1"),
    )
    items = read_fhir_bundle(data, immunization_clinic(templates=False))
    assert [(o.provider_id, o.location_id) for o in items.open_times] == [(P1.id, MAIN.id)]
    assert items.notes[0].startswith("$.entry[3].resource: a HealthcareService's Schedule")


def test_device_schedule_is_at_its_location() -> None:
    """Schedule.actor = a Device at ANNEX: its free Slots open time of the providers working at ANNEX; a
    Device without a location of the clinic skips the Schedule, saying so."""
    device = {"resourceType": "Device", "id": "us1", "location": {"reference": "Location/annex"}}
    annex = {"resourceType": "Location", "id": "annex", "identifier": [{"value": ANNEX.id}]}
    schedule = {"resourceType": "Schedule", "id": "s1", "actor": [{"reference": "Device/us1"}]}
    items = read_fhir_bundle(bundle(annex, device, schedule, free_slot("Schedule/s1")), immunization_clinic())
    assert [(o.provider_id, o.location_id) for o in items.open_times] == [(P2.id, ANNEX.id)]
    nowhere = read_fhir_bundle(
        bundle({**device, "location": {"display": "Basement"}}, schedule, free_slot("Schedule/s1")),
        immunization_clinic(),
    )
    assert nowhere.open_times == ()
    assert nowhere.skipped[0] == (
        "$.entry[1].resource.actor[0]: its Device's location is not one of the clinic's, so the Schedule is skipped"
    )
    assert "Basement" not in " ".join(nowhere.skipped)


def test_location_schedule_busy_slot_still_occupies_the_location() -> None:
    """Serving a location changes only free time: a busy Slot of a Location's Schedule occupies MAIN."""
    busy = {**free_slot("Schedule/s1"), "status": "busy-unavailable"}
    data = bundle(
        location_resource(), {"resourceType": "Schedule", "id": "s1", "actor": [{"reference": "Location/l1"}]}, busy
    )
    items = read_fhir_bundle(data, immunization_clinic())
    assert [(b.kind, b.provider_id, b.location_id, b.start) for b in items.busy] == [
        (BusyKind.CLOSURE, None, MAIN.id, at(day(0), "10:00"))
    ]


def test_a_practitioner_schedule_is_not_lost_to_an_unplaceable_service() -> None:
    """A Practitioner's Schedule that also names a HealthcareService outside the bundle is still read (in a
    one-location clinic, at that location); the service is noted as ignored. One that is in the bundle
    gives the Schedule its location."""
    p1 = {"type": "Practitioner", "identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": P1.id}}
    schedule = {"resourceType": "Schedule", "id": "s1", "actor": [p1, {"reference": "HealthcareService/x"}]}
    one_location = clinic(templates=[], locations=[MAIN])
    items = read_fhir_bundle(bundle(schedule, free_slot("Schedule/s1")), one_location)
    assert [(o.provider_id, o.location_id) for o in items.open_times] == [(P1.id, MAIN.id)]
    assert items.skipped == (
        "$.entry[0].resource.actor[1]: a HealthcareService that is not in the bundle; the actor is ignored",
    )
    annex = {"resourceType": "Location", "id": "annex", "identifier": [{"value": ANNEX.id}]}
    service = {"resourceType": "HealthcareService", "id": "x", "location": [{"reference": "Location/annex"}]}
    placed = read_fhir_bundle(bundle(annex, service, schedule, free_slot("Schedule/s1")), immunization_clinic())
    assert [(o.provider_id, o.location_id) for o in placed.open_times] == [(P1.id, ANNEX.id)]
