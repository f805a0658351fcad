"""What a long-running process keeps of one store between requests: the clinic record parsed once per clinic
version, its busy items by visit number, and the materialised calendars prepared for searching.

The store's ``clinic`` row is large (a 200-provider clinic: 51,000 busy items, 9 MB of JSON, seconds to
parse and prepare); what else a request reads (appointments, pushed slots, the Reason mapping) is small.
Triggers give the row a new random version in the transaction that writes it (``_sqlite.py``, whoever
writes it: ``load_clinic``, ``import_calendar``, ``rebuild``, ``purge``, a migration, another process or
an older slotfinder). A store opened with a cache reads the version (one row) in the transaction of each
read or write and reuses what was built from the row of that version; when the version is another, it
reads the row again in that same transaction. So a request never sees a clinic other than the one its
transaction would have read, and another process's ``slotfinder import`` is seen by the next request.

* ``clinic``: the parsed clinic of one version (``load_clinic_record``: the same value every time).
* ``visit``: the first busy item of a visit number (what the event fold starts a visit's record from),
  from an index built once per clinic instead of a scan of every busy item per event.
* ``prepared``: ``materialise(state, now)`` prepared for searching. The clinic itself is prepared once per
  version (template expansions, busy index; with the open time of bookable pushed slots, once per set of
  them). Each distinct state (appointments, pushed slots, the holds still running at ``now``) is derived from
  that with ``PreparedClinic.with_busy``: the clinic's items of the visit numbers the store has records of
  removed, the records' and pushed slots' busy items appended, so the busy index is rebuilt only for the
  resources they touch. That is exactly what ``materialise`` builds, items in the same order (checked by
  their count, else derived with ``PreparedClinic.updated`` from ``materialise`` itself), so a search on it
  gives the answer a search on ``CalendarStore.snapshot`` gives. It is kept until the state changes.

One cache serves one store file and is owned by whoever created it (the server creates one per worker
process in ``create_app``); nothing is kept at module level. It is shared by that process's threads: what it
hands out is never changed by it afterwards, and building is serialised by locks (one thread parses or
prepares while the others wait for its result rather than do the same work at once). The prepared clinic
of the base calendars is never searched itself, so deriving from it never meets a search filling its memos.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from typing import TypeVar

import attrs

from slotfinder._domain import Busy, Clinic, OpenTime
from slotfinder._prepared import PreparedClinic
from slotfinder.store._records import load_appointment, load_pushed
from slotfinder.store._state import (
    HELD,
    Appointment,
    PushedEntry,
    StoreState,
    appointment_busy,
    holds_time,
    materialise,
    pushed_items,
    utc_text,
)

__all__ = ["ClinicCache"]

K = TypeVar("K")
V = TypeVar("V")
_StateKey = tuple[tuple[tuple[str, Appointment], ...], tuple[PushedEntry, ...], frozenset[str]]


class ClinicCache:
    """A store's clinic, parsed once per clinic version and prepared for searching (see the module docstring).

    ``reads`` and ``preparations`` count the clinic rows parsed and the prepared calendars made (tests and
    diagnostics read them)."""

    def __init__(self) -> None:
        self._clinic_lock = threading.Lock()  # parsing the clinic row, indexing its visit numbers
        self._prepare_lock = threading.Lock()  # preparing calendars
        self._records_lock = threading.Lock()  # the parsed appointment and pushed-slot records
        self._version: str | None = None
        self._clinic: Clinic | None = None
        self._visits: dict[str, list[Busy]] | None = None  # the clinic's busy items by visit number
        self._appointments: dict[str, Appointment] = {}  # record text -> record, for the rows last read
        self._pushed: dict[str, PushedEntry] = {}
        self._plain: PreparedClinic | None = None  # ``_clinic`` prepared; never searched, only derived from
        self._base: tuple[tuple[OpenTime, ...], PreparedClinic] | None = None  # with pushed open time (the same)
        self._key: _StateKey | None = None
        self._prepared: PreparedClinic | None = None
        self.reads = 0
        self.preparations = 0

    def clinic(self, version: str | None, read: Callable[[], Clinic | None]) -> Clinic | None:
        """The clinic of ``version``: the one kept, or ``read()`` (call this inside the transaction that read
        ``version``, with a ``read`` in that same transaction). Without a version nothing is kept."""
        if version is None:
            return read()
        with self._clinic_lock:
            if self._version != version:
                clinic = read()
                self.reads += 1
                self._version, self._clinic, self._visits = version, clinic, None
            return self._clinic

    def visit(self, clinic: Clinic, number: str) -> Busy | None:
        """The first busy item of ``clinic`` with visit number ``number`` (None when it has none)."""
        if clinic is not self._clinic:  # not the clinic kept here: scan it
            return next((b for b in clinic.busy if b.visit_number == number), None)
        items = self._numbered(clinic).get(number)
        return items[0] if items else None

    def _numbered(self, clinic: Clinic) -> dict[str, list[Busy]]:
        """The busy items of ``clinic`` (the one kept here) by visit number, in clinic order (built once)."""
        with self._clinic_lock:
            if clinic is not self._clinic:
                return _by_number(clinic)
            if self._visits is None:
                self._visits = _by_number(clinic)
            return self._visits

    def appointments(self, rows: Iterable[tuple[str, str]]) -> dict[str, Appointment]:
        """The records of ``(visit_number, record)`` rows; a record text already read is not parsed again."""
        with self._records_lock:
            found, self._appointments = _parsed(rows, self._appointments, load_appointment)
        return found

    def pushed(self, rows: Iterable[str]) -> tuple[PushedEntry, ...]:
        """The pushed slots of ``record`` texts, in order; a text already read is not parsed again."""
        with self._records_lock:
            found, self._pushed = _parsed(enumerate(rows), self._pushed, load_pushed)
        return tuple(found.values())

    def prepared(self, state: StoreState, now: dt.datetime) -> PreparedClinic:
        """``materialise(state, now)`` prepared for searching; ``state.clinic`` must be one this cache gave."""
        clinic = state.clinic
        assert clinic is not None  # the store refuses a state without a clinic before asking
        at = utc_text(now)
        running = frozenset(n for n, a in state.appointments.items() if a.status == HELD and holds_time(a, at))
        key = (tuple(sorted(state.appointments.items(), key=_number)), state.pushed, running)
        with self._prepare_lock:
            if self._plain is None or self._plain.clinic is not clinic:
                self._plain, self._base, self._key, self._prepared = PreparedClinic(clinic), None, None, None
            if self._prepared is None or self._key != key:
                self._prepared = self._derived(self._plain, state, now)
                self._key = key
                self.preparations += 1
            return self._prepared

    def _derived(self, plain: PreparedClinic, state: StoreState, now: dt.datetime) -> PreparedClinic:
        """``materialise(state, now)`` prepared, derived from ``plain`` (the state's clinic prepared)."""
        clinic = plain.clinic
        at = utc_text(now)
        open_times, pushed_busy = pushed_items(state.pushed)
        pushed_open = tuple(open_times)
        if self._base is None or self._base[0] != pushed_open:
            # open time changes the blocks: prepared again (the template expansions are kept)
            opened = attrs.evolve(clinic, open_times=clinic.open_times + pushed_open)
            self._base = (pushed_open, plain.updated(opened) if pushed_open else plain)
        base = self._base[1]
        # as materialise: the clinic's items of the numbers the store has records of give way to the records'
        numbered = self._numbered(clinic)
        removed = [b for n in state.appointments for b in numbered.get(n, ())]
        added = [b for n in sorted(state.appointments) for b in appointment_busy(state.appointments[n], at)]
        derived = base.with_busy([*added, *pushed_busy], removed)
        if len(derived.clinic.busy) != len(clinic.busy) - len(removed) + len(added) + len(pushed_busy):
            return base.updated(materialise(state, now))  # not the items materialise keeps: derive from those
        return derived


def _number(item: tuple[str, Appointment]) -> str:
    return item[0]


def _by_number(clinic: Clinic) -> dict[str, list[Busy]]:
    found: dict[str, list[Busy]] = {}
    for item in clinic.busy:
        if item.visit_number is not None:
            found.setdefault(item.visit_number, []).append(item)
    return found


def _parsed(
    rows: Iterable[tuple[K, str]], known: dict[str, V], load: Callable[[str], V]
) -> tuple[dict[K, V], dict[str, V]]:
    """The values of ``(key, text)`` rows by key (those of ``known`` texts reused, others loaded), and the
    values by text of these rows only (what to keep for the next read: nothing grows without end)."""
    found: dict[K, V] = {}
    kept: dict[str, V] = {}
    for key, text in rows:
        value = known.get(text)
        if value is None:
            value = load(text)
        found[key] = kept[text] = value
    return found, kept
