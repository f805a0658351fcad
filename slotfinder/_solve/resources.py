"""Rooms, equipment units and pools in the candidate stage, as free masks per location.

A room, unit or pool belongs to a location, so its busy time is looked up once per location and
tested against the starts of every provider there at once (``candidates.py`` states the rules):

* every equipment unit the visit type needs must be at the location and clear for the visit;
* enough units of every pooled kind (``pools.py``);
* a visit type that needs a room takes the first free eligible room, in the location's order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from slotfinder._calendars.expand import BusyIndex
from slotfinder._calendars.intervals import Columns, overlapping
from slotfinder._domain import Location, VisitType
from slotfinder._solve.pools import pools_free

__all__ = ["Rows", "assign_rooms", "clear", "eligible_rooms", "equipment_and_pools", "serves"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
IntpArray = npt.NDArray[np.intp]


class Rows:
    """The candidate rows of one visit type so far: real starts and ends, the location of each, ``keep``."""

    __slots__ = ("ends", "keep", "location", "starts")

    def __init__(self, starts: IntArray, ends: IntArray, location: IntpArray, keep: BoolArray) -> None:
        self.starts, self.ends, self.location, self.keep = starts, ends, location, keep

    def at(self, place: int) -> IntpArray:
        """The rows at location ``place`` still kept."""
        return np.flatnonzero(self.keep & (self.location == place))


def clear(busy: Callable[..., Columns], starts: IntArray, ends: IntArray, visit_type: VisitType | None) -> BoolArray:
    """For each visit: its resource is free of busy items with their buffers (``busy()``) over the visit,
    and of the items themselves (``busy(buffered=False)``) over the visit with its own buffers."""
    ok = ~overlapping(busy(), starts, ends)
    before, after = (visit_type.buffer_before, visit_type.buffer_after) if visit_type is not None else (0, 0)
    if before or after:
        ok &= ~overlapping(busy(buffered=False), starts - before, ends + after)
    return ok


def serves(location: Location, visit_type: VisitType | None) -> bool:
    """The location has every equipment unit the visit type needs, and enough units of each pooled kind."""
    if visit_type is None:
        return True
    pools = {p.kind: p.units for p in location.pools}
    return all(unit in location.equipment for unit in visit_type.equipment) and all(
        need.units <= pools.get(need.kind, 0) for need in visit_type.needs
    )


def equipment_and_pools(
    index: BusyIndex, locations: Sequence[Location], visit_type: VisitType | None, now: int, rows: Rows
) -> None:
    """Drop from ``rows.keep`` the visits whose equipment units or pooled units are not free."""
    if visit_type is None or not (visit_type.equipment or visit_type.needs):
        return
    code = visit_type.code
    for place in np.unique(rows.location[rows.keep]).tolist():
        location = locations[place]
        here = rows.at(place)
        if not serves(location, visit_type):
            rows.keep[here] = False
            continue
        for unit in visit_type.equipment:
            busy = _bound(index.equipment_columns, location.id, unit, code, now)
            rows.keep[here] &= clear(busy, rows.starts[here], rows.ends[here], visit_type)
        here = rows.at(place)
        pooled = pools_free(index, location, visit_type, now, rows.starts[here], rows.ends[here])
        assert pooled is not None  # ``serves`` checked the pools
        rows.keep[here] &= pooled


def _bound(lookup: Callable[..., Columns], *args: object) -> Callable[..., Columns]:
    def busy(*, buffered: bool = True) -> Columns:
        return lookup(*args, buffered=buffered)

    return busy


def eligible_rooms(
    room: str | None, location: Location, visit_type: VisitType, allowed: frozenset[str] | None
) -> list[str]:
    """The rooms of ``location`` a visit of ``visit_type`` may take in a block kept for ``room`` (None: any)."""
    rooms = [r for r in location.rooms if not visit_type.rooms or r in visit_type.rooms]
    if room is not None:
        rooms = [r for r in rooms if r == room]
    if allowed is not None:
        rooms = [r for r in rooms if r.strip().casefold() in allowed]
    return rooms


def assign_rooms(
    index: BusyIndex,
    locations: Sequence[Location],
    visit_type: VisitType,
    now: int,
    rows: Rows,
    eligible: Callable[[int, int, IntpArray], BoolArray],
    room_names: dict[str, int],
) -> IntArray:
    """Each kept visit's room (index into ``room_names``; -1: none free): the first free eligible room in
    the location's order. ``eligible(place, position, rows)``: per row of ``rows``, whether its block may take
    the room at ``position`` of the location's rooms."""
    room = np.full(rows.starts.shape, -1, dtype=np.int64)
    for place in np.unique(rows.location[rows.keep]).tolist():
        location = locations[place]
        unassigned = rows.at(place)
        for position, name in enumerate(location.rooms):
            if unassigned.shape[0] == 0:
                break
            may = unassigned[eligible(place, position, unassigned)]
            if may.shape[0] == 0:
                continue
            busy = _bound(index.room_columns, location.id, name, visit_type.code, now)
            fits = may[clear(busy, rows.starts[may], rows.ends[may], visit_type)]
            room[fits] = room_names.setdefault(name, len(room_names))
            unassigned = unassigned[room[unassigned] < 0]
    return room
