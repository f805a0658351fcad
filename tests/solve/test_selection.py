"""The selection stage, pinned where a mutation check found nothing watching it.

Three survivors of a mutation run, each killed here (the mutants are described in the test
docstrings):

* the per-provider-day cap **as the solver enforces it**. In the usual search the pruning step has
  already kept at most ``per_provider_day`` candidates of each provider and date, so deleting the
  solver's constraint changed nothing the older tests saw. The solver is the only guard when the
  caps stop nesting (one provider with the same start on two local dates, templates in two time
  zones at once: nothing is pruned then), and when it is handed an unpruned problem;
* the documented **output order** (README, Ranking: score descending, then start, provider ID,
  location ID), and the solver's rule that among equal scores the earliest in that order is chosen;
* the **greedy fallback** (``cpsat.solve`` when CP-SAT returns no solution in its time limit, reached
  here with a time limit of a nanosecond): best first under every cap. The caps nest (a provider-day
  lies in a day, a day in the whole answer), so they form a laminar matroid and best-first greedy is
  optimal there: the fallback must give the very answer the solver gives.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest
from attrs import evolve

from slotfinder import (
    Clinic,
    Location,
    Preference,
    Provider,
    RankedSlot,
    Settings,
    SlotRequest,
    SlotResult,
    VisitType,
    VisitTypeFilter,
    WeeklyTemplate,
    Weights,
    find_slots,
    list_candidates,
)
from slotfinder._solve.cpsat import solve
from slotfinder._solve.problem import SelectionProblem, greedy
from tests.clinic_builders import ANNEX, MAIN, MONDAY, NOW, OV, P1, P2, at, clinic, day, request, weekly

# Every weight 0, so every score is 0 and the order is the tie-break alone.
NO_TERMS = Weights(preferred_day=0, preferred_time=0, earliness=0, continuity=0, fragmentation=0, adjacency=0)
WIDE = Settings(limit=60, per_day=60, per_provider_day=60)
NANOSECOND = 1e-9  # CP-SAT stops before its first solution: solve() falls back to greedy


def _problem(
    points: Sequence[int],
    days: Sequence[int],
    provider_days: Sequence[int],
    *,
    limit: int,
    per_day: int,
    per_provider_day: int,
) -> SelectionProblem:
    """A selection problem by hand: rows 0..n-1 best first, each its own provider and start, nothing pruned."""
    n = len(points)
    return SelectionProblem(
        rows=np.arange(n, dtype=np.intp),
        points=np.array(points, dtype=np.int64),
        day=np.array(days, dtype=np.int64),
        provider_day=np.array(provider_days, dtype=np.int64),
        provider_start=np.arange(n, dtype=np.int64),
        provider=np.arange(n, dtype=np.int64),
        half=np.zeros(n, dtype=np.int64),
        limit=limit,
        per_day=per_day,
        per_provider_day=per_provider_day,
        before_pruning=n,
    )


def _rows(found: npt.NDArray[np.intp]) -> list[int]:
    return [int(i) for i in found]


# ---- (a) per_provider_day, as the solver enforces it ---------------------------------------------

NEW_YORK, KOLKATA = "America/New_York", "Asia/Kolkata"
EVERY_DAY = frozenset(range(7))


def _utc(year: int, month: int, date: int, hour: int = 0, minute: int = 0) -> int:
    moment = dt.datetime(year, month, date, hour, minute, tzinfo=dt.UTC)
    return int((moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(minutes=1))


# P1 works 20:00-22:00 in New York (Tuesday 2025-07-22, 00:00Z and 01:00Z on the 23rd) and 05:30-06:30
# in Kolkata (Wednesday 2025-07-23, 00:00Z): the 00:00Z start has two local dates, so the caps stop
# nesting and build_problem prunes nothing. Tuesday is preferred, so both New York starts score best.
TWO_ZONES = Clinic(
    providers=[Provider("P1")],
    locations=[Location("NY", None, "D", NEW_YORK), Location("IN", None, "D", KOLKATA)],
    visit_types=[VisitType("V", None, None, 60)],
    templates=[
        WeeklyTemplate("P1", "NY", EVERY_DAY, start=20 * 60, end=22 * 60, slot_length=60),
        WeeklyTemplate("P1", "IN", EVERY_DAY, start=5 * 60 + 30, end=6 * 60 + 30, slot_length=60),
    ],
)
TWO_ZONES_REQUEST = SlotRequest(
    start=_utc(2025, 7, 22, 12),
    end=_utc(2025, 7, 23, 12),
    visit_types=[VisitTypeFilter("V")],
    preferences=[Preference(days={1})],
)
TWO_ZONES_NOW = _utc(2025, 7, 22)


def _where(result: SlotResult) -> list[tuple[str, str, int]]:
    return [(s.location.id, s.local_date.isoformat(), s.start) for s in result.slots]


def test_solver_enforces_per_provider_day_on_an_unpruned_problem() -> None:
    """Four candidates of one provider on one day, per_provider_day=2: the solver takes the best two.

    Mutant killed: the ``_cap(..., provider_day, per_provider_day)`` line deleted from ``cpsat.solve``
    (the solver then takes three, as the limit and per_day allow).
    """
    problem = _problem([400, 300, 200, 100], [1, 1, 1, 1], [7, 7, 7, 7], limit=3, per_day=3, per_provider_day=2)
    selection = solve(problem, 5.0, 0)
    assert (selection.status, selection.complete) == ("OPTIMAL", True)
    assert _rows(selection.rows) == [0, 1]


def test_solver_per_provider_day_counts_each_provider_day_apart() -> None:
    """The cap is per provider *and* date: another provider, or the same provider on another date, still fits.

    Mutant killed: the solver applying per_provider_day to the day groups instead of the provider-day groups.
    """
    problem = _problem(
        [500, 400, 300, 200, 100], [1, 1, 1, 2, 1], [7, 7, 8, 9, 7], limit=5, per_day=5, per_provider_day=1
    )
    assert _rows(solve(problem, 5.0, 0).rows) == [0, 2, 3]


def test_per_provider_day_cap_binds_when_one_start_has_two_local_dates() -> None:
    """With per_provider_day=1 the answer is one New York slot (21:00, as 20:00 is the Kolkata 05:30
    instant) and the Kolkata slot; with the cap at 2 both preferred New York slots are offered.

    Nothing is pruned here, so the solver alone holds the cap. Mutant killed: the per-provider-day
    constraint deleted from ``cpsat.solve`` (the capped search then offers both New York slots).
    """
    capped = find_slots(TWO_ZONES, TWO_ZONES_REQUEST, Settings(limit=3, per_day=5, per_provider_day=1), TWO_ZONES_NOW)
    assert capped.candidates == capped.pruned_to == 3  # nothing pruned: the solver sees every candidate
    assert _where(capped) == [
        ("NY", "2025-07-22", _utc(2025, 7, 23, 1)),
        ("IN", "2025-07-23", _utc(2025, 7, 23, 0)),
    ]
    uncapped = find_slots(TWO_ZONES, TWO_ZONES_REQUEST, Settings(limit=3, per_day=5, per_provider_day=2), TWO_ZONES_NOW)
    assert _where(uncapped) == [
        ("NY", "2025-07-22", _utc(2025, 7, 23, 0)),
        ("NY", "2025-07-22", _utc(2025, 7, 23, 1)),
    ]


# ---- (b) the documented output order ------------------------------------------------------------

# P2 is listed before P1 and MAIN before ANNEX on purpose: the order is by ID, not by clinic order.
# P1 works the same mornings at both locations; P2 only at MAIN. 09:00-10:00, 30-minute office visits.
ORDER_CLINIC = clinic(
    templates=[
        weekly(end="10:00", slot_length=30),
        weekly(location=ANNEX.id, end="10:00", slot_length=30),
        weekly(provider=P2.id, end="10:00", slot_length=30),
    ],
    providers=(P2, P1),
    locations=(MAIN, ANNEX),
)


def _order(slots: Sequence[RankedSlot]) -> list[tuple[str, str, str]]:
    return [(s.local_time.strftime("%H:%M"), s.provider.id, s.location.id) for s in slots]


def test_equal_scores_come_by_start_then_provider_id() -> None:
    """Every score equal (all weights 0): slots come by start, then provider ID; P1 (1111...) before P2
    (2222...) although the clinic lists P2 first.

    Mutants killed: the start key or the provider key of ``rank_order`` reversed, or the two swapped.
    """
    slots = find_slots(ORDER_CLINIC, request(), evolve(WIDE, weights=NO_TERMS), NOW).slots
    assert {s.score for s in slots} == {0.0}
    assert [(t, p) for t, p, _ in _order(slots)] == [
        ("09:00", P1.id),
        ("09:00", P2.id),
        ("09:30", P1.id),
        ("09:30", P2.id),
    ]


def test_equal_scores_and_start_take_the_lower_location_id() -> None:
    """P1 has the same start at two locations: the variant that stands for the pair is the one with the
    lower location ID (``loc-annex`` before ``loc-main``, although the clinic lists MAIN first), and
    the candidate list puts it first.

    Mutants killed: the location key of ``rank_order`` reversed or dropped.
    """
    settings = evolve(WIDE, weights=NO_TERMS)
    slots = find_slots(ORDER_CLINIC, request(), settings, NOW).slots
    assert [(s.provider.id, s.location.id) for s in slots if s.provider.id == P1.id] == [
        (P1.id, ANNEX.id),
        (P1.id, ANNEX.id),
    ]
    listed = [(c.start, c.provider_id, c.location_id) for c in list_candidates(ORDER_CLINIC, request(), settings, NOW)]
    assert listed[:3] == [
        (at(MONDAY, "09:00"), P1.id, ANNEX.id),
        (at(MONDAY, "09:00"), P1.id, MAIN.id),
        (at(MONDAY, "09:00"), P2.id, MAIN.id),
    ]


def test_location_id_decides_before_visit_type() -> None:
    """P1 offers visit type OV only at MAIN and OV2 (same length) only at ANNEX, both asked: the start's
    standing variant is ANNEX's, because the location ID comes before the visit type in the order
    (and OV comes first among the visit types, so only the location key can pick ANNEX).

    Mutant killed: the location key dropped from ``rank_order`` (the visit type then decides).
    """
    ov2 = VisitType("OV2", "DNE", "Office Visit (annex)", 30)
    where = clinic(
        templates=[
            weekly(end="10:00", slot_length=30, visit_types=[OV.code]),
            weekly(location=ANNEX.id, end="10:00", slot_length=30, visit_types=[ov2.code]),
        ],
        visit_types=(OV, ov2),
    )
    what = request(visit_types=[VisitTypeFilter(OV.code), VisitTypeFilter(ov2.code)])
    slots = find_slots(where, what, evolve(WIDE, weights=NO_TERMS), NOW).slots
    assert [(s.location.id, s.visit_type.code if s.visit_type else None) for s in slots] == [
        (ANNEX.id, ov2.code),
        (ANNEX.id, ov2.code),
    ]


def test_score_leads_the_order() -> None:
    """A negative earliness weight makes later starts score higher: 09:30 leads 09:00, and within a
    start the provider ID still decides.

    Mutant killed: the score key of ``rank_order`` reversed (ascending).
    """
    latest_first = evolve(WIDE, weights=evolve(NO_TERMS, earliness=-10))
    slots = find_slots(ORDER_CLINIC, request(), latest_first, NOW).slots
    assert [s.score for s in slots] == sorted((s.score for s in slots), reverse=True)
    assert _order(slots) == [
        ("09:30", P1.id, ANNEX.id),
        ("09:30", P2.id, MAIN.id),
        ("09:00", P1.id, ANNEX.id),
        ("09:00", P2.id, MAIN.id),
    ]


def test_among_equal_scores_the_solver_keeps_the_earliest_in_output_order() -> None:
    """limit=3 among four slots of equal score: the three first in output order are chosen (the
    objective's tie bonus), so the 09:30 slot of P2 is the one left out.

    Mutant killed: the tie bonus reversed in ``cpsat._objective_weights`` (``n - i`` -> ``i``).
    """
    settings = evolve(WIDE, limit=3, weights=NO_TERMS)
    result = find_slots(ORDER_CLINIC, request(), settings, NOW)
    assert result.status == "OPTIMAL"
    assert [(t, p) for t, p, _ in _order(result.slots)] == [("09:00", P1.id), ("09:00", P2.id), ("09:30", P1.id)]


def test_solver_tie_bonus_on_a_hand_made_problem() -> None:
    """Five rows of equal points, room for two: rows 0 and 1 (the first in output order) are chosen.

    Mutant killed: the tie bonus dropped or reversed in ``cpsat._objective_weights``.
    """
    problem = _problem([50] * 5, [1, 1, 2, 2, 3], [1, 2, 3, 4, 5], limit=2, per_day=2, per_provider_day=2)
    assert _rows(solve(problem, 5.0, 0).rows) == [0, 1]


# ---- (c) the greedy fallback ---------------------------------------------------------------------


def test_greedy_takes_best_first_under_every_cap() -> None:
    """Rows best first: 0 is taken; 1 is skipped (its provider-day is full at 1); 2 is taken; 3 is skipped
    (its day is full at 2); 4 is taken; then the limit (3) stops it.

    Mutants killed: any of greedy's three checks (limit, per_day, per_provider_day) dropped, or the
    rows visited in another order than best first.
    """
    problem = _problem(
        [900, 800, 700, 600, 500, 400],
        [1, 1, 1, 1, 2, 2],
        [10, 10, 11, 12, 13, 14],
        limit=3,
        per_day=2,
        per_provider_day=1,
    )
    assert _rows(greedy(problem)) == [0, 2, 4]


def test_solve_falls_back_to_greedy_when_the_solver_finds_nothing() -> None:
    """A nanosecond's time limit: CP-SAT returns no solution, and solve() answers greedy's choice with
    status GREEDY, flagged incomplete.

    Mutants killed: the fallback returning the first ``limit`` rows (which break the caps here) or
    nothing, or reporting another status.
    """
    problem = _problem([900, 800, 700, 600], [1, 1, 1, 2], [10, 10, 11, 12], limit=3, per_day=2, per_provider_day=1)
    selection = solve(problem, NANOSECOND, 0)
    assert (selection.status, selection.complete) == ("GREEDY", False)
    assert _rows(selection.rows) == [0, 2, 3]


def _caps_hold(result: SlotResult, settings: Settings) -> None:
    """Every cap of ``settings`` holds in ``result``, and no provider is offered twice at one instant."""
    slots = result.slots
    assert len(slots) <= settings.limit
    assert max(Counter(s.local_date for s in slots).values(), default=0) <= settings.per_day
    assert max(Counter((s.provider.id, s.local_date) for s in slots).values(), default=0) <= settings.per_provider_day
    assert max(Counter((s.provider.id, s.start) for s in slots).values(), default=1) == 1


@pytest.mark.parametrize(
    "caps",
    [
        Settings(limit=10),  # the defaults: 3 a day, 2 per provider and day
        Settings(limit=10, per_day=3, per_provider_day=1),
        Settings(limit=4, per_day=1, per_provider_day=1),
        Settings(limit=10, per_day=10, per_provider_day=10),
    ],
    ids=["defaults", "one-per-provider-day", "one-per-day", "uncapped"],
)
def test_greedy_fallback_answers_what_the_solver_answers(caps: Settings) -> None:
    """The week search of two providers answered three ways: by the ranking (the caps nest, no solver),
    by CP-SAT (forced with a per-provider cap of K, which cannot bind) and by the greedy fallback (CP-SAT
    cut after a nanosecond). Every cap holds and the three answers are the same slots.

    Mutants killed: a broken fallback (caps unchecked, order not best first, first K rows taken).
    """
    where = clinic(templates=[weekly(), weekly(provider=P2.id)])
    what = request(days=5)
    ranked = find_slots(where, what, caps, NOW)
    forced = evolve(caps, per_provider=caps.limit)
    solved = find_slots(where, what, forced, NOW)
    cut = find_slots(where, what, evolve(forced, time_limit_seconds=NANOSECOND), NOW)
    assert (ranked.method, solved.method, cut.method) == ("ranking", "cp-sat", "greedy")
    assert (ranked.status, solved.status, cut.status, cut.complete) == ("OPTIMAL", "OPTIMAL", "GREEDY", False)
    _caps_hold(cut, caps)
    keys = [(s.provider.id, s.start, s.location.id) for s in ranked.slots]
    assert [(s.provider.id, s.start, s.location.id) for s in solved.slots] == keys
    assert [(s.provider.id, s.start, s.location.id) for s in cut.slots] == keys
    assert {s.local_date for s in cut.slots} <= {day(i) for i in range(5)}


def test_greedy_offers_a_provider_once_per_start() -> None:
    """When one start has two local dates (P1 at 00:00Z in New York and in Kolkata), the fallback must
    still offer P1 at most once at that instant: a provider cannot see two patients at once.

    The solver holds this (``provider_start`` cap); greedy must too.
    """
    settings = Settings(limit=3, per_day=5, per_provider_day=5, time_limit_seconds=NANOSECOND)
    cut = find_slots(TWO_ZONES, TWO_ZONES_REQUEST, settings, TWO_ZONES_NOW)
    assert cut.status == "GREEDY"
    _caps_hold(cut, settings)
