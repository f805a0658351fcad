"""Calendars imported into a store (FHIR bundles, iCalendar files): merged into its clinic.

The store logs what it was given and replays it through the same function, so an import is
rebuilt from the log like any message. Importing the same items twice adds nothing.
"""

from __future__ import annotations

import datetime as dt
import json

import attrs

from slotfinder._domain import Busy, Clinic, OpenTime

__all__ = ["ical_envelope", "merge_import"]


def ical_envelope(
    text: str, name: str, location_id: str, provider_id: str | None, room: str | None, first: dt.date, last: dt.date
) -> str:
    """The log body of an iCalendar import: the file's text verbatim, with what it belongs to."""
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


def _added(clinic: Clinic, busy: tuple[Busy, ...], open_times: tuple[OpenTime, ...]) -> Clinic:
    known_busy, known_open = set(clinic.busy), set(clinic.open_times)
    return attrs.evolve(
        clinic,
        busy=clinic.busy + tuple(b for b in dict.fromkeys(busy) if b not in known_busy),
        open_times=clinic.open_times + tuple(o for o in dict.fromkeys(open_times) if o not in known_open),
    )


def merge_import(kind: str, body: str, clinic: Clinic) -> tuple[Clinic, tuple[str, ...]]:
    """``clinic`` with an import's busy and open time added, and what the reader skipped."""
    if kind == "fhir":
        from slotfinder.fhir import read_fhir_bundle

        found = read_fhir_bundle(json.loads(body), clinic)
        return _added(clinic, found.busy, found.open_times), found.skipped
    from slotfinder.ical._read import CalendarSource, read_ical

    envelope = json.loads(body)
    source = CalendarSource(envelope["location_id"], envelope["provider_id"], envelope["room"], envelope["calendar"])
    first, last = dt.date.fromisoformat(envelope["first"]), dt.date.fromisoformat(envelope["last"])
    items = read_ical(envelope["text"], source, clinic, first, last, default_slot_length=15)
    return _added(clinic, items.busy, items.open_times), items.skipped
