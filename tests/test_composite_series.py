"""Series (``Series``: N visits of a type, an interval in local dates with a tolerance) and steps
counted in local dates: the rules pinned by hand, and the best offers against the brute-force
reference (``tests/reference_composite.py``), on clinics spanning a DST change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from slotfinder import (
    Clinic,
    CompositeRequest,
    InvalidRequest,
    Location,
    Opening,
    Provider,
    Settings,
    VisitType,
    find_offers,
)
from slotfinder._calendars.zones import instant_of
from slotfinder._composite_types import SameProvider, Series, Step
from slotfinder._offers import _best_offers, _points, pruned_model
from slotfinder._prepared import prepare
from slotfinder._search import Stopwatch
from slotfinder._solve.chain import chain_offers
from tests.reference_composite import best_choice, check_offer, offer_points, repeats, step_rows

ZONE = "America/New_York"
FIRST = dt.date(2025, 10, 20)  # a Monday; the clocks fall back on 2025-11-02
NOW = instant_of(ZONE, FIRST - dt.timedelta(days=3), 0)
MAIN = Location("main", "Clinic", "PT", ZONE, "Clinic", ())
PT = VisitType("PT", None, "Physiotherapy", 30)


def _clinic(openings: Sequence[tuple[str, dt.date, int]]) -> Clinic:
    """One-hour openings (two 30-minute starts) per (provider, date, start minute)."""
    blocks = [Opening(who, MAIN.id, date, start, start + 60, 30, ()) for who, date, start in openings]
    return Clinic([Provider("A"), Provider("B")], [MAIN], [PT], openings=blocks)


def _request(series: Series, days: int = 3) -> CompositeRequest:
    start = instant_of(ZONE, FIRST, 0)
    return CompositeRequest(start=start, end=instant_of(ZONE, FIRST + dt.timedelta(days=days), 0), steps=series.steps())


def _dates(result_offer: object) -> list[dt.date]:
    return [a.local_date for a in result_offer.appointments]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("later", "allowed"), [(5, False), (6, True), (8, True), (9, False)])
def test_the_tolerance_allows_and_forbids_a_date(later: int, allowed: bool) -> None:
    """Weekly ±1 day: 5 and 9 days later are forbidden, 6 and 8 allowed (local dates, across the DST change)."""
    clinic = _clinic([("A", FIRST, 540), ("A", FIRST + dt.timedelta(days=later), 540)])
    series = Series("PT", 2, interval_days=7, tolerance_days=1)
    result = find_offers(clinic, _request(series, days=1), Settings(limit=1), NOW)
    assert bool(result.offers) is allowed
    if allowed:
        assert _dates(result.offers[0]) == [FIRST, FIRST + dt.timedelta(days=later)]


def test_a_weekly_series_keeps_its_wall_time_across_dst() -> None:
    """09:00 every Monday for three weeks: one offer, the same local time, though UTC moves by an hour."""
    clinic = _clinic([("A", FIRST + dt.timedelta(days=7 * w), 540) for w in range(3)])
    result = find_offers(clinic, _request(Series("PT", 3), days=1), Settings(limit=1), NOW)
    (offer,) = result.offers
    assert [a.local_time for a in offer.appointments] == [dt.time(9, 0)] * 3
    starts = [a.start for a in offer.appointments]
    assert starts[2] - starts[1] == 7 * 1440 + 60  # the week of the change lasts an hour longer


@pytest.mark.parametrize("same", [SameProvider.REQUIRED, SameProvider.PREFERRED, SameProvider.ANY])
def test_same_provider_required_preferred_or_any(same: SameProvider) -> None:
    """A sees the patient on day 0 and only A works on day 7 at 09:00, B at 08:00 on day 7: required
    forbids B, preferred picks A over B's earlier start, any picks the earlier (better) start by B."""
    clinic = _clinic(
        [("A", FIRST, 540), ("A", FIRST + dt.timedelta(days=7), 600), ("B", FIRST + dt.timedelta(days=7), 480)]
    )
    result = find_offers(clinic, _request(Series("PT", 2, same_provider=same), days=1), Settings(limit=1), NOW)
    (offer,) = result.offers
    second = offer.appointments[1].providers[0].id
    assert second == ("B" if same is SameProvider.ANY else "A")


@pytest.mark.parametrize(
    ("series", "path"),
    [
        (Series("PT", 0), "steps"),
        (Series("PT", 2, interval_days=7, tolerance_days=7), None),
    ],
)
def test_a_series_with_no_visits_is_refused(series: Series, path: str | None) -> None:
    """A series of no visits has no steps: the request is refused with its path, never ValueError."""
    clinic = _clinic([("A", FIRST, 540)])
    if path is None:  # a tolerance as long as the interval still gives valid steps (min_days 0)
        find_offers(clinic, _request(series), Settings(limit=1), NOW)
        return
    with pytest.raises(InvalidRequest) as caught:
        find_offers(clinic, _request(series), Settings(limit=1), NOW)
    assert [p.path for p in caught.value.problems] == [path]


def test_steps_counted_in_dates_need_both_bounds() -> None:
    clinic = _clinic([("A", FIRST, 540)])
    request = CompositeRequest(start=NOW, steps=[Step("PT"), Step("PT", min_days=3)])
    with pytest.raises(InvalidRequest) as caught:
        find_offers(clinic, request, Settings(limit=1), NOW)
    assert [p.path for p in caught.value.problems] == ["steps[1].max_days"]


@st.composite
def _instances(draw: st.DrawFn) -> tuple[Clinic, CompositeRequest, Settings]:
    """Two providers, one-hour openings on a few dates over four weeks around the DST change."""
    openings = [
        (
            draw(st.sampled_from(["A", "B"])),
            FIRST + dt.timedelta(days=draw(st.integers(0, 24))),
            draw(st.sampled_from([480, 540, 840])),
        )
        for _ in range(draw(st.integers(2, 9)))
    ]
    series = Series(
        "PT",
        draw(st.integers(1, 3)),
        interval_days=draw(st.sampled_from([3, 7])),
        tolerance_days=draw(st.integers(0, 2)),
        same_provider=draw(st.sampled_from(list(SameProvider))),
    )
    settings = Settings(limit=draw(st.integers(1, 2)), per_day=draw(st.integers(1, 2)))
    return _clinic(sorted(set(openings))), _request(series, days=draw(st.integers(1, 7))), settings


@hypothesis_settings(max_examples=60, deadline=None)
@given(_instances())
def test_series_offers_match_the_brute_force_reference(instance: tuple[Clinic, CompositeRequest, Settings]) -> None:
    """Every offer keeps the series' rules; the answer is as large and as good as the exact optimum."""
    clinic, request, settings = instance
    result = find_offers(clinic, request, settings, NOW)
    rows = step_rows(clinic, request, settings, NOW)
    checked = [check_offer(request, rows, offer) for offer in result.offers]
    total = sum(offer_points(request, c, settings) for c in checked)
    assert (len(result.offers), total) == best_choice(request, rows, settings)
    for offer, chosen in zip(result.offers, checked, strict=True):
        reward = settings.weights.continuity * repeats(request, chosen)
        assert offer.score == pytest.approx(sum(r.score for filling in chosen for r in filling) + reward)


@hypothesis_settings(max_examples=40, deadline=None)
@given(_instances())
def test_the_chain_programme_and_cp_sat_agree(instance: tuple[Clinic, CompositeRequest, Settings]) -> None:
    """The same pruned model solved both ways: the same number of offers and the same total points."""
    clinic, request, settings = instance
    steps, _, _ = pruned_model(prepare(clinic), request, settings, NOW, Stopwatch())
    if any(step.slot_start.shape[0] == 0 for step in steps):
        return
    by_chain = chain_offers(steps, settings.limit, settings.per_day)
    by_solver, proven = _best_offers(steps, settings)
    assert proven
    assert len(by_chain) == len(by_solver)
    assert sum(_points(steps, p) for p in by_chain) == sum(_points(steps, p) for p in by_solver)
