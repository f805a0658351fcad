"""One timeline for every (provider, location) group of a search: the candidate stage's array work.

Each group's instants are shifted to its own stretch of one integer line (``shift``: ``group * SPAN +
BASE``), so the blocks of every group merge, lose their busy time and step their grids in a handful of
array operations, with no loop per group, block or start. A shifted instant never meets another
group's: every instant slotfinder accepts (``zones.EARLIEST`` .. ``zones.LATEST``, widened by any
buffer) lies in ``[-BASE, SPAN - BASE)``.

Starts are stepped only inside free time that can hold the visit: a piece of a block (its grid anchor
and step, ``alignment.py``) intersected with each free stretch, from ``max(piece start, stretch start,
window start)`` to ``min(piece end - 1, stretch end - duration, window end - 1)``. That is exactly the
grid the block offers, less the starts whose visit would not fit in free time, in the same order.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from attrs import frozen

from slotfinder._calendars.block_table import BlockTable
from slotfinder._calendars.intervals import Columns
from slotfinder._solve.alignment import Pieces, constant_offsets

__all__ = ["BASE", "SPAN", "BlockColumns", "group_of", "local_offsets", "offset_table", "open_starts", "window_slice"]

IntArray = npt.NDArray[np.int64]
IntpArray = npt.NDArray[np.intp]
SPAN = 1 << 34  # the stretch of the line each group gets
BASE = 1 << 33  # where instant 0 lies in it


@frozen
class BlockColumns:
    """The blocks of one visit type's search as columns, grouped by (provider, location) in block order."""

    blocks: BlockTable
    group: IntpArray  # per block: its group
    keys: tuple[tuple[str, str], ...]  # per group: (provider ID, location ID)
    bounds: IntpArray  # group g has blocks bounds[g] .. bounds[g + 1] - 1

    @staticmethod
    def of(blocks: BlockTable) -> BlockColumns:
        """``blocks`` sorted by provider and location (as ``expand_table`` gives them)."""
        pair = blocks.provider.astype(np.int64) * (len(blocks.location_ids) + 1) + blocks.location
        if np.any(pair[1:] < pair[:-1]):
            raise ValueError("blocks must come grouped by provider and location")
        first = np.flatnonzero(np.concatenate(([True], pair[1:] != pair[:-1])))
        group = (np.cumsum(np.concatenate(([False], pair[1:] != pair[:-1]))) if pair.shape[0] else pair).astype(np.intp)
        keys = tuple(
            (blocks.provider_ids[p], blocks.location_ids[loc])
            for p, loc in zip(blocks.provider[first].tolist(), blocks.location[first].tolist(), strict=True)
        )
        bounds = np.concatenate((first, [pair.shape[0]])).astype(np.intp)
        return BlockColumns(blocks=blocks, group=group, keys=keys, bounds=bounds)

    @property
    def start(self) -> IntArray:
        return self.blocks.start

    @property
    def end(self) -> IntArray:
        return self.blocks.end

    @property
    def shift(self) -> IntArray:
        """Per block: where its group's instants lie on the line, less the instant itself."""
        return self.group.astype(np.int64) * SPAN + BASE


def group_of(instants: IntArray) -> IntpArray:
    """The group of shifted instants."""
    return (instants // SPAN).astype(np.intp)


def window_slice(busy: Columns, lo: int, hi: int) -> Columns:
    """The intervals of ``busy`` (sorted, disjoint) that reach into ``[lo, hi)``."""
    first = int(np.searchsorted(busy[1], lo, side="right"))
    last = int(np.searchsorted(busy[0], hi, side="left"))
    return busy[0][first:last], busy[1][first:last]


def open_starts(
    pieces: Pieces, free: Columns, duration: int, lo: IntArray, hi: IntArray
) -> tuple[IntArray, IntpArray, IntpArray]:
    """Every grid start of every piece (shifted) in ``[lo, hi]`` (per piece) whose visit of ``duration``
    lies in one stretch of ``free`` (shifted, merged): the starts, their pieces' owners, their stretches."""
    start, end, anchor, step, owner = pieces
    free_lo, free_hi = free
    first_stretch = np.searchsorted(free_hi, start, side="right")
    count = np.maximum(np.searchsorted(free_lo, end, side="left") - first_stretch, 0)
    piece = np.repeat(np.arange(start.shape[0]), count)
    stretch = np.arange(piece.shape[0]) - np.repeat(np.cumsum(count) - count, count) + first_stretch[piece]
    earliest = np.maximum(np.maximum(start[piece], free_lo[stretch]), lo[piece])
    latest = np.minimum(np.minimum(end[piece] - 1, free_hi[stretch] - duration), hi[piece])
    at, every = anchor[piece], step[piece]
    first = at - ((at - earliest) // every) * every  # the first grid point at or after ``earliest``
    many = np.maximum((latest - first) // every + 1, 0)
    part = np.repeat(np.arange(first.shape[0]), many)
    within = np.arange(part.shape[0]) - np.repeat(np.cumsum(many) - many, many)
    return first[part] + within * every[part], owner[piece][part], stretch[part]


def offset_table(zone: str, lo: int, hi: int) -> Columns:
    """The UTC offsets at ``zone`` over ``[lo, hi)``: where each constant stretch begins, and its offset
    (found a day at a time, ``alignment.constant_offsets``)."""
    stretches = constant_offsets(zone, lo, max(hi, lo + 1))
    begins = np.array([a for a, _, _ in stretches], dtype=np.int64)
    return begins, np.array([o for _, _, o in stretches], dtype=np.int64)


def local_offsets(table: Columns, instants: IntArray) -> IntArray:
    """``zones.offset_at(zone, t)`` for every instant ``t`` (inside the span of ``table``) at once."""
    begins, offsets = table
    return offsets[np.maximum(np.searchsorted(begins, instants, side="right") - 1, 0)]
