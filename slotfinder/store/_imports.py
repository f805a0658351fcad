"""Calendars imported into a store (FHIR bundles, iCalendar files): merged into its clinic.

The store logs the busy and open time an import was read as (not the file: a FHIR comment or an
iCalendar SUMMARY, DESCRIPTION or ATTENDEE may name a patient) and replays them through
:func:`add_items`, so an import is rebuilt from the log like any message. Importing the same items
twice adds nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter

import attrs

from slotfinder._domain import Busy, Clinic, OpenTime

__all__ = ["add_items", "ical_envelope", "import_summary", "read_import", "skip_reason"]

_NAMED_PATH = re.compile(r" \([^()]*\$[^()]*\)")  # " ($.entry[5].resource)", " (schedules.ndjson:3:$)"


def ical_envelope(
    text: str,
    name: str,
    location_id: str,
    provider_id: str | None,
    room: str | None,
    first: dt.date,
    last: dt.date,
    *,
    strict: bool = False,
) -> str:
    """What ``CalendarStore.import_calendar`` reads of an iCalendar file: its text, with what it belongs to.

    ``strict``: refuse the whole file for one broken component (else it is skipped); only written when
    set, so a lenient envelope is the same text as before the option existed.
    """
    envelope: dict[str, object] = {
        "calendar": name,
        "location_id": location_id,
        "provider_id": provider_id,
        "room": room,
        "first": first.isoformat(),
        "last": last.isoformat(),
        "text": text,
    }
    if strict:
        envelope["strict"] = True
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
    """The busy and open time an import (``kind`` "fhir": a Bundle or a bulk publication's envelope; or
    "ical") adds to ``clinic``, and what was skipped."""
    if kind == "fhir":
        from slotfinder.fhir import BulkPublication, read_bulk_publication, read_fhir_bundle
        from slotfinder.fhir._bulk import is_bulk_envelope

        data = json.loads(body)
        if is_bulk_envelope(data):  # a SMART Scheduling Links publication: BulkPublication.envelope()
            found = read_bulk_publication(BulkPublication.from_envelope(data), clinic)
        else:
            found = read_fhir_bundle(data, clinic)
        return found.busy, found.open_times, found.skipped
    from slotfinder.ical._read import CalendarSource, read_ical

    envelope = json.loads(body)
    source = CalendarSource(envelope["location_id"], envelope["provider_id"], envelope["room"], envelope["calendar"])
    first, last = dt.date.fromisoformat(envelope["first"]), dt.date.fromisoformat(envelope["last"])
    strict = envelope.get("strict") is True
    items = read_ical(envelope["text"], source, clinic, first, last, default_slot_length=15, strict=strict)
    return items.busy, items.open_times, items.skipped


def skip_reason(note: str) -> str:
    """The reason of a skipped line, counted with its like: without the line's path, nor a path it names in
    parentheses (``its Schedule ($.entry[5].resource) is skipped`` -> ``its Schedule is skipped``)."""
    text = note.removeprefix("skipped: ")
    _, sep, why = text.partition(": ")
    return _NAMED_PATH.sub("", why if sep else text)


def import_summary(record: str, anomalies: tuple[str, ...]) -> tuple[int, int, list[str]]:
    """What one import applied and skipped, from its log record (``dump_items``) and its anomalies:
    ``(busy items, open times, lines)``, the lines saying ``applied N (...), skipped M`` and each reason
    with its count. Reasons are the reader's (paths and rules only, never a value of the file)."""
    data = json.loads(record)
    busy, open_times = len(data.get("busy", [])), len(data.get("open_times", []))
    reasons = Counter(skip_reason(note) for note in anomalies)
    lines = [
        f"applied {busy + open_times} ({busy} busy, {open_times} open), skipped {sum(reasons.values())}",
        *(f"skipped {n}: {why}" for why, n in reasons.most_common()),
    ]
    return busy, open_times, lines
