"""Search results and clinic calendars -> FHIR R4 Bundles of ``Schedule`` + ``Slot`` (plain dicts).

Only this module and ``read.py`` know FHIR field names. Output is deterministic: ids are derived
from providers, locations and instants (never from the order of the input), ``fullUrl``s are
``urn:uuid:`` UUIDs derived from the ids, and entries are sorted. Every mapping is in ``docs/fhir.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Iterable
from typing import Any

from slotfinder._calendars import zones
from slotfinder._calendars.expand import expand_blocks
from slotfinder._domain import Busy, BusyKind, Clinic, Location, Provider, VisitType
from slotfinder._result import SlotResult
from slotfinder.fhir._read import LOCATION_SYSTEM, NPI_SYSTEM

__all__ = ["STATUS_OF", "clinic_period", "fhir_id", "write_clinic_bundle", "write_slots_bundle"]

STATUS_OF = {
    BusyKind.BOOKING: "busy",
    BusyKind.HOLD: "busy-tentative",
    BusyKind.BLOCK: "busy-unavailable",
    BusyKind.OUT_OF_OFFICE: "busy-unavailable",
    BusyKind.CLOSURE: "busy-unavailable",
}
"""The Slot status each kind of busy item is written with."""

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:slotfinder:fhir")
_NOT_ID = re.compile(r"[^A-Za-z0-9\-.]")
_MAX_ID = 64
_URI = re.compile(r"\S+")  # R4 uri: no whitespace
_CODE = re.compile(r"[^\s]+(\s[^\s]+)*")  # R4 code: no leading, trailing or repeated whitespace
_DAY = dt.timedelta(days=1)

_Key = tuple[str | None, str | None]  # (provider id, location id) of one Schedule


def fhir_id(text: str) -> str:
    """``text`` as a FHIR id (``[A-Za-z0-9\\-.]{1,64}``): kept when valid, else cleaned and suffixed with a hash.

    The hash of the original text keeps two texts that clean to the same id apart.
    """
    cleaned = _NOT_ID.sub("-", text) or "-"
    if cleaned == text and len(text) <= _MAX_ID:
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return f"{cleaned[: _MAX_ID - len(digest) - 1]}-{digest}"


class _Ids:
    """Unique FHIR ids of one resource type: a repeated base gets ``-2``, ``-3``, ..."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, base: str) -> str:
        candidate, n = fhir_id(base), 2
        while candidate in self.used:
            candidate, n = fhir_id(f"{base}-{n}"), n + 1
        self.used.add(candidate)
        return candidate


def _instant(minute: int) -> str:
    return zones.to_datetime(minute).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stamp(minute: int) -> str:
    return zones.to_datetime(minute).strftime("%Y%m%dT%H%MZ")


def _full_url(kind: str, rid: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, f'{kind}/{rid}')}"


def _text(*parts: str | None, sep: str = " ") -> str | None:
    joined = sep.join(p.strip() for p in parts if p and p.strip())
    return joined or None


def _practitioner(provider: Provider) -> dict[str, Any]:
    """A logical reference: the provider's ID as an identifier (NPI system for NPIs), its name as display."""
    identifier: dict[str, Any] = {"value": provider.id}
    if provider.id_type.upper() == "NPI":
        identifier = {"system": NPI_SYSTEM, "value": provider.id}
    elif provider.id_type.strip():
        identifier = {"type": {"text": provider.id_type}, "value": provider.id}
    ref: dict[str, Any] = {"type": "Practitioner", "identifier": identifier}
    display = _text(_text(provider.first_name, provider.last_name), _text(*provider.credentials, sep=", "), sep=", ")
    if display:
        ref["display"] = display
    return ref


def _location(location: Location) -> dict[str, Any]:
    """A logical reference: the location's id as an identifier, facility and department as display."""
    ref: dict[str, Any] = {"type": "Location", "identifier": {"system": LOCATION_SYSTEM, "value": location.id}}
    display = _text(location.facility, location.department, sep=", ")
    if display:
        ref["display"] = display
    return ref


def _service_type(visit_type: VisitType) -> dict[str, Any]:
    """A visit type as a CodeableConcept: Codeset as system (when a valid uri), Code, Description."""
    concept: dict[str, Any] = {}
    coding: dict[str, Any] = {}
    if visit_type.codeset and _URI.fullmatch(visit_type.codeset):
        coding["system"] = visit_type.codeset
    if _CODE.fullmatch(visit_type.code):
        coding["code"] = visit_type.code
        if visit_type.description and visit_type.description.strip():
            coding["display"] = visit_type.description
        concept["coding"] = [coding]
    concept["text"] = _text(visit_type.description) or visit_type.code
    return concept


def _schedule(rid: str, provider: Provider | None, location: Location | None) -> dict[str, Any]:
    actors = [_practitioner(provider)] if provider is not None else []
    if location is not None:
        actors.append(_location(location))
    return {"resourceType": "Schedule", "id": rid, "active": True, "actor": actors}


def _slot(
    rid: str, schedule_url: str, status: str, start: int, end: int, visit_types: Iterable[VisitType]
) -> dict[str, Any]:
    slot: dict[str, Any] = {"resourceType": "Slot", "id": rid}
    service_types = [_service_type(vt) for vt in visit_types]
    if service_types:
        slot["serviceType"] = service_types
    slot.update(schedule={"reference": schedule_url}, status=status, start=_instant(start), end=_instant(end))
    return slot


def _entry(resource: dict[str, Any], mode: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"fullUrl": _full_url(resource["resourceType"], resource["id"]), "resource": resource}
    if mode is not None:
        entry["search"] = {"mode": mode}
    return entry


def _schedule_base(key: _Key) -> str:
    return "-".join(["schedule", *(part for part in key if part is not None)])


def write_slots_bundle(result: SlotResult) -> dict[str, Any]:
    """The ranked slots as a FHIR R4 ``searchset`` Bundle: free Slots (best first), then their Schedules.

    One Schedule per provider and location used; Slots are matches (``search.mode`` match), Schedules
    are includes. ``timestamp`` is the search's ``now``; ``total`` the number of Slots.
    """
    schedules: dict[_Key, tuple[Provider, Location]] = {}
    for ranked in result.slots:
        schedules.setdefault((ranked.provider.id, ranked.location.id), (ranked.provider, ranked.location))
    schedule_ids, schedule_entries = _Ids(), []
    url_of: dict[_Key, str] = {}
    for key in sorted(schedules, key=lambda k: (k[0] or "", k[1] or "")):
        resource = _schedule(schedule_ids.take(_schedule_base(key)), *schedules[key])
        schedule_entries.append(_entry(resource, "include"))
        url_of[key] = schedule_entries[-1]["fullUrl"]
    slot_ids, slot_entries = _Ids(), []
    for ranked in result.slots:
        resource = _slot(
            slot_ids.take(ranked.slot_id),
            url_of[(ranked.provider.id, ranked.location.id)],
            "free",
            ranked.start,
            ranked.start + ranked.duration,
            [ranked.visit_type] if ranked.visit_type is not None else [],
        )
        slot_entries.append(_entry(resource, "match"))
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": _instant(result.now),
        "total": len(slot_entries),
    }
    if slot_entries:
        bundle["entry"] = slot_entries + schedule_entries
    return bundle


def clinic_period(clinic: Clinic, first: dt.date, last: dt.date) -> tuple[int, int]:
    """Instants of local dates ``first``..``last`` in every zone of the clinic (and UTC): busy items
    overlapping them are written by :func:`write_clinic_bundle` (with the span of its free Slots)."""
    zone_names = {"UTC", *(loc.time_zone for loc in clinic.locations)}
    return (
        min(zones.instant_of(zone, first, 0) for zone in zone_names),
        max(zones.instant_of(zone, last + _DAY, 0) for zone in zone_names),
    )


def _busy_key(item: Busy, providers: dict[str, Provider], locations: dict[str, Location]) -> _Key | None:
    """The Schedule a busy item is written on, or None when it occupies only a room, equipment, pool units
    or patients."""
    location = item.location_id if item.location_id in locations else None
    if item.provider_id is not None:
        return (item.provider_id, location) if item.provider_id in providers else None
    if item.room is None and item.equipment is None and item.pool is None and location is not None:
        return (None, location)  # a closure; pool units and named units are not the location's Schedule
    return None


def write_clinic_bundle(clinic: Clinic, first: dt.date, last: dt.date) -> dict[str, Any]:
    """The clinic's calendars on local dates ``first``..``last`` as a FHIR R4 ``collection`` Bundle.

    Schedules (one per provider and location, provider alone, or location alone), then Slots: every
    template, opening and open-time block is cut on its grid into free Slots ``[start, start + step)``;
    every busy item of a known provider or of a whole location that overlaps the period is one busy
    Slot (status by kind, see ``STATUS_OF``). Reading it back with ``read_fhir_bundle`` gives the same
    free and busy instants per provider and location.
    """
    providers = {p.id: p for p in clinic.providers}
    locations = {loc.id: loc for loc in clinic.locations}
    vt_of = {vt.code: vt for vt in clinic.visit_types}
    rows: set[tuple[_Key, int, int, str, tuple[str, ...]]] = set()
    period_start, period_end = clinic_period(clinic, first, last)
    for block in expand_blocks(clinic, first, last):
        if block.provider_id not in providers or block.location_id not in locations:
            continue
        key: _Key = (block.provider_id, block.location_id)
        for start in range(block.start, block.end, block.step):
            rows.add((key, start, min(start + block.step, block.end), "free", block.visit_types))
            period_start, period_end = min(period_start, start), max(period_end, block.end)
    for item in clinic.busy:
        busy_key = _busy_key(item, providers, locations)
        if busy_key is not None and item.start < period_end and period_start < item.end:
            rows.add((busy_key, item.start, item.end, STATUS_OF[item.kind], ()))

    def order(key: _Key) -> tuple[str, str]:
        return (key[0] or "", key[1] or "")

    schedule_ids, slot_ids = _Ids(), _Ids()
    entries: list[dict[str, Any]] = []
    schedule_of: dict[_Key, tuple[str, str]] = {}
    for key in sorted({row[0] for row in rows}, key=order):
        provider = providers[key[0]] if key[0] is not None else None
        location = locations[key[1]] if key[1] is not None else None
        entries.append(_entry(_schedule(schedule_ids.take(_schedule_base(key)), provider, location)))
        schedule_of[key] = (entries[-1]["resource"]["id"], entries[-1]["fullUrl"])
    for key, start, end, status, codes in sorted(rows, key=lambda r: (order(r[0]), r[1], r[2], r[3], r[4])):
        schedule_id, schedule_url = schedule_of[key]
        base = f"{schedule_id}-{_stamp(start)}" if status == "free" else f"{schedule_id}-busy-{_stamp(start)}"
        visit_types = [vt_of.get(code) or VisitType(code, None, None, 1) for code in codes]
        entries.append(_entry(_slot(slot_ids.take(base), schedule_url, status, start, end, visit_types)))
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "collection"}
    if entries:
        bundle["entry"] = entries
    return bundle
