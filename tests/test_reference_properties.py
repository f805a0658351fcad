"""The engine against the brute-force reference (tests/reference.py), on generated and hand-worked cases.

Generated cases (tests/strategies.py) put 1-3 day windows across the 2025 DST transitions of
America/New_York, America/Chicago, Europe/London and Australia/Lord_Howe (a 30-minute shift), and on
ordinary days and in Asia/Kolkata. The properties:

1. the engine's candidates are the reference's, with the same scores, local dates and hard-preference
   flags, once per start, provider, location and visit type (on general cases, and on "dense" ones
   where a few busy items of every kind sit on one provider's working time);
2. every slot returned is free for its provider, its room and the patient, checked item by item;
3. the top K is optimal: as many slots as the caps allow, then the most points (branch and bound and,
   on tiny cases, every subset), with every cap respected;
4. the same call twice gives the same slots.

Hand-worked DST examples pin the policy with numbers a person can check, against both sides; two
regression tests keep engine bugs this file found from coming back.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, assume, given, note
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from slotfinder._domain import (
    Busy,
    BusyKind,
    Clinic,
    Location,
    Preference,
    Provider,
    SlotRequest,
    VisitType,
    VisitTypeFilter,
    WeeklyTemplate,
)
from slotfinder._pipeline import Candidate, find_slots, list_candidates
from slotfinder._result import RankedSlot, SlotResult
from slotfinder._settings import Settings
from tests.reference import (
    EPOCH,
    Choice,
    RefCandidate,
    expand,
    feasible,
    instant_of,
    local_of,
    once_per_start,
    optimum,
    optimum_exhaustive,
    patient_matches,
    reference_candidates,
)
from tests.strategies import Scenario, scenarios

Key = tuple[int, str, str, str | None, str | None]
UTC = dt.UTC


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """An instant from a UTC date-time."""
    return int(dt.datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()) // 60


def _key(c: Candidate | RefCandidate) -> Key:
    return (c.start, c.provider_id, c.location_id, c.visit_type, c.room)


def _slot_key(slot: RankedSlot) -> Key:
    code = slot.visit_type.code if slot.visit_type is not None else None
    return (slot.start, slot.provider.id, slot.location.id, code, slot.room)


def _reference(s: Scenario) -> list[RefCandidate]:
    return once_per_start(reference_candidates(s.clinic, s.request, s.settings, s.now))


def _engine(s: Scenario) -> list[Candidate]:
    return list_candidates(s.clinic, s.request, s.settings, s.now)


def _slots(s: Scenario) -> SlotResult:
    return find_slots(s.clinic, s.request, s.settings, s.now, relax=False)


def _overlaps(item: Busy, start: int, end: int) -> bool:
    return item.start < end and start < item.end


def _assert_same_candidates(engine: Sequence[Candidate], reference: Sequence[RefCandidate]) -> None:
    offers = Counter((c.start, c.provider_id, c.location_id, c.visit_type) for c in engine)
    assert not [k for k, n in offers.items() if n > 1], "the engine offers a start twice"
    ref = {_key(c): c for c in reference}
    eng = {_key(c): c for c in engine}
    assert sorted(eng.keys() - ref.keys(), key=repr) == [], "engine candidates the reference does not find"
    assert sorted(ref.keys() - eng.keys(), key=repr) == [], "reference candidates the engine misses"
    for key, e in eng.items():
        r = ref[key]
        assert e.score == pytest.approx(r.score, abs=1e-6), (key, r.terms)
        assert e.points == r.points, key
        assert (e.duration, e.local_date, e.eligible) == (r.duration, r.local_date, r.eligible), key


# ---- 1. candidates ------------------------------------------------------------------------------


# The candidate comparison is the heart of this file and cheap (~10 ms a case): it gets 4x the profile's examples.
MORE = hsettings(max_examples=4 * hsettings().max_examples)


@MORE
@given(scenarios())
def test_candidates_match_reference(s: Scenario) -> None:
    """Engine candidates == reference candidates (start, provider, location, visit type, room), same scores."""
    reference = _reference(s)
    note(f"{len(reference)} reference candidates")
    _assert_same_candidates(_engine(s), reference)


@MORE
@given(scenarios(dense=True))
def test_candidates_match_reference_under_dense_busy_time(s: Scenario) -> None:
    """As above, with many busy items over working time: reserved blocks, releases, rooms, the patient's items."""
    reference = _reference(s)
    note(f"{len(reference)} reference candidates")
    _assert_same_candidates(_engine(s), reference)


# ---- 2. and 4. returned slots are free, and deterministic ------------------------------------


def _assert_free(s: Scenario, slot: RankedSlot) -> None:
    """The slot's visit is free for provider, room and patient, read straight off the clinic's items."""
    clinic, now = s.clinic, s.now
    start, end = slot.start, slot.start + slot.duration
    code = slot.visit_type.code if slot.visit_type is not None else None
    provider, location = slot.provider.id, slot.location.id
    earliest = max(s.request.start, now + s.settings.min_notice_minutes)
    last = s.request.end if s.request.end is not None else s.request.start + s.settings.default_horizon_days * 1440
    assert earliest <= start < last

    session = [
        item
        for item in clinic.busy
        if (item.visit_type, item.provider_id, item.location_id, item.start, item.end)
        == (code, provider, location, start, end)
        and item.kind in (BusyKind.BOOKING, BusyKind.HOLD)
    ]
    if session and slot.visit_type is not None and slot.visit_type.seats > 1:  # a group visit joined
        assert sum(max(1, len(item.patients)) for item in session) < slot.visit_type.seats
        for item in clinic.busy:
            if _overlaps(item, start, end):
                assert not any(patient_matches(p, q) for p in s.request.patient_ids for q in item.patients), item
        return

    def closure(item: Busy) -> bool:
        return (
            item.provider_id is None
            and item.room is None
            and item.equipment is None  # an equipment unit's or a pool's item is not a closure
            and item.pool is None
            and item.location_id == location
        )

    for item in clinic.busy:
        if _overlaps(item, start, end):
            assert not (item.blocks(code, now) and (item.provider_id == provider or closure(item))), item
            if slot.room is not None:
                in_room = item.location_id == location and item.room == slot.room
                assert not ((in_room or closure(item)) and item.blocks(code, now)), item
            assert not any(patient_matches(p, q) for p in s.request.patient_ids for q in item.patients), item
    # working time: every minute of the visit inside some block of the provider there that allows it
    day = (EPOCH + dt.timedelta(minutes=start)).date()
    blocks = [
        b
        for b in expand(clinic, day - dt.timedelta(days=2), day + dt.timedelta(days=2), s.settings.start_interval)
        if (b.provider_id, b.location_id) == (provider, location) and b.allows(code)
    ]
    assert all(any(b.start <= m < b.end for b in blocks) for m in range(start, end))
    assert any(b.start <= start < b.end and (start - b.start) % b.step == 0 for b in blocks), "start off the grid"
    if slot.room is not None:
        assert slot.visit_type is not None
        assert slot.visit_type.needs_room
        assert slot.room in clinic.location(location).rooms


def _assert_caps(s: Scenario, slots: Sequence[RankedSlot]) -> None:
    settings = s.settings
    assert len(slots) <= settings.limit
    per_day = Counter(slot.local_date for slot in slots)
    assert max(per_day.values(), default=0) <= settings.per_day
    per_provider_day = Counter((slot.provider.id, slot.local_date) for slot in slots)
    assert max(per_provider_day.values(), default=0) <= settings.per_provider_day
    per_start = Counter((slot.provider.id, slot.start) for slot in slots)
    assert max(per_start.values(), default=0) <= 1
    for slot in slots:
        assert (slot.local_date, slot.local_time.hour * 60 + slot.local_time.minute) == local_of(
            slot.location.time_zone, slot.start
        )


@given(scenarios())
def test_returned_slots_are_free_and_capped(s: Scenario) -> None:
    """Every returned slot is free for its provider, room and patient, on a block's grid, within the caps."""
    result = _slots(s)
    for slot in result.slots:
        _assert_free(s, slot)
    _assert_caps(s, result.slots)


@given(scenarios())
def test_results_are_deterministic(s: Scenario) -> None:
    """The same call twice gives identical slots, candidates and status."""
    first, second = _slots(s), _slots(s)
    assert first.slots == second.slots
    assert (first.status, first.complete, first.candidates) == (second.status, second.complete, second.candidates)
    assert _engine(s) == _engine(s)


# ---- 3. the top K is optimal -------------------------------------------------------------------


def _choices(candidates: Sequence[RefCandidate]) -> list[Choice]:
    return [(c.points, c.local_date, c.provider_id, c.start) for c in candidates if c.eligible]


@given(scenarios(small=True) | scenarios())
def test_top_k_is_optimal(s: Scenario) -> None:
    """The slots chosen are as many as the caps allow (up to K), then the most points, as brute force finds.

    Brute force is branch and bound over every eligible reference candidate (no pruning); a case it
    cannot settle within its node budget is skipped (none did in the generated sets measured).
    """
    reference = _reference(s)
    choices = _choices(reference)
    best = optimum(choices, s.settings.limit, s.settings.per_day, s.settings.per_provider_day)
    assume(best is not None)
    result = _slots(s)
    assert result.complete
    by_key = {_key(c): c for c in reference}
    chosen = [_slot_key(slot) for slot in result.slots]
    assert all(k in by_key for k in chosen), "a slot the reference does not offer"
    assert (len(chosen), sum(by_key[k].points for k in chosen)) == best
    _assert_caps(s, result.slots)
    for slot, key in zip(result.slots, chosen, strict=True):  # the breakdown, term by term
        assert {t.name: t.value for t in slot.terms} == pytest.approx(by_key[key].terms, abs=1e-6), key


@given(
    st.lists(
        st.tuples(
            st.integers(-50, 100),
            st.sampled_from((dt.date(2025, 1, 1), dt.date(2025, 1, 2), dt.date(2025, 1, 3))),
            st.sampled_from(("P1", "P2")),
            st.integers(0, 4),
        ),
        max_size=9,
    ),
    st.integers(1, 5),
    st.integers(1, 3),
    st.integers(1, 3),
)
@hsettings(suppress_health_check=[HealthCheck.too_slow])
def test_branch_and_bound_equals_every_subset(choices: list[Choice], limit: int, per_day: int, ppd: int) -> None:
    """The reference's own check: its branch and bound finds what trying every subset finds."""
    assert optimum(choices, limit, per_day, ppd) == optimum_exhaustive(choices, limit, per_day, ppd)
    assert feasible([], limit, per_day, ppd)


# ---- hand-worked DST examples, against both sides ---------------------------------------------


def _one_block(
    zone: str, date: dt.date, start: int, end: int, step: int, duration: int, weekdays: frozenset[int] | None = None
) -> Scenario:
    """One provider, one location in ``zone``, one template on ``date``'s weekday; a window over that day."""
    clinic = Clinic(
        providers=[Provider("P1")],
        locations=[Location("L1", "Fac", "Dept", zone)],
        visit_types=[VisitType("V", None, None, duration)],
        templates=[
            WeeklyTemplate("P1", "L1", weekdays or frozenset({date.weekday()}), start=start, end=end, slot_length=step)
        ],
    )
    window_start = _utc(date.year, date.month, date.day) - 1440
    request = SlotRequest(start=window_start, end=window_start + 3 * 1440, visit_types=[VisitTypeFilter("V")])
    return Scenario(clinic, request, Settings(), now=window_start - 1440)


def _starts_both(s: Scenario) -> list[int]:
    """Candidate starts, after checking engine and reference agree on everything."""
    reference = _reference(s)
    _assert_same_candidates(_engine(s), reference)
    return sorted(c.start for c in reference)


def _local_minutes(zone: str, starts: Sequence[int]) -> list[int]:
    return [local_of(zone, u)[1] for u in starts]


NY, LONDON, LORD_HOWE = "America/New_York", "Europe/London", "Australia/Lord_Howe"


def test_spring_forward_night_block_has_one_hour_fewer() -> None:
    """New York 2025-03-09, 00:00-06:00 every 60 min: 02:00 does not exist, so 5 starts (00, 01, 03, 04, 05)."""
    starts = _starts_both(_one_block(NY, dt.date(2025, 3, 9), 0, 360, 60, 60))
    assert starts == [_utc(2025, 3, 9, h) for h in (5, 6, 7, 8, 9)]
    assert _local_minutes(NY, starts) == [0, 60, 180, 240, 300]


def test_fall_back_night_block_has_one_hour_more() -> None:
    """New York 2025-11-02, 00:00-06:00 every 60 min: 01:00 happens twice, so 7 starts over 7 real hours."""
    starts = _starts_both(_one_block(NY, dt.date(2025, 11, 2), 0, 360, 60, 60))
    assert starts == [_utc(2025, 11, 2, h) for h in range(4, 11)]
    assert _local_minutes(NY, starts) == [0, 60, 60, 120, 180, 240, 300]


def test_block_starting_in_the_gap_starts_an_hour_later() -> None:
    """New York 2025-03-09, 02:30-04:00: 02:30 is skipped, read as 03:30 EDT (07:30Z); starts 03:30, 03:45."""
    starts = _starts_both(_one_block(NY, dt.date(2025, 3, 9), 150, 240, 15, 15))
    assert starts == [_utc(2025, 3, 9, 7, 30), _utc(2025, 3, 9, 7, 45)]
    assert instant_of(NY, dt.date(2025, 3, 9), 150) == _utc(2025, 3, 9, 7, 30)


def test_block_whose_end_falls_before_its_moved_start_is_dropped() -> None:
    """New York 2025-03-09, 02:30-03:15: start moves to 03:30 EDT, after the end (03:15 EDT): no block."""
    assert _starts_both(_one_block(NY, dt.date(2025, 3, 9), 150, 195, 15, 15)) == []


def test_block_wholly_inside_the_gap_moves_with_it() -> None:
    """New York 2025-03-09, 02:00-02:45: both ends move forward by the gap, giving 03:00-03:45 EDT.

    (The policy as specified: only a block whose end is not after its start is dropped.)
    """
    starts = _starts_both(_one_block(NY, dt.date(2025, 3, 9), 120, 165, 15, 15))
    assert starts == [_utc(2025, 3, 9, 7, m) for m in (0, 15, 30)]


def test_lord_howe_half_hour_gap() -> None:
    """Lord Howe 2025-10-05 skips 02:00-02:30 (+10:30 -> +11): a 02:15-03:00 block is 02:45-03:00 (15:45Z)."""
    starts = _starts_both(_one_block(LORD_HOWE, dt.date(2025, 10, 5), 135, 180, 15, 15))
    assert starts == [_utc(2025, 10, 4, 15, 45)]
    assert _local_minutes(LORD_HOWE, starts) == [165]


def test_lord_howe_half_hour_fold() -> None:
    """Lord Howe 2025-04-06 repeats 01:30-02:00 (+11 -> +10:30): 01:00-03:00 lasts 150 min, 5 half-hour starts."""
    starts = _starts_both(_one_block(LORD_HOWE, dt.date(2025, 4, 6), 60, 180, 30, 30))
    assert starts == [_utc(2025, 4, 5, 14) + 30 * k for k in range(5)]
    assert _local_minutes(LORD_HOWE, starts) == [60, 90, 90, 120, 150]


def test_repeated_wall_time_takes_the_earlier_instant() -> None:
    """New York 2025-11-02, 01:00-01:30: both ends read in EDT (the first 01:00), so one 30-minute start."""
    starts = _starts_both(_one_block(NY, dt.date(2025, 11, 2), 60, 90, 30, 30))
    assert starts == [_utc(2025, 11, 2, 5)]


def test_block_to_midnight_ends_at_next_local_midnight() -> None:
    """London: 22:00-24:00 on Sunday 2025-10-26 (GMT) is 22:00Z-00:00Z; on Saturday 10-25 (BST) 21:00Z-23:00Z."""
    sunday = _starts_both(_one_block(LONDON, dt.date(2025, 10, 26), 1320, 1440, 30, 30))
    assert sunday == [_utc(2025, 10, 26, 22) + 30 * k for k in range(4)]
    saturday = _starts_both(_one_block(LONDON, dt.date(2025, 10, 25), 1320, 1440, 30, 30))
    assert saturday == [_utc(2025, 10, 25, 21) + 30 * k for k in range(4)]
    assert local_of(LONDON, saturday[-1]) == (dt.date(2025, 10, 25), 1410)


def test_visit_may_run_across_the_transition() -> None:
    """New York 2025-11-02, 00:00-03:00 with 90-minute visits every 30 min: 4 real hours hold starts up to 01:30 EST."""
    starts = _starts_both(_one_block(NY, dt.date(2025, 11, 2), 0, 180, 30, 90))
    # block 04:00Z-08:00Z; last start with 90 minutes inside: 06:30Z (= 01:30 EST)
    assert starts == [_utc(2025, 11, 2, 4) + 30 * k for k in range(6)]


# ---- regressions: engine bugs this file found (fixed in c3f86c5) --------------------------------


@pytest.mark.parametrize(
    ("reserved_for", "release_before", "open_"),
    [
        (["V"], None, True),  # reserved for the visit's type: open to it
        (["W"], None, False),  # reserved for another type: busy
        (["W"], 60, False),  # ... until 60 minutes before it starts (now is 13 hours before)
        (["W"], 13 * 60, True),  # released: now is exactly 13 hours before its start
    ],
)
def test_reserved_location_block_follows_its_types_and_release(
    reserved_for: list[str], release_before: int | None, open_: bool
) -> None:
    """A location-wide block (no provider, no room) reserved for some types is open to those, busy for the rest
    until released; engine and reference agree on the two starts it covers (09:00 and 09:30 EDT).

    (The busy index once merged every location-wide item into the closures, ignoring ``Busy.blocks``.)
    """
    s = _one_block(NY, dt.date(2025, 7, 22), 540, 600, 30, 30)
    block = Busy(
        BusyKind.BLOCK,
        _utc(2025, 7, 22, 13),
        _utc(2025, 7, 22, 14),
        location_id="L1",
        reserved_for=reserved_for,
        release_before=release_before,
    )
    clinic = Clinic(
        providers=s.clinic.providers,
        locations=s.clinic.locations,
        visit_types=s.clinic.visit_types,
        templates=s.clinic.templates,
        busy=[block],
    )
    s = Scenario(clinic, s.request, s.settings, now=_utc(2025, 7, 22))
    expected = [_utc(2025, 7, 22, 13), _utc(2025, 7, 22, 13, 30)] if open_ else []
    assert _starts_both(s) == expected


def test_top_k_optimal_when_one_start_has_two_local_dates() -> None:
    """P1 works at 00:00Z Jul 23 both in New York (Jul 22, 20:00) and Kolkata (Jul 23, 05:30); P2 works in New York
    at 23:00Z. With per_day=1 and per_provider_day=1, the best two slots are P2 on Jul 22 and P1 in Kolkata on
    Jul 23: two slots, while keeping only P1's best variant (New York, Jul 22) leaves room for one.

    (Pruning once collapsed each provider and start to its best variant before the day caps.)
    """
    every_day = frozenset(range(7))
    clinic = Clinic(
        providers=[Provider("P1"), Provider("P2")],
        locations=[Location("NY", None, "D", NY), Location("IN", None, "D", "Asia/Kolkata")],
        visit_types=[VisitType("V", None, None, 60)],
        templates=[
            WeeklyTemplate("P1", "NY", every_day, start=20 * 60, end=21 * 60, slot_length=60),
            WeeklyTemplate("P1", "IN", every_day, start=5 * 60 + 30, end=6 * 60 + 30, slot_length=60),
            WeeklyTemplate("P2", "NY", every_day, start=19 * 60, end=20 * 60, slot_length=60),
        ],
    )
    request = SlotRequest(
        start=_utc(2025, 7, 22, 12),
        end=_utc(2025, 7, 23, 12),
        visit_types=[VisitTypeFilter("V")],
        preferences=[Preference(days={1})],  # Tuesday, 2025-07-22
    )
    settings = Settings(limit=2, per_day=1, per_provider_day=1, preferred_providers=("P1",))
    s = Scenario(clinic, request, settings, now=_utc(2025, 7, 22))
    reference = _reference(s)
    _assert_same_candidates(_engine(s), reference)
    best = optimum_exhaustive(_choices(reference), settings.limit, settings.per_day, settings.per_provider_day)
    assert best[0] == 2
    result = _slots(s)
    assert len(result.slots) == 2
    assert sum(c.points for c in reference if _key(c) in {_slot_key(x) for x in result.slots}) == best[1]
