"""Composite visit types as frozen attrs values: roles, steps, series, and their definition in a clinic.

Plain values only (no JSON, no solver, no other slotfinder module), so that ``Clinic`` can hold
composite types and ``slotfinder._composite`` can search them.

* A :class:`Step` is one appointment of a sequence; it needs one or more :class:`Role` s filled at
  once (the physician and any one nurse of a list). Its distance from the previous step is either
  minutes from that step's end (``min_gap``..``max_gap``) or local dates from that step's date
  (``min_days``..``max_days``, what a series uses: weekly is 7 days on the wall calendar, whatever
  DST does to the minutes).
* A :class:`Series` is ``count`` visits of one type, ``interval_days`` apart, each within
  ``tolerance_days`` of the previous visit's date plus the interval; the same provider required,
  preferred (each repeat earns the ``continuity`` weight) or not asked.
* A :class:`CompositeVisitType` names either a sequence of steps or a series under a visit-type
  code, so a Redox request can ask for it by ``Visit.VisitType``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

from attrs import field, frozen

__all__ = ["CompositeVisitType", "Role", "SameProvider", "Series", "Step"]


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


@frozen
class Role:
    """``count`` participants drawn from ``providers`` (empty: any provider of the clinic), all at once."""

    providers: tuple[str, ...] = field(default=(), converter=_tuple)
    count: int = 1


@frozen
class Step:
    """One appointment of a sequence.

    ``providers`` is the shorthand for one role: any one of them (empty: any provider whose blocks
    allow the visit type). ``roles`` asks for several participants together, same start, same
    location; give one or the other. Gaps are minutes from the end of the previous step to the start
    of this one, ``min_gap <= gap <= max_gap`` (ignored on the first step); with ``min_days`` and
    ``max_days`` given, the distance is counted instead in local dates from the previous step's start
    date, and the minute gaps are not used. ``same_location`` keeps the previous step's location;
    without it a change of location needs at least ``travel`` minutes of gap.
    ``same_provider_as_previous`` asks for the previous step's provider (one participant in both
    steps); ``prefer_same_provider`` only rewards it (the ``continuity`` weight).
    """

    visit_type: str
    providers: tuple[str, ...] = field(default=(), converter=_tuple)
    roles: tuple[Role, ...] = field(default=(), converter=_tuple)
    min_gap: int = 0
    max_gap: int = 60
    same_provider_as_previous: bool = False
    same_location: bool = True
    travel: int = 0
    codeset: str | None = None
    min_days: int | None = None
    max_days: int | None = None
    prefer_same_provider: bool = False

    @property
    def participants(self) -> tuple[Role, ...]:
        """The roles to fill (``providers`` as one role of one participant when no roles are given)."""
        return self.roles or (Role(self.providers, 1),)

    @property
    def size(self) -> int:
        """How many people the step takes."""
        return sum(r.count for r in self.participants)

    @property
    def by_date(self) -> bool:
        """Whether the distance from the previous step is counted in local dates (a series)."""
        return self.min_days is not None or self.max_days is not None


class SameProvider(enum.Enum):
    """Whether a series keeps one provider."""

    REQUIRED = "required"
    PREFERRED = "preferred"
    ANY = "any"


def same_provider(value: SameProvider | str) -> SameProvider:
    return value if isinstance(value, SameProvider) else SameProvider(value)


@frozen
class Series:
    """``count`` visits of ``visit_type``, each ``interval_days`` ± ``tolerance_days`` local dates after
    the previous one, at one location, by ``providers`` (empty: anyone who offers the type)."""

    visit_type: str
    count: int
    interval_days: int = 7
    tolerance_days: int = 0
    same_provider: SameProvider = field(default=SameProvider.REQUIRED, converter=same_provider)
    providers: tuple[str, ...] = field(default=(), converter=_tuple)
    codeset: str | None = None
    same_location: bool = True

    def steps(self) -> tuple[Step, ...]:
        """The series as a sequence of steps counted in local dates."""
        low = self.interval_days - self.tolerance_days
        high = self.interval_days + self.tolerance_days
        first = Step(self.visit_type, self.providers, codeset=self.codeset)
        later = Step(
            self.visit_type,
            self.providers,
            codeset=self.codeset,
            min_days=low,
            max_days=high,
            same_provider_as_previous=self.same_provider is SameProvider.REQUIRED,
            prefer_same_provider=self.same_provider is SameProvider.PREFERRED,
            same_location=self.same_location,
        )
        return ((first,) + (later,) * (self.count - 1)) if self.count >= 1 else ()


@frozen
class CompositeVisitType:
    """A visit-type code that books several appointments: a sequence of ``steps`` or a ``series``."""

    code: str
    codeset: str | None = None
    description: str | None = None
    steps: tuple[Step, ...] = field(default=(), converter=_tuple)
    series: Series | None = None

    def sequence(self) -> tuple[Step, ...]:
        """The steps to search (a series expanded)."""
        return self.series.steps() if self.series is not None else self.steps
