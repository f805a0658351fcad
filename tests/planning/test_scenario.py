"""The scenario generator: reproducible, valid engine input for many seeds, and it does what the spec says."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections import defaultdict

import attrs
import pytest

from slotfinder import Busy, BusyKind, Clinic, check_clinic, clinic_to_dict, find_slots, load_clinic, prepare, walltime
from slotfinder.planning import (
    SPECIALTIES,
    BookingStatus,
    Scenario,
    ScenarioSpec,
    dst_changes,
    generate,
    request_for,
)

SMALL = ScenarioSpec(seed=3, providers=4, days=10)


def _booked_share(scenario: Scenario) -> float:
    """Provider busy time over template time on open dates, recomputed from the clinic alone."""
    clinic = scenario.clinic
    last = scenario.first_date + dt.timedelta(days=scenario.spec.days - 1)
    closed = {(b.location_id, b.start) for b in clinic.busy if b.kind is BusyKind.CLOSURE}
    template = 0
    for block in prepare(clinic).blocks(scenario.first_date, last):
        zone = clinic.location(block.location_id).time_zone
        if (block.location_id, walltime.instant_of(zone, block.date, 0)) not in closed:
            template += block.end - block.start
    busy = sum(b.end - b.start for b in clinic.busy if b.provider_id is not None)
    return busy / template


def _overlaps(items: list[Busy]) -> bool:
    ordered = sorted(items, key=lambda b: b.start)
    return any(a.end > b.start for a, b in itertools.pairwise(ordered))


def test_same_seed_same_scenario() -> None:
    """The same spec gives an equal scenario, with and without rooms and equipment."""
    assert generate(SMALL) == generate(SMALL)
    assert generate(attrs.evolve(SMALL, rooms=True, equipment=True)) == generate(
        attrs.evolve(SMALL, rooms=True, equipment=True)
    )


def test_different_seeds_differ() -> None:
    """Different seeds give different clinics."""
    clinics = {seed: generate(attrs.evolve(SMALL, seed=seed)).clinic for seed in range(4)}
    assert len({id(c) for c in clinics.values()}) == 4
    assert all(clinics[a] != clinics[b] for a in clinics for b in clinics if a < b)


@pytest.mark.parametrize("seed", range(30))
def test_many_seeds_are_valid_engine_input(seed: int) -> None:
    """Every seed (with sizes and switches varying with it) passes the clinic file's rules, and the
    default request finds slots."""
    spec = ScenarioSpec(
        seed=seed,
        providers=1 + seed % 6,
        days=7 + seed % 15,
        grain=(5, 15, 10)[seed % 3],
        booked=(0.5, 0.65, 0.8)[seed % 3],
        rooms=seed % 2 == 0,
        equipment=seed % 4 < 2,
    )
    scenario = generate(spec)
    check_clinic(scenario.clinic)
    query = request_for(scenario)
    result = find_slots(scenario.clinic, query.request, query.settings, query.now)
    assert result.slots
    assert all(query.request.start <= s.start < (query.request.end or 0) for s in result.slots)


def test_clinic_survives_the_json_file_format() -> None:
    """Written as a clinic file and read back, the generated clinic is the same clinic."""
    clinic = generate(attrs.evolve(SMALL, rooms=True, equipment=True)).clinic
    reloaded = load_clinic(json.loads(json.dumps(clinic_to_dict(clinic))))
    assert isinstance(reloaded, Clinic)
    assert reloaded == clinic


def test_dst_changes_on_both_sides_by_default() -> None:
    """Default zones and start: London and New York each change their clocks inside two weeks, with
    template blocks and bookings in each zone before and after the change."""
    scenario = generate(ScenarioSpec(seed=1, providers=6, days=14))
    changes = dst_changes(scenario)
    assert set(changes) == {"America/New_York", "Europe/London"}
    blocks = prepare(scenario.clinic).blocks(scenario.first_date, scenario.first_date + dt.timedelta(days=13))
    zone_of = {loc.id: loc.time_zone for loc in scenario.clinic.locations}
    for zone, dates in changes.items():
        assert len(dates) == 1
        (change,) = dates
        dated = [b.date for b in blocks if zone_of[b.location_id] == zone]
        assert min(dated) < change < max(dated)
        instant = walltime.instant_of(zone, change, 720)
        bookings = [
            b.start
            for b in scenario.clinic.busy
            if b.kind is BusyKind.BOOKING and b.location_id is not None and zone_of[b.location_id] == zone
        ]
        assert min(bookings) < instant < max(bookings)
        before = walltime.offset_at(zone, instant - 2 * 1440)
        assert walltime.offset_at(zone, instant) == before - 60  # both fall back in autumn


def test_both_hemispheres() -> None:
    """Chicago springs forward while Sydney falls back: the offsets move in opposite directions."""
    spec = ScenarioSpec(seed=2, providers=4, days=40, zones=("America/Chicago", "Australia/Sydney"),
                        start_date=dt.date(2026, 3, 2))  # fmt: skip
    scenario = generate(spec)
    check_clinic(scenario.clinic)
    changes = dst_changes(scenario)
    moves = {}
    for zone, (change,) in changes.items():
        noon = walltime.instant_of(zone, change, 720)
        moves[zone] = walltime.offset_at(zone, noon) - walltime.offset_at(zone, noon - 1440)
    assert moves == {"America/Chicago": 60, "Australia/Sydney": -60}


@pytest.mark.parametrize("booked", [0.5, 0.8, 0.95])
@pytest.mark.parametrize("resources", [False, True])
def test_booked_share_is_the_share_asked(booked: float, resources: bool) -> None:
    """The booked share recomputed from the clinic alone is the share asked (and the one reported)."""
    scenario = generate(ScenarioSpec(seed=5, providers=8, days=21, booked=booked, rooms=resources, equipment=resources))
    assert abs(_booked_share(scenario) - booked) < 0.005
    assert abs(scenario.booked_share - _booked_share(scenario)) < 1e-9


def test_rooms_and_equipment_never_move_a_providers_bookings() -> None:
    """On/off benchmark cells compare the same calendars: only room and equipment items differ, and a
    visit whose room or unit was taken is booked without it (rarely)."""
    spec = ScenarioSpec(seed=8, providers=30, days=14, booked=0.95)
    plain, full = generate(spec), generate(attrs.evolve(spec, rooms=True, equipment=True))

    def calendars(scenario: Scenario) -> list[tuple[str, int, int, BusyKind]]:
        return sorted((b.provider_id, b.start, b.end, b.kind) for b in scenario.clinic.busy if b.provider_id)

    assert calendars(plain) == calendars(full)
    assert [h.visit.start for h in plain.history] == [h.visit.start for h in full.history]
    assert plain.substitutions == 0
    assert 0 < full.substitutions < 0.05 * len(calendars(full))


def test_switches_off() -> None:
    """Rooms and equipment off: no location has any, no visit type needs any, no busy item takes any."""
    clinic = generate(SMALL).clinic
    assert not any(loc.rooms or loc.equipment for loc in clinic.locations)
    assert not any(vt.needs_room or vt.rooms or vt.equipment for vt in clinic.visit_types)
    assert not any(b.room or b.equipment for b in clinic.busy)


def test_rooms_only() -> None:
    """Rooms on, equipment off: rooms everywhere and booked, telehealth never in a room, no equipment."""
    clinic = generate(attrs.evolve(SMALL, rooms=True)).clinic
    assert all(loc.rooms for loc in clinic.locations)
    assert any(vt.needs_room for vt in clinic.visit_types)
    assert not clinic.visit_type("TELE").needs_room  # telehealth never takes a room
    assert any(b.room for b in clinic.busy)
    assert not any(loc.equipment for loc in clinic.locations)
    assert not any(vt.equipment for vt in clinic.visit_types) and not any(b.equipment for b in clinic.busy)


def test_equipment_only() -> None:
    """Equipment on, rooms off: units at every location and booked, no rooms."""
    clinic = generate(attrs.evolve(SMALL, equipment=True)).clinic
    assert all("ultrasound" in loc.equipment for loc in clinic.locations)
    assert clinic.visit_type("PROC").equipment == ("ultrasound",)
    assert any(b.equipment for b in clinic.busy if b.kind is BusyKind.BOOKING)
    assert not any(loc.rooms for loc in clinic.locations)
    assert not any(vt.needs_room for vt in clinic.visit_types) and not any(b.room for b in clinic.busy)


def test_rooms_and_equipment_are_never_double_booked() -> None:
    """No room, unit or provider has two overlapping busy items, even at 95 % booked."""
    clinic = generate(ScenarioSpec(seed=9, providers=24, days=10, booked=0.95, rooms=True, equipment=True)).clinic
    by_resource: dict[tuple[str, str], list[Busy]] = defaultdict(list)
    by_provider: dict[str, list[Busy]] = defaultdict(list)
    for item in clinic.busy:
        if item.location_id and item.room:
            by_resource[(item.location_id, item.room)].append(item)
        if item.location_id and item.equipment:
            by_resource[(item.location_id, "unit:" + item.equipment)].append(item)
        if item.provider_id:
            by_provider[item.provider_id].append(item)
    assert any(k[1].startswith("unit:") for k in by_resource) and any(not k[1].startswith("unit:") for k in by_resource)
    assert not any(_overlaps(items) for items in by_resource.values())
    assert not any(_overlaps(items) for items in by_provider.values())


def test_equipment_query_needs_a_room_and_the_unit() -> None:
    """A PROC search offers only procedure rooms at locations with an ultrasound."""
    scenario = generate(ScenarioSpec(seed=4, providers=6, days=14, rooms=True, equipment=True))
    query = request_for(scenario, visit_type="PROC", limit=10)
    result = find_slots(scenario.clinic, query.request, query.settings, query.now)
    assert result.slots
    assert all(s.room is not None and s.room.startswith("PR") for s in result.slots)
    assert all("ultrasound" in s.location.equipment for s in result.slots)


def test_history_no_shows_stay_cancellations_go() -> None:
    """No-shows stay on the calendars and cancellations do not, in about the shares asked; a cancelled
    visit's time is free and visit numbers are unique."""
    scenario = generate(ScenarioSpec(seed=6, providers=10, days=28))
    busy = set(scenario.clinic.busy)
    no_shows = [h for h in scenario.history if h.outcome is BookingStatus.NO_SHOW]
    cancelled = [h for h in scenario.history if h.outcome is BookingStatus.CANCELLED]
    bookings = [b for b in scenario.clinic.busy if b.kind is BusyKind.BOOKING and b.provider_id]
    assert all(h.visit in busy for h in no_shows)
    assert not any(h.visit in busy for h in cancelled)
    assert abs(len(no_shows) / len(bookings) - 0.07) < 0.03
    assert abs(len(cancelled) / (len(bookings) + len(cancelled)) - 0.10) < 0.04
    taken: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for b in scenario.clinic.busy:
        if b.provider_id:
            taken[b.provider_id].append((b.start, b.end))
    for h in cancelled:  # a cancelled visit's time is open again
        assert h.visit.provider_id is not None
        assert all(e <= h.visit.start or s >= h.visit.end for s, e in taken[h.visit.provider_id])
    numbers = [b.visit_number for b in bookings] + [h.visit.visit_number for h in cancelled]
    assert len(numbers) == len(set(numbers))


def test_specialties_and_durations() -> None:
    """Sixty providers draw every specialty and visit length, one location per eight providers, and no
    hours change within a week."""
    clinic = generate(ScenarioSpec(seed=7, providers=60, days=7)).clinic
    names = {s.name for s in SPECIALTIES}
    assert {p.specialty for p in clinic.providers} == names  # 60 providers draw every specialty
    assert {vt.duration for vt in clinic.visit_types} == {15, 20, 30, 40, 60}
    assert all("OV" in t.visit_types or t.visit_types == ("TELE",) for t in clinic.templates)
    assert len({loc.id for loc in clinic.locations}) == 8  # one per 8 providers
    assert not any(t.effective_until is not None for t in clinic.templates)  # 7 days: no mid-horizon change


def test_templates_follow_the_grain() -> None:
    """Every template steps its starts by the spec's grain."""
    clinic = generate(attrs.evolve(SMALL, grain=15)).clinic
    assert {t.slot_length for t in clinic.templates} == {15}


def test_request_for_an_absent_visit_type() -> None:
    """Asking for a visit type the scenario lacks names it in the error; a present one gives its length."""
    scenario = generate(ScenarioSpec(providers=1, days=7))  # one primary care provider: no cardiology
    with pytest.raises(ValueError, match="CARD-ECHO"):
        request_for(scenario, visit_type="CARD-ECHO")
    assert request_for(scenario, visit_type="PC-SICK").duration == 15


def test_spec_rejects_nonsense() -> None:
    """Too long a horizon, an unknown zone or a share over 1 is refused."""
    with pytest.raises(ValueError, match="at most 365"):
        ScenarioSpec(days=366)
    with pytest.raises(ValueError, match="unknown time zone"):
        ScenarioSpec(zones=("Mars/Olympus_Mons",))
    with pytest.raises(ValueError, match="share"):
        ScenarioSpec(booked=1.5)
