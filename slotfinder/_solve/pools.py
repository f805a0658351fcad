"""Pooled resources in the candidate stage: enough free units of each kind a visit type needs.

A location's pool of a kind has N interchangeable units; busy items with ``pool`` occupy
``pool_units`` of them (over their buffered time, ``BusyIndex.pool_busy``). A visit needing k units
fits when, at every minute of the visit, the units occupied are at most N - k, and, with buffers, at
every minute of the visit widened by its own buffers the items themselves (unbuffered) occupy at most
N - k: the same two checks as a room or an equipment unit (``candidates._clear``), with a count in
place of "free or not".

Occupancy is a step function: sorted change points and the units occupied from each one on. The
largest value over each visit's span is a range maximum over the change points inside it, answered
for every visit at once by a sparse table (O(n log n) to build, O(1) per visit).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from slotfinder._calendars.expand import BusyIndex
from slotfinder._domain import Location, VisitType

__all__ = ["most_occupied", "pools_free"]

IntArray = npt.NDArray[np.int64]


def _steps(spans: Sequence[tuple[int, int, int]]) -> tuple[IntArray, IntArray]:
    """Change points and the units occupied from each on (a first point far in the past with 0)."""
    deltas: dict[int, int] = {}
    for start, end, units in spans:
        deltas[start] = deltas.get(start, 0) + units
        deltas[end] = deltas.get(end, 0) - units
    points = sorted(deltas)
    times = np.array([np.iinfo(np.int64).min, *points], dtype=np.int64)
    levels = np.cumsum(np.array([0, *(deltas[t] for t in points)], dtype=np.int64))
    return times, levels


def most_occupied(spans: Sequence[tuple[int, int, int]], starts: IntArray, ends: IntArray) -> IntArray:
    """For each span [start, end) (end > start): the most units ``spans`` (start, end, units) occupy at once."""
    if not spans:
        return np.zeros(starts.shape, dtype=np.int64)
    times, levels = _steps(spans)
    first = np.searchsorted(times, starts, side="right") - 1  # the step in force at the start
    last = np.searchsorted(times, ends, side="left") - 1  # the last step beginning before the end
    table = [levels]  # table[j][i]: the maximum of levels[i : i + 2**j]
    while (1 << len(table)) <= levels.size:
        half, previous = 1 << (len(table) - 1), table[-1]
        table.append(np.maximum(previous[:-half], previous[half:]))
    width = last - first + 1
    level = np.floor(np.log2(width)).astype(np.int64)
    out = np.empty(starts.shape, dtype=np.int64)
    for j in np.unique(level):
        rows = level == j
        row = table[int(j)]
        out[rows] = np.maximum(row[first[rows]], row[last[rows] - (1 << int(j)) + 1])
    return out


def pools_free(
    index: BusyIndex,
    location: Location,
    visit_type: VisitType | None,
    now: int,
    starts: IntArray,
    ends: IntArray,
) -> npt.NDArray[np.bool_] | None:
    """For each visit: the location has the units of every kind the visit type needs free (see the module
    docstring). None when the location cannot serve the type at all (a kind missing or too small)."""
    keep = np.ones(starts.shape, dtype=bool)
    if visit_type is None or not visit_type.needs:
        return keep
    pools = {p.kind: p.units for p in location.pools}
    code = visit_type.code
    for need in visit_type.needs:
        total = pools.get(need.kind, 0)
        if need.units > total:
            return None
        spare = total - need.units  # units others may occupy at once
        buffered = index.pool_busy(location.id, need.kind, code, now)
        keep &= most_occupied(buffered, starts, ends) <= spare
        if visit_type.buffer_before or visit_type.buffer_after:
            own = index.pool_busy(location.id, need.kind, code, now, buffered=False)
            reach = most_occupied(own, starts - visit_type.buffer_before, ends + visit_type.buffer_after)
            keep &= reach <= spare
    return keep
