"""Capacity metrics of a simulation, per visit type and ISO week (pandas DataFrames).

Definitions (also in docs/capacity.md):

* **Next available appointments** (``next_available``) at instant ``now`` for visit type ``V``: the
  engine's every open start for ``V`` in ``[now, now + horizon)`` (``list_candidates``, no preferences,
  so the engine's rules apply: template and one-off time minus bookings, **holds**, out-of-office,
  closures and blocks not reserved for ``V``; a block reserved for ``V``, or released, is open), walked
  in order of start (then provider, location, room) and *packed*: a start is taken when it does not
  overlap an appointment already taken for the same provider, nor for the same room. The packed
  starts are appointments that could all be booked at once; overlapping starts on a fine grid
  (09:00, 09:05, ...) count as one appointment, not many.
* **First / third next available** (days): local calendar days (in the slot's location's zone)
  from the request's date to the date of the first / third packed appointment: IHI's
  third-next-available with "held slots excluded"; 0 means the same day. None when fewer are found
  within ``SimulationSpec.tna_horizon_days`` (counted as ``tna_censored``).
* **Fill rate**: requests that ended in a booking / requests.
* **Decline rate**: requests that were offered slots and took none / requests offered slots.
* **Preferred day (time) share**: among bookings whose patient named preferred days (a time), the
  share on a preferred weekday (starting within ``ChoiceModel.time_tolerance`` of a preferred time).
* **Utilisation**: booked minutes / template minutes in the week: the providers' template, one-off
  and open time (merged per provider, so overlapping blocks count once) inside the local ISO week,
  against the minutes of that time covered by bookings (``BusyKind.BOOKING``; holds and blocks are not
  bookings) on the calendars at the end of the run: cancelled bookings no longer count, no-shows do
  (the time was used, and wasted: ``no_show_minutes``). A visit type's row counts its simulated
  bookings; the ``ALL`` row also counts bookings the clinic had before the run. Every row's
  denominator is the clinic's whole template time.
* **Load ratio**: minutes requested in the week (requests x visit length) / template minutes.

Request-side columns (requests .. demand_minutes) group requests by the ISO week of their arrival;
calendar-side columns (appointments .. utilisation) group visits by the ISO week of their start; both in
the simulation's time zone. Weeks are those the simulation touches; ``ALL`` rows add every visit type.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import attrs
from attrs import frozen

from slotfinder._calendars import zones
from slotfinder._calendars.expand import expand_blocks
from slotfinder._calendars.intervals import Interval, merge
from slotfinder._domain import BusyKind, Clinic, SlotRequest, VisitTypeFilter
from slotfinder._settings import Settings

if TYPE_CHECKING:
    import pandas as pd

    from slotfinder.planning.simulate import SimulationResult

__all__ = [
    "ALL",
    "Available",
    "bookings_frame",
    "combine",
    "iso_week",
    "load_summary",
    "next_available",
    "requests_frame",
    "summarize",
    "weekly_metrics",
]

ALL = "ALL"
DAY = 1440
_STEPS = (2, 7, 28)  # ever wider windows (days) before the whole horizon: the answer is the same


@frozen
class Available:
    """One appointment of the packed next-available sequence."""

    start: int
    end: int
    provider_id: str
    location_id: str
    room: str | None


def next_available(
    clinic: Clinic,
    visit_type: str,
    now: int,
    *,
    count: int = 3,
    horizon_days: int = 90,
    settings: Settings | None = None,
) -> list[Available]:
    """The first ``count`` packed next available appointments of ``visit_type`` from ``now`` (module docstring).

    Fewer are returned when the horizon holds fewer. Packing walks starts in time order, so the
    first ``count`` found in a shorter window are the first ``count`` of any longer one: windows of
    2, 7 and 28 days are tried before the whole horizon.
    """
    from slotfinder._pipeline import list_candidates

    settings = attrs.evolve(settings or Settings(), hard_preferences=False)
    found: list[Available] = []
    for days in (*(d for d in _STEPS if d < horizon_days), horizon_days):
        request = SlotRequest(start=now, end=now + days * DAY, visit_types=[VisitTypeFilter(visit_type)])
        candidates = sorted(
            list_candidates(clinic, request, settings, now),
            key=lambda c: (c.start, c.provider_id, c.location_id, c.room or ""),
        )
        provider_free: dict[str, int] = {}
        room_free: dict[tuple[str, str], int] = {}
        found = []
        for c in candidates:
            end = c.start + c.duration
            if c.start < provider_free.get(c.provider_id, c.start):
                continue
            room_key = (c.location_id, c.room) if c.room is not None else None
            if room_key is not None and c.start < room_free.get(room_key, c.start):
                continue
            # accepted starts come in time order and never overlap: the latest accepted ends last
            provider_free[c.provider_id] = end
            if room_key is not None:
                room_free[room_key] = end
            found.append(Available(c.start, end, c.provider_id, c.location_id, c.room))
            if len(found) == count:
                return found
    return found


def iso_week(date: dt.date) -> str:
    """The ISO week of a date, as ``2025-W43``."""
    year, week, _ = date.isocalendar()
    return f"{year}-W{week:02d}"


def _monday(date: dt.date) -> dt.date:
    return date - dt.timedelta(days=date.weekday())


def _weeks(result: SimulationResult) -> list[dt.date]:
    """Mondays of the local ISO weeks the simulation touches."""
    first = _monday(zones.local_of(result.zone, result.start)[0])
    last = zones.local_of(result.zone, result.end - 1)[0]
    mondays = []
    while first <= last:
        mondays.append(first)
        first += dt.timedelta(days=7)
    return mondays


def _visit_types(result: SimulationResult) -> list[str]:
    codes = [r.visit_type for r in result.spec.rates] + [a.visit_type for a in result.spec.script]
    return list(dict.fromkeys(codes))


def requests_frame(result: SimulationResult) -> pd.DataFrame:
    """One row per request: arrival, week, visit type, outcome, offers, availability, preferences met."""
    import pandas as pd

    rows = []
    for r in result.requests:
        booked = r.offers[r.chosen] if r.chosen is not None else None
        rows.append(
            {
                "request": r.index,
                "arrival": zones.to_datetime(r.arrival),
                "local_date": r.local_date,
                "week": iso_week(r.local_date),
                "visit_type": r.visit_type,
                "duration": r.duration,
                "outcome": r.outcome.value,
                "offers": len(r.offers),
                "first_available_days": _nan(r.first_available_days),
                "third_available_days": _nan(r.third_available_days),
                "day_preference": bool(r.days),
                "time_preference": bool(r.times),
                "got_preferred_day": booked.preferred_day if booked is not None and r.days else None,
                "got_preferred_time": booked.preferred_time if booked is not None and r.times else None,
                "wait_days": _nan(booked.wait_days if booked is not None else None),
            }
        )
    return pd.DataFrame(rows, columns=_REQUEST_COLUMNS)


_REQUEST_COLUMNS = [
    "request",
    "arrival",
    "local_date",
    "week",
    "visit_type",
    "duration",
    "outcome",
    "offers",
    "first_available_days",
    "third_available_days",
    "day_preference",
    "time_preference",
    "got_preferred_day",
    "got_preferred_time",
    "wait_days",
]


def bookings_frame(result: SimulationResult) -> pd.DataFrame:
    """One row per booking the simulation made, with its fate and the local week of its visit."""
    import pandas as pd

    rows = []
    for b in result.bookings:
        date = zones.local_of(result.zone, b.start)[0]
        rows.append(
            {
                "visit_number": b.visit_number,
                "request": b.request,
                "visit_type": b.visit_type,
                "start": zones.to_datetime(b.start),
                "minutes": b.end - b.start,
                "local_date": date,
                "week": iso_week(date),
                "provider_id": b.provider_id,
                "location_id": b.location_id,
                "room": b.room,
                "booked_at": zones.to_datetime(b.booked_at),
                "status": b.status.value,
                "cancelled_at": zones.to_datetime(b.cancelled_at) if b.cancelled_at is not None else None,
            }
        )
    return pd.DataFrame(rows, columns=_BOOKING_COLUMNS)


_BOOKING_COLUMNS = [
    "visit_number",
    "request",
    "visit_type",
    "start",
    "minutes",
    "local_date",
    "week",
    "provider_id",
    "location_id",
    "room",
    "booked_at",
    "status",
    "cancelled_at",
]


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _template_time(clinic: Clinic, lo: int, hi: int, monday: dt.date) -> dict[str, list[Interval]]:
    """Per provider, merged template/opening/open time inside ``[lo, hi)``."""
    blocks = expand_blocks(clinic, monday - dt.timedelta(days=2), monday + dt.timedelta(days=8))
    by_provider: dict[str, list[Interval]] = {}
    for b in blocks:
        if b.start < hi and lo < b.end:
            by_provider.setdefault(b.provider_id, []).append((max(b.start, lo), min(b.end, hi)))
    return {p: merge(v) for p, v in sorted(by_provider.items())}


def _covered(intervals: Sequence[Interval], start: int, end: int) -> int:
    """Minutes of ``[start, end)`` covered by sorted, disjoint ``intervals``."""
    return sum(max(0, min(b, end) - max(a, start)) for a, b in intervals if a < end and start < b)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def _median(values: Sequence[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    middle = len(ordered) // 2
    return float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("nan")


WEEKLY_COLUMNS = [
    "week",
    "week_start",
    "visit_type",
    # request side: by the week of the request's arrival
    "requests",
    "offered",
    "booked",
    "declined",
    "no_offer",
    "fill_rate",
    "decline_rate",
    "offers_shown",
    "tna_measured",
    "tna_censored",
    "tna_days_mean",
    "tna_days_median",
    "first_measured",
    "first_available_days_mean",
    "first_available_days_median",
    "day_preference_bookings",
    "preferred_day_share",
    "time_preference_bookings",
    "preferred_time_share",
    "demand_minutes",
    # calendar side: by the week of the visit's start
    "appointments",
    "attended",
    "no_shows",
    "cancellations",
    "booked_minutes",
    "no_show_minutes",
    "template_minutes",
    "utilisation",
    "load_ratio",
]


def weekly_metrics(result: SimulationResult) -> pd.DataFrame:
    """One row per ISO week and visit type (then ``ALL``), columns ``WEEKLY_COLUMNS`` (module docstring)."""
    import pandas as pd

    from slotfinder.planning.simulate import BookingStatus, Outcome

    zone = result.zone
    codes = _visit_types(result)
    simulated = {b.visit_number for b in result.bookings}
    rows = []
    for monday in _weeks(result):
        week = iso_week(monday)
        lo = zones.instant_of(zone, monday, 0)
        hi = zones.instant_of(zone, monday + dt.timedelta(days=7), 0)
        template = _template_time(result.clinic, lo, hi, monday)
        template_minutes = sum(b - a for v in template.values() for a, b in v)
        existing = sum(  # bookings the clinic had before the run (the ALL row counts them)
            _covered(template.get(item.provider_id, []), item.start, item.end)
            for item in result.clinic.busy
            if item.kind is BusyKind.BOOKING and item.provider_id is not None and item.visit_number not in simulated
        )
        for code in [*codes, ALL]:
            wanted = codes if code == ALL else [code]
            requests = [r for r in result.requests if iso_week(r.local_date) == week and r.visit_type in wanted]
            booked = [r for r in requests if r.outcome is Outcome.BOOKED]
            offered = [r for r in requests if r.offers]
            chosen = [r.offers[r.chosen] for r in booked if r.chosen is not None]
            day_pref = [o.preferred_day for r, o in zip(booked, chosen, strict=True) if r.days]
            time_pref = [o.preferred_time for r, o in zip(booked, chosen, strict=True) if r.times]
            tna = [float(r.third_available_days) for r in requests if r.third_available_days is not None]
            first = [float(r.first_available_days) for r in requests if r.first_available_days is not None]
            visits = [
                b
                for b in result.bookings
                if b.visit_type in wanted and iso_week(zones.local_of(zone, b.start)[0]) == week
            ]
            kept = [b for b in visits if b.status is not BookingStatus.CANCELLED]
            booked_minutes = sum(_covered(template.get(b.provider_id, []), b.start, b.end) for b in kept)
            if code == ALL:
                booked_minutes += existing
            demand = sum(r.duration for r in requests)
            rows.append(
                {
                    "week": week,
                    "week_start": monday,
                    "visit_type": code,
                    "requests": len(requests),
                    "offered": len(offered),
                    "booked": len(booked),
                    "declined": sum(r.outcome is Outcome.DECLINED for r in requests),
                    "no_offer": sum(r.outcome is Outcome.NO_OFFER for r in requests),
                    "fill_rate": _ratio(len(booked), len(requests)),
                    "decline_rate": _ratio(sum(r.outcome is Outcome.DECLINED for r in requests), len(offered)),
                    "offers_shown": sum(len(r.offers) for r in requests),
                    "tna_measured": len(tna),
                    "tna_censored": len(requests) - len(tna),
                    "tna_days_mean": _mean(tna),
                    "tna_days_median": _median(tna),
                    "first_measured": len(first),
                    "first_available_days_mean": _mean(first),
                    "first_available_days_median": _median(first),
                    "day_preference_bookings": len(day_pref),
                    "preferred_day_share": _ratio(sum(day_pref), len(day_pref)),
                    "time_preference_bookings": len(time_pref),
                    "preferred_time_share": _ratio(sum(time_pref), len(time_pref)),
                    "demand_minutes": demand,
                    "appointments": len(kept),
                    "attended": sum(b.status is BookingStatus.ATTENDED for b in kept),
                    "no_shows": sum(b.status is BookingStatus.NO_SHOW for b in kept),
                    "cancellations": len(visits) - len(kept),
                    "booked_minutes": booked_minutes,
                    "no_show_minutes": sum(b.end - b.start for b in kept if b.status is BookingStatus.NO_SHOW),
                    "template_minutes": template_minutes,
                    "utilisation": _ratio(booked_minutes, template_minutes),
                    "load_ratio": _ratio(demand, template_minutes),
                }
            )
    return pd.DataFrame(rows, columns=WEEKLY_COLUMNS)


# ---- replicates and loads ----------------------------------------------------------------------


def combine(runs: Iterable[tuple[float, int, pd.DataFrame]]) -> pd.DataFrame:
    """Weekly frames of several runs, as ``(load, replicate, frame)``, in one frame with those two columns first."""
    import pandas as pd

    parts = [frame.assign(load=load, replicate=replicate) for load, replicate, frame in runs]
    if not parts:
        return pd.DataFrame(columns=["load", "replicate", *WEEKLY_COLUMNS])
    joined = pd.concat(parts, ignore_index=True)
    return joined[["load", "replicate", *WEEKLY_COLUMNS]]


_SUMMARY_METRICS = [
    "tna_days_mean",
    "first_available_days_mean",
    "utilisation",
    "fill_rate",
    "decline_rate",
    "preferred_day_share",
    "preferred_time_share",
    "declined",
    "requests",
    "load_ratio",
]


def summarize(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over replicates of each weekly metric, per load, week and visit type."""
    keys = ["load", "week", "week_start", "visit_type"]
    grouped = frame.groupby(keys, sort=False)
    means = grouped[_SUMMARY_METRICS].mean()
    stds = grouped[_SUMMARY_METRICS].std(ddof=1).add_suffix("_std")
    counts = grouped["replicate"].nunique().rename("replicates")
    return means.join(stds).join(counts).reset_index()


def load_summary(frame: pd.DataFrame, skip_weeks: int = 0) -> pd.DataFrame:
    """Per load and visit type, each replicate's whole-run metrics (after ``skip_weeks`` warm-up weeks),
    then their mean and standard deviation over replicates.

    Whole-run values are recomputed from totals (fill rate = bookings / requests, utilisation = booked /
    template minutes, TNA = mean over every measured request), not averaged over weeks; ``declined``
    and ``requests`` are per week.
    """
    import pandas as pd

    weeks = sorted(frame["week_start"].unique())
    kept = frame[frame["week_start"].isin(weeks[skip_weeks:])]
    per_run = []
    for (load, replicate, code), part in kept.groupby(["load", "replicate", "visit_type"], sort=False):
        measured = part["tna_measured"].sum()
        firsts = part["first_measured"]
        per_run.append(
            {
                "load": load,
                "replicate": replicate,
                "visit_type": code,
                "requests": _ratio(part["requests"].sum(), part["week_start"].nunique()),  # per week
                "tna_days_mean": _ratio((part["tna_days_mean"].fillna(0) * part["tna_measured"]).sum(), measured),
                "first_available_days_mean": _ratio(
                    (part["first_available_days_mean"].fillna(0) * firsts).sum(), firsts.sum()
                ),
                "utilisation": _ratio(part["booked_minutes"].sum(), part["template_minutes"].sum()),
                "fill_rate": _ratio(part["booked"].sum(), part["requests"].sum()),
                "decline_rate": _ratio(part["declined"].sum(), part["offered"].sum()),
                "preferred_day_share": _ratio(
                    (part["preferred_day_share"].fillna(0) * part["day_preference_bookings"]).sum(),
                    part["day_preference_bookings"].sum(),
                ),
                "preferred_time_share": _ratio(
                    (part["preferred_time_share"].fillna(0) * part["time_preference_bookings"]).sum(),
                    part["time_preference_bookings"].sum(),
                ),
                "declined": _ratio(part["declined"].sum(), part["week_start"].nunique()),  # per week
                "load_ratio": _ratio(part["demand_minutes"].sum(), part["template_minutes"].sum()),
            }
        )
    runs = pd.DataFrame(per_run, columns=["load", "replicate", "visit_type", *_LOAD_METRICS])
    grouped = runs.groupby(["load", "visit_type"], sort=False)
    means = grouped[_LOAD_METRICS].mean()
    stds = grouped[_LOAD_METRICS].std(ddof=1).add_suffix("_std")
    counts = grouped["replicate"].nunique().rename("replicates")
    return means.join(stds).join(counts).reset_index()


# The same metrics as the weekly summary, with the request count first (column order of load.csv).
_LOAD_METRICS = ["requests", *(m for m in _SUMMARY_METRICS if m != "requests")]
