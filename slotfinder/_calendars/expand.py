"""Calendar expansion: weekly templates and openings become blocks of instants; busy time is indexed.

Templates are expanded per *local* date at their location, so "Tue 08:00-12:00" stays 08:00-12:00
on the clock on DST days; the instants come from ``zones.instant_of`` and its DST policy.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping

from attrs import frozen

from slotfinder._calendars import zones
from slotfinder._calendars.intervals import Interval, merge
from slotfinder._domain import Busy, BusyKind, Clinic, DateOverride, Opening, PatientId, WeeklyTemplate

__all__ = ["Block", "BusyIndex", "Expansions", "expand_blocks", "local_dates"]


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


def _block(rule: WeeklyTemplate | Opening, zone: str, date: dt.date, step: int | None) -> Block | None:
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


# Expansions of one template over one date range, keyed by (template, zone, first, last, step):
# a prepared clinic keeps them, as a warm engine asks for the same templates over the same dates.
Expansions = dict[tuple[WeeklyTemplate, str, dt.date, dt.date, int | None], tuple[Block, ...]]


def _template_blocks(
    template: WeeklyTemplate, zone: str, first: dt.date, last: dt.date, step: int | None, expansions: Expansions | None
) -> tuple[Block, ...]:
    key = (template, zone, first, last, step)
    if expansions is not None and key in expansions:
        return expansions[key]
    found = (_block(template, zone, date, step) for date in _dates(first, last) if template.in_effect(date))
    blocks = tuple(b for b in found if b is not None)
    if expansions is not None:
        expansions[key] = blocks
    return blocks


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
    zone_of = {loc.id: loc.time_zone for loc in clinic.locations}
    wanted = None if providers is None else set(providers)
    replaced = _replaced(clinic.date_overrides)
    blocks: list[Block] = []
    for template in clinic.templates:
        if wanted is None or template.provider_id in wanted:
            zone = zone_of[template.location_id]
            found = _template_blocks(template, zone, first, last, start_interval, expansions)
            blocks += [b for b in found if not _overridden(b, replaced)] if replaced else found
    for opening in _openings(clinic):
        if (wanted is None or opening.provider_id in wanted) and first <= opening.date <= last:
            block = _block(opening, zone_of[opening.location_id], opening.date, start_interval)
            if block is not None:
                blocks.append(block)
    span_first, span_last = zones.instant_of("UTC", first, 0), zones.instant_of("UTC", last, 1440)
    for open_time in clinic.open_times:
        if (
            (wanted is None or open_time.provider_id in wanted)
            and span_first < open_time.end
            and open_time.start < span_last
        ):
            date, _ = zones.local_of(zone_of[open_time.location_id], open_time.start)
            blocks.append(
                Block(
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
            )
    blocks.sort(key=lambda b: (b.provider_id, b.location_id, b.start, b.end, b.visit_types, b.room or ""))
    return blocks


_Replaced = set[tuple[str, str | None, dt.date]]


def _replaced(overrides: Iterable[DateOverride]) -> _Replaced:
    """(provider, location or None for every location, local date) of each date override."""
    return {(o.provider_id, o.location_id, o.date) for o in overrides}


def _overridden(block: Block, replaced: _Replaced) -> bool:
    """A template block on a date whose hours an override replaces (at its location, or everywhere)."""
    here, everywhere = (block.provider_id, block.location_id, block.date), (block.provider_id, None, block.date)
    return here in replaced or everywhere in replaced


def _openings(clinic: Clinic) -> Iterator[Opening]:
    """The clinic's openings, then the hours of its date overrides (each one block on its date)."""
    yield from clinic.openings
    for override in clinic.date_overrides:
        yield from override.openings()


def _same_patient(a: PatientId, b: PatientId) -> bool:
    return a.id == b.id and (a.id_type is None or b.id_type is None or a.id_type == b.id_type)


class BusyIndex:
    """Busy items of a clinic, looked up by the resource they occupy (built once per clinic).

    ``buffers`` maps visit-type codes to their (before, after) minutes: an item of such a type occupies
    its resources over ``[start - before, end + after)``. The lookups give that buffered time by
    default; ``buffered=False`` gives the items' own time, which a new visit's own buffers must avoid.
    """

    def __init__(self, busy: Iterable[Busy], buffers: Mapping[str, tuple[int, int]] | None = None) -> None:
        by_provider: dict[str, list[Busy]] = defaultdict(list)
        by_room: dict[tuple[str, str], list[Busy]] = defaultdict(list)
        closures: dict[str, list[Busy]] = defaultdict(list)
        by_pool: dict[tuple[str, str], list[Busy]] = defaultdict(list)
        self.by_patient: dict[str, list[Busy]] = defaultdict(list)
        for item in busy:
            if item.provider_id is not None:
                by_provider[item.provider_id].append(item)
            if item.location_id is not None and item.room is not None:
                by_room[(item.location_id, item.room)].append(item)
            if item.location_id is not None and item.equipment is not None:
                by_room[(item.location_id, _UNIT + item.equipment)].append(item)
            if item.location_id is not None and item.pool is not None:
                by_pool[(item.location_id, item.pool)].append(item)
            if (
                item.provider_id is None
                and item.room is None
                and item.equipment is None
                and item.pool is None
                and item.location_id is not None
            ):
                closures[item.location_id].append(item)
            for patient in item.patients:
                self.by_patient[patient.id].append(item)
        self.by_provider = dict(by_provider)
        self._by_pool = dict(by_pool)
        self._buffers = {code: around for code, around in (buffers or {}).items() if around != (0, 0)}
        # Most items block whatever the visit type and the time of asking: merge those once, buffered
        # and (only when some item has buffers) plain.
        indexed = (*by_provider.values(), *closures.values(), *by_room.values())
        buffered = bool(self._buffers) and any(b.visit_type in self._buffers for v in indexed for b in v)
        self._views = {False: _view(by_provider, closures, by_room, _own)}
        self._views[True] = _view(by_provider, closures, by_room, self._span) if buffered else self._views[False]
        self._conditional = {k: [b for b in v if _conditional(b)] for k, v in by_provider.items()}
        self._closed_conditional = {k: [b for b in v if _conditional(b)] for k, v in closures.items()}
        self._room_conditional = {k: [b for b in v if _conditional(b)] for k, v in by_room.items()}
        self._edges = {
            k: (
                tuple(sorted({b.start for b in v if b.kind is BusyKind.BOOKING})),
                tuple(sorted({b.end for b in v if b.kind is BusyKind.BOOKING})),
            )
            for k, v in by_provider.items()
        }

    def provider_busy(
        self, provider_id: str, location_id: str, visit_type: str | None, now: int, *, buffered: bool = True
    ) -> list[Interval]:
        """Time the provider cannot see a visit of ``visit_type`` at ``location_id`` (``buffered``: see the class)."""
        view, span = self._views[buffered], self._span if buffered else _own
        fixed = view.fixed.get(provider_id, [])
        conditional = [*self._conditional.get(provider_id, []), *self._closed_conditional.get(location_id, [])]
        extra = [span(b) for b in conditional if b.blocks(visit_type, now)]
        closed = view.closed.get(location_id, [])
        return merge([*fixed, *extra, *closed]) if extra or closed else fixed

    def booking_edges(self, provider_id: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Starts and ends of the provider's bookings, sorted (for the adjacency term)."""
        return self._edges.get(provider_id, ((), ()))

    def room_busy(
        self, location_id: str, room: str, visit_type: str | None, now: int, *, buffered: bool = True
    ) -> list[Interval]:
        """Time a room cannot hold a visit of ``visit_type``: occupied, or its location closed.

        A block reserved for visit types keeps the room for them, as it keeps the provider.
        """
        view, span = self._views[buffered], self._span if buffered else _own
        fixed = view.rooms.get((location_id, room), [])
        conditional = [
            *self._room_conditional.get((location_id, room), []),
            *self._closed_conditional.get(location_id, []),
        ]
        extra = [span(b) for b in conditional if b.blocks(visit_type, now)]
        closed = view.closed.get(location_id, [])
        return merge([*fixed, *extra, *closed]) if extra or closed else fixed

    def equipment_busy(
        self, location_id: str, unit: str, visit_type: str | None, now: int, *, buffered: bool = True
    ) -> list[Interval]:
        """Time an equipment unit cannot serve a visit of ``visit_type`` (kept like a room)."""
        return self.room_busy(location_id, _UNIT + unit, visit_type, now, buffered=buffered)

    def pool_busy(
        self, location_id: str, kind: str, visit_type: str | None, now: int, *, buffered: bool = True
    ) -> list[tuple[int, int, int]]:
        """(start, end, units) of the items occupying units of the pooled ``kind`` at ``location_id`` that keep
        a visit of ``visit_type`` out (a reserved block only for other types), sorted; ``buffered``: see the
        class. Closures of the location are not here: they keep the provider out already."""
        span = self._span if buffered else _own
        items = self._by_pool.get((location_id, kind), [])
        return sorted((*span(b), b.pool_units) for b in items if b.blocks(visit_type, now))

    def _span(self, item: Busy) -> Interval:
        """The time an item occupies: its own, widened by the buffers of its visit type."""
        if item.visit_type is None:
            return item.start, item.end
        before, after = self._buffers.get(item.visit_type, (0, 0))
        return item.start - before, item.end + after

    def patient_items(self, patients: Iterable[PatientId]) -> list[Busy]:
        """The appointments of this patient (any of its identifiers), in clinic order, each once."""
        seen: dict[int, Busy] = {}
        for wanted in patients:
            for item in self.by_patient.get(wanted.id, []):
                if any(_same_patient(wanted, q) for q in item.patients):
                    seen.setdefault(id(item), item)
        return list(seen.values())


_UNIT = "\x00equipment:"  # equipment units share the room index under a key no room name can have


@frozen
class _View:
    """Unconditional busy time, merged: per provider, per closed location, per room or equipment unit."""

    fixed: dict[str, list[Interval]]
    closed: dict[str, list[Interval]]
    rooms: dict[tuple[str, str], list[Interval]]


def _own(item: Busy) -> Interval:
    return item.start, item.end


def _view(
    by_provider: Mapping[str, list[Busy]],
    closures: Mapping[str, list[Busy]],
    by_room: Mapping[tuple[str, str], list[Busy]],
    span: Callable[[Busy], Interval],
) -> _View:
    return _View(
        fixed={k: merge(span(b) for b in v if not _conditional(b)) for k, v in by_provider.items()},
        closed={k: merge(span(b) for b in v if not _conditional(b)) for k, v in closures.items()},
        rooms={k: merge(span(b) for b in v if not _conditional(b)) for k, v in by_room.items()},
    )


def _conditional(item: Busy) -> bool:
    """A reserved block: whether it blocks depends on the visit type and on when one asks."""
    return item.kind is BusyKind.BLOCK and bool(item.reserved_for)
