"""Busy time indexed by the resource it occupies: providers, rooms, equipment units, pools, patients.

Built once per clinic (``PreparedClinic``); ``changed`` makes the next index when only busy items
changed (a booking, a hold, a cancellation), rebuilding only what those items touch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
from attrs import frozen

from slotfinder._calendars.intervals import Columns, Interval, as_columns, merge, merge_columns
from slotfinder._domain import Busy, BusyKind, PatientId

__all__ = ["EDGE_BASE", "EDGE_SPAN", "BusyIndex", "ProviderLine"]


def _same_patient(a: PatientId, b: PatientId) -> bool:
    return a.id == b.id and (a.id_type is None or b.id_type is None or a.id_type == b.id_type)


class BusyIndex:
    """Busy items of a clinic, looked up by the resource they occupy (built once per clinic).

    ``buffers`` maps visit-type codes to their (before, after) minutes: an item of such a type occupies
    its resources over ``[start - before, end + after)``. The lookups give that buffered time by
    default; ``buffered=False`` gives the items' own time, which a new visit's own buffers must avoid.
    """

    def __init__(self, busy: Iterable[Busy], buffers: Mapping[str, tuple[int, int]] | None = None) -> None:
        by_provider: dict[str, list[Busy]] = defaultdict(list)
        by_room: dict[tuple[str, str], list[Busy]] = defaultdict(list)
        closures: dict[str, list[Busy]] = defaultdict(list)
        by_pool: dict[tuple[str, str], list[Busy]] = defaultdict(list)
        by_patient: dict[str, list[Busy]] = defaultdict(list)
        tables: tuple[dict[Any, list[Busy]], ...] = (by_provider, by_room, closures, by_pool, by_patient)
        for item in busy:
            for table, key in _keys(item):
                tables[table][key].append(item)
        self.by_provider = dict(by_provider)
        self.by_patient = dict(by_patient)
        self._by_room, self._closures, self._by_pool = dict(by_room), dict(closures), dict(by_pool)
        self._buffers = {code: around for code, around in (buffers or {}).items() if around != (0, 0)}
        # Most items block whatever the visit type and the time of asking: merge those once, buffered
        # and (only when some item has buffers) plain.
        indexed = (*by_provider.values(), *closures.values(), *by_room.values())
        self._buffered = bool(self._buffers) and any(b.visit_type in self._buffers for v in indexed for b in v)
        self._views = {False: _view(by_provider, closures, by_room, _own)}
        self._views[True] = _view(by_provider, closures, by_room, self._span) if self._buffered else self._views[False]
        self._conditional = {k: [b for b in v if _conditional(b)] for k, v in by_provider.items()}
        self._closed_conditional = {k: [b for b in v if _conditional(b)] for k, v in closures.items()}
        self._room_conditional = {k: [b for b in v if _conditional(b)] for k, v in by_room.items()}
        self._edges = {k: _edges(v) for k, v in by_provider.items()}
        # numpy columns of the fixed views, reserved blocks and their merges, filled on first use
        self._columns: dict[tuple[bool, str, str, str], Columns] = {}
        self._reserved: dict[tuple[str, Any], _Reserved] = {}
        self._combined: dict[tuple[object, ...], Columns] = {}
        self._edge_keys: tuple[dict[str, int], Columns] | None = None
        self._edge_columns: dict[str, Columns] = {}  # per provider, made on use (kept for untouched ones)
        self._lines: dict[bool, _Line] = {}  # every provider's fixed busy time on one line, per ``buffered``

    def changed(self, added: Iterable[Busy], removed: Iterable[Busy]) -> BusyIndex | None:
        """The index of this one's items less ``removed`` (items of this index, matched by identity), then
        ``added`` (after the others, as a clinic appends them): only the providers, rooms, units, pools,
        closed locations and patients they touch are rebuilt. None when a rebuild from scratch is needed
        (an item with buffers arrives where none had any: the buffered view is shared)."""
        added, gone = list(added), {id(b) for b in removed}
        arriving: list[defaultdict[Any, list[Busy]]] = [defaultdict(list) for _ in range(5)]
        touched: list[set[Any]] = [set() for _ in range(5)]
        for item in added:
            for table, key in _keys(item):
                arriving[table][key].append(item)
                touched[table].add(key)
                if table in _VIEWED and not self._buffered and item.visit_type in self._buffers:
                    return None
        for item in removed:
            for table, key in _keys(item):
                touched[table].add(key)
        new = object.__new__(BusyIndex)
        old: tuple[dict[Any, list[Busy]], ...] = (
            self.by_provider,
            self._by_room,
            self._closures,
            self._by_pool,
            self.by_patient,
        )
        copies: list[dict[Any, list[Busy]]] = []
        for table, source in enumerate(old):
            copy = dict(source)
            for key in touched[table]:
                kept = [b for b in source.get(key, []) if id(b) not in gone] + arriving[table].get(key, [])
                if kept:
                    copy[key] = kept
                else:
                    copy.pop(key, None)
            copies.append(copy)
        new.by_provider, new._by_room, new._closures, new._by_pool, new.by_patient = copies
        new._buffers, new._buffered = self._buffers, self._buffered
        providers, rooms, closed = touched[0], touched[1], touched[2]
        new._views = {}
        for buffered in (False, True) if self._buffered else (False,):
            view, span = self._views[buffered], new._span if buffered else _own
            new._views[buffered] = _View(
                fixed=_redo(view.fixed, providers, new.by_provider, lambda v, f=span: _merged(v, f)),
                closed=_redo(view.closed, closed, new._closures, lambda v, f=span: _merged(v, f)),
                rooms=_redo(view.rooms, rooms, new._by_room, lambda v, f=span: _merged(v, f)),
            )
        if not self._buffered:
            new._views[True] = new._views[False]
        new._conditional = _redo(self._conditional, providers, new.by_provider, _conditionals)
        new._closed_conditional = _redo(self._closed_conditional, closed, new._closures, _conditionals)
        new._room_conditional = _redo(self._room_conditional, rooms, new._by_room, _conditionals)
        new._edges = _redo(self._edges, providers, new.by_provider, _edges)

        def stale(kind: str, key: Any, location_id: str) -> bool:
            return location_id in closed or (key in providers if kind == "p" else (location_id, key) in rooms)

        new._columns = {k: v for k, v in self._columns.items() if not stale(k[1], k[2], k[3])}
        new._combined = {k: v for k, v in self._combined.items() if not stale(*k[1:4])}  # type: ignore[arg-type]
        new._reserved = {
            (part, key): v
            for (part, key), v in self._reserved.items()
            if key not in (providers if part == "p" else closed if part == "c" else rooms)
        }
        same_edges = all(new._edges.get(p) == self._edges.get(p) for p in providers)
        new._edge_keys = self._edge_keys if same_edges else None
        new._edge_columns = {k: v for k, v in self._edge_columns.items() if k not in providers}
        new._lines = {buffered: line.without(providers) for buffered, line in self._lines.items()}
        return new

    def plain(self, location_id: str) -> bool:
        """Whether nothing closes the location: then a provider's busy time there is on :meth:`provider_line`."""
        return location_id not in self._closures

    def provider_line(self, buffered: bool = True) -> ProviderLine:
        """Every provider's busy time on one line (see :class:`ProviderLine`); a change of busy items makes
        again only the providers it touches."""
        line = self._lines.get(buffered)
        if line is None:
            line = self._lines[buffered] = _Line({}, {})
        return line.built(self, buffered)

    def provider_busy(
        self, provider_id: str, location_id: str, visit_type: str | None, now: int, *, buffered: bool = True
    ) -> list[Interval]:
        """Time the provider cannot see a visit of ``visit_type`` at ``location_id`` (``buffered``: see the class)."""
        view, span = self._views[buffered], self._span if buffered else _own
        fixed = view.fixed.get(provider_id, [])
        conditional = [*self._conditional.get(provider_id, []), *self._closed_conditional.get(location_id, [])]
        extra = [span(b) for b in conditional if b.blocks(visit_type, now)]
        closed = view.closed.get(location_id, [])
        return merge([*fixed, *extra, *closed]) if extra or closed else fixed

    def provider_columns(
        self, provider_id: str, location_id: str, visit_type: str | None, now: int, *, buffered: bool = True
    ) -> Columns:
        """:meth:`provider_busy` as numpy columns (the unconditional part converted once, then kept)."""
        parts = (("p", provider_id, self._conditional), ("c", location_id, self._closed_conditional))
        return self._columns_of(buffered, "p", provider_id, location_id, parts, visit_type, now)

    def room_columns(
        self, location_id: str, room: str, visit_type: str | None, now: int, *, buffered: bool = True
    ) -> Columns:
        """:meth:`room_busy` as numpy columns."""
        parts = (("r", (location_id, room), self._room_conditional), ("c", location_id, self._closed_conditional))
        return self._columns_of(buffered, "r", room, location_id, parts, visit_type, now)

    def equipment_columns(
        self, location_id: str, unit: str, visit_type: str | None, now: int, *, buffered: bool = True
    ) -> Columns:
        """:meth:`equipment_busy` as numpy columns."""
        return self.room_columns(location_id, _UNIT + unit, visit_type, now, buffered=buffered)

    def _columns_of(
        self,
        buffered: bool,
        kind: str,
        key: str,
        location_id: str,
        parts: tuple[tuple[str, Any, Mapping[Any, list[Busy]]], ...],
        visit_type: str | None,
        now: int,
    ) -> Columns:
        """The fixed busy time of a provider or room with its location's closures, plus the reserved blocks
        that keep ``visit_type`` out at ``now``, merged (each combination kept once computed)."""
        fixed = self._fixed_columns(buffered, kind, key, location_id)
        chosen: list[tuple[_Reserved, npt.NDArray[np.bool_]]] = []
        for part, part_key, source in parts:
            items = source.get(part_key)
            if items:
                reserved = self._reserved_of(part, part_key, items)
                chosen.append((reserved, reserved.keeping_out(visit_type, now)))
        if not any(mask.any() for _, mask in chosen):
            return fixed
        cache_key = (buffered, kind, key, location_id, visit_type, *(mask.tobytes() for _, mask in chosen))
        found = self._combined.get(cache_key)
        if found is None:
            lo = [fixed[0], *(r.lo(buffered)[m] for r, m in chosen)]
            hi = [fixed[1], *(r.hi(buffered)[m] for r, m in chosen)]
            found = merge_columns(np.concatenate(lo), np.concatenate(hi))
            if len(self._combined) > _MAX_COMBINED:
                self._combined.clear()
            self._combined[cache_key] = found
        return found

    def _reserved_of(self, part: str, part_key: Any, items: list[Busy]) -> _Reserved:
        found = self._reserved.get((part, part_key))
        if found is None:
            found = _Reserved(items, self._span)
            self._reserved[(part, part_key)] = found
        return found

    def _fixed_columns(self, buffered: bool, kind: str, key: str, location_id: str) -> Columns:
        """The unconditional busy time of a provider (``kind`` "p") or room ("r") with the location's
        closures, merged, as columns (kept: the views never change)."""
        cache_key = (buffered, kind, key, location_id)
        found = self._columns.get(cache_key)
        if found is None:
            view = self._views[buffered]
            own = view.fixed.get(key, []) if kind == "p" else view.rooms.get((location_id, key), [])
            closed = view.closed.get(location_id, [])
            found = as_columns(merge([*own, *closed]) if closed else own)
            self._columns[cache_key] = found
        return found

    def booking_edge_keys(self) -> tuple[dict[str, int], Columns]:
        """Every provider's booking starts and ends on one line, sorted: ``rank * EDGE_SPAN + EDGE_BASE +
        instant``, with the providers' ranks (built on first use, then kept)."""
        if self._edge_keys is None:
            names = sorted(self._edges)
            for p in names:
                if p not in self._edge_columns:
                    own = self._edges[p]
                    self._edge_columns[p] = (np.array(own[0], dtype=np.int64), np.array(own[1], dtype=np.int64))
            base = np.arange(len(names), dtype=np.int64) * EDGE_SPAN + EDGE_BASE
            ranks = {p: i for i, p in enumerate(names)}
            line = _line([self._edge_columns[p][0] for p in names], base)
            self._edge_keys = (ranks, (line, _line([self._edge_columns[p][1] for p in names], base)))
        return self._edge_keys

    def booking_edges(self, provider_id: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Starts and ends of the provider's bookings, sorted (for the adjacency term)."""
        return self._edges.get(provider_id, ((), ()))

    def room_busy(
        self, location_id: str, room: str, visit_type: str | None, now: int, *, buffered: bool = True
    ) -> list[Interval]:
        """Time a room cannot hold a visit of ``visit_type``: occupied, or its location closed.

        A block reserved for visit types keeps the room for them, as it keeps the provider.
        """
        view, span = self._views[buffered], self._span if buffered else _own
        fixed = view.rooms.get((location_id, room), [])
        conditional = [
            *self._room_conditional.get((location_id, room), []),
            *self._closed_conditional.get(location_id, []),
        ]
        extra = [span(b) for b in conditional if b.blocks(visit_type, now)]
        closed = view.closed.get(location_id, [])
        return merge([*fixed, *extra, *closed]) if extra or closed else fixed

    def equipment_busy(
        self, location_id: str, unit: str, visit_type: str | None, now: int, *, buffered: bool = True
    ) -> list[Interval]:
        """Time an equipment unit cannot serve a visit of ``visit_type`` (kept like a room)."""
        return self.room_busy(location_id, _UNIT + unit, visit_type, now, buffered=buffered)

    def pool_busy(
        self, location_id: str, kind: str, visit_type: str | None, now: int, *, buffered: bool = True
    ) -> list[tuple[int, int, int]]:
        """(start, end, units) of the items occupying units of the pooled ``kind`` at ``location_id`` that keep
        a visit of ``visit_type`` out (a reserved block only for other types), sorted; ``buffered``: see the
        class. Closures of the location are not here: they keep the provider out already."""
        span = self._span if buffered else _own
        items = self._by_pool.get((location_id, kind), [])
        return sorted((*span(b), b.pool_units) for b in items if b.blocks(visit_type, now))

    def _span(self, item: Busy) -> Interval:
        """The time an item occupies: its own, widened by the buffers of its visit type."""
        if item.visit_type is None:
            return item.start, item.end
        before, after = self._buffers.get(item.visit_type, (0, 0))
        return item.start - before, item.end + after

    def patient_items(self, patients: Iterable[PatientId]) -> list[Busy]:
        """The appointments of this patient (any of its identifiers), in clinic order, each once."""
        seen: dict[int, Busy] = {}
        for wanted in patients:
            for item in self.by_patient.get(wanted.id, []):
                if any(_same_patient(wanted, q) for q in item.patients):
                    seen.setdefault(id(item), item)
        return list(seen.values())


_VIEWED = (0, 1, 2)  # the tables whose items the merged views hold (providers, rooms and units, closures)


def _keys(item: Busy) -> list[tuple[int, Any]]:
    """Where an item is indexed: (table, key), tables 0 providers, 1 rooms and units, 2 closed locations,
    3 pools, 4 patients (a patient ID once per identifier of the item)."""
    keys: list[tuple[int, Any]] = []
    if item.provider_id is not None:
        keys.append((0, item.provider_id))
    if item.location_id is not None:
        if item.room is not None:
            keys.append((1, (item.location_id, item.room)))
        if item.equipment is not None:
            keys.append((1, (item.location_id, _UNIT + item.equipment)))
        if item.pool is not None:
            keys.append((3, (item.location_id, item.pool)))
        if item.provider_id is None and item.room is None and item.equipment is None and item.pool is None:
            keys.append((2, item.location_id))
    keys += [(4, patient.id) for patient in item.patients]
    return keys


def _edges(items: list[Busy]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Sorted distinct starts and ends of the bookings among ``items``."""
    return (
        tuple(sorted({b.start for b in items if b.kind is BusyKind.BOOKING})),
        tuple(sorted({b.end for b in items if b.kind is BusyKind.BOOKING})),
    )


def _conditionals(items: list[Busy]) -> list[Busy]:
    return [b for b in items if _conditional(b)]


def _merged(items: list[Busy], span: Callable[[Busy], Interval]) -> list[Interval]:
    return merge(span(b) for b in items if not _conditional(b))


def _redo(
    derived: Mapping[Any, Any], keys: set[Any], source: Mapping[Any, list[Busy]], make: Callable[..., Any]
) -> Any:
    """``derived`` (per key of ``source``) with the entries of ``keys`` made again from ``source``."""
    out = dict(derived)
    for key in keys:
        if key in source:
            out[key] = make(source[key])
        else:
            out.pop(key, None)
    return out


class _Reserved:
    """Reserved blocks of one resource as columns: whether each keeps a visit type out, at once."""

    __slots__ = ("_codes", "_columns", "release", "reserved_for")

    def __init__(self, items: list[Busy], span: Callable[[Busy], Interval]) -> None:
        own = np.array([(b.start, b.end) for b in items], dtype=np.int64).reshape(-1, 2)
        widened = np.array([span(b) for b in items], dtype=np.int64).reshape(-1, 2)
        self._columns = {False: (own[:, 0], own[:, 1]), True: (widened[:, 0], widened[:, 1])}
        never = np.iinfo(np.int64).max
        self.release = np.array(
            [never if b.release_before is None else b.start - b.release_before for b in items], dtype=np.int64
        )
        self.reserved_for = [b.reserved_for for b in items]
        self._codes: dict[str | None, npt.NDArray[np.bool_]] = {}

    def lo(self, buffered: bool) -> npt.NDArray[np.int64]:
        return self._columns[buffered][0]

    def hi(self, buffered: bool) -> npt.NDArray[np.int64]:
        return self._columns[buffered][1]

    def keeping_out(self, visit_type: str | None, now: int) -> npt.NDArray[np.bool_]:
        """``Busy.blocks(visit_type, now)`` of every item (all are reserved blocks)."""
        return self.closed_to(visit_type) & (now < self.release)

    def closed_to(self, visit_type: str | None) -> npt.NDArray[np.bool_]:
        """Per item: not reserved for ``visit_type`` (so it keeps such a visit out until its release)."""
        closed = self._codes.get(visit_type)
        if closed is None:
            closed = np.array([visit_type not in r for r in self.reserved_for], dtype=bool)
            self._codes[visit_type] = closed
        return closed


EDGE_SPAN, EDGE_BASE = 1 << 34, 1 << 33  # each provider's stretch of the line of booking edges
_MAX_COMBINED = 1 << 12  # merged combinations of reserved blocks kept; a long-lived server must not grow
_UNIT = "\x00equipment:"  # equipment units share the room index under a key no room name can have


@frozen
class _View:
    """Unconditional busy time, merged: per provider, per closed location, per room or equipment unit."""

    fixed: dict[str, list[Interval]]
    closed: dict[str, list[Interval]]
    rooms: dict[tuple[str, str], list[Interval]]


def _own(item: Busy) -> Interval:
    return item.start, item.end


def _view(
    by_provider: Mapping[str, list[Busy]],
    closures: Mapping[str, list[Busy]],
    by_room: Mapping[tuple[str, str], list[Busy]],
    span: Callable[[Busy], Interval],
) -> _View:
    return _View(
        fixed={k: merge(span(b) for b in v if not _conditional(b)) for k, v in by_provider.items()},
        closed={k: merge(span(b) for b in v if not _conditional(b)) for k, v in closures.items()},
        rooms={k: merge(span(b) for b in v if not _conditional(b)) for k, v in by_room.items()},
    )


def _conditional(item: Busy) -> bool:
    """A reserved block: whether it blocks depends on the visit type and on when one asks."""
    return item.kind is BusyKind.BLOCK and bool(item.reserved_for)


@frozen
class ProviderLine:
    """Every provider's busy time on one line, ``rank * EDGE_SPAN + EDGE_BASE + instant`` (``ranks``): the
    fixed time, merged (``fixed``), and the reserved blocks sorted by start (``reserved``) with what each
    keeps out (:meth:`keeping_out`) and the longest one's length (``longest``)."""

    ranks: dict[str, int]
    fixed: Columns
    reserved: Columns
    release: npt.NDArray[np.int64]
    longest: int
    _closed_to: Callable[[str | None], npt.NDArray[np.bool_]]

    def keeping_out(self, visit_type: str | None, now: int) -> npt.NDArray[np.bool_]:
        """``Busy.blocks(visit_type, now)`` of every reserved block on the line."""
        return self._closed_to(visit_type) & (now < self.release)


class _Line:
    """The providers' parts of a :class:`ProviderLine`, each made once, and the line (made on use)."""

    def __init__(self, fixed: dict[str, Columns], reserved: dict[str, _Reserved]) -> None:
        self._fixed, self._reserved = fixed, reserved
        self._built: ProviderLine | None = None

    def without(self, providers: set[Any]) -> _Line:
        """This line with the parts of ``providers`` to be made again."""
        if not providers:
            return self  # the same items: share what is made
        return _Line(
            {k: v for k, v in self._fixed.items() if k not in providers},
            {k: v for k, v in self._reserved.items() if k not in providers},
        )

    def built(self, index: BusyIndex, buffered: bool) -> ProviderLine:
        if self._built is not None:
            return self._built
        view = index._views[buffered].fixed
        names = sorted(index.by_provider)
        for p in names:
            if p not in self._fixed:
                self._fixed[p] = as_columns(view.get(p, []))
            items = index._conditional.get(p)
            if items and p not in self._reserved:
                self._reserved[p] = _Reserved(items, index._span)
        base = np.arange(len(names), dtype=np.int64) * EDGE_SPAN + EDGE_BASE
        fixed = _stacked([self._fixed[p] for p in names], base)
        held = [i for i, p in enumerate(names) if p in self._reserved]
        parts = [self._reserved[names[i]] for i in held]
        lo, hi = _stacked([(r.lo(buffered), r.hi(buffered)) for r in parts], base[held])
        order = np.argsort(lo, kind="stable")  # by start: the ranks stay apart, each provider's blocks sorted
        reserved = (lo[order], hi[order])
        spans = reserved[1] - reserved[0]
        release = np.concatenate([np.zeros(0, dtype=np.int64), *(r.release for r in parts)])[order]
        closed: dict[str | None, npt.NDArray[np.bool_]] = {}

        def closed_to(visit_type: str | None) -> npt.NDArray[np.bool_]:
            if visit_type not in closed:
                none = np.ones(0, dtype=bool)
                closed[visit_type] = np.concatenate([none, *(r.closed_to(visit_type) for r in parts)])[order]
            return closed[visit_type]

        ranks = {p: i for i, p in enumerate(names)}
        longest = int(spans.max()) if spans.shape[0] else 0
        self._built = ProviderLine(ranks, fixed, reserved, release, longest, closed_to)
        return self._built


def _stacked(parts: list[Columns], base: npt.NDArray[np.int64]) -> Columns:
    """Columns of several resources on one line: each moved by its ``base``."""
    return _line([lo for lo, _ in parts], base), _line([hi for _, hi in parts], base)


def _line(parts: list[npt.NDArray[np.int64]], base: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Instants of several resources on one line: each part moved by its ``base``."""
    empty = np.zeros(0, dtype=np.int64)
    if not parts:
        return empty
    return np.concatenate(parts) + np.repeat(base, [part.shape[0] for part in parts])
