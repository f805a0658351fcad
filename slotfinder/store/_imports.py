"""Calendars imported into a store (FHIR bundles, iCalendar files): merged into its clinic.

The store logs the busy and open time an import was read as (not the file: a FHIR comment or an
iCalendar SUMMARY, DESCRIPTION or ATTENDEE may name a patient) and replays them through
:func:`add_items`, so an import is rebuilt from the log like any message. Importing the same items
twice adds nothing.
"""

from __future__ import annotations

import datetime as dt
import json

import attrs

from slotfinder._domain import Busy, Clinic, OpenTime

__all__ = ["add_items", "ical_envelope", "read_import"]


def ical_envelope(
    text: str, name: str, location_id: str, provider_id: str | None, room: str | None, first: dt.date, last: dt.date
) -> str:
    """What ``CalendarStore.import_calendar`` reads of an iCalendar file: its text, with what it belongs to."""
    envelope = {
        "calendar": name,
        "location_id": location_id,
        "provider_id": provider_id,
        "room": room,
        "first": first.isoformat(),
        "last": last.isoformat(),
        "text": text,
    }
    return json.dumps(envelope, sort_keys=True)


def add_items(clinic: Clinic, busy: tuple[Busy, ...], open_times: tuple[OpenTime, ...]) -> Clinic:
    """``clinic`` with the busy and open time it does not have yet added."""
    known_busy, known_open = set(clinic.busy), set(clinic.open_times)
    return attrs.evolve(
        clinic,
        busy=clinic.busy + tuple(b for b in dict.fromkeys(busy) if b not in known_busy),
        open_times=clinic.open_times + tuple(o for o in dict.fromkeys(open_times) if o not in known_open),
    )


def read_import(kind: str, body: str, clinic: Clinic) -> tuple[tuple[Busy, ...], tuple[OpenTime, ...], tuple[str, ...]]:
    """The busy and open time an import (``kind`` "fhir" or "ical") adds to ``clinic``, and what was skipped."""
    if kind == "fhir":
        from slotfinder.fhir import read_fhir_bundle

        found = read_fhir_bundle(json.loads(body), clinic)
        return found.busy, found.open_times, found.skipped
    from slotfinder.ical._read import CalendarSource, read_ical

    envelope = json.loads(body)
    source = CalendarSource(envelope["location_id"], envelope["provider_id"], envelope["room"], envelope["calendar"])
    first, last = dt.date.fromisoformat(envelope["first"]), dt.date.fromisoformat(envelope["last"])
    items = read_ical(envelope["text"], source, clinic, first, last, default_slot_length=15)
    return items.busy, items.open_times, items.skipped
