"""Migrating a store whose log kept every message verbatim (schema version 0) to minimal records (version 1).

Each logged body is read again, in log order, exactly as the store reads a new message: an applied
message becomes the record replay needs (with the clinic and Reason mapping in force at its place in
the log), a rejected one its problems (those recorded with it). The verbatim text is replaced by its
SHA-256 digest. An applied body that can no longer be read (a parser changed since) is kept as
rejected, with a rule saying so, and no longer counts towards the state.

The SQL (renaming the old table, rebuilding the state, ``VACUUM``) is the store's: see ``_sqlite.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from attrs import frozen

from slotfinder._domain import Clinic
from slotfinder._errors import Problem, SlotfinderError
from slotfinder._events import SlotsPushed
from slotfinder.redox._events import parse_event
from slotfinder.store._imports import add_items, read_import
from slotfinder.store._records import (
    digest,
    dump_clinic,
    dump_items,
    dump_problems,
    dump_pushed_record,
    dump_reasons,
    dump_visit_record,
    load_clinic_record,
    minimal_event,
    read_reasons,
)
from slotfinder.store._state import ReasonMap, resolve_push

__all__ = ["UNREADABLE", "MigratedEntry", "VerbatimEntry", "migrate_entries"]

UNREADABLE = "could not be read again when the log was migrated (no longer applied)"
_APPLIED, _REJECTED = "applied", "rejected"


@frozen
class VerbatimEntry:
    """A log row of schema version 0, with the problems recorded when it was rejected."""

    seq: int
    received_at: str
    kind: str
    body: str
    outcome: str
    problems: tuple[str, ...] = ()


@frozen
class MigratedEntry:
    """The same row in schema version 1."""

    seq: int
    received_at: str
    kind: str
    digest: str
    record: str
    outcome: str


class _Reading:
    """The clinic and Reason mapping in force so far, as the old log is read in order."""

    def __init__(self) -> None:
        self.clinic: Clinic | None = None
        self.reasons = ReasonMap()

    def record(self, kind: str, body: str) -> str:
        """The record of an applied body (raises when it cannot be read)."""
        if kind == "clinic":
            self.clinic = load_clinic_record(body)
            return dump_clinic(self.clinic)
        if kind == "reasons":
            mapping = json.loads(body)
            self.reasons = read_reasons(mapping)
            return dump_reasons(mapping)
        if self.clinic is None:
            raise ValueError("no clinic")
        if kind in ("fhir", "ical"):
            busy, open_times, _ = read_import(kind, body, self.clinic)
            self.clinic = add_items(self.clinic, busy, open_times)
            return dump_items(busy, open_times)
        event = parse_event(json.loads(body))
        if isinstance(event, SlotsPushed):
            entries, _ = resolve_push(event, self.clinic, self.reasons)
            return dump_pushed_record(entries)
        return dump_visit_record(minimal_event(event, self.clinic))


def migrate_entries(entries: Iterable[VerbatimEntry]) -> list[MigratedEntry]:
    """The rows of a version-0 log as version-1 rows (same sequence numbers and times)."""
    reading = _Reading()
    migrated = []
    for entry in entries:
        outcome, record = entry.outcome, dump_problems(entry.problems)
        if entry.outcome == _APPLIED:
            try:
                record = reading.record(entry.kind, entry.body)
            except (SlotfinderError, ValueError, KeyError, TypeError):
                outcome, record = _REJECTED, dump_problems([Problem("$", UNREADABLE)])
        migrated.append(MigratedEntry(entry.seq, entry.received_at, entry.kind, digest(entry.body), record, outcome))
    return migrated
