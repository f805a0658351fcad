"""Stage 1: every open start, by interval arithmetic over integer minutes.

For each provider, location and visit type the free time is the union of the blocks that allow the
visit type, minus the provider's busy time and the location's closures. Starts step through each
block from its start instant; a start is a candidate when the whole visit fits in free time, a room
the visit needs is free for all of it, the patient has no appointment then, and it lies in
``[max(window start, now + notice), window end)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np
import numpy.typing as npt
from attrs import frozen

from slotfinder.calendars import zones
from slotfinder.calendars.expand import Block, BusyIndex, expand_blocks, local_dates
from slotfinder.calendars.intervals import Interval, merge, subtract
from slotfinder.domain import Clinic, Location, LocationFilter, Provider, SlotRequest, VisitType
from slotfinder.settings import Settings

__all__ = ["CandidateTable", "Search", "busy_index", "find_candidates", "location_room_filter"]

IntArray = npt.NDArray[np.int64]
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)
# A room has no template of its own: it is open whenever its provider works, less its busy time.
_ALWAYS_OPEN: list[Interval] = [(-(1 << 40), 1 << 40)]


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


def location_room_filter(location: Location, filters: Sequence[LocationFilter]) -> frozenset[str] | None | bool:
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


def _covering(free: list[Interval], starts: IntArray, ends: IntArray) -> npt.NDArray[np.bool_]:
    """For each visit [start, end): does one interval of ``free`` hold all of it?"""
    if not free:
        return np.zeros(starts.shape, dtype=bool)
    lo = np.fromiter((a for a, _ in free), dtype=np.int64, count=len(free))
    hi = np.fromiter((b for _, b in free), dtype=np.int64, count=len(free))
    idx = np.searchsorted(lo, starts, side="right") - 1
    ok = idx >= 0
    return ok & (hi[np.maximum(idx, 0)] >= ends)


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


def _local(zone: str, block: Block, starts: IntArray) -> tuple[IntArray, IntArray]:
    """Local day and minute of each start (the offset changes inside a block only on DST nights)."""
    first = zones.offset_at(zone, block.start)
    if first == zones.offset_at(zone, block.end - 1):
        local = starts + first
    else:
        local = starts + np.array([zones.offset_at(zone, int(s)) for s in starts], dtype=np.int64)
    return local // 1440, local % 1440


def _shortest(clinic: Clinic, block: Block) -> int:
    durations = [v.duration for v in clinic.visit_types if not block.visit_types or v.code in block.visit_types]
    return min(durations, default=clinic.default_duration)


class _Columns:
    """Accumulates candidate columns block by block."""

    names = (
        "start duration provider location visit_type room gap_before gap_after shortest "
        "booked_before booked_after local_minute local_day"
    ).split()

    def __init__(self) -> None:
        self.parts: dict[str, list[npt.NDArray[np.generic]]] = {n: [] for n in self.names}

    def add(self, **columns: npt.NDArray[np.generic]) -> None:
        for name in self.names:
            self.parts[name].append(columns[name])

    def table(self, search: Search, rooms: tuple[str, ...]) -> CandidateTable:
        def column(name: str) -> npt.NDArray[np.generic]:
            kind = bool if name.startswith("booked") else np.int64
            parts = self.parts[name]
            return np.concatenate(parts).astype(kind) if parts else np.zeros(0, dtype=kind)

        return CandidateTable(search=search, rooms=rooms, **{n: column(n) for n in self.names})


def find_candidates(clinic: Clinic, search: Search, request: SlotRequest, settings: Settings) -> CandidateTable:
    """Every candidate start for a resolved search (see the module docstring for the rules)."""
    index = busy_index(clinic)
    first, last = local_dates(search.window_start, search.window_end)
    provider_pos = {p.id: i for i, p in enumerate(search.providers)}
    location_pos = {loc.id: i for i, loc in enumerate(search.locations)}
    blocks = [
        b
        for b in expand_blocks(clinic, first, last, provider_pos, settings.start_interval)
        if b.location_id in location_pos
    ]
    patient_busy = merge((b.start, b.end) for b in index.patient_items(request.patient_ids))
    room_names: dict[str, int] = {}
    room_free: dict[tuple[str, str], list[Interval]] = {}
    columns = _Columns()

    for vt_pos, visit_type in enumerate(search.visit_types):
        code = None if visit_type is None else visit_type.code
        duration = search.durations[vt_pos]
        groups: dict[tuple[str, str], list[Block]] = {}
        for block in blocks:
            if block.allows(code):
                groups.setdefault((block.provider_id, block.location_id), []).append(block)
        for (provider_id, location_id), group in groups.items():
            l_pos = location_pos[location_id]
            location = search.locations[l_pos]
            allowed_rooms = search.room_filters[l_pos]
            stretch = merge((b.start, b.end) for b in group)
            free = subtract(stretch, index.provider_busy(provider_id, location_id, code, search.now))
            booking_starts, booking_ends = index.booking_edges(provider_id)
            for block in group:
                if visit_type is not None and visit_type.needs_room:
                    rooms = _eligible_rooms(block, location, visit_type, allowed_rooms)
                    if not rooms:
                        continue
                else:
                    rooms = []
                    if allowed_rooms is not None and (block.room or "").strip().casefold() not in allowed_rooms:
                        continue
                for a, b in free:
                    lo = max(a, block.start, search.window_start)
                    hi = min(b - duration, block.end - 1, search.window_end - 1)
                    if lo > hi:
                        continue
                    k0 = -((block.start - lo) // block.step)  # ceil((lo - start) / step)
                    starts = np.arange(block.start + k0 * block.step, hi + 1, block.step, dtype=np.int64)
                    if starts.size == 0:
                        continue
                    ends = starts + duration
                    keep = ~_overlapping(patient_busy, starts, ends)
                    room_col = np.full(starts.shape, -1, dtype=np.int64)
                    if rooms:
                        unassigned = keep.copy()
                        for room in rooms:
                            key = (location_id, room)
                            if key not in room_free:
                                room_free[key] = subtract(_ALWAYS_OPEN, index.room_busy(location_id, room, search.now))
                            fits = unassigned & _covering(room_free[key], starts, ends)
                            room_col[fits] = room_names.setdefault(room, len(room_names))
                            unassigned &= ~fits
                        keep &= room_col >= 0
                    if not keep.any():
                        continue
                    starts, ends, room_col = starts[keep], ends[keep], room_col[keep]
                    day, minute = _local(location.time_zone, block, starts)
                    n = starts.size
                    columns.add(
                        start=starts,
                        duration=np.full(n, duration),
                        provider=np.full(n, provider_pos[provider_id]),
                        location=np.full(n, l_pos),
                        visit_type=np.full(n, vt_pos),
                        room=room_col,
                        gap_before=starts - a,
                        gap_after=b - ends,
                        shortest=np.full(n, _shortest(clinic, block)),
                        booked_before=np.full(n, a in booking_ends),
                        booked_after=np.full(n, b in booking_starts),
                        local_minute=minute,
                        local_day=day,
                    )
    return columns.table(search, tuple(room_names))


_INDEX_CACHE: dict[int, tuple[Clinic, BusyIndex]] = {}


def busy_index(clinic: Clinic) -> BusyIndex:
    """The busy index of a clinic, built once per clinic object (clinics are immutable)."""
    hit = _INDEX_CACHE.get(id(clinic))
    if hit is not None and hit[0] is clinic:
        return hit[1]
    if len(_INDEX_CACHE) > 8:
        _INDEX_CACHE.clear()
    index = BusyIndex(clinic.busy)
    _INDEX_CACHE[id(clinic)] = (clinic, index)
    return index
