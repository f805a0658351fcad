"""Redox ``Scheduling.BookedResponse`` -> the visits an EHR says are booked, for reconciliation.

Only the fields a comparison needs are read (visit number, start, duration, attending provider);
patient data is not read at all. Problems are collected with their JSON paths and raised together as
``InvalidMessage``, never repeating a value. The differences found are written back in the Redox
style (``VisitNumber`` / ``Difference``) by :func:`format_differences`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from attrs import frozen

from slotfinder._errors import InvalidMessage
from slotfinder._problems import Problems, Reader
from slotfinder.redox._values import REDOX, read_instant, read_minutes

__all__ = ["BookedVisit", "booked_window", "format_differences", "read_booked"]


@frozen
class BookedVisit:
    """One visit an EHR lists as booked (nothing about the patient)."""

    visit_number: str
    start: int  # minutes since the epoch
    duration: int | None = None  # minutes; None when the EHR did not say
    provider_id: str | None = None  # the attending provider's ID, when given


def read_booked(message: Any) -> tuple[BookedVisit, ...]:
    """The visits of a BookedResponse message (a parsed JSON dict), in message order.

    Raises :class:`InvalidMessage` listing every problem: ``Visits`` must be an array of objects,
    each with a ``VisitNumber`` and a ``VisitDateTime`` with a UTC offset; ``Duration`` (minutes)
    and ``AttendingProvider.ID`` are read when given.
    """
    root = Reader(message, "$", Problems(), REDOX)
    if not isinstance(message, Mapping):
        root.problem("must be a JSON object")
        root.problems.raise_if_any(InvalidMessage)
    found: list[BookedVisit] = []
    for visit in root.at("Visits").items(required=True):
        if visit.object(required=True) is None:
            continue
        number = visit.at("VisitNumber").string(required=True)
        start = read_instant(visit.at("VisitDateTime"), required=True)
        duration = read_minutes(visit.at("Duration"))
        provider = visit.at("AttendingProvider")
        provider.object()
        provider_id = provider.at("ID").string()
        if number is not None and start is not None:
            found.append(BookedVisit(number, start, duration, provider_id))
    root.problems.raise_if_any(InvalidMessage)
    return tuple(found)


def booked_window(message: Any) -> tuple[int, int]:
    """From the earliest start of a BookedResponse to just after its latest ((0, 1) when it lists none).

    Raises :class:`InvalidMessage` like :func:`read_booked`.
    """
    starts = [visit.start for visit in read_booked(message)]
    return min(starts, default=0), max(starts, default=0) + 1


class _Difference(Protocol):
    """What a reconciliation found about one visit (``slotfinder.store.Difference``; the store is not imported)."""

    @property
    def visit_number(self) -> str: ...

    @property
    def what(self) -> str: ...


def format_differences(differences: Iterable[_Difference]) -> list[dict[str, str]]:
    """Differences (``slotfinder.store.Difference``) as JSON objects: ``{"VisitNumber": ..., "Difference": ...}``."""
    return [{"VisitNumber": d.visit_number, "Difference": d.what} for d in differences]
