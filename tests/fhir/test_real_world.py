"""The table "Real-world files" of docs/fhir.md is what ``slotfinder import`` prints for each file.

Each row is parsed from the document and its file imported (in-process, into a fresh store holding
``tests/data/fhir/real/clinic.json``); the counts and reasons printed must equal the row's. The rows
themselves are pinned too, so a row cannot be dropped from the table without failing here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from slotfinder._cli import main
from slotfinder.fhir import load_bulk_publication

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "fhir"
CLINIC = DATA / "real" / "clinic.json"
MARKER = "<!-- real-world table:"
HL7_ORDER = (
    "Location-1",
    "Schedule-example",
    "Schedule-exampleloc1",
    "Schedule-exampleloc2",
    "Slot-1",
    "Slot-2",
    "Slot-3",
    "Slot-example",
)  # the order docs/fhir.md gives for gathering HL7's examples into one Bundle
ROWS = (
    "smart-bulk/",
    "real/hl7-r4/",
    "real/hl7-r4/Slot-1.json",
    "smart-scheduling-links.json",
    "hl7-location-schedule.json",
    "schedule-slots.json",
)
_APPLIED = re.compile(r": imported \(log \d+\): applied (\d+) \((\d+) busy, (\d+) open\), skipped (\d+)$")
_REASON = re.compile(r"  skipped (\d+): (.*)$")


def table() -> dict[str, dict[str, str]]:
    """The rows of the real-world table, by file (the first `code` of the first cell)."""
    lines = (ROOT / "docs" / "fhir.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(MARKER))
    header = [cell.strip() for cell in lines[start + 1].strip("|").split("|")]
    rows: dict[str, dict[str, str]] = {}
    for line in lines[start + 3 :]:
        if not line.startswith("|"):
            break
        cells = dict(zip(header, (cell.strip() for cell in line.strip().strip("|").split("|")), strict=True))
        name = re.match(r"`([^`]+)`", cells["file"])
        assert name is not None, line
        rows[name[1]] = cells
    return rows


def gathered(folder: Path) -> dict[str, Any]:
    """HL7's lone example resources as the entries of one collection Bundle, in the documented order."""
    entries = [{"resource": json.loads((folder / f"{name}.json").read_text())} for name in HL7_ORDER]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def resources_of(name: str, tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """What ``slotfinder import`` is given for a row, and the resources it holds."""
    target = DATA / name
    if name == "smart-bulk/":
        publication = load_bulk_publication(target)
        found = [json.loads(line) for f in publication.files for line in f.text.splitlines() if line.strip()]
        return target, found
    if name == "real/hl7-r4/":
        bundle = gathered(target)
        target = tmp_path / "hl7-r4-gathered.json"
        target.write_text(json.dumps(bundle))
        return target, [e["resource"] for e in bundle["entry"]]
    data = json.loads(target.read_text())
    if data.get("resourceType") == "Bundle":
        return target, [e["resource"] for e in data["entry"]]
    return target, [data]


def imported(target: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of importing ``target`` into a fresh store of the table's clinic."""
    db = str(tmp_path / "table.db")
    assert main(["import", "--db", db, str(CLINIC)]) == 0
    capsys.readouterr()
    status = main(["import", "--db", db, str(target)])
    out, err = capsys.readouterr()
    return status, out, err


def printed_row(status: int, out: str, err: str) -> dict[str, str]:
    """The table's last four columns, as the command's output gives them."""
    if status == 2 and not out:
        reason = err.split(": ", 2)[-1].split(":", 1)[0]
        return {"applied (busy, open)": "refused", "skipped": "", "why skipped (count × reason)": reason}
    lines = out.splitlines()
    applied = _APPLIED.search(lines[0])
    assert applied is not None, lines[0]
    total, busy, open_, skipped = applied.groups()
    reasons = [m.groups() for line in lines[1:] if (m := _REASON.match(line))]
    return {
        "applied (busy, open)": f"{total} ({busy}, {open_})",
        "skipped": skipped,
        "why skipped (count × reason)": "<br>".join(f"{n} × {why}" for n, why in reasons),
    }


def reasons(cell: str) -> list[str]:
    """The ``count × reason`` items of a cell, in any order (reasons of equal count have no defined order)."""
    return sorted(cell.split("<br>")) if cell else []


def test_the_table_has_its_rows() -> None:
    """Every counted file is in the table, once, in this order."""
    assert tuple(table()) == ROWS


@pytest.mark.parametrize("name", ROWS)
def test_table_row_is_what_slotfinder_import_prints(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = table()[name]
    target, resources = resources_of(name, tmp_path)
    assert row["resources"] == str(len(resources))
    assert row["Slots"] == str(sum(r.get("resourceType") == "Slot" for r in resources))
    status, out, err = imported(target, tmp_path, capsys)
    printed = printed_row(status, out, err)
    if row["applied (busy, open)"] == "refused":
        assert status == 2
        assert printed == {k: row[k] for k in printed}
        return
    assert printed["applied (busy, open)"] == row["applied (busy, open)"]
    assert printed["skipped"] == row["skipped"]
    why = "why skipped (count × reason)"
    assert reasons(printed[why]) == reasons(row[why])
    applied_anything = printed["applied (busy, open)"].split()[0] != "0"
    assert status == (0 if applied_anything else 2)
