"""The first, simple generator behind ``benchmarks/typical_query.py`` (one zone, three visit types).

Kept as it is so the README's typical-query figures stay comparable; ``generate`` builds richer systems.
"""

from __future__ import annotations

import datetime as dt
import random

from slotfinder import (
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
    walltime,
)
from slotfinder.planning._minutes import DAY, SATURDAY

__all__ = ["FIRST_DAY", "ZONE", "synthetic_clinic", "typical_request"]

ZONE = "America/Chicago"
FIRST_DAY = dt.date(2025, 10, 20)
_BOOKING_SHARE = 0.9  # of the busy items: bookings; the rest are holds


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
            if date.weekday() >= SATURDAY:
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
            kind = BusyKind.BOOKING if rng.random() < _BOOKING_SHARE else BusyKind.HOLD
            items.append(
                Busy(
                    kind,
                    walltime.instant_of(location.time_zone, date, cursor),
                    walltime.instant_of(location.time_zone, date, cursor + length),
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
    start = walltime.instant_of(ZONE, FIRST_DAY, 7 * 60)
    return SlotRequest(start=start, end=start + days * DAY, visit_types=[VisitTypeFilter("OV")])
