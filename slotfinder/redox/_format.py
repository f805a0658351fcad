"""``SlotResult`` -> Redox ``Scheduling.AvailableSlotsResponse``: only fields of the published table."""

from __future__ import annotations

from typing import Any

from slotfinder._calendars import zones
from slotfinder._result import RankedSlot, SlotResult
from slotfinder.redox._echo import MessageEcho, System

__all__ = ["format_instant", "format_response"]


def format_instant(instant: int) -> str:
    """An instant as UTC ISO 8601 with ``Z``."""
    return zones.to_datetime(instant).strftime("%Y-%m-%dT%H:%M:%SZ")


def _system(system: System) -> dict[str, Any]:
    return {"ID": system.id, "Name": system.name}


def _slot(slot: RankedSlot) -> dict[str, Any]:
    provider, location = slot.provider, slot.location
    return {
        "ID": slot.slot_id,
        "DateTime": format_instant(slot.start),
        "Duration": slot.duration,
        "Reason": slot.visit_type.description if slot.visit_type else None,
        "Notes": list(slot.notes),
        "Provider": {
            "ID": provider.id,
            "IDType": provider.id_type,
            "FirstName": provider.first_name,
            "LastName": provider.last_name,
            "Credentials": list(provider.credentials),
        },
        "Location": {
            "Type": location.type,
            "Facility": location.facility,
            "Department": location.department,
            "Room": slot.room,
        },
    }


def format_response(result: SlotResult, echo: MessageEcho | None = None) -> dict[str, Any]:
    """The response message; Source and Destinations are the request's, swapped (we answer its sender)."""
    meta: dict[str, Any] = {
        "DataModel": "Scheduling",
        "EventType": "AvailableSlotsResponse",
        "EventDateTime": format_instant(result.now),
    }
    if echo is not None:
        meta["Test"] = echo.test
        if echo.destinations:
            meta["Source"] = _system(echo.destinations[0])
        if echo.source is not None:
            meta["Destinations"] = [_system(echo.source)]
        meta["FacilityCode"] = echo.facility_code
    meta["IsIncomplete"] = not result.complete
    return {"Meta": meta, "AvailableSlots": [_slot(s) for s in result.slots]}
