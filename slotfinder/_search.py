"""The search up to scored candidates: resolve ``now`` and the window, expand the calendars, list the
open starts and score them. ``find_slots`` (``slotfinder._pipeline``) selects from these; composite
searches (``slotfinder._offers``) run one per step."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
from attrs import frozen

from slotfinder._calendars import zones
from slotfinder._domain import Clinic, Location, SlotRequest, VisitType
from slotfinder._errors import InvalidRequest, Problem, WindowTooLarge
from slotfinder._prepared import PreparedClinic, prepare
from slotfinder._rank import Scores, score_candidates
from slotfinder._settings import Settings
from slotfinder._solve.candidates import (
    CandidateTable,
    Search,
    find_candidates,
    location_room_filter,
    search_blocks,
)
from slotfinder._solve.problem import rank_order
from slotfinder._solve.rolling import keep_rolling_dates

__all__ = [
    "HARD_PREFERENCES_EXCLUDE_ALL",
    "NO_LOCATION",
    "NO_PROVIDER",
    "NO_VISIT_TYPE",
    "Candidate",
    "Stopwatch",
    "list_candidates",
    "resolve_now",
    "scored",
]

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


class Stopwatch:
    """Milliseconds per pipeline stage, for the result (benchmarks report them)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.laps[stage] = self.laps.get(stage, 0.0) + (now - self._last) * 1000
        self._last = now


def scored(
    prepared: PreparedClinic, request: SlotRequest, settings: Settings, now: int, watch: Stopwatch
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
    table, scores, _ = scored(prepare(clinic), request, settings, resolve_now(now), Stopwatch())
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
