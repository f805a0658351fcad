"""Rolling dates: a visit type with ``rolling_dates = N`` is offered only on the first N local dates,
counted from today at each location, on which the search has an open start of that type.

"Has an open start" means: would be a candidate of the same search (its providers, locations, rooms,
patient, visit length, every calendar rule, the type's notice and advance limits) if the window
began at ``now`` plus the minimum notice instead of at the request's start, so a request for a later
window does not move the rolling dates. Preferences do not count (they choose among open starts).
Dates are counted per visit type and location, each in the location's own local dates.
"""

from __future__ import annotations

import numpy as np
from attrs import evolve

from slotfinder._domain import SlotRequest
from slotfinder._prepared import PreparedClinic
from slotfinder._settings import Settings
from slotfinder._solve.candidates import CandidateTable, Search, find_candidates, search_blocks

__all__ = ["keep_rolling_dates"]


def keep_rolling_dates(
    prepared: PreparedClinic, search: Search, request: SlotRequest, settings: Settings, table: CandidateTable
) -> CandidateTable:
    """``table`` without the candidates of a rolling visit type on a date past its first N open dates."""
    rolling = [
        (i, vt.rolling_dates)
        for i, vt in enumerate(search.visit_types)
        if vt is not None and vt.rolling_dates is not None
    ]
    if not rolling or len(table) == 0:
        return table
    positions = [i for i, _ in rolling]
    earliest = search.now + settings.min_notice_minutes
    if search.window_start <= earliest:  # the window already starts now: its candidates tell
        wide, position_of = table, list(range(len(search.visit_types)))
    else:
        wider = evolve(
            search,
            window_start=earliest,
            visit_types=tuple(search.visit_types[i] for i in positions),
            durations=tuple(search.durations[i] for i in positions),
        )
        wide = find_candidates(prepared, wider, request, search_blocks(prepared, wider, settings))
        position_of = positions
    wide_type = np.array(position_of, dtype=np.int64)[wide.visit_type] if len(wide) else wide.visit_type
    keep = np.ones(len(table), dtype=bool)
    for position, dates in rolling:
        ours = table.visit_type == position
        keep &= ~ours  # kept again below on an allowed date
        for location in np.unique(table.location[ours]):
            found = np.unique(wide.local_day[(wide_type == position) & (wide.location == location)])
            allowed = found[:dates]  # np.unique sorts: the first N dates with an open start
            keep |= ours & (table.location == location) & np.isin(table.local_day, allowed)
    return table.take(np.flatnonzero(keep))
