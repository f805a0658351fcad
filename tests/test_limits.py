"""Input limits (docs/limits.md): each allows an input at the limit and refuses one item past it.

Limits are set small here (``Limits(max_busy_items=27)``) so every pair is cheap; the defaults are
pinned against the table of docs/limits.md. A refusal is a typed error (``LimitExceeded`` and the
reader's own ``InvalidRequest`` / ``InvalidClinic``) whose problem names the path and the limit and
never a value; an import past a limit adds nothing.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

import slotfinder
from slotfinder import InvalidClinic, InvalidRequest, LimitExceeded, Limits, Problem
from slotfinder._cli import main
from slotfinder._limits import limits_in_force, load_limits
from slotfinder._problems import MAX_DEPTH
from slotfinder.fhir import read_fhir_bundle
from slotfinder.ical._read import CalendarSource, read_ical, read_ical_file
from slotfinder.redox import parse_request
from tests.support import ROOT

DEMO = ROOT / "slotfinder" / "data" / "demo_clinic.json"
REQUEST = ROOT / "slotfinder" / "data" / "demo_request.json"
SECRET = "0000000101"  # a patient identifier: never in a message
ANA = CalendarSource("res-3n", provider_id="1234567890", name="ana.ics")
FIRST, LAST = dt.date(2025, 10, 1), dt.date(2025, 10, 31)


def message() -> dict[str, Any]:
    return json.loads(REQUEST.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def clinic_dict() -> dict[str, Any]:
    return json.loads(DEMO.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def refused(error: pytest.ExceptionInfo[Exception], path: str, rule: str) -> None:
    """The error is a LimitExceeded naming exactly ``path: rule``, and no value of the input."""
    assert isinstance(error.value, LimitExceeded)
    assert error.value.problems == (Problem(path, rule),)  # type: ignore[attr-defined]
    assert SECRET not in str(error.value)


# ---- the limits themselves ----------------------------------------------------------------------


def test_defaults_are_the_documented_table() -> None:
    """docs/limits.md lists every limit with its default; the table and the class agree."""
    text = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    table = {m[1]: int(m[2].replace(",", "")) for m in re.finditer(r"^\| `(max_\w+)` \| ([\d,]+) \|", text, re.M)}
    defaults = {a.name: a.default for a in attrs.fields(Limits)}
    assert table == defaults
    assert Limits().max_depth == MAX_DEPTH  # the depth every older check uses


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "10"])
def test_a_limit_is_a_positive_whole_number(value: object) -> None:
    with pytest.raises(ValueError, match="max_depth: must be a whole number, at least 1"):
        Limits(max_depth=value)  # type: ignore[arg-type]


def test_limits_from_toml(tmp_path: Path) -> None:
    """A TOML file sets some limits (the rest default); an unknown key or a bad value is one line."""
    good = tmp_path / "limits.toml"
    good.write_text("max_array_items = 500\nmax_depth = 8\n")
    assert load_limits(good) == Limits(max_array_items=500, max_depth=8)
    bad = tmp_path / "bad.toml"
    bad.write_text("max_arrays = 500\n")
    with pytest.raises(ValueError, match="unknown limit max_arrays"):
        load_limits(bad)
    bad.write_text('max_depth = "deep"\n')
    with pytest.raises(ValueError, match="max_depth: must be a whole number"):
        load_limits(bad)
    bad.write_text("max_depth = \n")
    with pytest.raises(ValueError, match="not valid TOML"):
        load_limits(bad)


# ---- a Redox request ------------------------------------------------------------------------------

ARRAYS = {
    "$.Visit.AttendingProviders": lambda n: [{"ID": str(i), "IDType": "NPI"} for i in range(n)],
    "$.Visit.Locations": lambda n: [{"Department": f"D{i}"} for i in range(n)],
    "$.Visit.VisitType": lambda n: [{"Code": str(i)} for i in range(n)],
    "$.Patient.Identifiers": lambda n: [{"ID": SECRET, "IDType": "MR"} for _ in range(n)],
}


def with_array(path: str, n: int) -> dict[str, Any]:
    changed = message()
    where, key = path.removeprefix("$.").split(".")
    changed.setdefault(where, {})[key] = ARRAYS[path](n)
    return changed


@pytest.mark.parametrize("path", sorted(ARRAYS))
def test_request_arrays(path: str) -> None:
    """Each request array holds max_array_items items, not one more; the error names the array."""
    limits = Limits(max_array_items=5)
    parse_request(with_array(path, 5), limits=limits)
    with pytest.raises(InvalidRequest) as error:
        slotfinder.find_slots_redox(with_array(path, 6), limits=limits)
    refused(error, path, "more than 5 items (limit max_array_items)")


def test_request_array_default_limit() -> None:
    """The issue's example, at the default: 10,000 providers pass, 10,001 do not."""
    parse_request(with_array("$.Visit.AttendingProviders", 10_000))
    with pytest.raises(InvalidRequest) as error:
        parse_request(with_array("$.Visit.AttendingProviders", 10_001))
    assert str(error.value) == (
        "invalid request: $.Visit.AttendingProviders: more than 10000 items (limit max_array_items)"
    )


def nested(levels: int) -> dict[str, Any]:
    """The demo request with a field whose value makes the whole document ``levels`` levels deep."""
    value: Any = []
    for _ in range(levels - 2):  # the root object and the list at the bottom make two
        value = [value]
    return {**message(), "Extra": value}


def test_request_depth() -> None:
    limits = Limits(max_depth=6)
    assert "$.Extra (not a field of AvailableSlots)" in parse_request(nested(6), limits=limits).ignored
    with pytest.raises(InvalidRequest) as error:
        parse_request(nested(7), limits=limits)
    refused(error, "$.Extra[0][0][0][0][0]", "nests deeper than 6 levels (limit max_depth)")


# ---- a clinic file --------------------------------------------------------------------------------

CLINIC_LISTS = {
    "providers": "max_providers",
    "templates": "max_templates",
    "busy": "max_busy_items",
    "openings": "max_open_items",
    "visit_types": "max_array_items",
}


@pytest.mark.parametrize("key", sorted(CLINIC_LISTS))
def test_clinic_sizes(key: str) -> None:
    """A clinic with exactly the limit's count loads; with one more it is refused at that list."""
    raw = clinic_dict()
    count, name = len(raw[key]), CLINIC_LISTS[key]
    at_limit = Limits(**{name: count})
    assert len(getattr(slotfinder.load_clinic(raw, limits=at_limit), key)) == count
    with pytest.raises(InvalidClinic) as error:
        slotfinder.load_clinic(raw, limits=Limits(**{name: count - 1}))
    refused(error, f"$.{key}", f"more than {count - 1} items (limit {name})")


def test_clinic_nested_array() -> None:
    """Arrays inside items (a busy item's patients) are bounded by max_array_items, at their path."""
    raw = clinic_dict()
    raw["busy"][0]["patients"] = raw["busy"][0]["patients"] * 7
    slotfinder.load_clinic(raw, limits=Limits(max_array_items=7))
    with pytest.raises(InvalidClinic) as error:
        slotfinder.load_clinic(raw, limits=Limits(max_array_items=6))  # the demo's 6 visit types still fit
    refused(error, "$.busy[0].patients", "more than 6 items (limit max_array_items)")


def depth(value: Any) -> int:
    """Levels of arrays and objects in a JSON value."""
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def test_clinic_depth() -> None:
    raw = clinic_dict()
    levels = depth(raw)
    slotfinder.load_clinic(raw, limits=Limits(max_depth=levels))
    with pytest.raises(InvalidClinic) as error:
        slotfinder.load_clinic(raw, limits=Limits(max_depth=levels - 1))
    assert isinstance(error.value, LimitExceeded)
    assert {p.rule for p in error.value.problems} == {f"nests deeper than {levels - 1} levels (limit max_depth)"}


def test_clinic_file_bytes(tmp_path: Path) -> None:
    path = tmp_path / "clinic.json"
    path.write_bytes(DEMO.read_bytes())
    size = path.stat().st_size
    slotfinder.load_clinic(path, limits=Limits(max_file_bytes=size))
    with pytest.raises(InvalidClinic) as error:
        slotfinder.load_clinic(path, limits=Limits(max_file_bytes=size - 1))
    refused(error, "$", f"more than {size - 1} bytes (limit max_file_bytes)")


def test_limits_in_force_reach_a_reader_without_the_keyword() -> None:
    """What the store reads on a caller's behalf (no keyword) follows the limits in force."""
    raw = clinic_dict()
    with limits_in_force(Limits(max_busy_items=1)), pytest.raises(LimitExceeded):
        slotfinder.load_clinic(raw)
    slotfinder.load_clinic(raw)  # outside the block: the defaults


# ---- iCalendar --------------------------------------------------------------------------------------


def ics(*events: str) -> str:
    body = "".join(f"BEGIN:VEVENT\nDTSTAMP:20251001T000000Z\n{e.strip()}\nEND:VEVENT\n" for e in events)
    return f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//slotfinder tests//limits//EN\n{body}END:VCALENDAR\n"


def daily(count: int, uid: str = "series") -> str:
    return (
        f"UID:{uid}\nSUMMARY:{SECRET}\nDTSTART;TZID=America/Chicago:20251006T120000\n"
        f"DTEND;TZID=America/Chicago:20251006T123000\nRRULE:FREQ=DAILY;COUNT={count}"
    )


def single(n: int) -> str:
    return f"UID:one-{n}\nDTSTART:202510{10 + n:02d}T150000Z\nDTEND:202510{10 + n:02d}T153000Z"


@pytest.mark.parametrize("strict", [False, True])
def test_instances_per_rule(strict: bool) -> None:
    """A series expanding to max_rule_instances instances in the window is read; one more refuses the file
    (in both modes: nothing of it is returned), naming the series."""
    clinic = slotfinder.demo_clinic()
    text = ics(single(0), daily(4))
    items = read_ical(text, ANA, clinic, FIRST, LAST, strict=strict, limits=Limits(max_rule_instances=4))
    assert len(items.busy) == 5
    with pytest.raises(InvalidClinic) as error:
        read_ical(text, ANA, clinic, FIRST, LAST, strict=strict, limits=Limits(max_rule_instances=3))
    refused(error, "ana.ics:VEVENT[1]", "more than 3 instances in the import window (limit max_rule_instances)")


def test_a_dense_rule_is_refused_without_expanding_it() -> None:
    """Every second for a month (2.6 million instances): refused at the default limit, from the first day."""
    rule = "UID:dense\nDTSTART:20251006T150000Z\nDTEND:20251006T150001Z\nRRULE:FREQ=SECONDLY"
    with pytest.raises(InvalidClinic) as error:
        read_ical(ics(rule), ANA, slotfinder.demo_clinic(), FIRST, LAST)
    refused(error, "ana.ics:VEVENT[0]", "more than 5000 instances in the import window (limit max_rule_instances)")


def test_instances_per_import() -> None:
    clinic = slotfinder.demo_clinic()
    text = ics(single(0), single(1), daily(3))
    assert len(read_ical(text, ANA, clinic, FIRST, LAST, limits=Limits(max_import_items=5)).busy) == 5
    with pytest.raises(InvalidClinic) as error:
        read_ical(text, ANA, clinic, FIRST, LAST, limits=Limits(max_import_items=4))
    refused(error, "ana.ics", "more than 4 instances (limit max_import_items)")


def test_ical_file_bytes(tmp_path: Path) -> None:
    path = tmp_path / "ana.ics"
    path.write_text(ics(single(0)), encoding="utf-8")
    size = path.stat().st_size
    clinic = slotfinder.demo_clinic()
    read_ical_file(path, clinic, FIRST, LAST, ANA, limits=Limits(max_file_bytes=size))
    with pytest.raises(InvalidClinic) as error:
        read_ical_file(path, clinic, FIRST, LAST, ANA, limits=Limits(max_file_bytes=size - 1))
    refused(error, "ana.ics", f"more than {size - 1} bytes (limit max_file_bytes)")
    with pytest.raises(InvalidClinic) as error:
        read_ical(path.read_text(), ANA, clinic, FIRST, LAST, limits=Limits(max_file_bytes=size - 1))
    refused(error, "ana.ics", f"more than {size - 1} bytes (limit max_file_bytes)")


# ---- FHIR -------------------------------------------------------------------------------------------


def bundle(slots: int) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "resourceType": "Schedule",
        "id": "ana",
        "actor": [
            {"type": "Practitioner", "identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567890"}},
            {"type": "Location", "identifier": {"value": "res-3n"}},
        ],
    }
    entries: list[dict[str, Any]] = [{"resource": schedule}]
    for n in range(slots):
        start = dt.datetime(2025, 10, 25, 15, tzinfo=dt.UTC) + dt.timedelta(minutes=30 * n)
        slot = {
            "resourceType": "Slot",
            "id": f"s{n}",
            "schedule": {"reference": "Schedule/ana"},
            "status": "free",
            "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": (start + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        entries.append({"resource": slot})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def test_fhir_entries_per_import() -> None:
    """max_import_items bounds a bundle's entries (the Schedule counts), whatever max_array_items says."""
    clinic = slotfinder.demo_clinic()
    limits = Limits(max_import_items=4, max_array_items=2)
    assert len(read_fhir_bundle(bundle(3), clinic, limits=limits).open_times) == 3
    with pytest.raises(InvalidClinic) as error:
        read_fhir_bundle(bundle(4), clinic, limits=limits)
    refused(error, "$.entry", "more than 4 items (limit max_import_items)")


def test_fhir_other_arrays() -> None:
    clinic = slotfinder.demo_clinic()
    read_fhir_bundle(bundle(1), clinic, limits=Limits(max_array_items=2))
    with pytest.raises(InvalidClinic) as error:
        read_fhir_bundle(bundle(1), clinic, limits=Limits(max_array_items=1))
    refused(error, "$.entry[0].resource.actor", "more than 1 items (limit max_array_items)")


# ---- the command line -------------------------------------------------------------------------------


def limits_file(tmp_path: Path, **values: int) -> str:
    path = tmp_path / "limits.toml"
    path.write_text("".join(f"{k} = {v}\n" for k, v in values.items()))
    return str(path)


def test_cli_request_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``find --limits``: a request of exactly max_request_bytes is answered; one byte less refuses it."""
    request = tmp_path / "request.json"
    request.write_text(json.dumps(message()))
    size = request.stat().st_size
    assert main(["find", str(request), "--limits", limits_file(tmp_path, max_request_bytes=size)]) == 0
    capsys.readouterr()
    assert main(["find", str(request), "--limits", limits_file(tmp_path, max_request_bytes=size - 1)]) == 2
    err = capsys.readouterr().err
    assert err == f"slotfinder: {request}: more than {size - 1} bytes (limit max_request_bytes)\n"


def test_cli_request_array(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps(with_array("$.Patient.Identifiers", 7)))
    assert main(["find", str(request), "--limits", limits_file(tmp_path, max_array_items=7)]) == 0
    capsys.readouterr()  # 6: the request is refused (the demo clinic's 6 visit types still fit)
    assert main(["find", str(request), "--limits", limits_file(tmp_path, max_array_items=6)]) == 2
    err = capsys.readouterr().err
    assert err == "slotfinder: invalid request: $.Patient.Identifiers: more than 6 items (limit max_array_items)\n"


def test_cli_bad_limits_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--limits", limits_file(tmp_path, max_depth=0)]) == 2
    assert capsys.readouterr().err.endswith("limits.toml: max_depth: must be a whole number, at least 1\n")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "slotfinder", *args], capture_output=True, text=True, check=False)


def test_cli_import_past_a_limit_writes_nothing(tmp_path: Path) -> None:
    """An .ics whose series passes max_rule_instances: exit 2, one line, no traceback, the store unchanged;
    at the limit the same file imports."""
    from slotfinder.store import CalendarStore

    db = str(tmp_path / "c.db")
    assert run("import", "--db", db, str(DEMO)).returncode == 0
    path = tmp_path / "ana.ics"
    path.write_text(ics(daily(4)).replace("VERSION:2.0\n", "VERSION:2.0\nX-SLOTFINDER-PROVIDER:1234567890\n"
                                          "X-SLOTFINDER-LOCATION:res-3n\n"))  # fmt: skip
    window = ("--from", "2025-10-01", "--to", "2025-10-31")
    done = run("import", "--db", db, str(path), *window, "--limits", limits_file(tmp_path, max_rule_instances=3))
    assert done.returncode == 2
    assert done.stderr == (
        "slotfinder: invalid clinic: ana.ics:VEVENT[0]: more than 3 instances in the import window "
        "(limit max_rule_instances)\n"
    )
    with CalendarStore(db) as store:
        assert [entry.kind for entry in store.log()] == ["clinic"]
    done = run("import", "--db", db, str(path), *window, "--limits", limits_file(tmp_path, max_rule_instances=4))
    assert done.returncode == 0, done.stderr
    with CalendarStore(db) as store:
        assert [entry.kind for entry in store.log()] == ["clinic", "ical"]


def test_cli_ingest_refuses_a_message_past_a_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "c.db")
    assert main(["import", "--db", db, str(DEMO)]) == 0
    new = json.loads((ROOT / "tests" / "data" / "redox" / "new.json").read_text())
    wide = copy.deepcopy(new)
    wide["Patient"]["Identifiers"] = [{"ID": SECRET, "IDType": "MR"}] * 7
    path = tmp_path / "new.json"
    path.write_text(json.dumps(wide))
    capsys.readouterr()
    assert main(["ingest", "--db", db, str(path), "--limits", limits_file(tmp_path, max_array_items=6)]) == 2
    err = capsys.readouterr().err
    assert err == f"slotfinder: {path}: $.Patient.Identifiers: more than 6 items (limit max_array_items)\n"
    assert main(["ingest", "--db", db, str(path), "--limits", limits_file(tmp_path, max_array_items=7)]) == 0
