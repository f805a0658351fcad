"""Minutes, days and intervals: the little time arithmetic capacity planning needs of its own.

Instants are whole minutes since the epoch (UTC), as everywhere in slotfinder. Intervals are
half-open ``(start, end)`` pairs; ``merge`` and ``subtract`` are the public ``slotfinder.intervals``.
"""

from __future__ import annotations

from collections.abc import Sequence

from slotfinder.intervals import Interval, merge, subtract

__all__ = ["DAY", "SATURDAY", "THURSDAY", "WEEK", "Interval", "covered", "merge", "subtract"]

DAY = 1440  # minutes in a day of elapsed time
WEEK = 7 * DAY
THURSDAY = 3  # date.weekday() numbers
SATURDAY = 5  # ... and every weekday from it on is the weekend


def covered(intervals: Sequence[Interval], start: int, end: int) -> int:
    """Minutes of ``[start, end)`` covered by sorted, disjoint ``intervals``."""
    return sum(max(0, min(b, end) - max(a, start)) for a, b in intervals if a < end and start < b)
