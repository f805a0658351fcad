"""The command line, run as a real subprocess: JSON out, exit 2 with one named line on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from redox.scheduling.availableslotsresponse import AvailableSlotsResponse

from tests.support import seed


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slotfinder", *args], input=stdin, capture_output=True, text=True, check=False
    )


def write(tmp_path: Path, message: Any, name: str = "request.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(message))
    return str(path)


def test_find_prints_a_valid_response(tmp_path: Path) -> None:
    """find REQUEST.json answers on stdout with a Redox-valid response from the demo clinic."""
    done = run("find", write(tmp_path, seed()), "--limit", "4")
    assert done.returncode == 0, done.stderr
    response = json.loads(done.stdout)
    AvailableSlotsResponse.model_validate(response)
    assert len(response["AvailableSlots"]) == 4
    assert done.stderr == ""


def test_find_reads_stdin_and_now() -> None:
    """'-' reads the request from stdin; --now moves the earliest start."""
    done = run("find", "-", "--now", "2025-11-10T00:00:00Z", stdin=json.dumps(seed()))
    assert done.returncode == 0, done.stderr
    starts = [s["DateTime"] for s in json.loads(done.stdout)["AvailableSlots"]]
    assert starts and min(starts) >= "2025-11-10T00:00:00Z"


def test_demo_matches_find_on_the_seed(tmp_path: Path) -> None:
    """demo answers the bundled copy of the seed request, exactly as find does."""
    assert run("demo").stdout == run("find", write(tmp_path, seed())).stdout


def test_explain_goes_to_stderr() -> None:
    """--explain adds score breakdowns and ignored fields on stderr, leaving stdout pure JSON."""
    done = run("demo", "--explain", "--limit", "2")
    json.loads(done.stdout)
    assert "score" in done.stderr and "ignored: $.Patient.Demographics" in done.stderr


def test_bad_request_exit_2_one_line_no_patient_data(tmp_path: Path) -> None:
    """A malformed field: exit status 2, one line naming the path, no traceback, nothing of the patient."""
    message = seed()
    message["StartDateTime"] = "2025-10-21T19:00:00"
    done = run("find", write(tmp_path, message))
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "$.StartDateTime" in lines[0] and "no UTC offset" in lines[0]
    assert "Traceback" not in done.stderr and "Bixby" not in done.stderr


def test_window_too_large_exit_2(tmp_path: Path) -> None:
    """A window over the maximum horizon is bad input."""
    message = seed()
    message["EndDateTime"] = "2027-10-21T19:00:00Z"
    done = run("find", write(tmp_path, message))
    assert done.returncode == 2
    assert "maximum horizon" in done.stderr


def test_invalid_json_and_missing_file(tmp_path: Path) -> None:
    """Unreadable input is named with its file, in one line."""
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    done = run("find", str(bad))
    assert done.returncode == 2 and "not valid JSON (line 1, column 2)" in done.stderr
    done = run("find", str(tmp_path / "missing.json"))
    assert done.returncode == 2 and "cannot read" in done.stderr


def test_bad_option_values(tmp_path: Path) -> None:
    """--limit 0 and a naive --now are refused with exit 2."""
    path = write(tmp_path, seed())
    done = run("find", path, "--limit", "0")
    assert done.returncode == 2 and "limit" in done.stderr
    done = run("find", path, "--now", "2025-10-21T19:00")
    assert done.returncode == 2 and "--now" in done.stderr


def test_bad_clinic_file(tmp_path: Path) -> None:
    """A broken clinic file is bad input too, named by its JSON path."""
    clinic = tmp_path / "clinic.json"
    clinic.write_text(json.dumps({"providers": [], "locations": [], "visit_types": [{"code": "x"}]}))
    done = run("find", write(tmp_path, seed()), "--clinic", str(clinic))
    assert done.returncode == 2
    assert "$.visit_types[0]" in done.stderr
    assert "Traceback" not in done.stderr


def test_find_output_fhir_is_valid_r4() -> None:
    """--output fhir prints the offered slots as a FHIR R4 Bundle of free Slots and their Schedules."""
    from tests.fhir.test_fhir import assert_valid_r4

    done = run("demo", "--limit", "3", "--output", "fhir")
    assert done.returncode == 0, done.stderr
    bundle = json.loads(done.stdout)
    assert_valid_r4(bundle)
    slots = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Slot"]
    assert [s["start"] for s in slots] == [
        s["DateTime"] for s in json.loads(run("demo", "--limit", "3").stdout)["AvailableSlots"]
    ]
    assert {s["status"] for s in slots} == {"free"}


def test_explain_says_how_the_answer_was_found() -> None:
    """--explain names the method: the ranking when the caps nest, CP-SAT when --spread is asked for."""
    ranked = run("demo", "--explain")
    assert ranked.returncode == 0 and "no solver ran" in ranked.stderr
    solved = run("demo", "--explain", "--spread", "--per-provider", "3")
    assert solved.returncode == 0 and "chosen by CP-SAT" in solved.stderr
    assert len(json.loads(solved.stdout)["AvailableSlots"]) == 3  # one provider matches, capped at 3


def test_bad_diversity_option_is_one_line() -> None:
    """--min-providers 0 is refused with exit 2 and one line naming the option."""
    done = run("demo", "--min-providers", "0")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == "slotfinder: invalid option: min_providers must be positive, got 0"


def test_version() -> None:
    """--version prints the package version."""
    import slotfinder

    done = run("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"slotfinder {slotfinder.__version__}"


def test_planning_command_without_its_extra_is_one_line(tmp_path: Path) -> None:
    """simulate without matplotlib installed: exit 2 and a one-line install hint, before any work."""
    code = (
        "import sys; sys.modules['matplotlib'] = None; from slotfinder._cli import main; "
        f"raise SystemExit(main(['simulate', '--out', {str(tmp_path / 'out')!r}]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "slotfinder: simulate needs the planning extra (matplotlib missing): pip install 'slotfinder[planning]'\n"
    )
    assert not (tmp_path / "out").exists()


def test_demo_clinic_follow_ups_keep_their_limit() -> None:
    """The demo clinic's Follow Up (220) is limited to one per session: 28 October, whose morning session
    already holds a follow-up booking, offers no follow-up, while it still offers Office Visits (210)."""
    wide = ("--limit", "50", "--per-day", "50", "--per-provider-day", "50")
    follow_ups = run("demo", "--visit-type", "220", *wide)
    office = run("demo", *wide)
    assert follow_ups.returncode == office.returncode == 0, follow_ups.stderr + office.stderr

    def days(done: subprocess.CompletedProcess[str]) -> set[str]:
        return {slot["DateTime"][:10] for slot in json.loads(done.stdout)["AvailableSlots"]}

    assert "2025-10-28" in days(office) and "2025-10-28" not in days(follow_ups)
    assert "2025-10-31" in days(follow_ups)


def test_demo_shows_the_follow_up_series_as_offers() -> None:
    """`slotfinder demo --visit-type 320`: the demo clinic's four weekly follow-ups, one slot per visit,
    grouped by their offer note, found by the chain programme (said in --explain)."""
    done = run("demo", "--visit-type", "320", "--explain")
    assert done.returncode == 0, done.stderr
    slots = json.loads(done.stdout)["AvailableSlots"]
    offers: dict[str, list[str]] = {}
    for slot in slots:
        offer = next(n for n in slot["Notes"] if n.startswith("offer:"))
        offers.setdefault(offer, []).append(next(n for n in slot["Notes"] if n.startswith("step:")))
    assert offers
    assert all(steps == ["step:1/4", "step:2/4", "step:3/4", "step:4/4"] for steps in offers.values())
    assert "best chains by dynamic programming" in done.stderr


FHIR_DATA = Path(__file__).resolve().parent / "data" / "fhir"
DEMO_CLINIC = Path(__file__).resolve().parents[1] / "slotfinder" / "data" / "demo_clinic.json"


def test_import_of_a_smart_bulk_publication_prints_its_counts(tmp_path: Path) -> None:
    """`slotfinder import` takes the folder of a $bulk-publish manifest (or the manifest): what it read,
    applied and skipped, each reason counted once per reason (not per Schedule); a clinic import says what
    the clinic holds."""
    db = str(tmp_path / "c.db")
    clinic = run("import", "--db", db, str(FHIR_DATA / "real" / "clinic.json"))
    assert clinic.returncode == 0, clinic.stderr
    assert clinic.stdout.endswith(
        ": imported (log 1): a clinic of 5 providers, 5 locations, 3 visit types, 2 templates\n"
    )
    for target in (FHIR_DATA / "smart-bulk", FHIR_DATA / "smart-bulk" / "$bulk-publish"):
        done = run("import", "--db", db, str(target))
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0].endswith(": applied 60 (0 busy, 60 open), skipped 248")
        assert lines[1:4] == [
            "  read 10 Location, 10 Schedule, 300 Slot (7 files)",
            "  skipped 240: its Schedule is skipped",
            "  skipped 8: its location is not one of the clinic's, so the Schedule is skipped",
        ]
        assert "  skipped: slots-2021-W13.ndjson:20:$: its Schedule (schedules.ndjson:10:$) is skipped" in lines
        assert "Pittsfield" not in done.stdout and "ehr-portal" not in done.stdout


def test_import_of_a_publication_that_applies_nothing_exits_2(tmp_path: Path) -> None:
    """SMART's sites are not the demo clinic's: every Slot skipped, the folder named on stderr, exit 2."""
    db = str(tmp_path / "c.db")
    assert run("import", "--db", db, str(DEMO_CLINIC)).returncode == 0
    done = run("import", "--db", db, str(FHIR_DATA / "smart-bulk"))
    assert done.returncode == 2
    assert "applied 0 (0 busy, 0 open), skipped 310" in done.stdout
    assert f"slotfinder: {FHIR_DATA / 'smart-bulk'}: applied nothing" in done.stderr


def test_import_refuses_a_lone_resource_a_folder_without_manifest_and_a_broken_publication(tmp_path: Path) -> None:
    """One line each, exit 2, never a value of the files."""
    db = str(tmp_path / "c.db")
    assert run("import", "--db", db, str(DEMO_CLINIC)).returncode == 0
    lone = run("import", "--db", db, str(FHIR_DATA / "real" / "hl7-r4" / "Slot-1.json"))
    assert lone.returncode == 2
    assert lone.stderr.startswith("slotfinder: ") and ": a single FHIR resource, not a Bundle: " in lone.stderr
    empty = run("import", "--db", db, str(tmp_path))
    assert empty.returncode == 2
    assert (
        empty.stderr
        == f"slotfinder: {tmp_path}: a folder without a $bulk-publish manifest (a SMART Scheduling Links publication)\n"
    )
    folder = tmp_path / "pub"
    folder.mkdir()
    manifest = json.loads((FHIR_DATA / "smart-bulk" / "$bulk-publish").read_text())
    (folder / "$bulk-publish").write_text(json.dumps(manifest))
    for name in ("locations.ndjson", "schedules.ndjson"):
        (folder / name).write_text((FHIR_DATA / "smart-bulk" / name).read_text())
    missing = run("import", "--db", db, str(folder))
    assert missing.returncode == 2
    assert missing.stderr.startswith("slotfinder: invalid clinic: $bulk-publish:$.output[2].url: names no file")
    assert "raw.githubusercontent" not in missing.stderr and "Traceback" not in missing.stderr


def test_ics_import_that_applies_nothing_exits_2_with_its_counts(tmp_path: Path) -> None:
    """An .ics whose only event is broken: counted (applied 0, skipped 1, the reason), named on stderr, exit 2;
    nothing of its SUMMARY printed."""
    db = str(tmp_path / "c.db")
    assert run("import", "--db", db, str(DEMO_CLINIC)).returncode == 0
    ics = tmp_path / "ana.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//slotfinder tests//EN\nX-SLOTFINDER-PROVIDER:1234567890\n"
        "X-SLOTFINDER-LOCATION:res-3n\nBEGIN:VEVENT\nUID:no-start@example.org\nDTSTAMP:20251001T000000Z\n"
        "SUMMARY:Call Jane Q. Patient\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    done = run("import", "--db", db, str(ics), "--from", "2025-10-01", "--to", "2025-12-31")
    assert done.returncode == 2
    assert done.stdout.splitlines()[0].endswith(": applied 0 (0 busy, 0 open), skipped 1")
    assert "  skipped 1: not read: DTSTART is required" in done.stdout
    assert f"slotfinder: {ics}: applied nothing" in done.stderr
    assert "Jane" not in done.stdout + done.stderr
