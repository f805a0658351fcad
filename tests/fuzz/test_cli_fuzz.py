"""Fuzzing the command line: mutated clinic files, .ics files, FHIR bundles and scheduling messages given
to ``slotfinder import``, ``ingest`` and ``find`` exit 0, 1 or 2 with stderr lines of ``slotfinder: ...``,
never a traceback, and never print a planted value.

The mutations are those of the Python-level fuzz modules (``test_clinic_fuzz``, ``test_ical_fuzz``,
``test_fhir_fuzz``, ``test_event_fuzz``); each example runs one ``python -m slotfinder`` subprocess (1-2
seconds on 2 cores), so each property draws few examples: ``FUZZ_EXAMPLES / 100`` (default 4). A long
campaign (``FUZZ_EXAMPLES=25000``) runs 250 subprocesses per property, 1,000 in all.

Every subprocess must end within ``TIMEOUT`` seconds, a bound tens of times what any input needs: an
input that hangs the command line (or makes it super-linearly slow) fails its example instead of
stalling the run, and Hypothesis prints it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotfinder.store import CalendarStore
from tests.fuzz.hostile import SENTINEL, mutated, no_sentinel, preset
from tests.fuzz.test_clinic_fuzz import planted_clinic
from tests.fuzz.test_event_fuzz import EVENTS
from tests.fuzz.test_fhir_fuzz import BUNDLES
from tests.fuzz.test_fhir_fuzz import CLINIC as FHIR_CLINIC
from tests.fuzz.test_ical_fuzz import mutated_ics
from tests.server.running import demo_store
from tests.support import ROOT, seed

PRESET = preset(4, divisor=100)
TIMEOUT = 120  # seconds per subprocess: generous (inputs take 1-2 s, up to 6 on a loaded machine)


PATIENT = "ZZPATIENT8"  # planted as a patient of a booking: never in an answer (a mutation may plant
# SENTINEL as a provider's name, which an answer shows by design, so stdout is checked for this one only)


def _clinic_for_find() -> dict[str, Any]:
    """The planted clinic with the patient planted as ``PATIENT`` and the provider's name restored."""
    data = planted_clinic()
    data["providers"][0]["last_name"] = "Lindqvist"
    data["busy"][0]["patients"] = [{"id": PATIENT, "id_type": "MR"}]
    return data


FIND_CLINIC = _clinic_for_find()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """``slotfinder ARGS`` ended within ``TIMEOUT``; its exit status is 0, 1 or 2 and stderr is ``slotfinder:``
    lines, nothing planted."""
    command = [sys.executable, "-m", "slotfinder", *args]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"slotfinder {' '.join(args)} still running after {TIMEOUT} s")
    assert done.returncode in (0, 1, 2), done.stderr
    assert "Traceback" not in done.stderr
    assert all(line.startswith(("slotfinder: ", "  ")) for line in done.stderr.splitlines()), done.stderr
    no_sentinel(done.stderr)
    return done


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A folder for inputs, a store of the demo clinic (messages) and one of the builders' clinic (imports)."""
    folder = tmp_path_factory.mktemp("cli-fuzz")
    with CalendarStore(folder / "imports.db") as store:
        store.load_clinic(FHIR_CLINIC)
    return folder, demo_store(folder / "demo.db"), folder / "imports.db"


@PRESET
@given(mutated(FIND_CLINIC))
def test_find_with_a_mutated_clinic_file(stores: tuple[Path, Path, Path], data: dict[str, Any]) -> None:
    """``find --clinic``: an answer (exit 0) or one line naming the clinic's problem (exit 2)."""
    folder, _, _ = stores
    (folder / "clinic.json").write_text(json.dumps(data))
    (folder / "request.json").write_text(json.dumps(seed()))
    done = run("find", str(folder / "request.json"), "--clinic", str(folder / "clinic.json"))
    assert PATIENT not in done.stdout + done.stderr
    assert done.returncode == 0 or done.stderr.count("\n") == 1


@PRESET
@given(mutated(planted_clinic()))
def test_import_of_a_mutated_clinic_file(stores: tuple[Path, Path, Path], data: dict[str, Any]) -> None:
    """``import`` of a clinic file into a fresh store: imported, or refused in one line."""
    folder, _, _ = stores
    (folder / "clinic.json").write_text(json.dumps(data))
    (folder / "fresh.db").unlink(missing_ok=True)
    done = run("import", "--db", str(folder / "fresh.db"), str(folder / "clinic.json"))
    no_sentinel(done.stdout)


@PRESET
@given(st.one_of(mutated_ics().map(lambda text: ("calendar.ics", text)), st.sampled_from(BUNDLES).flatmap(mutated)))
def test_import_of_a_mutated_calendar(stores: tuple[Path, Path, Path], data: tuple[str, str] | dict[str, Any]) -> None:
    """``import`` of an .ics file or a FHIR bundle into a store: counts printed, or refused in one line."""
    folder, _, db = stores
    if isinstance(data, tuple):
        name, text = data
        (folder / name).write_bytes(text.encode("utf-8", "surrogatepass"))
    else:
        name = "bundle.json"
        (folder / name).write_text(json.dumps(data))
    declared = ["--map", str(folder / "map.json")] if name.endswith(".ics") else []
    (folder / "map.json").write_text(
        json.dumps([{"file": name, "provider_id": "1111111111", "location_id": "loc-main"}])
    )
    done = run("import", "--db", str(db), *declared, "--from", "2025-01-01", "--to", "2025-12-31", str(folder / name))
    no_sentinel(done.stdout)


@PRESET
@given(st.lists(st.sampled_from(EVENTS).flatmap(mutated), min_size=1, max_size=3))
def test_ingest_of_mutated_messages(stores: tuple[Path, Path, Path], messages: list[dict[str, Any]]) -> None:
    """``ingest`` of a file of mutated messages: each applied or rejected with its problems, exit 0 or 2."""
    folder, db, _ = stores
    (folder / "messages.json").write_text(json.dumps(messages))
    done = run("ingest", "--db", str(db), str(folder / "messages.json"))
    no_sentinel(done.stdout)


def test_hostile_files_are_refused_in_one_line(stores: tuple[Path, Path, Path]) -> None:
    """Not UTF-8, not JSON, nested past the parser, a lone surrogate: exit 2 and one line each."""
    folder, _, db = stores
    for data in (b"\xff\xfe{", b"[" * 100_000 + b"]" * 100_000, b'{"a": "\\ud800"}', SENTINEL.encode()):
        (folder / "bad.json").write_bytes(data)
        done = run("import", "--db", str(db), str(folder / "bad.json"))  # `find` is test_redox_fuzz's
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
