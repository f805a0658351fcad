"""Interval algebra on whole minutes since the epoch (public; the engine uses the same functions).

Intervals are half-open ``(start, end)`` pairs; ``merge`` returns them sorted and disjoint, with
touching intervals joined, and ``subtract`` takes two such lists.

>>> merge([(0, 30), (30, 45), (60, 90)])
[(0, 45), (60, 90)]
>>> subtract([(0, 90)], [(15, 30)])
[(0, 15), (30, 90)]
"""

from slotfinder._calendars.intervals import Interval, merge, subtract

__all__ = ["Interval", "merge", "subtract"]
