"""A clinic prepared for many searches: its busy index, booking limits and template expansions, built once.

The engine keeps no state between calls. A caller that searches one clinic again and again (a
server, the store, a simulation) holds a :class:`PreparedClinic` and passes it wherever a
``Clinic`` is accepted; a plain ``Clinic`` is prepared afresh for each call. When calendars change,
``updated(clinic)`` makes the next one and keeps what is still valid: expansions are keyed by the
template itself, so templates that did not change are not expanded again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from slotfinder._calendars.block_table import BlockTable, expand_table
from slotfinder._calendars.clinic_check import validate_clinic
from slotfinder._calendars.expand import Block, BusyIndex, Expansions, expand_blocks
from slotfinder._calendars.intervals import Columns, Interval, merge
from slotfinder._domain import Busy, Clinic
from slotfinder._solve.limits import LimitIndex
from slotfinder._solve.timeline import offset_table

__all__ = ["PreparedClinic", "prepare"]

_MAX_EXPANSIONS = 1 << 14  # template x date-range entries kept; a long-lived server must not grow without end
_FEW = 4  # items removed at once by copying around each; more take one pass
_MAX_TABLES = 16  # block tables kept (a server's requests share a few date ranges)
_TableKey = tuple[dt.date, dt.date, frozenset[str] | None, int | None]


class PreparedClinic:
    """A clinic with its busy index and template expansions (immutable; ``updated`` makes the next one)."""

    __slots__ = ("_busy", "_clinic", "_expansions", "_limits", "_offsets", "_tables")

    def __init__(
        self,
        clinic: Clinic,
        *,
        expansions: Expansions | None = None,
        busy: BusyIndex | None = None,
        tables: dict[_TableKey, BlockTable] | None = None,
        previous: Clinic | None = None,
    ) -> None:
        # The file's rules for a clinic built in Python: InvalidClinic here, not a KeyError deep in a search.
        validate_clinic(clinic, previous)  # skipped when only busy items or open times differ from ``previous``
        self._clinic = clinic
        # block tables per date range, providers and start interval (``tables``: of a clinic with the same
        # templates, openings, overrides and open times, as ``updated`` passes them after busy changes)
        self._tables: dict[_TableKey, BlockTable] = {} if tables is None else tables
        self._offsets: dict[tuple[str, int, int], Columns] = {}  # UTC offsets per zone and week range
        if busy is None:  # ``busy``: the index of exactly ``clinic.busy``, made by ``updated``/``with_busy``
            busy = BusyIndex(clinic.busy, {v.code: (v.buffer_before, v.buffer_after) for v in clinic.visit_types})
        self._busy = busy
        self._limits = LimitIndex(clinic)
        self._expansions: Expansions = {} if expansions is None else expansions

    @property
    def clinic(self) -> Clinic:
        """The calendars this was prepared from."""
        return self._clinic

    @property
    def busy(self) -> BusyIndex:
        """Busy items looked up by the resource they occupy."""
        return self._busy

    @property
    def limits(self) -> LimitIndex:
        """Booking limits with the visits they count."""
        return self._limits

    def blocks(
        self,
        first: dt.date,
        last: dt.date,
        providers: Iterable[str] | None = None,
        start_interval: int | None = None,
    ) -> list[Block]:
        """Every block of working time on local dates ``first``..``last`` (templates, openings, open times)."""
        if len(self._expansions) > _MAX_EXPANSIONS:
            self._expansions.clear()
        return expand_blocks(self._clinic, first, last, providers, start_interval, expansions=self._expansions)

    def block_table(
        self,
        first: dt.date,
        last: dt.date,
        providers: Iterable[str] | None = None,
        start_interval: int | None = None,
    ) -> BlockTable:
        """:meth:`blocks` as a table: the same blocks, in the same order, with numpy columns (kept)."""
        key = (first, last, None if providers is None else frozenset(providers), start_interval)
        found = self._tables.get(key)
        if found is None:
            if len(self._expansions) > _MAX_EXPANSIONS:
                self._expansions.clear()
            found = expand_table(self._clinic, first, last, providers, start_interval, expansions=self._expansions)
            if len(self._tables) >= _MAX_TABLES:
                self._tables.clear()
            self._tables[key] = found
        return found

    def zone_offsets(self, zone: str, lo: int, hi: int) -> Columns:
        """The UTC offsets at ``zone`` over at least ``[lo, hi)``, as ``timeline.offset_table`` gives them:
        where each constant stretch begins and its offset (kept, per whole weeks)."""
        week = 7 * 1440
        key = (zone, lo // week * week, -(-hi // week) * week)
        found = self._offsets.get(key)
        if found is None:
            if len(self._offsets) >= _MAX_TABLES:
                self._offsets.clear()
            found = offset_table(*key)
            self._offsets[key] = found
        return found

    def provider_busy_time(self, provider_id: str) -> list[Interval]:
        """Every busy interval of a provider, merged (whatever the kind, visit type or location)."""
        return merge((b.start, b.end) for b in self._busy.by_provider.get(provider_id, []))

    def updated(self, clinic: Clinic) -> PreparedClinic:
        """The next prepared clinic after a change of calendars, keeping the still-valid expansions.

        When only busy items changed (every other field the same, the items kept in their order and new
        ones appended, as ``with_busy`` and ``attrs.evolve(clinic, busy=...)`` make them), the busy index
        is updated for the resources they touch instead of rebuilt; when the busy items and the visit
        types' buffers are the same (pushed open time, a template changed), the busy index is kept."""
        delta = _busy_delta(self._clinic, clinic)
        if delta is not None:
            busy = self._busy.changed(*delta) if delta[0] or delta[1] else self._busy
            if busy is not None:
                return PreparedClinic(
                    clinic, expansions=self._expansions, busy=busy, tables=self._tables, previous=self._clinic
                )
        if _same_busy(self._clinic, clinic):  # open time pushed, a template changed: the busy index stands
            return PreparedClinic(clinic, expansions=self._expansions, busy=self._busy, previous=self._clinic)
        return PreparedClinic(clinic, expansions=self._expansions, previous=self._clinic)

    def with_busy(self, added: Iterable[Busy] = (), removed: Iterable[Busy] = ()) -> PreparedClinic:
        """The next prepared clinic after a booking, hold or cancellation: the busy items equal to one of
        ``removed`` dropped, ``added`` appended; the busy index is updated, not rebuilt."""
        added, removed = tuple(added), tuple(removed)
        busy = self._clinic.busy
        dropped: list[Busy] = []
        if removed:  # a cancellation: one pass over the items (a booking alone only appends)
            spans = {(b.start, b.end) for b in removed}
            at = [i for i, b in enumerate(busy) if (b.start, b.end) in spans and b in removed]
            dropped = [busy[i] for i in at]
            if len(at) > _FEW:  # many at once: one more pass, not a copy per item
                gone = set(at)
                busy = tuple(b for i, b in enumerate(busy) if i not in gone)
            else:
                for i in reversed(at):
                    busy = busy[:i] + busy[i + 1 :]
        busy = busy + added
        clinic = attrs.evolve(self._clinic, busy=busy)
        index = self._busy.changed(added, dropped)
        return PreparedClinic(
            clinic, expansions=self._expansions, busy=index, tables=self._tables, previous=self._clinic
        )

    def __repr__(self) -> str:
        return f"PreparedClinic({len(self._clinic.providers)} providers, {len(self._clinic.busy)} busy items)"


def _same_busy(old: Clinic, new: Clinic) -> bool:
    """Whether ``new`` has the same busy items as ``old`` and the same buffers (all the busy index reads)."""
    same_items = old.busy is new.busy or old.busy == new.busy
    buffers = [[(v.code, v.buffer_before, v.buffer_after) for v in c.visit_types] for c in (old, new)]
    return same_items and buffers[0] == buffers[1]


def _busy_delta(old: Clinic, new: Clinic) -> tuple[tuple[Busy, ...], list[Busy]] | None:
    """(added, removed) when ``new`` is ``old`` with busy items removed and others appended (matched by
    identity, every other field the same); None otherwise."""
    for field in attrs.fields(Clinic):
        if field.name != "busy":
            before, after = getattr(old, field.name), getattr(new, field.name)
            if before is not after and before != after:
                return None
    present = {id(b) for b in new.busy}
    if len(present) != len(new.busy):
        return None
    kept = [b for b in old.busy if id(b) in present]
    if not all(a is b for a, b in zip(kept, new.busy, strict=False)) or len(kept) > len(new.busy):
        return None
    return new.busy[len(kept) :], [b for b in old.busy if id(b) not in present]


def prepare(clinic: Clinic | PreparedClinic) -> PreparedClinic:
    """``clinic`` ready for searching (a prepared clinic is returned as it is)."""
    return clinic if isinstance(clinic, PreparedClinic) else PreparedClinic(clinic)
