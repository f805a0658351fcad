"""Opening a store of the old schema (every message kept verbatim) migrates it in place: minimal records
and digests instead of bodies, the state rebuilt from them, and the old bytes gone from the files."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from slotfinder import demo_clinic
from slotfinder._calendars.clinic_file import clinic_to_dict
from slotfinder._errors import InvalidClinic
from slotfinder.store import CalendarStore
from slotfinder.store._imports import ical_envelope
from slotfinder.store._migrate import UNREADABLE
from slotfinder.store._sqlite import SCHEMA_VERSION
from tests.store.test_privacy import ICS, applied_messages, planted_in, rejected_texts
from tests.support import example

# The schema of stores written before schema version 1 (PRAGMA user_version 0), as they were created.
OLD_SCHEMA = """
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
RECEIVED = "2025-10-20T09:00:00.000+00:00"
SENTINEL_REASON = "ZQX free-text reason 13"  # the old appointments table kept the Reason text


def old_bodies() -> list[tuple[str, str, str]]:
    """(kind, verbatim body, outcome) of an old log: a clinic, Reasons, valid and rejected messages full of
    sentinels, an .ics with a SUMMARY, and an applied body this parser no longer reads."""
    clinic = json.dumps(clinic_to_dict(demo_clinic()), sort_keys=True)
    first, last = dt.date(2025, 10, 1), dt.date(2025, 10, 31)
    envelope = ical_envelope(ICS, "ana.ics", "res-3n", "1234567890", None, first, last)
    teleport = json.dumps({"Meta": {"DataModel": "Scheduling", "EventType": "Teleport"}, "Visit": {}})
    return [
        ("clinic", clinic, "applied"),
        ("reasons", json.dumps({"Blocked": ["210"]}), "applied"),
        *(("redox", json.dumps(m), "applied") for m in applied_messages()),
        ("redox", rejected_texts()[0], "rejected"),
        ("redox", rejected_texts()[-1], "rejected"),
        ("ical", envelope, "applied"),
        ("redox", json.dumps(example("pushslots.json")), "applied"),
        ("redox", teleport, "applied"),
    ]


def write_old_store(path: Path) -> sqlite3.Connection:
    """An old-schema store as the old code left it, in WAL mode; the connection is returned open and idle,
    with the writes still in its WAL (no checkpoint), as another process might hold it."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.executescript(OLD_SCHEMA)
    for kind, body, outcome in old_bodies():
        seq = db.execute(
            "INSERT INTO log(received_at, kind, body, outcome) VALUES (?, ?, ?, ?)", (RECEIVED, kind, body, outcome)
        ).lastrowid
        if outcome == "rejected":
            db.execute(
                "INSERT INTO anomalies(seq, rule) VALUES (?, ?)", (seq, "rejected: $.Visit.VisitNumber: is required")
            )
    db.execute("INSERT INTO clinic(id, body) VALUES (1, ?)", (old_bodies()[0][1],))
    old_record = {"visit_number": "ZV-1", "status": "rescheduled", "reason": SENTINEL_REASON, "patients": []}
    db.execute("INSERT INTO appointments(visit_number, record) VALUES ('ZV-1', ?)", (json.dumps(old_record),))
    return db


def store_bytes(path: Path) -> dict[str, bytes]:
    """The bytes of the database, WAL and shared-memory files that exist."""
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    return {f.name: f.read_bytes() for f in files if f.exists()}


def test_old_store_holds_the_sentinels_before_migration(tmp_path: Path) -> None:
    """The premise: the old store's files carry the planted values (in the WAL, not yet checkpointed)."""
    path = tmp_path / "old.db"
    old = write_old_store(path)
    found = {name: planted_in(data) for name, data in store_bytes(path).items()}
    old.close()
    assert found[path.name + "-wal"]


def test_opening_an_old_store_migrates_it_and_leaves_no_old_byte(tmp_path: Path) -> None:
    """The new code opens the old store (another connection still open on it): schema version 1, one
    entry per old entry with the digest of its body, the same outcomes (a body no longer readable is
    rejected), the state rebuilt from the records, and no planted value in any file, open or closed."""
    path = tmp_path / "old.db"
    old = write_old_store(path)
    bodies = old_bodies()
    with CalendarStore(path) as store:
        log = store.log()
        assert [e.digest for e in log] == [hashlib.sha256(b.encode()).hexdigest() for _, b, _ in bodies]
        assert [e.received_at for e in log] == [RECEIVED] * len(bodies)
        assert [e.outcome for e in log] == [o for *_, o in bodies[:-1]] + ["rejected"]
        assert json.loads(log[-1].record) == {"problems": [f"$: {UNREADABLE}"]}
        assert json.loads(log[8].record) == {"problems": ["$.Visit.VisitNumber: is required"]}
        state = store.state()
        assert store.replay() == state
        assert state.appointments["ZV-2"].status == "booked"  # rebuilt from the records, not the old table
        assert "ZV-1" in state.appointments and state.appointments["ZV-1"].status == "rescheduled"
        assert {e.slot_id: e.bookable for e in state.pushed} == {"s-1": True, "s-2": True, "zs-1": False, "zs-2": True}
        assert any(b.visit_number == "ana-visit@example.org" for b in store.snapshot().busy)
        assert {name: planted_in(data) for name, data in store_bytes(path).items()} == {
            name: [] for name in store_bytes(path)
        }
        assert b"Reason" not in path.read_bytes() and SENTINEL_REASON.encode() not in path.read_bytes()
    assert old.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        old.execute("DELETE FROM log")
    old.close()
    assert all(planted_in(data) == [] for data in store_bytes(path).values())


def test_a_migrated_store_opens_again_unchanged(tmp_path: Path) -> None:
    """Migration happens once: opening the migrated store again changes neither log nor state."""
    path = tmp_path / "old.db"
    write_old_store(path).close()
    with CalendarStore(path) as store:
        log, state = store.log(), store.state()
    with CalendarStore(path) as store:
        assert (store.log(), store.state()) == (log, state)


def test_a_store_of_a_newer_schema_is_refused(tmp_path: Path) -> None:
    """A store written by a newer slotfinder is named, not misread."""
    path = tmp_path / "new.db"
    CalendarStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(InvalidClinic, match="schema version"):
        CalendarStore(path)
