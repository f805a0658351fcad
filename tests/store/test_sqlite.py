"""The SQLite calendar store: minimal log, transactions, crash safety, two writers, consistent snapshots."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from slotfinder import Clinic, Settings, SlotRequest, VisitTypeFilter, demo_clinic, find_slots_redox, list_candidates
from slotfinder._calendars import zones
from slotfinder.store._sqlite import CalendarStore
from tests.support import example, seed

ANA = "1234567890"
CHICAGO = "America/Chicago"
DAY = dt.date(2025, 10, 24)


def store_with_demo(tmp_path: Path) -> CalendarStore:
    store = CalendarStore(tmp_path / "calendars.db")
    store.load_clinic(demo_clinic())
    return store


def ana_starts(clinic: Clinic) -> set[int]:
    """Ana's open Office Visit starts on 2025-10-24 (her whole morning)."""
    start = zones.instant_of(CHICAGO, DAY, 0)
    request = SlotRequest(start=start, end=start + 1440, visit_types=[VisitTypeFilter("210", "DNER15")])
    found = list_candidates(clinic, request, now=start)
    return {c.start for c in found if c.provider_id == ANA}


def test_examples_exclude_exactly_the_booked_and_held_times(tmp_path: Path) -> None:
    """After the example booking (14:30Z, 30 min) and hold (16:00Z, 60 min), exactly the starts whose
    visit would overlap them are gone; every other start of Ana's morning stays."""
    with store_with_demo(tmp_path) as store:
        before = ana_starts(store.snapshot())
        for name in ("new.json", "hold.json"):
            assert store.ingest(json.dumps(example(name))).applied
        after = ana_starts(store.snapshot())
    booked = [(zones.instant_of("UTC", DAY, 14 * 60 + 30), 30), (zones.instant_of("UTC", DAY, 16 * 60), 60)]
    overlapping = {s for s in before for b, d in booked if s < b + d and b < s + 30}
    assert overlapping  # the examples fall in Ana's template time
    assert after == before - overlapping


def test_answer_after_ingest_skips_booked_time(tmp_path: Path) -> None:
    """End to end: the seed's request answered from the store never offers 14:30Z or 16:00-17:00Z."""
    with store_with_demo(tmp_path) as store:
        store.ingest(json.dumps(example("new.json")))
        store.ingest(json.dumps(example("hold.json")))
        settings = Settings(limit=40, per_day=40, per_provider_day=40)
        slots = find_slots_redox(seed(), store.snapshot(), settings).slots
    taken = {s.start_utc.strftime("%Y-%m-%dT%H:%M") for s in slots}
    assert "2025-10-24T14:30" not in taken
    assert not any("2025-10-24T16:00" <= t < "2025-10-24T17:00" for t in taken)
    assert "2025-10-24T15:00" in taken


def test_log_keeps_a_digest_and_a_minimal_record_of_every_message_even_rejected(tmp_path: Path) -> None:
    """Received text is kept as its SHA-256 digest and the record the fold needs (not the text); a bad
    message is logged as its digest and problems, rejected and reported."""
    text = json.dumps(example("new.json"), indent=3)
    bad_text = '{"Meta": {"DataModel": "Scheduling", "EventType": "Teleport"}}'
    with store_with_demo(tmp_path) as store:
        store.ingest(text)
        bad = store.ingest(bad_text)
        log = store.log()
        anomalies = store.anomalies()
    assert log[1].digest == hashlib.sha256(text.encode()).hexdigest()
    visit = json.loads(log[1].record)["visit"]
    assert visit["visit_number"] == "V-20251024-0001"
    assert visit["patients"] == [{"id": "0000000001", "id_type": "MR"}]
    assert visit["reason"] == "210"  # "Office Visit" kept only as the clinic's visit-type code it names
    assert "type" not in visit["location"] and "old_start" not in visit
    assert not bad.applied
    assert (log[2].outcome, log[2].digest) == ("rejected", hashlib.sha256(bad_text.encode()).hexdigest())
    assert json.loads(log[2].record) == {"problems": [rule.removeprefix("rejected: ") for rule in bad.anomalies]}
    assert any("EventType" in rule for seq, rule in anomalies if seq == bad.seq)


def test_log_is_append_only(tmp_path: Path) -> None:
    """UPDATE and DELETE on the log are refused by the database itself."""
    with store_with_demo(tmp_path):
        pass
    db = sqlite3.connect(tmp_path / "calendars.db")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM log")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE log SET record = ''")


def test_same_message_twice_changes_nothing(tmp_path: Path) -> None:
    """Idempotent: the state after a message twice equals the state after it once."""
    with store_with_demo(tmp_path) as store:
        store.ingest(json.dumps(example("new.json")))
        once = store.state()
        store.ingest(json.dumps(example("new.json")))
        assert store.state() == once


def test_replay_and_rebuild(tmp_path: Path) -> None:
    """The log alone rebuilds the same state; rebuild rewrites the tables to it."""
    with store_with_demo(tmp_path) as store:
        for name in ("new.json", "hold.json", "pushslots.json"):
            store.ingest(json.dumps(example(name)))
        cancel = {"Meta": {"DataModel": "Scheduling", "EventType": "Cancel"}, "Visit": {"VisitNumber": "H-77"}}
        store.ingest(json.dumps(cancel))
        assert store.replay() == store.state()
        snapshot = store.snapshot()
        store.rebuild()
        assert store.snapshot() == snapshot


def test_cancel_of_a_file_booking_frees_it(tmp_path: Path) -> None:
    """Events apply by visit number to bookings that came with the clinic file too."""
    clinic = demo_clinic()
    booking = next(b for b in clinic.busy if b.visit_number and b.provider_id == ANA and b.patients)
    cancel = {
        "Meta": {"DataModel": "Scheduling", "EventType": "Cancel"},
        "Visit": {"VisitNumber": booking.visit_number},
    }
    with store_with_demo(tmp_path) as store:
        assert booking in store.snapshot().busy
        store.ingest(json.dumps(cancel))
        assert booking not in store.snapshot().busy


def test_ingest_before_any_clinic_is_rejected_not_lost(tmp_path: Path) -> None:
    """A message with no clinic to apply to is logged (its digest, as rejected) and reported."""
    with CalendarStore(tmp_path / "empty.db") as store:
        done = store.ingest(json.dumps(example("new.json")))
        assert not done.applied
        [entry] = store.log()
    assert entry.digest == hashlib.sha256(json.dumps(example("new.json")).encode()).hexdigest()
    assert json.loads(entry.record) == {"problems": ["$: no clinic loaded: run slotfinder import first"]}


def test_no_patient_data_in_anomalies(tmp_path: Path) -> None:
    """Anomalies name visits and rules, never the patient."""
    message = example("new.json")
    message["Visit"]["Location"] = {"Department": "Nowhere"}
    message["Patient"]["Demographics"] = {"FirstName": "Timothy", "LastName": "Bixby"}
    with store_with_demo(tmp_path) as store:
        store.ingest(json.dumps(message))
        text = " ".join(rule for _, rule in store.anomalies())
    assert "location" in text
    assert "Bixby" not in text
    assert "0000000001" not in text


# ---- processes ---------------------------------------------------------------------------------

WRITER = """
import json, sys
from slotfinder.store._sqlite import CalendarStore
store = CalendarStore(sys.argv[1])
for i in range(int(sys.argv[2]), int(sys.argv[3])):
    message = {"Meta": {"DataModel": "Scheduling", "EventType": "New"},
               "Visit": {"VisitNumber": f"W-{i}", "VisitDateTime": "2025-10-27T15:00:00Z", "Duration": 15,
                         "AttendingProvider": {"ID": "1234567890"}, "Location": {"Department": "3N"}}}
    done = store.ingest(json.dumps(message))
    print(f"ack W-{i} {done.seq}", flush=True)
"""


def _writer(db: Path, first: int, last: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), str(first), str(last)], stdout=subprocess.PIPE, text=True
    )


def test_writer_killed_mid_batch_loses_no_acknowledged_event(tmp_path: Path) -> None:
    """Kill -9 a writer in the middle of a batch: every event it acknowledged is there, nothing is corrupt."""
    with store_with_demo(tmp_path) as store:
        pass
    db = tmp_path / "calendars.db"
    writer = _writer(db, 0, 100000)
    acknowledged = []
    assert writer.stdout is not None
    for line in writer.stdout:
        acknowledged.append(line.split()[1])
        if len(acknowledged) >= 40:
            os.kill(writer.pid, signal.SIGKILL)
            break
    writer.wait()
    writer.stdout.close()
    with CalendarStore(db) as store:
        assert store.integrity() == "ok"
        logged = {json.loads(e.record)["visit"]["visit_number"] for e in store.log() if e.kind == "redox"}
        assert set(acknowledged) <= logged
        assert set(store.state().appointments) == logged  # each logged message was applied with it
        assert store.replay() == store.state()


def test_two_processes_writing_at_once(tmp_path: Path) -> None:
    """Two writers at once: both complete (WAL, busy timeout), every message applied exactly once."""
    with store_with_demo(tmp_path):
        pass
    db = tmp_path / "calendars.db"
    writers = [_writer(db, 0, 60), _writer(db, 60, 120)]
    for w in writers:
        out, _ = w.communicate(timeout=120)
        assert w.returncode == 0
        assert out.count("ack") == 60
    with CalendarStore(db) as store:
        assert len(store.state().appointments) == 120
        assert len({entry.seq for entry in store.log()}) == 121


def _read_while_writing(db: str, rounds: int, queue: multiprocessing.Queue[bool]) -> None:
    with CalendarStore(db) as store:
        consistent = True
        for _ in range(rounds):
            state = store.state()
            clinic = store.snapshot()
            consistent &= state.clinic is not None and len(clinic.busy) >= len(state.clinic.busy)
            time.sleep(0.001)
        queue.put(consistent)


def test_snapshot_reads_while_a_writer_writes(tmp_path: Path) -> None:
    """A reader takes snapshots while another process writes: never an error, always a whole state."""
    with store_with_demo(tmp_path):
        pass
    db = tmp_path / "calendars.db"
    writer = _writer(db, 0, 80)
    queue: multiprocessing.Queue[bool] = multiprocessing.get_context("spawn").Queue()
    reader = multiprocessing.get_context("spawn").Process(target=_read_while_writing, args=(str(db), 30, queue))
    reader.start()
    writer.communicate(timeout=120)
    reader.join(timeout=120)
    assert reader.exitcode == 0
    assert queue.get(timeout=5)


def test_reason_mapping_is_logged_and_replayed(tmp_path: Path) -> None:
    """A Reason mapping set in the store decides bookability of pushed slots, now and on replay;
    without it the example's "Blocked" slot is not bookable and reported as unmapped."""
    with store_with_demo(tmp_path) as store:
        unmapped = store.ingest(json.dumps(example("pushslots.json")))
        assert any("s-2" in a for a in unmapped.anomalies)
        store.set_reasons({"Blocked": ["210"]})  # this integration really books "Blocked" slots
        store.ingest(json.dumps(example("pushslots.json")))
        pushed = {e.slot_id: e.bookable for e in store.state().pushed}
        assert pushed == {"s-1": True, "s-2": True}
        assert store.replay() == store.state()


def test_malformed_reason_mapping_is_refused(tmp_path: Path) -> None:
    """A mapping whose values are not code lists or null is refused before anything is written."""
    from slotfinder._errors import InvalidClinic

    with store_with_demo(tmp_path) as store:
        count = len(store.log())
        with pytest.raises(InvalidClinic, match="list of visit-type codes"):
            store.set_reasons({"Blocked": "210"})
        assert len(store.log()) == count


def test_reconcile_against_a_fhir_slot_bundle(tmp_path: Path) -> None:
    """The store's own FHIR export agrees with it; a busy Slot dropped from it, or an extra one, is listed."""
    from slotfinder.fhir import write_clinic_bundle
    from slotfinder.store._reconcile import reconcile_fhir

    first, last = dt.date(2025, 10, 20), dt.date(2025, 10, 31)
    window = (zones.instant_of(CHICAGO, first, 0), zones.instant_of(CHICAGO, last, 1440))
    with store_with_demo(tmp_path) as store:
        store.ingest(json.dumps(example("new.json")))
        clinic = store.snapshot()
    bundle = write_clinic_bundle(clinic, first, last)
    assert reconcile_fhir(bundle, clinic, window) == []
    busy = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Slot" and e["resource"]["status"] == "busy"]
    dropped = next(e for e in busy if e["resource"]["start"] == "2025-10-24T14:30:00Z")
    bundle["entry"].remove(dropped)
    extra = json.loads(json.dumps(busy[0]))
    extra["resource"]["id"] = "ehr-only"
    extra["fullUrl"] = "urn:uuid:00000000-0000-4000-8000-000000000001"
    extra["resource"]["start"], extra["resource"]["end"] = "2025-10-30T20:00:00Z", "2025-10-30T20:30:00Z"
    bundle["entry"].append(extra)
    found = {(d.visit_number, d.what) for d in reconcile_fhir(bundle, clinic, window)}
    assert found == {("V-20251024-0001", "missing_in_ehr"), ("ehr-only", "missing_in_store")}


def test_entry_reads_one_log_entry_by_its_number(tmp_path: Path) -> None:
    """entry(seq) gives the same entry log() lists at that number, and None for a number never written."""
    with CalendarStore(tmp_path / "one.db") as store:
        done = store.load_clinic(demo_clinic())
        assert store.entry(done.seq) == next(e for e in store.log() if e.seq == done.seq)
        assert store.entry(done.seq + 99) is None
