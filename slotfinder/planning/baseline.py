"""The pure interval-sweep baseline every latency figure is reported against (measured in the same run)."""

from __future__ import annotations

import numpy as np

from slotfinder._calendars.expand import Block, BusyIndex, expand_blocks, local_dates
from slotfinder._calendars.intervals import merge, subtract
from slotfinder._domain import Clinic, SlotRequest

__all__ = ["sweep_baseline"]


def sweep_baseline(
    clinic: Clinic, index: BusyIndex, request: SlotRequest, duration: int, limit: int
) -> list[tuple[int, str]]:
    """The earliest ``limit`` open starts by interval sweep alone: no ranking, diversity or rooms.

    Every open grid start is enumerated (numpy, like the engine), so the ratio to the engine is the
    cost of scoring, pruning and the solver. Given the same warm help: a prebuilt busy index and
    the cached template expansion.
    """
    assert request.end is not None
    first, last = local_dates(request.start, request.end)
    by_provider: dict[str, list[Block]] = {}
    for block in expand_blocks(clinic, first, last):
        by_provider.setdefault(block.provider_id, []).append(block)
    found: list[tuple[int, str]] = []
    for provider_id, blocks in by_provider.items():
        busy = merge((b.start, b.end) for b in index.by_provider.get(provider_id, []))
        free = subtract(merge((b.start, b.end) for b in blocks), busy)
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
