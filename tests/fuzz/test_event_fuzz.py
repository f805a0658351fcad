"""Fuzzing Redox scheduling events through the calendar store: a mutated New, Cancel, Reschedule or
PushSlots is applied or logged as rejected, never raised, and the store stays readable and searchable.

Each example takes one of four real events (a patient identifier and a name replaced by a planted
sentinel), overwrites, deletes or adds a key at one to three of its nodes (``tests/fuzz/hostile.py``)
and hands its JSON text to ``CalendarStore.ingest`` on a temporary store holding the demo clinic.
Nothing planted may come back in the anomalies the store records. ``FUZZ_EXAMPLES`` sets how many
examples each property draws (default 150). A long campaign, over 100,000 inputs in the whole
directory: ``FUZZ_EXAMPLES=25000 HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/fuzz``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import slotfinder
from slotfinder.store import CalendarStore
from tests.fuzz.hostile import SENTINEL, mutated, no_sentinel, preset
from tests.server.running import demo_store
from tests.support import example, seed

PRESET = preset(150)


def _events() -> list[dict[str, Any]]:
    new = example("new.json")
    new["Patient"]["Identifiers"][0]["ID"] = SENTINEL
    new["Visit"]["AttendingProvider"]["LastName"] = SENTINEL
    cancel = copy.deepcopy(new)
    cancel["Meta"]["EventType"] = "Cancel"
    reschedule = copy.deepcopy(new)
    reschedule["Meta"]["EventType"] = "Reschedule"
    reschedule["Visit"]["OldVisitNumber"] = new["Visit"]["VisitNumber"]
    reschedule["Visit"]["OldDateTime"] = new["Visit"]["VisitDateTime"]
    reschedule["Visit"]["VisitDateTime"] = "2025-10-24T15:00:00Z"
    push = example("pushslots.json")
    push["Slots"][0]["Provider"]["LastName"] = SENTINEL
    return [new, cancel, reschedule, push]


EVENTS = _events()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CalendarStore]:
    """One store for every example of the module: events pile up as they would in a feed."""
    path = demo_store(tmp_path_factory.mktemp("fuzz") / "clinic.db")
    with CalendarStore(path) as opened:
        yield opened


def test_the_unmutated_events_apply(store: CalendarStore) -> None:
    """The starting points are events the store applies (else the fuzz only exercises rejections)."""
    for event in EVENTS:
        done = store.ingest(json.dumps(event))
        assert done.applied, done.anomalies


@PRESET
@given(st.sampled_from(EVENTS).flatmap(mutated), st.booleans())
def test_mutated_events_are_applied_or_rejected(store: CalendarStore, message: dict[str, Any], search: bool) -> None:
    """Applied, or logged as rejected with its problems; never raised, never a planted value in an anomaly."""
    done = store.ingest(json.dumps(message))
    no_sentinel(*done.anomalies)
    if search:  # what was applied leaves a clinic that loads and answers
        result = slotfinder.find_slots_redox(seed(), store.snapshot())
        no_sentinel(result.reasons)


def test_the_log_and_anomalies_hold_no_planted_value(store: CalendarStore) -> None:
    """Rejections are logged as paths and rules: no planted value reaches the anomalies table."""
    no_sentinel(*(rule for _, rule in store.anomalies()))


def test_text_that_is_not_a_message_is_rejected(tmp_path: Path) -> None:
    """Bytes that are not JSON, JSON that is not an object, too deep: rejected and logged, not raised."""
    with CalendarStore(demo_store(tmp_path / "clinic.db")) as opened:
        for text in ("", "{", "[]", "null", json.dumps(SENTINEL), "[" * 5000 + "]" * 5000, '{"Meta": ' * 40):
            done = opened.ingest(text)
            assert not done.applied
            no_sentinel(*done.anomalies)
