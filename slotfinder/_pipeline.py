"""find_slots: resolve the request -> expand calendars -> candidates -> score -> prune -> CP-SAT -> rank."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence

import numpy as np
from attrs import evolve, frozen

from slotfinder._calendars import zones
from slotfinder._domain import Clinic, Location, SlotRequest, VisitType
from slotfinder._errors import InvalidRequest, Problem, WindowTooLarge
from slotfinder._prepared import PreparedClinic, prepare
from slotfinder._rank import TERMS, Scores, score_candidates
from slotfinder._result import RankedSlot, ScoreTerm, SlotResult
from slotfinder._settings import Settings
from slotfinder._solve.candidates import (
    CandidateTable,
    Search,
    find_candidates,
    location_room_filter,
    search_blocks,
)
from slotfinder._solve.problem import build_problem, rank_order, select_ranking
from slotfinder._solve.rolling import keep_rolling_dates

__all__ = ["Candidate", "find_slots", "list_candidates", "resolve_now"]

DAY = 1440

# Why a search found nothing, in the request's own terms (format edges may name their fields instead).
NO_PROVIDER = "no provider of the clinic matches the providers asked"
NO_LOCATION = "no location of the clinic matches the locations asked"
NO_VISIT_TYPE = "no visit type of the clinic matches the visit types asked"
HARD_PREFERENCES_EXCLUDE_ALL = "hard preferences exclude every open start"


def resolve_now(now: dt.datetime | int | None) -> int:
    """``now`` as an instant; None reads the wall clock here, at the API edge, never in the engine.

    Seconds round *up* to the minute (09:05:58 is 09:06), as for ``Meta.EventDateTime``: a start is
    never offered before the moment asked.
    """
    if now is None:
        now = dt.datetime.now(dt.UTC)
    if isinstance(now, int):
        _in_range("now", now)
        return now
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidRequest([Problem("now", "must carry a UTC offset (naive date-times are ambiguous)")])
    instant = -int(-(now - zones.EPOCH) // dt.timedelta(minutes=1))  # ceiling: never earlier than asked
    _in_range("now", instant)
    return instant


def _in_range(field: str, instant: int) -> None:
    if not zones.EARLIEST <= instant < zones.LATEST:
        raise InvalidRequest([Problem(field, zones.RANGE_RULE)])


def _visit_types(clinic: Clinic, request: SlotRequest) -> list[VisitType | None]:
    if not request.visit_types:
        return [None]
    return [
        vt
        for vt in clinic.visit_types
        if any(f.code == vt.code and (f.codeset is None or f.codeset == vt.codeset) for f in request.visit_types)
    ]


def _duration(clinic: Clinic, request: SlotRequest, visit_type: VisitType | None) -> int:
    for preference in request.preferences:
        if preference.duration is not None:
            return preference.duration
    return visit_type.duration if visit_type is not None else clinic.default_duration


def _window(request: SlotRequest, settings: Settings) -> tuple[int, int]:
    _in_range("start", request.start)
    if request.end is not None:
        _in_range("end", request.end)
    end = request.end if request.end is not None else request.start + settings.default_horizon_days * DAY
    if end <= request.start:
        raise InvalidRequest([Problem("end", "must be later than the start")])
    if end - request.start > settings.max_horizon_days * DAY:
        raise WindowTooLarge(
            [
                Problem(
                    "end",
                    f"the window is longer than the maximum horizon of {settings.max_horizon_days} days",
                )
            ]
        )
    return request.start, end


def _search(clinic: Clinic, request: SlotRequest, settings: Settings, now: int) -> tuple[Search, list[str]]:
    """The request resolved against the clinic, and the reasons if a filter leaves nothing."""
    start, end = _window(request, settings)
    reasons: list[str] = []
    providers = sorted(
        (
            p
            for p in clinic.providers
            if not request.providers
            or any(f.id == p.id and (f.id_type is None or f.id_type == p.id_type) for f in request.providers)
        ),
        key=lambda p: p.id,
    )
    if not providers:
        reasons.append(NO_PROVIDER)
    locations: list[Location] = []
    room_filters: list[frozenset[str] | None] = []
    for loc in sorted(clinic.locations, key=lambda loc: loc.id):
        rooms = location_room_filter(loc, request.locations)
        if rooms is not False:
            locations.append(loc)
            room_filters.append(rooms if isinstance(rooms, frozenset) else None)
    if not locations:
        reasons.append(NO_LOCATION)
    visit_types = _visit_types(clinic, request)
    if not visit_types:
        reasons.append(NO_VISIT_TYPE)
    window_start = max(start, now + settings.min_notice_minutes)
    if window_start >= end:
        reasons.append("the window ends before now plus the minimum notice")
    search = Search(
        window_start=window_start,
        window_end=end,
        request_start=start,
        providers=tuple(providers),
        locations=tuple(locations),
        room_filters=tuple(room_filters),
        visit_types=tuple(visit_types),
        durations=tuple(_duration(clinic, request, vt) for vt in visit_types),
        now=now,
        alignment=settings.start_alignment or clinic.start_alignment,
    )
    return search, reasons


def _continuity(prepared: PreparedClinic, request: SlotRequest, settings: Settings) -> frozenset[str]:
    """Providers the patient already sees (their bookings), plus the configured preferred ones."""
    seen = {b.provider_id for b in prepared.busy.patient_items(request.patient_ids) if b.provider_id}
    return frozenset(seen) | frozenset(settings.preferred_providers)


@frozen
class Candidate:
    """One open start as the engine sees it (for inspection and for tests)."""

    start: int
    duration: int
    provider_id: str
    location_id: str
    visit_type: str | None
    room: str | None
    local_date: dt.date
    score: float
    points: int
    eligible: bool  # kept by hard preferences (always True when preferences are soft)


class _Stopwatch:
    """Milliseconds per pipeline stage, for the result (benchmarks report them)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = self.laps.get(stage, 0.0) + (now - self._last) * 1000
        self._last = now


def _scored(
    prepared: PreparedClinic, request: SlotRequest, settings: Settings, now: int, watch: _Stopwatch
) -> tuple[CandidateTable, Scores, list[str]]:
    search, reasons = _search(prepared.clinic, request, settings, now)
    blocks = search_blocks(prepared, search, settings)
    watch.lap("expand")
    table = keep_rolling_dates(prepared, search, request, settings, find_candidates(prepared, search, request, blocks))
    watch.lap("candidates")
    scores = score_candidates(table, request.preferences, _continuity(prepared, request, settings), settings)
    watch.lap("score")
    return table, scores, reasons


def list_candidates(
    clinic: Clinic | PreparedClinic,
    request: SlotRequest,
    settings: Settings | None = None,
    now: dt.datetime | int | None = None,
) -> list[Candidate]:
    """Every candidate before pruning, in output order (best first)."""
    settings = settings or Settings()
    table, scores, _ = _scored(prepare(clinic), request, settings, resolve_now(now), _Stopwatch())
    rows = rank_order(table, scores.points, np.arange(len(table)))
    return [_candidate(table, scores, int(i)) for i in rows]


def _candidate(table: CandidateTable, scores: Scores, i: int) -> Candidate:
    search = table.search
    vt = search.visit_types[table.visit_type[i]]
    return Candidate(
        start=int(table.start[i]),
        duration=int(table.duration[i]),
        provider_id=search.providers[table.provider[i]].id,
        location_id=search.locations[table.location[i]].id,
        visit_type=vt.code if vt else None,
        room=table.rooms[table.room[i]] if table.room[i] >= 0 else None,
        local_date=zones.EPOCH.date() + dt.timedelta(days=int(table.local_day[i])),
        score=float(scores.total[i]),
        points=int(scores.points[i]),
        eligible=bool(scores.keep[i]),
    )


def _slot(table: CandidateTable, scores: Scores, i: int, settings: Settings) -> RankedSlot:
    search = table.search
    minute = int(table.local_minute[i])
    return RankedSlot(
        start=int(table.start[i]),
        duration=int(table.duration[i]),
        provider=search.providers[table.provider[i]],
        location=search.locations[table.location[i]],
        room=table.rooms[table.room[i]] if table.room[i] >= 0 else None,
        visit_type=search.visit_types[table.visit_type[i]],
        score=float(scores.total[i]),
        terms=tuple(ScoreTerm(name, float(scores.terms[name][i]), getattr(settings.weights, name)) for name in TERMS),
        local_date=zones.EPOCH.date() + dt.timedelta(days=int(table.local_day[i])),
        local_time=dt.time(minute // 60, minute % 60),
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
    ``relax`` is true, ``alternatives`` holds the next slots found with soft preferences, then with
    the window widened to ``settings.max_horizon_days`` (its cost shows in ``timings["alternatives"]``).
    """
    settings = settings or Settings()
    prepared = prepare(clinic)
    instant = resolve_now(now)
    watch = _Stopwatch()
    table, scores, reasons = _scored(prepared, request, settings, instant, watch)
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
    slots = tuple(_slot(table, scores, int(i), settings) for i in selection.rows)
    alternatives: tuple[RankedSlot, ...] = ()
    if not slots:
        reasons = reasons or [_why_empty(len(table), int(scores.keep.sum()))]
        if relax:  # an extra search (up to max_horizon_days): timed on its own, so it is never silent
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


def _relaxed(prepared: PreparedClinic, request: SlotRequest, settings: Settings, now: int) -> tuple[RankedSlot, ...]:
    """Next available slots with soft preferences, then with the window widened to the maximum horizon."""
    tries: list[tuple[SlotRequest, Settings]] = []
    if settings.hard_preferences:
        tries.append((request, evolve(settings, hard_preferences=False)))
    widest = evolve(request, end=request.start + settings.max_horizon_days * DAY)
    if widest.end != request.end:
        tries.append((widest, evolve(settings, hard_preferences=False)))
    for wider_request, wider_settings in tries:
        found = find_slots(prepared, wider_request, wider_settings, now, relax=False)
        if found.slots:
            return found.slots
    return ()
