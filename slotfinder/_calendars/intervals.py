"""Interval algebra on integer minutes: half-open ``(start, end)`` pairs, kept sorted and disjoint."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

__all__ = [
    "Columns",
    "Interval",
    "as_columns",
    "merge",
    "merge_columns",
    "overlapping",
    "subtract",
    "subtract_columns",
]

Interval = tuple[int, int]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Union: sorted, disjoint, with touching intervals joined (adjacent blocks form one stretch)."""
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def subtract(free: list[Interval], busy: list[Interval]) -> list[Interval]:
    """``free`` minus ``busy``; both sorted and disjoint (as :func:`merge` returns them)."""
    out: list[Interval] = []
    j = 0
    for start, end in free:
        cursor = start
        while j < len(busy) and busy[j][1] <= cursor:
            j += 1
        k = j
        while k < len(busy) and busy[k][0] < end:
            b_start, b_end = busy[k]
            if b_start > cursor:
                out.append((cursor, b_start))
            cursor = max(cursor, b_end)
            if cursor >= end:
                break
            k += 1
        if cursor < end:
            out.append((cursor, end))
    return out


# The same algebra on numpy columns ``(lo, hi)``: what the candidate stage runs on one timeline.

IntArray = npt.NDArray[np.int64]
Columns = tuple[IntArray, IntArray]


def as_columns(intervals: list[Interval]) -> Columns:
    """Sorted, disjoint ``intervals`` (as :func:`merge` returns them) as two columns."""
    if not intervals:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    both = np.array(intervals, dtype=np.int64)
    return np.ascontiguousarray(both[:, 0]), np.ascontiguousarray(both[:, 1])


def merge_columns(lo: IntArray, hi: IntArray) -> Columns:
    """:func:`merge` of intervals given as columns, in any order."""
    nonempty = hi > lo
    lo, hi = lo[nonempty], hi[nonempty]
    if lo.shape[0] == 0:
        return lo, hi
    order = np.argsort(lo, kind="stable")
    lo, hi = lo[order], hi[order]
    reach = np.maximum.accumulate(hi)
    first = np.flatnonzero(np.concatenate(([True], lo[1:] > reach[:-1])))  # touching intervals join
    last = np.concatenate((first[1:] - 1, [lo.shape[0] - 1]))
    return lo[first], reach[last]


def subtract_columns(free: Columns, busy: Columns) -> Columns:
    """:func:`subtract` on columns: ``free`` minus ``busy``, both sorted and disjoint (merged)."""
    free_lo, free_hi = free
    busy_lo, busy_hi = busy
    if busy_lo.shape[0] == 0 or free_lo.shape[0] == 0:
        return free_lo, free_hi
    # the gaps between busy intervals (merged, so never empty), and their intersections with free time
    gap_lo = np.concatenate(([np.iinfo(np.int64).min], busy_hi))
    gap_hi = np.concatenate((busy_lo, [np.iinfo(np.int64).max]))
    first = np.searchsorted(gap_hi, free_lo, side="right")
    count = np.maximum(np.searchsorted(gap_lo, free_hi, side="left") - first, 0)
    of = np.repeat(np.arange(free_lo.shape[0]), count)
    gap = np.arange(of.shape[0]) - np.repeat(np.cumsum(count) - count, count) + first[of]
    return np.maximum(free_lo[of], gap_lo[gap]), np.minimum(free_hi[of], gap_hi[gap])


def overlapping(busy: Columns, starts: IntArray, ends: IntArray) -> npt.NDArray[np.bool_]:
    """For each span ``[start, end)``: does it overlap an interval of ``busy`` (sorted, disjoint)?"""
    lo, hi = busy
    if lo.shape[0] == 0:
        return np.zeros(starts.shape, dtype=bool)
    # the first busy interval ending after the span starts overlaps iff it starts before the span ends
    idx = np.searchsorted(hi, starts, side="right")
    inside = idx < lo.shape[0]
    overlap: npt.NDArray[np.bool_] = inside & (lo[np.minimum(idx, lo.shape[0] - 1)] < ends)
    return overlap
