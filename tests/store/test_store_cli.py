"""Store commands as a user runs them: import, ingest, find --db, reconcile."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support import EXAMPLES, ROOT, example

DEMO = ROOT / "slotfinder" / "data" / "demo_clinic.json"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "slotfinder", *args], capture_output=True, text=True, check=False)


def test_import_ingest_find(tmp_path: Path) -> None:
    """import a clinic, ingest the example booking and hold, then find from the store skips them."""
    db = str(tmp_path / "c.db")
    assert run("import", "--db", db, str(DEMO)).returncode == 0
    done = run("ingest", "--db", db, str(EXAMPLES / "new.json"), str(EXAMPLES / "hold.json"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("applied") == 2
    request = EXAMPLES / "availableslots-request.json"
    found = run("find", str(request), "--db", db, "--limit", "30", "--per-day", "30", "--per-provider-day", "30")
    assert found.returncode == 0, found.stderr
    times = [s["DateTime"] for s in json.loads(found.stdout)["AvailableSlots"]]
    assert "2025-10-24T15:00:00Z" in times
    assert "2025-10-24T14:30:00Z" not in times
    assert "2025-10-24T16:00:00Z" not in times


def test_ingest_bad_message_reported_exit_2(tmp_path: Path) -> None:
    """A bad message among good ones: the good ones apply, the bad one is logged, named, exit 2."""
    db = str(tmp_path / "c.db")
    run("import", "--db", db, str(DEMO))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([example("new.json"), {"Meta": {"DataModel": "Scheduling", "EventType": "New"}}]))
    done = run("ingest", "--db", db, str(bad))
    assert done.returncode == 2
    assert "[0]: applied" in done.stdout
    assert "[1]: rejected" in done.stdout
    assert "$.Visit: is required" in done.stdout
    assert "Traceback" not in done.stderr


def test_ingest_without_store_is_named(tmp_path: Path) -> None:
    """A store that does not exist is named in one line, exit 2."""
    done = run("ingest", "--db", str(tmp_path / "missing.db"), str(EXAMPLES / "new.json"))
    assert done.returncode == 2
    assert "no such store" in done.stderr


def test_reconcile_lists_differences(tmp_path: Path) -> None:
    """A BookedResponse that moved one visit and lacks another is compared by visit number."""
    db = str(tmp_path / "c.db")
    run("import", "--db", db, str(DEMO))
    run("ingest", "--db", db, str(EXAMPLES / "new.json"), str(EXAMPLES / "hold.json"))
    booked = {
        "Meta": {"DataModel": "Scheduling", "EventType": "BookedResponse"},
        "Visits": [
            {"VisitNumber": "V-20251024-0001", "VisitDateTime": "2025-10-24T14:45:00Z", "Duration": 30,
             "AttendingProvider": {"ID": "1234567890"}},
            {"VisitNumber": "V-EHR-ONLY", "VisitDateTime": "2025-10-24T18:00:00Z", "Duration": 30},
        ],
    }  # fmt: skip
    path = tmp_path / "booked.json"
    path.write_text(json.dumps(booked))
    done = run("reconcile", "--db", db, str(path), "--start", "2025-10-24T00:00:00Z", "--end", "2025-10-25T00:00:00Z")
    assert done.returncode == 0, done.stderr
    found = {(d["VisitNumber"], d["Difference"]) for d in json.loads(done.stdout)}
    assert ("V-20251024-0001", "time") in found
    assert ("V-EHR-ONLY", "missing_in_store") in found
    assert ("H-77", "missing_in_ehr") in found


def test_reconcile_refuses_a_malformed_booked_response_by_path(tmp_path: Path) -> None:
    """A BookedResponse with a bad visit is refused in one line naming the path, exit 2, no traceback."""
    db = str(tmp_path / "c.db")
    run("import", "--db", db, str(DEMO))
    booked = {"Visits": [{"VisitNumber": "V-1", "VisitDateTime": "2025-10-24T14:45:00"}, "MRN-SECRET-4711"]}
    path = tmp_path / "booked.json"
    path.write_text(json.dumps(booked))
    done = run("reconcile", "--db", db, str(path))
    assert done.returncode == 2
    assert "$.Visits[0].VisitDateTime: has no UTC offset" in done.stderr
    assert "MRN-SECRET-4711" not in done.stderr and "Traceback" not in done.stderr


def test_reconcile_window_defaults_to_the_listed_visits(tmp_path: Path) -> None:
    """Without --start/--end the window runs from the earliest listed visit to just after the latest."""
    db = str(tmp_path / "c.db")
    run("import", "--db", db, str(DEMO))
    run("ingest", "--db", db, str(EXAMPLES / "new.json"), str(EXAMPLES / "hold.json"))
    visit = {"VisitNumber": "V-20251024-0001", "VisitDateTime": "2025-10-24T14:30:00Z", "Duration": 30}
    path = tmp_path / "booked.json"
    path.write_text(json.dumps({"Visits": [visit]}))
    done = run("reconcile", "--db", db, str(path))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    bad = run("reconcile", "--db", db, str(path), "--start", "2025-10-24")
    assert bad.returncode == 2
    assert "--start/--end: a date-time has no UTC offset" in bad.stderr
