"""Fuzzing clinic files: a mutated clinic loads (and is searched) or is refused with InvalidClinic, never
anything else, and no planted value (a patient identifier, a name, a key) comes back in an error.

Each example takes the bundled demo clinic, plants a sentinel as a patient identifier and a name,
then overwrites, deletes or adds a key at one to three of its nodes (``tests/fuzz/hostile.py``). A clinic
that loads is then searched with the seed request. ``FUZZ_EXAMPLES`` sets how many
examples each property draws (default 150). A long campaign, over 100,000 inputs in the whole
directory: ``FUZZ_EXAMPLES=25000 HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/fuzz``.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

from hypothesis import given

import slotfinder
from slotfinder._calendars.clinic_file import check_clinic
from tests.fuzz.hostile import SENTINEL, mutated, no_sentinel, preset, typed
from tests.support import seed

PRESET = preset(150)


def planted_clinic() -> dict[str, Any]:
    """The demo clinic's JSON with sentinels where patient data and names live."""
    data: dict[str, Any] = json.loads(resources.files("slotfinder").joinpath("data/demo_clinic.json").read_text())
    data = copy.deepcopy(data)
    data["busy"][0]["patients"] = [{"id": SENTINEL, "id_type": "MR"}]
    data["providers"][0]["last_name"] = SENTINEL
    return data


CLINIC = planted_clinic()


@PRESET
@given(mutated(CLINIC))
def test_mutated_clinics_load_or_raise_a_typed_error(data: dict[str, Any]) -> None:
    """A mutated clinic loads or is refused with InvalidClinic, leaking nothing planted; one that loads answers."""
    try:
        clinic = slotfinder.load_clinic(data)
    except Exception as error:
        typed(error, slotfinder.InvalidClinic, slotfinder.UnknownTimeZone)
        return
    check_clinic(clinic)  # what loaded passes the file's rules again, from Python
    try:
        result = slotfinder.find_slots_redox(seed(), clinic)
    except Exception as error:
        typed(error)
        return
    no_sentinel(result.ignored, result.reasons)
    json.dumps(result.to_redox())
