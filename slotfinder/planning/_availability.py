"""Next available appointments: the packed sequence behind first and third-next-available.

At instant ``now`` for visit type ``V``: the engine's every open start for ``V`` in ``[now, now +
horizon)`` (``list_candidates``, no preferences, so the engine's rules apply: template and one-off
time minus bookings, **holds**, out-of-office, closures and blocks not reserved for ``V``; a block
reserved for ``V``, or released, is open), walked in order of start (then provider, location, room)
and *packed*: a start is taken when it does not overlap an appointment already taken for the same
provider, nor for the same room. The packed starts are appointments that could all be booked at
once; overlapping starts on a fine grid (09:00, 09:05, ...) count as one appointment, not many.
"""

from __future__ import annotations

import attrs
from attrs import frozen

from slotfinder import Clinic, PreparedClinic, Settings, SlotRequest, VisitTypeFilter, list_candidates, prepare
from slotfinder.planning._minutes import DAY

__all__ = ["Available", "next_available"]

_STEPS = (DAY // 6, DAY, 2 * DAY, 7 * DAY, 28 * DAY)  # ever wider windows (minutes) before the whole horizon:
# the answer is the same, and a large clinic's first appointments lie in its first hours


@frozen
class Available:
    """One appointment of the packed next-available sequence."""

    start: int
    end: int
    provider_id: str
    location_id: str
    room: str | None


def next_available(
    clinic: Clinic | PreparedClinic,
    visit_type: str,
    now: int,
    *,
    count: int = 3,
    horizon_days: int = 90,
    settings: Settings | None = None,
) -> list[Available]:
    """The first ``count`` packed next available appointments of ``visit_type`` from ``now`` (module docstring).

    Fewer are returned when the horizon holds fewer. Packing walks starts in time order, so the
    first ``count`` found in a shorter window are the first ``count`` of any longer one: windows of
    4 hours, 1, 2, 7 and 28 days are tried before the whole horizon. Pass a prepared clinic when asking often.
    """
    prepared = prepare(clinic)  # once for every window below
    settings = attrs.evolve(settings or Settings(), hard_preferences=False)
    found: list[Available] = []
    for minutes in (*(m for m in _STEPS if m < horizon_days * DAY), horizon_days * DAY):
        request = SlotRequest(start=now, end=now + minutes, visit_types=[VisitTypeFilter(visit_type)])
        candidates = sorted(
            list_candidates(prepared, request, settings, now),
            key=lambda c: (c.start, c.provider_id, c.location_id, c.room or ""),
        )
        provider_free: dict[str, int] = {}
        room_free: dict[tuple[str, str], int] = {}
        found = []
        for c in candidates:
            end = c.start + c.duration
            if c.start < provider_free.get(c.provider_id, c.start):
                continue
            room_key = (c.location_id, c.room) if c.room is not None else None
            if room_key is not None and c.start < room_free.get(room_key, c.start):
                continue
            # accepted starts come in time order and never overlap: the latest accepted ends last
            provider_free[c.provider_id] = end
            if room_key is not None:
                room_free[room_key] = end
            found.append(Available(c.start, end, c.provider_id, c.location_id, c.room))
            if len(found) == count:
                return found
    return found
