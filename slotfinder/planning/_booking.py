"""Filling a generated scenario's sessions: bookings, holds, reserved blocks, no-shows and cancellations.

The rules are in ``_scenario``'s module docstring (**Bookings**, **No-shows and cancellations**).
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random

from attrs import frozen

from slotfinder import Busy, BusyKind, Location, PatientId, Provider, VisitType, WeeklyTemplate, walltime
from slotfinder.planning._catalogue import Specialty, VisitKind
from slotfinder.planning._records import BookingStatus
from slotfinder.planning._scenario import HistoryItem, ScenarioSpec

__all__ = ["Ledger", "Occupancy", "Session"]

_PANEL_PER_PROVIDER = 1500  # patients (MR numbers) per provider the bookings draw from


@frozen
class Session:
    """A weekly template together with the visit kinds it offers (for filling it)."""

    template: WeeklyTemplate
    location: int  # index of its location
    kinds: tuple[VisitKind, ...]
    cumulative: tuple[float, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return self.template.visit_types


class Occupancy:
    """Bookings of rooms and equipment units on the date being filled (visits never cross midnight)."""

    def __init__(self) -> None:
        self.taken: dict[tuple[str, str], list[tuple[int, int]]] = {}

    def free(self, key: tuple[str, str], start: int, end: int) -> bool:
        return all(e <= start or s >= end for s, e in self.taken.get(key, ()))

    def take(self, key: tuple[str, str], start: int, end: int) -> None:
        self.taken.setdefault(key, []).append((start, end))


class Ledger:
    """What the generator has put on the calendars so far, and the counts the scenario reports."""

    def __init__(self, spec: ScenarioSpec) -> None:
        self.spec = spec
        self.busy: list[Busy] = []
        self.history: list[HistoryItem] = []
        self.template_minutes = 0
        self.booked_minutes = 0
        self.substitutions = 0
        self.debt: dict[str, float] = {}
        self.visit_numbers = itertools.count(1)

    def _patient(self, rng: random.Random) -> PatientId:
        return PatientId(f"MR{rng.randrange(_PANEL_PER_PROVIDER * self.spec.providers):08d}", "MR")

    def fill(
        self,
        rng: random.Random,
        provider: Provider,
        specialty: Specialty,
        session: Session,
        location: Location,
        kinds: dict[str, VisitType],
        date: dt.date,
        occupancy: Occupancy,
    ) -> None:
        """Book ``spec.booked`` of one session on one date (``_scenario``'s module docstring)."""
        spec = self.spec
        template = session.template
        begin = walltime.instant_of(location.time_zone, date, template.start)
        length = walltime.instant_of(location.time_zone, date, template.end) - begin
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
        occupancy: Occupancy,
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
        patient = self._patient(rng)
        booking = Busy(
            BusyKind.BOOKING,
            start,
            end,
            provider.id,
            location.id,
            room=room,
            visit_number=number,
            patients=[patient],
            visit_type=kind.code,
        )
        self.busy.append(booking)
        self.busy.extend(
            Busy(BusyKind.BOOKING, start, end, location_id=location.id, visit_number=number, equipment=unit)
            for unit in units
        )
        if rng.random() < self.spec.no_show_share:
            self.history.append(HistoryItem(BookingStatus.NO_SHOW, booking, kind.code))

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
                patient = self._patient(rng)
                visit = Busy(
                    BusyKind.BOOKING,
                    start,
                    start + kind.duration,
                    provider.id,
                    location.id,
                    visit_number=number,
                    patients=[patient],
                )
                self.history.append(HistoryItem(BookingStatus.CANCELLED, visit, kind.code))
