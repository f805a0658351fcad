"""The calendar store: a clinic loaded once, scheduling events applied in transactions, in SQLite.

* Every message received is logged in an append-only ``log`` with its outcome, as a minimal record:
  what the event fold needs to recompute the state (``_records.py`` says exactly what), and the
  SHA-256 digest of the text received. The text itself is never written: no name, birth date, SSN,
  address, phone number or free text reaches the file. A rejected message is logged as its digest
  and its problems (JSON paths and rules). The state tables can be rebuilt from the log
  (``replay``/``rebuild``).
* One message, one ``BEGIN IMMEDIATE`` transaction: when ``ingest`` returns, the message and its
  effect are committed (acknowledged) together, or neither is.
* WAL journal, ``synchronous=FULL`` and a busy timeout: several processes may write at once (they
  queue), readers never block writers, and a killed writer loses no committed message.
  ``secure_delete`` overwrites deleted content with zeros and temporary tables stay in memory.
* Retention: ``purge`` folds the log entries received before a cutoff into one checkpoint (the state
  they stood for, without the appointments, pushed slots and calendar items that ended before the
  cutoff), deletes them, rebuilds the state tables from checkpoint and log, and compacts the file.
  The log refuses UPDATE always, and DELETE of any entry a checkpoint does not stand for.
* Schema version in ``PRAGMA user_version``: a store of version 0 (verbatim bodies) is migrated when
  opened (``_migrate.py``), then ``VACUUM``-ed and its WAL truncated so the old bytes are gone.
* ``snapshot`` reads the whole state inside one read transaction: a consistent clinic for the engine.
* The ``clinic`` row has a version (``clinic_version`` in ``settings``): triggers set a new random one in the
  transaction that writes the row, whoever writes it. A store opened with a :class:`ClinicCache` (a server's
  worker process) reads that one row in each transaction and reuses the clinic it parsed, and the calendars
  it prepared, for that version (``_cache.py``); ``prepared`` is ``snapshot`` ready for searching.
* ``hold_if_free``/``book_if_free``/``book_held`` (FHIR ``$hold``/``$book``) check that the time is still
  free and write the hold or booking in the same ``BEGIN IMMEDIATE`` transaction (``_reserve.py``): the
  check runs on the state as committed by every earlier writer, in any process, so two clients never both
  get the same time. A refusal writes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import math
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
from slotfinder._events import SlotsPushed, VisitEvent
from slotfinder._limits import depth_rule, resolve
from slotfinder._prepared import PreparedClinic, prepare
from slotfinder.redox._events import parse_event
from slotfinder.store._cache import ClinicCache
from slotfinder.store._imports import add_items, read_import
from slotfinder.store._migrate import VerbatimEntry, migrate_entries
from slotfinder.store._records import (
    Checkpoint,
    digest,
    dump_appointment,
    dump_checkpoint,
    dump_clinic,
    dump_items,
    dump_problems,
    dump_pushed,
    dump_pushed_record,
    dump_reasons,
    dump_visit_record,
    load_appointment,
    load_checkpoint,
    load_clinic_record,
    load_items,
    load_pushed,
    load_record,
    minimal_event,
    read_reasons,
)
from slotfinder.store._reserve import (
    Proposal,
    Reserved,
    clashes,
    dump_reservation,
    free_record,
    load_reservation,
    new_number,
)
from slotfinder.store._retention import pruned
from slotfinder.store._state import (
    BOOKED,
    HELD,
    Appointment,
    PushedEntry,
    ReasonMap,
    StoreState,
    apply_visit,
    from_busy,
    materialise,
    replace_pushed,
    resolve_push,
    utc_text,
)

__all__ = [
    "RECENT",
    "SCHEMA_VERSION",
    "CalendarStore",
    "ClinicCache",
    "Ingested",
    "LogEntry",
    "Purged",
    "StoreState",
    "materialise",
]

SCHEMA_VERSION = 2
"""``PRAGMA user_version`` of the store this code writes; 0 is the verbatim log it migrates. 2 adds ``booking``
log entries and held records (FHIR ``$hold``/``$book``): a 1 is upgraded by setting the number, so that an
older slotfinder, which would ignore holds, refuses the store instead of misreading it."""

APPLIED, REJECTED = "applied", "rejected"
BOOKING = "booking"  # the log kind of a FHIR $hold or $book
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_LAST_SEQ = 2**63 - 1  # the largest SQLite integer
RECENT = dt.timedelta(days=8)
"""What ended this recently is never purged, whatever the cutoff: a booking limit counts the visits of the
current (local, ISO) week, and a visit type's buffer extends a booking by up to a day."""

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS log(
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        received_at TEXT NOT NULL,
        kind TEXT NOT NULL,          -- redox | clinic | fhir | ical | reasons | booking
        digest TEXT NOT NULL,        -- SHA-256 (hex) of the text received
        record TEXT NOT NULL,        -- minimal record (applied) or problems (rejected), canonical JSON
        outcome TEXT NOT NULL        -- applied | rejected
    )""",
    """CREATE TABLE IF NOT EXISTS checkpoint(
        id INTEGER PRIMARY KEY CHECK (id = 1),
        through INTEGER NOT NULL,    -- the last log seq it stands for
        created_at TEXT NOT NULL,
        cutoff TEXT NOT NULL,        -- what ended or was received before this instant is gone
        record TEXT NOT NULL         -- the state at `through`, pruned at the cutoff
    )""",
    """CREATE TRIGGER IF NOT EXISTS log_no_update BEFORE UPDATE ON log
       BEGIN SELECT RAISE(ABORT, 'log is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS log_delete_checkpointed_only BEFORE DELETE ON log
       WHEN OLD.seq > coalesce((SELECT through FROM checkpoint WHERE id = 1), 0)
       BEGIN SELECT RAISE(ABORT, 'log is append-only: only entries a checkpoint stands for may be purged'); END""",
    """CREATE TRIGGER IF NOT EXISTS checkpoint_no_delete BEFORE DELETE ON checkpoint
       BEGIN SELECT RAISE(ABORT, 'the checkpoint stands for purged log entries: it is never deleted'); END""",
    """CREATE TRIGGER IF NOT EXISTS checkpoint_forward BEFORE UPDATE ON checkpoint WHEN NEW.through < OLD.through
       BEGIN SELECT RAISE(ABORT, 'a checkpoint only moves forward'); END""",
    "CREATE TABLE IF NOT EXISTS clinic(id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS reasons(id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS appointments(visit_number TEXT PRIMARY KEY, record TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS pushed(id INTEGER PRIMARY KEY, record TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS anomalies(seq INTEGER NOT NULL, rule TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
_RETENTION, _COMPACT, _VERSION = "retention_days", "compact", "clinic_version"
_NEW_VERSION = "lower(hex(randomblob(16)))"  # 128 random bits: never the version of another row or file
_VERSION_TRIGGERS = {
    f"clinic_version_{event.lower()}": f"""CREATE TRIGGER IF NOT EXISTS clinic_version_{event.lower()}
       AFTER {event} ON clinic
       BEGIN INSERT OR REPLACE INTO settings(key, value) VALUES ('{_VERSION}', {_NEW_VERSION}); END"""
    for event in ("INSERT", "UPDATE", "DELETE")
}
"""A new version of the clinic row in the transaction that writes it (an INSERT OR REPLACE fires the INSERT
trigger), whatever writes it: this code, another process, an older slotfinder, a hand-made SQL statement."""


@frozen
class Ingested:
    """What became of one message: its log sequence number, whether it applied, and what was odd."""

    seq: int
    applied: bool
    anomalies: tuple[str, ...]


@frozen
class LogEntry:
    """One log entry: when, what kind, the digest of the text received, the record kept, the outcome."""

    seq: int
    received_at: str
    kind: str  # redox | clinic | fhir | ical | reasons | booking
    digest: str  # SHA-256, hex
    record: str  # canonical JSON: what replay needs (applied), or {"problems": [...]} (rejected)
    outcome: str  # applied | rejected


@frozen
class Purged:
    """What a purge did: the cutoff of log entries (received before it) and of appointments and calendar
    items (ended before ``ended_before``: the cutoff, or :data:`RECENT` before now if earlier), the last
    log entry the checkpoint now stands for, how many log entries and appointment records (dropped, or cut
    down to number and status) it forgot, and whether the file was compacted (else retried at next open)."""

    cutoff: str
    ended_before: str
    through: int
    log_entries: int
    appointments: int
    compacted: bool


def _now_text() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class _Memory:
    """State being built in Python (for a replay), with the same operations as the tables."""

    def __init__(self, checkpoint: Checkpoint | None = None) -> None:
        self.clinic: Clinic | None = checkpoint.clinic if checkpoint else None
        self.appointments: dict[str, Appointment] = dict(checkpoint.appointments) if checkpoint else {}
        self.pushed: list[PushedEntry] = list(checkpoint.pushed) if checkpoint else []

    def apply(self, kind: str, record: str) -> None:
        """Apply one applied log record."""
        if kind == "reasons":  # pushed slots are logged as resolved: the mapping is not needed again
            return
        if kind == "clinic":
            self.clinic = load_clinic_record(record)
            return
        if kind == BOOKING:  # a FHIR hold or booking: the record it set
            appointment = load_reservation(record)
            self.appointments[appointment.visit_number] = appointment
            return
        assert self.clinic is not None  # a message applies only once a clinic is loaded
        if kind in ("fhir", "ical"):
            self.clinic = add_items(self.clinic, *load_items(record))
            return
        event = load_record(record)
        if not isinstance(event, VisitEvent):
            self.pushed = replace_pushed(self.pushed, event)
            return
        numbers = {event.visit_number, event.old_visit_number or event.visit_number}
        known = {n: self.appointments.get(n) or _base(self.clinic, n) for n in numbers}
        changes, _ = apply_visit(known, event, self.clinic)
        self.appointments.update(changes)

    def state(self) -> StoreState:
        return StoreState(self.clinic, self.appointments, tuple(self.pushed))


class CalendarStore:
    """An SQLite calendar store at ``path`` (created when missing; migrated when of an older schema)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        timeout: float = 30.0,
        *,
        compact: bool = True,
        cache: ClinicCache | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self._compact_on_open = compact  # False: a server's request leaves an owed compaction to a background task
        self._cache = cache  # a long-running process's parsed clinic, reused while its version holds (_cache.py)
        self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            self._db.execute("PRAGMA secure_delete=ON")  # deleted content is overwritten, not left in free pages
            self._db.execute("PRAGMA temp_store=MEMORY")  # no temporary file holds store content
            self._open()
        except BaseException:
            self._db.close()
            raise

    def _open(self) -> None:
        if int(self._db.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION and self._versioned():
            self._compact_if_asked()
            return
        with self._write() as db:  # create, migrate or add the version triggers, once: read again under the lock
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                rule = f"the store has schema version {version}; this slotfinder reads up to {SCHEMA_VERSION}"
                raise InvalidClinic([Problem("$", rule)])
            verbatim = version == 0 and "body" in _columns(db, "log")
            if verbatim:
                db.execute("DROP TRIGGER IF EXISTS log_no_update")
                db.execute("DROP TRIGGER IF EXISTS log_no_delete")
                db.execute("ALTER TABLE log RENAME TO log_verbatim")
            for statement in (*_SCHEMA, *_VERSION_TRIGGERS.values()):
                db.execute(statement)
            # a store made before the triggers has no version yet: give it one
            db.execute(f"INSERT OR IGNORE INTO settings(key, value) VALUES ('{_VERSION}', {_NEW_VERSION})")
            if verbatim:
                self._migrate(db)
            if version != SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        self._compact_if_asked()

    def _versioned(self) -> bool:
        """Whether the clinic row's version triggers exist (a store made before them gets them when opened)."""
        names = tuple(_VERSION_TRIGGERS)
        marks = ", ".join("?" for _ in names)
        query = f"SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})"
        return int(self._db.execute(query, names).fetchone()[0]) == len(names)

    def _compact_if_asked(self) -> None:
        if self._compact_on_open and self._setting(_COMPACT) is not None:
            self._compact()

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Replace the verbatim log by minimal records, rebuild the state from them, and ask for compaction."""
        problems: dict[int, list[str]] = {}
        for seq, rule in db.execute("SELECT seq, rule FROM anomalies ORDER BY seq, rowid"):
            if rule.startswith("rejected: "):
                problems.setdefault(seq, []).append(rule.removeprefix("rejected: "))
        rows = db.execute("SELECT seq, received_at, kind, body, outcome FROM log_verbatim ORDER BY seq").fetchall()
        old = [VerbatimEntry(s, r, k, b, o, tuple(problems.get(s, ()))) for s, r, k, b, o in rows]
        db.executemany(
            "INSERT INTO log(seq, received_at, kind, digest, record, outcome) VALUES (?, ?, ?, ?, ?, ?)",
            [attrs.astuple(e) for e in migrate_entries(old)],
        )
        db.execute("DROP TABLE log_verbatim")
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
            db.execute("DELETE FROM sqlite_sequence WHERE name = 'log_verbatim'")
        self._write_state(db, self._replay(db))
        db.execute("INSERT OR REPLACE INTO settings(key, value) VALUES (?, 'pending')", (_COMPACT,))

    def _compact(self) -> bool:
        """``VACUUM`` and truncate the WAL, so no deleted byte stays in the files; False when the store was busy
        (the request stays recorded and is retried when the store is next opened)."""
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.execute("VACUUM")
            if self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]:
                return False  # a reader holds old frames of the WAL: they stay until it is truncated
            with self._write() as db:
                db.execute("DELETE FROM settings WHERE key = ?", (_COMPACT,))
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError:  # locked by another process beyond the busy timeout
            return False
        return True

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

    def _setting(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    # ---- writing ------------------------------------------------------------------------------

    def load_clinic(self, source: Mapping[str, Any] | Clinic) -> Ingested:
        """Set the clinic the events apply to (logged as the clinic read, with the digest of its JSON)."""
        body = json.dumps(clinic_to_dict(source) if isinstance(source, Clinic) else source, sort_keys=True)
        clinic = load_clinic(json.loads(body))  # raises InvalidClinic before anything is written
        record = dump_clinic(clinic)
        with self._write() as db:
            seq = self._log(db, "clinic", digest(body), record, APPLIED)
            db.execute("INSERT OR REPLACE INTO clinic(id, body) VALUES (1, ?)", (record,))
        return Ingested(seq, True, ())

    def set_reasons(self, reasons: Mapping[str, Any]) -> Ingested:
        """Which pushed-slot Reasons are bookable: {"Office Visit": ["210"], "Any": [], "Blocked": null}.

        Logged like a message. A PushSlots is logged with what the mapping in force then decided for
        each slot, so a later mapping never changes slots already pushed, now or on replay.
        """
        read_reasons(reasons)  # refuse a malformed mapping before anything is written
        body = dump_reasons(reasons)
        with self._write() as db:
            seq = self._log(db, "reasons", digest(body), body, APPLIED)
            db.execute("INSERT OR REPLACE INTO reasons(id, body) VALUES (1, ?)", (body,))
        return Ingested(seq, True, ())

    def import_calendar(self, kind: str, body: str) -> Ingested:
        """Merge a FHIR bundle (``kind`` "fhir", its JSON text) or an iCalendar file ("ical", the
        envelope of ``imports.ical_envelope``) into the store's clinic; logged as the busy and open
        time read from it (never the file's text) with the digest of ``body``.

        Raises InvalidClinic (nothing written) when the calendar cannot be read.
        """
        with self._write() as db:
            clinic = self._clinic(db)
            if clinic is None:
                raise InvalidClinic([Problem("$", "no clinic loaded: import a clinic file first")])
            busy, open_times, skipped = read_import(kind, body, clinic)
            seq = self._log(db, kind, digest(body), dump_items(busy, open_times), APPLIED)
            merged = add_items(clinic, busy, open_times)
            db.execute("INSERT OR REPLACE INTO clinic(id, body) VALUES (1, ?)", (dump_clinic(merged),))
            notes = tuple(f"skipped: {s}" for s in skipped)
            db.executemany("INSERT INTO anomalies(seq, rule) VALUES (?, ?)", [(seq, n) for n in notes])
        return Ingested(seq, True, notes)

    def ingest(self, text: str) -> Ingested:
        """Apply one Redox scheduling message and log its minimal record and digest, in one transaction."""
        received = digest(text)
        with self._write() as db:
            try:
                event = parse_event(json.loads(text))
            except json.JSONDecodeError as error:
                problem = Problem("$", f"not valid JSON (line {error.lineno}, column {error.colno})")
                return self._reject(db, received, [problem])
            except RecursionError:  # nested deeper than the JSON parser goes: past max_depth anyway
                return self._reject(db, received, [Problem("$", f"JSON {depth_rule(resolve(None))}")])
            except InvalidMessage as error:
                return self._reject(db, received, list(error.problems))
            clinic = self._clinic(db)
            if clinic is None:
                return self._reject(db, received, [Problem("$", "no clinic loaded: run slotfinder import first")])
            if isinstance(event, SlotsPushed):
                entries, anomalies = resolve_push(event, clinic, self._reasons(db))
                seq = self._log(db, "redox", received, dump_pushed_record(entries), APPLIED)
                self._push(db, entries)
            else:
                event = minimal_event(event, clinic)  # what is applied is exactly what is logged
                seq = self._log(db, "redox", received, dump_visit_record(event), APPLIED)
                anomalies = self._apply_visit(db, clinic, event)
            db.executemany("INSERT INTO anomalies(seq, rule) VALUES (?, ?)", [(seq, a) for a in anomalies])
        return Ingested(seq, True, tuple(anomalies))

    def _reject(self, db: sqlite3.Connection, received: str, problems: list[Problem]) -> Ingested:
        seq = self._log(db, "redox", received, dump_problems(problems), REJECTED)
        rules = [f"rejected: {p}" for p in problems]
        db.executemany("INSERT INTO anomalies(seq, rule) VALUES (?, ?)", [(seq, r) for r in rules])
        return Ingested(seq, False, tuple(rules))

    @staticmethod
    def _log(db: sqlite3.Connection, kind: str, received: str, record: str, outcome: str) -> int:
        cursor = db.execute(
            "INSERT INTO log(received_at, kind, digest, record, outcome) VALUES (?, ?, ?, ?, ?)",
            (_now_text(), kind, received, record, outcome),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    @staticmethod
    def _reasons(db: sqlite3.Connection) -> ReasonMap:
        row = db.execute("SELECT body FROM reasons WHERE id = 1").fetchone()
        return read_reasons(json.loads(row[0])) if row else ReasonMap()

    @staticmethod
    def _push(db: sqlite3.Connection, entries: list[PushedEntry]) -> None:
        pushed = [load_pushed(r) for (r,) in db.execute("SELECT record FROM pushed ORDER BY id")]
        kept = replace_pushed(pushed, entries)
        db.execute("DELETE FROM pushed")
        db.executemany("INSERT INTO pushed(record) VALUES (?)", [(dump_pushed(e),) for e in kept])

    def _apply_visit(self, db: sqlite3.Connection, clinic: Clinic, event: VisitEvent) -> list[str]:
        numbers = {event.visit_number, event.old_visit_number or event.visit_number}
        known = {n: self._appointment(db, clinic, n) for n in numbers}
        changes, anomalies = apply_visit(known, event, clinic)
        db.executemany(
            "INSERT OR REPLACE INTO appointments(visit_number, record) VALUES (?, ?)",
            [(n, dump_appointment(a)) for n, a in sorted(changes.items())],
        )
        return anomalies

    def _appointment(self, db: sqlite3.Connection, clinic: Clinic, number: str) -> Appointment | None:
        row = db.execute("SELECT record FROM appointments WHERE visit_number = ?", (number,)).fetchone()
        if row is not None:
            return load_appointment(row[0])
        if self._cache is not None:  # the clinic's visit numbers indexed once, not scanned per event
            base = self._cache.visit(clinic, number)
            return from_busy(base) if base is not None else None
        return _base(clinic, number)

    def _clinic(self, db: sqlite3.Connection) -> Clinic | None:
        """The clinic row, parsed: with a cache, only when the row's version is not the one kept (both read in
        the caller's transaction, so they agree)."""

        def read() -> Clinic | None:
            row = db.execute("SELECT body FROM clinic WHERE id = 1").fetchone()
            return None if row is None else load_clinic_record(row[0])

        if self._cache is None:
            return read()
        return self._cache.clinic(_version(db), read)

    def clinic_version(self) -> str | None:
        """The version of the clinic row: a new random text whenever the row is written (None: never written
        since the store was made)."""
        return _version(self._db)

    def clinic(self) -> Clinic | None:
        """The clinic as loaded and imported, without the events applied since (None when none is loaded)."""
        self._db.execute("BEGIN")
        try:
            return self._clinic(self._db)
        finally:
            self._db.execute("COMMIT")

    # ---- FHIR holds and bookings ----------------------------------------------------------------

    def hold_if_free(
        self, proposal: Proposal, until: dt.datetime, received: str = "", now: dt.datetime | None = None
    ) -> Reserved:
        """Hold ``proposal`` until ``until`` when it is free: ``held`` with the new record, or ``taken``.

        ``received`` is the request as received: only its SHA-256 is logged (default: that of the record).
        """
        if until.tzinfo is None:
            raise ValueError("the hold's expiry must be an aware date-time")
        return self._reserve(proposal, new_number(), utc_text(until), received, now or dt.datetime.now(dt.UTC))

    def book_if_free(self, proposal: Proposal, received: str = "", now: dt.datetime | None = None) -> Reserved:
        """Book ``proposal`` when it is free: ``booked`` with the new record, or ``taken`` (nothing written)."""
        return self._reserve(proposal, new_number(), None, received, now or dt.datetime.now(dt.UTC))

    def book_held(self, number: str, received: str = "", now: dt.datetime | None = None) -> Reserved:
        """Book the appointment held as ``number``: ``booked``; ``taken`` when its time is no longer free (a
        lapsed hold is booked if the time is still free) or it is already booked; ``unknown`` when no hold
        of that number was ever written."""
        current = self.appointment(number)
        if current is None or not current.booking or current.start is None or current.end is None:
            return Reserved("unknown")
        if current.status != HELD:
            return Reserved("taken", current)
        assert current.provider_id is not None  # set by every hold
        assert current.location_id is not None
        proposal = Proposal(
            current.start, current.end, current.provider_id, current.location_id, current.visit_type, current.patients
        )
        return self._reserve(proposal, number, None, received, now or dt.datetime.now(dt.UTC), current)

    def _reserve(
        self,
        proposal: Proposal,
        number: str,
        held_until: str | None,
        received: str,
        now: dt.datetime,
        current: Appointment | None = None,
    ) -> Reserved:
        self._db.execute("BEGIN")  # first a read (no lock): most refusals of a race end here
        try:
            free = self._free(self._db, proposal, number, now, current)
        finally:
            self._db.execute("COMMIT")
        if free is None:
            return Reserved("taken", current)
        with self._write() as db:  # then check again and write under the write lock
            free = self._free(db, proposal, number, now, current)
            if free is None or self._appointment_record(db, number) != current:
                return Reserved("taken", current)
            record = attrs.evolve(free, status=HELD if held_until else BOOKED, held_until=held_until)
            text = dump_reservation(record)
            seq = self._log(db, BOOKING, digest(received or text), text, APPLIED)
            db.execute(
                "INSERT OR REPLACE INTO appointments(visit_number, record) VALUES (?, ?)",
                (number, dump_appointment(record)),
            )
        return Reserved(record.status, record, seq)

    def _free(
        self, db: sqlite3.Connection, proposal: Proposal, number: str, now: dt.datetime, current: Appointment | None
    ) -> Appointment | None:
        appointments = self._appointments(db)
        if clashes(appointments, proposal, utc_text(now), number):  # the usual refusal: no clinic to read
            return None
        room = current.room if current else None  # a hold booked keeps its room when it can
        cache = self._cache
        searched = None if cache is None else cache.prepared  # the calendars prepared once, as a query's
        return free_record(self._state(db, appointments), proposal, number, now, room, searched)

    @staticmethod
    def _appointment_record(db: sqlite3.Connection, number: str) -> Appointment | None:
        row = db.execute("SELECT record FROM appointments WHERE visit_number = ?", (number,)).fetchone()
        return None if row is None else load_appointment(row[0])

    # ---- retention ----------------------------------------------------------------------------

    @property
    def retention_days(self) -> int | None:
        """The store's retention period in days (None: kept until purged with an explicit cutoff)."""
        value = self._setting(_RETENTION)
        return None if value is None else int(value)

    def set_retention(self, days: int | None) -> None:
        """Set (or, with None, clear) the retention period ``purge`` applies when given no cutoff."""
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 1):
            raise ValueError("retention must be a whole number of days, at least 1")
        with self._write() as db:
            if days is None:
                db.execute("DELETE FROM settings WHERE key = ?", (_RETENTION,))
            else:
                db.execute("INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", (_RETENTION, str(days)))

    def purge(self, before: dt.datetime | None = None) -> Purged:
        """Forget what is older than ``before`` (default: now minus the retention period).

        The log entries received before the cutoff, and their anomalies, are replaced by one checkpoint:
        the state they stood for, without the appointments (and clinic busy time, open time and pushed
        slots) that ended before the cutoff (a cancelled or rescheduled visit keeps its number and
        status only). The state tables are then rebuilt from the checkpoint and the entries kept, so
        ``replay()`` still equals ``state()``, and the file is compacted. An entry received after the
        cutoff keeps what it says, even about a visit that ended before. The cutoff may not be in the
        future, and what ended in the last :data:`RECENT` (8 days) is kept whatever the cutoff: what a
        search can see (time from now on, this week's booking limits, buffers) is the same after a purge.
        """
        now = dt.datetime.now(dt.UTC)
        if before is None:
            days = self.retention_days
            if days is None:
                raise ValueError("no cutoff: give one, or set a retention period")
            before = now - dt.timedelta(days=days)
        if before.tzinfo is None:
            raise ValueError("the cutoff must be an aware date-time")
        if before > now:
            raise ValueError("the cutoff must not be in the future: purge forgets only the past")
        cutoff = before.astimezone(dt.UTC).isoformat(timespec="milliseconds")
        ended_before = min(before, now - RECENT)
        minute = math.floor((ended_before - _EPOCH).total_seconds() / 60)
        with self._write() as db:
            (last,) = db.execute("SELECT max(seq) FROM log WHERE received_at < ?", (cutoff,)).fetchone()
            previous = _through(db)
            through = max(last or 0, previous)
            if not through:
                return Purged(cutoff, cutoff, 0, 0, 0, compacted=False)
            checkpoint, forgotten = pruned(self._replay(db, until=through), minute)
            values = (through, _now_text(), cutoff, dump_checkpoint(checkpoint))
            if previous:
                db.execute(
                    "UPDATE checkpoint SET through = ?, created_at = ?, cutoff = ?, record = ? WHERE id = 1", values
                )
            else:
                db.execute(
                    "INSERT INTO checkpoint(id, through, created_at, cutoff, record) VALUES (1, ?, ?, ?, ?)", values
                )
            removed = db.execute("DELETE FROM log WHERE seq <= ?", (through,)).rowcount
            db.execute("DELETE FROM anomalies WHERE seq <= ?", (through,))
            self._write_state(db, self._replay(db))
            db.execute("INSERT OR REPLACE INTO settings(key, value) VALUES (?, 'pending')", (_COMPACT,))
        ended = ended_before.astimezone(dt.UTC).isoformat(timespec="milliseconds")
        return Purged(cutoff, ended, through, removed, forgotten, self._compact())

    def purged_through(self) -> int:
        """The last log sequence number a checkpoint stands for (0: never purged)."""
        return _through(self._db)

    # ---- reading ------------------------------------------------------------------------------

    def state(self) -> StoreState:
        """The state tables, read in one transaction."""
        self._db.execute("BEGIN")
        try:
            return self._state(self._db)
        finally:
            self._db.execute("COMMIT")

    def _state(self, db: sqlite3.Connection, appointments: dict[str, Appointment] | None = None) -> StoreState:
        clinic = self._clinic(db)
        appointments = self._appointments(db) if appointments is None else appointments
        rows = (r for (r,) in db.execute("SELECT record FROM pushed ORDER BY id"))
        pushed = tuple(load_pushed(r) for r in rows) if self._cache is None else self._cache.pushed(rows)
        return StoreState(clinic, appointments, pushed)

    def _appointments(self, db: sqlite3.Connection) -> dict[str, Appointment]:
        rows = db.execute("SELECT visit_number, record FROM appointments")
        if self._cache is not None:
            return self._cache.appointments(rows)
        return {n: load_appointment(r) for n, r in rows}

    def has_clinic(self) -> bool:
        """Whether a clinic is loaded: one row looked up, cheap enough for a frequent readiness probe."""
        return self._db.execute("SELECT 1 FROM clinic WHERE id = 1").fetchone() is not None

    def snapshot(self, now: dt.datetime | None = None) -> Clinic:
        """The clinic with every applied event: one consistent view for the engine (holds as at ``now``,
        default the wall clock: a lapsed hold is free)."""
        return materialise(self.state(), now)

    def prepared(self, now: dt.datetime | None = None) -> PreparedClinic:
        """:meth:`snapshot` prepared for searching (``slotfinder.prepare``): the same calendars, so the same
        answers. With a cache, what was prepared from the same clinic version is reused (``_cache.py``)."""
        at = now or dt.datetime.now(dt.UTC)
        state = self.state()
        if state.clinic is None or self._cache is None:
            return prepare(materialise(state, at))  # no clinic: InvalidClinic, as from snapshot
        return self._cache.prepared(state, at)

    def appointment(self, number: str) -> Appointment | None:
        """The record of one visit number (None when the store has none)."""
        row = self._db.execute("SELECT record FROM appointments WHERE visit_number = ?", (number,)).fetchone()
        return None if row is None else load_appointment(row[0])

    def anomalies(self) -> list[tuple[int, str]]:
        """Every recorded anomaly with the log sequence number of its message."""
        return [(int(s), str(r)) for s, r in self._db.execute("SELECT seq, rule FROM anomalies ORDER BY seq, rowid")]

    def log(self) -> list[LogEntry]:
        """The log entries kept (those after the checkpoint, when the store was purged), in order."""
        rows = self._db.execute("SELECT seq, received_at, kind, digest, record, outcome FROM log ORDER BY seq")
        return [LogEntry(int(s), str(t), str(k), str(d), str(r), str(o)) for s, t, k, d, r, o in rows]

    def entry(self, seq: int) -> LogEntry | None:
        """One log entry by its sequence number (None when purged or never written)."""
        row = self._db.execute(
            "SELECT seq, received_at, kind, digest, record, outcome FROM log WHERE seq = ?", (seq,)
        ).fetchone()
        if row is None:
            return None
        s, when, kind, digest, record, outcome = row
        return LogEntry(int(s), str(when), str(kind), str(digest), str(record), str(outcome))

    def replay(self) -> StoreState:
        """The state computed afresh from the checkpoint (if any) and the log alone."""
        self._db.execute("BEGIN")
        try:
            return self._replay(self._db)
        finally:
            self._db.execute("COMMIT")

    @staticmethod
    def _replay(db: sqlite3.Connection, until: int | None = None) -> StoreState:
        row = db.execute("SELECT through, record FROM checkpoint WHERE id = 1").fetchone()
        memory = _Memory(load_checkpoint(row[1]) if row else None)
        rows = db.execute(
            "SELECT kind, record FROM log WHERE seq > ? AND seq <= ? AND outcome = ? ORDER BY seq",
            (row[0] if row else 0, _LAST_SEQ if until is None else until, APPLIED),
        ).fetchall()
        for kind, record in rows:
            memory.apply(kind, record)
        return memory.state()

    def rebuild(self) -> None:
        """Replace the state tables by a replay of the log."""
        with self._write() as db:
            self._write_state(db, self._replay(db))

    @staticmethod
    def _write_state(db: sqlite3.Connection, state: StoreState) -> None:
        db.execute("DELETE FROM appointments")
        db.execute("DELETE FROM pushed")
        if state.clinic is None:
            db.execute("DELETE FROM clinic")
        else:
            db.execute("INSERT OR REPLACE INTO clinic(id, body) VALUES (1, ?)", (dump_clinic(state.clinic),))
        db.executemany(
            "INSERT INTO appointments(visit_number, record) VALUES (?, ?)",
            [(n, dump_appointment(a)) for n, a in sorted(state.appointments.items())],
        )
        db.executemany("INSERT INTO pushed(record) VALUES (?)", [(dump_pushed(e),) for e in state.pushed])

    def integrity(self) -> str:
        """SQLite's own integrity check ('ok' when sound)."""
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {str(row[1]) for row in db.execute(f"PRAGMA table_info({table})")}


def _version(db: sqlite3.Connection) -> str | None:
    row = db.execute("SELECT value FROM settings WHERE key = ?", (_VERSION,)).fetchone()
    return None if row is None else str(row[0])


def _through(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT through FROM checkpoint WHERE id = 1").fetchone()
    return 0 if row is None else int(row[0])


def _base(clinic: Clinic, number: str) -> Appointment | None:
    base = next((b for b in clinic.busy if b.visit_number == number), None)
    return from_busy(base) if base is not None else None
