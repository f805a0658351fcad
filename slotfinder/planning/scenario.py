"""Synthetic clinics for benchmarks: same seed, same clinic.

A first generator (issue 4 grows it into health systems): providers with weekday templates at one of
a few locations, bookings filling a chosen share of template time, some holds and reserved blocks.
"""

from __future__ import annotations

import datetime as dt
import random

from slotfinder.calendars import zones
from slotfinder.domain import (
    Busy,
    BusyKind,
    Clinic,
    Location,
    PatientId,
    Provider,
    SlotRequest,
    VisitType,
    VisitTypeFilter,
    WeeklyTemplate,
)

__all__ = ["synthetic_clinic", "typical_request"]

ZONE = "America/Chicago"
FIRST_DAY = dt.date(2025, 10, 20)


def synthetic_clinic(
    providers: int, days: int, grain: int = 5, booked: float = 0.8, rooms: bool = False, seed: int = 0
) -> Clinic:
    """A clinic of ``providers`` working weekday mornings and afternoons, ``booked`` share taken."""
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
                busy += _fill(rng, provider.id, location, date, start, end, booked, rooms)
    return Clinic(staff, locations, visit_types, templates, busy=busy, name="synthetic")


def _fill(
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
    """Office visits over the next ``days`` days from the scenario's first morning."""
    start = zones.instant_of(ZONE, FIRST_DAY, 7 * 60)
    return SlotRequest(start=start, end=start + days * 1440, visit_types=[VisitTypeFilter("OV")])
