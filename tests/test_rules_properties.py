"""The scheduling rules against the brute-force reference, on generated scenarios across DST.

tests/test_reference_properties.py already draws date overrides and booking horizons in every
scenario (``tests/strategies.py``); its grid check assumes the block alignment. Here scenarios also
draw a start alignment (the clinic's, sometimes replaced by the settings'), and the properties are:

1. the engine's candidates are the reference's, with the same scores and local dates;
2. the top K is optimal over the reference's candidates (so every slot is free, and on its grid);
3. each horizon rule holds on its own terms, read straight off the candidates: the visit type's
   notice, its advance limit in local dates, and at most N local dates per location with rolling dates.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from hypothesis import assume, given, note
from hypothesis import settings as hsettings

from slotfinder._pipeline import find_slots, list_candidates
from tests.reference import RefCandidate, local_of, once_per_start, optimum, reference_candidates
from tests.strategies import Scenario, scenarios

MORE = hsettings(max_examples=3 * hsettings().max_examples)


def _reference(s: Scenario) -> list[RefCandidate]:
    return once_per_start(reference_candidates(s.clinic, s.request, s.settings, s.now))


def _assert_same(s: Scenario, reference: list[RefCandidate]) -> None:
    engine = {
        (c.start, c.provider_id, c.location_id, c.visit_type, c.room): c
        for c in list_candidates(s.clinic, s.request, s.settings, s.now)
    }
    ref = {c.key: c for c in reference}
    assert sorted(engine.keys() - ref.keys()) == [], "engine candidates the reference does not find"
    assert sorted(ref.keys() - engine.keys(), key=repr) == [], "reference candidates the engine misses"
    for key, e in engine.items():
        r = ref[key]
        assert (e.points, e.duration, e.local_date, e.eligible) == (r.points, r.duration, r.local_date, r.eligible)
        assert e.score == pytest.approx(r.score, abs=1e-6)


@MORE
@given(scenarios(aligned=True))
def test_candidates_match_reference_under_every_alignment(s: Scenario) -> None:
    """Engine candidates == reference candidates with clock and after-busy alignments too."""
    reference = _reference(s)
    note(f"{len(reference)} reference candidates, alignment {s.settings.start_alignment or s.clinic.start_alignment}")
    _assert_same(s, reference)


@MORE
@given(scenarios(dense=True, aligned=True))
def test_candidates_match_reference_under_dense_busy_time_and_every_alignment(s: Scenario) -> None:
    """As above with many busy items over working time, where restarting after busy decides a lot."""
    _assert_same(s, _reference(s))


@given(scenarios(small=True, aligned=True) | scenarios(aligned=True))
def test_top_k_is_optimal_under_every_alignment(s: Scenario) -> None:
    """The slots are reference candidates, as many as the caps allow, then the most points."""
    reference = _reference(s)
    choices = [(c.points, c.local_date, c.provider_id, c.start) for c in reference if c.eligible]
    best = optimum(choices, s.settings.limit, s.settings.per_day, s.settings.per_provider_day)
    assume(best is not None)
    result = find_slots(s.clinic, s.request, s.settings, s.now, relax=False)
    by_key = {c.key: c for c in reference}
    chosen = [
        (x.start, x.provider.id, x.location.id, x.visit_type.code if x.visit_type else None, x.room)
        for x in result.slots
    ]
    assert all(k in by_key for k in chosen), "a slot the reference does not offer"
    assert (len(chosen), sum(by_key[k].points for k in chosen)) == best


@given(scenarios(aligned=True))
def test_horizon_rules_hold_on_every_candidate(s: Scenario) -> None:
    """Read off the engine's candidates: each starts after now plus the stricter notice, on a local date
    at most max_advance_days after today's there, and a rolling type has at most N dates per location."""
    types = {v.code: v for v in s.clinic.visit_types}
    zone_of = {loc.id: loc.time_zone for loc in s.clinic.locations}
    dates: defaultdict[tuple[str, str], set[dt.date]] = defaultdict(set)
    for c in list_candidates(s.clinic, s.request, s.settings, s.now):
        if c.visit_type is None:
            continue
        v = types[c.visit_type]
        assert c.start >= s.now + max(s.settings.min_notice_minutes, v.min_notice_minutes)
        if v.max_advance_days is not None:
            today = local_of(zone_of[c.location_id], s.now)[0]
            assert (c.local_date - today).days <= v.max_advance_days
        dates[(c.visit_type, c.location_id)].add(c.local_date)
    for (code, _location), seen in dates.items():
        limit = types[code].rolling_dates
        assert limit is None or len(seen) <= limit
