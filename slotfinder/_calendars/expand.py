"""Calendar expansion: weekly templates and openings become blocks of instants; busy time is indexed.

Templates are expanded per *local* date at their location, so "Tue 08:00-12:00" stays 08:00-12:00
on the clock on DST days; the instants come from ``zones.instant_of`` and its DST policy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import numpy.typing as npt
from attrs import frozen

from slotfinder._calendars import zones
from slotfinder._calendars.busy_index import BusyIndex
from slotfinder._domain import Clinic, DateOverride, Opening, WeeklyTemplate

__all__ = [
    "Block",
    "BusyIndex",
    "Expansion",
    "Expansions",
    "Part",
    "Replaced",
    "expand_blocks",
    "expansion_parts",
    "local_dates",
    "openings",
    "overridden",
    "replaced_dates",
    "rule_block",
    "template_expansion",
]


@frozen
class Block:
    """One block of working time of one provider at one location, between two instants."""

    provider_id: str
    location_id: str
    start: int
    end: int
    step: int  # grid step of starts, from ``start``, in elapsed minutes
    visit_types: tuple[str, ...]  # empty: every visit type
    room: str | None
    date: dt.date  # the local date it was expanded for
    one_slot: bool = False  # an open time without a grid: its one start stays, whatever the start alignment

    def allows(self, visit_type: str | None) -> bool:
        """A visit type may start here (None, an unspecified type, fits any block)."""
        return visit_type is None or not self.visit_types or visit_type in self.visit_types


def local_dates(first: int, last: int, margin_days: int = 3) -> tuple[dt.date, dt.date]:
    """Local dates, in any zone, whose blocks can touch instants ``first``..``last`` (with a margin)."""
    first_day = zones.to_datetime(first).date() - dt.timedelta(days=margin_days)
    last_day = zones.to_datetime(last).date() + dt.timedelta(days=margin_days)
    return first_day, last_day


def _dates(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def rule_block(rule: WeeklyTemplate | Opening, zone: str, date: dt.date, step: int | None) -> Block | None:
    start = zones.instant_of(zone, date, rule.start)
    end = zones.instant_of(zone, date, rule.end)
    if end <= start:  # a block lying wholly inside a spring-forward gap has no time
        return None
    return Block(
        provider_id=rule.provider_id,
        location_id=rule.location_id,
        start=start,
        end=end,
        step=step or rule.slot_length,
        visit_types=rule.visit_types,
        room=rule.room,
        date=date,
    )


# Expansions of one template over one date range, keyed by (template, zone, first, last, step), with the
# blocks' starts and ends as columns: a prepared clinic keeps them, as a warm engine asks for the same
# templates over the same dates.
Expansion = tuple[tuple[Block, ...], npt.NDArray[np.int64], npt.NDArray[np.int64]]
Expansions = dict[tuple[WeeklyTemplate, str, dt.date, dt.date, int | None], Expansion]


def template_expansion(
    template: WeeklyTemplate, zone: str, first: dt.date, last: dt.date, step: int | None, expansions: Expansions | None
) -> Expansion:
    """The blocks of one template on local dates ``first``..``last`` (kept in ``expansions``)."""
    key = (template, zone, first, last, step)
    known = expansions.get(key) if expansions is not None else None  # one lookup: a server thread may clear it
    if known is not None:
        return known
    found = (rule_block(template, zone, date, step) for date in _dates(first, last) if template.in_effect(date))
    blocks = tuple(b for b in found if b is not None)
    expansion = (
        blocks,
        np.fromiter((b.start for b in blocks), dtype=np.int64, count=len(blocks)),
        np.fromiter((b.end for b in blocks), dtype=np.int64, count=len(blocks)),
    )
    if expansions is not None:
        expansions[key] = expansion
    return expansion


def expand_blocks(
    clinic: Clinic,
    first: dt.date,
    last: dt.date,
    providers: Iterable[str] | None = None,
    start_interval: int | None = None,
    *,
    expansions: Expansions | None = None,
) -> list[Block]:
    """Every block of the clinic's templates, openings, date overrides and open times on local dates
    ``first``..``last``.

    A date override replaces the provider's template blocks of its local date (at its location, or at
    every location when it names none) by its own hours; openings and open times on that date stay.

    Open times are kept when they touch the UTC days ``first``..``last`` (the margin of ``local_dates``
    covers any zone).
    """
    parts = expansion_parts(clinic, first, last, providers, start_interval, expansions=expansions)
    blocks = [b for part in parts for b in part[0]]
    blocks.sort(key=lambda b: (b.provider_id, b.location_id, b.start, b.end, b.visit_types, b.room or ""))
    return blocks


# Blocks of one template (all alike but for their times: starts and ends as columns), or one block
# (of an opening, date override or open time: no columns).
Part = tuple[Sequence[Block], npt.NDArray[np.int64] | None, npt.NDArray[np.int64] | None]


def expansion_parts(
    clinic: Clinic,
    first: dt.date,
    last: dt.date,
    providers: Iterable[str] | None = None,
    start_interval: int | None = None,
    *,
    expansions: Expansions | None = None,
) -> list[Part]:
    """The blocks of :func:`expand_blocks`, unsorted, in parts: per template, then one per other block."""
    zone_of = {loc.id: loc.time_zone for loc in clinic.locations}
    wanted = None if providers is None else set(providers)
    replaced = replaced_dates(clinic.date_overrides)
    overriding = {provider for provider, _, _ in replaced}
    parts: list[Part] = []
    for template in clinic.templates:
        if wanted is None or template.provider_id in wanted:
            zone = zone_of[template.location_id]
            found, starts, ends = template_expansion(template, zone, first, last, start_interval, expansions)
            if template.provider_id in overriding:
                kept = np.array([not overridden(b, replaced) for b in found], dtype=bool)
                found, starts, ends = tuple(b for b, k in zip(found, kept, strict=True) if k), starts[kept], ends[kept]
            parts.append((found, starts, ends))
    for opening in openings(clinic):
        if (wanted is None or opening.provider_id in wanted) and first <= opening.date <= last:
            block = rule_block(opening, zone_of[opening.location_id], opening.date, start_interval)
            if block is not None:
                parts.append(((block,), None, None))
    span_first, span_last = zones.instant_of("UTC", first, 0), zones.instant_of("UTC", last, 1440)
    for open_time in clinic.open_times:
        if (
            (wanted is None or open_time.provider_id in wanted)
            and span_first < open_time.end
            and open_time.start < span_last
        ):
            date, _ = zones.local_of(zone_of[open_time.location_id], open_time.start)
            block = Block(
                provider_id=open_time.provider_id,
                location_id=open_time.location_id,
                start=open_time.start,
                end=open_time.end,
                step=start_interval or open_time.slot_length or open_time.end - open_time.start,
                visit_types=open_time.visit_types,
                room=open_time.room,
                date=date,
                one_slot=start_interval is None and open_time.slot_length is None,
            )
            parts.append(((block,), None, None))
    return parts


Replaced = set[tuple[str, str | None, dt.date]]


def replaced_dates(overrides: Iterable[DateOverride]) -> Replaced:
    """(provider, location or None for every location, local date) of each date override."""
    return {(o.provider_id, o.location_id, o.date) for o in overrides}


def overridden(block: Block, replaced: Replaced) -> bool:
    """A template block on a date whose hours an override replaces (at its location, or everywhere)."""
    here, everywhere = (block.provider_id, block.location_id, block.date), (block.provider_id, None, block.date)
    return here in replaced or everywhere in replaced


def openings(clinic: Clinic) -> Iterator[Opening]:
    """The clinic's openings, then the hours of its date overrides (each one block on its date)."""
    yield from clinic.openings
    for override in clinic.date_overrides:
        yield from override.openings()
