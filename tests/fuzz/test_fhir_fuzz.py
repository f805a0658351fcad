"""Fuzzing FHIR bundles: a mutated Bundle of Schedules and Slots is read (some entries skipped) or refused
with InvalidClinic, never anything else, and no planted value comes back in an error or a skipped note.

Each example takes one of the bundles of ``tests/data/fhir`` (a Slot comment, a practitioner's name
and an identifier replaced by a planted sentinel), then overwrites, deletes or adds a key at one to
three of its nodes (``tests/fuzz/hostile.py``). It is read against the clinic of
``tests/clinic_builders`` (with the immunization visit type and the site provider the HL7 and SMART
examples use); what is read is added to the clinic and searched. ``FUZZ_EXAMPLES`` sets how many
examples each property draws (default 150). A long campaign, over 100,000 inputs in the whole
directory: ``FUZZ_EXAMPLES=25000 HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/fuzz``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import slotfinder
from slotfinder._domain import Provider, VisitType
from slotfinder.fhir import read_fhir_bundle
from tests.clinic_builders import ANNEX, MAIN, NOW, NP, OV, P1, P2, PROC, clinic, request, weekly
from tests.fuzz.hostile import SENTINEL, mutated, no_sentinel, paths, preset, typed

PRESET = preset(150)
DATA = Path(__file__).resolve().parents[1] / "data" / "fhir"
IMMUNIZATION = VisitType("57", "http://terminology.hl7.org/CodeSystem/service-type", "Immunization", 15)
SITE = Provider(MAIN.id, "SITE", None, "3N immunization team")
CLINIC = clinic(
    visit_types=(OV, NP, PROC, IMMUNIZATION),
    templates=[weekly(), weekly(provider=P2.id, location=ANNEX.id)],
    providers=(P1, P2, SITE),
)


def _planted(name: str) -> dict[str, Any]:
    """A bundle with a sentinel in every Slot comment, name and identifier value."""
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    for path in list(paths(data)):
        if path and path[-1] in ("comment", "family", "text"):
            node: Any = data
            for step in path[:-1]:
                node = node[step]
            if isinstance(node[path[-1]], str):
                node[path[-1]] = SENTINEL
    return data


BUNDLES = [_planted(path.name) for path in sorted(DATA.glob("*.json"))]


def test_the_planted_bundles_read() -> None:
    """The starting points read (else the fuzz only exercises refusals)."""
    for bundle in BUNDLES:
        items = read_fhir_bundle(bundle, CLINIC)
        assert items.open_times or items.busy
        no_sentinel(*items.skipped, *items.notes)


@PRESET
@given(st.sampled_from(BUNDLES).flatmap(mutated), st.booleans())
def test_mutated_bundles_read_or_raise_a_typed_error(bundle: dict[str, Any], search: bool) -> None:
    """Read, or refused with InvalidClinic; what is read adds to a clinic that answers; nothing planted leaks."""
    try:
        items = read_fhir_bundle(bundle, CLINIC)
    except Exception as error:
        typed(error, slotfinder.InvalidClinic)
        return
    no_sentinel(*items.skipped, *items.notes)
    if search:
        result = slotfinder.find_slots(items.add_to(CLINIC), request(), now=NOW, relax=False)
        no_sentinel(result.reasons)
