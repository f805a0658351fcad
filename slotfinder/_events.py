"""Scheduling events as domain values: what an EHR says happened to a visit or to its published slots.

Read from Redox messages by ``slotfinder.redox._events``; applied to calendars by ``slotfinder.store``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

from attrs import field, frozen

from slotfinder._domain import PatientId

__all__ = ["EventKind", "LocationRef", "PushedSlot", "SlotsPushed", "StaffTime", "VisitEvent"]


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


class EventKind(enum.Enum):
    """What happened to a visit."""

    NEW = "New"
    RESCHEDULE = "Reschedule"
    MODIFICATION = "Modification"
    CANCEL = "Cancel"
    NO_SHOW = "NoShow"


@frozen
class LocationRef:
    """A location as a message names it (matched to the clinic's locations when applied)."""

    department: str | None = None
    facility: str | None = None
    room: str | None = None
    type: str | None = None


@frozen
class StaffTime:
    """Another resource a visit occupies: a provider (AdditionalStaff) or equipment, for a span."""

    resource: str  # provider ID, or equipment code
    start: int
    end: int
    is_equipment: bool = False


@frozen
class VisitEvent:
    """A New, Reschedule, Modification, Cancel or NoShow of one visit number."""

    kind: EventKind
    visit_number: str
    start: int | None
    duration: int | None
    provider_id: str | None = None
    location: LocationRef | None = None
    patients: tuple[PatientId, ...] = field(default=(), converter=_tuple)
    reason: str | None = None
    staff: tuple[StaffTime, ...] = field(default=(), converter=_tuple)
    old_visit_number: str | None = None  # Reschedule: the visit it replaces
    old_start: int | None = None


@frozen
class PushedSlot:
    """One slot an EHR published."""

    slot_id: str | None
    start: int
    duration: int
    reason: str | None
    provider_id: str | None
    location: LocationRef | None


@frozen
class SlotsPushed:
    """A PushSlots message: these slots replace earlier pushed slots of the same provider and location."""

    slots: tuple[PushedSlot, ...] = field(converter=_tuple)
