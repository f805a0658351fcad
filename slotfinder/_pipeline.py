"""find_slots: resolve the request -> expand calendars -> candidates -> score -> prune -> CP-SAT -> rank.

The stages up to scored candidates live in ``slotfinder._search``; a request naming a composite visit
type is answered by ``slotfinder._offer_slots``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from attrs import evolve

from slotfinder._calendars import zones
from slotfinder._domain import Clinic, SlotRequest
from slotfinder._offer_slots import composite_asked, find_composite_slots
from slotfinder._prepared import PreparedClinic, prepare
from slotfinder._rank import TERMS, Scores
from slotfinder._result import RankedSlot, ScoreTerm, SlotResult
from slotfinder._search import (
    HARD_PREFERENCES_EXCLUDE_ALL,
    NO_LOCATION,
    NO_PROVIDER,
    NO_VISIT_TYPE,
    Candidate,
    Stopwatch,
    list_candidates,
    resolve_now,
    scored,
)
from slotfinder._settings import Settings
from slotfinder._solve.candidates import CandidateTable
from slotfinder._solve.problem import build_problem, select_ranking

__all__ = [
    "HARD_PREFERENCES_EXCLUDE_ALL",
    "NO_LOCATION",
    "NO_PROVIDER",
    "NO_VISIT_TYPE",
    "RELAX_DAYS",
    "RELAX_FIRST_DAYS",
    "Candidate",
    "find_slots",
    "list_candidates",
    "relax_windows",
    "resolve_now",
]

DAY = 1440


def _slots(table: CandidateTable, scores: Scores, rows: npt.ArrayLike, settings: Settings) -> tuple[RankedSlot, ...]:
    """The chosen rows as slots, in order (columns read once for all of them, not per slot)."""
    search = table.search
    at = np.asarray(rows, dtype=np.intp)
    start, duration, total = table.start[at].tolist(), table.duration[at].tolist(), scores.total[at].tolist()
    provider, location = table.provider[at].tolist(), table.location[at].tolist()
    room, visit_type = table.room[at].tolist(), table.visit_type[at].tolist()
    local_day, local_minute = table.local_day[at].tolist(), table.local_minute[at].tolist()
    terms = [(name, scores.terms[name][at].tolist(), getattr(settings.weights, name)) for name in TERMS]
    epoch = zones.EPOCH.date()
    return tuple(
        RankedSlot(
            start=start[k],
            duration=duration[k],
            provider=search.providers[provider[k]],
            location=search.locations[location[k]],
            room=table.rooms[room[k]] if room[k] >= 0 else None,
            visit_type=search.visit_types[visit_type[k]],
            score=total[k],
            terms=tuple(ScoreTerm(name, values[k], weight) for name, values, weight in terms),
            local_date=epoch + dt.timedelta(days=local_day[k]),
            local_time=dt.time(local_minute[k] // 60, local_minute[k] % 60),
        )
        for k in range(len(start))
    )


def find_slots(
    clinic: Clinic | PreparedClinic,
    request: SlotRequest,
    settings: Settings | None = None,
    now: dt.datetime | int | None = None,
    *,
    ignored: Sequence[str] = (),
    relax: bool = True,
) -> SlotResult:
    """Ranked open slots for ``request`` in ``clinic`` (see the README for every rule).

    Pass a :class:`PreparedClinic` when searching one clinic many times: a plain ``Clinic`` is
    prepared afresh on every call (nothing is cached between calls). When nothing is found and
    ``relax`` is true, ``alternatives`` holds the next slots found with soft preferences, then in growing
    windows after the window, at most ``RELAX_DAYS`` days beyond it (its cost shows in
    ``timings["alternatives"]``).
    """
    settings = settings or Settings()
    prepared = prepare(clinic)
    instant = resolve_now(now)
    if prepared.clinic.composites:
        composite = composite_asked(prepared.clinic, request)
        if composite is not None:  # a sequence or series: offers, laid out as slots
            return find_composite_slots(prepared, composite, request, settings, instant, ignored)
    watch = Stopwatch()
    table, scores, reasons = scored(prepared, request, settings, instant, watch)
    problem = build_problem(
        table,
        scores.points,
        scores.keep,
        limit=settings.limit,
        per_day=settings.per_day,
        per_provider_day=settings.per_provider_day,
        per_provider=settings.per_provider,
        min_providers=settings.min_providers,
        spread=settings.spread,
    )
    watch.lap("model")
    if problem.exact_ranking:  # the caps nest: the pruned ranking is optimal, no solver needed
        selection = select_ranking(problem)
    else:
        from slotfinder._solve.cpsat import solve  # ortools loads only when a solver is needed

        selection = solve(problem, settings.time_limit_seconds, settings.random_seed)
    watch.lap("solve")
    slots = _slots(table, scores, selection.rows, settings)
    alternatives: tuple[RankedSlot, ...] = ()
    if not slots:
        reasons = reasons or [_why_empty(len(table), int(scores.keep.sum()))]
        if relax:  # extra searches (at most RELAX_DAYS beyond the window): timed on their own, never silent
            alternatives = _relaxed(prepared, request, settings, instant)
            watch.lap("alternatives")
    return SlotResult(
        slots=slots,
        status=selection.status if slots else "EMPTY",
        complete=selection.complete,
        method=selection.method if slots else "none",
        now=instant,
        window=(table.search.window_start, table.search.window_end),
        candidates=problem.before_pruning,
        pruned_to=int(problem.rows.shape[0]),
        ignored=tuple(ignored),
        reasons=tuple(reasons),
        alternatives=alternatives,
        timings=watch.laps,
    )


def _why_empty(candidates: int, eligible: int) -> str:
    if candidates and not eligible:
        return HARD_PREFERENCES_EXCLUDE_ALL
    return "no open time in the window for the providers, locations and visit types asked"


# The empty-answer relaxation looks this far beyond the window at most (never past ``max_horizon_days``
# from the window's start), in windows of RELAX_FIRST_DAYS, then twice as long each time.
RELAX_DAYS = 56
RELAX_FIRST_DAYS = 7


def relax_windows(start: int, end: int, settings: Settings) -> list[tuple[int, int]]:
    """The windows ``_relaxed`` searches after an empty window ``[start, end)``, in order: outward from its
    end, 7, 14, 28, ... days long, together at most ``RELAX_DAYS`` days and ending by the maximum horizon."""
    limit = min(end + RELAX_DAYS * DAY, start + settings.max_horizon_days * DAY)
    windows: list[tuple[int, int]] = []
    length, lo = RELAX_FIRST_DAYS * DAY, end
    while lo < limit:
        windows.append((lo, min(lo + length, limit)))
        lo, length = lo + length, length * 2
    return windows


def _relaxed(prepared: PreparedClinic, request: SlotRequest, settings: Settings, now: int) -> tuple[RankedSlot, ...]:
    """Next available slots: with soft preferences in the same window, then in growing windows after it
    (``relax_windows``: at most ``RELAX_DAYS`` days beyond it), the first that has any."""
    soft = evolve(settings, hard_preferences=False)
    if settings.hard_preferences:
        found = find_slots(prepared, request, soft, now, relax=False)
        if found.slots:
            return found.slots
    end = request.end if request.end is not None else request.start + settings.default_horizon_days * DAY
    for lo, hi in relax_windows(request.start, end, settings):
        found = find_slots(prepared, evolve(request, start=lo, end=hi), soft, now, relax=False)
        if found.slots:
            return found.slots
    return ()
