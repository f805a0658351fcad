"""slotfinder.frames: the calendars and candidates as DataFrames, and the week and score pictures."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import slotfinder
from slotfinder import frames
from slotfinder._calendars.zones import instant_of
from slotfinder._domain import Busy, BusyKind, Clinic, Location, Opening, OpenTime, PatientId, Provider, WeeklyTemplate

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg", force=True)
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

ZONE = "America/Chicago"
ANA = "1234567890"
RAMAN = "1669473825"
WEEK = (dt.date(2025, 10, 27), dt.date(2025, 11, 2))  # Sunday 2 November: CDT (UTC-5) ends, CST (UTC-6)


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def demo() -> Clinic:
    return slotfinder.demo_clinic()


@pytest.fixture(scope="module")
def seed_result() -> slotfinder.SlotResult:
    return slotfinder.find_slots_redox(frames.demo_request())


def test_import_stays_light() -> None:
    """Importing the module loads neither pandas nor matplotlib (they load when a function runs)."""
    code = "import sys, slotfinder.frames; print('pandas' in sys.modules, 'matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_demo_request_is_the_bundled_seed() -> None:
    """demo_request() is the packaged example message, and a fresh copy each call."""
    path = Path(slotfinder.__file__).parent / "data" / "demo_request.json"
    message = frames.demo_request()
    assert message == json.loads(path.read_text("utf-8"))
    message["Visit"] = None
    assert frames.demo_request()["Visit"] is not None
    assert slotfinder.parse_request(frames.demo_request()).request.visit_types[0].code == "210"


def test_calendar_frame_columns_kinds_and_no_patients(demo: Clinic) -> None:
    """One row per working block and busy item; visit numbers kept, patient identifiers never."""
    frame = frames.calendar_frame(demo, *WEEK)
    assert list(frame.columns) == list(frames.CALENDAR_COLUMNS)
    assert set(frame["kind"]) == {"template", "opening", "booking", "hold", "block"}
    assert frame["start_utc"].is_monotonic_increasing
    bookings = frame[frame["kind"] == "booking"]
    assert bookings["visit_number"].notna().all()
    assert "V-20251028-0103" in set(bookings["visit_number"])
    text = frame.to_csv()
    for item in demo.busy:
        for patient in item.patients:
            assert patient.id not in text
    assert (frame["end_utc"] > frame["start_utc"]).all()
    assert ((frame["end_utc"] - frame["start_utc"]).dt.total_seconds() // 60 == frame["duration_min"]).all()
    assert (frame["start_local"].map(lambda t: t.tz_convert("UTC")) == frame["start_utc"]).all()


def test_calendar_frame_templates_keep_wall_time_across_dst(demo: Clinic) -> None:
    """Ana's 08:00-12:00 template is at 08:00 local on both sides of the change, one hour apart in UTC."""
    frame = frames.calendar_frame(demo, dt.date(2025, 10, 31), dt.date(2025, 11, 3), providers=[ANA])
    mornings = frame[(frame["kind"] == "template") & (frame["room"] == "136")].set_index("local_date")
    friday, monday = mornings.loc[dt.date(2025, 10, 31)], mornings.loc[dt.date(2025, 11, 3)]
    assert friday["start_local"].strftime("%H:%M %z") == "08:00 -0500"
    assert monday["start_local"].strftime("%H:%M %z") == "08:00 -0600"
    assert (friday["start_utc"].hour, monday["start_utc"].hour) == (13, 14)
    assert friday["visit_types"] == ("210", "220") and friday["step_min"] == 15
    assert friday["time_zone"] == ZONE


def test_calendar_frame_provider_filter_keeps_their_locations_items(demo: Clinic) -> None:
    """providers= keeps that provider's rows and the location-wide items where they work."""
    frame = frames.calendar_frame(demo, dt.date(2025, 10, 20), dt.date(2025, 11, 30), providers=[ANA])
    assert set(frame["provider_id"].dropna()) == {ANA}
    site = frame[frame["provider_id"].isna()]
    assert set(site["kind"]) == {"booking", "closure"}  # room 137's booking and Thanksgiving in 3N
    assert set(site["location_id"]) == {"res-3n"}


def test_calendar_frame_out_of_office_takes_the_providers_zone(demo: Clinic) -> None:
    """An item without a location is placed in the zone of the provider's first location."""
    frame = frames.calendar_frame(demo, dt.date(2025, 11, 10), dt.date(2025, 11, 14), providers=[RAMAN])
    away = frame[frame["kind"] == "out_of_office"].iloc[0]
    assert away["time_zone"] == ZONE and pd.isna(away["location_id"])
    assert away["start_local"].strftime("%Y-%m-%d %H:%M") == "2025-11-10 00:00"
    assert away["duration_min"] == 5 * 1440


def _small_clinic() -> Clinic:
    loc = Location("main", "Facility", "Dept", ZONE, rooms=("1",))
    day = dt.date(2025, 6, 3)  # a Tuesday
    return Clinic(
        providers=[Provider("P1", first_name="Ana", last_name="Lind", credentials=["MD"]), Provider("P2")],
        locations=[loc],
        visit_types=[],
        templates=[WeeklyTemplate("P1", "main", {1}, 9 * 60, 12 * 60, 15, effective_from=day)],
        openings=[Opening("P1", "main", day, 13 * 60, 14 * 60, 30, ["OV"], "1")],
        open_times=[OpenTime("P2", "main", instant_of(ZONE, day, 600), instant_of(ZONE, day, 660), source="push-1")],
        busy=[
            Busy(
                BusyKind.BOOKING,
                instant_of(ZONE, day, 600),
                instant_of(ZONE, day, 630),
                "P1",
                "main",
                "1",
                "V-1",
                [PatientId("MR-SECRET", "MR")],
            ),
            Busy(BusyKind.CLOSURE, instant_of(ZONE, day, 0), instant_of(ZONE, day, 60), location_id="main"),
            Busy(
                BusyKind.BLOCK,
                instant_of(ZONE, day, 660),
                instant_of(ZONE, day, 720),
                "P1",
                reserved_for=["NP"],
                release_before=60,
            ),
        ],
        name="small",
    )


def test_calendar_frame_every_kind_of_working_time() -> None:
    """Templates, openings and open times are told apart; blocks keep their reservation."""
    clinic = _small_clinic()
    frame = frames.calendar_frame(clinic, dt.date(2025, 6, 3), dt.date(2025, 6, 3))
    by_kind = frame.set_index("kind")
    assert sorted(by_kind.index) == sorted(["template", "opening", "open_time", "booking", "closure", "block"])
    assert by_kind.loc["opening", "room"] == "1" and by_kind.loc["opening", "visit_types"] == ("OV",)
    assert by_kind.loc["open_time", "provider_id"] == "P2" and by_kind.loc["open_time", "provider"] == "P2"
    assert by_kind.loc["template", "provider"] == "Ana Lind, MD"
    assert by_kind.loc["block", "visit_types"] == ("NP",) and by_kind.loc["block", "release_before_min"] == 60
    assert by_kind.loc["closure", "local_date"] == dt.date(2025, 6, 3)
    assert "MR-SECRET" not in frame.to_csv()
    assert frames.calendar_frame(clinic, dt.date(2025, 6, 4), dt.date(2025, 6, 9)).empty


def test_calendar_frame_empty_has_the_columns(demo: Clinic) -> None:
    frame = frames.calendar_frame(demo, dt.date(2024, 1, 1), dt.date(2024, 1, 2), providers=["nobody"])
    assert frame.empty and list(frame.columns) == list(frames.CALENDAR_COLUMNS)


def test_candidates_frame_matches_list_candidates(demo: Clinic, seed_result: slotfinder.SlotResult) -> None:
    """One row per candidate in output order, with local weekday and time at the location."""
    parsed = slotfinder.parse_request(frames.demo_request())
    candidates = slotfinder.list_candidates(demo, parsed.request, None, parsed.now)
    frame = frames.candidates_frame(demo, candidates)
    assert list(frame.columns) == list(frames.CANDIDATE_COLUMNS)
    assert len(frame) == len(candidates) == seed_result.candidates
    best = frame.iloc[0]
    top = seed_result.slots[0]
    assert best["start_utc"] == pd.Timestamp(top.start_utc) and best["local_time"] == top.local_time
    assert best["weekday"] == "Fri" and best["score"] == pytest.approx(top.score)
    assert (frame["start_local"].map(lambda t: t.date()) == frame["local_date"]).all()
    assert frames.candidates_frame(demo, []).empty


def test_plot_week_draws_days_offsets_and_ranks(demo: Clinic, seed_result: slotfinder.SlotResult) -> None:
    """One panel per local date naming its UTC offset; offered slots in range labelled by rank."""
    fig = frames.plot_week(demo, seed_result, *WEEK)
    axes = fig.axes
    assert len(axes) == 7
    titles = [ax.get_title(loc="left") for ax in axes]
    assert titles[0] == "Mon 2025-10-27 (UTC-05:00)" and titles[-1] == "Sun 2025-11-02 (UTC-06:00)"
    in_week = [r for r, s in enumerate(seed_result.slots, 1) if WEEK[0] <= s.local_date <= WEEK[1]]
    labels = sorted(int(t.get_text()) for ax in axes for t in ax.texts)
    assert labels == in_week and labels
    assert ZONE in axes[-1].get_xlabel()
    assert fig.get_suptitle().startswith("RES Health demo clinic")
    assert axes[0].get_yticklabels()[0].get_text() == "Ana Lindqvist, MD"
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=40)
    assert buffer.getvalue().startswith(b"\x89PNG")


def test_plot_week_without_result_and_with_location_rows() -> None:
    """Calendars alone; items naming no provider get a row of their location."""
    fig = frames.plot_week(_small_clinic(), None, dt.date(2025, 6, 3), dt.date(2025, 6, 3), hours=(0, 24))
    (ax,) = fig.axes
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows == ["Ana Lind, MD", "P2", "Facility Dept (location, rooms)"]
    assert ax.get_xlim() == (0.0, 24.0) and not ax.texts
    with pytest.raises(ValueError, match="before first"):
        frames.plot_week(_small_clinic(), None, dt.date(2025, 6, 3), dt.date(2025, 6, 2))


def test_plot_breakdown(seed_result: slotfinder.SlotResult) -> None:
    """One row per slot in rank order; bars per term with points; the total marked."""
    ax = frames.plot_breakdown(seed_result)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == len(seed_result.slots) and labels[0].startswith("1. Fri 2025-10-24 10:00")
    assert "points" in ax.get_xlabel() and ax.get_title()
    box = ax.get_legend()
    assert box is not None
    legend = [t.get_text() for t in box.get_texts()]
    assert "preferred_day" in legend and "total score" in legend and "continuity" not in legend  # all zero
    _, given = plt.subplots()
    assert frames.plot_breakdown(list(seed_result.slots[:3]), ax=given, title="three") is given
    assert given.get_title() == "three" and len(given.get_yticklabels()) == 3
