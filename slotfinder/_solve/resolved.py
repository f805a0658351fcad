"""A request resolved against a clinic (``Search``): what every candidate-stage module reads."""

from __future__ import annotations

from attrs import frozen

from slotfinder._domain import Location, Provider, StartAlignment, VisitType

__all__ = ["Search"]


@frozen
class Search:
    """A request resolved against a clinic: the window, the resources in play, the visit lengths."""

    window_start: int  # earliest start offered: max(request start, now + notice)
    window_end: int  # starts lie before this instant
    request_start: int  # the window as asked (earliness is measured over it)
    providers: tuple[Provider, ...]
    locations: tuple[Location, ...]
    room_filters: tuple[frozenset[str] | None, ...]  # per location: rooms allowed by the request
    visit_types: tuple[VisitType | None, ...]  # None: no visit type asked
    durations: tuple[int, ...]  # per visit type
    now: int
    alignment: StartAlignment = StartAlignment.BLOCK  # where starts lie in a block (alignment.py)
