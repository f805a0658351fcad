"""FHIR R4 ``Bundle`` of ``Schedule`` + ``Slot`` -> open time and busy time of a clinic.

Only this module and ``write.py`` know FHIR field names. Every rule is stated in ``docs/fhir.md``:

* a ``Schedule`` is resolved to one provider and/or one location of the clinic through its ``actor``
  references (Practitioner, PractitionerRole, Location, and HealthcareService or Device for the location
  they are at; other actors are noted and ignored); the free Slots of a Schedule of a place (no
  practitioner) open time of the providers who serve it: a clinic provider standing for the location,
  else the bundle's PractitionerRoles naming it, else the clinic's providers working there;
* a ``Slot`` with status ``free`` becomes an :class:`OpenTime`, ``busy`` a BOOKING, ``busy-tentative``
  a HOLD, ``busy-unavailable`` a BLOCK (a CLOSURE on a Schedule that names only a location), and
  ``entered-in-error`` is skipped;
* codes of ``Slot.serviceType`` / ``Slot.appointmentType`` (else ``Schedule.serviceType``) that are
  visit types of the clinic become the open time's visit types.

Malformed input raises :class:`InvalidClinic` with every problem at a JSON path into the bundle
(``$.entry[3].resource.start``); what is well formed but cannot be used is listed in
``FhirItems.skipped``. Neither ever repeats a value from the bundle.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from attrs import evolve, frozen

from slotfinder._domain import MINUTES_PER_DAY, Busy, BusyKind, Clinic, Location, OpenTime
from slotfinder._errors import InvalidClinic
from slotfinder._limits import CalendarTooLarge, Limits, resolve, shape_problems
from slotfinder._problems import Dialect, Problems, Reader, RuleError

__all__ = [
    "BUSY_KINDS",
    "LOCATION_SYSTEM",
    "NPI_SYSTEM",
    "SLOT_STATUSES",
    "FhirItems",
    "is_bundle",
    "read_fhir_bundle",
    "read_resources",
    "slot_window",
]

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
"""Identifier system of US National Provider Identifiers."""

LOCATION_SYSTEM = "urn:slotfinder:location"
"""Identifier system the writer gives a clinic ``Location.id`` (the reader accepts any system)."""

SLOT_STATUSES = ("busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error")
"""The R4 ``SlotStatus`` codes (a required binding)."""

BUSY_KINDS = {
    "busy": BusyKind.BOOKING,
    "busy-tentative": BusyKind.HOLD,
    "busy-unavailable": BusyKind.BLOCK,
}
"""Busy statuses on a Schedule with a practitioner; on a location-only Schedule busy-unavailable is a CLOSURE."""

_EPOCH_DATE = dt.date(1970, 1, 1)
# The R4 instant: date, time with seconds, optional fraction, mandatory offset.
_INSTANT = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})T(?P<h>[01][0-9]|2[0-3]):(?P<m>[0-5][0-9]):(?P<s>[0-5][0-9]|60)"
    r"(?P<frac>\.[0-9]+)?(?P<tz>Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
)
_NAIVE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?")
# The last "Type/id" of a reference (relative or absolute), ignoring a trailing _history/version.
_TYPE_ID = re.compile(r"(?:^|/)(?P<type>[A-Z][A-Za-z]{1,63})/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")
_TYPE_NAME = re.compile(r"[A-Z][A-Za-z]{1,63}")
_PRACTITIONER_TYPES = ("Practitioner", "PractitionerRole")
_SERVICE_TYPES = ("HealthcareService", "Device")  # actors that stand for a place: bookable through who serves them
_FHIR = Dialect(
    object="must be a JSON object",
    array="must be a list",
    required_array="is required (a non-empty list)",
    string="must be a non-empty string",
    blank_string="must be a non-empty string",
)


@frozen
class FhirItems:
    """What a FHIR bundle adds to a clinic: open time (free Slots), busy time (busy Slots), and what was skipped.

    ``skipped`` holds one line per thing not used, ``"<JSON path>: <reason>"`` (never a value).
    """

    open_times: tuple[OpenTime, ...] = ()
    busy: tuple[Busy, ...] = ()
    skipped: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # what was used with a mapping to know (who serves a Location's Schedule)

    def add_to(self, clinic: Clinic) -> Clinic:
        """``clinic`` with these open times and busy items appended to its own."""
        return evolve(clinic, open_times=(*clinic.open_times, *self.open_times), busy=(*clinic.busy, *self.busy))


@frozen
class _Actor:
    """One ``Schedule.actor`` resolved: a provider, a location, or neither (``reason`` says why)."""

    kind: str  # "practitioner", "location", "service" (HealthcareService, Device) or "other"
    provider_id: str | None = None
    location_id: str | None = None
    role_locations: tuple[str, ...] = ()  # clinic locations of a PractitionerRole
    reason: str | None = None
    resource_type: str | None = None  # of a service actor
    key: str | None = None  # a service actor's resource (its path in the bundle, else its reference)


@frozen
class _Schedule:
    """A Schedule resolved against the clinic (``skipped`` set when it cannot be used)."""

    path: str
    provider_id: str | None = None
    location_id: str | None = None
    concepts: tuple[tuple[tuple[str | None, str], ...], ...] = ()  # Schedule.serviceType codings
    skipped: str | None = None
    servers: tuple[str, ...] = ()  # without a practitioner: the providers its free Slots open time for
    actor_type: str = "Location"  # what the Schedule belongs to when it has no practitioner


def _casefold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _type_name(value: Any) -> str:
    """A resource type for a message, only when it looks like one (never arbitrary text)."""
    return value if isinstance(value, str) and _TYPE_NAME.fullmatch(value) else "unknown"


class _BundleReader:
    """One pass over one bundle; problems and skipped notes are collected, not raised, until the end."""

    def __init__(
        self,
        bundle: Any,
        clinic: Clinic,
        *,
        resources: Sequence[Reader] | None = None,
        problems: Problems | None = None,
    ) -> None:
        """Read ``bundle``; or, with ``resources`` (each at its own path, recording into ``problems``: the
        lines of a bulk publication), those resources as if they were the entries of a Bundle."""
        self.clinic = clinic
        self.problems = problems if problems is not None else Problems()
        self.skipped: list[str] = []
        self.open_times: list[OpenTime] = []
        self.busy: list[Busy] = []
        self.resources: list[Reader] = []  # every usable entry's resource
        self.by_url: dict[str, Reader] = {}
        self.by_type_id: dict[tuple[str, str], Reader] = {}
        self.schedules: dict[str, _Schedule] = {}  # by the Schedule's path
        self.notes: list[str] = []
        self._roles: list[tuple[str, tuple[str, ...], tuple[str, ...]]] | None = None  # see roles()
        if resources is None:
            self.is_bundle = self._index(Reader(bundle, "$", self.problems, _FHIR))
            return
        for resource in resources:
            self._add(resource, None)
        self.is_bundle = True

    def skip(self, path: str, reason: str) -> None:
        self.skipped.append(f"{path}: {reason}")

    # ---- the bundle ---------------------------------------------------------------------------

    def _index(self, bundle: Reader) -> bool:
        """Index the entries by fullUrl and Type/id; False when ``bundle`` is not a Bundle at all."""
        if not isinstance(bundle.value, Mapping):
            bundle.problem("must be a FHIR Bundle (a JSON object)")
            return False
        if bundle.value.get("resourceType") != "Bundle":
            bundle.at("resourceType").problem("must be Bundle")
            return False
        for entry in bundle.at("entry").items():
            if entry.object(required=True) is None:
                continue
            url = entry.at("fullUrl").string()
            resource = entry.at("resource").object()
            if resource is None:
                if "resource" not in entry.value:
                    self.skip(entry.path, "entry without a resource")
                continue
            self._add(resource, url)
        return True

    def _add(self, resource: Reader, url: str | None) -> None:
        """Index one resource (a JSON object) by ``url`` (its entry's fullUrl) and by Type/id."""
        kind = resource.at("resourceType").string(required=True)
        if kind is None:
            return
        self.resources.append(resource)
        if url is not None:
            self.by_url.setdefault(url, resource)
        rid = resource.value.get("id")
        if isinstance(rid, str):
            self.by_type_id.setdefault((kind, rid), resource)

    def run(self) -> None:
        for resource in self.resources:
            if resource.value["resourceType"] == "Schedule":
                self.schedules[resource.path] = self._schedule(resource)
        for resource in self.resources:
            kind = resource.value["resourceType"]
            if kind == "Slot":
                self._slot(resource)
            elif kind not in ("Schedule", "Location", *_PRACTITIONER_TYPES):
                self.skip(
                    resource.path,
                    f"a resource of type {_type_name(kind)} is not read (only Schedule and Slot, and the "
                    "Practitioner, PractitionerRole and Location resources they reference)",
                )

    # ---- references ---------------------------------------------------------------------------

    def resolve(self, reference: str, container: Reader) -> Reader | None:
        """The resource a reference string names: contained (``#id``), by fullUrl, or by Type/id."""
        if reference.startswith("#"):
            contained = container.at("contained")
            if isinstance(contained.value, list):
                for k, item in enumerate(contained.value):
                    if isinstance(item, Mapping) and item.get("id") == reference[1:]:
                        return contained.item(k)
            return None
        if reference in self.by_url:
            return self.by_url[reference]
        match = _TYPE_ID.search(reference)
        if match is not None:
            return self.by_type_id.get((match["type"], match["id"]))
        return None

    @staticmethod
    def identifiers(value: Reader, *, many: bool) -> list[tuple[str | None, str]]:
        """``(system, value)`` of an Identifier (``many=False``) or a list of them."""
        found: list[tuple[str | None, str]] = []
        for item in value.items() if many else [value]:
            ident = item.object()
            if ident is None:
                continue
            system = ident.at("system").string()
            text = ident.at("value").string()
            if text is not None:
                found.append((system, text))
        return found

    def providers_of(self, identifiers: Sequence[tuple[str | None, str]]) -> set[str]:
        """Clinic providers an identifier list names: NPI-system identifiers first, then any system."""
        npi = {
            p.id
            for system, value in identifiers
            if system == NPI_SYSTEM
            for p in self.clinic.providers
            if p.id == value and p.id_type.upper() == "NPI"
        }
        if npi:
            return npi
        return {
            p.id
            for system, value in identifiers
            if system != NPI_SYSTEM
            for p in self.clinic.providers
            if p.id == value
        }

    def locations_of(self, identifiers: Sequence[tuple[str | None, str]], names: Sequence[str]) -> set[str]:
        """Clinic locations named by identifier value (any system), else by name (see docs/fhir.md)."""
        by_id = {loc.id for _, value in identifiers for loc in self.clinic.locations if loc.id == value}
        if by_id:
            return by_id
        wanted = {_casefold(n) for n in names}
        return {loc.id for loc in self.clinic.locations if wanted & _location_names(loc)}

    def actor(self, value: Reader, owner: Reader, implied: str | None = None) -> _Actor | None:
        """Resolve one reference to a provider or a location; ``implied`` is the type the element allows."""
        ref = value.object(required=True)
        if ref is None:
            return None
        reference = ref.at("reference").string()
        declared = ref.at("type").string()
        display = ref.at("display").string()
        ref_ids = self.identifiers(ref.at("identifier"), many=False)
        target = self.resolve(reference, owner) if reference is not None else None
        kind: str | None = None
        if target is not None:
            kind = target.value.get("resourceType")
        elif declared is not None:
            kind = declared.rsplit("/", 1)[-1]  # Reference.type is a type name or its StructureDefinition URL
        elif reference is not None and (match := _TYPE_ID.search(reference)) is not None:
            kind = match["type"]
        else:
            kind = implied
        if kind == "Practitioner":
            ids = list(ref_ids)
            if target is not None:
                ids += self.identifiers(target.at("identifier"), many=True)
            return self._practitioner(ids)
        if kind == "PractitionerRole":
            return (
                self._role(target)
                if target is not None
                else _Actor("practitioner", reason="a PractitionerRole that is not in the bundle")
            )
        if kind == "Location":
            ids, names = list(ref_ids), [display] if display else []
            if target is not None:
                ids += self.identifiers(target.at("identifier"), many=True)
                names += _names(target.value)
            return self._location(ids, names)
        if kind in _SERVICE_TYPES:
            return self._service(str(kind), target, reference)
        self.skip(
            value.path,
            f"an actor of type {_type_name(kind)} is not read "
            "(only Practitioner, PractitionerRole, Location, HealthcareService and Device)",
        )
        return _Actor("other")

    def _service(self, kind: str, target: Reader | None, reference: str | None) -> _Actor:
        """A HealthcareService or Device actor: the clinic location it is at (its ``location``)."""
        key = target.path if target is not None else reference
        if target is None:
            return _Actor("service", reason=f"a {kind} that is not in the bundle", resource_type=kind, key=key)
        places = target.at("location")
        items = places.items() if kind == "HealthcareService" else ([places] if places.present else [])
        found = {
            where.location_id
            for item in items
            if (where := self.actor(item, target, "Location")) is not None and where.location_id is not None
        }
        location, reason = self._found(found, f"{kind}'s location")
        return _Actor("service", location_id=location, reason=reason, resource_type=kind, key=key)

    def roles(self) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
        """Active PractitionerRoles of the bundle whose practitioner is a clinic provider: the provider,
        the clinic locations and the HealthcareServices (by path or reference) it names."""
        if self._roles is None:
            self._roles = []
            for resource in self.resources:
                if resource.value["resourceType"] != "PractitionerRole" or resource.value.get("active") is False:
                    continue
                found = self._role(resource)
                if found.provider_id is None:
                    continue
                services: list[str] = []
                for item in resource.at("healthcareService").items():
                    ref = item.object()
                    reference = ref.at("reference").string() if ref is not None else None
                    if reference is not None:
                        target = self.resolve(reference, resource)
                        services.append(target.path if target is not None else reference)
                self._roles.append((found.provider_id, found.role_locations, tuple(services)))
        return self._roles

    def servers(self, location: str, service: str | None) -> tuple[tuple[str, ...], str]:
        """Who a Location's (or HealthcareService's, Device's) free Slots open time for, and how that was
        decided (see docs/fhir.md): a clinic provider standing for the location, else PractitionerRoles of
        the bundle naming the service or the location, else the clinic's providers working there."""
        site = [p.id for p in self.clinic.providers if p.id == location]
        if site:
            return tuple(site), "the clinic's provider standing for the location (a pooled resource)"
        named = [p for p, locations, services in self.roles() if (service in services) or location in locations]
        if named:
            return tuple(dict.fromkeys(named)), "the practitioners the bundle's PractitionerRoles link to it"
        clinic = self.clinic
        working = [
            *(t.provider_id for t in clinic.templates if t.location_id == location),
            *(o.provider_id for o in clinic.openings if o.location_id == location),
            *(o.provider_id for o in clinic.open_times if o.location_id == location),
        ]
        known = {p.id for p in clinic.providers}
        working = [p for p in dict.fromkeys(working) if p in known]
        return tuple(working), "the clinic's providers who work at the location (templates, openings, open times)"

    @staticmethod
    def _found(matches: set[str], what: str) -> tuple[str | None, str | None]:
        if len(matches) == 1:
            return next(iter(matches)), None
        if matches:
            return None, f"its {what} matches several of the clinic's"
        return None, f"its {what} is not one of the clinic's"

    def _practitioner(self, identifiers: Sequence[tuple[str | None, str]]) -> _Actor:
        provider, reason = self._found(self.providers_of(identifiers), "practitioner")
        return _Actor("practitioner", provider_id=provider, reason=reason)

    def _location(self, identifiers: Sequence[tuple[str | None, str]], names: Sequence[str]) -> _Actor:
        location, reason = self._found(self.locations_of(identifiers, names), "location")
        return _Actor("location", location_id=location, reason=reason)

    def _role(self, role: Reader) -> _Actor:
        practitioner = role.at("practitioner").object()
        if practitioner is None:
            return _Actor("practitioner", reason="its PractitionerRole names no practitioner")
        found = self.actor(practitioner, role, "Practitioner")
        if found is None or found.kind != "practitioner":
            return _Actor("practitioner", reason="its PractitionerRole's practitioner is not a Practitioner")
        locations: list[str] = []
        for item in role.at("location").items():
            where = self.actor(item, role, "Location")
            if where is not None and where.location_id is not None:
                locations.append(where.location_id)
        return evolve(found, role_locations=tuple(dict.fromkeys(locations)))

    # ---- Schedule -----------------------------------------------------------------------------

    @staticmethod
    def concepts(value: Reader, *, many: bool) -> list[tuple[tuple[str | None, str], ...]]:
        """The codings ``(system, code)`` of a CodeableConcept (``many=False``) or a list of them."""
        found: list[tuple[tuple[str | None, str], ...]] = []
        for item in value.items() if many else [value]:
            concept = item.object()
            if concept is None:
                continue
            codings: list[tuple[str | None, str]] = []
            for raw in concept.at("coding").items():
                coding = raw.object()
                if coding is None:
                    continue
                system = coding.at("system").string()
                code = coding.at("code").string()
                if code is not None:
                    codings.append((system, code))
            found.append(tuple(codings))
        return found

    def _schedule(self, resource: Reader) -> _Schedule:
        path = resource.path
        before = len(self.problems)
        concepts = tuple(self.concepts(resource.at("serviceType"), many=True))
        active = resource.at("active").flag()
        actors = [
            (item.path, self.actor(item, resource))
            for item in resource.at("actor").items(required=True, non_empty=True)
        ]
        if len(self.problems) > before:
            return _Schedule(path, skipped="the Schedule is malformed")
        practitioners = [(p, a) for p, a in actors if a is not None and a.kind == "practitioner"]
        locations = [(p, a) for p, a in actors if a is not None and a.kind == "location"]
        services = [(p, a) for p, a in actors if a is not None and a.kind == "service"]
        # A service actor matters only for the location it gives (a Schedule with a Location has one); beside
        # a practitioner, one that gives no location of the clinic is ignored, as before such actors were read.
        if practitioners and not locations:
            for where_at, ignored in services:
                if ignored.reason is not None:
                    self.skip(where_at, f"{ignored.reason}; the actor is ignored")
            services = [(p, a) for p, a in services if a.reason is None]
        placed = locations or services
        where, reason = self._unusable(path, active, practitioners, locations, services)
        if reason is not None:
            self.skip(where, reason)
            return _Schedule(path, skipped=reason)
        provider = practitioners[0][1].provider_id if practitioners else None
        location = placed[0][1].location_id if placed else None
        if location is None and practitioners and len(practitioners[0][1].role_locations) == 1:
            location = practitioners[0][1].role_locations[0]
        schedule = _Schedule(path, provider_id=provider, location_id=location, concepts=concepts)
        if provider is None and location is not None:
            service = services[0][1] if services and not locations else None
            actor_type = service.resource_type if service is not None and service.resource_type else "Location"
            servers, how = self.servers(location, services[0][1].key if services else None)
            schedule = evolve(schedule, servers=servers, actor_type=actor_type)
            if servers:
                self.notes.append(f"{path}: a {actor_type}'s Schedule: its free Slots open time of {how}")
        return schedule

    @staticmethod
    def _unusable(
        path: str,
        active: bool | None,
        practitioners: Sequence[tuple[str, _Actor]],
        locations: Sequence[tuple[str, _Actor]],
        services: Sequence[tuple[str, _Actor]],
    ) -> tuple[str, str | None]:
        """Where and why a Schedule cannot be used (reason None: it can)."""
        placed = locations or services
        rules = (
            (active is False, "the Schedule is not active"),
            (
                len(practitioners) > 1,
                "the Schedule has several practitioner actors (a slot needing several clinicians is not read)",
            ),
            (len(locations) > 1, "the Schedule has several Location actors"),
            (
                not locations and len(services) > 1,
                "the Schedule has several HealthcareService or Device actors and no Location actor",
            ),
            (
                not practitioners and not placed,
                "the Schedule has no Practitioner, PractitionerRole, Location, HealthcareService or Device actor",
            ),
        )
        broken = next((reason for applies, reason in rules if applies), None)
        if broken is not None:
            return path, broken
        unknown = [(p, a.reason) for p, a in (*practitioners, *placed) if a.reason is not None]
        if unknown:
            return unknown[0][0], f"{unknown[0][1]}, so the Schedule is skipped"
        return path, None

    # ---- Slot ---------------------------------------------------------------------------------

    def _visit_types(self, concepts: Sequence[tuple[tuple[str | None, str], ...]]) -> tuple[str, ...] | None:
        """Codes of clinic visit types the concepts name; None when concepts are given but none matches."""
        if not concepts:
            return ()
        codes = [
            vt.code
            for codings in concepts
            for system, code in codings
            for vt in self.clinic.visit_types
            if vt.code == code and (system is None or vt.codeset is None or system == vt.codeset)
        ]
        return tuple(dict.fromkeys(codes)) or None

    def _slot(self, resource: Reader) -> None:
        path = resource.path
        before = len(self.problems)
        status_at = resource.at("status")
        status = status_at.string(required=True)
        if status is not None and status not in SLOT_STATUSES:
            status_at.problem(f"must be one of {', '.join(SLOT_STATUSES)}")
        if status == "entered-in-error":
            self.skip(path, "the Slot was entered in error")
            return
        slot_id = resource.at("id")
        if slot_id.present and not isinstance(slot_id.value, str):
            slot_id.problem("must be a string")
        start = resource.at("start").apply(_instant)
        end_at = resource.at("end")
        end = end_at.apply(_instant)
        if start is not None and end is not None and end <= start:
            end_at.problem("must be later than start")
        concepts = self.concepts(resource.at("serviceType"), many=True)
        concepts += self.concepts(resource.at("appointmentType"), many=False)
        schedule = self._slot_schedule(resource)
        if len(self.problems) > before or status is None or start is None or end is None or schedule is None:
            return  # every problem of this Slot is reported; nothing of it is used
        if schedule.skipped is not None:
            self.skip(path, f"its Schedule ({schedule.path}) is skipped")
            return
        source = slot_id.value if isinstance(slot_id.value, str) else None
        if status == "free":
            self._free(path, schedule, start, end, concepts, source)
            return
        kind = BUSY_KINDS[status]
        if schedule.provider_id is None and kind is BusyKind.BLOCK:
            kind = BusyKind.CLOSURE  # the location itself is unavailable
        self.busy.append(
            Busy(
                kind,
                math.floor(start),  # busy time rounds outwards: never offer a busy minute
                math.ceil(end),
                provider_id=schedule.provider_id,
                location_id=schedule.location_id,
                visit_number=source,
            )
        )

    def _slot_schedule(self, resource: Reader) -> _Schedule | None:
        ref = resource.at("schedule").object(required=True)
        if ref is None:
            return None
        reference_at = ref.at("reference")
        reference = reference_at.string(required=True)
        if reference is None:
            return None
        target = self.resolve(reference, resource)
        if target is None:
            reference_at.problem("must reference a Schedule entry of the bundle")
            return None
        if target.value.get("resourceType") != "Schedule":
            reference_at.problem("must reference a Schedule")
            return None
        return self.schedules.get(target.path) or _Schedule(target.path, skipped="a contained Schedule is not read")

    def _free(
        self,
        path: str,
        schedule: _Schedule,
        start: Fraction,
        end: Fraction,
        concepts: list[tuple[tuple[str | None, str], ...]],
        source: str | None,
    ) -> None:
        location = schedule.location_id
        if location is None and len(self.clinic.locations) == 1:
            location = self.clinic.locations[0].id
        providers = (schedule.provider_id,) if schedule.provider_id is not None else schedule.servers
        if not providers:
            self.skip(
                path,
                f"no practitioner serves its Schedule's {schedule.actor_type} (no clinic provider stands for the "
                "location, no PractitionerRole of the bundle names it, no clinic provider works there)",
            )
            return
        if location is None:
            self.skip(path, "free time of a Schedule without a location (and the clinic has several locations)")
            return
        visit_types = self._visit_types(concepts or list(schedule.concepts))
        if visit_types is None:
            self.skip(path, "none of its serviceType/appointmentType codes is a visit type of the clinic")
            return
        first, last = math.ceil(start), math.floor(end)  # open time rounds inwards: never offer a busy minute
        if last <= first:
            self.skip(path, "no whole minute of it is free")
            return
        self.open_times += [
            OpenTime(
                provider_id=provider,
                location_id=location,
                start=first,
                end=last,
                visit_types=visit_types,
                source=source,
            )
            for provider in providers
        ]


def _instant(value: Any) -> Fraction:
    """A FHIR instant as exact minutes since the epoch (seconds kept as a fraction of a minute)."""
    if value is None:
        raise RuleError("is required")
    if not isinstance(value, str):
        raise RuleError("must be a FHIR instant string")
    match = _INSTANT.fullmatch(value)
    if match is None:
        if _NAIVE.fullmatch(value):
            raise RuleError("must have a UTC offset (Z or +HH:MM): a FHIR instant always carries one")
        raise RuleError("must be a FHIR instant such as 2025-10-24T14:30:00Z")
    try:
        days = (dt.date.fromisoformat(match["date"]) - _EPOCH_DATE).days
    except ValueError:
        raise RuleError("must be a real calendar date") from None
    tz = match["tz"]
    offset = 0 if tz == "Z" else (1 if tz[0] == "+" else -1) * (int(tz[1:3]) * 60 + int(tz[4:6]))
    seconds = Fraction(match["s"] + (match["frac"] or ""))
    return Fraction(days * MINUTES_PER_DAY + int(match["h"]) * 60 + int(match["m"]) - offset) + seconds / 60


def _names(resource: Mapping[str, Any]) -> list[str]:
    """``Location.name`` and ``Location.alias`` (strings only)."""
    names = [resource.get("name")]
    alias = resource.get("alias")
    if isinstance(alias, list):
        names += alias
    return [n for n in names if isinstance(n, str) and n.strip()]


def _location_names(location: Location) -> set[str]:
    """Names a FHIR Location may carry for a clinic location: its id, department, facility or both."""
    parts = [location.id, location.department, location.facility]
    if location.facility and location.department:
        parts += [f"{location.facility}, {location.department}", f"{location.facility} {location.department}"]
    return {_casefold(p) for p in parts if p}


def read_fhir_bundle(bundle: Mapping[str, Any], clinic: Clinic, *, limits: Limits | None = None) -> FhirItems:
    """Open and busy time of ``clinic``'s providers and locations from a FHIR R4 Bundle of Schedules and Slots.

    Raises :class:`InvalidClinic` listing every malformed field with its JSON path; what is well
    formed but not usable (other resource types, unknown actors, entered-in-error Slots) is listed in
    ``FhirItems.skipped``. Past ``limits`` (entries per bundle: ``max_import_items``; nesting; items of
    any other array) it raises ``CalendarTooLarge`` (an InvalidClinic) before any entry is read.
    """
    limits = resolve(limits)
    too_large = shape_problems(bundle, limits, {"$.entry": (limits.max_import_items, "max_import_items")})
    if too_large:
        raise CalendarTooLarge(too_large)
    reader = _BundleReader(bundle, clinic)
    if reader.is_bundle:
        reader.run()
    return _items(reader)


def read_resources(
    resources: Sequence[Reader], problems: Problems, clinic: Clinic, skipped: Sequence[str] = ()
) -> FhirItems:
    """``resources`` (JSON objects, each at its own path, recording into ``problems``) read as the entries of
    one Bundle, after the ``skipped`` lines of whoever gathered them: the lines of a bulk publication.

    The caller checks the limits. Raises :class:`InvalidClinic` with every problem in ``problems``.
    """
    reader = _BundleReader(None, clinic, resources=resources, problems=problems)
    reader.skipped += skipped
    reader.run()
    return _items(reader)


def _items(reader: _BundleReader) -> FhirItems:
    reader.problems.raise_if_any(InvalidClinic)
    return FhirItems(
        open_times=tuple(reader.open_times),
        busy=tuple(reader.busy),
        skipped=tuple(dict.fromkeys(reader.skipped)),
        notes=tuple(dict.fromkeys(reader.notes)),
    )


def is_bundle(data: Any) -> bool:
    """Whether parsed JSON is a FHIR Bundle (rather than, say, a Redox message)."""
    return isinstance(data, Mapping) and data.get("resourceType") == "Bundle"


def slot_window(bundle: Any) -> tuple[int, int]:
    """From the earliest start of a bundle's Slots to just after the latest; (0, 1) when none has a start.

    The default window of a reconciliation. Starts that cannot be read are passed over here:
    :func:`read_fhir_bundle` reports them.
    """
    entries = Reader(bundle, "$", Problems(), _FHIR).at("entry").items()
    slots = [r for e in entries if (r := e.at("resource")).object() and r.at("resourceType").value == "Slot"]
    starts = [start for slot in slots if (start := slot.at("start").apply(_instant)) is not None]
    if not starts:
        return 0, 1
    return math.floor(min(starts)), math.floor(max(starts)) + 1
