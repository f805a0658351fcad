"""Stage 1: every open start, by interval arithmetic over integer minutes.

For each provider, location and visit type the free time is the union of the blocks that allow the
visit type, minus the provider's busy time and the location's closures. Starts step through each
block from its start instant; a start is a candidate when the whole visit fits in free time, a room
the visit needs is free for all of it, the patient has no appointment then, and it lies in
``[max(window start, now + notice), window end)``. Equipment the visit type needs must be at the
location and free for all of the visit, and enough units of each pooled kind it needs (``pools.py``).
Other start alignments (clock, after busy) are in
``alignment.py``; a visit type's notice and advance limits in ``horizon.py``, its rolling dates in
``rolling.py``.

Buffers: busy items of a visit type with buffers occupy them too (the busy index widens them), and a
visit's own buffers must be clear of the items themselves for its provider, room and equipment
(neighbouring buffers may overlap). Booking limits drop the starts that would take their provider
past a limit (``limits.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
from attrs import frozen

from slotfinder._calendars import zones
from slotfinder._calendars.expand import Block, BusyIndex, local_dates
from slotfinder._calendars.intervals import Interval, merge, subtract
from slotfinder._domain import Clinic, Location, LocationFilter, Provider, SlotRequest, StartAlignment, VisitType
from slotfinder._prepared import PreparedClinic
from slotfinder._settings import Settings
from slotfinder._solve.alignment import aligned_grid
from slotfinder._solve.horizon import within_horizon
from slotfinder._solve.limits import LimitIndex
from slotfinder._solve.pools import pools_free
from slotfinder._solve.sessions import open_sessions

__all__ = ["CandidateTable", "Search", "find_candidates", "location_room_filter", "search_blocks"]

IntArray = npt.NDArray[np.int64]
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


@frozen
class Search:
    """A request resolved against a clinic: the window, the resources in play, the visit lengths."""

    window_start: int  # earliest start offered: max(request start, now + notice)
    window_end: int  # starts lie before this instant
    request_start: int  # the window as asked (earliness is measured over it)
    providers: tuple[Provider, ...]
    locations: tuple[Location, ...]
    room_filters: tuple[frozenset[str] | None, ...]  # per location: rooms allowed by the request
    visit_types: tuple[VisitType | None, ...]  # None: no visit type asked
    durations: tuple[int, ...]  # per visit type
    now: int
    alignment: StartAlignment = StartAlignment.BLOCK  # where starts lie in a block (alignment.py)


@frozen
class CandidateTable:
    """Candidates as columns (one row per open start of a provider, location and visit type)."""

    search: Search
    rooms: tuple[str, ...]
    start: IntArray
    duration: IntArray
    provider: IntArray  # index into search.providers
    location: IntArray  # index into search.locations
    visit_type: IntArray  # index into search.visit_types
    room: IntArray  # index into rooms, -1 for none
    gap_before: IntArray  # free minutes left before the visit in its stretch of free time
    gap_after: IntArray
    shortest: IntArray  # shortest visit the block allows (what a gap must hold to be bookable)
    booked_before: npt.NDArray[np.bool_]  # the visit starts right where a booking ends
    booked_after: npt.NDArray[np.bool_]  # ... ends right where a booking starts
    local_minute: IntArray  # wall-clock start, minutes after local midnight
    local_day: IntArray  # local date of the start, days since 1970-01-01

    def __len__(self) -> int:
        return int(self.start.shape[0])

    @property
    def weekday(self) -> IntArray:
        return (self.local_day + _EPOCH_WEEKDAY) % 7

    def take(self, rows: npt.NDArray[np.intp]) -> CandidateTable:
        """The table restricted to ``rows`` (in that order)."""
        columns = {
            f.name: getattr(self, f.name)[rows]
            for f in attrs.fields(CandidateTable)
            if f.name not in ("search", "rooms")
        }
        return CandidateTable(search=self.search, rooms=self.rooms, **columns)


def location_room_filter(location: Location, filters: Sequence[LocationFilter]) -> frozenset[str] | bool | None:
    """Whether a location matches any request alternative, and which rooms those alternatives allow.

    False: no alternative matches. None: matches with no room restriction. A set: only those rooms.
    """
    if not filters:
        return None
    rooms: set[str] = set()
    for f in filters:
        if not _same(f.id, location.id, exact=True):
            continue
        if not (_same(f.facility, location.facility) and _same(f.department, location.department)):
            continue
        if not _same(f.type, location.type):
            continue
        if f.room is None:
            return None
        rooms.add(f.room.strip().casefold())
    return frozenset(rooms) if rooms else False


def _same(wanted: str | None, actual: str | None, exact: bool = False) -> bool:
    if wanted is None:
        return True
    if actual is None:
        return False
    return wanted == actual if exact else wanted.strip().casefold() == actual.strip().casefold()


def _eligible_rooms(
    block: Block, location: Location, visit_type: VisitType, allowed: frozenset[str] | None
) -> list[str]:
    rooms = [r for r in location.rooms if not visit_type.rooms or r in visit_type.rooms]
    if block.room is not None:
        rooms = [r for r in rooms if r == block.room]
    if allowed is not None:
        rooms = [r for r in rooms if r.strip().casefold() in allowed]
    return rooms


def _overlapping(busy: list[Interval], starts: IntArray, ends: IntArray) -> npt.NDArray[np.bool_]:
    """For each visit [start, end): does it overlap any interval of ``busy``?"""
    if not busy:
        return np.zeros(starts.shape, dtype=bool)
    lo = np.fromiter((a for a, _ in busy), dtype=np.int64, count=len(busy))
    hi = np.fromiter((b for _, b in busy), dtype=np.int64, count=len(busy))
    # the first busy interval ending after the visit starts overlaps iff it starts before the visit ends
    idx = np.searchsorted(hi, starts, side="right")
    inside = idx < len(busy)
    return inside & (lo[np.minimum(idx, len(busy) - 1)] < ends)


def _buffers_clear(
    busy: Callable[..., list[Interval]], starts: IntArray, ends: IntArray, visit_type: VisitType | None
) -> npt.NDArray[np.bool_]:
    """For each visit: its resource is free of the busy items themselves (``busy(buffered=False)``) over the
    visit widened by its type's buffers. A buffer may overlap another visit's buffer, never a visit."""
    before, after = (visit_type.buffer_before, visit_type.buffer_after) if visit_type is not None else (0, 0)
    if not (before or after):
        return np.ones(starts.shape, dtype=bool)
    return ~_overlapping(busy(buffered=False), starts - before, ends + after)


def _clear(
    busy: Callable[..., list[Interval]], starts: IntArray, ends: IntArray, visit_type: VisitType | None
) -> npt.NDArray[np.bool_]:
    """For each visit: its resource is free of busy items with their buffers (``busy()``) over the visit,
    and of the items themselves over the visit with its own buffers."""
    return ~_overlapping(busy(), starts, ends) & _buffers_clear(busy, starts, ends, visit_type)


def _within_limits(
    limits: LimitIndex,
    provider_id: str,
    code: str | None,
    duration: int,
    zone: str,
    group: Sequence[Block],
    owner: npt.NDArray[np.intp],
    starts: IntArray,
    keep: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """``keep`` less the starts that would take the provider past a booking limit (``limits.py``), each
    start judged in its own block (its session), before overlapping blocks keep one per start."""
    applying = limits.applying(provider_id, code)
    if not applying:
        return keep
    rows = np.flatnonzero(keep)
    day, _ = _local(zone, group, owner[rows], starts[rows])
    kept = keep.copy()
    kept[rows] = limits.allows(applying, provider_id, duration, zone, day, group, owner[rows])
    return kept


def _local(
    zone: str, blocks: Sequence[Block], owner: npt.NDArray[np.intp], starts: IntArray
) -> tuple[IntArray, IntArray]:
    """Local day and minute of each start (the offset changes inside a block only on DST nights)."""
    at_start = np.array([zones.offset_at(zone, b.start) for b in blocks], dtype=np.int64)
    at_end = np.array([zones.offset_at(zone, b.end - 1) for b in blocks], dtype=np.int64)
    offset = at_start[owner]
    for i in np.flatnonzero(at_start[owner] != at_end[owner]):
        offset[i] = zones.offset_at(zone, int(starts[i]))
    local = starts + offset
    return local // 1440, local % 1440


def _shortest(clinic: Clinic, allowed: tuple[str, ...], known: dict[tuple[str, ...], int]) -> int:
    """The shortest visit a block allowing ``allowed`` (empty: every type) can hold (``known``: per search)."""
    if allowed not in known:
        durations = (v.duration for v in clinic.visit_types if not allowed or v.code in allowed)
        known[allowed] = min(durations, default=clinic.default_duration)
    return known[allowed]


class _Columns:
    """Accumulates candidate columns block by block."""

    names: tuple[str, ...] = tuple(f.name for f in attrs.fields(CandidateTable) if f.name not in ("search", "rooms"))

    def __init__(self) -> None:
        self.parts: dict[str, list[npt.NDArray[np.generic]]] = {n: [] for n in self.names}

    def add(self, **columns: npt.NDArray[np.generic]) -> None:
        for name in self.names:
            self.parts[name].append(columns[name])

    def table(self, search: Search, rooms: tuple[str, ...]) -> CandidateTable:
        columns: dict[str, Any] = {}
        for name, parts in self.parts.items():
            kind = bool if name.startswith("booked") else np.int64
            columns[name] = np.concatenate(parts).astype(kind) if parts else np.zeros(0, dtype=kind)
        return CandidateTable(search=search, rooms=rooms, **columns)


def search_blocks(prepared: PreparedClinic, search: Search, settings: Settings) -> list[Block]:
    """The blocks of the providers and locations in play, on the dates the window can touch."""
    first, last = local_dates(search.window_start, search.window_end)
    providers = {p.id for p in search.providers}
    locations = {loc.id for loc in search.locations}
    expanded = prepared.blocks(first, last, providers, settings.start_interval)
    return [b for b in expanded if b.location_id in locations]


def find_candidates(
    prepared: PreparedClinic, search: Search, request: SlotRequest, blocks: Sequence[Block]
) -> CandidateTable:
    """Every candidate start for a resolved search in ``blocks`` (see the module docstring for the rules)."""
    clinic, index = prepared.clinic, prepared.busy
    shortest: dict[tuple[str, ...], int] = {}
    provider_pos = {p.id: i for i, p in enumerate(search.providers)}
    patient_busy = merge((b.start, b.end) for b in index.patient_items(request.patient_ids))
    room_names: dict[str, int] = {}
    columns = _Columns()
    for vt_pos, visit_type in enumerate(search.visit_types):
        code = None if visit_type is None else visit_type.code
        groups: dict[tuple[str, str], list[Block]] = {}
        for block in blocks:
            if block.allows(code):
                groups.setdefault((block.provider_id, block.location_id), []).append(block)
        for (provider_id, _location_id), group in groups.items():
            found = _group_candidates(
                clinic, search, index, prepared.limits, vt_pos, group, patient_busy, room_names, shortest
            )
            if found is not None:
                found["provider"] = np.full(found["start"].shape, provider_pos[provider_id])
                columns.add(**found)
        if visit_type is not None and visit_type.seats > 1:  # a group visit: join a session with a free seat
            joins = _session_candidates(prepared, search, vt_pos, patient_busy, room_names)
            if joins is not None:
                columns.add(**joins)
    return columns.table(search, tuple(room_names))


def _copy(day: np.int64) -> IntArray:
    return np.array([day], dtype=np.int64)


def _session_candidates(
    prepared: PreparedClinic, search: Search, vt_pos: int, patient_busy: list[Interval], room_names: dict[str, int]
) -> dict[str, npt.NDArray[np.generic]] | None:
    """Candidate columns of the open sessions of a seated visit type (``slotfinder._solve.sessions``)."""
    visit_type = search.visit_types[vt_pos]
    assert visit_type is not None
    places = {loc.id: i for i, loc in enumerate(search.locations)}
    window = (search.window_start, search.window_end)
    sessions = open_sessions(prepared, search.providers, places, visit_type, window)
    if not sessions:
        return None
    starts = np.array([s.start for s in sessions], dtype=np.int64)
    ends = np.array([s.end for s in sessions], dtype=np.int64)
    keep = ~_overlapping(patient_busy, starts, ends)
    day = np.zeros(starts.shape, dtype=np.int64)
    minute = np.zeros(starts.shape, dtype=np.int64)
    room = np.full(starts.shape, -1, dtype=np.int64)
    for i, session in enumerate(sessions):
        location = search.locations[session.location]
        date, minute[i] = zones.local_of(location.time_zone, session.start)
        day[i] = (date - zones.EPOCH.date()).days
        horizon = within_horizon(visit_type, search.now, location.time_zone, starts[i : i + 1], partial(_copy, day[i]))
        keep[i] &= bool(horizon[0])
        allowed = search.room_filters[session.location]
        if allowed is not None and (session.room or "").strip().casefold() not in allowed:
            keep[i] = False
        if session.room is not None and keep[i]:
            room[i] = room_names.setdefault(session.room, len(room_names))
    rows = np.flatnonzero(keep)
    if rows.size == 0:
        return None
    length = (ends - starts)[rows]
    n = rows.size
    return {
        "start": starts[rows],
        "duration": length,
        "provider": np.array([sessions[i].provider for i in rows], dtype=np.int64),
        "location": np.array([sessions[i].location for i in rows], dtype=np.int64),
        "visit_type": np.full(n, vt_pos),
        "room": room[rows],
        "gap_before": np.zeros(n, dtype=np.int64),
        "gap_after": np.zeros(n, dtype=np.int64),
        "shortest": length,
        "booked_before": np.zeros(n, dtype=bool),
        "booked_after": np.zeros(n, dtype=bool),
        "local_minute": minute[rows],
        "local_day": day[rows],
    }


def _group_candidates(
    clinic: Clinic,
    search: Search,
    index: BusyIndex,
    limits: LimitIndex,
    vt_pos: int,
    group: list[Block],
    patient_busy: list[Interval],
    room_names: dict[str, int],
    shortest_of: dict[tuple[str, ...], int],
) -> dict[str, npt.NDArray[np.generic]] | None:
    """Candidate columns of one provider, location and visit type (all blocks at once)."""
    visit_type = search.visit_types[vt_pos]
    code = None if visit_type is None else visit_type.code
    duration = search.durations[vt_pos]
    provider_id, location_id = group[0].provider_id, group[0].location_id
    l_pos = next(i for i, loc in enumerate(search.locations) if loc.id == location_id)
    location = search.locations[l_pos]
    allowed_rooms = search.room_filters[l_pos]

    busy = index.provider_busy(provider_id, location_id, code, search.now)
    free = subtract(merge((b.start, b.end) for b in group), busy)
    if not free:
        return None
    starts, owner = aligned_grid(
        group, search.window_start, search.window_end - 1, search.alignment, location.time_zone, busy
    )
    ends = starts + duration
    free_lo = np.fromiter((a for a, _ in free), dtype=np.int64, count=len(free))
    free_hi = np.fromiter((b for _, b in free), dtype=np.int64, count=len(free))
    stretch = np.maximum(np.searchsorted(free_lo, starts, side="right") - 1, 0)
    keep = (free_lo[stretch] <= starts) & (free_hi[stretch] >= ends)
    keep &= ~_overlapping(patient_busy, starts, ends)
    keep &= within_horizon(
        visit_type, search.now, location.time_zone, starts, lambda: _local(location.time_zone, group, owner, starts)[0]
    )
    # the free stretch holds the visit clear of busy items with their buffers; its own buffers, of the items
    keep &= _buffers_clear(
        partial(index.provider_busy, provider_id, location_id, code, search.now), starts, ends, visit_type
    )
    for unit in visit_type.equipment if visit_type is not None else ():
        if unit not in location.equipment:  # the location has no such unit: nothing fits here
            return None
        keep &= _clear(partial(index.equipment_busy, location_id, unit, code, search.now), starts, ends, visit_type)
    pooled = pools_free(index, location, visit_type, search.now, starts, ends)
    if pooled is None:  # the location has too few units (or none) of a kind the visit type needs
        return None
    keep &= pooled

    room = np.full(starts.shape, -1, dtype=np.int64)
    if visit_type is not None and visit_type.needs_room:
        eligible = [_eligible_rooms(b, location, visit_type, allowed_rooms) for b in group]
        unassigned = keep.copy()
        for name in location.rooms:  # the first free eligible room, in the location's order
            allowed_here = np.array([name in rooms for rooms in eligible], dtype=bool)[owner]
            if not allowed_here.any():
                continue
            room_busy = partial(index.room_busy, location_id, name, code, search.now)
            fits = unassigned & allowed_here & _clear(room_busy, starts, ends, visit_type)
            room[fits] = room_names.setdefault(name, len(room_names))
            unassigned &= ~fits
        keep &= room >= 0
    elif allowed_rooms is not None:
        keep &= np.array([(b.room or "").strip().casefold() in allowed_rooms for b in group], dtype=bool)[owner]
    keep = _within_limits(limits, provider_id, code, duration, location.time_zone, group, owner, starts, keep)

    rows = np.flatnonzero(keep)
    if rows.size == 0:
        return None
    _, first_of_start = np.unique(starts[rows], return_index=True)  # overlapping blocks: one per start
    rows = rows[np.sort(first_of_start)]
    starts, ends, owner, stretch, room = starts[rows], ends[rows], owner[rows], stretch[rows], room[rows]
    day, minute = _local(location.time_zone, group, owner, starts)
    booking_starts, booking_ends = index.booking_edges(provider_id)
    shortest = np.array([_shortest(clinic, b.visit_types, shortest_of) for b in group], dtype=np.int64)
    n = starts.size
    return {
        "start": starts,
        "duration": np.full(n, duration),
        "location": np.full(n, l_pos),
        "visit_type": np.full(n, vt_pos),
        "room": room,
        "gap_before": starts - free_lo[stretch],
        "gap_after": free_hi[stretch] - ends,
        "shortest": shortest[owner],
        # the visit itself must touch the booking: its stretch's edge alone is not enough
        "booked_before": (starts == free_lo[stretch]) & np.isin(starts, np.array(booking_ends, dtype=np.int64)),
        "booked_after": (ends == free_hi[stretch]) & np.isin(ends, np.array(booking_starts, dtype=np.int64)),
        "local_minute": minute,
        "local_day": day,
    }
