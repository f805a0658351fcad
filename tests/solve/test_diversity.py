"""Diversity that does not nest with the caps, decided by CP-SAT: per-provider cap, distinct providers, spread.

Each setting has an allows/forbids pair on a hand-built clinic, and the engine's answer is checked
against an exhaustive reference (every subset of the reference's candidates) on generated clinics,
with small K so that the within-provider pruning bites.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence

from attrs import evolve
from hypothesis import assume, given
from hypothesis import strategies as st

from slotfinder import Settings, find_slots
from slotfinder._solve.problem import NOON
from tests.clinic_builders import NOW, P1, P2, clinic, request, weekly
from tests.reference import RefCandidate, once_per_start, reference_candidates
from tests.strategies import Scenario, scenarios

MORNINGS = weekly(start="09:00", end="12:00")


def _providers(result_slots: Sequence[object]) -> Counter[str]:
    return Counter(s.provider.id for s in result_slots)  # type: ignore[attr-defined]


# ---- per_provider -------------------------------------------------------------------------------


def test_forbids_more_offers_of_one_provider_than_per_provider() -> None:
    """per_provider=2 with two providers and K=6: two offers each, so the answer stops at four."""
    where = clinic(templates=[MORNINGS, weekly(provider=P2.id, start="13:00", end="16:00")])
    result = find_slots(where, request(days=5), Settings(limit=6, per_provider=2), NOW)
    assert result.method == "cp-sat" and result.complete
    assert _providers(result.slots) == Counter({P1.id: 2, P2.id: 2})


def test_allows_one_provider_to_fill_the_answer_without_per_provider() -> None:
    """Without per_provider the same search gives P1 every slot its caps allow (the ranking answers)."""
    where = clinic(templates=[MORNINGS, weekly(provider=P2.id, start="13:00", end="16:00")])
    result = find_slots(where, request(days=5), Settings(limit=6), NOW)
    assert result.method == "ranking"
    assert _providers(result.slots)[P1.id] > 2


# ---- min_providers ------------------------------------------------------------------------------


def test_forbids_a_single_provider_answer_when_two_can_be_offered() -> None:
    """min_providers=2: P2's (later, lower-scoring) afternoon still gets a place in a K=2 answer."""
    where = clinic(templates=[MORNINGS, weekly(provider=P2.id, start="13:00", end="16:00")])
    without = find_slots(where, request(days=1), Settings(limit=2), NOW)
    assert set(_providers(without.slots)) == {P1.id}
    result = find_slots(where, request(days=1), Settings(limit=2, min_providers=2), NOW)
    assert set(_providers(result.slots)) == {P1.id, P2.id}


def test_allows_a_single_provider_answer_when_only_one_works() -> None:
    """min_providers=2 with only P1 working: the answer is still full, from P1 alone (the minimum is best effort)."""
    result = find_slots(clinic(templates=[MORNINGS]), request(days=1), Settings(limit=2, min_providers=2), NOW)
    assert len(result.slots) == 2 and set(_providers(result.slots)) == {P1.id}


# ---- spread -------------------------------------------------------------------------------------


def test_forbids_an_all_morning_answer_when_an_afternoon_exists() -> None:
    """spread: one P1 day 09:00-17:00, K=2: one offer before noon and one after."""
    where = clinic(templates=[weekly(start="09:00", end="17:00")])
    plain = find_slots(where, request(days=1), Settings(limit=2), NOW)
    assert all(s.local_time.hour < NOON // 60 for s in plain.slots)
    result = find_slots(where, request(days=1), Settings(limit=2, spread=True), NOW)
    assert sorted(s.local_time.hour < NOON // 60 for s in result.slots) == [False, True]


def test_allows_an_all_morning_answer_when_no_afternoon_exists() -> None:
    """spread with mornings only: the answer is the plain ranking's."""
    where = clinic(templates=[MORNINGS])
    plain = find_slots(where, request(days=1), Settings(limit=2), NOW)
    spread = find_slots(where, request(days=1), Settings(limit=2, spread=True), NOW)
    assert [(s.start, s.provider.id) for s in spread.slots] == [(s.start, s.provider.id) for s in plain.slots]


# ---- against an exhaustive reference -------------------------------------------------------------


def _value(chosen: Sequence[RefCandidate], settings: Settings) -> tuple[int, int, int]:
    """(slots, diversity points, total points): what the engine maximises, in that order."""
    diversity = 0
    if settings.min_providers > 1:
        diversity += min(len({c.provider_id for c in chosen}), settings.min_providers)
    if settings.spread:
        diversity += len({c.local_minute >= NOON for c in chosen})
    return len(chosen), diversity, sum(c.points for c in chosen)


def _feasible(chosen: Sequence[RefCandidate], settings: Settings) -> bool:
    per = (
        Counter(c.local_date for c in chosen).values(),
        Counter((c.provider_id, c.local_date) for c in chosen).values(),
        Counter((c.provider_id, c.start) for c in chosen).values(),
        Counter(c.provider_id for c in chosen).values(),
    )
    caps = (settings.per_day, settings.per_provider_day, 1, settings.per_provider or settings.limit)
    return all(max(counts, default=0) <= cap for counts, cap in zip(per, caps, strict=True))


@st.composite
def _diverse(draw: st.DrawFn) -> Scenario:
    s = draw(scenarios(small=True))
    settings = evolve(
        s.settings,
        limit=draw(st.integers(1, 3)),
        per_provider=draw(st.none() | st.integers(1, 2)),
        min_providers=draw(st.integers(1, 3)),
        spread=draw(st.booleans()),
    )
    return Scenario(clinic=s.clinic, request=s.request, settings=settings, now=s.now)


@given(_diverse())
def test_diverse_answer_is_the_exhaustive_optimum(s: Scenario) -> None:
    """Slots, then diversity, then points: the engine's value equals the best over every feasible subset."""
    candidates = [c for c in once_per_start(reference_candidates(s.clinic, s.request, s.settings, s.now)) if c.eligible]
    assume(len(candidates) <= 40)
    best = (0, 0, 0)
    for k in range(1, min(s.settings.limit, len(candidates)) + 1):
        for combo in itertools.combinations(candidates, k):
            if _feasible(combo, s.settings):
                best = max(best, _value(combo, s.settings))
    result = find_slots(s.clinic, s.request, s.settings, s.now, relax=False)
    assert result.complete
    by_key = {c.key: c for c in candidates}
    chosen = [by_key[(x.start, x.provider.id, x.location.id, x.visit_type.code if x.visit_type else None, x.room)]
              for x in result.slots]  # fmt: skip
    assert _feasible(chosen, s.settings)
    assert _value(chosen, s.settings) == best
