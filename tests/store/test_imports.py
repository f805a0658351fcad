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
