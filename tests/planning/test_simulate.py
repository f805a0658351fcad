"""Capacity simulation: bookings stay valid, runs repeat from the seed, metrics match cases worked by hand.

The hand-worked clinic (``_tiny``): provider P1 works Monday, Wednesday and Friday 09:00-10:00 in
Chicago on a 15-minute grid; the only visit type is OV (30 minutes). On Monday 2 June 2025 09:00-09:30
is already booked; on Wednesday 4 June 09:00-09:30 is *held*. Every other date is free.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from attrs import evolve

from slotfinder import Busy, BusyKind, Clinic, PatientId, PreparedClinic, VisitType, prepare, walltime
from slotfinder.planning import (
    ALL,
    METRICS,
    ArrivalRate,
    BookingStatus,
    ChoiceModel,
    Outcome,
    ScriptedArrival,
    SimulationResult,
    SimulationSpec,
    bookings_frame,
    combine,
    load_summary,
    next_available,
    over_time_figure,
    plot_over_time,
    plot_versus_load,
    requests_frame,
    simulate,
    summarize,
    synthetic_clinic,
    versus_load_figure,
    weekly_metrics,
)
from slotfinder.planning import _availability as availability
from slotfinder.planning._minutes import merge
from slotfinder.planning._simulate_cli import add_simulate_parser, run_simulate
from tests.clinic_builders import MAIN, P1, P2, ZONE, at, clinic, day, weekly

OV = VisitType("OV", "DNE", "Office Visit", 30)
MWF = (0, 2, 4)


def _tiny() -> Clinic:
    return clinic(
        templates=[weekly(weekdays=MWF, start="09:00", end="10:00", slot_length=15)],
        visit_types=[OV],
        providers=[P1],
        locations=[MAIN],
        busy=[
            Busy(BusyKind.BOOKING, at(day(0), "09:00"), at(day(0), "09:30"), P1.id, MAIN.id, visit_number="V0",
                 patients=[PatientId("X", "MR")]),
            Busy(BusyKind.HOLD, at(day(2), "09:00"), at(day(2), "09:30"), P1.id, MAIN.id),
        ],
    )  # fmt: skip


# ---- next available: the IHI third-next-available, worked by hand -------------------------------


def test_third_next_available_skips_held_slots_and_packs_overlapping_starts() -> None:
    """First, second and third packed appointments from three instants of the hand-worked clinic."""
    tiny = _tiny()
    # Monday 08:00. Open: Mon 09:30 (09:00 is booked), Wed 09:30 (09:00 is held: excluded),
    # Fri 09:00, 09:15, 09:30. Packed, Friday gives 09:00 and 09:30 (09:15 overlaps 09:00).
    # So the first is Monday (0 days) and the third Friday (4 days). Counting the hold as open
    # would have made it Wednesday 09:00 / 09:30: 2 days.
    found = next_available(tiny, "OV", at(day(0), "08:00"))
    assert [a.start for a in found] == [at(day(0), "09:30"), at(day(2), "09:30"), at(day(4), "09:00")]
    # Friday 08:00: Fri 09:00, Fri 09:30 (not 09:15: it overlaps 09:00), then Monday 9 June 09:00: 3 days.
    found = next_available(tiny, "OV", at(day(4), "08:00"))
    assert [a.start for a in found] == [at(day(4), "09:00"), at(day(4), "09:30"), at(day(7), "09:00")]
    # Monday 09:40: Monday's 09:30 has begun; Wed 09:30, Fri 09:00, Fri 09:30.
    found = next_available(tiny, "OV", at(day(0), "09:40"))
    assert [a.start for a in found] == [at(day(2), "09:30"), at(day(4), "09:00"), at(day(4), "09:30")]


def test_next_available_returns_fewer_when_the_horizon_holds_fewer() -> None:
    """A short horizon holding two appointments gives two."""
    found = next_available(_tiny(), "OV", at(day(0), "08:00"), count=3, horizon_days=3)
    assert [a.start for a in found] == [at(day(0), "09:30"), at(day(2), "09:30")]


def test_next_available_does_not_depend_on_the_search_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widening windows (4 hours, 1, 2, 7, 28 days, then the horizon) give what one search of the horizon
    gives, and the packed appointments are distinct and never overlap (one provider)."""
    tiny = _tiny()
    stepped = {}
    for horizon in (1, 3, 10, 40):
        for now in (at(day(0), "08:00"), at(day(1), "09:40"), at(day(3), "16:55")):
            stepped[horizon, now] = next_available(tiny, "OV", now, count=12, horizon_days=horizon)
            many = stepped[horizon, now]
            assert len({a.start for a in many}) == len(many)
            assert all(b.start >= a.end for a, b in itertools.pairwise(many))  # one provider, packed
    monkeypatch.setattr(availability, "_STEPS", ())
    for (horizon, now), found in stepped.items():
        assert next_available(tiny, "OV", now, count=12, horizon_days=horizon) == found


# ---- a scripted run, worked by hand ---------------------------------------------------------------


def _scripted() -> SimulationResult:
    """Five OV requests in the week of 2 June (see each line), two weeks simulated."""
    script = [
        # Prefers Tuesday (no clinic) at 09:30: the best offer is today's 09:30 (time, earliness, adjacency).
        ScriptedArrival(at(day(0), "08:00"), "OV", days={1}, times=[570], pick=0),
        # No preferences; declines every offer.
        ScriptedArrival(at(day(0), "08:30"), "OV", pick=-1),
        # Prefers Monday 09:00: next Monday 9 June 09:00, and does not come.
        ScriptedArrival(at(day(1), "10:00"), "OV", days={0}, times=[540], pick=0, no_show=True),
        # Prefers Friday 09:00: Friday 6 June 09:00, cancelled on Thursday at noon.
        ScriptedArrival(at(day(2), "08:00"), "OV", days={4}, times=[540], pick=0, cancel_at=at(day(3), "12:00")),
        # Prefers Friday 09:00: the cancelled time is open again and booked; attended.
        ScriptedArrival(at(day(4), "08:00"), "OV", days={4}, times=[540], pick=0, no_show=False),
    ]
    spec = SimulationSpec(start=at(day(0), "00:00"), weeks=2, k=3, script=script, zone=ZONE)
    return simulate(_tiny(), spec)


def test_scripted_run_books_cancels_and_misses_as_worked_by_hand() -> None:
    """The scripted run's outcomes, bookings, fates and availability are those worked out by hand."""
    result = _scripted()
    assert [r.outcome for r in result.requests] == [
        Outcome.BOOKED, Outcome.DECLINED, Outcome.BOOKED, Outcome.BOOKED, Outcome.BOOKED,
    ]  # fmt: skip
    assert [(b.start, b.status) for b in result.bookings] == [
        (at(day(0), "09:30"), BookingStatus.ATTENDED),
        (at(day(7), "09:00"), BookingStatus.NO_SHOW),
        (at(day(4), "09:00"), BookingStatus.CANCELLED),
        (at(day(4), "09:00"), BookingStatus.ATTENDED),  # the cancelled time, booked again
    ]
    assert result.bookings[2].cancelled_at == at(day(3), "12:00")
    # Availability seen by each request (first, third) in days, worked out in the module docstring's clinic.
    assert [(r.first_available_days, r.third_available_days) for r in result.requests] == [
        (0, 4),  # Mon 08:00: Mon 09:30, Wed 09:30, Fri 09:00
        (2, 4),  # Mon 08:30: Mon 09:30 now booked; Wed 09:30, Fri 09:00, Fri 09:30
        (1, 3),  # Tue 10:00: Wed 09:30, Fri 09:00, Fri 09:30
        (0, 2),  # Wed 08:00: Wed 09:30, Fri 09:00, Fri 09:30 (Mon 9 June 09:00 is booked)
        (0, 3),  # Fri 08:00: Fri 09:00 (freed Thursday), Fri 09:30, Mon 9 June 09:30
    ]
    # the final calendars: the cancelled booking is gone, the no-show stays
    simulated = [b for b in result.clinic.busy if b.visit_number and b.visit_number.startswith("SIM-")]
    assert sorted(b.start for b in simulated) == [at(day(0), "09:30"), at(day(4), "09:00"), at(day(7), "09:00")]


def test_weekly_metrics_of_the_scripted_run_match_the_hand_computation() -> None:
    """Every weekly column of the scripted run is the hand-computed value."""
    frame = weekly_metrics(_scripted())
    assert list(frame["week"]) == ["2025-W23", "2025-W23", "2025-W24", "2025-W24"]
    assert list(frame["visit_type"]) == ["OV", ALL, "OV", ALL]
    first = frame.iloc[0].to_dict()
    expected = {
        "week_start": dt.date(2025, 6, 2),
        "requests": 5,
        "offered": 5,
        "booked": 4,
        "declined": 1,
        "no_offer": 0,
        "fill_rate": 4 / 5,
        "decline_rate": 1 / 5,
        "offers_shown": 15,  # three offers each
        "tna_measured": 5,
        "tna_censored": 0,
        "tna_days_mean": (4 + 4 + 3 + 2 + 3) / 5,
        "tna_days_median": 3.0,
        "first_measured": 5,
        "first_available_days_mean": (0 + 2 + 1 + 0 + 0) / 5,
        "first_available_days_median": 0.0,
        "day_preference_bookings": 4,
        "preferred_day_share": 3 / 4,  # the Tuesday patient got Monday
        "time_preference_bookings": 4,
        "preferred_time_share": 1.0,
        "demand_minutes": 5 * 30,
        # calendar side, week of 2 June: Mon 09:30 attended, Fri 09:00 cancelled, Fri 09:00 attended
        "appointments": 2,
        "attended": 2,
        "no_shows": 0,
        "cancellations": 1,
        "booked_minutes": 60,
        "no_show_minutes": 0,
        "template_minutes": 3 * 60,
        "utilisation": 60 / 180,
        "load_ratio": 150 / 180,
    }
    assert first == {"week": "2025-W23", "visit_type": "OV", **expected}
    everything = frame.iloc[1]
    assert everything["booked_minutes"] == 90  # plus Monday's booking from before the run (not the hold)
    assert everything["utilisation"] == pytest.approx(0.5)
    second = frame.iloc[2]
    assert second["requests"] == 0 and math.isnan(second["fill_rate"]) and math.isnan(second["tna_days_mean"])
    assert (second["appointments"], second["no_shows"], second["no_show_minutes"]) == (1, 1, 30)
    assert second["utilisation"] == pytest.approx(30 / 180)


def test_request_and_booking_frames_have_one_row_each() -> None:
    """One row per request and per booking, with outcomes, preferences met, statuses and weeks."""
    result = _scripted()
    requests = requests_frame(result)
    bookings = bookings_frame(result)
    assert list(requests["outcome"]) == ["booked", "declined", "booked", "booked", "booked"]
    assert list(requests["got_preferred_day"]) == [False, None, True, True, True]
    assert list(bookings["status"]) == ["attended", "no_show", "cancelled", "attended"]
    assert list(bookings["week"]) == ["2025-W23", "2025-W24", "2025-W23", "2025-W23"]


def test_summaries_over_replicates_and_loads() -> None:
    """Means, spreads and whole-run values over two identical replicates."""
    frame = weekly_metrics(_scripted())
    both = combine([(1.0, 0, frame), (1.0, 1, frame)])
    summary = summarize(both)
    assert len(summary) == 4 and set(summary["replicates"]) == {2}
    ov = summary[(summary["visit_type"] == "OV") & (summary["week"] == "2025-W23")].iloc[0]
    assert ov["tna_days_mean"] == pytest.approx(3.2) and ov["tna_days_mean_std"] == 0
    by_load = load_summary(both)
    row = by_load[by_load["visit_type"] == "OV"].iloc[0]
    # whole run (two weeks): 5 requests, 4 bookings; booked 90 of 360 template minutes
    assert row["fill_rate"] == pytest.approx(0.8)
    assert row["utilisation"] == pytest.approx(90 / 360)
    assert row["tna_days_mean"] == pytest.approx(3.2)
    assert row["requests"] == pytest.approx(2.5)  # per week
    assert row["declined"] == pytest.approx(0.5)  # per week


# ---- drawn runs: validity and determinism ---------------------------------------------------------


def _drawn_spec(seed: int = 7, **changes: Any) -> SimulationSpec:
    spec = SimulationSpec(
        start=at(day(0), "00:00"),
        weeks=2,
        seed=seed,
        rates=[ArrivalRate("OV", 6.0), ArrivalRate("FU", 6.0), ArrivalRate("NP", 2.0)],
        k=3,
        cancel_probability=0.2,
        no_show_probability=0.2,
        horizon_days=21,
        tna_horizon_days=35,
        zone=ZONE,
    )
    return evolve(spec, **changes)


def _rooms_clinic() -> Clinic:
    """Three providers at three locations, room-needing visit types, 30 % already booked (rooms random)."""
    return synthetic_clinic(providers=3, days=40, grain=15, booked=0.3, rooms=True, seed=3)


@pytest.fixture(scope="module")
def drawn() -> SimulationResult:
    synthetic = _rooms_clinic()
    # the synthetic clinic starts on Monday 20 October 2025
    return simulate(synthetic, _drawn_spec(start=at(dt.date(2025, 10, 20), "00:00")))


def _assert_bookings_valid(result: SimulationResult, window_days: int) -> int:
    """Every kept booking lies in its provider's template time for its visit type, starting on a block's
    grid; overlaps no busy time of its provider, its room or its location that keeps that visit type out;
    lies in its request's window. The final calendars hold exactly the kept bookings. Returns how many."""
    final = result.clinic
    kept = [b for b in result.bookings if b.status is not BookingStatus.CANCELLED]
    first = walltime.to_datetime(result.start).date() - dt.timedelta(days=2)
    last = walltime.to_datetime(result.end).date() + dt.timedelta(days=window_days + 2)
    blocks = prepare(final).blocks(first, last)
    simulated = {b.visit_number for b in result.bookings}
    for b in kept:
        assert b.booked_at <= b.start < b.booked_at + window_days * 1440
        # inside the provider's template time at that location for this visit type, on a block's grid
        own = [
            k
            for k in blocks
            if k.provider_id == b.provider_id and k.location_id == b.location_id and k.allows(b.visit_type)
        ]
        assert any(lo <= b.start and b.end <= hi for lo, hi in merge((k.start, k.end) for k in own)), b
        assert any(k.start <= b.start < k.end and (b.start - k.start) % k.step == 0 for k in own), b
        assert result.initial.visit_type(b.visit_type).needs_room == (b.room is not None)
        for item in final.busy:
            if item.visit_number == b.visit_number or item.end <= b.start or b.end <= item.start:
                continue
            mine = item.provider_id == b.provider_id
            same_room = b.room is not None and (item.location_id, item.room) == (b.location_id, b.room)
            closure = item.provider_id is None and item.room is None and item.location_id == b.location_id
            if mine or same_room or closure:
                # only a block reserved for this visit type (or released by booking time) may lie under it
                assert not item.blocks(b.visit_type, b.booked_at), (b, item)
    # and every simulated item on the final calendars is a kept booking
    on_calendar = sorted(i.visit_number or "" for i in final.busy if i.visit_number in simulated)
    assert on_calendar == sorted(b.visit_number for b in kept)
    return len(kept)


def test_drawn_bookings_never_overlap_and_stay_inside_templates(drawn: SimulationResult) -> None:
    """A drawn run's bookings are all valid (``_assert_bookings_valid``), and there are many."""
    assert _assert_bookings_valid(drawn, 21) > 20  # the test means something


def _busy_clinic() -> Clinic:
    """Two providers, a room-needing procedure, a block reserved for new patients, time away, a closure."""
    proc = VisitType("PROC", "DNE", "Procedure", 30, needs_room=True)
    new = VisitType("NP", "DNE", "New Patient Visit", 60)
    return clinic(
        templates=[
            weekly(start="08:00", end="12:00", slot_length=15),
            weekly(provider=P2.id, start="09:00", end="13:00", slot_length=10, visit_types=["PROC", "OV"]),
        ],
        visit_types=[OV, new, proc],
        providers=[P1, P2],
        locations=[MAIN],
        busy=[
            Busy(BusyKind.BLOCK, at(day(1), "08:00"), at(day(1), "10:00"), P1.id, MAIN.id, reserved_for=["NP"]),
            Busy(BusyKind.BLOCK, at(day(8), "08:00"), at(day(8), "10:00"), P1.id, MAIN.id, reserved_for=["NP"],
                 release_before=1440),
            Busy(BusyKind.OUT_OF_OFFICE, at(day(2), "00:00"), at(day(3), "00:00"), P2.id),
            Busy(BusyKind.CLOSURE, at(day(3), "11:00"), at(day(3), "13:00"), location_id=MAIN.id),
            Busy(BusyKind.BOOKING, at(day(0), "09:00"), at(day(0), "09:30"), location_id=MAIN.id, room="136",
                 visit_number="R1"),  # a room taken by someone else's visit
        ],
    )  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_bookings_stay_valid_under_pressure(seed: int) -> None:
    """Reserved blocks, time away, closures and rooms taken by others are respected when the clinic fills."""
    rates = [ArrivalRate("OV", 12.0), ArrivalRate("NP", 2.0), ArrivalRate("PROC", 8.0)]
    result = simulate(_busy_clinic(), _drawn_spec(seed, rates=rates, horizon_days=10, tna_horizon_days=20))
    assert _assert_bookings_valid(result, 10) > 30
    frame = weekly_metrics(result)
    assert frame[frame["visit_type"] == ALL]["utilisation"].iloc[-1] > 0.8  # the clinic did fill up


def test_drawn_run_counts_add_up(drawn: SimulationResult) -> None:
    """ALL rows add up the visit types; outcomes partition requests; statuses are counted."""
    frame = weekly_metrics(drawn)
    every = frame[frame["visit_type"] == ALL]
    parts = frame[frame["visit_type"] != ALL]
    for column in ("requests", "booked", "declined", "no_offer", "appointments", "no_shows", "cancellations"):
        assert every[column].sum() == parts[column].sum(), column
    assert every["requests"].sum() == len(drawn.requests)
    assert (frame["booked"] + frame["declined"] + frame["no_offer"] == frame["requests"]).all()
    statuses = [b.status for b in drawn.bookings]
    assert BookingStatus.CANCELLED in statuses and BookingStatus.NO_SHOW in statuses
    assert every["no_shows"].sum() == statuses.count(BookingStatus.NO_SHOW)
    assert ((frame["utilisation"] >= 0) & (frame["utilisation"] <= 1)).all()


def test_same_seed_same_run_and_another_seed_another() -> None:
    """The same seed repeats the run and its metrics; another seed draws other arrivals."""
    tiny = _tiny()
    spec = _drawn_spec(rates=[ArrivalRate("OV", 1.5)], horizon_days=14)
    first = simulate(tiny, spec)
    again = simulate(tiny, spec)
    assert first == again
    pd.testing.assert_frame_equal(weekly_metrics(first), weekly_metrics(again))
    other = simulate(tiny, evolve(spec, seed=8))
    assert [r.arrival for r in other.requests] != [r.arrival for r in first.requests]


def test_every_cancellation_frees_its_time() -> None:
    """With every booking cancelled, the final calendars are the initial ones."""
    tiny = _tiny()
    result = simulate(tiny, _drawn_spec(rates=[ArrivalRate("OV", 2.0)], cancel_probability=1.0))
    assert result.bookings and all(b.status is BookingStatus.CANCELLED for b in result.bookings)
    assert result.clinic.busy == tiny.busy  # every booking was removed again


def test_no_shows_keep_their_time_and_are_counted() -> None:
    """With every patient missing, no-shows keep their time and are counted in minutes."""
    tiny = _tiny()
    spec = _drawn_spec(rates=[ArrivalRate("OV", 2.0)], cancel_probability=0.0, no_show_probability=1.0)
    result = simulate(tiny, spec)
    passed = [b for b in result.bookings if b.start < spec.end]
    assert passed and all(b.status is BookingStatus.NO_SHOW for b in passed)
    assert len(result.clinic.busy) == len(tiny.busy) + len(result.bookings)
    frame = weekly_metrics(result)
    ov = frame[frame["visit_type"] == "OV"]
    assert ov["no_shows"].sum() == len(passed)
    assert ov["no_show_minutes"].sum() == 30 * len(passed)
    assert ov["attended"].sum() == 0


def test_choice_model_best_never_declines_and_logit_can() -> None:
    """Rule best takes the top offer; a strong decline utility makes logit patients decline."""
    tiny = _tiny()
    best = simulate(tiny, _drawn_spec(rates=[ArrivalRate("OV", 2.0)], choice=ChoiceModel(rule="best")))
    assert all(r.outcome is not Outcome.DECLINED for r in best.requests)
    assert all(r.chosen in (None, 0) for r in best.requests)
    reluctant = simulate(tiny, _drawn_spec(rates=[ArrivalRate("OV", 2.0)], choice=ChoiceModel(decline=5.0)))
    assert any(r.outcome is Outcome.DECLINED for r in reluctant.requests)
    for r in reluctant.requests:
        if r.offers:
            assert 0 < sum(o.probability for o in r.offers) < 1  # the rest is the decline option


def test_no_offer_when_the_clinic_is_full() -> None:
    """A short horizon and heavy demand leave requests without offers."""
    tiny = _tiny()
    result = simulate(tiny, _drawn_spec(rates=[ArrivalRate("OV", 8.0)], horizon_days=3, cancel_probability=0.0))
    assert any(r.outcome is Outcome.NO_OFFER for r in result.requests)
    assert all(not r.offers for r in result.requests if r.outcome is Outcome.NO_OFFER)


def test_spec_and_run_reject_bad_input() -> None:
    """Bad probabilities, hours, rules, visit types and scripted instants are refused."""
    with pytest.raises(ValueError, match="cancel_probability"):
        SimulationSpec(start=0, cancel_probability=1.5)
    with pytest.raises(ValueError, match="call_hours"):
        SimulationSpec(start=0, call_hours=(600, 500))
    with pytest.raises(ValueError, match="rule"):
        ChoiceModel(rule="random")
    with pytest.raises(ValueError, match="not one of the clinic's"):
        simulate(_tiny(), _drawn_spec(rates=[ArrivalRate("XX", 1.0)]))
    with pytest.raises(ValueError, match="outside the simulation"):
        simulate(_tiny(), _drawn_spec(rates=[], script=[ScriptedArrival(at(day(30), "09:00"), "OV")]))


# ---- plots and the command ------------------------------------------------------------------------


def test_plots_are_titled_labelled_with_units_and_name_the_zone(tmp_path: Path) -> None:
    """Every plot names the zone, labels its axes with units, has a legend; files are PNG."""
    frame = weekly_metrics(_scripted())
    weekly = combine([(1.0, 0, frame), (2.0, 0, frame)])
    summary, by_load = summarize(weekly), load_summary(weekly)
    for metric in METRICS:
        for figure in (over_time_figure(summary, metric, ZONE), versus_load_figure(by_load, metric, ZONE)):
            (axes,) = figure.get_axes()
            assert ZONE in axes.get_title()
            assert axes.get_xlabel() and axes.get_ylabel().endswith(")")  # the unit, in parentheses
            legend = axes.get_legend()
            assert legend is not None and [t.get_text() for t in legend.get_texts()] == ["OV", ALL]
    assert ZONE in over_time_figure(summary, METRICS[0], ZONE).get_axes()[0].get_xlabel()
    written = plot_over_time(summary, tmp_path, ZONE) + plot_versus_load(by_load, tmp_path, ZONE)
    assert len(written) == 2 * len(METRICS)
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _command(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="slotfinder")
    add_simulate_parser(parser.add_subparsers(dest="command", required=True))
    return run_simulate(parser.parse_args(["simulate", *argv]))


def test_simulate_command_writes_metrics_and_plots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The command writes every table, the JSON and the plots for two loads."""
    out = tmp_path / "run"
    status = _command(
        "--weeks", "1", "--providers", "2", "--loads", "1,2", "--horizon-days", "14",
        "--workers", "0", "--no-progress", "--seed", "4", "--out", str(out),
    )  # fmt: skip
    assert status == 0
    assert "wrote" in capsys.readouterr().out
    for name in ("weekly.csv", "summary.csv", "load.csv", "requests.csv", "bookings.csv", "metrics.json"):
        assert (out / name).stat().st_size > 0
    assert len(list(out.glob("*.png"))) == 2 * len(METRICS)
    document = json.loads((out / "metrics.json").read_text())
    assert document["zone"] == "America/New_York"
    assert document["parameters"]["loads"] == [1.0, 2.0]
    weekly = pd.read_csv(out / "weekly.csv")
    assert set(weekly["load"]) == {1.0, 2.0} and {"OV", "FU", "TELE", ALL} == set(weekly["visit_type"])
    assert len(document["weekly"]) == len(weekly)
    assert document["weekly"][0]["week_start"] == weekly["week_start"][0]  # an ISO date, both ways


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--loads", "x"], "--loads"),
        (["--rate", "OV"], "--rate"),
        (["--clinic", "c.json"], "--start is required"),
        (["--weeks", "0"], "--weeks"),
        (["--rate", "NOPE=1", "--weeks", "1", "--providers", "1"], "NOPE"),
    ],
)
def test_simulate_command_reports_bad_input_in_one_line(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad input is one line on stderr and status 2."""
    assert _command(*argv, "--out", str(tmp_path), "--workers", "0", "--no-progress") == 2
    err = capsys.readouterr().err
    assert err.startswith("slotfinder simulate: ") and message in err and err.count("\n") == 1


def test_a_run_prepares_its_clinic_once_and_moves_on_with_busy_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run hands the engine a prepared clinic: prepared once at the start, then one ``with_busy`` per
    booking and per cancellation (the busy index updated, not rebuilt); never a fresh preparation per call."""
    built: list[PreparedClinic] = []
    changes: list[tuple[tuple[Busy, ...], tuple[Busy, ...]]] = []
    init, with_busy = PreparedClinic.__init__, PreparedClinic.with_busy

    def spy_init(self: PreparedClinic, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        init(self, *args, **kwargs)

    def spy_with_busy(self: PreparedClinic, added: Any = (), removed: Any = ()) -> PreparedClinic:
        changes.append((tuple(added), tuple(removed)))
        return with_busy(self, added, removed)

    monkeypatch.setattr(PreparedClinic, "__init__", spy_init)
    monkeypatch.setattr(PreparedClinic, "with_busy", spy_with_busy)
    result = simulate(_tiny(), _drawn_spec(rates=[ArrivalRate("OV", 2.0)], cancel_probability=0.3))
    cancelled = sum(b.status is BookingStatus.CANCELLED for b in result.bookings)
    assert len(result.requests) > 5 and result.bookings and cancelled  # the run searched, booked and cancelled
    assert len(built) == 1 + len(changes)
    assert sum(1 for added, _ in changes if added) == len(result.bookings)
    assert sum(1 for _, removed in changes if removed) == cancelled
    assert all(b not in result.clinic.busy for _, removed in changes for b in removed)
