"""Small hand-made clinics for the rule and ranking tests (tests/test_rules.py, tests/test_ranking.py).

One location-zone (America/Chicago) and one quiet June week (no DST change near it): Monday
2025-06-02 is ``MONDAY``. Everything is built from the domain classes; wall times are placed with
``zones.instant_of`` so a test reads "10:00 on Monday" rather than an instant.

The default clinic: provider ``P1`` works at ``MAIN`` (rooms 136, 137) Monday to Friday 09:00-12:00
on a 15-minute grid for every visit type; ``P2`` exists but has no template unless a test gives one.
Visit types: ``OV`` (30 min), ``NP`` (60 min), ``PROC`` (30 min, needs a room).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from slotfinder import list_candidates
from slotfinder._calendars.zones import instant_of
from slotfinder._domain import (
    Busy,
    Clinic,
    DateOverride,
    Location,
    LocationFilter,
    Opening,
    PatientId,
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
from slotfinder._pipeline import Candidate
from slotfinder._settings import Settings

__all__ = [
    "ANNEX",
    "DAY",
    "MAIN",
    "MONDAY",
    "NOW",
    "NP",
    "OV",
    "P1",
    "P2",
    "PROC",
    "WEEKDAYS",
    "ZONE",
    "at",
    "candidate_at",
    "clinic",
    "day",
    "eligible",
    "hours",
    "minute",
    "offered",
    "override",
    "request",
    "weekly",
]

ZONE = "America/Chicago"
DAY = 1440
MONDAY = dt.date(2025, 6, 2)
WEEKDAYS = frozenset(range(5))

P1 = Provider("1111111111", "NPI", "Ana", "Lindqvist", ("MD",))
P2 = Provider("2222222222", "NPI", "Ben", "Okafor", ("DO",))
MAIN = Location(
    "loc-main", facility="RES General Hospital", department="3N", time_zone=ZONE, type="Clinic", rooms=("136", "137")
)
ANNEX = Location("loc-annex", facility="RES Annex", department="2W", time_zone=ZONE, type="Imaging", rooms=("201",))
OV = VisitType("OV", "DNE", "Office Visit", 30)
NP = VisitType("NP", "DNE", "New Patient Visit", 60)
PROC = VisitType("PROC", "DNE", "Procedure", 30, needs_room=True)


def minute(hhmm: str) -> int:
    """``"HH:MM"`` as minutes after local midnight."""
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def day(offset: int) -> dt.date:
    """The local date ``offset`` days after ``MONDAY``."""
    return MONDAY + dt.timedelta(days=offset)


def at(date: dt.date, hhmm: str) -> int:
    """The instant of wall time ``hhmm`` on ``date`` in Chicago."""
    return instant_of(ZONE, date, minute(hhmm))


NOW = at(day(-7), "00:00")  # a week before: nothing in the test week is in the past


def weekly(
    *,
    provider: str = P1.id,
    location: str = MAIN.id,
    weekdays: Iterable[int] = WEEKDAYS,
    start: str = "09:00",
    end: str = "12:00",
    slot_length: int = 15,
    visit_types: Sequence[str] = (),
    effective_from: dt.date | None = None,
    effective_until: dt.date | None = None,
    room: str | None = None,
) -> WeeklyTemplate:
    """A weekly template (default: P1 at MAIN, weekdays 09:00-12:00, every visit type)."""
    return WeeklyTemplate(
        provider_id=provider,
        location_id=location,
        weekdays=frozenset(weekdays),
        start=minute(start),
        end=minute(end),
        slot_length=slot_length,
        visit_types=tuple(visit_types),
        effective_from=effective_from,
        effective_until=effective_until,
        room=room,
    )


def clinic(
    *,
    templates: Sequence[WeeklyTemplate] | None = None,
    openings: Sequence[Opening] = (),
    busy: Sequence[Busy] = (),
    providers: Sequence[Provider] = (P1, P2),
    locations: Sequence[Location] = (MAIN, ANNEX),
    visit_types: Sequence[VisitType] = (OV, NP, PROC),
    default_duration: int = 30,
    date_overrides: Sequence[DateOverride] = (),
    start_alignment: StartAlignment | str = StartAlignment.BLOCK,
) -> Clinic:
    """A small clinic; ``templates`` None gives P1's weekday mornings at MAIN."""
    return Clinic(
        providers=tuple(providers),
        locations=tuple(locations),
        visit_types=tuple(visit_types),
        templates=tuple([weekly()] if templates is None else templates),
        openings=tuple(openings),
        busy=tuple(busy),
        default_duration=default_duration,
        date_overrides=tuple(date_overrides),
        start_alignment=start_alignment,
    )


def hours(start: str, end: str, *, slot_length: int = 15, visit_types: Sequence[str] = ()) -> WorkingHours:
    """One block of a date override, between two wall times."""
    return WorkingHours(minute(start), minute(end), slot_length, tuple(visit_types))


def override(
    date: dt.date, *worked: WorkingHours, provider: str = P1.id, location: str | None = MAIN.id
) -> DateOverride:
    """P1's hours at MAIN on ``date`` (none given: not working there; ``location`` None: not working at all)."""
    return DateOverride(provider, location, date, worked)


def request(
    *,
    first: dt.date = MONDAY,
    days: int = 1,
    start: int | None = None,
    end: int | None = None,
    open_ended: bool = False,
    providers: Sequence[ProviderFilter] = (),
    locations: Sequence[LocationFilter] = (),
    visit_types: Sequence[VisitTypeFilter] = (VisitTypeFilter("OV"),),
    preferences: Sequence[Preference] = (),
    patient_ids: Sequence[PatientId] = (),
) -> SlotRequest:
    """A request for ``days`` local days from ``first`` (or the explicit ``start``/``end``); OV by default."""
    window_start = at(first, "00:00") if start is None else start
    window_end = at(first + dt.timedelta(days=days), "00:00") if end is None else end
    return SlotRequest(
        start=window_start,
        end=None if open_ended else window_end,
        providers=tuple(providers),
        locations=tuple(locations),
        visit_types=tuple(visit_types),
        preferences=tuple(preferences),
        patient_ids=tuple(patient_ids),
    )


def eligible(where: Clinic, what: SlotRequest, settings: Settings | None = None, now: int = NOW) -> list[Candidate]:
    """The candidates an answer may contain (hard preferences applied), best first."""
    return [c for c in list_candidates(where, what, settings or Settings(), now) if c.eligible]


def candidate_at(
    where: Clinic,
    what: SlotRequest,
    when: int,
    *,
    provider: str = P1.id,
    settings: Settings | None = None,
    now: int = NOW,
) -> Candidate | None:
    """The eligible candidate of ``provider`` starting at ``when``, if there is one."""
    found = [c for c in eligible(where, what, settings, now) if c.start == when and c.provider_id == provider]
    assert len(found) <= 1, found  # one offer per provider, start and visit type in these clinics
    return found[0] if found else None


def offered(
    where: Clinic,
    what: SlotRequest,
    when: int,
    *,
    provider: str = P1.id,
    settings: Settings | None = None,
    now: int = NOW,
) -> bool:
    """Whether ``provider`` has an eligible candidate starting at ``when``."""
    return candidate_at(where, what, when, provider=provider, settings=settings, now=now) is not None
