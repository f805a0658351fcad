"""Real-world iCalendar files: each is read as the table *Real-world files* of docs/icalendar.md says.

The files are unmodified test data of public calendar projects (``tests/data/ical/real``, with their
source and license in its README). The table is parsed here, so the documentation and the behaviour
cannot drift apart: a change in what a file gives fails its row until the table says the new outcome.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import attrs
import pytest

from slotfinder._calendars.clinic_file import demo_clinic
from slotfinder._errors import InvalidClinic
from slotfinder.ical import CalendarSource, IcalItems, read_ical

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "tests" / "data" / "ical" / "real"
DOC = ROOT / "docs" / "icalendar.md"
README = REAL / "README.md"
PROVIDER, LOCATION = "1234567890", "res-3n"  # of the demo clinic, America/Chicago
SUMMARY = re.compile(
    r"\*\*(\d+) files: (\d+) read, (\d+) refused; strict mode reads (\d+) and refuses (\d+)\.\*\* "
    r"Of the ones read, (\d+) skip"
)


@attrs.frozen
class Row:
    """One row of the table: a file, its window, and what reading it gives."""

    file: str
    first: dt.date
    last: dt.date
    counts: tuple[int, int, int] | None  # busy, open, skipped lines; None: refused in lenient mode too
    strict_reads: bool
    said: tuple[str, ...]  # texts in `code`: each is in the skipped lines and notes, or in the problems
    times: tuple[tuple[int, str], ...]  # ``N × `text```: N skipped lines hold the text


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split(" | ")]


def _section(text: str, heading: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start + 1 : end]


def _rows() -> list[Row]:
    table = [line for line in _section(DOC.read_text(encoding="utf-8"), "## Real-world files") if line.startswith("|")]
    assert _cells(table[0]) == ["file", "written by", "window", "busy", "open", "skipped", "strict", "what happens"]
    rows = []
    for line in table[2:]:
        file, _, window, busy, open_, skipped, strict, happens = _cells(line)
        first, _, last = window.partition("..")
        refused = (busy, open_, skipped) == ("-", "-", "-")
        assert strict in ("reads", "refused"), line
        rows.append(
            Row(
                file=file.strip("`"),
                first=dt.date.fromisoformat(first),
                last=dt.date.fromisoformat(last or first),
                counts=None if refused else (int(busy), int(open_), int(skipped)),
                strict_reads=strict == "reads",
                said=tuple(re.findall(r"`([^`]+)`", happens)),
                times=tuple((int(n), said) for n, said in re.findall(r"(\d+) × `([^`]+)`", happens)),
            )
        )
    return rows


ROWS = _rows()


def _read(row: Row, *, strict: bool = False) -> IcalItems:
    source = CalendarSource(LOCATION, provider_id=PROVIDER, name=Path(row.file).name)
    return read_ical((REAL / row.file).read_bytes(), source, demo_clinic(), row.first, row.last, strict=strict)


@pytest.mark.parametrize("row", ROWS, ids=[row.file for row in ROWS])
def test_a_real_world_file_reads_as_the_table_says(row: Row) -> None:
    """Busy items, open times and skipped lines as counted; each quoted text said; strict as stated."""
    if row.counts is None:
        with pytest.raises(InvalidClinic) as caught:
            _read(row)
        said = "\n".join(str(p) for p in caught.value.problems)
    else:
        items = _read(row)
        assert (len(items.busy), len(items.open_times), len(items.skipped)) == row.counts
        said = "\n".join(items.skipped + items.notes)
        for count, text in row.times:
            assert sum(text in line for line in items.skipped) == count, text
    for text in row.said:
        assert text in said, text
    if row.strict_reads:
        strict = _read(row, strict=True)
        assert row.counts is not None and (len(strict.busy), len(strict.open_times)) == row.counts[:2]
    else:
        with pytest.raises(InvalidClinic):
            _read(row, strict=True)


def test_the_table_lists_every_vendored_file_once_and_at_least_24() -> None:
    listed = [row.file for row in ROWS]
    assert len(listed) == len(set(listed)) >= 24
    assert sorted(listed) == sorted(p.relative_to(REAL).as_posix() for p in REAL.rglob("*.ics"))


def test_the_summary_under_the_table_counts_its_rows() -> None:
    """The bold line under the table: files, read and refused (lenient and strict), and how many of the
    files read skip a component for a rule it breaks (a ``not read:`` line)."""
    text = DOC.read_text(encoding="utf-8")
    found = SUMMARY.search(" ".join(_section(text, "## Real-world files")))
    assert found is not None
    read = [row for row in ROWS if row.counts is not None]
    broken = sum(any("not read:" in line for line in _read(row).skipped) for row in read)
    strict_reads = sum(row.strict_reads for row in ROWS)
    expected = (len(ROWS), len(read), len(ROWS) - len(read), strict_reads, len(ROWS) - strict_reads, broken)
    assert tuple(int(n) for n in found.groups()) == expected


def test_vendored_files_are_unmodified() -> None:
    """Each file's bytes have the git blob id the README gives for it in its source repository."""
    blobs = dict(re.findall(r"^\| `([^`]+\.ics)` \| `[^`]+` \| `([0-9a-f]{40})` \|$", README.read_text("utf-8"), re.M))
    assert sorted(blobs) == sorted(row.file for row in ROWS)
    for file, blob in blobs.items():
        data = (REAL / file).read_bytes()
        assert hashlib.sha1(b"blob %d\x00" % len(data) + data).hexdigest() == blob, file  # git's blob id
