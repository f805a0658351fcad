"""A finished simulation run and what it measures: request and booking tables, weekly metrics.

Definitions (also in docs/capacity.md):

* **First / third next available** (days): local calendar days (in the slot's location's zone)
  from the request's date to the date of the first / third packed appointment (``next_available``):
  IHI's third-next-available with "held slots excluded"; 0 means the same day. None when fewer are
  found within ``SimulationSpec.tna_horizon_days`` (counted as ``tna_censored``).
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
from collections.abc import Sequence
from typing import TYPE_CHECKING

from attrs import frozen

from slotfinder import BusyKind, Clinic, PreparedClinic, prepare, walltime
from slotfinder.planning._minutes import Interval, covered, merge
from slotfinder.planning._records import BookingRecord, BookingStatus, Outcome, RequestRecord
from slotfinder.planning._simulation_spec import SimulationSpec

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ALL",
    "WEEKLY_COLUMNS",
    "SimulationResult",
    "bookings_frame",
    "iso_week",
    "ratio",
    "requests_frame",
    "weekly_metrics",
]

ALL = "ALL"
_TEMPLATE_MARGIN_DAYS = 2  # local dates before a week's Monday and after its Sunday whose blocks may reach into it


@frozen
class SimulationResult:
    """A run: its spec, every request and booking, and the calendars at the end."""

    spec: SimulationSpec
    zone: str
    requests: tuple[RequestRecord, ...]
    bookings: tuple[BookingRecord, ...]
    clinic: Clinic  # calendars at the end: cancelled bookings removed, no-shows kept
    initial: Clinic  # calendars at the start

    @property
    def start(self) -> int:
        return self.spec.start

    @property
    def end(self) -> int:
        return self.spec.end

    def metrics(self) -> pd.DataFrame:
        """Per visit type and ISO week (``weekly_metrics``)."""
        return weekly_metrics(self)


def iso_week(date: dt.date) -> str:
    """The ISO week of a date, as ``2025-W43``."""
    year, week, _ = date.isocalendar()
    return f"{year}-W{week:02d}"


def _monday(date: dt.date) -> dt.date:
    return date - dt.timedelta(days=date.weekday())


def _weeks(result: SimulationResult) -> list[dt.date]:
    """Mondays of the local ISO weeks the simulation touches."""
    first = _monday(walltime.local_of(result.zone, result.start)[0])
    last = walltime.local_of(result.zone, result.end - 1)[0]
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
                "arrival": walltime.to_datetime(r.arrival),
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
        date = walltime.local_of(result.zone, b.start)[0]
        rows.append(
            {
                "visit_number": b.visit_number,
                "request": b.request,
                "visit_type": b.visit_type,
                "start": walltime.to_datetime(b.start),
                "minutes": b.end - b.start,
                "local_date": date,
                "week": iso_week(date),
                "provider_id": b.provider_id,
                "location_id": b.location_id,
                "room": b.room,
                "booked_at": walltime.to_datetime(b.booked_at),
                "status": b.status.value,
                "cancelled_at": walltime.to_datetime(b.cancelled_at) if b.cancelled_at is not None else None,
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


def _template_time(prepared: PreparedClinic, lo: int, hi: int, monday: dt.date) -> dict[str, list[Interval]]:
    """Per provider, merged template/opening/open time inside ``[lo, hi)``."""
    margin = dt.timedelta(days=_TEMPLATE_MARGIN_DAYS)
    blocks = prepared.blocks(monday - margin, monday + dt.timedelta(days=6) + margin)
    by_provider: dict[str, list[Interval]] = {}
    for b in blocks:
        if b.start < hi and lo < b.end:
            by_provider.setdefault(b.provider_id, []).append((max(b.start, lo), min(b.end, hi)))
    return {p: merge(v) for p, v in sorted(by_provider.items())}


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def _median(values: Sequence[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    middle = len(ordered) // 2
    return float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN when the denominator is 0 (a rate of nothing)."""
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

    zone = result.zone
    prepared = prepare(result.clinic)
    codes = _visit_types(result)
    simulated = {b.visit_number for b in result.bookings}
    rows = []
    for monday in _weeks(result):
        week = iso_week(monday)
        lo = walltime.instant_of(zone, monday, 0)
        hi = walltime.instant_of(zone, monday + dt.timedelta(days=7), 0)
        template = _template_time(prepared, lo, hi, monday)
        template_minutes = sum(b - a for v in template.values() for a, b in v)
        existing = sum(  # bookings the clinic had before the run (the ALL row counts them)
            covered(template.get(item.provider_id, []), item.start, item.end)
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
                if b.visit_type in wanted and iso_week(walltime.local_of(zone, b.start)[0]) == week
            ]
            kept = [b for b in visits if b.status is not BookingStatus.CANCELLED]
            booked_minutes = sum(covered(template.get(b.provider_id, []), b.start, b.end) for b in kept)
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
                    "fill_rate": ratio(len(booked), len(requests)),
                    "decline_rate": ratio(sum(r.outcome is Outcome.DECLINED for r in requests), len(offered)),
                    "offers_shown": sum(len(r.offers) for r in requests),
                    "tna_measured": len(tna),
                    "tna_censored": len(requests) - len(tna),
                    "tna_days_mean": _mean(tna),
                    "tna_days_median": _median(tna),
                    "first_measured": len(first),
                    "first_available_days_mean": _mean(first),
                    "first_available_days_median": _median(first),
                    "day_preference_bookings": len(day_pref),
                    "preferred_day_share": ratio(sum(day_pref), len(day_pref)),
                    "time_preference_bookings": len(time_pref),
                    "preferred_time_share": ratio(sum(time_pref), len(time_pref)),
                    "demand_minutes": demand,
                    "appointments": len(kept),
                    "attended": sum(b.status is BookingStatus.ATTENDED for b in kept),
                    "no_shows": sum(b.status is BookingStatus.NO_SHOW for b in kept),
                    "cancellations": len(visits) - len(kept),
                    "booked_minutes": booked_minutes,
                    "no_show_minutes": sum(b.end - b.start for b in kept if b.status is BookingStatus.NO_SHOW),
                    "template_minutes": template_minutes,
                    "utilisation": ratio(booked_minutes, template_minutes),
                    "load_ratio": ratio(demand, template_minutes),
                }
            )
    return pd.DataFrame(rows, columns=WEEKLY_COLUMNS)
