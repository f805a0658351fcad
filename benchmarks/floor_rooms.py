"""The floor's rooms and equipment (see ``benchmarks/floor.py``), read from docs/clinic-format.md.

A visit type with ``needs_room`` takes a free eligible room of the location: listed in the type's
``rooms`` (when given) and equal to the block's ``room`` (when it names one); which room does not
change the candidate, only whether one is free for all of the visit. Each equipment unit the type
names must be a unit of the location and free for all of the visit. A room or unit is busy where an
item occupies it (a block reserved for visit types only for the others, until released); closures of
the location keep the provider out already. Every room and unit is a resource on one line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from benchmarks.floor_blocks import Rules
from benchmarks.floor_busy import BASE, SPAN, Timeline
from slotfinder import Busy, Clinic, VisitType

__all__ = ["Resources"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Resources:
    """Rooms and equipment units of every location, each a resource of one busy line."""

    index: dict[tuple[int, str, str], int]  # (location index, "room" or "unit", name) -> resource
    rooms: tuple[tuple[str, ...], ...]  # per location index, in the location's order
    units: tuple[frozenset[str], ...]
    line: Timeline

    @staticmethod
    def of(clinic: Clinic, rules: Rules, codes: dict[str, int]) -> Resources:
        l_of = {loc: i for i, loc in enumerate(rules.location_ids)}
        by_id = {loc.id: loc for loc in clinic.locations}
        places = [by_id[loc] for loc in rules.location_ids]
        index: dict[tuple[int, str, str], int] = {}
        for i, place in enumerate(places):
            for name in place.rooms:
                index[(i, "room", name)] = len(index)
            for name in place.equipment:
                index[(i, "unit", name)] = len(index)
        rows: list[tuple[int, Busy]] = []
        for item in clinic.busy:
            where = l_of.get(item.location_id or "")
            if where is None:
                continue
            if item.room is not None and (where, "room", item.room) in index:
                rows.append((index[(where, "room", item.room)], item))
            if item.equipment is not None and (where, "unit", item.equipment) in index:
                rows.append((index[(where, "unit", item.equipment)], item))
        return Resources(
            index,
            tuple(p.rooms for p in places),
            tuple(frozenset(p.equipment) for p in places),
            Timeline.of(rows, codes),
        )

    def free(
        self,
        rules: Rules,
        visit_type: VisitType,
        rule: IntArray,
        location: IntArray,
        starts: IntArray,
        duration: int,
        code: int,
        now: int,
    ) -> BoolArray:
        """For each start (of a block of ``rule`` at ``location``): its rooms and units allow the visit."""
        ok = np.ones(starts.shape, dtype=bool)
        for unit in visit_type.equipment:  # every unit, at the location, free all visit long
            has = np.array([unit in here for here in self.units], dtype=bool)[location]
            resource = np.array([self.index.get((i, "unit", unit), -1) for i in range(len(self.units))])[location]
            ok &= has
            rows = np.flatnonzero(ok)
            ok[rows] = ~self._busy(resource[rows], starts[rows], duration, code, now)
        if not visit_type.needs_room:
            return ok
        # eligible rooms per (location, rule) combination, padded with -1; tried in turn until one is free
        combo, which = np.unique(location * len(rules.rooms) + rule, return_inverse=True)
        eligible = [
            self._eligible(rules, visit_type, int(c) // len(rules.rooms), int(c) % len(rules.rooms)) for c in combo
        ]
        width = max((len(e) for e in eligible), default=0)
        table = np.full((len(eligible), max(width, 1)), -1, dtype=np.int64)
        for i, rooms in enumerate(eligible):
            table[i, : len(rooms)] = rooms
        found = np.zeros(starts.shape, dtype=bool)
        for k in range(width):
            rows = np.flatnonzero(ok & ~found & (table[which, k] >= 0))
            found[rows] = ~self._busy(table[which[rows], k], starts[rows], duration, code, now)
        return ok & found

    def _eligible(self, rules: Rules, visit_type: VisitType, location: int, rule: int) -> list[int]:
        block_room = rules.rooms[rule]
        return [
            self.index[(location, "room", name)]
            for name in self.rooms[location]
            if (not visit_type.rooms or name in visit_type.rooms) and (block_room is None or name == block_room)
        ]

    def _busy(self, resource: IntArray, starts: IntArray, duration: int, code: int, now: int) -> BoolArray:
        shift = resource * SPAN - BASE
        return self.line.hits(starts + shift, starts + duration + shift, code, now)
