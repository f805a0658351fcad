"""Pooled resources (docs/clinic-format.md, "Pools"), as allows/forbids pairs, and against the reference.

The default clinic of ``tests/clinic_builders.py``: P1 at MAIN (rooms 136, 137) weekdays 09:00-12:00
on a 15-minute grid. Here MAIN has a pool of infusion chairs; INF (30 min) needs one chair, INF2 two.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from attrs import evolve
from hypothesis import given, note
from hypothesis import settings as hsettings

from slotfinder._domain import Busy, BusyKind, Clinic, Location, Need, Pool, VisitType, VisitTypeFilter, WeeklyTemplate
from slotfinder._pipeline import find_slots, list_candidates
from slotfinder._settings import Settings
from slotfinder._solve.pools import most_occupied
from tests.clinic_builders import ANNEX, MAIN, MONDAY, NOW, NP, OV, P2, PROC, at, clinic, offered, request, weekly
from tests.reference import once_per_start, optimum, reference_candidates
from tests.strategies import Scenario, scenarios

INF = VisitType("INF", "DNE", "Infusion", 30, needs=(Need("CHAIR", 1),))
INF2 = VisitType("INF2", "DNE", "Double infusion", 30, needs=(Need("CHAIR", 2),))
ASK_INF = request(visit_types=[VisitTypeFilter("INF")])
ASK_INF2 = request(visit_types=[VisitTypeFilter("INF2")])


def _main(chairs: int) -> Location:
    return evolve(MAIN, pools=(Pool("CHAIR", chairs),))


def _chairs(
    start: str,
    end: str,
    units: int = 1,
    *,
    kind: BusyKind = BusyKind.BOOKING,
    provider: str | None = None,
    visit_type: str | None = None,
    reserved_for: tuple[str, ...] = (),
    location: str = MAIN.id,
) -> Busy:
    """An item taking ``units`` chairs at MAIN on MONDAY between two wall times."""
    return Busy(
        kind,
        at(MONDAY, start),
        at(MONDAY, end),
        provider_id=provider,
        location_id=location,
        pool="CHAIR",
        pool_units=units,
        reserved_for=reserved_for,
        visit_type=visit_type,
    )


def _clinic(
    chairs: int,
    *busy: Busy,
    types: tuple[VisitType, ...] = (INF, INF2),
    templates: Sequence[WeeklyTemplate] | None = None,
) -> Clinic:
    """The default clinic with ``chairs`` chairs at MAIN, the infusion types and ``busy``."""
    return clinic(locations=(_main(chairs), ANNEX), visit_types=(OV, NP, PROC, *types), busy=busy, templates=templates)


# ---- units free: allows / forbids ----------------------------------------------------------------


def test_a_free_unit_allows_the_visit() -> None:
    """Two chairs, one taken 10:00-11:00 by another patient's infusion: a 10:00 infusion still fits."""
    where = _clinic(2, _chairs("10:00", "11:00"))
    assert offered(where, ASK_INF, at(MONDAY, "10:00"))


def test_every_unit_taken_forbids_the_visit() -> None:
    """One chair, taken 10:00-11:00: no infusion overlapping that hour; right before and after are open."""
    where = _clinic(1, _chairs("10:00", "11:00"))
    assert not offered(where, ASK_INF, at(MONDAY, "10:00"))
    assert not offered(where, ASK_INF, at(MONDAY, "09:45"))
    assert offered(where, ASK_INF, at(MONDAY, "09:30"))
    assert offered(where, ASK_INF, at(MONDAY, "11:00"))


def test_units_of_items_add_up_minute_by_minute() -> None:
    """Three chairs: 1 taken 09:00-10:00 and 2 taken 09:30-11:00: 09:30-10:00 has none free, 10:00 has one."""
    where = _clinic(3, _chairs("09:00", "10:00"), _chairs("09:30", "11:00", 2))
    assert not offered(where, ASK_INF, at(MONDAY, "09:30"))
    assert offered(where, ASK_INF, at(MONDAY, "10:00"))
    assert offered(where, ASK_INF, at(MONDAY, "09:00"))  # 09:00-09:30: at most two taken, one free


def test_a_visit_needing_k_units_allows_with_k_free() -> None:
    """Three chairs, one taken: a visit needing two fits."""
    assert offered(_clinic(3, _chairs("10:00", "11:00")), ASK_INF2, at(MONDAY, "10:00"))


def test_a_visit_needing_k_units_forbids_with_fewer_free() -> None:
    """Two chairs, one taken: a visit needing two does not fit then, but does where both are free."""
    where = _clinic(2, _chairs("10:00", "11:00"))
    assert not offered(where, ASK_INF2, at(MONDAY, "10:00"))
    assert offered(where, ASK_INF2, at(MONDAY, "11:00"))


def test_a_location_with_enough_units_offers_the_type() -> None:
    """MAIN has two chairs: a visit needing two is offered there."""
    assert offered(_clinic(2), ASK_INF2, at(MONDAY, "09:00"))


def test_a_location_without_the_kind_or_too_few_units_offers_nothing() -> None:
    """One chair cannot hold a visit needing two; a location without chairs holds no infusion at all."""
    assert list_candidates(_clinic(1), ASK_INF2, Settings(), NOW) == []
    bare = clinic(visit_types=(OV, INF))
    assert list_candidates(bare, ASK_INF, Settings(), NOW) == []


def test_units_are_per_location() -> None:
    """Chairs taken at ANNEX do not take MAIN's chairs."""
    annex = evolve(ANNEX, pools=(Pool("CHAIR", 1),))
    where = clinic(
        locations=(_main(1), annex),
        visit_types=(OV, INF),
        busy=[_chairs("10:00", "11:00", location=ANNEX.id)],
    )
    assert offered(where, ASK_INF, at(MONDAY, "10:00"))


def test_units_are_shared_between_providers() -> None:
    """P2's infusion at MAIN takes the only chair: P1 cannot start one then (the pool is the location's)."""
    templates = [weekly(), weekly(provider=P2.id)]
    where = _clinic(1, _chairs("10:00", "10:30", provider=P2.id), templates=templates)
    assert not offered(where, ASK_INF, at(MONDAY, "10:00"))
    assert offered(where, ASK_INF, at(MONDAY, "10:30"))


def test_an_item_with_a_pool_is_not_a_closure() -> None:
    """An item naming a location and a pool but no provider takes chairs only: other visits stay open."""
    where = _clinic(1, _chairs("10:00", "11:00"))
    assert offered(where, request(), at(MONDAY, "10:00"))


def test_visits_without_needs_ignore_pools() -> None:
    """Every chair taken: an Office Visit, which needs none, is still offered."""
    where = _clinic(1, _chairs("09:00", "12:00"))
    assert offered(where, request(), at(MONDAY, "09:00"))


def test_a_reserved_block_keeps_units_for_its_types_only() -> None:
    """A block of the only chair reserved for INF is open to INF and keeps the chair from INF2."""
    single = evolve(INF2, needs=(Need("CHAIR", 1),))
    where = _clinic(1, _chairs("10:00", "11:00", kind=BusyKind.BLOCK, reserved_for=("INF",)), types=(INF, single))
    assert offered(where, ASK_INF, at(MONDAY, "10:00"))
    assert not offered(where, ASK_INF2, at(MONDAY, "10:00"))


# ---- buffers -------------------------------------------------------------------------------------


def test_an_items_buffer_takes_its_units() -> None:
    """An INF booked 10:00-10:30 with 15 minutes of cleaning after keeps its chair to 10:45."""
    cleaned = evolve(INF, buffer_after=15)
    where = _clinic(1, _chairs("10:00", "10:30", visit_type="INF"), types=(cleaned,))
    assert not offered(where, ASK_INF, at(MONDAY, "10:30"), settings=Settings(start_interval=15))
    assert offered(where, ASK_INF, at(MONDAY, "11:00"), settings=Settings(start_interval=15))


def test_the_new_visits_own_buffer_needs_the_units_free() -> None:
    """A new INF with 15 minutes of preparation cannot start at 11:00 when the only chair is taken to 10:50;
    without the buffer it can."""
    prepared = evolve(INF, buffer_before=15)
    taken = _chairs("10:20", "10:50")
    assert not offered(_clinic(1, taken, types=(prepared,)), ASK_INF, at(MONDAY, "11:00"))
    assert offered(_clinic(1, taken, types=(INF,)), ASK_INF, at(MONDAY, "11:00"))


# ---- the worked example of docs/clinic-format.md ------------------------------------------------------


def test_the_documented_worked_example() -> None:
    """docs/clinic-format.md, "Pooled resources": 3 chairs, an infusion 09:00-11:00 with 15 minutes of
    cleaning, two chairs blocked 10:00-11:00; which Infusion and Paired infusion starts are offered."""
    infusion = VisitType("310", "DNER15", "Infusion", 120, needs=(Need("CHAIR"), Need("PUMP")), buffer_after=15)
    paired = VisitType("320", "DNER15", "Paired infusion", 90, needs=(Need("CHAIR", 2),))
    suite = evolve(MAIN, pools=(Pool("CHAIR", 3), Pool("PUMP", 2)))
    where = clinic(
        locations=(suite, ANNEX),
        visit_types=(OV, infusion, paired),
        templates=[weekly(start="08:00", end="13:00", slot_length=30)],
        busy=[
            _chairs("09:00", "11:00", provider=P2.id, visit_type="310"),
            _chairs("10:00", "11:00", 2, kind=BusyKind.BLOCK),
        ],
    )
    ask_310, ask_320 = request(visit_types=[VisitTypeFilter("310")]), request(visit_types=[VisitTypeFilter("320")])
    assert [offered(where, ask_310, at(MONDAY, t)) for t in ("11:00", "09:00", "08:30", "08:00")] == [
        True,
        False,
        False,
        False,
    ]
    assert [offered(where, ask_320, at(MONDAY, t)) for t in ("11:00", "08:00", "09:00", "10:30")] == [
        True,
        True,
        False,
        False,
    ]
    single = evolve(where, locations=(evolve(suite, pools=(Pool("CHAIR", 1), Pool("PUMP", 2))), ANNEX))
    assert list_candidates(single, ask_320, Settings(), NOW) == []


# ---- the step-function maximum ---------------------------------------------------------------------


def test_most_occupied_is_the_brute_force_maximum() -> None:
    """The sparse-table range maximum equals a minute-by-minute count on a busy little example."""
    spans = [(0, 10, 1), (5, 20, 2), (8, 9, 3), (30, 40, 1), (35, 36, 4)]
    starts = np.array([-5, 0, 4, 9, 10, 20, 25, 35, 39], dtype=np.int64)
    ends = np.array([0, 5, 9, 10, 30, 31, 30, 36, 50], dtype=np.int64)
    got = most_occupied(spans, starts, ends)
    for s, e, g in zip(starts, ends, got, strict=True):
        expected = max(sum(u for a, b, u in spans if a <= m < b) for m in range(int(s), int(e)))
        assert g == expected, (s, e)


# ---- properties: the engine and the reference agree on pooled scenarios -----------------------------


MORE = hsettings(max_examples=4 * hsettings().max_examples)


def _same(s: Scenario) -> None:
    engine = {
        (c.start, c.provider_id, c.location_id, c.visit_type, c.room): c.points
        for c in list_candidates(s.clinic, s.request, s.settings, s.now)
    }
    ref = {c.key: c.points for c in once_per_start(reference_candidates(s.clinic, s.request, s.settings, s.now))}
    note(f"{len(ref)} reference candidates")
    assert engine == ref


@MORE
@given(scenarios(pooled=True))
def test_pooled_candidates_match_reference(s: Scenario) -> None:
    """With chairs at every location and most visit types needing some, engine candidates == reference's."""
    _same(s)


@MORE
@given(scenarios(dense=True, pooled=True))
def test_pooled_candidates_match_reference_under_dense_busy_time(s: Scenario) -> None:
    """As above with one provider, one location and busy time all over working time."""
    _same(s)


@given(scenarios(pooled=True, aligned=True))
def test_pooled_top_k_is_optimal(s: Scenario) -> None:
    """The slots are reference candidates (so their chairs are free), as many as the caps allow, then the best."""
    reference = once_per_start(reference_candidates(s.clinic, s.request, s.settings, s.now))
    choices = [(c.points, c.local_date, c.provider_id, c.start) for c in reference if c.eligible]
    best = optimum(choices, s.settings.limit, s.settings.per_day, s.settings.per_provider_day)
    if best is None:
        return
    result = find_slots(s.clinic, s.request, s.settings, s.now, relax=False)
    by_key = {c.key: c for c in reference}
    chosen = [
        (x.start, x.provider.id, x.location.id, x.visit_type.code if x.visit_type else None, x.room)
        for x in result.slots
    ]
    assert all(k in by_key for k in chosen), "a slot the reference does not offer"
    assert (len(chosen), sum(by_key[k].points for k in chosen)) == best
