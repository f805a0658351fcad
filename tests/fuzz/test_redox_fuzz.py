"""Fuzzing the Redox edge: mutated requests and scheduling events never crash outside the error tree,
and no planted value (patient data stand-in) ever comes back in an error, a reason or the ignored report.

Each example takes a real example message and overwrites one to three of its nodes with hostile JSON:
huge or non-finite numbers, far-away or malformed date-times, lone surrogates, long strings, wrong
shapes, sentinels as values and as keys, deep nesting. ``FUZZ_EXAMPLES`` sets how many examples each
property draws (default 400, about fifteen seconds in all). A long campaign, over 100,000 inputs in the
whole directory: ``FUZZ_EXAMPLES=25000 HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/fuzz``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import slotfinder
from slotfinder.redox import parse_event
from tests.fuzz.hostile import SENTINEL, mutated, preset
from tests.support import example, seed

PRESET = preset(400)
CLINIC = slotfinder.prepare(slotfinder.demo_clinic())


def _no_sentinel(*texts: object) -> None:
    for text in texts:
        assert SENTINEL not in str(text), "a planted value came back"


@PRESET
@given(mutated(seed()))
def test_mutated_requests_answer_or_raise_a_typed_error(message: dict[str, Any]) -> None:
    """A mutated AvailableSlots request is answered or refused with a SlotfinderError; nothing planted leaks."""
    try:
        result = slotfinder.find_slots_redox(message, CLINIC.clinic)
    except slotfinder.SlotfinderError as error:
        _no_sentinel(error, *getattr(error, "problems", ()))
        return
    _no_sentinel(result.ignored, result.reasons)
    json.dumps(result.to_redox())  # the response is always serialisable


@PRESET
@given(st.sampled_from(["new.json", "hold.json", "pushslots.json"]).flatmap(lambda name: mutated(example(name))))
def test_mutated_events_parse_or_raise_a_typed_error(message: dict[str, Any]) -> None:
    """A mutated scheduling event parses or is refused with InvalidMessage; nothing planted leaks."""
    try:
        parse_event(message)
    except slotfinder.InvalidMessage as error:
        _no_sentinel(error, *error.problems)


def _cli(tmp_path: Path, data: bytes) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "request.json"
    path.write_bytes(data)
    return subprocess.run(
        [sys.executable, "-m", "slotfinder", "find", str(path)], capture_output=True, text=True, check=False
    )


def test_cli_refuses_hostile_files_in_one_line(tmp_path: Path) -> None:
    """Deeply nested JSON, bytes that are not UTF-8 and far-away dates: exit 2, one line, no traceback."""
    far = seed()
    far["StartDateTime"] = "9999-12-31T23:59:59Z"
    cases = {
        b"[" * 100_000 + b"]" * 100_000: "nests deeper than",
        b"\xff\xfe{": "not UTF-8",
        json.dumps(far).encode(): "$.StartDateTime: must lie between",
    }
    for data, expected in cases.items():
        done = _cli(tmp_path, data)
        assert done.returncode == 2, done.stderr
        assert expected in done.stderr and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
