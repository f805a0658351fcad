"""Group visits: the open sessions of a visit type with ``seats`` > 1.

A *session* is the bookings and holds of a seated visit type with one provider at one location over
one span (the same start and end). Each item takes one seat per patient it names (at least one).
While some seat is free the session's start stays open to that visit type: a new patient joins it.
For everything else its time is busy, as any booking's is (the busy index treats it so).

Joining takes no more of the provider's time, the room or the equipment, so only the patient's own
time, the window, the visit type's notice and advance limits and the request's room filter apply
(``slotfinder._solve.candidates``). A booking limit does not refuse a join (each seat booked counts
toward limits as any booking does). A session's row has no gaps and touches no booking
(fragmentation and adjacency are 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from attrs import frozen

from slotfinder._domain import BusyKind, Provider, VisitType
from slotfinder._prepared import PreparedClinic

__all__ = ["Session", "open_sessions"]

_SEATED = (BusyKind.BOOKING, BusyKind.HOLD)


@frozen
class Session:
    """An open session: who (index into the search's providers), where (index into its locations), when."""

    provider: int
    location: int
    start: int
    end: int
    room: str | None
    taken: int


def open_sessions(
    prepared: PreparedClinic,
    providers: Sequence[Provider],
    places: Mapping[str, int],
    visit_type: VisitType,
    window: tuple[int, int],
) -> list[Session]:
    """Sessions of ``visit_type`` with a free seat, starting in ``window``, in a fixed order."""
    taken: dict[tuple[int, int, int, int], int] = {}
    rooms: dict[tuple[int, int, int, int], str | None] = {}
    for p_pos, provider in enumerate(providers):
        for item in prepared.busy.by_provider.get(provider.id, []):
            where = places.get(item.location_id or "")
            if item.visit_type != visit_type.code or item.kind not in _SEATED or where is None:
                continue
            if not window[0] <= item.start < window[1]:
                continue
            key = (p_pos, where, item.start, item.end)
            taken[key] = taken.get(key, 0) + max(1, len(item.patients))
            rooms[key] = rooms.get(key) or item.room
    return [Session(*key, room=rooms[key], taken=n) for key, n in sorted(taken.items()) if n < visit_type.seats]
