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

import bisect
import datetime as dt
import enum
import itertools
import math
import random
from collections.abc import Sequence
from typing import Any

import attrs
from attrs import field, frozen

from slotfinder._calendars import zones
from slotfinder._domain import (
    Busy,
    BusyKind,
    Clinic,
    Location,
    PatientId,
    Preference,
    Provider,
    SlotRequest,
    VisitType,
    VisitTypeFilter,
    WeeklyTemplate,
)
from slotfinder._settings import Settings

__all__ = [
    "SHARED",
    "SPECIALTIES",
    "HistoryItem",
    "Outcome",
    "Query",
    "Scenario",
    "ScenarioSpec",
    "dst_changes",
    "generate",
    "request_for",
    "synthetic_clinic",
    "typical_request",
]

DAY = 1440
DEFAULT_ZONES = ("America/New_York", "Europe/London")
DEFAULT_START = dt.date(2025, 10, 22)  # London changes on Sun 26 Oct, New York on Sun 2 Nov 2025


# ---- the catalogue ---------------------------------------------------------------------------


@frozen
class VisitKind:
    """A visit type of the catalogue: ``room`` is ``"exam"``, ``"procedure"`` or None (no room)."""

    code: str
    description: str
    duration: int
    room: str | None = "exam"
    equipment: tuple[str, ...] = ()
    weight: float = 1.0  # how often it is booked, relative to the other types of the session


@frozen
class Specialty:
    """A specialty: its share of providers, its own visit types and its access visit type."""

    name: str
    share: float
    kinds: tuple[VisitKind, ...]
    access: str  # the visit type reserved blocks keep (new patients, same-day sick visits)
    access_release: int | None  # minutes before start a reserved block opens to every type
    saturday: bool = False  # some of its providers hold a Saturday morning clinic


SHARED = (
    VisitKind("OV", "Office visit", 30, weight=3.0),
    VisitKind("FU", "Follow-up visit", 20, weight=3.0),
    VisitKind("TELE", "Telehealth visit", 15, room=None, weight=1.0),
    VisitKind("PROC", "Ultrasound-guided procedure", 30, room="procedure", equipment=("ultrasound",), weight=0.3),
)

SPECIALTIES = (
    Specialty(
        "Primary Care",
        0.30,
        (
            VisitKind("PC-NEW", "New patient visit", 40, weight=1.5),
            VisitKind("PC-AWV", "Annual wellness visit", 30, weight=2.0),
            VisitKind("PC-SICK", "Same-day sick visit", 15, weight=2.0),
            VisitKind("PC-ECG", "Office visit with ECG", 20, equipment=("ecg-cart",), weight=0.5),
        ),
        access="PC-SICK",
        access_release=120,
        saturday=True,
    ),
    Specialty(
        "Pediatrics",
        0.15,
        (
            VisitKind("PED-WELL", "Well-child visit", 30, weight=3.0),
            VisitKind("PED-SICK", "Sick child visit", 15, weight=2.0),
            VisitKind("PED-NB", "Newborn visit", 40, weight=1.0),
            VisitKind("PED-VAX", "Immunization visit", 15, weight=1.0),
        ),
        access="PED-SICK",
        access_release=120,
        saturday=True,
    ),
    Specialty(
        "Cardiology",
        0.12,
        (
            VisitKind("CARD-NEW", "Cardiology consultation", 60, weight=1.5),
            VisitKind("CARD-ECG", "Electrocardiogram", 15, equipment=("ecg-cart",), weight=1.0),
            VisitKind("CARD-ECHO", "Echocardiogram", 40, room="procedure", equipment=("echo",), weight=1.0),
            VisitKind(
                "CARD-STRESS",
                "Exercise stress test",
                60,
                room="procedure",
                equipment=("treadmill", "ecg-cart"),
                weight=0.5,
            ),
        ),
        access="CARD-NEW",
        access_release=2 * DAY,
    ),
    Specialty(
        "Dermatology",
        0.10,
        (
            VisitKind("DERM-NEW", "New patient visit", 30, weight=2.0),
            VisitKind("DERM-SKIN", "Full skin examination", 20, weight=2.0),
            VisitKind("DERM-BX", "Skin biopsy", 30, room="procedure", weight=1.0),
            VisitKind("DERM-CRYO", "Cryotherapy", 15, room="procedure", equipment=("cryo",), weight=1.0),
        ),
        access="DERM-NEW",
        access_release=None,
    ),
    Specialty(
        "Orthopedics",
        0.13,
        (
            VisitKind("ORTH-NEW", "New patient visit", 40, weight=2.0),
            VisitKind("ORTH-XR", "X-ray and review", 20, equipment=("xray",), weight=1.5),
            VisitKind("ORTH-INJ", "Joint injection", 15, room="procedure", equipment=("ultrasound",), weight=1.0),
            VisitKind("ORTH-CAST", "Cast application", 30, room="procedure", weight=0.5),
        ),
        access="ORTH-NEW",
        access_release=DAY,
    ),
    Specialty(
        "Obstetrics and Gynecology",
        0.12,
        (
            VisitKind("OB-NEW", "New obstetric visit", 60, weight=1.0),
            VisitKind("OB-PRE", "Prenatal visit", 20, weight=3.0),
            VisitKind("OB-US", "Obstetric ultrasound", 30, room="procedure", equipment=("ultrasound",), weight=1.0),
            VisitKind("GYN-ANN", "Annual gynecologic exam", 30, weight=1.0),
        ),
        access="OB-NEW",
        access_release=DAY,
    ),
)

_FIRST = (
    "Ana", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hiro",
    "Ines", "James", "Kofi", "Lena", "Maya", "Nikhil", "Olga", "Pablo",
)  # fmt: skip
_LAST = (
    "Lindqvist", "Okafor", "Martin", "Nguyen", "Garcia", "Smith", "Kowalski",
    "Haddad", "Tanaka", "Brown", "Rossi", "Patel", "Murphy", "Cohen",
)  # fmt: skip
_CREDENTIALS = (("MD",), ("MD",), ("MD",), ("DO",), ("NP",), ("PA-C",))
_EXAM_ROOMS_PER_PROVIDER = 1.5
_PROVIDERS_PER_PROCEDURE_ROOM = 4


# ---- the spec and the scenario ---------------------------------------------------------------


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
        if value > 365:
            raise ValueError(f"days must be at most 365 (a request window is at most 366 days), got {value}")

    @zones.validator
    def _known(self, _attribute: attrs.Attribute[tuple[str, ...]], value: tuple[str, ...]) -> None:
        if not value:
            raise ValueError("zones must name at least one IANA time zone")
        for name in value:
            if not zones.check_zone(name):
                raise ValueError(f"unknown time zone {name!r}")

    @hold_share.validator
    def _kinds(self, _attribute: attrs.Attribute[float], value: float) -> None:
        if value + self.reserved_share > 1.0:
            raise ValueError("hold_share + reserved_share must not exceed 1")


class Outcome(enum.Enum):
    """What became of a booking that is in the history."""

    NO_SHOW = "no_show"  # kept on the calendar, the patient did not come: still in clinic.busy
    CANCELLED = "cancelled"  # cancelled after booking: not in clinic.busy, its time is open again


@frozen
class HistoryItem:
    """A no-show or a cancellation, with the booking (patient, visit number, times) it concerns."""

    outcome: Outcome
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
    end = max(zones.instant_of(z, scenario.first_date + dt.timedelta(days=days), 0) for z in scenario.spec.zones)
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
            if zones.offset_at(zone, zones.instant_of(zone, date, 720))
            != zones.offset_at(zone, zones.instant_of(zone, date - dt.timedelta(days=1), 720))
        )
    return found


def generate(spec: ScenarioSpec) -> Scenario:
    """The health system ``spec`` describes (see the module docstring for what it contains)."""
    return _Builder(spec).build()


# ---- the builder -----------------------------------------------------------------------------


@frozen
class _Session:
    """A weekly template together with the visit kinds it offers (for filling it)."""

    template: WeeklyTemplate
    location: int  # index of its location
    kinds: tuple[VisitKind, ...]
    cumulative: tuple[float, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return self.template.visit_types


def _holidays(zone: str, year: int) -> set[dt.date]:
    days = {dt.date(year, 1, 1), dt.date(year, 12, 25)}
    if zone.startswith("America/"):
        november = dt.date(year, 11, 1)
        thursdays = [november + dt.timedelta(days=d) for d in range(30) if (november.weekday() + d) % 7 == 3]
        days |= {thursdays[3], dt.date(year, 7, 4)}
    if zone.startswith(("Europe/", "Australia/")):
        days.add(dt.date(year, 12, 26))
    if zone.startswith("Australia/"):
        days.add(dt.date(year, 1, 26))
    return days


class _Occupancy:
    """Bookings of rooms and equipment units on the date being filled (visits never cross midnight)."""

    def __init__(self) -> None:
        self.taken: dict[tuple[str, str], list[tuple[int, int]]] = {}

    def free(self, key: tuple[str, str], start: int, end: int) -> bool:
        return all(e <= start or s >= end for s, e in self.taken.get(key, ()))

    def take(self, key: tuple[str, str], start: int, end: int) -> None:
        self.taken.setdefault(key, []).append((start, end))


class _Builder:
    def __init__(self, spec: ScenarioSpec) -> None:
        self.spec = spec
        self.busy: list[Busy] = []
        self.history: list[HistoryItem] = []
        self.template_minutes = 0
        self.booked_minutes = 0
        self.substitutions = 0
        self.debt: dict[str, float] = {}
        self.visit_numbers = itertools.count(1)

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.spec.seed, *parts)))

    # -- structure --

    def build(self) -> Scenario:
        spec = self.spec
        n_locations = max(len(spec.zones), math.ceil(spec.providers / spec.providers_per_location))
        specialties = self._specialties()
        homes = [i % n_locations for i in range(spec.providers)]
        providers = [self._provider(i, specialties[i]) for i in range(spec.providers)]
        sessions: list[list[_Session]] = []
        location_zone = [spec.zones[j % len(spec.zones)] for j in range(n_locations)]
        same_zone = {j: [k for k in range(n_locations) if k != j and location_zone[k] == location_zone[j]]
                     for j in range(n_locations)}  # fmt: skip
        specialties_at: dict[int, set[str]] = {j: set() for j in range(n_locations)}
        for i, provider in enumerate(providers):
            plan = self._sessions(i, provider, specialties[i], homes[i], same_zone[homes[i]])
            sessions.append(plan)
            for session in plan:
                specialties_at[session.location].add(specialties[i].name)
        visit_types, procedure_rooms = self._visit_types(homes, {s.name for s in specialties})
        locations = [
            self._location(j, location_zone[j], homes.count(j), procedure_rooms, specialties_at[j])
            for j in range(n_locations)
        ]
        by_id = {loc.id: loc for loc in locations}
        closed = self._closures(locations)
        occupancy_seed = self._maintenance(locations)
        kinds = {vt.code: vt for vt in visit_types}
        rngs = [self._rng("book", i) for i in range(spec.providers)]
        for offset in range(spec.days):
            date = spec.start_date + dt.timedelta(days=offset)
            occupancy = _Occupancy()
            for key, start, end in occupancy_seed.get(date, ()):
                occupancy.take(key, start, end)
            for i, provider in enumerate(providers):
                for session in sessions[i]:
                    template = session.template
                    if not _in_effect(template, date) or (template.location_id, date) in closed:
                        continue
                    self._fill(rngs[i], provider, specialties[i], session, by_id[template.location_id], kinds,
                               date, occupancy)  # fmt: skip
        clinic = Clinic(
            providers,
            locations,
            visit_types,
            [s.template for plan in sessions for s in plan],
            busy=self.busy,
            default_duration=30,
            name=f"synthetic health system (seed {spec.seed})",
        )
        first = spec.start_date
        return Scenario(
            spec=spec,
            clinic=clinic,
            start=min(zones.instant_of(z, first, 0) for z in spec.zones),
            end=max(zones.instant_of(z, first + dt.timedelta(days=spec.days), 0) for z in spec.zones),
            first_date=first,
            history=tuple(self.history),
            template_minutes=self.template_minutes,
            booked_minutes=self.booked_minutes,
            substitutions=self.substitutions,
        )

    def _specialties(self) -> list[Specialty]:
        rng = self._rng("specialties")
        weights = [s.share for s in SPECIALTIES]
        # The first provider is in primary care, so even a one-provider scenario answers an office visit.
        return [SPECIALTIES[0], *rng.choices(SPECIALTIES, weights, k=self.spec.providers - 1)]

    def _provider(self, i: int, specialty: Specialty) -> Provider:
        rng = self._rng("provider", i)
        return Provider(
            id=str(1_100_000_000 + i),
            id_type="NPI",
            first_name=rng.choice(_FIRST),
            last_name=rng.choice(_LAST),
            credentials=rng.choice(_CREDENTIALS),
            specialty=specialty.name,
        )

    def _visit_types(self, homes: list[int], present: set[str]) -> tuple[list[VisitType], int]:
        """The shared visit types and those of the specialties present, with room and equipment needs
        as the switches say."""
        most = max(homes.count(j) for j in set(homes))
        procedure_rooms = max(1, math.ceil(most / _PROVIDERS_PER_PROCEDURE_ROOM))
        found: list[VisitType] = []
        for kind in (*SHARED, *(k for s in SPECIALTIES if s.name in present for k in s.kinds)):
            needs_room = self.spec.rooms and kind.room is not None
            rooms = (
                [f"PR{r + 1:02d}" for r in range(procedure_rooms)] if needs_room and kind.room == "procedure" else []
            )
            found.append(
                VisitType(
                    kind.code,
                    "SLOTFINDER-SYNTHETIC",
                    kind.description,
                    kind.duration,
                    needs_room=needs_room,
                    rooms=rooms,
                    equipment=kind.equipment if self.spec.equipment else (),
                )
            )
        return found, procedure_rooms

    def _location(self, j: int, zone: str, homed: int, procedure_rooms: int, specialties: set[str]) -> Location:
        city = zone.rsplit("/", 1)[-1].replace("_", " ")
        rooms: list[str] = []
        if self.spec.rooms:
            exam = max(2, math.ceil(_EXAM_ROOMS_PER_PROVIDER * max(homed, 1)))
            procedure = max(1, math.ceil(homed / _PROVIDERS_PER_PROCEDURE_ROOM))
            rooms = [f"EX{r + 1:02d}" for r in range(exam)] + [
                f"PR{r + 1:02d}" for r in range(min(procedure, procedure_rooms))
            ]
        units: set[str] = set()
        if self.spec.equipment:
            units = {"ultrasound"}  # the shared ultrasound-guided procedure
            for specialty in SPECIALTIES:
                if specialty.name in specialties:
                    units.update(u for k in specialty.kinds for u in k.equipment)
        return Location(
            id=f"L{j:03d}",
            facility=f"{city} Health Center {j // len(self.spec.zones) + 1}",
            department=f"Outpatient Clinic {j:03d}",
            time_zone=zone,
            type="Clinic",
            rooms=rooms,
            equipment=sorted(units),
        )

    def _sessions(
        self, i: int, provider: Provider, specialty: Specialty, home: int, satellites: list[int]
    ) -> list[_Session]:
        """A provider's weekly templates (see the module docstring for the patterns)."""
        spec = self.spec
        rng = self._rng("templates", i)
        r = rng.random()
        if r < 0.6:
            days = [0, 1, 2, 3, 4]
        elif r < 0.9:
            days = [d for d in range(5) if d != rng.randrange(5)]
        else:
            days = rng.choice(([0, 2, 4], [1, 2, 3]))
        satellite_day = rng.choice(days) if satellites and rng.random() < 0.3 else None
        satellite = rng.choice(satellites) if satellites else home
        tele_day = rng.choice(days) if rng.random() < 0.2 else None
        am_start = rng.choice((450, 480, 510))
        pm_end = rng.choice((990, 1020, 1050))
        home_days = [d for d in days if d != satellite_day]
        codes = (*SHARED, *specialty.kinds)
        tele = tuple(k for k in SHARED if k.code == "TELE")
        halfway = spec.start_date + dt.timedelta(days=spec.days // 2)
        change = spec.days >= 28 and rng.random() < 0.1
        plan: list[tuple[int, list[int], int, int, tuple[VisitKind, ...], dt.date | None, dt.date | None]] = []
        if change:
            plan.append((home, home_days, am_start, 720, codes, None, halfway))
            plan.append((home, home_days, rng.choice((480, 540)), 720, codes, halfway + dt.timedelta(days=1), None))
        else:
            plan.append((home, home_days, am_start, 720, codes, None, None))
        plan.append((home, [d for d in home_days if d != tele_day], 780, pm_end, codes, None, None))
        if tele_day is not None and tele_day in home_days:
            plan.append((home, [tele_day], 780, pm_end, tele, None, None))
        if satellite_day is not None:
            plan.append((satellite, [satellite_day], 480, 720, codes, None, None))
            plan.append((satellite, [satellite_day], 780, 1020, codes, None, None))
        if specialty.saturday and rng.random() < 0.15:
            plan.append((home, [5], 540, 720, codes, None, None))
        sessions = []
        for location, weekdays, start, end, kinds, since, until in plan:
            if not weekdays:
                continue
            template = WeeklyTemplate(
                provider.id,
                f"L{location:03d}",
                weekdays,
                start,
                end,
                spec.grain,
                visit_types=[k.code for k in kinds],
                effective_from=since,
                effective_until=until,
            )
            weights = tuple(itertools.accumulate(k.weight for k in kinds))
            sessions.append(_Session(template, location, kinds, weights))
        return sessions

    def _closures(self, locations: list[Location]) -> set[tuple[str, dt.date]]:
        spec = self.spec
        last = spec.start_date + dt.timedelta(days=spec.days - 1)
        closed: set[tuple[str, dt.date]] = set()
        for loc in locations:
            for year in range(spec.start_date.year, last.year + 1):
                for date in sorted(_holidays(loc.time_zone, year)):
                    if spec.start_date <= date <= last:
                        closed.add((loc.id, date))
                        start = zones.instant_of(loc.time_zone, date, 0)
                        end = zones.instant_of(loc.time_zone, date + dt.timedelta(days=1), 0)
                        self.busy.append(Busy(BusyKind.CLOSURE, start, end, location_id=loc.id))
        return closed

    def _maintenance(self, locations: list[Location]) -> dict[dt.date, list[tuple[tuple[str, str], int, int]]]:
        """A maintenance hour of each unit every four weeks, on a weekday, during clinic hours."""
        spec = self.spec
        taken: dict[dt.date, list[tuple[tuple[str, str], int, int]]] = {}
        for loc in locations:
            for unit in loc.equipment:
                rng = self._rng("maintenance", loc.id, unit)
                first = rng.randrange(20)
                minute = rng.choice((480, 840, 960))
                for offset in range(first, spec.days, 28):
                    date = spec.start_date + dt.timedelta(days=offset)
                    if date.weekday() >= 5:
                        continue
                    start = zones.instant_of(loc.time_zone, date, minute)
                    self.busy.append(Busy(BusyKind.BLOCK, start, start + 60, location_id=loc.id, equipment=unit))
                    taken.setdefault(date, []).append(((loc.id, "unit:" + unit), start, start + 60))
        return taken

    # -- bookings --

    def _fill(
        self,
        rng: random.Random,
        provider: Provider,
        specialty: Specialty,
        session: _Session,
        location: Location,
        kinds: dict[str, VisitType],
        date: dt.date,
        occupancy: _Occupancy,
    ) -> None:
        """Book ``spec.booked`` of one session on one date (see the module docstring)."""
        spec = self.spec
        template = session.template
        begin = zones.instant_of(location.time_zone, date, template.start)
        length = zones.instant_of(location.time_zone, date, template.end) - begin
        self.template_minutes += length
        shortest = min(k.duration for k in session.kinds)
        spots: list[tuple[int, VisitKind]] = []
        cursor = 0
        total = session.cumulative[-1]
        while length - cursor >= shortest:
            kind = session.kinds[bisect.bisect_right(session.cumulative, rng.random() * total)]
            if cursor + kind.duration > length:
                kind = rng.choice([k for k in session.kinds if cursor + k.duration <= length])
            spots.append((begin + cursor, kind))
            cursor += kind.duration
        # The share is kept per provider across sessions: what one session overshot, the next gives back.
        target = spec.booked * length + self.debt.get(provider.id, 0.0)
        order = list(range(len(spots)))
        rng.shuffle(order)
        taken = booked = 0
        open_spots: list[tuple[int, VisitKind]] = []
        for index in order:
            start, kind = spots[index]
            if taken + kind.duration / 2 >= target:
                open_spots.append(spots[index])
                continue
            draw = rng.random()
            if draw < spec.hold_share:
                self.busy.append(Busy(BusyKind.HOLD, start, start + kind.duration, provider.id, location.id))
            elif draw < spec.hold_share + spec.reserved_share:
                self.busy.append(
                    Busy(
                        BusyKind.BLOCK,
                        start,
                        start + kind.duration,
                        provider.id,
                        location.id,
                        reserved_for=[specialty.access if specialty.access in session.codes else kind.code],
                        release_before=specialty.access_release,
                    )
                )
            else:
                self._book(rng, provider, kind, kinds[kind.code], location, start, occupancy)
                booked += 1
            taken += kind.duration
        self.debt[provider.id] = target - taken
        self.booked_minutes += taken
        self._cancellations(rng, provider, location, open_spots, booked)

    def _book(
        self,
        rng: random.Random,
        provider: Provider,
        kind: VisitKind,
        visit_type: VisitType,
        location: Location,
        start: int,
        occupancy: _Occupancy,
    ) -> None:
        """Book a visit: with the room and units its type needs when free; else (a substitution) in
        any free room and without equipment, so the provider's calendar never depends on the switches."""
        end = start + kind.duration
        room: str | None = None
        units = list(visit_type.equipment)
        if visit_type.needs_room:
            eligible = [r for r in location.rooms if not visit_type.rooms or r in visit_type.rooms]
            room = next((r for r in eligible if occupancy.free((location.id, r), start, end)), None)
        if (visit_type.needs_room and room is None) or not all(
            occupancy.free((location.id, "unit:" + u), start, end) for u in units
        ):
            self.substitutions += 1
            units = []
            if visit_type.needs_room:
                room = next((r for r in location.rooms if occupancy.free((location.id, r), start, end)), None)
        if room is not None:
            occupancy.take((location.id, room), start, end)
        for unit in units:
            occupancy.take((location.id, "unit:" + unit), start, end)
        number = f"V{next(self.visit_numbers):09d}"
        patient = PatientId(f"MR{rng.randrange(1500 * self.spec.providers):08d}", "MR")
        booking = Busy(
            BusyKind.BOOKING, start, end, provider.id, location.id, room=room, visit_number=number, patients=[patient]
        )
        self.busy.append(booking)
        self.busy.extend(
            Busy(BusyKind.BOOKING, start, end, location_id=location.id, visit_number=number, equipment=unit)
            for unit in units
        )
        if rng.random() < self.spec.no_show_share:
            self.history.append(HistoryItem(Outcome.NO_SHOW, booking, kind.code))

    def _cancellations(
        self,
        rng: random.Random,
        provider: Provider,
        location: Location,
        open_spots: list[tuple[int, VisitKind]],
        kept: int,
    ) -> None:
        """Cancelled bookings in the open time: about ``cancel_share`` of all bookings made."""
        share = self.spec.cancel_share
        if not open_spots or share <= 0:
            return
        # cancelled / (kept + cancelled) = share, drawn from the open spots
        expected = share * kept / (1 - share) if share < 1 else float(len(open_spots))
        chance = min(1.0, expected / len(open_spots))
        for start, kind in open_spots:
            if rng.random() < chance:
                number = f"V{next(self.visit_numbers):09d}"
                patient = PatientId(f"MR{rng.randrange(1500 * self.spec.providers):08d}", "MR")
                visit = Busy(
                    BusyKind.BOOKING,
                    start,
                    start + kind.duration,
                    provider.id,
                    location.id,
                    visit_number=number,
                    patients=[patient],
                )
                self.history.append(HistoryItem(Outcome.CANCELLED, visit, kind.code))


def _in_effect(template: WeeklyTemplate, date: dt.date) -> bool:
    if date.weekday() not in template.weekdays:
        return False
    if template.effective_from is not None and date < template.effective_from:
        return False
    return template.effective_until is None or date <= template.effective_until


# ---- the first, simple generator (the README's typical-query table) ---------------------------

ZONE = "America/Chicago"
FIRST_DAY = dt.date(2025, 10, 20)


def synthetic_clinic(
    providers: int, days: int, grain: int = 5, booked: float = 0.8, rooms: bool = False, seed: int = 0
) -> Clinic:
    """A clinic of ``providers`` working weekday mornings and afternoons, ``booked`` share taken.

    The simple generator behind ``benchmarks/typical_query.py``: one zone, three visit types, no
    specialties; kept as it is so its figures stay comparable. ``generate`` builds richer systems.
    """
    rng = random.Random(seed)
    locations = [
        Location(f"loc-{i}", f"Facility {i}", f"Dept {i}", ZONE, "Clinic", [f"R{i}{r}" for r in range(4)])
        for i in range(3)
    ]
    visit_types = [
        VisitType("OV", "LOCAL", "Office Visit", 30, needs_room=rooms),
        VisitType("FU", "LOCAL", "Follow Up", 15, needs_room=rooms),
        VisitType("NP", "LOCAL", "New Patient", 60, needs_room=rooms),
    ]
    staff = [Provider(f"{1000000000 + i}", first_name=f"P{i}", last_name="Synthetic") for i in range(providers)]
    templates = []
    busy: list[Busy] = []
    for i, provider in enumerate(staff):
        location = locations[i % len(locations)]
        for start, end in ((8 * 60, 12 * 60), (13 * 60, 17 * 60)):
            templates.append(WeeklyTemplate(provider.id, location.id, {0, 1, 2, 3, 4}, start, end, grain))
        for offset in range(days + 1):
            date = FIRST_DAY + dt.timedelta(days=offset)
            if date.weekday() >= 5:
                continue
            for start, end in ((8 * 60, 12 * 60), (13 * 60, 17 * 60)):
                busy += _simple_fill(rng, provider.id, location, date, start, end, booked, rooms)
    return Clinic(staff, locations, visit_types, templates, busy=busy, name="synthetic")


def _simple_fill(
    rng: random.Random,
    provider_id: str,
    location: Location,
    date: dt.date,
    start: int,
    end: int,
    share: float,
    rooms: bool,
) -> list[Busy]:
    """Bookings of 15-60 minutes at random places until ``share`` of the block is taken."""
    items = []
    cursor = start
    while cursor < end:
        length = rng.choice((15, 30, 30, 60))
        if rng.random() < share and cursor + length <= end:
            kind = BusyKind.BOOKING if rng.random() < 0.9 else BusyKind.HOLD
            items.append(
                Busy(
                    kind,
                    zones.instant_of(location.time_zone, date, cursor),
                    zones.instant_of(location.time_zone, date, cursor + length),
                    provider_id=provider_id,
                    location_id=location.id,
                    room=rng.choice(location.rooms) if rooms else None,
                    patients=[PatientId(f"MR{rng.randrange(10**6):06d}", "MR")] if kind is BusyKind.BOOKING else [],
                )
            )
        cursor += length
    return items


def typical_request(days: int = 30) -> SlotRequest:
    """Office visits over the next ``days`` days from the simple scenario's first morning."""
    start = zones.instant_of(ZONE, FIRST_DAY, 7 * 60)
    return SlotRequest(start=start, end=start + days * 1440, visit_types=[VisitTypeFilter("OV")])
