"""Stage 1: every open start, by interval arithmetic over integer minutes.

For each provider, location and visit type the free time is the union of the blocks that allow the
visit type, minus the provider's busy time and the location's closures. Starts step through each
block from its start instant; a start is a candidate when the whole visit fits in free time, a room
the visit needs is free for all of it, the patient has no appointment then, and it lies in
``[max(window start, now + notice), window end)``. Equipment the visit type needs must be at the
location and free for all of the visit, and enough units of each pooled kind it needs (``pools.py``).
Other start alignments (clock, after busy) are in
``alignment.py``; a visit type's notice and advance limits in ``horizon.py``, its rolling dates in
``rolling.py``. The work runs on columns, every provider and location of a search on one timeline
(``grid.py``, ``timeline.py``; rooms, equipment and pools per location in ``resources.py``).

Buffers: busy items of a visit type with buffers occupy them too (the busy index widens them), and a
visit's own buffers must be clear of the items themselves for its provider, room and equipment
(neighbouring buffers may overlap). Booking limits drop the starts that would take their provider
past a limit (``limits.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
from attrs import frozen

from slotfinder._calendars import zones
from slotfinder._calendars.block_table import BlockTable
from slotfinder._calendars.expand import Block, local_dates
from slotfinder._calendars.intervals import Interval, as_columns, merge
from slotfinder._domain import Location, LocationFilter, SlotRequest
from slotfinder._prepared import PreparedClinic
from slotfinder._settings import Settings
from slotfinder._solve.grid import shortest_visit, type_candidates
from slotfinder._solve.horizon import within_horizon
from slotfinder._solve.resolved import Search
from slotfinder._solve.sessions import open_sessions

__all__ = ["CandidateTable", "Search", "find_candidates", "location_room_filter", "search_blocks"]

IntArray = npt.NDArray[np.int64]
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


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


def search_blocks(prepared: PreparedClinic, search: Search, settings: Settings) -> BlockTable:
    """The blocks of the providers and locations in play, on the dates the window can touch."""
    first, last = local_dates(search.window_start, search.window_end)
    providers = {p.id for p in search.providers}
    expanded = prepared.block_table(first, last, providers, settings.start_interval)
    return expanded.take(expanded.at_locations({loc.id for loc in search.locations}))


def find_candidates(
    prepared: PreparedClinic, search: Search, request: SlotRequest, blocks: Sequence[Block]
) -> CandidateTable:
    """Every candidate start for a resolved search in ``blocks`` (see the module docstring for the rules)."""
    index = prepared.busy
    shortest = shortest_visit(prepared.clinic)
    patient_busy = merge((b.start, b.end) for b in index.patient_items(request.patient_ids))
    room_names: dict[str, int] = {}
    columns = _Columns()
    table = BlockTable.of(blocks)
    for vt_pos, visit_type in enumerate(search.visit_types):
        code = None if visit_type is None else visit_type.code
        allowing = table.take(table.allows(code))
        if len(allowing):
            found = type_candidates(prepared, search, vt_pos, allowing, as_columns(patient_busy), room_names, shortest)
            if found is not None:
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
