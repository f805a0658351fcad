"""Importing iCalendar and FHIR calendars into a store: merged, logged as the items read, replayed, searched."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support import EXAMPLES, ROOT

DEMO = ROOT / "slotfinder" / "data" / "demo_clinic.json"

ANA_ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//slotfinder tests//store import//EN
X-SLOTFINDER-PROVIDER:1234567890
X-SLOTFINDER-LOCATION:res-3n
BEGIN:VEVENT
UID:ana-admin@example.org
DTSTAMP:20251001T000000Z
DTSTART;TZID=America/Chicago:20251024T100000
DTEND;TZID=America/Chicago:20251024T103000
SUMMARY:Admin time
END:VEVENT
END:VCALENDAR
"""

FHIR_BUNDLE: dict[str, Any] = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {"resource": {"resourceType": "Schedule", "id": "ana-3n", "actor": [
            {"type": "Practitioner", "identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567890"}},
            {"type": "Location", "identifier": {"value": "res-3n"}}]}},
        {"resource": {"resourceType": "Slot", "id": "sat-1", "schedule": {"reference": "Schedule/ana-3n"},
                      "status": "free", "start": "2025-10-25T15:00:00Z", "end": "2025-10-25T15:30:00Z",
                      "serviceType": [{"coding": [{"system": "DNER15", "code": "210"}]}]}},
    ],
}  # fmt: skip


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "slotfinder", *args], capture_output=True, text=True, check=False)


def offered(db: str) -> list[str]:
    request = str(EXAMPLES / "availableslots-request.json")
    done = run("find", request, "--db", db, "--limit", "999", "--per-day", "99", "--per-provider-day", "99")
    assert done.returncode == 0, done.stderr
    return [s["DateTime"] for s in json.loads(done.stdout)["AvailableSlots"]]


def test_ics_and_fhir_imports_change_the_answers(tmp_path: Path) -> None:
    """A busy VEVENT removes Ana's Friday 10:00 CDT; a free FHIR Slot opens her Saturday 10:00 CDT."""
    db = str(tmp_path / "c.db")
    assert run("import", "--db", db, str(DEMO)).returncode == 0
    before = offered(db)
    assert "2025-10-24T15:00:00Z" in before
    assert "2025-10-25T15:00:00Z" not in before
    ics = tmp_path / "ana.ics"
    ics.write_text(ANA_ICS)
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(FHIR_BUNDLE))
    done = run("import", "--db", db, str(ics), str(bundle), "--from", "2025-10-01", "--to", "2025-12-31")
    assert done.returncode == 0, done.stderr
    after = offered(db)
    assert "2025-10-24T15:00:00Z" not in after
    assert "2025-10-25T15:00:00Z" in after


def test_imports_are_logged_as_items_and_replayed(tmp_path: Path) -> None:
    """An .ics import is logged as the busy time read from it and the digest of what was given, never its
    text (SUMMARY); the log alone rebuilds the same state; twice adds nothing."""
    from slotfinder.store._sqlite import CalendarStore

    db = tmp_path / "c.db"
    ics = tmp_path / "ana.ics"
    ics.write_text(ANA_ICS)
    run("import", "--db", str(db), str(DEMO))
    for _ in range(2):
        run("import", "--db", str(db), str(ics), "--from", "2025-10-01", "--to", "2025-12-31")
    with CalendarStore(db) as store:
        records = [entry.record for entry in store.log() if entry.kind == "ical"]
        assert len(records) == 2
        assert "Admin time" not in records[0]
        [busy] = json.loads(records[0])["busy"]
        assert busy["visit_number"] == "ana-admin@example.org"
        assert json.loads(records[0])["open_times"] == []
        assert store.replay() == store.state()
        admin = [b for b in store.snapshot().busy if b.visit_number == "ana-admin@example.org"]
        assert len(admin) == 1
    assert b"Admin time" not in db.read_bytes()


def test_unreadable_calendar_is_refused_with_its_path(tmp_path: Path) -> None:
    """A broken .ics: exit 2, the file and rule named, nothing of its SUMMARY, nothing written."""
    db = str(tmp_path / "c.db")
    run("import", "--db", db, str(DEMO))
    ics = tmp_path / "broken.ics"
    ics.write_text(ANA_ICS.replace("DTSTART;TZID=America/Chicago:20251024T100000", "DTSTART:yesterday"))
    done = run("import", "--db", db, str(ics), "--from", "2025-10-01", "--to", "2025-12-31")
    assert done.returncode == 2
    assert "broken.ics" in done.stderr
    assert "Admin time" not in done.stderr
    assert "Traceback" not in done.stderr


LOCATION_BUNDLE: dict[str, Any] = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {"resource": {"resourceType": "Location", "id": "l-3n", "name": "RES General Hospital, 3N"}},
        {"resource": {"resourceType": "Schedule", "id": "s-3n", "actor": [{"reference": "Location/l-3n"}]}},
        {"resource": {"resourceType": "Slot", "id": "sat-3n", "schedule": {"reference": "Schedule/s-3n"},
                      "status": "free", "start": "2025-10-25T15:00:00Z", "end": "2025-10-25T15:30:00Z",
                      "serviceType": [{"coding": [{"system": "DNER15", "code": "210"}]}]}},
    ],
}  # fmt: skip


def test_location_schedule_import_is_bookable_and_counted(tmp_path: Path) -> None:
    """A Schedule whose actor is a Location: its free Slot opens time of the demo's providers working at
    3N (Ana among them), the counts say so, and the Saturday start is offered."""
    db = str(tmp_path / "c.db")
    run("import", "--db", db, str(DEMO))
    bundle = tmp_path / "location.json"
    bundle.write_text(json.dumps(LOCATION_BUNDLE))
    done = run("import", "--db", db, str(bundle))
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith(f"{bundle}: imported (log 2): applied ") and first.endswith(" open), skipped 0")
    assert "(0 busy, 0 open)" not in first
    assert "2025-10-25T15:00:00Z" in offered(db)


def test_import_that_applies_nothing_exits_2_and_says_why(tmp_path: Path) -> None:
    """Every Slot skipped (a Location the clinic does not have): exit 2, the file named on stderr, each
    reason counted on stdout, no value of the bundle echoed."""
    db = str(tmp_path / "c.db")
    run("import", "--db", db, str(DEMO))
    elsewhere = json.loads(json.dumps(LOCATION_BUNDLE))
    elsewhere["entry"][0]["resource"]["name"] = "Lakeview Community Pharmacy"
    bundle = tmp_path / "pharmacy.json"
    bundle.write_text(json.dumps(elsewhere))
    done = run("import", "--db", db, str(bundle))
    assert done.returncode == 2
    assert f"slotfinder: {bundle}: applied nothing" in done.stderr
    assert "applied 0 (0 busy, 0 open), skipped 2" in done.stdout
    assert "  skipped 1: its location is not one of the clinic's, so the Schedule is skipped" in done.stdout
    assert "Lakeview" not in done.stdout + done.stderr


def test_ics_with_a_broken_event_imports_the_rest_unless_strict(tmp_path: Path) -> None:
    """Lenient by default: the event without DTSTART is skipped with its line, the other applies (exit 0);
    --strict refuses the file (exit 2) naming the path and rule; no SUMMARY is ever printed."""
    db = str(tmp_path / "c.db")
    run("import", "--db", db, str(DEMO))
    broken = (
        "BEGIN:VEVENT\nUID:no-start@example.org\nDTSTAMP:20251001T000000Z\nSUMMARY:Call Jane Q. Patient\nEND:VEVENT\n"
    )
    ics = tmp_path / "ana.ics"
    ics.write_text(ANA_ICS.replace("END:VCALENDAR", broken + "END:VCALENDAR"))
    dates = ("--from", "2025-10-01", "--to", "2025-12-31")
    strict = run("import", "--db", db, str(ics), *dates, "--strict")
    assert strict.returncode == 2
    assert "ana.ics:VEVENT[1].DTSTART: is required" in strict.stderr
    lenient = run("import", "--db", db, str(ics), *dates)
    assert lenient.returncode == 0, lenient.stderr
    assert "applied 1 (1 busy, 0 open), skipped 1" in lenient.stdout
    assert "skipped: ana.ics:VEVENT[1] (line 13): not read: DTSTART is required" in lenient.stdout
    assert "Jane" not in strict.stdout + strict.stderr + lenient.stdout + lenient.stderr
    assert "2025-10-24T15:00:00Z" not in offered(db)
