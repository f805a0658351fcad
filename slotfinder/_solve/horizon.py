"""The booking horizon of a visit type: minimum notice and maximum advance (``VisitType``).

* ``min_notice_minutes``: a start lies at or after ``now`` plus this many minutes. The window already
  starts at ``now + Settings.min_notice_minutes``, so the stricter of the two applies.
* ``max_advance_days``: the start's local date at the location is at most this many days after the
  local date of ``now`` there (0: today only). Counted in local dates, so a DST change does not move it.

The third rule, ``rolling_dates``, needs the candidates of a wider window: ``rolling.keep_rolling_dates``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from slotfinder._calendars import zones
from slotfinder._domain import VisitType

__all__ = ["within_horizon"]

IntArray = npt.NDArray[np.int64]


def within_horizon(
    visit_type: VisitType | None, now: int, zone: str, starts: IntArray, local_day: Callable[[], IntArray]
) -> npt.NDArray[np.bool_]:
    """For each start: inside the visit type's notice and advance limits (``local_day``: days since
    1970-01-01 of each start's local date, computed only when an advance limit applies)."""
    keep = np.ones(starts.shape, dtype=bool)
    if visit_type is None:
        return keep
    if visit_type.min_notice_minutes:
        keep &= starts >= now + visit_type.min_notice_minutes
    if visit_type.max_advance_days is not None:
        today = (zones.local_of(zone, now)[0] - zones.EPOCH.date()).days
        keep &= local_day() <= today + visit_type.max_advance_days
    return keep
