"""The empty-answer relaxation (``find_slots(..., relax=True)``): bounded, outward from the window.

When a window has no slot, ``alternatives`` holds the slots of the first of growing windows after it
(7, 14, 28, ... days) that has any, never more than ``RELAX_DAYS`` days beyond the window nor past
``max_horizon_days`` from its start (docs/semantics.md, "Empty answers").
"""

from __future__ import annotations

import itertools

from slotfinder import find_slots
from slotfinder._domain import Clinic, Opening
from slotfinder._pipeline import DAY, RELAX_DAYS, RELAX_FIRST_DAYS, relax_windows
from slotfinder._settings import Settings
from tests.clinic_builders import MAIN, NOW, P1, at, clinic, day, minute, request


def _only_opening(offset: int) -> Opening:
    """P1's one opening, 10:00-11:00 on the day ``offset`` days after the test Monday."""
    return Opening(P1.id, MAIN.id, day(offset), minute("10:00"), minute("11:00"))


def _lonely(offset: int) -> Clinic:
    """A clinic whose only open time is one opening ``offset`` days after the test Monday."""
    return clinic(templates=[], openings=[_only_opening(offset)])


def test_windows_grow_outward_and_stop_at_the_budget() -> None:
    """7, 14, 28 days, then what is left of the budget, starting where the window ends."""
    windows = relax_windows(0, 7 * DAY, Settings())
    assert windows[0] == (7 * DAY, (7 + RELAX_FIRST_DAYS) * DAY)
    assert [hi - lo for lo, hi in windows] == [7 * DAY, 14 * DAY, 28 * DAY, 7 * DAY]
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))
    assert windows[-1][1] == 7 * DAY + RELAX_DAYS * DAY


def test_windows_never_pass_the_maximum_horizon() -> None:
    """The budget is clipped to ``max_horizon_days`` from the window's start; a window that already
    reaches it is not widened."""
    assert relax_windows(0, 7 * DAY, Settings(max_horizon_days=20))[-1][1] == 20 * DAY
    assert relax_windows(0, 20 * DAY, Settings(max_horizon_days=20)) == []


def test_relaxation_finds_the_next_slot_beyond_the_window() -> None:
    """Allowed: the only open time, 30 days after a one-day window, is offered as an alternative."""
    result = find_slots(_lonely(30), request(first=day(0)), Settings(), NOW)
    assert result.slots == ()
    assert result.alternatives
    assert min(s.start for s in result.alternatives) == at(day(30), "10:00")


def test_relaxation_stops_at_its_budget() -> None:
    """Forbidden: open time further than ``RELAX_DAYS`` beyond the window is not searched for."""
    beyond = RELAX_DAYS + 5
    result = find_slots(_lonely(beyond), request(first=day(0)), Settings(), NOW)
    assert result.slots == () and result.alternatives == ()
    # within the maximum horizon, so a request reaching it finds the slot: the budget alone stopped it
    wide = request(first=day(0), days=beyond + 1)
    assert find_slots(_lonely(beyond), wide, Settings(), NOW).slots


def test_relax_false_searches_nothing_more() -> None:
    """``relax=False``: no alternatives, and no time spent looking for them."""
    result = find_slots(_lonely(30), request(first=day(0)), Settings(), NOW, relax=False)
    assert result.alternatives == () and "alternatives" not in result.timings
