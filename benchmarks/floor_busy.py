"""The floor's busy time: intervals of many resources on one integer line (see ``benchmarks/floor.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from slotfinder import Busy, BusyKind

__all__ = ["BASE", "NEVER", "SPAN", "Timeline", "Unmodelled", "cut", "overlaps"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
BASE = -36_816_480  # 1900-01-01T00:00Z in minutes since the epoch: no instant slotfinder accepts is earlier
SPAN = 1 << 28  # one resource's stretch of the line: longer than 1900..2200 in minutes
NEVER = np.iinfo(np.int64).max // 4
_PIECE = 1 << 30  # minutes: longer than any piece of working time (restarts a running maximum per piece)


class Unmodelled(ValueError):  # noqa: N818 (a reason, not an error of the caller's data)
    """The search uses a rule the floor does not model."""


@dataclass(frozen=True)
class Timeline:
    """Busy intervals of many resources on one line: those that keep every visit out merged (sorted,
    disjoint, touching ones joined), reserved blocks apart (they depend on the visit type and on now)."""

    lo: IntArray
    hi: IntArray
    c_lo: IntArray  # reserved blocks, sorted by start
    c_hi: IntArray
    c_release: IntArray  # from this instant on, open to every type (NEVER: never released)
    c_pair_row: IntArray  # (row, code) pairs of the reserved blocks' codes
    c_pair_code: IntArray

    @staticmethod
    def of(rows: Sequence[tuple[int, Busy]], codes: dict[str, int]) -> Timeline:
        """``rows``: (resource, item) pairs."""
        fixed = _merged(np.array([_key(r, b) for r, b in rows if not _reserved(b)], dtype=np.int64).reshape(-1, 2))
        held = sorted(((r, b) for r, b in rows if _reserved(b)), key=lambda rb: _key(*rb))
        keys = np.array([_key(r, b) for r, b in held], dtype=np.int64).reshape(-1, 2)
        release = [NEVER if b.release_before is None else b.start - b.release_before for _, b in held]
        pairs = [(i, codes.setdefault(c, len(codes))) for i, (_, b) in enumerate(held) for c in b.reserved_for]
        pair = np.array(pairs, dtype=np.int64).reshape(-1, 2)
        return Timeline(
            fixed[:, 0], fixed[:, 1],
            keys[:, 0], keys[:, 1], np.array(release, dtype=np.int64), pair[:, 0], pair[:, 1],
        )  # fmt: skip

    @staticmethod
    def plain(spans: Sequence[tuple[int, int]]) -> Timeline:
        """Intervals of one resource (index 0) that keep every visit out, from instants."""
        keys = _merged(np.array(spans, dtype=np.int64).reshape(-1, 2) - BASE)
        none = np.zeros(0, dtype=np.int64)
        return Timeline(keys[:, 0], keys[:, 1], none, none, none, none, none)

    def held(self, code: int | None, now: int) -> tuple[IntArray, IntArray, IntArray]:
        """(lo, hi, running max of hi) of the reserved blocks that keep a visit of ``code`` (None: no visit
        type asked) out at ``now``: not released yet, and not reserved for it."""
        keeps = now < self.c_release
        if code is not None:
            keeps[self.c_pair_row[self.c_pair_code == code]] = False
        lo, hi = self.c_lo[keeps], self.c_hi[keeps]
        return lo, hi, np.maximum.accumulate(hi) if hi.size else hi

    def hits(self, start: IntArray, end: IntArray, code: int | None, now: int) -> BoolArray:
        """For each visit ``[start, end)`` (keys on this line): does it overlap a busy interval that keeps
        a visit of ``code`` out at ``now``?"""
        hit = overlaps(self.lo, self.hi, start, end)
        if self.c_lo.size:
            lo, _, top = self.held(code, now)
            hit |= overlaps(lo, top, start, end)
        return hit

    def subtract(
        self, lo: IntArray, hi: IntArray, resource: IntArray, code: int | None, now: int
    ) -> tuple[IntArray, IntArray, IntArray]:
        """Pieces ``[lo, hi)`` (instants) of ``resource`` less this line's busy time that keeps a visit of
        ``code`` out at ``now``: the free parts, each with the index of the piece it came from."""
        shift = resource * SPAN - BASE
        lo, hi, parent = _within_gaps(lo, hi, shift, self.lo, self.hi)
        if self.c_lo.size:
            lo, hi, again = cut(lo, hi, shift[parent], *self.held(code, now))
            parent = parent[again]
        return lo, hi, parent


def _merged(spans: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Rows (lo, hi) merged: sorted, disjoint, touching ones joined (a running maximum of the ends)."""
    if spans.size == 0:
        return spans
    spans = spans[np.argsort(spans[:, 0], kind="stable")]
    top = np.maximum.accumulate(spans[:, 1])
    head = np.ones(top.size, dtype=bool)
    head[1:] = spans[1:, 0] > top[:-1]
    heads = np.flatnonzero(head)
    return np.stack([spans[heads, 0], top[np.r_[heads[1:] - 1, top.size - 1]]], axis=1)


def _within_gaps(
    a_lo: IntArray, a_hi: IntArray, shift: IntArray, lo: IntArray, hi: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Pieces ``[a_lo, a_hi)`` (instants; ``+ shift`` on the line) less merged intervals ``lo``, ``hi``: each
    piece meets the gaps between them (and before the first, after the last) of a contiguous range."""
    if lo.size == 0:
        return a_lo, a_hi, np.arange(a_lo.size)
    first = np.searchsorted(hi, a_lo + shift, side="right")  # gap k lies between interval k - 1 and k
    count = np.searchsorted(lo, a_hi + shift, side="left") - first + 1
    whole = np.flatnonzero(count == 1)  # one gap holds the whole piece: nothing busy meets it
    cut = np.flatnonzero(count > 1)
    count = count[cut]
    piece = np.repeat(cut, count)
    gap = np.repeat(first[cut], count) + np.arange(piece.size) - np.repeat(np.cumsum(count) - count, count)
    at = shift[piece]
    gap_lo = np.where(gap > 0, hi[np.maximum(gap - 1, 0)] - at, a_lo[piece])
    gap_hi = np.where(gap < lo.size, lo[np.minimum(gap, lo.size - 1)] - at, a_hi[piece])
    start, end = np.maximum(gap_lo, a_lo[piece]), np.minimum(gap_hi, a_hi[piece])
    free = end > start
    return (
        np.concatenate([a_lo[whole], start[free]]),
        np.concatenate([a_hi[whole], end[free]]),
        np.concatenate([whole, piece[free]]),
    )


def _key(resource: int, item: Busy) -> tuple[int, int]:
    shift = resource * SPAN - BASE
    return item.start + shift, item.end + shift


def _reserved(item: Busy) -> bool:
    return item.kind is BusyKind.BLOCK and bool(item.reserved_for)


def cut(
    a_lo: IntArray, a_hi: IntArray, shift: IntArray, lo: IntArray, hi: IntArray, top: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Pieces ``[a_lo, a_hi)`` (instants; ``+ shift`` puts each on the line) less the intervals ``lo``, ``hi``
    (keys, sorted by ``lo``; ``top`` the running maximum of ``hi``): the free parts and their pieces.

    The intervals a piece meets are a contiguous run: from the first whose running-max end passes the
    piece's start to the last starting before its end. They are clipped to the piece; a running maximum of
    their ends, restarted per piece (each piece's values lifted above the previous piece's), says where
    busy time stands, and a gap is free wherever the next interval starts past it.
    """
    n = a_lo.size
    if lo.size == 0 or n == 0:
        return a_lo, a_hi, np.arange(n)
    first = np.searchsorted(top, a_lo + shift, side="right")
    count = np.maximum(np.searchsorted(lo, a_hi + shift, side="left") - first, 0)
    untouched = np.flatnonzero(count == 0)
    if untouched.size == n:
        return a_lo, a_hi, untouched
    piece = np.repeat(np.arange(n), count)
    item = first[piece] + np.arange(piece.size) - np.repeat(np.cumsum(count) - count, count)
    start, end, at = a_lo[piece], a_hi[piece], shift[piece]
    b_lo, b_hi = np.clip(lo[item] - at, start, end), np.clip(hi[item] - at, start, end)
    lift = piece * _PIECE
    cover = np.maximum.accumulate(lift + b_hi - start) - lift + start  # busy up to here, within the piece
    head = np.ones(piece.size, dtype=bool)
    head[1:] = piece[1:] != piece[:-1]
    before = np.empty_like(cover)
    before[1:] = cover[:-1]
    before[head] = start[head]
    gap = b_lo > before
    last = np.r_[np.flatnonzero(head)[1:] - 1, piece.size - 1]
    tail = cover[last] < end[last]
    return (
        np.concatenate([before[gap], cover[last][tail], a_lo[untouched]]),
        np.concatenate([b_lo[gap], end[last][tail], a_hi[untouched]]),
        np.concatenate([piece[gap], piece[last][tail], untouched]),
    )


def overlaps(lo: IntArray, top: IntArray, start: IntArray, end: IntArray) -> BoolArray:
    """``[start, end)`` overlaps an interval: the last one starting before ``end`` has a running-max end past
    ``start``. Other resources' intervals lie below this resource's stretch, so their ends never pass."""
    if lo.size == 0:
        return np.zeros(start.shape, dtype=bool)
    at = np.searchsorted(lo, end, side="left") - 1
    return (at >= 0) & (top[np.maximum(at, 0)] > start)
