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

from slotfinder._calendars.expand import Block, BusyIndex, Expansions, expand_blocks
from slotfinder._calendars.intervals import Interval, merge
from slotfinder._domain import Clinic
from slotfinder._solve.limits import LimitIndex

__all__ = ["PreparedClinic", "prepare"]

_MAX_EXPANSIONS = 1 << 14  # template x date-range entries kept; a long-lived server must not grow without end


class PreparedClinic:
    """A clinic with its busy index and template expansions (immutable; ``updated`` makes the next one)."""

    __slots__ = ("_busy", "_clinic", "_expansions", "_limits")

    def __init__(self, clinic: Clinic, *, expansions: Expansions | None = None) -> None:
        self._clinic = clinic
        self._busy = BusyIndex(clinic.busy, {v.code: (v.buffer_before, v.buffer_after) for v in clinic.visit_types})
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

    def provider_busy_time(self, provider_id: str) -> list[Interval]:
        """Every busy interval of a provider, merged (whatever the kind, visit type or location)."""
        return merge((b.start, b.end) for b in self._busy.by_provider.get(provider_id, []))

    def updated(self, clinic: Clinic) -> PreparedClinic:
        """The next prepared clinic after a change of calendars, keeping the still-valid expansions."""
        return PreparedClinic(clinic, expansions=self._expansions)

    def __repr__(self) -> str:
        return f"PreparedClinic({len(self._clinic.providers)} providers, {len(self._clinic.busy)} busy items)"


def prepare(clinic: Clinic | PreparedClinic) -> PreparedClinic:
    """``clinic`` ready for searching (a prepared clinic is returned as it is)."""
    return clinic if isinstance(clinic, PreparedClinic) else PreparedClinic(clinic)
