"""Booking limits: a candidate is dropped when booking it would take its provider past a limit.

For a single-visit search every offer is an alternative the patient books alone, so a limit is a
filter on candidates, never a constraint between them. A limit counts, per provider, the visits
already there (bookings; holds too when ``Clinic.limits_count_holds``) that start in the new visit's
period: its local date, its ISO week (Monday 00:00 to Monday 00:00), both at the new visit's location,
or the block of working time it starts in (its session). A limit naming visit types counts only
visits of those types and applies only to new visits of those types; an item without a visit type
counts toward limits of every type only. Minutes are the items' own lengths (no buffers), and the
new visit's length. The rules are in docs/clinic-format.md ("Booking limits").
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from slotfinder._calendars import zones
from slotfinder._calendars.expand import Block
from slotfinder._domain import BookingLimit, BusyKind, Clinic, LimitPeriod

__all__ = ["LimitIndex"]

IntArray = npt.NDArray[np.int64]
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


class _Counted:
    """The visits one limit counts for one provider: sorted starts and running sums of minutes."""

    __slots__ = ("minutes", "starts")

    def __init__(self, visits: list[tuple[int, int]]) -> None:
        visits.sort()
        self.starts = np.array([s for s, _ in visits], dtype=np.int64)
        self.minutes = np.concatenate(([0], np.cumsum([m for _, m in visits], dtype=np.int64)))

    def within(self, lo: IntArray, hi: IntArray) -> tuple[IntArray, IntArray]:
        """How many visits, and how many minutes of them, start in each ``[lo, hi)``."""
        first = np.searchsorted(self.starts, lo, side="left")
        last = np.searchsorted(self.starts, hi, side="left")
        return last - first, self.minutes[last] - self.minutes[first]


_NOTHING = _Counted([])


class LimitIndex:
    """A clinic's booking limits with the visits each counts, per provider (built once per clinic)."""

    def __init__(self, clinic: Clinic) -> None:
        self._limits = clinic.booking_limits
        kinds = {BusyKind.BOOKING, BusyKind.HOLD} if clinic.limits_count_holds else {BusyKind.BOOKING}
        self._counted: dict[tuple[int, str], _Counted] = {}
        if not self._limits:
            return
        visits: dict[str, list[tuple[int, int, str | None]]] = defaultdict(list)
        for item in clinic.busy:
            if item.kind in kinds and item.provider_id is not None:
                visits[item.provider_id].append((item.start, item.end - item.start, item.visit_type))
        for n, limit in enumerate(self._limits):
            for provider_id, own in visits.items():
                if _names(limit.providers, provider_id):
                    counted = [(s, m) for s, m, code in own if not limit.visit_types or code in limit.visit_types]
                    self._counted[(n, provider_id)] = _Counted(counted)

    def applying(self, provider_id: str, visit_type: str | None) -> list[int]:
        """The limits a new visit of ``visit_type`` (None: no type asked) with this provider must respect."""
        return [
            n
            for n, limit in enumerate(self._limits)
            if _names(limit.providers, provider_id)
            and (not limit.visit_types or (visit_type is not None and visit_type in limit.visit_types))
        ]

    def allows(
        self,
        limits: list[int],
        provider_id: str,
        duration: int,
        zone: str,
        local_day: IntArray,
        blocks: Sequence[Block],
        owner: npt.NDArray[np.intp],
    ) -> npt.NDArray[np.bool_]:
        """For each new visit of ``duration`` starting on ``local_day`` (days since 1970-01-01 at ``zone``)
        in block ``blocks[owner]`` (its session): whether every limit in ``limits`` (from ``applying``) holds."""
        keep = np.ones(local_day.shape, dtype=bool)
        session_start = np.fromiter((b.start for b in blocks), dtype=np.int64, count=len(blocks))[owner]
        session_end = np.fromiter((b.end for b in blocks), dtype=np.int64, count=len(blocks))[owner]
        session = (session_start, session_end)
        for n in limits:
            limit = self._limits[n]
            lo, hi = _period(limit, zone, local_day, session)
            visits, minutes = self._counted.get((n, provider_id), _NOTHING).within(lo, hi)
            if limit.max_visits is not None:
                keep &= visits + 1 <= limit.max_visits
            if limit.max_minutes is not None:
                keep &= minutes + duration <= limit.max_minutes
        return keep


def _names(ids: tuple[str, ...], wanted: str) -> bool:
    return not ids or wanted in ids


def _period(
    limit: BookingLimit, zone: str, local_day: IntArray, session: tuple[IntArray, IntArray]
) -> tuple[IntArray, IntArray]:
    """The instants ``[lo, hi)`` of each start's period under ``limit``."""
    if limit.period is LimitPeriod.SESSION:
        return session
    first = local_day
    if limit.period is LimitPeriod.WEEK:
        first = local_day - (local_day + _EPOCH_WEEKDAY) % 7  # the Monday of the ISO week
    days = 7 if limit.period is LimitPeriod.WEEK else 1
    unique, position = np.unique(first, return_inverse=True)
    lo = np.array([_midnight(zone, int(d)) for d in unique], dtype=np.int64)
    hi = np.array([_midnight(zone, int(d) + days) for d in unique], dtype=np.int64)
    return lo[position], hi[position]


def _midnight(zone: str, day: int) -> int:
    """The instant local ``day`` (days since 1970-01-01) begins at ``zone`` (the DST policy applies)."""
    return zones.instant_of(zone, zones.EPOCH.date() + dt.timedelta(days=day), 0)
