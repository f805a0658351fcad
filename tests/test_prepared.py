"""The prepared clinic: explicit per-clinic state in place of process-global caches."""

from __future__ import annotations

import datetime as dt
import gc
import weakref

import attrs
from hypothesis import given
from hypothesis import strategies as st

import slotfinder
from slotfinder import Busy, BusyKind, PreparedClinic, frames, prepare
from tests.strategies import Scenario, scenarios


def _keys(result: slotfinder.SlotResult) -> list[tuple[int, str, str | None]]:
    return [(s.start, s.provider.id, s.room) for s in result.slots]


@given(scenarios(), st.integers(min_value=1, max_value=3))
def test_prepared_and_plain_clinic_give_the_same_answer(s: Scenario, repeats: int) -> None:
    """A prepared clinic searched again and again answers exactly as the plain clinic does once."""
    plain = slotfinder.find_slots(s.clinic, s.request, s.settings, s.now, relax=False)
    prepared = prepare(s.clinic)
    for _ in range(repeats):
        again = slotfinder.find_slots(prepared, s.request, s.settings, s.now, relax=False)
        assert again == plain
    assert slotfinder.list_candidates(prepared, s.request, s.settings, s.now) == slotfinder.list_candidates(
        s.clinic, s.request, s.settings, s.now
    )


def _seed_search() -> tuple[slotfinder.Clinic, slotfinder.SlotRequest, int]:
    clinic = slotfinder.demo_clinic()
    parsed = slotfinder.parse_request(frames.demo_request())
    assert parsed.now is not None
    return clinic, parsed.request, parsed.now


def test_updated_sees_a_new_booking() -> None:
    """After a booking over the best slot, the updated prepared clinic no longer offers it."""
    clinic, request, now = _seed_search()
    prepared = prepare(clinic)
    best = slotfinder.find_slots(prepared, request, now=now).slots[0]
    booked = Busy(
        kind=BusyKind.BOOKING,
        start=best.start,
        end=best.start + best.duration,
        provider_id=best.provider.id,
        location_id=best.location.id,
        room=best.room,
    )
    changed = attrs.evolve(clinic, busy=(*clinic.busy, booked))
    after = slotfinder.find_slots(prepared.updated(changed), request, now=now)
    assert (best.start, best.provider.id) not in {(s.start, s.provider.id) for s in after.slots}
    # ... and the old prepared clinic still answers for the old calendars (it is immutable)
    assert slotfinder.find_slots(prepared, request, now=now).slots[0] == best


def test_updated_keeps_template_expansions() -> None:
    """Expansions of unchanged templates are reused: the same block objects come back."""
    clinic, _, _ = _seed_search()
    prepared = prepare(clinic)
    first, last = dt.date(2025, 10, 20), dt.date(2025, 11, 2)
    before = prepared.blocks(first, last)
    after = prepared.updated(attrs.evolve(clinic, busy=())).blocks(first, last)
    assert before == after and before
    assert any(a is b for a, b in zip(before, after, strict=True))


def test_prepare_returns_a_prepared_clinic_as_it_is() -> None:
    """prepare() is idempotent: a prepared clinic is not prepared twice."""
    prepared = prepare(slotfinder.demo_clinic())
    assert prepare(prepared) is prepared
    assert isinstance(prepared, PreparedClinic) and prepared.clinic == slotfinder.demo_clinic()


def test_a_search_keeps_no_clinic_alive() -> None:
    """Nothing in the engine holds on to a clinic after a search returns (no process-global cache)."""
    clinic, request, now = _seed_search()
    copy = attrs.evolve(clinic)
    ref = weakref.ref(copy)
    slotfinder.find_slots(copy, request, now=now)
    del copy
    gc.collect()
    assert ref() is None
