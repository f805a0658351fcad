"""Redox Scheduling event messages (New, Reschedule, Modification, Cancel, NoShow, PushSlots) -> events.

Problems are collected with their JSON paths and raised together as ``InvalidMessage``; values are
never repeated (messages carry patients).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slotfinder._domain import PatientId
from slotfinder._errors import InvalidMessage, Problem
from slotfinder._events import EventKind, LocationRef, PushedSlot, SlotsPushed, StaffTime, VisitEvent
from slotfinder._limits import Limits, MessageTooLarge, resolve, shape_problems
from slotfinder._problems import Problems, Reader
from slotfinder.redox._values import REDOX, read_instant, read_minutes

__all__ = ["EVENT_TYPES", "parse_event", "unhandled"]

# Redox EventType -> what happened to the visit (the domain's names need not be Redox's).
_KINDS = {
    "New": EventKind.NEW,
    "Reschedule": EventKind.RESCHEDULE,
    "Modification": EventKind.MODIFICATION,
    "Cancel": EventKind.CANCEL,
    "NoShow": EventKind.NO_SHOW,
}
_PUSH_SLOTS = "PushSlots"
EVENT_TYPES = frozenset({*_KINDS, _PUSH_SLOTS})


def _location(reader: Reader) -> LocationRef | None:
    loc = reader.object()
    if loc is None or not loc.value:
        return None
    return LocationRef(
        department=loc.at("Department").string(),
        facility=loc.at("Facility").string(),
        room=loc.at("Room").string(),
        type=loc.at("Type").string(),
    )


def _staff(visit: Reader, start: int | None, duration: int | None) -> list[StaffTime]:
    found: list[StaffTime] = []
    for key, id_key, equipment in (("AdditionalStaff", "ID", False), ("Equipment", "Code", True)):
        for entry in visit.at(key).items():
            entry.object(required=True)
            resource = entry.at(id_key).string(required=True)
            own_start = read_instant(entry.at("StartDateTime"))
            own_duration = read_minutes(entry.at("Duration"))
            begin = own_start if own_start is not None else start
            length = own_duration if own_duration is not None else duration
            if resource is not None and begin is not None and length is not None:
                found.append(StaffTime(resource, begin, begin + length, equipment))
    return found


def _visit_event(message: Reader, kind: EventKind) -> VisitEvent:
    visit = message.at("Visit")
    visit.object(required=True)
    needs_time = kind in (EventKind.NEW, EventKind.RESCHEDULE, EventKind.MODIFICATION)
    number = visit.at("VisitNumber").string(required=True)
    start = read_instant(visit.at("VisitDateTime"), required=needs_time)
    duration = read_minutes(visit.at("Duration"), required=needs_time)
    provider = visit.at("AttendingProvider")
    provider.object()
    patient = message.at("Patient")
    patient.object()
    patients = []
    for ident in patient.at("Identifiers").items():
        ident.object(required=True)
        pid = ident.at("ID").string()
        if pid is not None:
            patients.append(PatientId(pid, ident.at("IDType").string()))
    rescheduled = kind is EventKind.RESCHEDULE
    old_number = visit.at("OldVisitNumber").string() if rescheduled else None
    old_start = read_instant(visit.at("OldDateTime")) if rescheduled else None
    return VisitEvent(
        kind=kind,
        visit_number=number or "",
        start=start,
        duration=duration,
        provider_id=provider.at("ID").string(),
        location=_location(visit.at("Location")),
        patients=patients,
        reason=visit.at("Reason").string(),
        staff=_staff(visit, start, duration),
        old_visit_number=old_number,
        old_start=old_start,
    )


def _slots_pushed(message: Reader) -> SlotsPushed:
    slots = []
    for slot in message.at("Slots").items(required=True):
        slot.object(required=True)
        start = read_instant(slot.at("DateTime"), required=True)
        duration = read_minutes(slot.at("Duration"), required=True)
        provider = slot.at("Provider")
        provider.object()
        if start is not None and duration is not None:
            slots.append(
                PushedSlot(
                    slot_id=slot.at("ID").string(),
                    start=start,
                    duration=duration,
                    reason=slot.at("Reason").string(),
                    provider_id=provider.at("ID").string(),
                    location=_location(slot.at("Location")),
                )
            )
    return SlotsPushed(slots)


def parse_event(message: Any, *, limits: Limits | None = None) -> VisitEvent | SlotsPushed:
    """Read a Redox Scheduling event message; raises ``InvalidMessage`` listing every problem.

    Past ``limits`` (nesting, items of any array: ``docs/limits.md``) it raises ``MessageTooLarge`` (an
    InvalidMessage and a LimitExceeded) before any field is read.
    """
    root = Reader(message, "$", Problems(), REDOX)
    if not isinstance(message, Mapping):
        root.problem("must be a JSON object")
        root.problems.raise_if_any(InvalidMessage)
    too_large = shape_problems(message, resolve(limits))
    if too_large:
        raise MessageTooLarge(too_large)
    meta = root.at("Meta")
    event_type = meta.at("EventType").value
    if meta.object(required=True) is not None:
        model = meta.at("DataModel")
        if model.value != "Scheduling":
            model.problem("is required" if model.value is None else "must be Scheduling")
        if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
            rule = "is required" if event_type is None else f"must be one of {', '.join(sorted(EVENT_TYPES))}"
            meta.at("EventType").problem(rule)
    root.problems.raise_if_any(InvalidMessage)
    event = _slots_pushed(root) if event_type == _PUSH_SLOTS else _visit_event(root, _KINDS[event_type])
    root.problems.raise_if_any(InvalidMessage)
    return event


_QUERY = "AvailableSlots"


def unhandled(message: Any) -> Problem | None:
    """The problem when ``message`` is a Scheduling message this package neither answers nor applies
    (``Booked``, ``AvailableSlotsResponse``, ...); None for a query, an event it applies, or anything
    its readers report themselves (another data model, an unreadable envelope)."""
    meta = message.get("Meta") if isinstance(message, Mapping) else None
    if not isinstance(meta, Mapping) or meta.get("DataModel") != "Scheduling":
        return None
    kind = meta.get("EventType")
    if not isinstance(kind, str) or kind == _QUERY or kind in EVENT_TYPES:
        return None
    handled = ", ".join([_QUERY, *sorted(EVENT_TYPES)])
    return Problem("$.Meta.EventType", f"is not a message this destination handles ({handled})")
