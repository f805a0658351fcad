"""The scheduling rules clinics set, as allows/forbids pairs: date overrides, the booking horizon of a
visit type (own notice, maximum advance, rolling dates) and the start alignment (block, clock, after busy).

As in tests/test_rules.py, each rule has a test where a start is offered and a twin, differing in one
thing, where it is not ("offered": ``list_candidates`` holds an eligible candidate of the provider at
that instant; the default clinic of tests/clinic_builders.py: P1 at MAIN, weekdays 09:00-12:00 on a
15-minute grid, OV 30 min). The DST examples at the end are checked against the reference too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import pytest
from attrs import evolve

from slotfinder import find_slots, list_candidates, prepare
from slotfinder._domain import (
    Busy,
    BusyKind,
    Clinic,
    DateOverride,
    Location,
    Opening,
    OpenTime,
    Preference,
    Provider,
    ProviderFilter,
    SlotRequest,
    StartAlignment,
    VisitType,
    VisitTypeFilter,
    WeeklyTemplate,
    WorkingHours,
)
from slotfinder._settings import Settings
from tests.clinic_builders import (
    ANNEX,
    MAIN,
    MONDAY,
    NP,
    OV,
    P1,
    P2,
    PROC,
    at,
    clinic,
    day,
    hours,
    minute,
    offered,
    override,
    request,
    weekly,
)
from tests.reference import local_of, once_per_start, reference_candidates

TUESDAY, WEDNESDAY, THURSDAY = day(1), day(2), day(3)
START = at(MONDAY, "00:00")  # "now" for the rolling-date tests: the test week's first minute


def _with(
    visit_type: VisitType,
    *,
    min_notice_minutes: int = 0,
    max_advance_days: int | None = None,
    rolling_dates: int | None = None,
) -> Clinic:
    """The default clinic with ``visit_type`` given a booking horizon."""
    horizon = evolve(
        visit_type,
        min_notice_minutes=min_notice_minutes,
        max_advance_days=max_advance_days,
        rolling_dates=rolling_dates,
    )
    return clinic(visit_types=[horizon if v.code == visit_type.code else v for v in (OV, NP, PROC)])


def _booked(date: dt.date, start: str, end: str, provider: str = P1.id) -> Busy:
    return Busy(BusyKind.BOOKING, at(date, start), at(date, end), provider_id=provider, location_id=MAIN.id)


# ---- date overrides ---------------------------------------------------------------------------


def test_forbids_template_start_on_a_date_overridden_as_not_working() -> None:
    """An override without hours on Monday: P1 does not work at MAIN that day, so 10:00 is not offered."""
    where = clinic(date_overrides=[override(MONDAY)])
    assert not offered(where, request(), at(MONDAY, "10:00"))


def test_allows_template_start_on_the_day_after_an_override() -> None:
    """The same override leaves Tuesday's template alone: Tuesday 10:00 is offered."""
    where = clinic(date_overrides=[override(MONDAY)])
    assert offered(where, request(first=TUESDAY), at(TUESDAY, "10:00"))


def test_allows_start_in_override_hours_outside_the_template() -> None:
    """Override hours 13:00-15:00 on Monday open 13:00, which no template covers."""
    where = clinic(date_overrides=[override(MONDAY, hours("13:00", "15:00"))])
    assert offered(where, request(), at(MONDAY, "13:00"))


def test_forbids_template_start_outside_the_override_hours() -> None:
    """The override's hours replace the template's: Monday 10:00 (template time) is not offered."""
    where = clinic(date_overrides=[override(MONDAY, hours("13:00", "15:00"))])
    assert not offered(where, request(), at(MONDAY, "10:00"))


def test_allows_override_hours_on_their_own_grid() -> None:
    """Override hours keep their own slot length: 13:00-15:00 every 20 minutes offers 13:20."""
    where = clinic(date_overrides=[override(MONDAY, hours("13:00", "15:00", slot_length=20))])
    assert offered(where, request(), at(MONDAY, "13:20"))


def test_forbids_visit_type_the_override_hours_do_not_offer() -> None:
    """Override hours for NP only do not offer OV at 13:00."""
    where = clinic(date_overrides=[override(MONDAY, hours("13:00", "15:00", visit_types=["NP"]))])
    assert not offered(where, request(), at(MONDAY, "13:00"))


def test_allows_template_at_a_location_the_override_does_not_name() -> None:
    """An override at MAIN leaves P1's Monday afternoon at ANNEX: 13:00 there is offered."""
    annex = weekly(location=ANNEX.id, start="13:00", end="15:00")
    where = clinic(templates=[weekly(), annex], date_overrides=[override(MONDAY)])
    assert offered(where, request(), at(MONDAY, "13:00"))


def test_forbids_every_location_when_the_override_names_none() -> None:
    """An override without a location (not working at all) closes P1's ANNEX afternoon too."""
    annex = weekly(location=ANNEX.id, start="13:00", end="15:00")
    where = clinic(templates=[weekly(), annex], date_overrides=[override(MONDAY, location=None)])
    assert not offered(where, request(), at(MONDAY, "13:00"))


def test_allows_opening_on_an_overridden_date() -> None:
    """Openings still add time on an overridden date: an opening 10:00-11:00 on a day off offers 10:00."""
    opening = Opening(P1.id, MAIN.id, MONDAY, minute("10:00"), minute("11:00"))
    where = clinic(date_overrides=[override(MONDAY)], openings=[opening])
    assert offered(where, request(), at(MONDAY, "10:00"))


def test_forbids_start_of_another_provider_overridden() -> None:
    """An override of P2 does not touch P1, and P2's own override closes P2's day."""
    both = [weekly(), weekly(provider=P2.id)]
    where = clinic(templates=both, date_overrides=[override(MONDAY, provider=P2.id)])
    assert offered(where, request(), at(MONDAY, "10:00"))
    assert not offered(where, request(), at(MONDAY, "10:00"), provider=P2.id)


def test_override_applies_to_a_prepared_clinic_after_an_update() -> None:
    """A prepared clinic keeps template expansions; an override added later still replaces them."""
    now = at(day(-7), "00:00")
    prepared = prepare(clinic())
    assert list_candidates(prepared, request(), Settings(), now)  # expands Monday's template
    updated = prepared.updated(clinic(date_overrides=[override(MONDAY)]))
    assert list_candidates(updated, request(), Settings(), now) == []


# ---- booking horizon: the visit type's own notice ---------------------------------------------


def test_allows_start_at_now_plus_the_visit_types_notice() -> None:
    """OV needs 120 minutes' notice: asked at 08:00, 10:00 is offered."""
    where = _with(OV, min_notice_minutes=120)
    assert offered(where, request(), at(MONDAY, "10:00"), now=at(MONDAY, "08:00"))


def test_forbids_start_inside_the_visit_types_notice() -> None:
    """OV needs 120 minutes' notice: asked at 08:00, 09:45 is not offered."""
    where = _with(OV, min_notice_minutes=120)
    assert not offered(where, request(), at(MONDAY, "09:45"), now=at(MONDAY, "08:00"))


def test_allows_other_visit_type_without_notice() -> None:
    """The notice is OV's alone: NP asked at 08:00 is offered at 09:00."""
    where = _with(OV, min_notice_minutes=120)
    np_only = request(visit_types=[VisitTypeFilter("NP")])
    assert offered(where, np_only, at(MONDAY, "09:00"), now=at(MONDAY, "08:00"))


def test_forbids_start_inside_the_stricter_settings_notice() -> None:
    """The stricter notice wins: OV's 120 minutes under a 180-minute setting excludes 10:45 (asked at 08:00)."""
    where = _with(OV, min_notice_minutes=120)
    notice = Settings(min_notice_minutes=180)
    assert not offered(where, request(), at(MONDAY, "10:45"), settings=notice, now=at(MONDAY, "08:00"))
    assert offered(where, request(), at(MONDAY, "11:00"), settings=notice, now=at(MONDAY, "08:00"))


# ---- booking horizon: maximum advance ---------------------------------------------------------


def test_allows_last_start_of_the_last_date_in_advance() -> None:
    """OV at most 2 days ahead, asked Monday 23:00: Wednesday (today + 2) is open to its last start, 11:30."""
    where = _with(OV, max_advance_days=2)
    assert offered(where, request(days=5), at(WEDNESDAY, "11:30"), now=at(MONDAY, "23:00"))


def test_forbids_first_start_of_the_date_past_the_advance() -> None:
    """The same rule excludes Thursday 09:00 (today + 3), though it is only 58 hours away."""
    where = _with(OV, max_advance_days=2)
    assert not offered(where, request(days=5), at(THURSDAY, "09:00"), now=at(MONDAY, "23:00"))


def test_allows_today_with_no_advance() -> None:
    """max_advance_days=0 means today only: asked Monday 08:00, Monday 11:30 is offered."""
    where = _with(OV, max_advance_days=0)
    assert offered(where, request(days=2), at(MONDAY, "11:30"), now=at(MONDAY, "08:00"))


def test_forbids_tomorrow_with_no_advance() -> None:
    """max_advance_days=0: Tuesday 09:00 is not offered."""
    where = _with(OV, max_advance_days=0)
    assert not offered(where, request(days=2), at(TUESDAY, "09:00"), now=at(MONDAY, "08:00"))


# ---- booking horizon: rolling dates -----------------------------------------------------------


def test_allows_start_on_the_last_rolling_date() -> None:
    """OV on the next 2 dates with an opening, asked Monday 00:00: Tuesday 11:30 is offered."""
    where = _with(OV, rolling_dates=2)
    assert offered(where, request(days=5), at(TUESDAY, "11:30"), now=START)


def test_forbids_start_on_the_date_after_the_rolling_dates() -> None:
    """... and Wednesday 09:00, the third date with an opening, is not."""
    where = _with(OV, rolling_dates=2)
    assert not offered(where, request(days=5), at(WEDNESDAY, "09:00"), now=START)


def test_allows_date_after_a_fully_booked_one() -> None:
    """A date with no open start does not count: Tuesday booked through, Wednesday is the second open date."""
    where = evolve(_with(OV, rolling_dates=2), busy=[_booked(TUESDAY, "09:00", "12:00")])
    assert offered(where, request(days=5), at(WEDNESDAY, "09:00"), now=START)


def test_forbids_date_after_the_rolling_dates_counted_before_the_window() -> None:
    """Dates are counted from now, not from the window: a window from Wednesday, asked Monday, has no
    OV start with rolling_dates=2 (Monday and Tuesday come first)."""
    where = _with(OV, rolling_dates=2)
    assert not offered(where, request(first=WEDNESDAY), at(WEDNESDAY, "09:00"), now=START)


def test_allows_window_date_within_the_rolling_dates_counted_from_now() -> None:
    """The same window with rolling_dates=3: Wednesday is the third open date, and is offered."""
    where = _with(OV, rolling_dates=3)
    assert offered(where, request(first=WEDNESDAY), at(WEDNESDAY, "09:00"), now=START)


def test_allows_first_open_date_of_another_location() -> None:
    """Dates are counted per location: P1 at ANNEX on Wednesdays only has Wednesday as its first date."""
    annex = weekly(location=ANNEX.id, weekdays={2}, start="13:00", end="15:00")
    where = evolve(_with(OV, rolling_dates=1), templates=[weekly(), annex])
    assert offered(where, request(days=5), at(WEDNESDAY, "13:00"), now=START)
    assert not offered(where, request(days=5), at(WEDNESDAY, "09:00"), now=START)


def test_allows_first_open_date_of_the_provider_asked() -> None:
    """Dates are counted in the search: asking for P2, who works from Wednesday, gives Wednesday."""
    p2 = weekly(provider=P2.id, weekdays={2, 3, 4})
    where = evolve(_with(OV, rolling_dates=1), templates=[weekly(), p2])
    ask_p2 = request(days=5, providers=[ProviderFilter(P2.id)])
    assert offered(where, ask_p2, at(WEDNESDAY, "09:00"), provider=P2.id, now=START)


def test_forbids_hard_preferred_day_past_the_rolling_dates() -> None:
    """Preferences choose among open dates, they do not count them: a hard Tuesday preference with
    rolling_dates=1 offers nothing (Monday is the one open date)."""
    where = _with(OV, rolling_dates=1)
    tuesday = request(days=5, preferences=[Preference(days={1})])
    hard = Settings(hard_preferences=True)
    assert not offered(where, tuesday, at(TUESDAY, "09:00"), settings=hard, now=START)
    assert offered(where, tuesday, at(MONDAY, "09:00"), now=START)  # soft: Monday is offered


# ---- start alignment --------------------------------------------------------------------------


def test_clock_alignment_allows_the_quarter_hour_in_a_block_starting_off_it() -> None:
    """A block from 09:05 on a 15-minute grid: clock alignment offers 09:15 (a wall-clock quarter)."""
    where = clinic(templates=[weekly(start="09:05")], start_alignment="clock")
    assert offered(where, request(), at(MONDAY, "09:15"))


def test_clock_alignment_forbids_the_block_start_off_the_clock() -> None:
    """... and not 09:05, the block's own start (which the block grid offers)."""
    where = clinic(templates=[weekly(start="09:05")], start_alignment="clock")
    assert not offered(where, request(), at(MONDAY, "09:05"))
    assert offered(clinic(templates=[weekly(start="09:05")]), request(), at(MONDAY, "09:05"))


def test_settings_alignment_replaces_the_clinics() -> None:
    """Settings.start_alignment overrides the clinic's: "block" in the settings offers 09:05 again."""
    where = clinic(templates=[weekly(start="09:05")], start_alignment="clock")
    assert offered(where, request(), at(MONDAY, "09:05"), settings=Settings(start_alignment="block"))


def test_clock_alignment_follows_the_locations_wall_clock() -> None:
    """Kolkata (UTC+05:30), 09:30-11:30 hourly: the clock grid offers 10:00 IST (04:30Z), not 09:30 IST (04:00Z)."""
    kolkata = Location("IN", None, "OPD", "Asia/Kolkata")
    template = WeeklyTemplate(P1.id, "IN", {0}, minute("09:30"), minute("11:30"), slot_length=60)
    where = Clinic([P1], [kolkata], [OV], [template], start_alignment=StartAlignment.CLOCK)
    monday = SlotRequest(start=_utc(2025, 6, 2), end=_utc(2025, 6, 3), visit_types=[VisitTypeFilter("OV")])
    starts = [c.start for c in list_candidates(where, monday, Settings(), _utc(2025, 6, 1))]
    assert starts == [_utc(2025, 6, 2, 4, 30), _utc(2025, 6, 2, 5, 30)]  # 10:00 and 11:00 IST


def test_after_busy_allows_start_where_a_booking_ends_off_the_grid() -> None:
    """A booking 09:00-09:20: restarting after busy offers 09:20."""
    where = clinic(busy=[_booked(MONDAY, "09:00", "09:20")], start_alignment="after_busy")
    assert offered(where, request(), at(MONDAY, "09:20"))


def test_after_busy_forbids_the_old_grid_after_the_booking() -> None:
    """... its grid then runs 09:35, 09:50: 09:30 is not offered (the block grid offers 09:30, not 09:20)."""
    where = clinic(busy=[_booked(MONDAY, "09:00", "09:20")], start_alignment="after_busy")
    assert not offered(where, request(), at(MONDAY, "09:30"))
    assert offered(where, request(), at(MONDAY, "09:35"))
    block_grid = clinic(busy=[_booked(MONDAY, "09:00", "09:20")])
    assert not offered(block_grid, request(), at(MONDAY, "09:20"))


def test_after_busy_forbids_restart_at_a_block_reserved_for_the_visit_type() -> None:
    """A block 09:00-09:20 reserved for OV is open to OV, not busy: no restart, so 09:20 is not offered."""
    reserved = Busy(BusyKind.BLOCK, at(MONDAY, "09:00"), at(MONDAY, "09:20"), provider_id=P1.id, reserved_for=["OV"])
    where = clinic(busy=[reserved], start_alignment="after_busy")
    assert not offered(where, request(), at(MONDAY, "09:20"))
    assert offered(where, request(), at(MONDAY, "09:15"))


def test_after_busy_allows_restart_at_a_block_reserved_for_another_type() -> None:
    """The same block reserved for NP is busy for OV: the grid restarts at 09:20."""
    reserved = Busy(BusyKind.BLOCK, at(MONDAY, "09:00"), at(MONDAY, "09:20"), provider_id=P1.id, reserved_for=["NP"])
    where = clinic(busy=[reserved], start_alignment="after_busy")
    assert offered(where, request(), at(MONDAY, "09:20"))


def test_clock_alignment_allows_a_one_slot_open_time_off_the_clock() -> None:
    """An open time without a grid is one slot, whatever the alignment: 10:05-10:35 offers 10:05."""
    pushed = OpenTime(P1.id, MAIN.id, at(MONDAY, "10:05"), at(MONDAY, "10:35"))
    where = clinic(templates=[], start_alignment="clock")
    assert offered(evolve(where, open_times=[pushed]), request(), at(MONDAY, "10:05"))


def test_clock_alignment_forbids_an_open_time_grid_start_off_the_clock() -> None:
    """An open time with a 15-minute grid from 10:05 follows the clock: 10:15, not 10:05."""
    pushed = OpenTime(P1.id, MAIN.id, at(MONDAY, "10:05"), at(MONDAY, "11:05"), slot_length=15)
    where = evolve(clinic(templates=[], start_alignment="clock"), open_times=[pushed])
    assert not offered(where, request(), at(MONDAY, "10:05"))
    assert offered(where, request(), at(MONDAY, "10:15"))


# ---- DST, by hand, against the reference too ---------------------------------------------------

NY, LORD_HOWE = "America/New_York", "Australia/Lord_Howe"


def _utc(year: int, month: int, day_: int, hour: int = 0, minute_: int = 0) -> int:
    return int(dt.datetime(year, month, day_, hour, minute_, tzinfo=dt.UTC).timestamp()) // 60


def _night(
    zone: str,
    date: dt.date,
    start: int,
    end: int,
    step: int,
    duration: int,
    alignment: str = "block",
    max_advance_days: int | None = None,
) -> tuple[Clinic, SlotRequest, int]:
    """One provider, one location in ``zone``, a template every day; a window of the three days around ``date``."""
    clinic_ = Clinic(
        providers=[Provider("P1")],
        locations=[Location("L1", "Fac", "Dept", zone)],
        visit_types=[VisitType("V", None, None, duration, max_advance_days=max_advance_days)],
        templates=[WeeklyTemplate("P1", "L1", range(7), start=start, end=end, slot_length=step)],
        start_alignment=alignment,
    )
    window_start = _utc(date.year, date.month, date.day) - 1440
    request_ = SlotRequest(start=window_start, end=window_start + 3 * 1440, visit_types=[VisitTypeFilter("V")])
    return clinic_, request_, window_start - 1440


def _starts_both(where: Clinic, what: SlotRequest, now: int, on: dt.date | None = None) -> list[int]:
    """Candidate starts (on local date ``on``, if given), after checking engine and reference agree."""
    engine = sorted(c.start for c in list_candidates(where, what, Settings(), now))
    reference = sorted(c.start for c in once_per_start(reference_candidates(where, what, Settings(), now)))
    assert engine == reference
    zone = where.locations[0].time_zone
    return [u for u in engine if on is None or local_of(zone, u)[0] == on]


def _wall(zone: str, starts: Sequence[int]) -> list[int]:
    return [local_of(zone, u)[1] for u in starts]


def test_clock_alignment_skips_the_missing_hour_on_a_spring_forward_night() -> None:
    """New York 2025-03-09, 01:30-05:00 hourly, 60-minute visits: clock starts 03:00 and 04:00 EDT (02:00
    does not exist); the block grid gives 01:30 EST and 03:30 EDT (60 elapsed minutes later)."""
    date = dt.date(2025, 3, 9)
    clock = _starts_both(*_night(NY, date, 90, 300, 60, 60, "clock"), on=date)
    assert clock == [_utc(2025, 3, 9, 7), _utc(2025, 3, 9, 8)]
    assert _wall(NY, clock) == [180, 240]
    block = _starts_both(*_night(NY, date, 90, 300, 60, 60), on=date)
    assert _wall(NY, block) == [90, 210]


def test_clock_alignment_offers_a_repeated_wall_time_at_both_instants() -> None:
    """New York 2025-11-02, 00:30-03:00 hourly: 01:00 happens twice and is on the clock grid both times
    (05:00Z EDT, 06:00Z EST), then 02:00 EST; the block grid gives 00:30, 01:30, 01:30, 02:30."""
    date = dt.date(2025, 11, 2)
    clock = _starts_both(*_night(NY, date, 30, 180, 60, 30, "clock"), on=date)
    assert clock == [_utc(2025, 11, 2, 5), _utc(2025, 11, 2, 6), _utc(2025, 11, 2, 7)]
    assert _wall(NY, clock) == [60, 60, 120]
    assert _wall(NY, _starts_both(*_night(NY, date, 30, 180, 60, 30), on=date)) == [30, 90, 90, 150]


def test_clock_alignment_after_a_half_hour_shift() -> None:
    """Lord Howe 2025-10-05 skips 02:00-02:30 (+10:30 -> +11): 01:00-04:00 hourly on the clock gives 01:00
    and 03:00 (14:30Z, 16:00Z); the block grid gives 01:00, 02:30 and 03:30 (60 elapsed minutes apart)."""
    date = dt.date(2025, 10, 5)
    clock = _starts_both(*_night(LORD_HOWE, date, 60, 240, 60, 30, "clock"), on=date)
    assert clock == [_utc(2025, 10, 4, 14, 30), _utc(2025, 10, 4, 16)]
    block = _starts_both(*_night(LORD_HOWE, date, 60, 240, 60, 30), on=date)
    assert _wall(LORD_HOWE, block) == [60, 150, 210]


def test_clock_alignment_counts_a_shared_start_from_the_earlier_block_on_a_dst_night() -> None:
    """New York 2025-11-02, clock grid: a block 00:30-02:50 for every type (shortest visit 15) crosses the
    fall-back hour and one 02:00-02:50 for V only (shortest 30) does not; 02:00 EST lies in both and counts
    once, from the earlier block: the 20 minutes its V visit leaves are no fragment (engine = reference)."""
    date = dt.date(2025, 11, 2)
    where, what, now = _night(NY, date, 30, 170, 60, 30, "clock")
    late = WeeklyTemplate("P1", "L1", range(7), start=120, end=170, slot_length=60, visit_types=["V"])
    where = evolve(
        where,
        visit_types=[*where.visit_types, VisitType("W", None, None, 15)],
        templates=[*where.templates, late],
    )
    engine = {c.start: c.points for c in list_candidates(where, what, Settings(), now)}
    reference = {c.start: c.points for c in once_per_start(reference_candidates(where, what, Settings(), now))}
    assert engine == reference
    both = [c for c in reference_candidates(where, what, Settings(), now) if c.start == _utc(2025, 11, 2, 7)]
    assert len({c.points for c in both}) == 2  # the two blocks score 02:00 EST differently


def test_after_busy_restarts_across_the_fall_back_hour() -> None:
    """New York 2025-11-02, 00:00-04:00 every 60 minutes, a booking until 01:20 EST (06:20Z): the grid
    restarts at 01:20 EST and steps in elapsed minutes, 02:20 and 03:20 EST."""
    date = dt.date(2025, 11, 2)
    where, what, now = _night(NY, date, 0, 240, 60, 30, "after_busy")
    booking = Busy(BusyKind.BOOKING, _utc(2025, 11, 2, 5), _utc(2025, 11, 2, 6, 20), provider_id="P1")
    starts = _starts_both(evolve(where, busy=[booking]), what, now, on=date)
    assert starts == [
        _utc(2025, 11, 2, 4),
        _utc(2025, 11, 2, 6, 20),
        _utc(2025, 11, 2, 7, 20),
        _utc(2025, 11, 2, 8, 20),
    ]
    assert _wall(NY, starts) == [0, 80, 140, 200]


def test_override_hours_follow_the_dst_policy() -> None:
    """An override on New York's spring-forward date with hours 01:00-04:00 hourly gives 01:00 EST and
    03:00 EDT: 02:00 does not exist, as for a template (the night's own template is replaced)."""
    date = dt.date(2025, 3, 9)
    where, what, now = _night(NY, date, 600, 720, 60, 60)
    night = DateOverride("P1", "L1", date, [WorkingHours(60, 240, 60)])
    assert _wall(NY, _starts_both(evolve(where, date_overrides=[night]), what, now, on=date)) == [60, 180]


def test_max_advance_counts_local_dates_across_spring_forward() -> None:
    """Chicago, asked Saturday 2025-03-08 23:30 CST, max_advance_days=1, a daily 00:00-01:00 block: Sunday
    (the change night) is open; Monday 00:00 CDT is not, though it lies 23 h 30 min after now."""
    chicago = "America/Chicago"
    where, what, _ = _night(chicago, dt.date(2025, 3, 9), 0, 60, 30, 30, max_advance_days=1)
    now = _utc(2025, 3, 9, 5, 30)  # Saturday 23:30 CST
    starts = _starts_both(where, evolve(what, start=now), now)
    assert [local_of(chicago, u) for u in starts] == [(dt.date(2025, 3, 9), 0), (dt.date(2025, 3, 9), 30)]
    assert _utc(2025, 3, 10, 5) - now < 1440  # Monday 00:00 CDT


# ---- domain values: each broken rule names its field ------------------------------------------


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: evolve(OV, min_notice_minutes=-1), "min_notice_minutes"),
        (lambda: evolve(OV, max_advance_days=-1), "max_advance_days"),
        (lambda: evolve(OV, rolling_dates=0), "rolling_dates"),
        (lambda: Settings(start_alignment="sideways"), "start_alignment"),
        (lambda: clinic(start_alignment="sideways"), "start_alignment"),
        (lambda: WorkingHours(600, 540), "end"),
        (lambda: WorkingHours(540, 600, slot_length=0), "slot_length"),
        (lambda: DateOverride(P1.id, None, MONDAY, [WorkingHours(540, 600)]), "location_id"),
    ],
)
def test_domain_values_name_the_broken_field(build: Callable[[], object], field: str) -> None:
    """Building a value that breaks a rule raises ValueError naming the field."""
    with pytest.raises(ValueError, match=field):
        build()


def test_new_rules_absent_change_nothing() -> None:
    """Without overrides, horizon fields or an alignment, the answer is the one the plain clinic gives."""
    plain = find_slots(clinic(), request(days=5), Settings(), at(day(-7), "00:00"))
    spelled = clinic(date_overrides=(), start_alignment="block")
    assert (
        find_slots(spelled, request(days=5), Settings(start_alignment=None), at(day(-7), "00:00")).slots == plain.slots
    )
