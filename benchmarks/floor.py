"""An honest floor for the candidate stage: the same work as ``slotfinder.list_candidates`` for searches of
providers' time, done the fastest straightforward way, on one global timeline with numpy.

    floor = Floor(clinic)                                   # busy time indexed once (untimed, like prepare)
    floor_candidates(floor, request, settings, now, limit=20)  # the earliest 20 (provider, location, start, end)

What it does, read from docs/clinic-format.md and the README (never from the engine's code):

* working time: weekly templates per local date (effective dates, weekdays), openings, date-override
  hours replacing that date's templates (at a location, or everywhere), open times; wall time under
  the "compatible" DST policy (``floor_blocks.py``); blocks that allow the visit type asked;
* busy time of every kind: the provider's bookings, holds, blocks and out-of-office at any location,
  closures of the location, the patient's own appointments; a block reserved for visit types is busy
  only for the others, and for nobody once released;
* starts every step (the block's ``slot_length`` or ``Settings.start_interval``) from each block's start,
  in ``[max(request start, now + notice), end)``; a visit may run across touching or overlapping blocks
  of its provider and location; a start found in two blocks counts once;
* with ``limit``, the earliest ``limit`` by (start, provider id, location id).

How: every (provider, location) pair, provider, location, room and unit gets its own stretch of one
integer line (resource ``r``'s instant ``t`` at ``r * SPAN + t - BASE``), so one sort order serves all of
them at once. A pair's blocks merge into runs by a running maximum of their ends. Each run loses busy
time line by line (the provider's, the location's closures, the patient's): what keeps every visit out
is merged once per clinic, so a run meets the gaps between those intervals in a contiguous range found
by two ``np.searchsorted``; reserved blocks that keep this visit type out are cut per search by a
running maximum restarted per piece. The grid is then stepped (``np.repeat``) only inside free pieces
long enough for the visit. No Python loop per provider, block or start; only the busy index (once per
clinic), the per-zone DST table and the eligible rooms per (location, block rule) loop.

Not modelled (``Unmodelled`` is raised, so a comparison never silently differs): booking limits, start
alignments other than ``"block"``, buffers, a visit type's booking horizon (notice, advance, rolling
dates), pooled resources, group visits (``seats`` above 1), several visit types in one search, location
filters other than by id (so neither is a request's ``Room``). Rooms and equipment a visit type needs
are in ``floor_rooms.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from benchmarks.floor_blocks import DAY, BlockTable, Rules, expand
from benchmarks.floor_busy import BASE, SPAN, Timeline, Unmodelled
from benchmarks.floor_rooms import Resources
from slotfinder import Busy, Clinic, Settings, SlotRequest, StartAlignment, VisitType

__all__ = ["BASE", "SPAN", "Floor", "Timeline", "Unmodelled", "floor_candidates"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
_MARGIN_DAYS = 3  # local dates, in any zone, whose blocks can hold a start (or its visit) in the window


class Floor:
    """A clinic indexed once for the floor (as ``slotfinder.prepare`` indexes it for the engine): its rules
    as columns, its busy time per provider and per location on timelines, block tables per date range."""

    def __init__(self, clinic: Clinic) -> None:
        self.clinic = clinic
        self.rules = Rules.of(clinic)
        self.p_of = {p: i for i, p in enumerate(self.rules.provider_ids)}
        self.l_of = {loc: i for i, loc in enumerate(self.rules.location_ids)}
        self.codes: dict[str, int] = {v.code: i for i, v in enumerate(clinic.visit_types)}
        by_provider: list[tuple[int, Busy]] = []
        closures: list[tuple[int, Busy]] = []
        self.by_patient: dict[str, list[Busy]] = {}
        for item in clinic.busy:  # an item of a provider or location the clinic lacks keeps no search out
            for patient in item.patients:
                self.by_patient.setdefault(patient.id, []).append(item)
            if item.provider_id is not None:
                if item.provider_id in self.p_of:
                    by_provider.append((self.p_of[item.provider_id], item))
            elif item.location_id in self.l_of and item.room is None and item.equipment is None and item.pool is None:
                closures.append((self.l_of[item.location_id], item))
        self.providers = Timeline.of(by_provider, self.codes)
        self.closures = Timeline.of(closures, self.codes)
        self.resources = Resources.of(clinic, self.rules, self.codes)
        buffered = {v.code for v in clinic.visit_types if v.buffer_before or v.buffer_after}
        self.buffered_items = any(item.visit_type in buffered for item in clinic.busy)
        self._blocks: dict[tuple[int, int, int | None], BlockTable] = {}
        self._allowed: dict[str | None, BoolArray] = {}

    def blocks(self, first: int, last: int, start_interval: int | None) -> BlockTable:
        """Blocks on local days ``first``..``last``, kept per range (as the engine keeps its expansions)."""
        key = (first, last, start_interval)
        if key not in self._blocks:
            self._blocks[key] = expand(self.rules, first, last, start_interval)
        return self._blocks[key]

    def allowed(self, code: str | None) -> BoolArray:
        """Per rule: does it let a visit of ``code`` start (None: any block)?"""
        if code not in self._allowed:
            self._allowed[code] = np.array(
                [code is None or not a or code in a for a in self.rules.allowed] or [False], dtype=bool
            )
        return self._allowed[code]


@dataclass(frozen=True)
class _Search:
    start: int  # earliest start
    end: int  # starts lie before this
    providers: BoolArray
    locations: BoolArray
    visit_type: VisitType | None
    duration: int


def _resolve(floor: Floor, request: SlotRequest, settings: Settings, now: int) -> _Search | None:
    """The request against the clinic (None: nothing matches); ``Unmodelled`` for a rule the floor lacks."""
    clinic = floor.clinic
    if clinic.booking_limits or (settings.start_alignment or clinic.start_alignment) is not StartAlignment.BLOCK:
        raise Unmodelled("booking limits and start alignments other than block")
    if floor.buffered_items:
        raise Unmodelled("busy items of a visit type with buffers")
    if any(f.facility or f.department or f.type or f.room or f.id is None for f in request.locations):
        raise Unmodelled("location filters other than by id")
    kinds = [
        v
        for v in clinic.visit_types
        if any(f.code == v.code and (f.codeset is None or f.codeset == v.codeset) for f in request.visit_types)
    ]
    if len(kinds) > 1:
        raise Unmodelled("several visit types in one search")
    if request.visit_types and not kinds:
        return None
    kind = kinds[0] if kinds else None
    if kind is not None and (
        kind.buffer_before or kind.buffer_after or kind.min_notice_minutes or kind.needs or kind.seats > 1
        or kind.max_advance_days is not None or kind.rolling_dates is not None
    ):  # fmt: skip
        raise Unmodelled("buffers, a booking horizon, pooled resources or group visits")
    providers = np.array(
        [
            not request.providers
            or any(f.id == p.id and (f.id_type is None or f.id_type == p.id_type) for f in request.providers)
            for p in sorted(clinic.providers, key=lambda p: p.id)
        ],
        dtype=bool,
    )
    wanted = {f.id for f in request.locations}
    locations = np.array([not wanted or loc in wanted for loc in floor.rules.location_ids], dtype=bool)
    duration = next((p.duration for p in request.preferences if p.duration is not None), None)
    duration = duration or (kind.duration if kind is not None else clinic.default_duration)
    end = request.end if request.end is not None else request.start + settings.default_horizon_days * DAY
    return _Search(max(request.start, now + settings.min_notice_minutes), end, providers, locations, kind, duration)


def floor_arrays(
    floor: Floor, request: SlotRequest, settings: Settings, now: int
) -> tuple[IntArray, IntArray, IntArray, int]:
    """Every candidate as columns: start, provider index, location index (indices into the sorted ids),
    and the visit length."""
    search = _resolve(floor, request, settings, now)
    empty = np.zeros(0, dtype=np.int64)
    if search is None or search.end <= search.start:
        return empty, empty, empty, 0
    first = (search.start // DAY) - _MARGIN_DAYS
    last = (search.end - 1) // DAY + _MARGIN_DAYS
    table = floor.blocks(first, last, settings.start_interval)
    code = None if search.visit_type is None else search.visit_type.code
    keep = floor.allowed(code)[table.rule] & search.providers[table.provider] & search.locations[table.location]
    provider, location = table.provider[keep], table.location[keep]
    b_start, b_end, step = table.start[keep], table.end[keep], table.step[keep]
    if b_start.size == 0:
        return empty, empty, empty, 0
    # blocks of one provider and location merge where they touch or overlap (sorted by pair, then start)
    shift = (provider * len(floor.rules.location_ids) + location) * SPAN - BASE
    top = np.maximum.accumulate(b_end + shift)
    new = np.ones(b_start.size, dtype=bool)
    new[1:] = b_start[1:] + shift[1:] > top[:-1]
    heads = np.flatnonzero(new)
    run = np.cumsum(new) - 1
    overlapped = np.zeros(heads.size, dtype=bool)  # runs with overlapping blocks: a start may repeat there
    overlapped[run[1:][~new[1:] & (b_start[1:] + shift[1:] < top[:-1])]] = True

    duration, code_index = search.duration, None if code is None else floor.codes[code]
    lo, hi = b_start[heads], top[np.r_[heads[1:] - 1, b_start.size - 1]] - shift[heads]
    lines = [(floor.providers, provider[heads]), (floor.closures, location[heads])]
    patient = _patient_timeline(floor, request)
    if patient is not None:
        lines.append((patient, np.zeros(heads.size, dtype=np.int64)))
    lo, hi, piece_run = _free(lines, lo, hi, duration, code_index, now)
    owner, starts = _grid(b_start + shift, b_end, step, heads[piece_run], shift, lo, hi, search)
    kind = search.visit_type
    if kind is not None and code_index is not None and (kind.needs_room or kind.equipment):
        rule = table.rule[keep][owner]
        free = floor.resources.free(floor.rules, kind, rule, location[owner], starts, duration, code_index, now)
        owner, starts = owner[free], starts[free]

    repeat = overlapped[run[owner]]
    if repeat.any():  # one start found in overlapping blocks of one pair counts once
        key = np.unique(starts[repeat] + shift[owner[repeat]])
        pair = (key + BASE) // SPAN
        n_loc = len(floor.rules.location_ids)
        starts = np.concatenate([starts[~repeat], key - pair * SPAN + BASE])
        p = np.concatenate([provider[owner[~repeat]], pair // n_loc])
        return starts, p, np.concatenate([location[owner[~repeat]], pair % n_loc]), search.duration
    return starts, provider[owner], location[owner], search.duration


def _free(
    lines: list[tuple[Timeline, IntArray]], lo: IntArray, hi: IntArray, duration: int, code: int | None, now: int
) -> tuple[IntArray, IntArray, IntArray]:
    """Runs ``[lo, hi)`` of working time less the busy time of each line (for each run, its resource on the
    line): the free pieces long enough for the visit, each with the index of its run."""
    run = np.arange(lo.size)
    for line, resource in lines:
        fits = hi - lo >= duration  # a piece too short for the visit holds no start
        lo, hi, run = lo[fits], hi[fits], run[fits]
        lo, hi, parent = line.subtract(lo, hi, resource[run], code, now)
        run = run[parent]
    fits = hi - lo >= duration
    return lo[fits], hi[fits], run[fits]


def _grid(
    keyed_start: IntArray,
    b_end: IntArray,
    step: IntArray,
    begin: IntArray,
    shift: IntArray,
    lo: IntArray,
    hi: IntArray,
    search: _Search,
) -> tuple[IntArray, IntArray]:
    """The starts in free pieces ``[lo, hi)``, with their blocks: from the first block of the piece's run
    (``begin``) to the last starting early enough for the visit, every step from the block's start, in
    ``[search.start, search.end)``, and the visit ending inside the piece. Blocks: starts keyed on the
    pairs' line (sorted), ends, steps."""
    duration = search.duration
    stop = np.searchsorted(keyed_start, hi - duration + shift[begin], side="right")
    pair = np.repeat(np.arange(begin.size), stop - begin)
    block = begin[pair] + np.arange(pair.size) - np.repeat(np.cumsum(stop - begin) - (stop - begin), stop - begin)
    b_first, b_step = keyed_start[block] - shift[block], step[block]
    earliest = np.maximum(np.maximum(b_first, lo[pair]), search.start)
    first = b_first + -(-(earliest - b_first) // b_step) * b_step
    latest = np.minimum(np.minimum(b_end[block] - 1, search.end - 1), hi[pair] - duration)
    count = np.maximum((latest - first) // b_step + 1, 0)
    at = np.repeat(np.arange(block.size), count)
    within = np.arange(at.size) - np.repeat(np.cumsum(count) - count, count)
    return block[at], first[at] + within * b_step[at]


def _patient_timeline(floor: Floor, request: SlotRequest) -> Timeline | None:
    """The patient's own appointments (any of the request's identifiers; a missing id type matches any)."""
    mine = [
        (b.start, b.end)
        for w in request.patient_ids
        for b in floor.by_patient.get(w.id, ())
        if any(w.id == q.id and (w.id_type is None or q.id_type is None or w.id_type == q.id_type) for q in b.patients)
    ]
    return Timeline.plain(mine) if mine else None


def floor_candidates(
    floor: Floor,
    request: SlotRequest,
    settings: Settings | None = None,
    now: int | dt.datetime | None = None,
    limit: int | None = None,
) -> list[tuple[str, str, int, int]]:
    """(provider id, location id, start, end) of every candidate, or the earliest ``limit``, by start, then
    provider id, then location id. ``now`` defaults to the request's start."""
    settings = settings or Settings()
    if isinstance(now, dt.datetime):
        now = -int(-(now - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(minutes=1))
    starts, provider, location, duration = floor_arrays(floor, request, settings, request.start if now is None else now)
    order_key = (starts - BASE) * (len(floor.p_of) * len(floor.l_of)) + provider * len(floor.l_of) + location
    if limit is not None and limit < order_key.size:
        chosen = np.argpartition(order_key, limit)[:limit]
        chosen = chosen[np.argsort(order_key[chosen])]
    else:
        chosen = np.argsort(order_key)
    ids, places = floor.rules.provider_ids, floor.rules.location_ids
    return [(ids[provider[i]], places[location[i]], int(starts[i]), int(starts[i]) + duration) for i in chosen.tolist()]
