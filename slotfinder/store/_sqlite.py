"""The calendar store: a clinic loaded once, scheduling events applied in transactions, in SQLite.

* Every message received is kept verbatim in an append-only ``log`` (triggers refuse UPDATE and
  DELETE), with its outcome; the state tables can be rebuilt from it (``replay``/``rebuild``).
* One message, one ``BEGIN IMMEDIATE`` transaction: when ``ingest`` returns, the message and its
  effect are committed (acknowledged) together, or neither is.
* WAL journal, ``synchronous=FULL`` and a busy timeout: several processes may write at once (they
  queue), readers never block writers, and a killed writer loses no committed message.
* ``snapshot`` reads the whole state inside one read transaction: a consistent clinic for the engine.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import attrs
from attrs import frozen

from slotfinder._calendars.clinic_file import clinic_to_dict, load_clinic
from slotfinder._domain import Clinic
from slotfinder._errors import InvalidClinic, InvalidMessage, Problem
from slotfinder._events import SlotsPushed
from slotfinder.redox._events import parse_event
from slotfinder.store._imports import merge_import
from slotfinder.store._records import dump_appointment, dump_pushed, load_appointment, load_pushed
from slotfinder.store._state import (
    Appointment,
    PushedEntry,
    ReasonMap,
    apply_push,
    apply_visit,
    appointment_busy,
    from_busy,
    pushed_items,
)

__all__ = ["CalendarStore", "Ingested", "StoreState", "materialise"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log(
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    kind TEXT NOT NULL,          -- redox | clinic | fhir | ical | reasons
    body TEXT NOT NULL,          -- verbatim
    outcome TEXT NOT NULL        -- applied | rejected
);
CREATE TRIGGER IF NOT EXISTS log_no_update BEFORE UPDATE ON log BEGIN SELECT RAISE(ABORT, 'log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS log_no_delete BEFORE DELETE ON log BEGIN SELECT RAISE(ABORT, 'log is append-only'); END;
CREATE TABLE IF NOT EXISTS clinic(id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reasons(id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS appointments(visit_number TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pushed(id INTEGER PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS anomalies(seq INTEGER NOT NULL, rule TEXT NOT NULL);
"""


@frozen
class Ingested:
    """What became of one message: its log sequence number, whether it applied, and what was odd."""

    seq: int
    applied: bool
    anomalies: tuple[str, ...]


@frozen
class StoreState:
    """The derived state: comparable between the tables and a replay of the log."""

    clinic: Clinic | None
    appointments: dict[str, Appointment]
    pushed: tuple[PushedEntry, ...]


def _now_text() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class _Memory:
    """State being built in Python (for a replay), with the same operations as the tables."""

    def __init__(self) -> None:
        self.clinic: Clinic | None = None
        self.appointments: dict[str, Appointment] = {}
        self.pushed: list[PushedEntry] = []


class CalendarStore:
    """An SQLite calendar store at ``path`` (created when missing)."""

    def __init__(self, path: str | os.PathLike[str], timeout: float = 30.0) -> None:
        self.path = os.fspath(path)
        self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> CalendarStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # ---- writing ------------------------------------------------------------------------------

    def load_clinic(self, source: Mapping[str, Any] | Clinic) -> Ingested:
        """Set the clinic the events apply to (logged like a message)."""
        body = json.dumps(clinic_to_dict(source) if isinstance(source, Clinic) else source, sort_keys=True)
        clinic = load_clinic(json.loads(body))  # raises InvalidClinic before anything is written
        with self._write() as db:
            seq = self._log(db, "clinic", body, "applied")
            db.execute("INSERT OR REPLACE INTO clinic(id, body) VALUES (1, ?)", (json.dumps(clinic_to_dict(clinic)),))
        return Ingested(seq, True, ())

    def set_reasons(self, reasons: Mapping[str, Any]) -> Ingested:
        """Which pushed-slot Reasons are bookable: {"Office Visit": ["210"], "Any": [], "Blocked": null}.

        Logged like a message, so a replay applies each PushSlots with the mapping in force then.
        """
        body = json.dumps(dict(reasons), sort_keys=True)
        _reason_map(body)  # refuse a malformed mapping before anything is written
        with self._write() as db:
            seq = self._log(db, "reasons", body, "applied")
            db.execute("INSERT OR REPLACE INTO reasons(id, body) VALUES (1, ?)", (body,))
        return Ingested(seq, True, ())

    def import_calendar(self, kind: str, body: str) -> Ingested:
        """Merge a FHIR bundle (``kind`` "fhir", its JSON text) or an iCalendar file ("ical", the
        envelope of ``imports.ical_envelope``) into the store's clinic; logged verbatim.

        Raises InvalidClinic (nothing written) when the calendar cannot be read.
        """
        with self._write() as db:
            clinic = self._clinic(db)
            if clinic is None:
                raise InvalidClinic([Problem("$", "no clinic loaded: import a clinic file first")])
            merged, skipped = merge_import(kind, body, clinic)
            seq = self._log(db, kind, body, "applied")
            db.execute("INSERT OR REPLACE INTO clinic(id, body) VALUES (1, ?)", (json.dumps(clinic_to_dict(merged)),))
            db.executemany("INSERT INTO anomalies(seq, rule) VALUES (?, ?)", [(seq, f"skipped: {s}") for s in skipped])
        return Ingested(seq, True, tuple(f"skipped: {s}" for s in skipped))

    def ingest(self, text: str) -> Ingested:
        """Log one Redox scheduling message verbatim and apply it, in one transaction."""
        with self._write() as db:
            try:
                event = parse_event(json.loads(text))
            except json.JSONDecodeError as error:
                return self._reject(
                    db, text, [Problem("$", f"not valid JSON (line {error.lineno}, column {error.colno})")]
                )
            except InvalidMessage as error:
                return self._reject(db, text, list(error.problems))
            clinic = self._clinic(db)
            if clinic is None:
                return self._reject(db, text, [Problem("$", "no clinic loaded: run slotfinder import first")])
            seq = self._log(db, "redox", text, "applied")
            anomalies = self._apply(db, clinic, event)
            db.executemany("INSERT INTO anomalies(seq, rule) VALUES (?, ?)", [(seq, a) for a in anomalies])
        return Ingested(seq, True, tuple(anomalies))

    def _reject(self, db: sqlite3.Connection, text: str, problems: list[Problem]) -> Ingested:
        seq = self._log(db, "redox", text, "rejected")
        rules = [f"rejected: {p}" for p in problems]
        db.executemany("INSERT INTO anomalies(seq, rule) VALUES (?, ?)", [(seq, r) for r in rules])
        return Ingested(seq, False, tuple(rules))

    @staticmethod
    def _log(db: sqlite3.Connection, kind: str, body: str, outcome: str) -> int:
        cursor = db.execute(
            "INSERT INTO log(received_at, kind, body, outcome) VALUES (?, ?, ?, ?)", (_now_text(), kind, body, outcome)
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _apply(self, db: sqlite3.Connection, clinic: Clinic, event: Any) -> list[str]:
        if isinstance(event, SlotsPushed):
            entries = [load_pushed(r) for (r,) in db.execute("SELECT record FROM pushed ORDER BY id")]
            row = db.execute("SELECT body FROM reasons WHERE id = 1").fetchone()
            reasons = _reason_map(row[0]) if row else ReasonMap()
            kept, anomalies = apply_push(entries, event, clinic, reasons)
            db.execute("DELETE FROM pushed")
            db.executemany("INSERT INTO pushed(record) VALUES (?)", [(dump_pushed(e),) for e in kept])
            return anomalies
        numbers = {event.visit_number, event.old_visit_number or event.visit_number}
        known = {n: self._appointment(db, clinic, n) for n in numbers}
        changes, anomalies = apply_visit(known, event, clinic)
        db.executemany(
            "INSERT OR REPLACE INTO appointments(visit_number, record) VALUES (?, ?)",
            [(n, dump_appointment(a)) for n, a in sorted(changes.items())],
        )
        return anomalies

    @staticmethod
    def _appointment(db: sqlite3.Connection, clinic: Clinic, number: str) -> Appointment | None:
        row = db.execute("SELECT record FROM appointments WHERE visit_number = ?", (number,)).fetchone()
        if row is not None:
            return load_appointment(row[0])
        base = next((b for b in clinic.busy if b.visit_number == number), None)
        return from_busy(base) if base is not None else None

    @staticmethod
    def _clinic(db: sqlite3.Connection) -> Clinic | None:
        row = db.execute("SELECT body FROM clinic WHERE id = 1").fetchone()
        return None if row is None else load_clinic(json.loads(row[0]))

    # ---- reading ------------------------------------------------------------------------------

    def state(self) -> StoreState:
        """The state tables, read in one transaction."""
        self._db.execute("BEGIN")
        try:
            clinic = self._clinic(self._db)
            appointments = {
                n: load_appointment(r) for n, r in self._db.execute("SELECT visit_number, record FROM appointments")
            }
            pushed = tuple(load_pushed(r) for (r,) in self._db.execute("SELECT record FROM pushed ORDER BY id"))
        finally:
            self._db.execute("COMMIT")
        return StoreState(clinic, appointments, pushed)

    def snapshot(self) -> Clinic:
        """The clinic with every applied event: one consistent view for the engine."""
        return materialise(self.state())

    def anomalies(self) -> list[tuple[int, str]]:
        """Every recorded anomaly with the log sequence number of its message."""
        return [(int(s), str(r)) for s, r in self._db.execute("SELECT seq, rule FROM anomalies ORDER BY seq, rowid")]

    def log(self) -> list[tuple[int, str, str, str]]:
        """The log: (seq, kind, verbatim body, outcome)."""
        rows = self._db.execute("SELECT seq, kind, body, outcome FROM log ORDER BY seq")
        return [(int(s), str(k), str(b), str(o)) for s, k, b, o in rows]

    def replay(self) -> StoreState:
        """The state computed afresh from the log alone."""
        memory = _Memory()
        reasons = ReasonMap()
        for _, kind, body, outcome in self.log():
            if outcome != "applied":
                continue
            if kind == "reasons":
                reasons = _reason_map(body)
                continue
            if kind == "clinic":
                memory.clinic = load_clinic(json.loads(body))
                continue
            assert memory.clinic is not None  # a message applies only once a clinic is loaded
            if kind in ("fhir", "ical"):
                memory.clinic, _ = merge_import(kind, body, memory.clinic)
                continue
            event = parse_event(json.loads(body))
            if isinstance(event, SlotsPushed):
                memory.pushed, _ = apply_push(memory.pushed, event, memory.clinic, reasons)
                continue
            numbers = {event.visit_number, event.old_visit_number or event.visit_number}
            known = {n: memory.appointments.get(n) or _base(memory.clinic, n) for n in numbers}
            changes, _ = apply_visit(known, event, memory.clinic)
            memory.appointments.update(changes)
        return StoreState(memory.clinic, memory.appointments, tuple(memory.pushed))

    def rebuild(self) -> None:
        """Replace the state tables by a replay of the log."""
        replayed = self.replay()
        with self._write() as db:
            db.execute("DELETE FROM appointments")
            db.execute("DELETE FROM pushed")
            if replayed.clinic is not None:
                body = json.dumps(clinic_to_dict(replayed.clinic))
                db.execute("INSERT OR REPLACE INTO clinic(id, body) VALUES (1, ?)", (body,))
            db.executemany(
                "INSERT INTO appointments(visit_number, record) VALUES (?, ?)",
                [(n, dump_appointment(a)) for n, a in sorted(replayed.appointments.items())],
            )
            db.executemany("INSERT INTO pushed(record) VALUES (?)", [(dump_pushed(e),) for e in replayed.pushed])

    def integrity(self) -> str:
        """SQLite's own integrity check ('ok' when sound)."""
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])


def _reason_map(body: str) -> ReasonMap:
    """A Reason mapping from JSON: each Reason maps to a list of visit-type codes, or null."""
    data = json.loads(body)
    problems = [] if isinstance(data, dict) else [Problem("$", "must be an object of Reason -> codes or null")]
    for key, codes in data.items() if isinstance(data, dict) else []:
        if codes is not None and not (isinstance(codes, list) and all(isinstance(c, str) for c in codes)):
            problems.append(Problem(f"$[{json.dumps(key)}]", "must be a list of visit-type codes or null"))
    if problems:
        raise InvalidClinic(problems)
    return ReasonMap({k: None if v is None else tuple(v) for k, v in data.items()})


def _base(clinic: Clinic, number: str) -> Appointment | None:
    base = next((b for b in clinic.busy if b.visit_number == number), None)
    return from_busy(base) if base is not None else None


def materialise(state: StoreState) -> Clinic:
    """The clinic the engine searches: file busy time, replaced by visit number, plus pushed slots."""
    if state.clinic is None:
        raise InvalidClinic([Problem("$", "no clinic loaded in the store")])
    clinic = state.clinic
    changed = set(state.appointments)
    busy = [b for b in clinic.busy if b.visit_number is None or b.visit_number not in changed]
    for number in sorted(state.appointments):
        busy += appointment_busy(state.appointments[number])
    open_times, pushed_busy = pushed_items(state.pushed)
    return attrs.evolve(clinic, busy=busy + pushed_busy, open_times=clinic.open_times + tuple(open_times))
