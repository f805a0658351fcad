"""Composite visits (``slotfinder.find_offers``): sequences with gaps, k-of-n roles, top-K offers.

Hand-made cases pin each rule (one start per step via one-off openings, so an offer exists exactly
when the pair is allowed); a hypothesis property compares the best K offers with a brute-force
enumerator (``tests/reference_composite.py``) on small generated clinics.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from slotfinder import (
    Busy,
    BusyKind,
    Clinic,
    CompositeRequest,
    InvalidRequest,
    Location,
    OfferResult,
    Opening,
    Preference,
    PreparedClinic,
    Provider,
    Role,
    Settings,
    Step,
    VisitType,
    find_offers,
    prepare,
)
from slotfinder._calendars.zones import instant_of
from slotfinder._composite import StepModel
from slotfinder._offers import _best_offers
from tests.reference_composite import best_choice, check_offer, offer_points, repeats, step_rows

ZONE = "America/Chicago"
MONDAY = dt.date(2025, 6, 2)
NOW = instant_of(ZONE, MONDAY - dt.timedelta(days=7), 0)
MAIN = Location("loc-main", "RES General Hospital", "3N", ZONE, "Clinic", ("136", "137"))
ANNEX = Location("loc-annex", "RES Annex", "2W", ZONE, "Imaging", ("201",))
LAB = VisitType("LAB", "DNE", "Lab draw", 15)
CONSULT = VisitType("CON", "DNE", "Consult", 30)
PEOPLE = ("P1", "P2", "N1", "N2", "N3")


def _minute(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _at(hhmm: str, date: dt.date = MONDAY) -> int:
    return instant_of(ZONE, date, _minute(hhmm))


def _opening(
    who: str, start: str, end: str, where: Location = MAIN, date: dt.date = MONDAY, types: Sequence[str] = ()
) -> Opening:
    return Opening(who, where.id, date, _minute(start), _minute(end), 15, tuple(types))


def _busy(who: str, start: str, end: str) -> Busy:
    return Busy(BusyKind.BOOKING, _at(start), _at(end), provider_id=who)


def _clinic(openings: Sequence[Opening], busy: Sequence[Busy] = ()) -> Clinic:
    providers = [Provider(p) for p in PEOPLE]
    return Clinic(providers, [MAIN, ANNEX], [LAB, CONSULT], openings=openings, busy=busy)


def _request(*steps: Step) -> CompositeRequest:
    return CompositeRequest(start=_at("00:00"), end=_at("00:00", MONDAY + dt.timedelta(days=1)), steps=steps)


def _offers(clinic: Clinic | PreparedClinic, *steps: Step, settings: Settings | None = None) -> OfferResult:
    return find_offers(clinic, _request(*steps), settings or Settings(limit=5), NOW)


def _shape(result: OfferResult) -> list[list[tuple[str, str, tuple[str, ...]]]]:
    """Each offer as (local-free UTC start, location, people) per appointment."""
    return [
        [(a.start_utc.strftime("%H:%M"), a.location.id, tuple(p.id for p in a.providers)) for a in o.appointments]
        for o in result.offers
    ]


@pytest.mark.parametrize(
    ("consult_at", "allowed"),
    [("09:15", False), ("09:20", False), ("09:25", True), ("09:45", True), ("09:50", False)],
)
def test_a_gap_outside_its_bounds_forbids_the_pair(consult_at: str, allowed: bool) -> None:
    """Lab 09:00-09:15, consult 10-30 minutes after it ends: gaps 0 and 5 and 35 are forbidden, 10 and 30 allowed."""
    end = dt.datetime.combine(MONDAY, dt.time(*divmod(_minute(consult_at) + 30, 60))).strftime("%H:%M")
    clinic = _clinic([_opening("N1", "09:00", "09:15"), _opening("P1", consult_at, end)])
    result = _offers(clinic, Step("LAB", ["N1"]), Step("CON", ["P1"], min_gap=10, max_gap=30))
    assert bool(result.offers) is allowed
    if allowed:
        (offer,) = result.offers
        lab, consult = offer.appointments
        assert (lab.start, consult.start) == (_at("09:00"), _at(consult_at))
        assert offer.score == pytest.approx(lab.score + consult.score)
    assert result.complete and result.method == ("chain" if allowed else "none")


def test_same_provider_as_previous_is_respected() -> None:
    """Without the rule the earlier consult with P2 wins; with it only P1's later consult qualifies."""
    clinic = _clinic(
        [_opening("P1", "09:00", "09:15"), _opening("P2", "09:15", "09:45"), _opening("P1", "10:00", "10:30")]
    )
    free = _offers(clinic, Step("LAB", ["P1"]), Step("CON", ["P1", "P2"], max_gap=60))
    same = _offers(clinic, Step("LAB", ["P1"]), Step("CON", ["P1", "P2"], max_gap=60, same_provider_as_previous=True))
    assert [offer[1][2] for offer in _shape(free)] == [("P2",)]
    assert [offer[1][2] for offer in _shape(same)] == [("P1",)]
    assert same.offers[0].appointments[1].start == _at("10:00")


@pytest.mark.parametrize(
    ("same_location", "travel", "allowed"), [(True, 0, False), (False, 0, True), (False, 30, True), (False, 31, False)]
)
def test_a_change_of_location_needs_permission_and_travel_time(same_location: bool, travel: int, allowed: bool) -> None:
    """The consult is only at the annex, 30 minutes after the lab ends at the main site."""
    clinic = _clinic([_opening("N1", "09:00", "09:15"), _opening("P1", "09:45", "10:15", ANNEX)])
    step = Step("CON", ["P1"], max_gap=60, same_location=same_location, travel=travel)
    assert bool(_offers(clinic, Step("LAB", ["N1"]), step).offers) is allowed


def test_a_role_with_nobody_free_forbids_the_start() -> None:
    """Physician and one of three nurses: with every nurse booked at 09:00 only 09:30 is offered."""
    openings = [_opening(p, "09:00", "10:00") for p in ("P1", "N1", "N2", "N3")]
    busy = [_busy(n, "09:00", "09:30") for n in ("N1", "N2", "N3")]
    step = Step("CON", roles=[Role(["P1"], 1), Role(["N1", "N2", "N3"], 1)])
    result = _offers(_clinic(openings, busy), step)
    starts = sorted(a.start for o in result.offers for a in o.appointments)
    assert starts == [_at("09:30")]
    assert result.offers[0].appointments[0].providers[0].id == "P1"


def test_k_of_n_picks_any_free_member() -> None:
    """Two of three nurses with the physician: N2 is booked, so N1 and N3 go; one free nurse is not enough."""
    openings = [_opening(p, "09:00", "09:30") for p in ("P1", "N1", "N2", "N3")]
    step = Step("CON", roles=[Role(["P1"], 1), Role(["N1", "N2", "N3"], 2)])
    two_free = _offers(_clinic(openings, [_busy("N2", "09:00", "09:30")]), step)
    one_free = _offers(_clinic(openings, [_busy(n, "09:00", "09:30") for n in ("N1", "N2")]), step)
    assert _shape(two_free) == [[("14:00", "loc-main", ("P1", "N1", "N3"))]]
    assert one_free.offers == () and one_free.status == "EMPTY"


def test_a_person_fills_one_role_of_a_step() -> None:
    """P1 is in both roles' lists but cannot be both participants: with only P1 free nothing is offered."""
    openings = [_opening(p, "09:00", "09:30") for p in ("P1", "P2")]
    step = Step("CON", roles=[Role(["P1"], 1), Role(["P1", "P2"], 1)])
    assert _shape(_offers(_clinic(openings), step)) == [[("14:00", "loc-main", ("P1", "P2"))]]
    assert _offers(_clinic(openings, [_busy("P2", "09:00", "09:30")]), step).offers == ()


def test_offers_are_diverse_and_capped_per_day() -> None:
    """Distinct first starts or people; at most ``per_day`` offers whose first step is on one date."""
    openings = [_opening("N1", "09:00", "10:00"), _opening("P1", "09:00", "11:00")]
    openings += [_opening("N1", "09:00", "10:00", date=MONDAY + dt.timedelta(days=1))]
    openings += [_opening("P1", "09:00", "11:00", date=MONDAY + dt.timedelta(days=1))]
    request = CompositeRequest(
        start=_at("00:00"),
        end=_at("00:00", MONDAY + dt.timedelta(days=2)),
        steps=[Step("LAB", ["N1"]), Step("CON", ["P1"], max_gap=30)],
    )
    result = find_offers(_clinic(openings), request, Settings(limit=5, per_day=2), NOW)
    keys = [(o.appointments[0].start, o.appointments[0].providers) for o in result.offers]
    assert len(set(keys)) == len(keys) == 4
    assert sorted(o.local_date for o in result.offers) == [MONDAY] * 2 + [MONDAY + dt.timedelta(days=1)] * 2
    scores = [o.score for o in result.offers]
    assert scores == sorted(scores, reverse=True)


def test_the_same_input_gives_the_same_offers() -> None:
    """Determinism: one worker and a fixed seed; a prepared clinic answers as the plain one does."""
    openings = [_opening(p, "08:00", "12:00") for p in PEOPLE]
    clinic = _clinic(openings, [_busy("N2", "09:00", "10:00"), _busy("P1", "10:30", "11:00")])
    steps = (Step("LAB", roles=[Role(["N1", "N2", "N3"], 1)]), Step("CON", ["P1", "P2"], min_gap=5, max_gap=45))
    first = _offers(clinic, *steps)
    assert first.offers
    assert _offers(clinic, *steps).offers == first.offers
    assert _offers(prepare(clinic), *steps).offers == first.offers
    assert [o.offer_id for o in first.offers] == [o.offer_id for o in _offers(clinic, *steps).offers]


def test_a_search_cut_by_the_time_limit_is_incomplete() -> None:
    """The time limit maps to IsIncomplete: with no time to solve, nothing is proven (complete False).
    (Two people at once: CP-SAT decides; a chain of one person per step needs no solver.)"""
    clinic = _clinic([_opening(p, "08:00", "12:00") for p in PEOPLE])
    steps = (Step("LAB", ["N1"]), Step("CON", roles=[Role(["P1"]), Role(["P2"])], max_gap=30))
    cut = _offers(clinic, *steps, settings=Settings(limit=5, time_limit_seconds=1e-9))
    assert not cut.complete
    assert cut.status in ("FEASIBLE", "EMPTY")
    assert _offers(clinic, *steps).complete


def test_bad_definitions_raise_typed_errors_with_paths() -> None:
    """Every problem of the definition is reported with its path, none with a value from the request."""
    clinic = _clinic([])
    request = _request(
        Step("LAB", ["P1"], same_provider_as_previous=True),
        Step("XRAY", ["nobody"], min_gap=30, max_gap=10),
        Step("CON", ["P1"], roles=[Role(["N1", "N1"], 3)], min_gap=-5, travel=-1),
        Step("CON", roles=[Role(["N1"], 1), Role([], 0)], same_provider_as_previous=True),
    )
    with pytest.raises(InvalidRequest) as caught:
        find_offers(clinic, request, Settings(), NOW)
    assert {(p.path, p.rule) for p in caught.value.problems} == {
        ("steps[0].same_provider_as_previous", "the first step has no previous step"),
        ("steps[1].visit_type", "is not a visit type of the clinic"),
        ("steps[1].providers[0]", "is not a provider of the clinic"),
        ("steps[1].max_gap", "must not be less than min_gap"),
        ("steps[2].providers", "give providers or roles, not both"),
        ("steps[2].roles[0].providers", "must not repeat a provider"),
        ("steps[2].roles[0].count", "must not exceed the number of providers listed"),
        ("steps[2].min_gap", "must not be negative"),
        ("steps[2].travel", "must not be negative"),
        ("steps[3].roles[1].count", "must be at least 1"),
        ("steps[3].same_provider_as_previous", "needs exactly one participant in this step and in the previous one"),
    }
    assert "nobody" not in str(caught.value) and "XRAY" not in caught.value.details()
    with pytest.raises(InvalidRequest, match=r"steps: must hold at least one step"):
        find_offers(clinic, _request(), Settings(), NOW)


def test_same_provider_offers_match_the_reference_on_a_long_morning() -> None:
    """Sixteen lab starts, each with P2's consult right after it, but only P1's last three labs can
    precede P1's one consult: those three are the offers, as the brute-force reference says."""
    clinic = _clinic(
        [
            _opening("P1", "08:00", "12:00", types=["LAB"]),
            _opening("P1", "12:30", "13:00", types=["CON"]),
            _opening("P2", "08:00", "13:00", types=["CON"]),
        ]
    )
    request = _request(Step("LAB", ["P1"]), Step("CON", ["P1", "P2"], same_provider_as_previous=True))
    settings = Settings(limit=3, per_day=3)
    result = find_offers(clinic, request, settings, NOW)
    rows = step_rows(clinic, request, settings, NOW)
    assert result.candidates[0] == 16
    assert [o.appointments[1].start for o in result.offers] == [_at("12:30")] * 3
    assert sorted(o.appointments[0].start for o in result.offers) == [_at("11:15"), _at("11:30"), _at("11:45")]
    points = sum(offer_points(request, check_offer(request, rows, o), settings) for o in result.offers)
    assert (len(result.offers), points) == best_choice(request, rows, settings)
    assert result.complete


def test_the_search_widens_until_no_slot_left_out_can_win() -> None:
    """A person listed in two roles makes bounds optimistic: slots 0-9 promise 200 points and give 100 (one
    person cannot fill both roles), slots 10-11 promise and give 180. The first 8 slots tried hold no
    answer as good as the best bound left out, so the search widens and finds slot 10."""
    n = 12
    first_person = np.full(n, 100)
    second_person = np.array([0] * 10 + [90, 90])
    first_person[10:] = 90
    slot = np.concatenate([np.arange(n), np.arange(n)]).astype(np.int64)
    person = np.array([0] * n + [1] * n, dtype=np.int64)
    points = np.concatenate([first_person, second_person]).astype(np.int64)
    step = StepModel(
        slot_start=np.arange(n, dtype=np.int64) * 15,
        slot_end=np.arange(n, dtype=np.int64) * 15 + 15,
        slot_location=np.zeros(n, dtype=np.int64),
        slot_day=np.zeros(n, dtype=np.int64),
        role_counts=(1, 1),
        role_slot=(slot, slot),
        role_provider=(person, person),
        role_points=(points, points),
    )
    picks, proven = _best_offers([step], Settings(limit=1))
    assert proven
    assert [p.slots for p in picks] == [(10,)]
    chosen = [int(points[r]) for role in picks[0].rows[0] for r in role]
    assert sorted(chosen) == [90, 90]


# The property: the engine's best K offers against the brute-force reference.

_TIMES = [f"{h:02d}:{m:02d}" for h in (8, 9, 10) for m in (0, 15, 30, 45)]


@st.composite
def _instances(draw: st.DrawFn, wide: bool = False) -> tuple[Clinic, CompositeRequest, Settings]:
    """Small clinics: three people, openings on one or two dates, a few bookings, two steps. ``wide``:
    long openings (more first-step slots than the search tries first) and a preferred time."""
    people = ("P1", "P2", "N1")
    openings = []
    for who in people:
        for offset in range(draw(st.integers(1, 2))):
            start = draw(st.sampled_from(_TIMES))
            length = draw(st.sampled_from([120, 180, 240] if wide else [30, 45, 60, 90]))
            end = _minute(start) + length
            where = draw(st.sampled_from([MAIN, MAIN, ANNEX]))
            openings.append(Opening(who, where.id, MONDAY + dt.timedelta(days=offset), _minute(start), end, 15, ()))
    busy = [
        Busy(BusyKind.BOOKING, _at(t), _at(t) + 15 * n, provider_id=who)
        for who, t, n in draw(
            st.lists(
                st.tuples(st.sampled_from(people), st.sampled_from(_TIMES), st.integers(1, 3)),
                max_size=6 if wide else 3,
            )
        )
    ]
    subset = st.lists(st.sampled_from(people), unique=True, max_size=3)
    first = Step("LAB", draw(subset))
    min_gap = draw(st.sampled_from([0, 15]))
    max_gap = min_gap + draw(st.sampled_from([0, 15, 30, 60]))
    same_location, travel = draw(st.sampled_from([(True, 0), (False, 0), (False, 30)]))
    if draw(st.booleans()):
        members = draw(st.lists(st.sampled_from(people), unique=True, min_size=1, max_size=3))
        roles = [Role(draw(subset), 1), Role(members, draw(st.integers(1, len(members))))]
        second = Step("CON", roles=roles, min_gap=min_gap, max_gap=max_gap, same_location=same_location, travel=travel)
    else:
        same = draw(st.booleans())
        second = Step(
            "CON",
            draw(subset),
            min_gap=min_gap,
            max_gap=max_gap,
            same_provider_as_previous=same,
            same_location=same_location,
            travel=travel,
        )
    clinic = Clinic([Provider(p) for p in people], [MAIN, ANNEX], [LAB, CONSULT], openings=openings, busy=busy)
    preferences = [Preference(times=[_minute(draw(st.sampled_from(_TIMES)))])] if wide and draw(st.booleans()) else []
    request = CompositeRequest(
        start=_at("00:00"),
        end=_at("00:00", MONDAY + dt.timedelta(days=2)),
        steps=[first, second],
        preferences=preferences,
    )
    settings = Settings(limit=draw(st.integers(1, 3)), per_day=draw(st.integers(1, 2)))
    return clinic, request, settings


@given(_instances())
def test_the_best_offers_match_the_brute_force_reference(instance: tuple[Clinic, CompositeRequest, Settings]) -> None:
    """Every offer keeps every rule; the answer has as many offers and as high a total as the exact optimum."""
    _check_against_reference(*instance)


@hypothesis_settings(max_examples=25)
@given(_instances(wide=True))
def test_wide_instances_match_the_brute_force_reference(instance: tuple[Clinic, CompositeRequest, Settings]) -> None:
    """The same on long openings, where the bounds decide which first-step slots the solver sees first."""
    _check_against_reference(*instance)


def _check_against_reference(clinic: Clinic, request: CompositeRequest, settings: Settings) -> None:
    result = find_offers(clinic, request, settings, NOW)
    rows = step_rows(clinic, request, settings, NOW)
    checked = [check_offer(request, rows, offer) for offer in result.offers]
    keys = [
        (o.appointments[0].start, tuple(sorted(p.id for p in o.appointments[0].providers[: _first_count(request)])))
        for o in result.offers
    ]
    assert len(set(keys)) == len(keys)
    for day in {o.local_date for o in result.offers}:
        assert sum(o.local_date == day for o in result.offers) <= settings.per_day
    total = sum(offer_points(request, c, settings) for c in checked)
    assert (len(result.offers), total) == best_choice(request, rows, settings)
    assert result.complete
    for offer, chosen in zip(result.offers, checked, strict=True):
        reward = settings.weights.continuity * repeats(request, chosen)
        assert offer.score == pytest.approx(sum(r.score for filling in chosen for r in filling) + reward)


def _first_count(request: CompositeRequest) -> int:
    step = request.steps[0]
    return (step.roles or (Role(step.providers, 1),))[0].count
