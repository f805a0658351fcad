"""``generate(ScenarioSpec(...))``: the synthetic health system a spec describes (see ``_scenario``).

Randomness comes from streams named after the seed and what they draw (``"{seed}:book:{provider}"``...),
so the same spec gives the same scenario on any machine and Python run.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random

from slotfinder import Busy, BusyKind, Clinic, Location, Provider, VisitType, WeeklyTemplate, walltime
from slotfinder.planning._booking import Ledger, Occupancy, Session
from slotfinder.planning._catalogue import SHARED, SPECIALTIES, Specialty, VisitKind
from slotfinder.planning._minutes import SATURDAY, THURSDAY
from slotfinder.planning._scenario import Scenario, ScenarioSpec

__all__ = ["generate"]

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
# How providers' weeks are drawn (see the module docstring of ``_scenario``): a uniform draw below
# the first share works five days, below the second four, else three.
_FIVE_DAYS_BELOW = 0.6
_FOUR_DAYS_BELOW = 0.9
_SATELLITE_SHARE = 0.3  # work one day a week at a second location of the same zone
_TELE_SHARE = 0.2  # keep one afternoon for telehealth only
_SATURDAY_SHARE = 0.15  # of primary care and paediatrics providers: a Saturday morning clinic
_HOURS_CHANGE_SHARE = 0.1  # change their morning hours half-way through the horizon ...
_HOURS_CHANGE_MIN_DAYS = 28  # ... when the horizon is at least this long
_MAINTENANCE_EVERY_DAYS = 28  # each equipment unit has a maintenance hour this often
_MAINTENANCE_FIRST_WITHIN = 20  # days: the first maintenance hour falls this early
_THANKSGIVING = 3  # the fourth Thursday of November (index among its Thursdays)


def generate(spec: ScenarioSpec) -> Scenario:
    """The health system ``spec`` describes (what it contains: docs/benchmarks.md, ``_scenario``'s docstring)."""
    return _Builder(spec).build()


def _holidays(zone: str, year: int) -> set[dt.date]:
    days = {dt.date(year, 1, 1), dt.date(year, 12, 25)}
    if zone.startswith("America/"):
        november = dt.date(year, 11, 1)
        thursdays = [november + dt.timedelta(days=d) for d in range(30) if (november.weekday() + d) % 7 == THURSDAY]
        days |= {thursdays[_THANKSGIVING], dt.date(year, 7, 4)}
    if zone.startswith(("Europe/", "Australia/")):
        days.add(dt.date(year, 12, 26))
    if zone.startswith("Australia/"):
        days.add(dt.date(year, 1, 26))
    return days


class _Builder:
    def __init__(self, spec: ScenarioSpec) -> None:
        self.spec = spec
        self.ledger = Ledger(spec)
        self.busy = self.ledger.busy  # closures and maintenance hours go on the same calendars

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.spec.seed, *parts)))

    # -- structure --

    def build(self) -> Scenario:
        spec = self.spec
        n_locations = max(len(spec.zones), math.ceil(spec.providers / spec.providers_per_location))
        specialties = self._specialties()
        homes = [i % n_locations for i in range(spec.providers)]
        providers = [self._provider(i, specialties[i]) for i in range(spec.providers)]
        sessions: list[list[Session]] = []
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
            occupancy = Occupancy()
            for key, start, end in occupancy_seed.get(date, ()):
                occupancy.take(key, start, end)
            for i, provider in enumerate(providers):
                for session in sessions[i]:
                    template = session.template
                    if not template.in_effect(date) or (template.location_id, date) in closed:
                        continue
                    self.ledger.fill(rngs[i], provider, specialties[i], session, by_id[template.location_id], kinds,
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
            start=min(walltime.instant_of(z, first, 0) for z in spec.zones),
            end=max(walltime.instant_of(z, first + dt.timedelta(days=spec.days), 0) for z in spec.zones),
            first_date=first,
            history=tuple(self.ledger.history),
            template_minutes=self.ledger.template_minutes,
            booked_minutes=self.ledger.booked_minutes,
            substitutions=self.ledger.substitutions,
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
    ) -> list[Session]:
        """A provider's weekly templates (``_scenario``'s module docstring describes the patterns)."""
        spec = self.spec
        rng = self._rng("templates", i)
        r = rng.random()
        if r < _FIVE_DAYS_BELOW:
            days = [0, 1, 2, 3, 4]
        elif r < _FOUR_DAYS_BELOW:
            days = [d for d in range(5) if d != rng.randrange(5)]
        else:
            days = rng.choice(([0, 2, 4], [1, 2, 3]))
        satellite_day = rng.choice(days) if satellites and rng.random() < _SATELLITE_SHARE else None
        satellite = rng.choice(satellites) if satellites else home
        tele_day = rng.choice(days) if rng.random() < _TELE_SHARE else None
        am_start = rng.choice((450, 480, 510))
        pm_end = rng.choice((990, 1020, 1050))
        home_days = [d for d in days if d != satellite_day]
        codes = (*SHARED, *specialty.kinds)
        tele = tuple(k for k in SHARED if k.code == "TELE")
        halfway = spec.start_date + dt.timedelta(days=spec.days // 2)
        change = spec.days >= _HOURS_CHANGE_MIN_DAYS and rng.random() < _HOURS_CHANGE_SHARE
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
        if specialty.saturday and rng.random() < _SATURDAY_SHARE:
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
            sessions.append(Session(template, location, kinds, weights))
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
                        start = walltime.instant_of(loc.time_zone, date, 0)
                        end = walltime.instant_of(loc.time_zone, date + dt.timedelta(days=1), 0)
                        self.busy.append(Busy(BusyKind.CLOSURE, start, end, location_id=loc.id))
        return closed

    def _maintenance(self, locations: list[Location]) -> dict[dt.date, list[tuple[tuple[str, str], int, int]]]:
        """A maintenance hour of each unit every four weeks, on a weekday, during clinic hours."""
        spec = self.spec
        taken: dict[dt.date, list[tuple[tuple[str, str], int, int]]] = {}
        for loc in locations:
            for unit in loc.equipment:
                rng = self._rng("maintenance", loc.id, unit)
                first = rng.randrange(_MAINTENANCE_FIRST_WITHIN)
                minute = rng.choice((480, 840, 960))
                for offset in range(first, spec.days, _MAINTENANCE_EVERY_DAYS):
                    date = spec.start_date + dt.timedelta(days=offset)
                    if date.weekday() >= SATURDAY:
                        continue
                    start = walltime.instant_of(loc.time_zone, date, minute)
                    self.busy.append(Busy(BusyKind.BLOCK, start, start + 60, location_id=loc.id, equipment=unit))
                    taken.setdefault(date, []).append(((loc.id, "unit:" + unit), start, start + 60))
        return taken
