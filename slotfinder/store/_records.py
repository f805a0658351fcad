"""What the calendar store keeps, as canonical JSON text: state records, log records, checkpoints.

Privacy by design: a log record holds what the event fold needs to recompute the state, and nothing
else. The text a message arrived as is never written; its SHA-256 digest is (:func:`digest`).

* a Redox visit event: kind, visit number(s), start and duration, provider ID, location reference
  (department, facility, room), the patient's identifiers (ID and IDType: the engine matches a
  request's identifiers against them, so they are kept as given), AdditionalStaff/Equipment
  references with their times, and the code of the clinic visit type its Reason names (the clinic's
  word, not the sender's). Not the Reason text, the location type or the old time.
* a PushSlots: the pushed slots as applied (provider, location, times, slot ID, room, and whether and
  for which visit types the Reason made each bookable), not the Reason text.
* a FHIR or iCalendar import: the busy and open time read from it (identifiers, times, resources),
  not the file (no SUMMARY, DESCRIPTION, comment or attendee).
* a clinic: the clinic as read (its file format, which refuses unknown keys).
* a rejected message: its problems (JSON paths and rules, never values).

Every record is written as compact JSON with sorted keys, so equal records are equal text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import cattrs

from slotfinder._calendars.clinic_file import clinic_to_dict, load_clinic, load_written_clinic
from slotfinder._domain import Busy, Clinic, OpenTime
from slotfinder._errors import InvalidClinic, Problem
from slotfinder._events import VisitEvent
from slotfinder._problems import Reader, data_key_path
from slotfinder.store._state import Appointment, PushedEntry, ReasonMap
from slotfinder.store._state import _visit_type as visit_type_of  # the fold's own rule

__all__ = [
    "Checkpoint",
    "digest",
    "dump_appointment",
    "dump_checkpoint",
    "dump_clinic",
    "dump_items",
    "dump_problems",
    "dump_pushed",
    "dump_pushed_record",
    "dump_reasons",
    "dump_visit_record",
    "load_appointment",
    "load_checkpoint",
    "load_clinic_record",
    "load_items",
    "load_pushed",
    "load_record",
    "minimal_event",
    "read_reasons",
]

_converter = cattrs.Converter()

# Fields of a minimal visit event left out of its record when empty (old_start always is).
_UNUSED_EVENT_FIELDS = ("reason", "old_start")
_UNUSED_LOCATION_FIELDS = ("type",)


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _dump(value: Any) -> str:
    return _text(_converter.unstructure(value))


def digest(text: str) -> str:
    """SHA-256 (hex) of the text as received, UTF-8 encoded: what the log keeps of the message itself."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# ---- state records --------------------------------------------------------------------------------


def dump_appointment(appointment: Appointment) -> str:
    return _dump(appointment)


def load_appointment(text: str) -> Appointment:
    return _converter.structure(json.loads(text), Appointment)


def dump_pushed(entry: PushedEntry) -> str:
    return _dump(entry)


def load_pushed(text: str) -> PushedEntry:
    return _converter.structure(json.loads(text), PushedEntry)


def dump_clinic(clinic: Clinic) -> str:
    """A clinic in its file format (the form the ``clinic`` table and clinic log records keep)."""
    return _text(clinic_to_dict(clinic))


def load_clinic_record(text: str) -> Clinic:
    """A clinic record the store wrote from a checked clinic (its busy items read back without the file's
    per-key checks: a 50,000-item clinic in about a tenth of the time)."""
    return load_written_clinic(json.loads(text))


# ---- log records ----------------------------------------------------------------------------------


def minimal_event(event: VisitEvent, clinic: Clinic) -> VisitEvent:
    """``event`` without what the fold does not use: no location type, no old time, and the Reason only as
    the code of the clinic visit type it names (the booking's type: buffers, booking limits), else none."""
    location = None if event.location is None else attrs.evolve(event.location, type=None)
    return attrs.evolve(event, location=location, reason=visit_type_of(event.reason, clinic), old_start=None)


def dump_visit_record(event: VisitEvent) -> str:
    """The log record of an applied visit event, already minimal (see :func:`minimal_event`)."""
    data = _converter.unstructure(event)
    for key in _UNUSED_EVENT_FIELDS:
        if key == "old_start" or data[key] is None:
            del data[key]
    if data["location"] is not None:
        for key in _UNUSED_LOCATION_FIELDS:
            del data["location"][key]
    return _text({"visit": data})


def dump_pushed_record(entries: Iterable[PushedEntry]) -> str:
    """The log record of an applied PushSlots: the pushed slots it stands for, as resolved."""
    return _text({"pushed": [_converter.unstructure(e) for e in entries]})


def dump_items(busy: Iterable[Busy], open_times: Iterable[OpenTime]) -> str:
    """The log record of a calendar import: the busy and open time read from it."""
    return _text(
        {
            "busy": [_converter.unstructure(b) for b in busy],
            "open_times": [_converter.unstructure(o) for o in open_times],
        }
    )


def load_items(text: str) -> tuple[tuple[Busy, ...], tuple[OpenTime, ...]]:
    data = json.loads(text)
    busy = tuple(_converter.structure(b, Busy) for b in data["busy"])
    return busy, tuple(_converter.structure(o, OpenTime) for o in data["open_times"])


def dump_problems(problems: Iterable[Problem | str]) -> str:
    """The log record of a rejected message: its problems (``path: rule``), nothing of the message."""
    return _text({"problems": [str(p) for p in problems]})


def load_record(text: str) -> VisitEvent | tuple[PushedEntry, ...]:
    """A Redox log record: the visit event, or the pushed slots."""
    data = json.loads(text)
    if "visit" in data:
        return _converter.structure(data["visit"], VisitEvent)
    return tuple(_converter.structure(e, PushedEntry) for e in data["pushed"])


# ---- checkpoints ----------------------------------------------------------------------------------


@attrs.frozen
class Checkpoint:
    """The state a purged prefix of the log stood for (already pruned of what ended before the cutoff)."""

    clinic: Clinic | None
    appointments: Mapping[str, Appointment]
    pushed: tuple[PushedEntry, ...]


def dump_checkpoint(checkpoint: Checkpoint) -> str:
    clinic = None if checkpoint.clinic is None else clinic_to_dict(checkpoint.clinic)
    appointments = [_converter.unstructure(checkpoint.appointments[n]) for n in sorted(checkpoint.appointments)]
    return _text({"clinic": clinic, "appointments": appointments, "pushed": _converter.unstructure(checkpoint.pushed)})


def load_checkpoint(text: str) -> Checkpoint:
    data = json.loads(text)
    clinic = None if data["clinic"] is None else load_clinic(data["clinic"])
    appointments = [_converter.structure(a, Appointment) for a in data["appointments"]]
    pushed = tuple(_converter.structure(e, PushedEntry) for e in data["pushed"])
    return Checkpoint(clinic, {a.visit_number: a for a in appointments}, pushed)


# ---- the Reason mapping ---------------------------------------------------------------------------

_REASONS_RULE = "must be a list of visit-type codes or null"


def read_reasons(data: Any) -> ReasonMap:
    """A Reason mapping: each Reason maps to a list of visit-type codes, or null (not bookable).

    Raises :class:`InvalidClinic` with every problem; a Reason is named in a path only when it looks
    like a field name (``$.Blocked``), else the path is the mapping's (``$``).
    """
    root = Reader(data, "$")
    if not isinstance(data, Mapping):
        root.problem("must be an object of Reason -> codes or null")
        root.problems.raise_if_any(InvalidClinic)
    reasons: dict[str, tuple[str, ...] | None] = {}
    for key, codes in data.items():
        entry = Reader(codes, data_key_path(root.path, key), root.problems)
        if not isinstance(key, str):
            root.problem("must have Reason texts as keys")
        elif codes is None:
            reasons[key] = None
        elif isinstance(codes, list) and all(isinstance(c, str) and c.strip() for c in codes):
            reasons[key] = tuple(codes)
        else:
            entry.problem(_REASONS_RULE)
    root.problems.raise_if_any(InvalidClinic)
    return ReasonMap(reasons)


def dump_reasons(reasons: Mapping[str, Any]) -> str:
    """The Reason mapping as stored (its ``reasons`` table row and its log record)."""
    return _text(dict(reasons))
