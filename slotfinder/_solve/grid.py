"""The candidates of one visit type: every group's open starts at once, on one timeline (``timeline.py``).

The rules are those of ``candidates.py``; this module applies them to columns of starts: free time and
the grid over every (provider, location) group together, then the patient's appointments, the booking
horizon, the visit's own buffers, equipment, pools and rooms (per location, ``resources.py``), booking
limits (per provider that has one) and one row per start of a group (overlapping blocks).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from slotfinder._calendars import zones
from slotfinder._calendars.block_table import BlockTable
from slotfinder._calendars.busy_index import EDGE_BASE, EDGE_SPAN, BusyIndex
from slotfinder._calendars.intervals import Columns, merge_columns, overlapping, subtract_columns
from slotfinder._domain import Clinic, StartAlignment, VisitType
from slotfinder._prepared import PreparedClinic
from slotfinder._solve.alignment import Pieces, aligned_pieces
from slotfinder._solve.resolved import Search
from slotfinder._solve.resources import Rows, assign_rooms, eligible_rooms, equipment_and_pools, serves
from slotfinder._solve.timeline import (
    BASE,
    SPAN,
    BlockColumns,
    group_of,
    local_offsets,
    open_starts,
    window_slice,
)

__all__ = ["shortest_visit", "type_candidates"]

IntArray = npt.NDArray[np.int64]
IntpArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]
DAY = 1440


class _Groups:
    """The blocks of one visit type's search, their groups, and where each group lies on the line."""

    def __init__(self, prepared: PreparedClinic, search: Search, blocks: BlockTable) -> None:
        self.prepared, self.search = prepared, search
        self.cols = BlockColumns.of(blocks)
        place = {loc.id: i for i, loc in enumerate(search.locations)}
        who = {p.id: i for i, p in enumerate(search.providers)}
        self.location = np.array([place[loc] for _, loc in self.cols.keys], dtype=np.intp)
        self.provider = np.array([who[p] for p, _ in self.cols.keys], dtype=np.int64)
        self.shift = self.cols.shift
        zone_names = sorted({loc.time_zone for loc in search.locations})
        self.zone_names = zone_names
        self.zone_of_place = np.array([zone_names.index(loc.time_zone) for loc in search.locations], dtype=np.intp)

    def busy(
        self, lookup: Callable[..., Columns], code: str | None, now: int, pad: int, *, buffered: bool = True
    ) -> Columns:
        """Every group's busy time (``lookup(provider, location, code, now)``) shifted onto the line."""
        lo, hi = int(self.cols.start.min()) - pad, int(self.cols.end.max()) + pad
        index = self.prepared.busy
        plain = np.array([index.plain(location_id) for _, location_id in self.cols.keys], dtype=bool)
        first_lo, first_hi = self._plain_busy(plain, lo, hi, code, now, buffered)
        parts_lo, parts_hi = [first_lo], [first_hi]
        for g in np.flatnonzero(~plain).tolist():  # a closed location: looked up one group at a time
            provider_id, location_id = self.cols.keys[g]
            a, b = window_slice(lookup(provider_id, location_id, code, now, buffered=buffered), lo, hi)
            parts_lo.append(a + (g * SPAN + BASE))
            parts_hi.append(b + (g * SPAN + BASE))
        busy_lo, busy_hi = np.concatenate(parts_lo), np.concatenate(parts_hi)
        if len(parts_lo) > 1 and plain.any():  # both kinds: back in the order of the line
            order = np.argsort(busy_lo, kind="stable")
            busy_lo, busy_hi = busy_lo[order], busy_hi[order]
        return busy_lo, busy_hi

    def _plain_busy(self, plain: BoolArray, lo: int, hi: int, code: str | None, now: int, buffered: bool) -> Columns:
        """The busy time reaching into ``[lo, hi)`` of the groups at open locations, in group order: the
        providers' fixed time and the reserved blocks that keep ``code`` out at ``now``, from the line."""
        line = self.prepared.busy.provider_line(buffered)
        groups = np.flatnonzero(plain)
        rank = np.array([line.ranks.get(self.cols.keys[g][0], -1) for g in groups.tolist()], dtype=np.int64)
        groups, rank = groups[rank >= 0], rank[rank >= 0]  # a provider with no busy item has nothing here
        base = rank * EDGE_SPAN + EDGE_BASE
        move = groups.astype(np.int64) * SPAN + BASE - base  # from the provider's place to the group's
        fixed_lo, fixed_hi = line.fixed
        at, owner = _ranges(np.searchsorted(fixed_hi, base + lo, side="right"), np.searchsorted(fixed_lo, base + hi))
        busy_lo, busy_hi = fixed_lo[at] + move[owner], fixed_hi[at] + move[owner]
        held_lo, held_hi = line.reserved
        if held_lo.shape[0] == 0:
            return busy_lo, busy_hi
        first = np.searchsorted(held_lo, base + lo - line.longest)
        at, owner = _ranges(first, np.searchsorted(held_lo, base + hi))
        kept = (held_hi[at] > base[owner] + lo) & line.keeping_out(code, now)[at]
        if not kept.any():
            return busy_lo, busy_hi
        at, owner = at[kept], owner[kept]
        both_lo = np.concatenate((busy_lo, held_lo[at] + move[owner]))
        both_hi = np.concatenate((busy_hi, held_hi[at] + move[owner]))
        return merge_columns(both_lo, both_hi)

    def pieces(self, alignment: StartAlignment, index: BusyIndex, code: str | None, now: int) -> Pieces:
        """The blocks' pieces and anchors (``alignment.py``), in block order, shifted onto the line."""
        blocks, cols = self.cols.blocks, self.cols
        if alignment is StartAlignment.BLOCK:
            found = (blocks.start, blocks.end, blocks.start, blocks.step, np.arange(len(blocks), dtype=np.intp))
        else:
            parts: list[Pieces] = []
            for g, (provider_id, location_id) in enumerate(cols.keys):
                a, b = int(cols.bounds[g]), int(cols.bounds[g + 1])
                zone = self.search.locations[self.location[g]].time_zone
                busy = (
                    index.provider_busy(provider_id, location_id, code, now)
                    if alignment is StartAlignment.AFTER_BUSY
                    else []
                )
                start, end, anchor, step, owner = aligned_pieces(blocks[a:b], alignment, zone, busy)
                parts.append((start, end, anchor, step, (owner + a).astype(np.intp)))
            cat = [np.concatenate([p[c] for p in parts]) for c in range(4)]
            found = (cat[0], cat[1], cat[2], cat[3], np.concatenate([p[4] for p in parts]).astype(np.intp))
        start, end, anchor, step, owner = found
        shift = self.shift[owner]
        return start + shift, end + shift, anchor + shift, step, owner

    def local(self, owner: IntpArray, starts: IntArray) -> tuple[IntArray, IntArray]:
        """Local day and minute of each start (the offset read inside a block only on DST nights)."""
        zone = self.zone_of_place[self.location[self.cols.group[owner]]]
        offset = np.zeros(starts.shape, dtype=np.int64)
        for z in np.unique(zone).tolist():
            rows = np.flatnonzero(zone == z)
            table = self._offsets(z)
            at_start = local_offsets(table, self.cols.start[owner[rows]])
            at_end = local_offsets(table, self.cols.end[owner[rows]] - 1)
            steady = at_start == at_end
            offset[rows] = at_start
            if not steady.all():
                moving = rows[~steady]
                offset[moving] = local_offsets(table, starts[moving])
        local = starts + offset
        return local // DAY, local % DAY

    def _offsets(self, z: int) -> Columns:
        """The offsets of zone ``z`` over every block's time (the prepared clinic keeps them)."""
        return self.prepared.zone_offsets(self.zone_names[z], int(self.cols.start.min()), int(self.cols.end.max()))


def type_candidates(
    prepared: PreparedClinic,
    search: Search,
    vt_pos: int,
    blocks: BlockTable,
    patient_busy: Columns,
    room_names: dict[str, int],
    shortest_of: Callable[[tuple[str, ...]], int],
) -> dict[str, npt.NDArray[np.generic]] | None:
    """Candidate columns of one visit type in ``blocks`` (those that allow it, sorted by provider and
    location), in the order of the groups, then of the blocks, then of the starts."""
    index, now = prepared.busy, search.now
    visit_type = search.visit_types[vt_pos]
    code = None if visit_type is None else visit_type.code
    duration = search.durations[vt_pos]
    before, after = (visit_type.buffer_before, visit_type.buffer_after) if visit_type is not None else (0, 0)
    groups = _Groups(prepared, search, blocks)
    cols = groups.cols
    pad = max(before, after) + 1
    busy = groups.busy(index.provider_columns, code, now, pad)
    free = subtract_columns(merge_columns(cols.start + groups.shift, cols.end + groups.shift), busy)
    pieces = groups.pieces(search.alignment, index, code, now)
    shift = groups.shift[pieces[4]]
    lo, hi = search.window_start + shift, search.window_end - 1 + shift
    shifted, owner, stretch = open_starts(pieces, free, duration, lo, hi)
    group = cols.group[owner]
    starts = shifted - groups.shift[owner]
    ends = starts + duration
    rows = Rows(starts, ends, groups.location[group], ~overlapping(patient_busy, starts, ends))
    _horizon(groups, visit_type, now, owner, rows)
    if before or after:  # the free stretch holds the visit clear of busy items with their buffers; its own
        own = groups.busy(index.provider_columns, code, now, pad, buffered=False)
        kept = np.flatnonzero(rows.keep)
        rows.keep[kept] &= ~overlapping(own, shifted[kept] - before, shifted[kept] + duration + after)
    equipment_and_pools(index, search.locations, visit_type, now, rows)
    room = np.full(starts.shape, -1, dtype=np.int64)
    if visit_type is not None and visit_type.needs_room:
        eligible = _Eligible(groups, visit_type, owner)
        _register_rooms(groups, visit_type, eligible, pieces, lo, hi, free, room_names)
        room = assign_rooms(index, search.locations, visit_type, now, rows, eligible, room_names)
        rows.keep &= room >= 0
    elif any(f is not None for f in search.room_filters):
        rows.keep &= _room_allowed(groups)[owner]
    _limits(prepared, groups, code, duration, owner, rows)
    kept = np.flatnonzero(rows.keep)
    if kept.shape[0] == 0:
        return None
    if np.any(shifted[kept][1:] <= shifted[kept][:-1]):  # overlapping blocks: one row per start of a group
        _, first = np.unique(shifted[kept], return_index=True)
        kept = kept[np.sort(first)]
    shifted, owner, stretch, room, group = shifted[kept], owner[kept], stretch[kept], room[kept], group[kept]
    starts, ends = starts[kept], ends[kept]
    day, minute = groups.local(owner, starts)
    free_lo, free_hi = free[0][stretch], free[1][stretch]
    n = starts.shape[0]
    return {
        "start": starts,
        "duration": np.full(n, duration),
        "provider": groups.provider[group],
        "location": groups.location[group].astype(np.int64),
        "visit_type": np.full(n, vt_pos),
        "room": room,
        "gap_before": shifted - free_lo,
        "gap_after": free_hi - (shifted + duration),
        "shortest": _shortest(cols, owner, shortest_of),
        # the visit itself must touch the booking: its stretch's edge alone is not enough
        "booked_before": _touches(index, groups, group, shifted == free_lo, starts, 1),
        "booked_after": _touches(index, groups, group, shifted + duration == free_hi, ends, 0),
        "local_minute": minute,
        "local_day": day,
    }


def _ranges(first: IntpArray, last: IntpArray) -> tuple[IntpArray, IntpArray]:
    """Every index of ``[first[i], last[i])`` over all ``i`` (in order), and the ``i`` it belongs to."""
    count = np.maximum(last - first, 0)
    owner = np.repeat(np.arange(first.shape[0]), count)
    return np.arange(owner.shape[0]) - np.repeat(np.cumsum(count) - count, count) + first[owner], owner


def _horizon(groups: _Groups, visit_type: VisitType | None, now: int, owner: IntpArray, rows: Rows) -> None:
    """A visit type's notice and advance limits (``horizon.py``), local dates at each start's location."""
    if visit_type is None:
        return
    if visit_type.min_notice_minutes:
        rows.keep &= rows.starts >= now + visit_type.min_notice_minutes
    if visit_type.max_advance_days is not None:
        kept = np.flatnonzero(rows.keep)
        day, _ = groups.local(owner[kept], rows.starts[kept])
        zone = groups.zone_of_place[rows.location[kept]]
        today = np.array(
            [(zones.local_of(name, now)[0] - zones.EPOCH.date()).days for name in groups.zone_names], dtype=np.int64
        )
        rows.keep[kept] &= day <= today[zone] + visit_type.max_advance_days


def _limits(
    prepared: PreparedClinic, groups: _Groups, code: str | None, duration: int, owner: IntpArray, rows: Rows
) -> None:
    """Booking limits (``limits.py``): each kept start judged in its own block, per provider with a limit."""
    limits, cols = prepared.limits, groups.cols
    group = cols.group[owner]
    for g, (provider_id, _) in enumerate(cols.keys):
        applying = limits.applying(provider_id, code)
        if not applying:
            continue
        here = np.flatnonzero(rows.keep & (group == g))
        if here.shape[0] == 0:
            continue
        a, b = int(cols.bounds[g]), int(cols.bounds[g + 1])
        zone = groups.zone_names[groups.zone_of_place[groups.location[g]]]
        day, _ = groups.local(owner[here], rows.starts[here])
        rows.keep[here] = limits.allows(applying, provider_id, duration, zone, day, cols.blocks[a:b], owner[here] - a)


class _Eligible:
    """Whether each row's block may take a room: per location and room name, from the block's own room."""

    def __init__(self, groups: _Groups, visit_type: VisitType, owner: IntpArray) -> None:
        self.key = groups.cols.blocks.room
        self.kinds = groups.cols.blocks.rooms
        self.row_key = self.key[owner]
        self.groups, self.visit_type = groups, visit_type
        self._known: dict[int, BoolArray] = {}

    def matrix(self, place: int) -> BoolArray:
        """Block room key x room of location ``place`` (in its order): a block so kept may take the room."""
        found = self._known.get(place)
        if found is None:
            search = self.groups.search
            location, allowed = search.locations[place], search.room_filters[place]
            found = np.array(
                [
                    [name in eligible_rooms(kind, location, self.visit_type, allowed) for name in location.rooms]
                    for kind in self.kinds
                ],
                dtype=bool,
            ).reshape(len(self.kinds), len(location.rooms))
            self._known[place] = found
        return found

    def __call__(self, place: int, position: int, rows: IntpArray) -> BoolArray:
        """For ``rows`` (at location ``place``): whether each may take the location's room at ``position``."""
        may: BoolArray = self.matrix(place)[self.row_key[rows], position]
        return may


def _register_rooms(
    groups: _Groups,
    visit_type: VisitType,
    eligible: _Eligible,
    pieces: Pieces,
    lo: IntArray,
    hi: IntArray,
    free: Columns,
    room_names: dict[str, int],
) -> None:
    """Number the room names as the per-group engine did: group by group (those with free time at a location
    that serves the visit type), each room of the location that some block with a grid start may take."""
    cols = groups.cols
    start, end, anchor, step, owner = pieces
    at = anchor - ((anchor - np.maximum(start, lo)) // step) * step  # as ``alignment.steps`` counts them
    many = np.maximum((np.minimum(end - 1, hi) - at) // step + 1, 0)
    has_grid = np.bincount(owner, weights=many, minlength=len(cols.blocks)) > 0
    has_free = np.bincount(group_of(free[0]), minlength=len(cols.keys)) > 0
    kinds = len(cols.blocks.rooms)
    pairs = np.unique(cols.group[has_grid].astype(np.int64) * kinds + cols.blocks.room[has_grid])
    has_kind = np.zeros((len(cols.keys), kinds), dtype=bool)
    has_kind[pairs // kinds, pairs % kinds] = True
    first: dict[str, tuple[int, int]] = {}  # each name: the first (group, position) that numbers it
    for place in np.unique(groups.location).tolist():
        location = groups.search.locations[place]
        if not serves(location, visit_type) or not location.rooms:
            continue
        here = np.flatnonzero((groups.location == place) & has_free[: len(cols.keys)])
        takes = (has_kind[here].astype(np.int64) @ eligible.matrix(place).astype(np.int64)) > 0
        for position, name in enumerate(location.rooms):
            hit = np.flatnonzero(takes[:, position])
            if hit.shape[0]:
                first[name] = min(first.get(name, (len(cols.keys), 0)), (int(here[hit[0]]), position))
    for name in sorted(first, key=first.__getitem__):
        room_names.setdefault(name, len(room_names))


def _room_allowed(groups: _Groups) -> BoolArray:
    """Per block: its room is one the request allows at its location (a location with no room filter: any)."""
    table = groups.cols.blocks
    allowed = np.array(
        [[f is None or (r or "").strip().casefold() in f for r in table.rooms] for f in groups.search.room_filters],
        dtype=bool,
    ).reshape(len(groups.search.room_filters), len(table.rooms))
    return allowed[groups.location[groups.cols.group], table.room]


def _shortest(cols: BlockColumns, owner: IntpArray, shortest_of: Callable[[tuple[str, ...]], int]) -> IntArray:
    """Per row: the shortest visit its block allows."""
    kinds = cols.blocks.visit_types
    per_kind = np.array([shortest_of(k) for k in kinds], dtype=np.int64)
    return per_kind[cols.blocks.kinds[owner]] if kinds else np.zeros(owner.shape, dtype=np.int64)


def _touches(
    index: BusyIndex, groups: _Groups, group: IntpArray, edge: BoolArray, instants: IntArray, which: int
) -> BoolArray:
    """Per row with ``edge``: ``instants`` is a booking start (``which`` 0) or end (1) of its provider."""
    out = np.zeros(instants.shape, dtype=bool)
    ranks, columns = index.booking_edge_keys()
    edges = columns[which]
    rows = np.flatnonzero(edge)
    if rows.shape[0] == 0 or edges.shape[0] == 0:
        return out
    rank = np.array([ranks.get(provider_id, -1) for provider_id, _ in groups.cols.keys], dtype=np.int64)[group[rows]]
    keys = rank * EDGE_SPAN + EDGE_BASE + instants[rows]
    at = np.minimum(np.searchsorted(edges, keys), edges.shape[0] - 1)
    out[rows] = (rank >= 0) & (edges[at] == keys)
    return out


def shortest_visit(clinic: Clinic) -> Callable[[tuple[str, ...]], int]:
    """The shortest visit a block allowing ``allowed`` (empty: every type) can hold, memoised per search."""
    known: dict[tuple[str, ...], int] = {}

    def shortest(allowed: tuple[str, ...]) -> int:
        if allowed not in known:
            durations = (v.duration for v in clinic.visit_types if not allowed or v.code in allowed)
            known[allowed] = min(durations, default=clinic.default_duration)
        return known[allowed]

    return shortest
