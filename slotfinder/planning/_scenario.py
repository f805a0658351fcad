"""Synthetic health systems for benchmarks and capacity planning: same seed, same scenario.

``generate(ScenarioSpec(...))`` builds a :class:`Scenario`: a clinic the engine loads as it is (it
passes ``check_clinic``), the instant and local date it starts at, and its history.

What a scenario holds:

* **Specialties** (primary care, paediatrics, cardiology, dermatology, orthopaedics, obstetrics and
  gynaecology), each with its own visit types of typical lengths (15, 20, 30, 40, 60 minutes), plus
  visit types every specialty offers: ``OV`` office visit (30), ``FU`` follow-up (20), ``TELE``
  telehealth (15, never a room) and ``PROC`` ultrasound-guided procedure (30).
* **Locations**: one per ``providers_per_location`` providers (at least one per time zone), the time
  zones taken in turn from ``spec.zones``. The default zones (New York, London) and start date put a DST
  change of each zone inside a 14-day horizon, with working days on both sides of it.
* **Providers** with weekly templates: five, four or three weekdays, morning and afternoon sessions
  with varied hours; some work one day a week at a second location of the same zone, some keep an
  afternoon for telehealth only, some primary care and paediatrics providers hold a Saturday morning
  clinic, and some change their morning hours half-way through the horizon (``effective_until`` /
  ``effective_from``). Templates step starts every ``spec.grain`` minutes.
* **Rooms** (``spec.rooms``): exam rooms (1.5 per provider of the location) and procedure rooms (one
  per four); visit types with a room need exam or procedure rooms. Off: no location has rooms and no
  visit type needs one.
* **Equipment** (``spec.equipment``): single units per location (``ultrasound``, ``ecg-cart``,
  ``echo``, ``treadmill``, ``cryo``, ``xray``) for the specialties working there; visit types such as an
  echocardiogram or a stress test need them (all of them, for the whole visit), and each unit has a
  maintenance hour every four weeks. Off: no units, no visit type needs one.
* **Bookings** fill ``spec.booked`` of the template time of each session (by visit minutes, laid
  back to back at any minute like visits booked by hand, then a random subset kept until the share
  is reached). Of that booked time, ``hold_share`` are holds (no patient) and ``reserved_share`` are
  blocks reserved for the specialty's access visit type (new patients, same-day sick visits), some
  released a day or two ahead. A visit that needs a room or equipment takes the first free one; when
  none is free it is booked all the same in any free room without the equipment (counted in
  ``Scenario.substitutions``), so turning rooms or equipment on never moves a provider's bookings:
  on/off cells of a benchmark compare the same calendars. The share is kept per provider across
  sessions (``Scenario.booked_share`` is the share reached, within a fraction of a percent).
* **Closures**: public holidays of each zone (New Year, Christmas, Thanksgiving and Independence Day
  in the Americas, Boxing Day in Europe and Australia, Australia Day) close the location all day;
  no bookings are made on them.
* **No-shows and cancellations** (*chosen representation*): ``Scenario.history`` lists them as
  :class:`HistoryItem` values, each with the booking it concerns. A **no-show** is a booking the
  patient did not keep: the item is also in ``clinic.busy`` (its time stays taken, as a Redox
  ``NoShow`` leaves it). A **cancellation** is a booking made and then cancelled: the item is *not* in
  ``clinic.busy`` (its time is open again), and cancellations are drawn from the open time so the
  booked share stays what was asked.

Randomness comes from streams named after the seed and what they draw (``"{seed}:book:{provider}"``...),
so the same spec gives the same scenario on any machine and Python run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import attrs
from attrs import field, frozen

from slotfinder import Busy, Clinic, Preference, Settings, SlotRequest, VisitTypeFilter, walltime
from slotfinder.planning._records import BookingStatus

__all__ = [
    "DEFAULT_START",
    "DEFAULT_ZONES",
    "MAX_DAYS",
    "HistoryItem",
    "Query",
    "Scenario",
    "ScenarioSpec",
    "dst_changes",
    "request_for",
]

DEFAULT_ZONES = ("America/New_York", "Europe/London")
DEFAULT_START = dt.date(2025, 10, 22)  # London changes on Sun 26 Oct, New York on Sun 2 Nov 2025
MAX_DAYS = 365  # a request window is at most 366 days
_NOON = 720  # wall minute the daily UTC offset is read at


def _at_least(low: float) -> Any:
    def check(_inst: Any, attribute: attrs.Attribute[Any], value: float) -> None:
        if value < low:
            raise ValueError(f"{attribute.name} must be at least {low}, got {value}")

    return check


def _share(_inst: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be a share between 0 and 1, got {value}")


def _zone_names(value: Sequence[str]) -> tuple[str, ...]:
    return tuple(value)


@frozen
class ScenarioSpec:
    """Everything a scenario is generated from; the same spec gives the same scenario."""

    seed: int = 0
    providers: int = field(default=20, validator=_at_least(1))
    days: int = field(default=30, validator=[_at_least(1)])  # local dates with bookings, from start_date
    grain: int = field(default=5, validator=_at_least(1))  # template slot length (minutes)
    booked: float = field(default=0.8, validator=_share)  # share of template time taken
    rooms: bool = False
    equipment: bool = False
    zones: tuple[str, ...] = field(default=DEFAULT_ZONES, converter=_zone_names)
    start_date: dt.date = DEFAULT_START
    hold_share: float = field(default=0.05, validator=_share)  # of booked time: holds (no patient)
    reserved_share: float = field(default=0.08, validator=_share)  # of booked time: reserved blocks
    no_show_share: float = field(default=0.07, validator=_share)  # of kept bookings
    cancel_share: float = field(default=0.10, validator=_share)  # of bookings made, later cancelled
    providers_per_location: int = field(default=8, validator=_at_least(1))

    @days.validator
    def _horizon(self, _attribute: attrs.Attribute[int], value: int) -> None:
        if value > MAX_DAYS:
            raise ValueError(f"days must be at most {MAX_DAYS} (a request window is at most 366 days), got {value}")

    @zones.validator
    def _known(self, _attribute: attrs.Attribute[tuple[str, ...]], value: tuple[str, ...]) -> None:
        if not value:
            raise ValueError("zones must name at least one IANA time zone")
        for name in value:
            if not walltime.check_zone(name):
                raise ValueError(f"unknown time zone {name!r}")

    @hold_share.validator
    def _kinds(self, _attribute: attrs.Attribute[float], value: float) -> None:
        if value + self.reserved_share > 1.0:
            raise ValueError("hold_share + reserved_share must not exceed 1")


@frozen
class HistoryItem:
    """A no-show or a cancellation, with the booking (patient, visit number, times) it concerns.

    ``outcome`` is ``BookingStatus.NO_SHOW`` (kept on the calendar, the patient did not come: still in
    ``clinic.busy``) or ``BookingStatus.CANCELLED`` (cancelled after booking: not in ``clinic.busy``,
    its time is open again).
    """

    outcome: BookingStatus
    visit: Busy
    visit_type: str


@frozen
class Scenario:
    """A generated health system: the clinic, where its time starts, its history, and what it was made from."""

    spec: ScenarioSpec
    clinic: Clinic
    start: int  # local midnight of first_date in the zone where it comes first (instant)
    end: int  # local midnight after the last date in the zone where it comes last (instant)
    first_date: dt.date
    history: tuple[HistoryItem, ...]
    template_minutes: int  # template time on open (non-holiday) dates
    booked_minutes: int  # of it, taken by bookings, holds and reserved blocks
    substitutions: int  # bookings made without the room or equipment their type needs (none was free)

    @property
    def booked_share(self) -> float:
        """The share of template time taken (the spec's ``booked``, up to rounding and scarce resources)."""
        return self.booked_minutes / self.template_minutes if self.template_minutes else 0.0


@frozen
class Query:
    """A request against a scenario with its settings and ``now``, and the visit length it asks for."""

    request: SlotRequest
    settings: Settings
    now: int
    duration: int


def request_for(
    scenario: Scenario,
    days: int | None = None,
    visit_type: str | None = None,
    *,
    limit: int = 20,
    preferences: Sequence[Preference] = (),
    settings: Settings | None = None,
) -> Query:
    """A search of the first ``days`` days (default: the whole scenario) for ``visit_type`` (default ``OV``).

    ``now`` is the scenario's start; the window runs from there to local midnight after the last of
    those dates in every zone. ``limit`` is the top K (ignored when ``settings`` are given). A code the
    scenario does not have raises ValueError (the shared ``OV``, ``FU``, ``TELE``, ``PROC`` are always there).
    """
    days = scenario.spec.days if days is None else days
    code = visit_type or "OV"
    kind = next((vt for vt in scenario.clinic.visit_types if vt.code == code), None)
    if kind is None:
        raise ValueError(
            f"the scenario has no visit type {code!r} (no provider of its specialty, or not in the catalogue)"
        )
    end = max(walltime.instant_of(z, scenario.first_date + dt.timedelta(days=days), 0) for z in scenario.spec.zones)
    request = SlotRequest(
        start=scenario.start, end=end, visit_types=[VisitTypeFilter(code)], preferences=tuple(preferences)
    )
    chosen = settings if settings is not None else Settings(limit=limit)
    return Query(request=request, settings=chosen, now=scenario.start, duration=kind.duration)


def dst_changes(scenario: Scenario) -> dict[str, tuple[dt.date, ...]]:
    """Per zone of the scenario's locations, the local dates in its horizon whose UTC offset differs
    from the day before (the change happened that night)."""
    found: dict[str, tuple[dt.date, ...]] = {}
    for zone in sorted({loc.time_zone for loc in scenario.clinic.locations}):
        dates = [scenario.first_date + dt.timedelta(days=d) for d in range(scenario.spec.days)]
        found[zone] = tuple(
            date
            for date in dates
            if walltime.offset_at(zone, walltime.instant_of(zone, date, _NOON))
            != walltime.offset_at(zone, walltime.instant_of(zone, date - dt.timedelta(days=1), _NOON))
        )
    return found
