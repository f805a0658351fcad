"""Redox Scheduling event messages (New, Reschedule, Modification, Cancel, NoShow, PushSlots) -> events.

Problems are collected with their JSON paths and raised together as ``InvalidMessage``; values are
never repeated (messages carry patients).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from slotfinder._domain import PatientId
from slotfinder._errors import InvalidMessage, Problem
from slotfinder._events import EventKind, LocationRef, PushedSlot, SlotsPushed, StaffTime, VisitEvent
from slotfinder.redox._values import parse_instant

__all__ = ["EVENT_TYPES", "parse_event"]

EVENT_TYPES = frozenset({*(k.value for k in EventKind), "PushSlots"})
T = TypeVar("T")


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def object(self, data: Any, path: str, required: bool = False) -> Mapping[str, Any]:
        if data is None and not required:
            return {}
        if not isinstance(data, Mapping):
            self.problems.append(Problem(path, "is required" if data is None else "must be an object"))
            return {}
        return data

    def items(self, data: Any, path: str) -> list[Any]:
        if data is None:
            return []
        if not isinstance(data, list):
            self.problems.append(Problem(path, "must be an array"))
            return []
        return data

    def text(self, data: Mapping[str, Any], key: str, path: str, required: bool = False) -> str | None:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problems.append(Problem(f"{path}.{key}", "is required"))
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.problems.append(Problem(f"{path}.{key}", "must be a string"))
            return None
        return str(value)

    def parsed(self, path: str, parse: Callable[[], T]) -> T | None:
        try:
            return parse()
        except ValueError as error:
            self.problems.append(Problem(path, str(error)))
            return None

    def instant(self, data: Mapping[str, Any], key: str, path: str, required: bool = False) -> int | None:
        text = self.text(data, key, path, required)
        return None if text is None else self.parsed(f"{path}.{key}", lambda: parse_instant(text))

    def minutes(self, data: Mapping[str, Any], key: str, path: str, required: bool = False) -> int | None:
        value = data.get(key)
        if value is None:
            if required:
                self.problems.append(Problem(f"{path}.{key}", "is required"))
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value != int(value)
        ):
            self.problems.append(Problem(f"{path}.{key}", "must be a whole number of minutes"))
            return None
        if not 0 < value <= 1440:
            self.problems.append(Problem(f"{path}.{key}", "must be positive and at most a day (1440 minutes)"))
            return None
        return int(value)


def _location(reader: _Reader, data: Any, path: str) -> LocationRef | None:
    loc = reader.object(data, path)
    if not loc:
        return None
    return LocationRef(
        department=reader.text(loc, "Department", path),
        facility=reader.text(loc, "Facility", path),
        room=reader.text(loc, "Room", path),
        type=reader.text(loc, "Type", path),
    )


def _staff(reader: _Reader, visit: Mapping[str, Any], start: int | None, duration: int | None) -> list[StaffTime]:
    found: list[StaffTime] = []
    for key, id_key, equipment in (("AdditionalStaff", "ID", False), ("Equipment", "Code", True)):
        for i, item in enumerate(reader.items(visit.get(key), f"$.Visit.{key}")):
            path = f"$.Visit.{key}[{i}]"
            entry = reader.object(item, path, required=True)
            resource = reader.text(entry, id_key, path, required=True)
            own_start = reader.instant(entry, "StartDateTime", path)
            own_duration = reader.minutes(entry, "Duration", path)
            begin = own_start if own_start is not None else start
            length = own_duration if own_duration is not None else duration
            if resource is not None and begin is not None and length is not None:
                found.append(StaffTime(resource, begin, begin + length, equipment))
    return found


def _visit_event(reader: _Reader, kind: EventKind, message: Mapping[str, Any]) -> VisitEvent:
    visit = reader.object(message.get("Visit"), "$.Visit", required=True)
    needs_time = kind in (EventKind.NEW, EventKind.RESCHEDULE, EventKind.MODIFICATION)
    number = reader.text(visit, "VisitNumber", "$.Visit", required=True)
    start = reader.instant(visit, "VisitDateTime", "$.Visit", required=needs_time)
    duration = reader.minutes(visit, "Duration", "$.Visit", required=needs_time)
    provider = reader.object(visit.get("AttendingProvider"), "$.Visit.AttendingProvider")
    patient = reader.object(message.get("Patient"), "$.Patient")
    patients = []
    for i, item in enumerate(reader.items(patient.get("Identifiers"), "$.Patient.Identifiers")):
        ident = reader.object(item, f"$.Patient.Identifiers[{i}]", required=True)
        pid = reader.text(ident, "ID", f"$.Patient.Identifiers[{i}]")
        if pid is not None:
            patients.append(PatientId(pid, reader.text(ident, "IDType", f"$.Patient.Identifiers[{i}]")))
    old_number = reader.text(visit, "OldVisitNumber", "$.Visit") if kind is EventKind.RESCHEDULE else None
    old_start = reader.instant(visit, "OldDateTime", "$.Visit") if kind is EventKind.RESCHEDULE else None
    return VisitEvent(
        kind=kind,
        visit_number=number or "",
        start=start,
        duration=duration,
        provider_id=reader.text(provider, "ID", "$.Visit.AttendingProvider"),
        location=_location(reader, visit.get("Location"), "$.Visit.Location"),
        patients=patients,
        reason=reader.text(visit, "Reason", "$.Visit"),
        staff=_staff(reader, visit, start, duration),
        old_visit_number=old_number,
        old_start=old_start,
    )


def _slots_pushed(reader: _Reader, message: Mapping[str, Any]) -> SlotsPushed:
    slots = []
    raw = message.get("Slots")
    if raw is None:
        reader.problems.append(Problem("$.Slots", "is required"))
    for i, item in enumerate(reader.items(raw, "$.Slots")):
        path = f"$.Slots[{i}]"
        slot = reader.object(item, path, required=True)
        start = reader.instant(slot, "DateTime", path, required=True)
        duration = reader.minutes(slot, "Duration", path, required=True)
        provider = reader.object(slot.get("Provider"), f"{path}.Provider")
        if start is not None and duration is not None:
            slots.append(
                PushedSlot(
                    slot_id=reader.text(slot, "ID", path),
                    start=start,
                    duration=duration,
                    reason=reader.text(slot, "Reason", path),
                    provider_id=reader.text(provider, "ID", f"{path}.Provider"),
                    location=_location(reader, slot.get("Location"), f"{path}.Location"),
                )
            )
    return SlotsPushed(slots)


def parse_event(message: Any) -> VisitEvent | SlotsPushed:
    """Read a Redox Scheduling event message; raises ``InvalidMessage`` listing every problem."""
    reader = _Reader()
    if not isinstance(message, Mapping):
        raise InvalidMessage([Problem("$", "must be a JSON object")])
    meta = reader.object(message.get("Meta"), "$.Meta", required=True)
    event_type = meta.get("EventType")
    if isinstance(message.get("Meta"), Mapping):
        if meta.get("DataModel") != "Scheduling":
            rule = "is required" if meta.get("DataModel") is None else "must be Scheduling"
            reader.problems.append(Problem("$.Meta.DataModel", rule))
        if not isinstance(event_type, str) or event_type not in EVENT_TYPES:
            rule = "is required" if event_type is None else f"must be one of {', '.join(sorted(EVENT_TYPES))}"
            reader.problems.append(Problem("$.Meta.EventType", rule))
    if reader.problems:
        raise InvalidMessage(reader.problems)
    event = (
        _slots_pushed(reader, message)
        if event_type == "PushSlots"
        else _visit_event(reader, EventKind(event_type), message)
    )
    if reader.problems:
        raise InvalidMessage(reader.problems)
    return event
