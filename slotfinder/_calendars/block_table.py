"""Expanded blocks as columns: the blocks themselves, in order, beside numpy columns of their fields.

``expand.expand_table`` builds it from per-template columns kept with the template expansions, so a
search reads starts, ends, steps and keys without touching each block; the blocks stay for the rules
that need one (clock alignment, booking limits per session).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from slotfinder._calendars.expand import Block, Expansions, Part, expansion_parts
from slotfinder._domain import Clinic

__all__ = ["BlockTable", "expand_table"]

IntArray = npt.NDArray[np.int64]
IntpArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]


class BlockTable(Sequence[Block]):
    """Blocks sorted by provider, location, start, end, visit types and room, with their columns.

    ``provider``, ``location``, ``kinds`` and ``room`` are keys into ``provider_ids``, ``location_ids``,
    ``visit_types`` and ``rooms`` (each sorted, so keys order as the values do).
    """

    __slots__ = (
        "_blocks",
        "_picked",
        "end",
        "kinds",
        "location",
        "location_ids",
        "one_slot",
        "provider",
        "provider_ids",
        "room",
        "rooms",
        "start",
        "step",
        "visit_types",
    )

    def __init__(
        self,
        blocks: Sequence[Block],
        columns: tuple[IntArray, IntArray, IntArray, BoolArray],
        keys: tuple[IntpArray, IntpArray, IntpArray, IntpArray],
        values: tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, ...], ...], tuple[str | None, ...]],
        picked: IntpArray | None = None,
    ) -> None:
        """``picked``: the table holds ``blocks[i] for i in picked`` (listed only when first read)."""
        self._blocks, self._picked = blocks, picked
        self.start, self.end, self.step, self.one_slot = columns
        self.provider, self.location, self.kinds, self.room = keys
        self.provider_ids, self.location_ids, self.visit_types, self.rooms = values

    @staticmethod
    def of(blocks: Sequence[Block]) -> BlockTable:
        """The table of ``blocks`` as they are (already in block order), read block by block."""
        if isinstance(blocks, BlockTable):
            return blocks
        n = len(blocks)

        def column(values: Iterator[int | bool | str], kind: type = np.int64) -> npt.NDArray[Any]:
            return np.fromiter(values, dtype=kind, count=n)

        providers = tuple(sorted({b.provider_id for b in blocks}))
        locations = tuple(sorted({b.location_id for b in blocks}))
        kinds = tuple(sorted({b.visit_types for b in blocks}))
        rooms = _sorted_rooms({b.room for b in blocks})
        at = {v: i for i, v in enumerate(providers)}, {v: i for i, v in enumerate(locations)}
        kind_at, room_at = {v: i for i, v in enumerate(kinds)}, {v: i for i, v in enumerate(rooms)}
        return BlockTable(
            blocks,
            (
                column(b.start for b in blocks),
                column(b.end for b in blocks),
                column(b.step for b in blocks),
                column((b.one_slot for b in blocks), bool),
            ),
            (
                column((at[0][b.provider_id] for b in blocks), np.intp),
                column((at[1][b.location_id] for b in blocks), np.intp),
                column((kind_at[b.visit_types] for b in blocks), np.intp),
                column((room_at[b.room] for b in blocks), np.intp),
            ),
            (providers, locations, kinds, rooms),
        )

    def take(self, rows: IntpArray | BoolArray) -> BlockTable:
        """The table of the blocks at ``rows`` (indices or a mask), in that order."""
        if rows.dtype == np.bool_ and bool(rows.all()):
            return self
        index: IntpArray = np.flatnonzero(rows) if rows.dtype == np.bool_ else rows.astype(np.intp)
        source, picked = self._blocks, index if self._picked is None else self._picked[index]
        return BlockTable(
            source,
            (self.start[index], self.end[index], self.step[index], self.one_slot[index]),
            (self.provider[index], self.location[index], self.kinds[index], self.room[index]),
            (self.provider_ids, self.location_ids, self.visit_types, self.rooms),
            picked,
        )

    @property
    def blocks(self) -> Sequence[Block]:
        """The blocks themselves, in order."""
        if self._picked is not None:
            source = self._blocks
            self._blocks, self._picked = [source[i] for i in self._picked.tolist()], None
        return self._blocks

    def allows(self, visit_type: str | None) -> BoolArray:
        """Per block: ``Block.allows(visit_type)``."""
        if visit_type is None:
            return np.ones(self.start.shape, dtype=bool)
        by_kind = np.array([not kinds or visit_type in kinds for kinds in self.visit_types], dtype=bool)
        return by_kind[self.kinds] if by_kind.shape[0] else np.zeros(self.start.shape, dtype=bool)

    def at_locations(self, location_ids: set[str]) -> BoolArray:
        """Per block: its location is one of ``location_ids``."""
        wanted = np.array([loc in location_ids for loc in self.location_ids], dtype=bool)
        return wanted[self.location] if wanted.shape[0] else np.zeros(self.start.shape, dtype=bool)

    def __len__(self) -> int:
        return int(self.start.shape[0])

    @overload
    def __getitem__(self, i: int) -> Block: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[Block]: ...

    def __getitem__(self, i: int | slice) -> Block | Sequence[Block]:
        return self.blocks[i]

    def __iter__(self) -> Iterator[Block]:
        return iter(self.blocks)


def _sorted_rooms(rooms: set[str | None]) -> tuple[str | None, ...]:
    """Rooms in block order (no room sorts as the empty name, first)."""
    return tuple(sorted(rooms, key=lambda r: (r or "", r is not None)))


def expand_table(
    clinic: Clinic,
    first: dt.date,
    last: dt.date,
    providers: Iterable[str] | None = None,
    start_interval: int | None = None,
    *,
    expansions: Expansions | None = None,
) -> BlockTable:
    """``expand.expand_blocks`` as a table: the same blocks in the same order, sorted on columns."""
    parts = expansion_parts(clinic, first, last, providers, start_interval, expansions=expansions)
    heads = [part[0][0] for part in parts if part[0]]
    parts = [part for part in parts if part[0]]
    provider_ids = tuple(sorted({b.provider_id for b in heads}))
    location_ids = tuple(sorted({b.location_id for b in heads}))
    kinds = tuple(sorted({b.visit_types for b in heads}))
    rooms = _sorted_rooms({b.room for b in heads})
    sizes = np.array([len(part[0]) for part in parts], dtype=np.intp)

    def per_part(values: Iterable[int | bool], kind: type = np.intp) -> npt.NDArray[Any]:
        return np.repeat(np.fromiter(values, dtype=kind, count=len(parts)), sizes)

    provider_at = {v: i for i, v in enumerate(provider_ids)}
    location_at = {v: i for i, v in enumerate(location_ids)}
    kind_at, room_at = {v: i for i, v in enumerate(kinds)}, {v: i for i, v in enumerate(rooms)}
    provider = per_part(provider_at[b.provider_id] for b in heads)
    location = per_part(location_at[b.location_id] for b in heads)
    kind = per_part(kind_at[b.visit_types] for b in heads)
    room = per_part(room_at[b.room] for b in heads)
    step = per_part((b.step for b in heads), np.int64)
    one_slot = per_part((b.one_slot for b in heads), bool)
    start = _times(parts, 1, "start")
    end = _times(parts, 2, "end")
    blocks = [b for part in parts for b in part[0]]
    # the order of expand_blocks: provider, location, start, end, visit types, room (stable)
    by_name = {name: i for i, name in enumerate(sorted({r or "" for r in rooms}))}  # no room sorts as ""
    room_rank = np.array([by_name[r or ""] for r in rooms], dtype=np.intp)[room]
    order = np.lexsort((room_rank, kind, end, start, location, provider))
    return BlockTable(
        blocks,
        (start[order], end[order], step[order], one_slot[order]),
        (provider[order], location[order], kind[order], room[order]),
        (provider_ids, location_ids, kinds, rooms),
        order.astype(np.intp),
    )


def _times(parts: list[Part], at: int, name: str) -> IntArray:
    columns: list[IntArray] = []
    for part in parts:
        given = part[1] if at == 1 else part[2]
        columns.append(given if given is not None else np.array([getattr(b, name) for b in part[0]], dtype=np.int64))
    return np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
