"""The incremental prepared clinic: ``updated`` and ``with_busy`` after busy items change answer exactly
as a clinic prepared from scratch (the busy index rebuilt only for the resources the items touch)."""

from __future__ import annotations

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

import slotfinder
from slotfinder import PreparedClinic, prepare
from tests.strategies import Scenario, scenarios


def _same_answers(incremental: PreparedClinic, s: Scenario) -> None:
    fresh = prepare(incremental.clinic)
    assert slotfinder.list_candidates(incremental, s.request, s.settings, s.now) == slotfinder.list_candidates(
        fresh, s.request, s.settings, s.now
    )
    assert slotfinder.find_slots(incremental, s.request, s.settings, s.now, relax=False) == slotfinder.find_slots(
        fresh, s.request, s.settings, s.now, relax=False
    )
    for provider in incremental.clinic.providers:
        assert incremental.provider_busy_time(provider.id) == fresh.provider_busy_time(provider.id)


@settings(max_examples=60)
@given(scenarios(), st.data())
def test_updated_after_busy_changes_matches_a_fresh_preparation(s: Scenario, data: st.DataObject) -> None:
    """Some items held back, then some removed and the held-back ones appended (as a booking, a hold or a
    cancellation changes a clinic): the updated prepared clinic answers as a fresh one."""
    items = s.clinic.busy
    held = data.draw(st.lists(st.sampled_from(range(len(items))), unique=True) if items else st.just([]))
    base = tuple(b for i, b in enumerate(items) if i not in held)
    first = prepare(attrs.evolve(s.clinic, busy=base))
    first_answer = slotfinder.list_candidates(first, s.request, s.settings, s.now)  # fills the index's caches
    dropped = data.draw(st.lists(st.sampled_from(range(len(base))), unique=True) if base else st.just([]))
    after = (*(b for i, b in enumerate(base) if i not in dropped), *(items[i] for i in held))
    updated = first.updated(attrs.evolve(first.clinic, busy=after))
    _same_answers(updated, s)
    assert slotfinder.list_candidates(first, s.request, s.settings, s.now) == first_answer  # the old one stands


@settings(max_examples=30)
@given(scenarios())
def test_with_busy_adds_and_removes(s: Scenario) -> None:
    """``with_busy``: the last item added to a clinic without it, then the first one removed."""
    items = s.clinic.busy
    if not items:
        return
    without = prepare(attrs.evolve(s.clinic, busy=items[:-1]))
    slotfinder.list_candidates(without, s.request, s.settings, s.now)
    added = without.with_busy(added=[items[-1]])
    assert added.clinic.busy == items
    _same_answers(added, s)
    removed = added.with_busy(removed=[items[0]])
    assert items[0] not in removed.clinic.busy
    _same_answers(removed, s)


@settings(max_examples=40)
@given(scenarios(), st.data())
def test_updated_keeps_the_busy_index_when_only_open_time_changes(s: Scenario, data: st.DataObject) -> None:
    """Open time pushed or withdrawn, busy items as they were: the busy index is kept (a PushSlots must not
    rebuild it), and the answers are a fresh preparation's."""
    first = prepare(s.clinic)
    slotfinder.list_candidates(first, s.request, s.settings, s.now)  # fills the index's caches
    kept = data.draw(
        st.lists(st.sampled_from(range(len(s.clinic.open_times))), unique=True) if s.clinic.open_times else st.just([])
    )
    changed = attrs.evolve(
        s.clinic, open_times=[s.clinic.open_times[i] for i in sorted(kept)], busy=list(s.clinic.busy)
    )
    updated = first.updated(changed)
    assert updated.busy is first.busy
    _same_answers(updated, s)


@settings(max_examples=40)
@given(scenarios())
def test_updated_rebuilds_the_busy_index_when_buffers_change(s: Scenario) -> None:
    """A visit type's buffers changed, busy items as they were: the index (whose busy time is buffered)
    is rebuilt, and the answers are a fresh preparation's."""
    first = prepare(s.clinic)
    widened = [attrs.evolve(v, buffer_after=v.buffer_after + 15) for v in s.clinic.visit_types]
    updated = first.updated(attrs.evolve(s.clinic, visit_types=widened))
    assert updated.busy is not first.busy
    _same_answers(updated, s)
