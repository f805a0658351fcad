"""Where candidate starts lie inside a block: the start alignment (``Clinic.start_alignment``, or
``Settings.start_alignment`` when set).

Each block is cut into *pieces*, each with an *anchor* its grid steps from every ``Block.step``
minutes, and the pieces are stepped through with one vectorised computation:

* ``BLOCK`` (the default): one piece per block, anchored at the block's start (elapsed minutes).
* ``CLOCK``: starts at wall-clock multiples of the step after local midnight at the location. A block
  is cut where the UTC offset changes (a DST transition) and at local midnights; a piece's anchor is
  its local midnight read with the piece's own offset, so a start is on the grid exactly when the
  clock at the location shows a multiple of the step. On a spring-forward night the missing wall
  times have no instant and are skipped; on a fall-back night each repeated wall time on the grid is
  offered at both of its instants, since the block covers both (the output is UTC, never ambiguous).
* ``AFTER_BUSY``: the block grid, restarting where busy time of the provider that keeps the visit
  type out (the merged busy intervals of ``BusyIndex.provider_busy``) ends strictly inside the block.

A one-slot open time (``Block.one_slot``: no grid of its own and no ``start_interval``) keeps its one
start under every alignment: it is a slot published by another system.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from slotfinder._calendars import zones
from slotfinder._calendars.expand import Block
from slotfinder._calendars.intervals import Interval
from slotfinder._domain import StartAlignment

__all__ = ["Pieces", "aligned_grid", "aligned_pieces", "constant_offsets", "steps"]

IntArray = npt.NDArray[np.int64]
DAY = 1440


def aligned_grid(
    blocks: Sequence[Block], lo: int, hi: int, alignment: StartAlignment, zone: str, busy: Sequence[Interval]
) -> tuple[IntArray, npt.NDArray[np.intp]]:
    """Every aligned start of every block lying in ``[lo, hi]``, and the block each belongs to.

    ``zone`` is the blocks' location's time zone (CLOCK), ``busy`` the merged busy intervals that
    restart the grid (AFTER_BUSY).
    """
    return steps(*aligned_pieces(blocks, alignment, zone, busy), lo, hi)


Pieces = tuple[IntArray, IntArray, IntArray, IntArray, npt.NDArray[np.intp]]  # start, end, anchor, step, owner


def aligned_pieces(blocks: Sequence[Block], alignment: StartAlignment, zone: str, busy: Sequence[Interval]) -> Pieces:
    """The pieces of ``blocks`` and the anchors their grids step from (see the module docstring)."""
    if alignment is StartAlignment.CLOCK:
        return _clock_pieces(blocks, zone)
    if alignment is StartAlignment.AFTER_BUSY:
        return _after_busy_pieces(blocks, busy)
    return _block_pieces(blocks)


def _columns(blocks: Sequence[Block]) -> tuple[IntArray, IntArray, IntArray]:
    n = len(blocks)
    start = np.fromiter((b.start for b in blocks), dtype=np.int64, count=n)
    end = np.fromiter((b.end for b in blocks), dtype=np.int64, count=n)
    step = np.fromiter((b.step for b in blocks), dtype=np.int64, count=n)
    return start, end, step


def _one_slot(blocks: Sequence[Block]) -> npt.NDArray[np.bool_]:
    return np.fromiter((b.one_slot for b in blocks), dtype=bool, count=len(blocks))


def _block_pieces(blocks: Sequence[Block]) -> Pieces:
    start, end, step = _columns(blocks)
    return start, end, start, step, np.arange(len(blocks))


def steps(
    start: IntArray,
    end: IntArray,
    anchor: IntArray,
    step: IntArray,
    owner: npt.NDArray[np.intp],
    lo: int | IntArray,
    hi: int | IntArray,
) -> tuple[IntArray, npt.NDArray[np.intp]]:
    """The grid ``anchor + k * step`` inside each piece ``[start, end)`` and ``[lo, hi]``, with its block."""
    first = anchor - ((anchor - np.maximum(start, lo)) // step) * step  # first grid point >= max(start, lo)
    last = np.minimum(end - 1, hi)
    count = np.maximum((last - first) // step + 1, 0)
    piece = np.repeat(np.arange(start.shape[0]), count)
    within = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    return first[piece] + within * step[piece], owner[piece]


def _after_busy_pieces(blocks: Sequence[Block], busy: Sequence[Interval]) -> Pieces:
    """Each block cut at every busy end strictly inside it; a piece's grid steps from its own start."""
    if not busy:
        return _block_pieces(blocks)
    (start, end, step), one_slot = _columns(blocks), _one_slot(blocks)
    ends = np.fromiter((b for _, b in busy), dtype=np.int64, count=len(busy))  # merged: sorted, distinct
    first_cut = np.searchsorted(ends, start, side="right")  # the first busy end after the block's start
    cuts = np.where(one_slot, 0, np.maximum(np.searchsorted(ends, end, side="left") - first_cut, 0))
    owner = np.repeat(np.arange(len(blocks)), cuts + 1)
    k = np.arange(owner.shape[0]) - np.repeat(np.cumsum(cuts + 1) - (cuts + 1), cuts + 1)  # piece k of its block
    cut = first_cut[owner] + k  # piece k runs from busy end cut - 1 (or the block's start) to busy end cut
    piece_start = np.where(k == 0, start[owner], ends[np.clip(cut - 1, 0, len(busy) - 1)])
    piece_end = np.where(k == cuts[owner], end[owner], ends[np.clip(cut, 0, len(busy) - 1)])
    return piece_start, piece_end, piece_start, step[owner], owner


def _clock_pieces(blocks: Sequence[Block], zone: str) -> Pieces:
    """Pieces of constant UTC offset within one local date, anchored at that date's local midnight."""
    (start, end, step), one_slot = _columns(blocks), _one_slot(blocks)
    at_start = np.array([zones.offset_at(zone, b.start) for b in blocks], dtype=np.int64)
    at_end = np.array([zones.offset_at(zone, b.end - 1) for b in blocks], dtype=np.int64)
    day = (start + at_start) // DAY
    steady = (at_start == at_end) & (day == (end - 1 + at_end) // DAY)
    anchor = np.where(one_slot, start, day * DAY - at_start)
    simple = steady | one_slot
    parts: list[Pieces] = [(start[simple], end[simple], anchor[simple], step[simple], np.flatnonzero(simple))]
    for i in np.flatnonzero(~simple):  # a DST night, or an open time across local midnight
        cut = _local_days(zone, int(start[i]), int(end[i]))
        parts.append(
            (
                np.array([a for a, _, _ in cut], dtype=np.int64),
                np.array([b for _, b, _ in cut], dtype=np.int64),
                np.array([m for _, _, m in cut], dtype=np.int64),
                np.full(len(cut), step[i], dtype=np.int64),
                np.full(len(cut), i, dtype=np.intp),
            )
        )
    columns = [np.concatenate([p[c] for p in parts]) for c in range(5)]
    # block order, as the other alignments give it: of one start in overlapping blocks, the earlier block's counts
    order = np.argsort(columns[4], kind="stable")
    start, end, anchor, step, owner = (c[order] for c in columns)
    return start, end, anchor, step, owner.astype(np.intp)


def _local_days(zone: str, start: int, end: int) -> list[tuple[int, int, int]]:
    """``[start, end)`` cut where the offset changes and at local midnights: (from, to, local midnight)."""
    out: list[tuple[int, int, int]] = []
    for first, last, offset in constant_offsets(zone, start, end):
        at = first
        while at < last:
            midnight = (at + offset) // DAY * DAY - offset  # this local date's midnight, in this offset
            to = min(last, midnight + DAY)
            out.append((at, to, midnight))
            at = to
    return out


def constant_offsets(zone: str, start: int, end: int) -> list[tuple[int, int, int]]:
    """``[start, end)`` cut where the UTC offset changes: (from, to, offset).

    The offset is probed a day at a time and a change is found by bisection: time zones change their
    offset at most once in any day.
    """
    out: list[tuple[int, int, int]] = []
    a = start
    while a < end:
        offset = zones.offset_at(zone, a)
        b = min(end, a + DAY)
        if zones.offset_at(zone, b - 1) != offset:
            same, other = a, b - 1  # offset_at(same) == offset != offset_at(other)
            while other - same > 1:
                middle = (same + other) // 2
                same, other = (middle, other) if zones.offset_at(zone, middle) == offset else (same, middle)
            b = other
        out.append((a, b, offset))
        a = b
    return out
