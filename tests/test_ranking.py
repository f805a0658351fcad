"""The README's ranking section: each term moves the ordering as documented, weights override, the
diversity caps hold while the limit is filled, the output order, and what an empty answer says.

Small hand-made clinics from ``tests/clinic_builders.py``; results come from ``find_slots`` (the
slots carry each term's value and weight). Most tests open the caps (``WIDE``) so every candidate is
ranked and the order itself is what is checked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest
from attrs import evolve

from slotfinder import find_slots
from slotfinder._domain import (
    Busy,
    BusyKind,
    Clinic,
    PatientId,
    Preference,
    ProviderFilter,
    SlotRequest,
    VisitTypeFilter,
)
from slotfinder._rank import TERMS
from slotfinder._result import RankedSlot, SlotResult
from slotfinder._settings import Settings, Weights
from tests.clinic_builders import (
    DAY,
    MONDAY,
    NOW,
    P1,
    P2,
    at,
    clinic,
    day,
    minute,
    request,
    weekly,
)

WIDE = Settings(limit=60, per_day=60, per_provider_day=60)
TUESDAY = day(1)
SATURDAY = day(5)
PATIENT = PatientId("MRN1", "MR")
BOTH = clinic(templates=[weekly(), weekly(provider=P2.id)])  # P1 and P2 on the same weekday mornings


def _ranked(where: Clinic, what: SlotRequest, settings: Settings = WIDE, now: int = NOW) -> SlotResult:
    return find_slots(where, what, settings, now)


def _weights(**weights: float) -> Settings:
    return evolve(WIDE, weights=Weights(**weights))


def _value(slot: RankedSlot, name: str) -> float:
    """The value (not the points) of one term of a slot."""
    return next(t.value for t in slot.terms if t.name == name)


def _at(slots: Sequence[RankedSlot], when: int, provider: str = P1.id) -> RankedSlot:
    return next(s for s in slots if s.start == when and s.provider.id == provider)


def _first(result: SlotResult) -> tuple[str, int]:
    return result.slots[0].provider.id, result.slots[0].start


def _booking(start: str, end: str, provider: str = P1.id, date: int = 0, patient: PatientId | None = None) -> Busy:
    return Busy(
        BusyKind.BOOKING,
        at(day(date), start),
        at(day(date), end),
        provider_id=provider,
        patients=() if patient is None else (patient,),
    )


# ---- preferred day ----------------------------------------------------------------------------


def test_preferred_day_ranks_preferred_weekday_first() -> None:
    """preferred_day (30 points) lifts Tuesday 09:00 above the earlier Monday 09:00."""
    result = _ranked(clinic(), request(days=2, preferences=[Preference(days={1})]))
    assert _first(result) == (P1.id, at(TUESDAY, "09:00"))
    assert _value(_at(result.slots, at(TUESDAY, "09:00")), "preferred_day") == 1.0
    assert _value(_at(result.slots, at(MONDAY, "09:00")), "preferred_day") == 0.0
    assert _at(result.slots, at(TUESDAY, "09:00")).breakdown()["preferred_day"] == 30.0


def test_without_preferred_day_earliest_weekday_ranks_first() -> None:
    """The same window without a preferred day: Monday 09:00 (earliest) ranks first."""
    result = _ranked(clinic(), request(days=2))
    assert _first(result) == (P1.id, at(MONDAY, "09:00"))


# ---- preferred time ---------------------------------------------------------------------------


def test_preferred_time_ranks_closest_start_first() -> None:
    """preferred_time is 1 at the preferred start (11:00) and falls linearly: 0.75 at 60 min, 0.5 at 120."""
    result = _ranked(clinic(), request(preferences=[Preference(times=[minute("11:00")])]))
    assert _first(result) == (P1.id, at(MONDAY, "11:00"))
    assert _value(_at(result.slots, at(MONDAY, "11:00")), "preferred_time") == pytest.approx(1.0)
    assert _value(_at(result.slots, at(MONDAY, "10:00")), "preferred_time") == pytest.approx(0.75)
    assert _value(_at(result.slots, at(MONDAY, "09:00")), "preferred_time") == pytest.approx(0.5)


def test_without_preferred_time_earliest_start_ranks_first() -> None:
    """The same request without a preferred time: 09:00 ranks first."""
    result = _ranked(clinic(), request())
    assert _first(result) == (P1.id, at(MONDAY, "09:00"))


def test_preferred_time_reaches_zero_at_time_scale() -> None:
    """With time_scale=120 the term is 0 at 120 minutes away (09:00 from 11:00) and 0.5 at 60."""
    what = request(preferences=[Preference(times=[minute("11:00")])])
    result = _ranked(clinic(), what, evolve(WIDE, time_scale=120))
    assert _value(_at(result.slots, at(MONDAY, "09:00")), "preferred_time") == 0.0
    assert _value(_at(result.slots, at(MONDAY, "10:00")), "preferred_time") == pytest.approx(0.5)


def test_several_preference_entries_take_the_best() -> None:
    """With several entries a slot takes the day and time terms of the one entry scoring it best (not the
    best of each term): Tuesday 11:00 takes entry 1 (day 1, time 0.5), Monday 11:00 entry 2 (day 0, time 1)."""
    entries = [Preference(days={1}, times=[minute("09:00")]), Preference(times=[minute("11:00")])]
    result = _ranked(clinic(), request(days=2, preferences=entries))
    tuesday_11 = _at(result.slots, at(TUESDAY, "11:00"))
    assert (_value(tuesday_11, "preferred_day"), _value(tuesday_11, "preferred_time")) == (1.0, 0.5)
    monday_11 = _at(result.slots, at(MONDAY, "11:00"))
    assert (_value(monday_11, "preferred_day"), _value(monday_11, "preferred_time")) == (0.0, 1.0)


# ---- earliness --------------------------------------------------------------------------------


def test_earliness_is_one_at_window_start_and_falls_linearly() -> None:
    """earliness is 1 at the window's start and falls linearly to 0 at its end (09:00-12:00 window)."""
    what = request(start=at(MONDAY, "09:00"), end=at(MONDAY, "12:00"))
    result = _ranked(clinic(), what, _weights(fragmentation=0))
    assert [s.start for s in result.slots] == sorted(s.start for s in result.slots)  # earliest first
    assert _value(_at(result.slots, at(MONDAY, "09:00")), "earliness") == 1.0
    assert _value(_at(result.slots, at(MONDAY, "10:30")), "earliness") == pytest.approx(0.5)
    assert _value(_at(result.slots, at(MONDAY, "11:30")), "earliness") == pytest.approx(1 / 6)


def test_negative_earliness_weight_ranks_latest_first() -> None:
    """The same window with earliness weighted -10: the latest start (11:30) ranks first."""
    what = request(start=at(MONDAY, "09:00"), end=at(MONDAY, "12:00"))
    result = _ranked(clinic(), what, _weights(fragmentation=0, earliness=-10))
    assert _first(result) == (P1.id, at(MONDAY, "11:30"))


def test_earliness_is_measured_over_the_window_asked_not_from_now() -> None:
    """With now at 10:00 the window's start stays the asked 09:00: the 10:00 slot scores 2/3, not 1."""
    what = request(start=at(MONDAY, "09:00"), end=at(MONDAY, "12:00"))
    result = _ranked(clinic(), what, now=at(MONDAY, "10:00"))
    assert _value(result.slots[0], "earliness") == pytest.approx(2 / 3)


# ---- continuity -------------------------------------------------------------------------------


def test_continuity_ranks_provider_the_patient_already_sees_first() -> None:
    """A booking of the patient with P2 (last week) gives P2 continuity: P2 09:00 outranks P1 09:00."""
    where = evolve(BOTH, busy=(_booking("10:00", "10:30", provider=P2.id, date=-7, patient=PATIENT),))
    result = _ranked(where, request(patient_ids=[PATIENT]))
    assert _first(result) == (P2.id, at(MONDAY, "09:00"))
    assert _value(result.slots[0], "continuity") == 1.0
    assert _value(_at(result.slots, at(MONDAY, "09:00"), P1.id), "continuity") == 0.0


def test_without_continuity_provider_id_breaks_the_tie() -> None:
    """The same clinic for another patient: no continuity, equal scores, P1 (lower ID) first."""
    where = evolve(BOTH, busy=(_booking("10:00", "10:30", provider=P2.id, date=-7, patient=PATIENT),))
    result = _ranked(where, request(patient_ids=[PatientId("MRN2", "MR")]))
    assert _first(result) == (P1.id, at(MONDAY, "09:00"))


def test_continuity_from_preferred_providers_setting() -> None:
    """Settings.preferred_providers gives continuity too: P2 09:00 first."""
    # ignore: Settings' converter=tuple leaves mypy a generic Iterable[_T_co] (a typing defect in settings.py)
    preferring = evolve(WIDE, preferred_providers=(P2.id,))
    result = _ranked(BOTH, request(), preferring)
    assert _first(result) == (P2.id, at(MONDAY, "09:00"))
    assert result.slots[0].breakdown()["continuity"] == 15.0


def test_without_preferred_providers_p1_first() -> None:
    """The same search without preferred providers: P1 09:00 first."""
    assert _first(_ranked(BOTH, request())) == (P1.id, at(MONDAY, "09:00"))


# ---- fragmentation ----------------------------------------------------------------------------


def test_fragmentation_counts_short_gaps_left_in_the_stretch() -> None:
    """A 30-minute visit at 09:15 leaves 15 free minutes before it (shorter than the 30-minute
    shortest visit): term 1; at 09:30 the 30-minute gap is bookable: 0; 11:15 leaves 15 after: 1."""
    result = _ranked(clinic(), request())
    assert _value(_at(result.slots, at(MONDAY, "09:00")), "fragmentation") == 0.0
    assert _value(_at(result.slots, at(MONDAY, "09:15")), "fragmentation") == 1.0
    assert _value(_at(result.slots, at(MONDAY, "09:30")), "fragmentation") == 0.0
    assert _value(_at(result.slots, at(MONDAY, "11:15")), "fragmentation") == 1.0
    assert _at(result.slots, at(MONDAY, "09:15")).breakdown()["fragmentation"] == -8.0


def test_fragmentation_ranks_later_start_above_fragmenting_one() -> None:
    """The -8 penalty puts 09:30 above the earlier 09:15."""
    starts = [s.start for s in _ranked(clinic(), request()).slots]
    assert starts.index(at(MONDAY, "09:30")) < starts.index(at(MONDAY, "09:15"))


def test_without_fragmentation_weight_earlier_start_ranks_higher() -> None:
    """The same search with the fragmentation weight 0: 09:15 is above 09:30 again (earliness)."""
    starts = [s.start for s in _ranked(clinic(), request(), _weights(fragmentation=0)).slots]
    assert starts.index(at(MONDAY, "09:15")) < starts.index(at(MONDAY, "09:30"))


def test_fragmentation_measures_against_shortest_visit_the_block_allows() -> None:
    """In a block allowing only NP (60), a 30-minute gap is unbookable: NP at 09:30 fragments."""
    where = clinic(templates=[weekly(visit_types=["NP"])])
    result = _ranked(where, request(visit_types=[VisitTypeFilter("NP")]))
    assert _value(_at(result.slots, at(MONDAY, "09:30")), "fragmentation") == 1.0


def test_no_fragmentation_when_the_block_allows_a_shorter_visit() -> None:
    """In a block allowing every type (OV, 30, is the shortest) the same 30-minute gap is bookable."""
    result = _ranked(clinic(), request(visit_types=[VisitTypeFilter("NP")]))
    assert _value(_at(result.slots, at(MONDAY, "09:30")), "fragmentation") == 0.0


# ---- adjacency --------------------------------------------------------------------------------


def test_adjacency_counts_a_booking_ending_where_the_visit_starts() -> None:
    """Booking 09:00-09:30, visit at 09:30: one side touches a booking (3 points)."""
    result = _ranked(clinic(busy=[_booking("09:00", "09:30")]), request())
    slot = _at(result.slots, at(MONDAY, "09:30"))
    assert _value(slot, "adjacency") == 1.0 and slot.breakdown()["adjacency"] == 3.0


def test_adjacency_counts_both_sides() -> None:
    """Bookings 09:00-09:30 and 10:00-10:30: the visit 09:30-10:00 touches on both sides."""
    where = clinic(busy=[_booking("09:00", "09:30"), _booking("10:00", "10:30")])
    slot = _at(_ranked(where, request()).slots, at(MONDAY, "09:30"))
    assert _value(slot, "adjacency") == 2.0


def test_no_adjacency_for_a_visit_not_touching_a_booking() -> None:
    """Booking 09:00-09:30, visit 10:00-10:30: 30 free minutes separate them, no side touches: 0."""
    result = _ranked(clinic(busy=[_booking("09:00", "09:30")]), request())
    assert _value(_at(result.slots, at(MONDAY, "10:00")), "adjacency") == 0.0


def test_adjacency_ranks_touching_provider_first() -> None:
    """P2 booked 08:30-09:00 (outside its block), P1 free: P2 09:00 touches it and outranks P1 09:00."""
    where = evolve(BOTH, busy=(_booking("08:30", "09:00", provider=P2.id),))
    assert _first(_ranked(where, request())) == (P2.id, at(MONDAY, "09:00"))


def test_without_adjacency_weight_provider_id_breaks_the_tie() -> None:
    """The same clinic with the adjacency weight 0: P1 09:00 first."""
    where = evolve(BOTH, busy=(_booking("08:30", "09:00", provider=P2.id),))
    assert _first(_ranked(where, request(), _weights(adjacency=0))) == (P1.id, at(MONDAY, "09:00"))


def test_adjacency_lifts_the_touching_start_above_earlier_ones() -> None:
    """Booking 11:00-11:30: only the visit 10:30-11:00 touches it; its +3 beats 09:00's earliness lead."""
    result = _ranked(clinic(busy=[_booking("11:00", "11:30")]), request())
    assert _first(result) == (P1.id, at(MONDAY, "10:30"))


# ---- weights ----------------------------------------------------------------------------------


def _every_term_scenario() -> tuple[Clinic, SlotRequest]:
    """A search where every term is non-zero for some slot."""
    where = evolve(
        BOTH,
        busy=(
            _booking("08:30", "09:00", provider=P1.id, patient=PATIENT),  # continuity and adjacency for P1
        ),
    )
    what = request(days=2, patient_ids=[PATIENT], preferences=[Preference(days={1}, times=[minute("10:00")])])
    return where, what


@pytest.mark.parametrize("term", TERMS)
def test_zero_weight_removes_the_terms_effect(term: str) -> None:
    """Setting a weight to 0 takes exactly that term's points out of every slot's score."""
    where, what = _every_term_scenario()
    default = {(s.provider.id, s.start): s for s in _ranked(where, what).slots}
    assert any(s.breakdown()[term] != 0 for s in default.values()), "the scenario must exercise the term"
    zeroed = _ranked(where, what, _weights(**{term: 0.0})).slots
    assert len(zeroed) == len(default)
    for slot in zeroed:
        before = default[(slot.provider.id, slot.start)]
        assert slot.breakdown()[term] == 0.0
        assert slot.score == pytest.approx(before.score - before.breakdown()[term])


def test_score_is_the_sum_of_the_breakdown() -> None:
    """Every slot's score equals the sum of its breakdown, which is value x weight per term."""
    where, what = _every_term_scenario()
    custom = _weights(preferred_day=7, preferred_time=5, earliness=3, continuity=2, fragmentation=-1, adjacency=11)
    for slot in _ranked(where, what, custom).slots:
        assert slot.score == pytest.approx(sum(slot.breakdown().values()))
        for t in slot.terms:
            assert t.weight == getattr(custom.weights, t.name)
            assert t.points == pytest.approx(t.value * t.weight)
        assert [t.name for t in slot.terms] == list(TERMS)


# ---- diversity caps ---------------------------------------------------------------------------


def _week() -> SlotRequest:
    return request(days=5)


def test_caps_hold_while_the_limit_is_filled() -> None:
    """Default caps (3 a day, 2 per provider and day) with limit 10: ten slots spread over Mon-Thu."""
    result = find_slots(BOTH, _week(), Settings(limit=10), NOW)
    assert len(result.slots) == 10
    per_day = Counter(s.local_date for s in result.slots)
    per_provider_day = Counter((s.provider.id, s.local_date) for s in result.slots)
    assert max(per_day.values()) <= 3 and max(per_provider_day.values()) <= 2
    assert [per_day[day(i)] for i in range(5)] == [3, 3, 3, 1, 0]  # earliness fills the earliest days


def test_without_caps_the_best_slots_crowd_one_morning() -> None:
    """The same search with caps above the limit: all ten slots on Monday (the caps are what spread them)."""
    result = find_slots(BOTH, _week(), Settings(limit=10, per_day=10, per_provider_day=10), NOW)
    assert len(result.slots) == 10
    assert {s.local_date for s in result.slots} == {MONDAY}


def test_per_provider_day_cap_binds_below_per_day() -> None:
    """per_provider_day=1 with two providers: two a day, five days, limit 10 still filled."""
    result = find_slots(BOTH, _week(), Settings(limit=10, per_day=3, per_provider_day=1), NOW)
    assert len(result.slots) == 10
    assert Counter(s.local_date for s in result.slots) == {day(i): 2 for i in range(5)}
    assert max(Counter((s.provider.id, s.local_date) for s in result.slots).values()) == 1


def test_caps_can_leave_the_limit_unfilled() -> None:
    """per_day=1 over five days gives five slots: caps are never broken to fill the limit."""
    result = find_slots(BOTH, _week(), Settings(limit=10, per_day=1), NOW)
    assert len(result.slots) == 5
    assert sorted(s.local_date for s in result.slots) == [day(i) for i in range(5)]


def test_caps_keep_the_best_of_each_day() -> None:
    """Within the caps the best are chosen: on Monday both 09:00 starts and P1's 09:30 (09:15 fragments,
    and P1 wins the 09:30 tie on provider ID)."""
    result = find_slots(BOTH, _week(), Settings(limit=10), NOW)
    monday = {(s.provider.id, s.start) for s in result.slots if s.local_date == MONDAY}
    assert monday == {(P1.id, at(MONDAY, "09:00")), (P2.id, at(MONDAY, "09:00")), (P1.id, at(MONDAY, "09:30"))}


# ---- output order -----------------------------------------------------------------------------


def _order_key(slot: RankedSlot) -> tuple[int, int, str]:
    return (-round(slot.score * 1000), slot.start, slot.provider.id)


def test_output_order_is_score_then_start_then_provider_id() -> None:
    """Slots come score descending, then start, then provider ID (not the clinic's provider order)."""
    where = evolve(BOTH, providers=(P2, P1))  # listed P2 first on purpose
    what = request(days=2, preferences=[Preference(times=[minute("11:00")])])
    slots = _ranked(where, what).slots
    assert [_order_key(s) for s in slots] == sorted(_order_key(s) for s in slots)
    assert [(s.provider.id, s.start) for s in slots[:2]] == [(P1.id, at(MONDAY, "11:00")), (P2.id, at(MONDAY, "11:00"))]
    assert slots[0].start > min(s.start for s in slots)  # score, not time, leads


def test_output_order_holds_under_caps() -> None:
    """The capped answer is in output order too."""
    slots = find_slots(BOTH, _week(), Settings(limit=10), NOW).slots
    assert [_order_key(s) for s in slots] == sorted(_order_key(s) for s in slots)


# ---- empty results ----------------------------------------------------------------------------


def test_hard_preferences_without_match_give_reasons_and_alternatives() -> None:
    """Hard preferences matching nothing (Saturday, no Saturday hours): no slots, a reason naming the
    hard preferences, and alternatives found with the preferences soft."""
    what = request(days=5, preferences=[Preference(days={5})])
    result = find_slots(clinic(), what, Settings(hard_preferences=True), NOW)
    assert result.slots == () and result.status == "EMPTY"
    assert any("hard preferences" in r for r in result.reasons)
    assert result.alternatives
    assert all(MONDAY <= s.local_date <= day(4) for s in result.alternatives)


def test_soft_preferences_without_match_still_give_slots() -> None:
    """The same request with soft preferences: slots, no reasons, no alternatives."""
    what = request(days=5, preferences=[Preference(days={5})])
    result = find_slots(clinic(), what, Settings(), NOW)
    assert result.slots and result.reasons == () and result.alternatives == ()


def test_window_without_open_time_offers_the_next_slots_from_a_wider_window() -> None:
    """A Saturday-only window: no open time; the alternatives start at the next Monday 09:00."""
    result = find_slots(clinic(), request(first=SATURDAY), Settings(), NOW)
    assert result.slots == ()
    assert any("no open time" in r for r in result.reasons)
    assert result.alternatives and min(s.start for s in result.alternatives) == at(day(7), "09:00")


def test_window_with_open_time_has_no_alternatives() -> None:
    """A Friday-only window has slots and needs no alternatives."""
    result = find_slots(clinic(), request(first=day(4)), Settings(), NOW)
    assert result.slots and result.alternatives == ()


def test_unknown_provider_is_the_reason_and_nothing_is_offered_instead() -> None:
    """A provider filter matching nobody: the reason names the providers asked; no alternatives exist."""
    result = find_slots(clinic(), request(providers=[ProviderFilter("9999999999")]), Settings(), NOW)
    assert result.slots == () and result.alternatives == ()
    assert any("providers asked" in r for r in result.reasons)


def test_window_before_now_is_the_reason() -> None:
    """A window that ended before now: the reason says so."""
    result = find_slots(clinic(), request(), Settings(), at(day(1), "00:00") + DAY)
    assert result.slots == ()
    assert any("before now" in r for r in result.reasons)
