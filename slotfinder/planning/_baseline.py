"""The interval-sweep baseline of the latency grid (measured in the same run): a non-floor comparison.

It loops in Python per provider and per block and leaves reserved blocks, closures, rooms and equipment
out, so it neither does the engine's work nor bounds its cost from below. The honest floor, the same work
as the candidate stage on one vectorised timeline, is ``benchmarks/floor.py`` (``benchmarks.floor_grid``
reports engine / floor); the layers keep it out of this package (planning never imports the benchmarks).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from slotfinder import Block, PreparedClinic, SlotRequest, walltime
from slotfinder.planning._minutes import merge, subtract

__all__ = ["sweep_baseline"]

_MARGIN_DAYS = 3  # local dates, in any zone, whose blocks can touch a UTC instant lie within this of its UTC date


def _local_dates(first: int, last: int) -> tuple[dt.date, dt.date]:
    """Local dates, in any zone, whose blocks can touch instants ``first``..``last`` (with a margin)."""
    margin = dt.timedelta(days=_MARGIN_DAYS)
    return walltime.to_datetime(first).date() - margin, walltime.to_datetime(last).date() + margin


def sweep_baseline(prepared: PreparedClinic, request: SlotRequest, duration: int, limit: int) -> list[tuple[int, str]]:
    """The earliest ``limit`` open ``(start, provider)`` pairs by interval sweep alone: no ranking,
    diversity or rooms.

    Every open grid start is enumerated (numpy per provider, like the engine). Given the same warm help
    as the engine: the prepared clinic's busy index and cached template expansion. Not a floor (see the
    module docstring).
    """
    if request.end is None:
        raise ValueError("the baseline needs a request with an end")
    first, last = _local_dates(request.start, request.end)
    by_provider: dict[str, list[Block]] = {}
    for block in prepared.blocks(first, last):
        by_provider.setdefault(block.provider_id, []).append(block)
    found: list[tuple[int, str]] = []
    for provider_id, blocks in by_provider.items():
        free = subtract(merge((b.start, b.end) for b in blocks), prepared.provider_busy_time(provider_id))
        if not free:
            continue
        lo = np.array([a for a, _ in free], dtype=np.int64)
        hi = np.array([b for _, b in free], dtype=np.int64)
        starts = np.concatenate(
            [
                np.arange(block.start + -(-max(request.start - block.start, 0) // block.step) * block.step,
                          min(block.end, request.end), block.step)
                for block in blocks
            ]
        )  # fmt: skip
        at = np.maximum(np.searchsorted(lo, starts, side="right") - 1, 0)
        open_starts = np.unique(starts[(lo[at] <= starts) & (hi[at] >= starts + duration)])
        found += [(int(s), provider_id) for s in open_starts[:limit]]
    return sorted(set(found))[:limit]
