"""The honest floor (``benchmarks/floor.py``) finds exactly the engine's candidates: same provider, location,
start and end, on random scenarios around DST transitions and on generated health systems.

The floor models templates, openings, date overrides, open times, busy time of every kind (reserved
blocks and their release, closures, the patient's own appointments), ``start_interval``, the minimum
notice of the settings, provider filters and location filters by id, and, in
``test_floor_matches_engine_with_rooms_and_equipment``, rooms and equipment. The random scenarios are
restricted to that: visit types lose buffers, booking horizons, pooled needs and seats (group visits;
rooms and equipment too, except where said), the clinic loses its booking limits and keeps the
``"block"`` start alignment, a request asks at most one visit type and filters locations by id only.
Items the clinic file rules reject (``check_clinic``, which the engine applies) are dropped.
"""

from __future__ import annotations

import re
from typing import Any

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import settings as hypothesis_settings

from benchmarks.floor import Floor, Unmodelled, floor_candidates
from slotfinder import InvalidClinic, Settings, check_clinic, list_candidates
from slotfinder._domain import Busy, BusyKind, Clinic, LocationFilter, StartAlignment, VisitType
from slotfinder.planning import ScenarioSpec, generate, request_for
from tests.strategies import Scenario, scenarios

Found = set[tuple[str, str, int, int]]


def _plain(visit_type: VisitType, resources: bool) -> VisitType:
    if not resources:
        visit_type = attrs.evolve(visit_type, needs_room=False, rooms=(), equipment=())
    return attrs.evolve(
        visit_type,
        needs=(),
        buffer_before=0,
        buffer_after=0,
        min_notice_minutes=0,
        max_advance_days=None,
        rolling_dates=None,
        seats=1,
    )


_LISTED = re.compile(r"^\$\.(busy|templates|openings|open_times|date_overrides)\[(\d+)\]")


def _busy_item(item: Busy, codes: set[str]) -> Busy:
    """A busy item as the file rules allow: reserved for known types only, a release only with them."""
    reserved = tuple(c for c in item.reserved_for if c in codes)
    if item.kind is not BusyKind.BLOCK or not reserved:
        return attrs.evolve(item, reserved_for=(), release_before=None)
    return attrs.evolve(item, reserved_for=reserved)


def _valid(clinic: Clinic) -> Clinic | None:
    """The clinic less the items the file rules reject (``check_clinic``; the engine checks them when it
    prepares a clinic): the strategies draw some that name a missing room, pool, unit or provider."""
    codes = {v.code for v in clinic.visit_types}
    clinic = attrs.evolve(clinic, busy=tuple(_busy_item(b, codes) for b in clinic.busy))
    for _ in range(3):
        try:
            check_clinic(clinic)
        except InvalidClinic as error:
            found = [_LISTED.match(p.path) for p in error.problems]
            if not all(found):
                return None  # a problem outside the lists of items: leave the scenario out
            dropped = {(m.group(1), int(m.group(2))) for m in found if m}
            kept: dict[str, Any] = {
                key: tuple(x for i, x in enumerate(getattr(clinic, key)) if (key, i) not in dropped)
                for key in {key for key, _ in dropped}
            }
            clinic = attrs.evolve(clinic, **kept)
        else:
            return clinic
    return None


def _modelled(scenario: Scenario, resources: bool = False) -> Scenario:
    """The scenario without the rules the floor does not model (see the module docstring), and valid."""
    clinic = _valid(
        attrs.evolve(
            scenario.clinic,
            visit_types=tuple(_plain(v, resources) for v in scenario.clinic.visit_types),
            booking_limits=(),
            start_alignment=StartAlignment.BLOCK,
        )
    )
    assume(clinic is not None)
    assert clinic is not None
    request = attrs.evolve(
        scenario.request,
        locations=tuple(LocationFilter(id=f.id) for f in scenario.request.locations if f.id is not None),
        visit_types=scenario.request.visit_types[:1],
    )
    return Scenario(clinic, request, attrs.evolve(scenario.settings, start_alignment=None), scenario.now)


def _engine(scenario: Scenario) -> Found:
    found = list_candidates(scenario.clinic, scenario.request, scenario.settings, scenario.now)
    return {(c.provider_id, c.location_id, c.start, c.start + c.duration) for c in found}


def _floor(scenario: Scenario) -> list[tuple[str, str, int, int]]:
    return floor_candidates(Floor(scenario.clinic), scenario.request, scenario.settings, scenario.now)


@hypothesis_settings(max_examples=30)
@given(scenarios())
def test_floor_matches_engine(drawn: Scenario) -> None:
    """Every candidate of the engine, and no other, each once, on provider-only searches."""
    scenario = _modelled(drawn)
    found = _floor(scenario)
    assert len(found) == len(set(found))
    assert set(found) == _engine(scenario)


@hypothesis_settings(max_examples=20)
@given(scenarios(dense=True))
def test_floor_matches_engine_dense(drawn: Scenario) -> None:
    """Dense scenarios: reserved blocks, releases and the patient's own items decide most starts."""
    scenario = _modelled(drawn)
    assert set(_floor(scenario)) == _engine(scenario)


@hypothesis_settings(max_examples=25)
@given(scenarios(dense=True) | scenarios())
def test_floor_matches_engine_with_rooms_and_equipment(drawn: Scenario) -> None:
    """Visit types keep their rooms (``needs_room``, ``rooms``, the block's room) and equipment units."""
    scenario = _modelled(drawn, resources=True)
    assert set(_floor(scenario)) == _engine(scenario)


@pytest.mark.parametrize("visit_type", ["OV", "PROC"])
def test_floor_matches_engine_on_generated_system_with_rooms(visit_type: str) -> None:
    """Rooms and equipment on: OV takes an exam room, PROC a procedure room and the ultrasound."""
    scenario = generate(ScenarioSpec(seed=4, providers=8, days=10, grain=5, booked=0.8, rooms=True, equipment=True))
    query = request_for(scenario, 10, visit_type)
    engine = _engine(Scenario(scenario.clinic, query.request, query.settings, query.now))
    found = floor_candidates(Floor(scenario.clinic), query.request, query.settings, query.now)
    assert set(found) == engine and len(found) == len(engine) > 50


def test_floor_refuses_what_it_does_not_model() -> None:
    """A rule the floor lacks is refused, never silently ignored."""
    scenario = generate(ScenarioSpec(seed=1, providers=2, days=3))
    query = request_for(scenario, 3, "OV")
    with pytest.raises(Unmodelled):
        floor_candidates(Floor(scenario.clinic), query.request, Settings(start_alignment="clock"), query.now)


@pytest.mark.parametrize(("start_interval", "shift"), [(None, 0), (None, 67), (15, 0)])
def test_floor_matches_engine_on_generated_system(start_interval: int | None, shift: int) -> None:
    """A generated health system across both zones' autumn DST changes (London 26 Oct, New York 2 Nov):
    the same candidates, and the earliest K are the engine's candidates sorted by start."""
    scenario = generate(ScenarioSpec(seed=5, providers=6, days=16, grain=5, booked=0.8))
    query = request_for(scenario, 16, "OV")
    request = attrs.evolve(query.request, start=query.request.start + shift)
    settings = Settings(limit=20, start_interval=start_interval)
    floor = Floor(scenario.clinic)
    found = floor_candidates(floor, request, settings, query.now)
    engine = _engine(Scenario(scenario.clinic, request, settings, query.now))
    assert set(found) == engine and len(found) == len(engine) > 50
    earliest = sorted(engine, key=lambda c: (c[2], c[0], c[1]))[:20]
    assert floor_candidates(floor, request, settings, query.now, limit=20) == earliest


def test_floor_keeps_its_expansions() -> None:
    """Warm help like the engine's prepared clinic: a date range is expanded once, then reused."""
    scenario = generate(ScenarioSpec(seed=2, providers=3, days=7))
    query = request_for(scenario, 7, "OV")
    floor = Floor(scenario.clinic)
    first = floor_candidates(floor, query.request, query.settings, query.now, limit=5)
    assert floor_candidates(floor, query.request, query.settings, query.now, limit=5) == first
    assert len(first) == 5 and all(query.request.start <= start for _, _, start, _ in first)
    assert floor.blocks(20_380, 20_390, None) is floor.blocks(20_380, 20_390, None)
