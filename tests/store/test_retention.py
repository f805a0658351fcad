"""Retention: ``purge`` forgets log entries received before a cutoff and appointments that ended before it,
behind one checkpoint, so the log still replays to the state; the log refuses any other DELETE."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from slotfinder import demo_clinic
from slotfinder.store import CalendarStore
from slotfinder.store._sqlite import RECENT
from tests.support import EXAMPLES, ROOT

DEMO = ROOT / "slotfinder" / "data" / "demo_clinic.json"
PAST = "2025-10-24T14:30:00Z"  # more than RECENT before the tests run
FUTURE = "2099-10-23T14:30:00Z"


def visit_message(kind: str, number: str, when: str | None = PAST, mrn: str = "MRN-1") -> str:
    """A Redox visit event of Ana at 3N (timed unless ``when`` is None) for the patient ``mrn``."""
    visit: dict[str, Any] = {"VisitNumber": number, "AttendingProvider": {"ID": "1234567890"}}
    if when is not None:
        visit |= {"VisitDateTime": when, "Duration": 30, "Location": {"Department": "3N"}}
    return json.dumps(
        {
            "Meta": {"DataModel": "Scheduling", "EventType": kind},
            "Patient": {"Identifiers": [{"ID": mrn, "IDType": "MR"}]},
            "Visit": visit,
        }
    )


def store_at(tmp_path: Path) -> CalendarStore:
    """A store with the demo clinic."""
    store = CalendarStore(tmp_path / "calendars.db")
    store.load_clinic(demo_clinic())
    return store


def now() -> dt.datetime:
    """The wall clock, UTC."""
    return dt.datetime.now(dt.UTC)


def test_purge_forgets_ended_visits_and_keeps_future_ones(tmp_path: Path) -> None:
    """After a purge of everything received so far, the visit that ended is gone from the state and from
    the file's bytes; the future visit stays; the log is empty behind a checkpoint and still replays."""
    db = tmp_path / "calendars.db"
    with store_at(tmp_path) as store:
        store.ingest(visit_message("New", "V-PAST", PAST, mrn="MRN-PAST-4711"))
        store.ingest(visit_message("New", "V-FUTURE", FUTURE, mrn="MRN-FUTURE-0815"))
        seqs = [e.seq for e in store.log()]
        done = store.purge(now())
        assert (done.through, done.log_entries, done.appointments, done.compacted) == (max(seqs), 3, 1, True)
        assert store.log() == []
        assert store.purged_through() == max(seqs)
        assert set(store.state().appointments) == {"V-FUTURE"}
        assert store.replay() == store.state()
        assert store.state().clinic is not None
        store.ingest(visit_message("Cancel", "V-FUTURE", None))
        assert store.replay() == store.state()
        assert store.state().appointments["V-FUTURE"].status == "cancelled"
    data = db.read_bytes()
    assert b"MRN-PAST-4711" not in data
    assert b"MRN-FUTURE-0815" in data  # the positive control: a kept visit's identifier is in the file


def test_purge_keeps_entries_received_after_the_cutoff(tmp_path: Path) -> None:
    """Only entries received before the cutoff go, with their anomalies; later ones stay after the checkpoint."""
    odd = json.loads(visit_message("New", "V-1"))
    odd["Visit"]["Location"] = {"Department": "Nowhere"}  # an anomaly to purge with its entry
    with store_at(tmp_path) as store:
        first = store.ingest(json.dumps(odd))
        time.sleep(0.01)
        cutoff = now()
        time.sleep(0.01)
        later = store.ingest(json.dumps({**odd, "Visit": {**odd["Visit"], "VisitNumber": "V-2"}}))
        assert {seq for seq, _ in store.anomalies()} == {first.seq, later.seq}
        done = store.purge(cutoff)
        assert done.through == first.seq
        assert [e.seq for e in store.log()] == [later.seq]
        assert {seq for seq, _ in store.anomalies()} == {later.seq}
        assert store.replay() == store.state()
        assert set(store.state().appointments) == {"V-2"}


def test_visits_that_ended_recently_are_kept_whatever_the_cutoff(tmp_path: Path) -> None:
    """What ended within RECENT (this week's booking limits, buffers) survives a purge of everything."""
    yesterday = (now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:00Z")
    with store_at(tmp_path) as store:
        store.ingest(visit_message("New", "V-YESTERDAY", yesterday))
        done = store.purge(now())
        assert dt.datetime.fromisoformat(done.ended_before) <= now() - RECENT
        assert set(store.state().appointments) == {"V-YESTERDAY"}


def test_a_cancelled_visit_stays_freed_after_its_purge(tmp_path: Path) -> None:
    """A cancelled visit that ended is cut down to its number and status: a late New keeps it freed, as
    before the purge; a booked one is forgotten, and a late Cancel of it is an unknown visit's."""
    with store_at(tmp_path) as store:
        for text in (visit_message("New", "V-C"), visit_message("Cancel", "V-C", None), visit_message("New", "V-B")):
            store.ingest(text)
        assert store.purge(now()).appointments == 2
        kept = store.state().appointments
        assert set(kept) == {"V-C"}
        assert (kept["V-C"].status, kept["V-C"].start, kept["V-C"].patients) == ("cancelled", None, ())
        late = store.ingest(visit_message("New", "V-C", FUTURE))
        assert store.state().appointments["V-C"].status == "cancelled"
        assert any("stays freed" in a for a in late.anomalies)
        assert store.replay() == store.state()


def test_a_second_purge_moves_the_checkpoint_forward(tmp_path: Path) -> None:
    """Purging again folds the checkpoint and the newer entries into a new checkpoint."""
    with store_at(tmp_path) as store:
        store.ingest(visit_message("New", "V-1", FUTURE))
        first = store.purge(now()).through
        store.ingest(visit_message("New", "V-2", FUTURE))
        second = store.purge(now())
        assert second.through > first
        assert second.log_entries == 1
        assert set(store.state().appointments) == {"V-1", "V-2"}
        assert store.replay() == store.state()


def test_nothing_to_purge(tmp_path: Path) -> None:
    """A cutoff before every entry changes nothing and says so."""
    with store_at(tmp_path) as store:
        done = store.purge(now() - dt.timedelta(days=1))
        assert (done.through, done.log_entries) == (0, 0)
        assert len(store.log()) == 1


def test_retention_setting_is_the_default_cutoff(tmp_path: Path) -> None:
    """A stored retention period is what purge() applies; it persists; without one purge() needs a cutoff."""
    with store_at(tmp_path) as store:
        with pytest.raises(ValueError, match="no cutoff"):
            store.purge()
        store.set_retention(30)
    with CalendarStore(tmp_path / "calendars.db") as store:
        assert store.retention_days == 30
        done = store.purge()
        expected = now() - dt.timedelta(days=30)
        assert abs(dt.datetime.fromisoformat(done.cutoff) - expected) < dt.timedelta(minutes=1)
        assert done.through == 0  # everything was received just now
        store.set_retention(None)
        assert store.retention_days is None
        for bad in (0, -1, True, 1.5):
            with pytest.raises(ValueError, match="whole number of days"):
                store.set_retention(bad)


def test_a_cutoff_in_the_future_or_without_zone_is_refused(tmp_path: Path) -> None:
    """purge forgets only the past, at an instant with a zone."""
    with store_at(tmp_path) as store:
        with pytest.raises(ValueError, match="future"):
            store.purge(now() + dt.timedelta(hours=1))
        with pytest.raises(ValueError, match="aware"):
            store.purge(dt.datetime(2025, 1, 1))  # noqa: DTZ001
        assert len(store.log()) == 1


def test_the_log_refuses_deletes_a_checkpoint_does_not_stand_for(tmp_path: Path) -> None:
    """Before and after a purge, DELETE of a log entry after the checkpoint is refused; the checkpoint is
    never deleted and never moves back; UPDATE of the log is refused."""
    with store_at(tmp_path) as store:
        store.ingest(visit_message("New", "V-1", FUTURE))
        store.purge(now())
        store.ingest(visit_message("New", "V-2", FUTURE))
    db = sqlite3.connect(tmp_path / "calendars.db")
    for statement in (
        "DELETE FROM log",
        "UPDATE log SET record = '{}'",
        "DELETE FROM checkpoint",
        "UPDATE checkpoint SET through = 0",
    ):
        with pytest.raises(sqlite3.DatabaseError, match=r"append-only|checkpoint"):
            db.execute(statement)
    db.close()


# ---- the command line ---------------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "slotfinder", *args], capture_output=True, text=True, check=False)


def test_purge_command(tmp_path: Path) -> None:
    """purge --before, --older-than and --retention as a user runs them; every problem in one line, exit 2."""
    db = str(tmp_path / "c.db")
    run("import", "--db", db, str(DEMO))
    run("ingest", "--db", db, str(EXAMPLES / "new.json"), str(EXAMPLES / "hold.json"))
    none = run("purge", "--db", db)
    assert none.returncode == 2 and "no cutoff" in none.stderr
    early = run("purge", "--db", db, "--before", "2020-01-01")
    assert early.returncode == 0 and "nothing to purge before 2020-01-01T00:00:00.000+00:00" in early.stdout
    for bad, rule in (
        (["--before", "yesterday"], "--before: must be a date"),
        (["--before", "2999-01-01"], "must not be in the future"),
        (["--older-than", "-1"], "--older-than: must be"),
        (["--retention", "soon"], "--retention: must be"),
    ):
        refused = run("purge", "--db", db, *bad)
        assert refused.returncode == 2 and rule in refused.stderr and "Traceback" not in refused.stderr
    kept = run("purge", "--db", db, "--retention", "30")
    assert kept.returncode == 0 and "retention: 30 days" in kept.stdout and "nothing to purge" in kept.stdout
    done = run("purge", "--db", db, "--older-than", "0")
    assert done.returncode == 0, done.stderr
    assert "purged 3 log entries" in done.stdout and "2 appointment records" in done.stdout
    off = run("purge", "--db", db, "--retention", "off")
    assert (off.returncode, off.stdout) == (0, "retention: off\n")
    with CalendarStore(db) as store:
        assert store.log() == [] and store.retention_days is None
        assert store.replay() == store.state()
    assert run("purge", "--db", str(tmp_path / "missing.db"), "--older-than", "1").returncode == 2
