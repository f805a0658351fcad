"""Brute-force reference for composite offers (``slotfinder.find_offers``), for small instances only.

Each step's candidates come from the public single-slot search (``list_candidates``) with the same
window the engine uses (the first step's window, widened for later steps by the earlier steps'
lengths and gaps, so scores match). Every offer is enumerated (every slot, every choice of people
for every role, every later step meeting the gaps, location and same-provider rules); each key
(first start, first role's people) keeps its best offer; then every set of keys is tried, largest
first, under ``limit`` and ``per_day``. Nothing here shares code with the engine's model or pruning.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence

from attrs import frozen

from slotfinder import (
    Clinic,
    CompositeRequest,
    Offer,
    ProviderFilter,
    Role,
    Settings,
    SlotRequest,
    Step,
    VisitTypeFilter,
    list_candidates,
)
from slotfinder._domain import Preference

__all__ = ["Row", "best_choice", "check_offer", "enumerate_offers", "offer_points", "repeats", "step_rows"]

DAY = 1440


@frozen
class Row:
    """One candidate of one step: one person at one start and location."""

    start: int
    duration: int
    provider: str
    location: str
    local_date: dt.date
    points: int
    score: float

    @property
    def end(self) -> int:
        return self.start + self.duration


def _roles(step: Step) -> tuple[Role, ...]:
    return step.roles or (Role(step.providers, 1),)


def step_rows(
    clinic: Clinic, request: CompositeRequest, settings: Settings, now: int
) -> list[dict[tuple[int, str, str], Row]]:
    """Per step: its candidates by (start, location, provider), the best of each."""
    end = request.end if request.end is not None else request.start + settings.default_horizon_days * DAY
    slack = 0
    found: list[dict[tuple[int, str, str], Row]] = []
    for i, step in enumerate(request.steps):
        roles = _roles(step)
        anyone = any(not r.providers for r in roles)
        single = SlotRequest(
            start=request.start,
            end=end + slack,
            providers=()
            if anyone
            else tuple(ProviderFilter(p) for p in sorted({p for r in roles for p in r.providers})),
            locations=request.locations,
            visit_types=(VisitTypeFilter(step.visit_type, step.codeset),),
            preferences=tuple(Preference(p.days, p.times) for p in request.preferences),
            patient_ids=request.patient_ids,
        )
        candidates = list_candidates(clinic, single, settings, now)
        rows: dict[tuple[int, str, str], Row] = {}
        for c in candidates:
            key = (c.start, c.location_id, c.provider_id)
            if c.eligible and (key not in rows or c.points > rows[key].points):
                rows[key] = Row(c.start, c.duration, c.provider_id, c.location_id, c.local_date, c.points, c.score)
        found.append(rows)
        if i + 1 < len(request.steps):
            following = request.steps[i + 1]
            if following.min_days is not None and following.max_days is not None:
                slack += (following.max_days + 1) * DAY
            else:
                slack += max((c.duration for c in candidates), default=0) + following.max_gap
    return found


def _fillings(
    at_slot: Sequence[Row], roles: Sequence[Role], used: frozenset[str] = frozenset()
) -> Iterator[tuple[Row, ...]]:
    """Every choice of rows filling the roles in order (distinct people), flattened role by role."""
    if not roles:
        yield ()
        return
    role = roles[0]
    members = [r for r in at_slot if r.provider not in used and (not role.providers or r.provider in role.providers)]
    for combo in itertools.combinations(members, role.count):
        for rest in _fillings(at_slot, roles[1:], used | {r.provider for r in combo}):
            yield combo + rest


def _follows(step: Step, before: Sequence[Row], after: Sequence[Row]) -> bool:
    gap = after[0].start - before[0].end
    if step.min_days is not None and step.max_days is not None:  # a series: local dates apart, in order
        days = (after[0].local_date - before[0].local_date).days
        if not (step.min_days <= days <= step.max_days and gap >= 0):
            return False
    elif not step.min_gap <= gap <= step.max_gap:
        return False
    if after[0].location != before[0].location and (step.same_location or gap < step.travel):
        return False
    return not step.same_provider_as_previous or after[0].provider == before[0].provider


def enumerate_offers(
    request: CompositeRequest, rows: list[dict[tuple[int, str, str], Row]]
) -> Iterator[list[tuple[Row, ...]]]:
    """Every offer: per step the rows of its people (roles in order)."""
    slots: list[dict[tuple[int, str], list[Row]]] = []
    for step_rows_ in rows:
        by_slot: dict[tuple[int, str], list[Row]] = {}
        for (start, location, _), row in sorted(step_rows_.items()):
            by_slot.setdefault((start, location), []).append(row)
        slots.append(by_slot)

    def extend(s: int, chosen: list[tuple[Row, ...]]) -> Iterator[list[tuple[Row, ...]]]:
        if s == len(request.steps):
            yield list(chosen)
            return
        step = request.steps[s]
        for at_slot in slots[s].values():
            for filling in _fillings(at_slot, _roles(step)):
                if s == 0 or _follows(step, chosen[-1], filling):
                    yield from extend(s + 1, [*chosen, filling])

    yield from extend(0, [])


def _key(request: CompositeRequest, offer: list[tuple[Row, ...]]) -> tuple[int, tuple[str, ...]]:
    first_role = _roles(request.steps[0])[0].count
    return offer[0][0].start, tuple(sorted(r.provider for r in offer[0][:first_role]))


def best_choice(
    request: CompositeRequest, rows: list[dict[tuple[int, str, str], Row]], settings: Settings
) -> tuple[int, int]:
    """The best answer's (number of offers, total points): most offers first, then the highest total."""
    best: dict[tuple[int, tuple[str, ...]], tuple[int, dt.date]] = {}
    for offer in enumerate_offers(request, rows):
        points = offer_points(request, offer, settings)
        key = _key(request, offer)
        if key not in best or points > best[key][0]:
            best[key] = (points, offer[0][0].local_date)
    values = list(best.values())
    for size in range(min(settings.limit, len(values)), 0, -1):
        totals = [
            sum(p for p, _ in combo)
            for combo in itertools.combinations(values, size)
            if all(sum(1 for _, d in combo if d == day) <= settings.per_day for _, day in combo)
        ]
        if totals:
            return size, max(totals)
    return 0, 0


def check_offer(
    request: CompositeRequest, rows: list[dict[tuple[int, str, str], Row]], offer: Offer
) -> list[tuple[Row, ...]]:
    """The engine's offer as reference rows, after checking every rule (AssertionError otherwise)."""
    assert len(offer.appointments) == len(request.steps)
    chosen: list[tuple[Row, ...]] = []
    for s, (step, appointment) in enumerate(zip(request.steps, offer.appointments, strict=True)):
        assert appointment.step == s
        people = [p.id for p in appointment.providers]
        assert len(set(people)) == len(people), "one person fills one role"
        filling = tuple(rows[s][(appointment.start, appointment.location.id, p)] for p in people)
        position = 0
        for role in _roles(step):
            group = people[position : position + role.count]
            assert len(group) == role.count
            assert not role.providers or set(group) <= set(role.providers)
            position += role.count
        assert position == len(people)
        if s > 0:
            assert _follows(step, chosen[-1], filling)
        chosen.append(filling)
    assert offer.local_date == chosen[0][0].local_date
    return chosen


def repeats(request: CompositeRequest, offer_rows: list[tuple[Row, ...]]) -> int:
    """How many steps that prefer the previous step's provider have them."""
    return sum(
        1
        for s in range(1, len(offer_rows))
        if request.steps[s].prefer_same_provider and offer_rows[s][0].provider == offer_rows[s - 1][0].provider
    )


def offer_points(request: CompositeRequest, offer_rows: list[tuple[Row, ...]], settings: Settings) -> int:
    """An offer's points: the sum over steps and people, plus the continuity weight per repeat of a
    preferred provider."""
    bonus = round(settings.weights.continuity * 1000) * repeats(request, offer_rows)
    return sum(r.points for filling in offer_rows for r in filling) + bonus
