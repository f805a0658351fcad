"""find_offers: composite visits. Candidates per step -> prune by reachability -> CP-SAT -> ranked offers.

Each step is searched as a single-slot request restricted to its visit type and its providers
(``_search.scored``: the same busy time, rooms, equipment, limits, DST and scores). A step's
*slots* are its distinct (start, location) pairs; its *rows* are the (provider, slot) candidates.

Pruning is exact: a slot survives when each role has enough people there, and (forward, then
backward along the chain) when some slot of the previous step can precede it and some slot of the
next step can follow it. On a chain, one forward and one backward pass leave exactly the slots that
belong to some sequence meeting the gap and location rules.

**Top K.** An offer's *key* is its first step's start and the people of the first role there. The
answer holds at most ``limit`` offers, at most ``per_day`` whose first step falls on one local date,
and no two with one key. Offers are alternatives (never booked together), so each key is best
served by its best offer, and the keys under "at most K, at most ``per_day`` per date" form a
(truncated partition) matroid whenever every key lies on one local date. The greedy algorithm is
then exact: repeatedly take the best offer whose key is new and whose date is not full (CP-SAT,
one solve per offer, with earlier keys excluded and full dates closed). That maximises the number
of offers, then the total score. A key on two local dates (one provider at one instant in two time
zones) breaks the matroid: the answer is then marked incomplete.

**Each best offer.** A bound per first-step slot (its best rows plus the best bound of a slot each
later step may reach there, per person across a same-provider link; exact for sequences of one
participant per step, optimistic when a person is listed in two roles) orders the first-step
slots; CP-SAT sees the 8 best, then 32, 128, ... and the later slots they reach, until its optimum
is at least the best bound left out: that optimum is then the best overall. The time limit
(``Settings.time_limit_seconds``) covers every solve; when it cuts one, the offers found so far
are returned with ``complete`` False (IsIncomplete).
"""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import numpy.typing as npt
from attrs import evolve, frozen

from slotfinder._calendars import zones
from slotfinder._composite import (
    Appointment,
    CompositeRequest,
    Offer,
    OfferResult,
    SequenceModel,
    SequencePick,
    Step,
    StepModel,
    definition_problems,
)
from slotfinder._domain import Clinic, Preference, ProviderFilter, SlotRequest, VisitTypeFilter
from slotfinder._errors import InvalidRequest
from slotfinder._prepared import PreparedClinic, prepare
from slotfinder._rank import SCORE_SCALE, TERMS, Scores
from slotfinder._result import ScoreTerm
from slotfinder._search import Stopwatch, resolve_now, scored
from slotfinder._settings import Settings
from slotfinder._solve.candidates import CandidateTable
from slotfinder._solve.chain import bounds, chain_offers, is_chain, pairs
from slotfinder._solve.problem import rank_order

__all__ = ["find_offers"]

DAY = 1440
IntArray = npt.NDArray[np.int64]


@frozen
class _StepRows:
    """A step's surviving candidates: the table rows behind each role's rows, for building the offers."""

    table: CandidateTable
    scores: Scores
    role_rows: tuple[IntArray, ...]  # per role: table row of each model row


def find_offers(
    clinic: Clinic | PreparedClinic,
    request: CompositeRequest,
    settings: Settings | None = None,
    now: dt.datetime | int | None = None,
) -> OfferResult:
    """The top ``settings.limit`` offers for a sequence of steps (see the module docstring and the README).

    Raises ``InvalidRequest`` with every problem of the definition (paths such as ``steps[1].max_gap``).
    """
    settings = settings or Settings()
    prepared = prepare(clinic)
    instant = resolve_now(now)
    known = prepared.clinic
    problems = definition_problems(request, frozenset(p.id for p in known.providers), known.visit_types)
    if problems:
        raise InvalidRequest(problems)
    watch = Stopwatch()
    steps, found, candidates = pruned_model(prepared, request, settings, instant, watch)
    chain = settings.offer_search == "auto" and is_chain(steps)
    if chain:  # one participant per step: the dynamic programme is exact, no solver needed
        picks, proven = chain_offers(steps, settings.limit, settings.per_day), True
    else:
        picks, proven = _best_offers(steps, settings)
    watch.lap("solve")
    offers = tuple(_offer(steps, found, pick, settings) for pick in picks)  # best first: the greedy's order
    exact = proven and _keys_on_one_date(steps[0])
    return OfferResult(
        offers=offers,
        status=("OPTIMAL" if exact else "FEASIBLE") if offers else "EMPTY",
        complete=exact,
        method=("chain" if chain else "cp-sat") if offers else "none",
        now=instant,
        candidates=tuple(candidates),
        pruned_to=tuple(sum(int(r.shape[0]) for r in s.role_slot) for s in steps),
        timings=watch.laps,
    )


def pruned_model(
    prepared: PreparedClinic, request: CompositeRequest, settings: Settings, now: int, watch: Stopwatch
) -> tuple[list[StepModel], list[_StepRows], list[int]]:
    """Every step's candidates as slots and role rows, pruned to what some offer can use; and the open
    starts per step before pruning."""
    known = prepared.clinic
    people = {p.id: i for i, p in enumerate(sorted(known.providers, key=lambda p: p.id))}
    places = {loc.id: i for i, loc in enumerate(sorted(known.locations, key=lambda loc: loc.id))}
    steps: list[StepModel] = []
    found: list[_StepRows] = []
    candidates: list[int] = []
    end = request.end if request.end is not None else request.start + settings.default_horizon_days * DAY
    slack = 0  # later steps may start after the window: by the earlier steps' lengths and gaps
    for i, step in enumerate(request.steps):
        table, scores = _step_candidates(prepared, request, step, settings, now, end, slack)
        candidates.append(int(scores.keep.sum()))
        model, rows = _step_model(table, scores, step, people, places, _continuity_points(settings))
        steps.append(model)
        found.append(rows)
        if i + 1 < len(request.steps):
            slack += _reach(request.steps[i + 1], int(table.duration.max(initial=0)))
    watch.lap("candidates")
    steps, found = _prune(steps, found)
    watch.lap("model")
    return steps, found, candidates


def _step_candidates(
    prepared: PreparedClinic,
    request: CompositeRequest,
    step: Step,
    settings: Settings,
    now: int,
    end: int,
    slack: int,
) -> tuple[CandidateTable, Scores]:
    """The step as a single-slot search: its visit type, its people, the window widened by ``slack``."""
    anyone = any(not role.providers for role in step.participants)
    wanted = sorted({p for role in step.participants for p in role.providers})
    single = SlotRequest(
        start=request.start,
        end=end + slack,
        providers=() if anyone else tuple(ProviderFilter(p) for p in wanted),
        locations=request.locations,
        visit_types=(VisitTypeFilter(step.visit_type, step.codeset),),
        # a preference's duration would change the visit's length: the step's visit type decides
        preferences=tuple(Preference(p.days, p.times) for p in request.preferences),
        patient_ids=request.patient_ids,
    )
    horizon = settings.max_horizon_days + -(-slack // DAY)
    table, scores, _ = scored(prepared, single, evolve(settings, max_horizon_days=horizon), now, Stopwatch())
    return table, scores


def _continuity_points(settings: Settings) -> int:
    """A series' reward for keeping the previous visit's provider: the ``continuity`` weight, in points."""
    return round(settings.weights.continuity * SCORE_SCALE)


def _reach(following: Step, longest: int) -> int:
    """How much later than this step's window the following step may start (minutes)."""
    if following.by_date:
        return ((following.max_days or 0) + 1) * DAY
    return longest + following.max_gap


def _step_model(
    table: CandidateTable, scores: Scores, step: Step, people: dict[str, int], places: dict[str, int], bonus: int
) -> tuple[StepModel, _StepRows]:
    """Slots (start, location) and role rows of one step; one row per person and slot (the best)."""
    rows = rank_order(table, scores.points, np.flatnonzero(scores.keep))
    person = np.array([people[p.id] for p in table.search.providers], dtype=np.int64)[table.provider[rows]]
    place = np.array([places[loc.id] for loc in table.search.locations], dtype=np.int64)[table.location[rows]]
    start = table.start[rows]
    _, first = np.unique(np.stack([start, place, person]), axis=1, return_index=True)
    best = np.sort(first)  # rows are best first: the first of each (start, location, person) is its best
    rows, person, place, start = rows[best], person[best], place[best], start[best]
    slot_keys, slot_of = np.unique(np.stack([start, place]), axis=1, return_inverse=True)
    slot_of = slot_of.reshape(-1)
    n_slots = slot_keys.shape[1]
    slot_end = np.zeros(n_slots, dtype=np.int64)
    np.maximum.at(slot_end, slot_of, start + table.duration[rows])
    slot_day = np.zeros(n_slots, dtype=np.int64)
    slot_day[slot_of] = table.local_day[rows]
    role_rows: list[IntArray] = []
    for role in step.participants:
        members = np.array(sorted(people[p] for p in role.providers), dtype=np.int64)
        role_rows.append(np.flatnonzero(np.isin(person, members)) if role.providers else np.arange(rows.shape[0]))
    model = StepModel(
        slot_start=slot_keys[0].astype(np.int64),
        slot_end=slot_end,
        slot_location=slot_keys[1].astype(np.int64),
        slot_day=slot_day,
        role_counts=tuple(r.count for r in step.participants),
        role_slot=tuple(slot_of[r].astype(np.int64) for r in role_rows),
        role_provider=tuple(person[r] for r in role_rows),
        role_points=tuple(scores.points[rows[r]] for r in role_rows),
        min_gap=step.min_gap,
        max_gap=step.max_gap,
        same_location=step.same_location,
        travel=step.travel,
        same_provider_as_previous=step.same_provider_as_previous,
        day_gap=(step.min_days or 0, step.max_days or 0) if step.by_date else None,
        prefer_same_provider=bonus if step.prefer_same_provider else 0,
    )
    return model, _StepRows(table, scores, tuple(rows[r] for r in role_rows))


def _staffed(step: StepModel) -> npt.NDArray[np.bool_]:
    """Per slot: every role has enough people there, and the step enough distinct people."""
    n = step.slot_start.shape[0]
    ok = np.ones(n, dtype=bool)
    everyone: list[IntArray] = []
    for count, slot, person in zip(step.role_counts, step.role_slot, step.role_provider, strict=True):
        ok &= np.bincount(slot, minlength=n) >= count
        everyone.append(np.stack([slot, person]))
    if everyone:
        pairs = np.unique(np.concatenate(everyone, axis=1), axis=1)
        ok &= np.bincount(pairs[0], minlength=n) >= sum(step.role_counts)
    return ok


def _followers(before: StepModel, after: StepModel) -> tuple[IntArray, IntArray]:
    """The (slot of ``after``, slot of ``before``) pairs that may follow one another (gap bounds or local
    dates; location or travel; never before the previous step ends), by slot of ``after``."""
    if after.day_gap is None:
        keys, low, high = before.slot_end, after.slot_start - after.max_gap, after.slot_start - after.min_gap
    else:
        keys, low, high = before.slot_day, after.slot_day - after.day_gap[1], after.slot_day - after.day_gap[0]
    order = np.argsort(keys, kind="stable")
    lo = np.searchsorted(keys[order], low, side="left")
    hi = np.searchsorted(keys[order], high, side="right")
    lengths = np.maximum(hi - lo, 0)
    owner = np.repeat(np.arange(lengths.shape[0]), lengths)
    offsets = np.cumsum(lengths) - lengths
    near = order[lo[owner] + np.arange(owner.shape[0]) - offsets[owner]]
    gap = after.slot_start[owner] - before.slot_end[near]
    same = before.slot_location[near] == after.slot_location[owner]
    travelled = gap >= after.travel  # time to change location
    ok = (same if after.same_location else same | travelled) & (gap >= 0)
    owner, near = owner[ok], near[ok]
    sort = np.lexsort((near, owner))
    return owner[sort].astype(np.int64), near[sort].astype(np.int64)


_SPAN = 1 << 40  # keys (location, minute or date) in one integer: minutes since 1970 stay far below it


def _linked(before: StepModel, after: StepModel, *, forward: bool) -> npt.NDArray[np.bool_]:
    """Per slot of ``after`` (forward) or of ``before``: whether it has a slot it may follow (be followed by).

    At one location the rules are a range of the other step's end (or date), so a count by binary
    search answers without listing the pairs; a change of location (travel) or dates 0 apart (the
    order within one date) lists them. (A visit crossing midnight may keep a slot the next date's
    first starts cannot follow; the links, listed afterwards, leave such a slot out of every offer.)"""
    by_date = after.day_gap is not None
    if not after.same_location or (by_date and after.day_gap is not None and after.day_gap[0] < 1):
        owner, near = _followers(before, after)
        mask = np.zeros((after if forward else before).slot_start.shape[0], dtype=bool)
        mask[owner if forward else near] = True
        return mask
    low, high = after.day_gap if after.day_gap is not None else (after.min_gap, after.max_gap)
    earlier = before.slot_day if by_date else before.slot_end
    later = after.slot_day if by_date else after.slot_start
    if forward:  # some earlier key in [later - high, later - low] at the same location
        keys = np.sort(before.slot_location * _SPAN + earlier)
        base = after.slot_location * _SPAN + later
        found: npt.NDArray[np.bool_] = np.searchsorted(keys, base - low, side="right") > np.searchsorted(
            keys, base - high, side="left"
        )
        return found
    keys = np.sort(after.slot_location * _SPAN + later)  # some later key in [earlier + low, earlier + high]
    base = before.slot_location * _SPAN + earlier
    followed: npt.NDArray[np.bool_] = np.searchsorted(keys, base + high, side="right") > np.searchsorted(
        keys, base + low, side="left"
    )
    return followed


def _restrict_model(step: StepModel, keep: npt.NDArray[np.bool_]) -> tuple[StepModel, tuple[IntArray, ...]]:
    """The step with only the ``keep`` slots (renumbered; its links left to the caller), and per
    role the original index of each row kept."""
    new_index = np.cumsum(keep) - 1
    kept_roles = [keep[slot] for slot in step.role_slot]
    model = evolve(
        step,
        slot_start=step.slot_start[keep],
        slot_end=step.slot_end[keep],
        slot_location=step.slot_location[keep],
        slot_day=step.slot_day[keep],
        role_slot=tuple(new_index[s][k] for s, k in zip(step.role_slot, kept_roles, strict=True)),
        role_provider=tuple(p[k] for p, k in zip(step.role_provider, kept_roles, strict=True)),
        role_points=tuple(p[k] for p, k in zip(step.role_points, kept_roles, strict=True)),
        link_slot=np.zeros(0, dtype=np.int64),
        link_previous=np.zeros(0, dtype=np.int64),
    )
    return model, tuple(np.flatnonzero(k) for k in kept_roles)


def _restrict(step: StepModel, rows: _StepRows, keep: npt.NDArray[np.bool_]) -> tuple[StepModel, _StepRows]:
    model, kept = _restrict_model(step, keep)
    return model, evolve(rows, role_rows=tuple(r[k] for r, k in zip(rows.role_rows, kept, strict=True)))


def _prune(steps: list[StepModel], found: list[_StepRows]) -> tuple[list[StepModel], list[_StepRows]]:
    """Only the slots that belong to some sequence meeting the staffing, gap and location rules."""
    for s in range(len(steps)):
        steps[s], found[s] = _restrict(steps[s], found[s], _staffed(steps[s]))
    for s in range(1, len(steps)):  # forward: a slot needs a possible predecessor
        alive = _linked(steps[s - 1], steps[s], forward=True)
        steps[s], found[s] = _restrict(steps[s], found[s], alive)
    for s in range(len(steps) - 1, 0, -1):  # backward: a slot needs a possible successor
        used = _linked(steps[s - 1], steps[s], forward=False)
        steps[s - 1], found[s - 1] = _restrict(steps[s - 1], found[s - 1], used)
    for s in range(1, len(steps)):
        owner, near = _followers(steps[s - 1], steps[s])
        steps[s] = evolve(steps[s], link_slot=owner, link_previous=near)
    return steps, found


def _restricted(
    steps: list[StepModel], keep: npt.NDArray[np.bool_]
) -> tuple[list[StepModel], list[IntArray], list[tuple[IntArray, ...]]]:
    """The model with only the ``keep`` first-step slots and the later slots they can reach; per step the
    original index of each slot kept and, per role, of each row kept."""
    models: list[StepModel] = []
    slot_maps: list[IntArray] = []
    row_maps: list[tuple[IntArray, ...]] = []
    for s, step in enumerate(steps):
        links = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        if s > 0:
            owner, prev = pairs(step)
            ok = keep[prev]
            renumber_previous = np.cumsum(keep) - 1
            keep = np.zeros(step.slot_start.shape[0], dtype=bool)
            keep[owner[ok]] = True
            links = ((np.cumsum(keep) - 1)[owner[ok]], renumber_previous[prev[ok]])
        model, rows = _restrict_model(step, keep)
        models.append(evolve(model, link_slot=links[0], link_previous=links[1]))
        slot_maps.append(np.flatnonzero(keep))
        row_maps.append(rows)
    return models, slot_maps, row_maps


def _points(steps: list[StepModel], pick: SequencePick) -> int:
    """An offer's points: its rows', plus a series' reward for each visit with the previous one's provider."""
    total = sum(
        int(step.role_points[j][r])
        for step, roles in zip(steps, pick.rows, strict=True)
        for j, rs in enumerate(roles)
        for r in rs
    )
    for s in range(1, len(steps)):
        if steps[s].prefer_same_provider:
            mine = int(steps[s].role_provider[0][pick.rows[s][0][0]])
            theirs = int(steps[s - 1].role_provider[0][pick.rows[s - 1][0][0]])
            total += steps[s].prefer_same_provider if mine == theirs else 0
    return total


def _best_offers(steps: list[StepModel], settings: Settings) -> tuple[list[SequencePick], bool]:
    """The greedy over offer keys (exact: see the module docstring); and whether every solve was proven.

    Each best offer is sought among the first-step slots of highest bound (8, then 4 times as many):
    an answer at least as good as the best bound left out is the best overall.
    """
    from slotfinder._solve.cpsat import solve_sequence  # ortools loads only when a search runs

    if any(step.slot_start.shape[0] == 0 for step in steps):
        return [], True
    deadline = time.perf_counter() + settings.time_limit_seconds
    first = steps[0]
    bound = bounds(steps)
    picks: list[SequencePick] = []
    excluded: list[tuple[int, tuple[int, ...]]] = []
    per_day: dict[int, int] = {}
    proven = True
    while len(picks) < settings.limit:
        full = [d for d, n in per_day.items() if n >= settings.per_day]
        order = np.flatnonzero(~np.isin(first.slot_day, full))
        order = order[np.lexsort((first.slot_start[order], -bound[order]))]
        size = 8
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                return picks, False
            keep = np.zeros(first.slot_start.shape[0], dtype=bool)
            keep[order[:size]] = True
            models, slot_maps, row_maps = _restricted(steps, keep)
            pick, ok = solve_sequence(SequenceModel(tuple(models), tuple(excluded)), left, settings.random_seed)
            proven = proven and ok
            value = _points(models, pick) if pick is not None else None
            if size >= order.shape[0] or not ok or (value is not None and value >= bound[order[size]]):
                break
            size *= 4
        if pick is None:
            break
        pick = SequencePick(
            slots=tuple(int(slot_maps[s][i]) for s, i in enumerate(pick.slots)),
            rows=tuple(
                tuple(tuple(int(row_maps[s][j][r]) for r in rs) for j, rs in enumerate(roles))
                for s, roles in enumerate(pick.rows)
            ),
            optimal=pick.optimal,
        )
        slot = pick.slots[0]
        people = tuple(sorted(int(first.role_provider[0][r]) for r in pick.rows[0][0]))
        excluded.append((int(first.slot_start[slot]), people))
        day = int(first.slot_day[slot])
        per_day[day] = per_day.get(day, 0) + 1
        picks.append(pick)
    return picks, proven


def _keys_on_one_date(first: StepModel) -> bool:
    """Every (start, person) of the first role lies on one local date (the greedy's exactness condition)."""
    if not first.role_slot:
        return True
    slot, person = first.role_slot[0], first.role_provider[0]
    pairs = np.unique(np.stack([first.slot_start[slot], person, first.slot_day[slot]]), axis=1)
    keys = np.unique(pairs[:2], axis=1)
    return bool(keys.shape[1] == pairs.shape[1])


def _offer(steps: list[StepModel], found: list[_StepRows], pick: SequencePick, settings: Settings) -> Offer:
    appointments: list[Appointment] = []
    for s, (step, rows) in enumerate(zip(steps, found, strict=True)):
        table, scores = rows.table, rows.scores
        chosen = [int(rows.role_rows[j][r]) for j, role in enumerate(pick.rows[s]) for r in role]
        lead = chosen[0]
        search = table.search
        visit_type = search.visit_types[table.visit_type[lead]]
        assert visit_type is not None  # a step always names its visit type
        values = {name: float(sum(scores.terms[name][i] for i in chosen)) for name in TERMS}
        providers = tuple(search.providers[table.provider[i]] for i in chosen)
        if step.prefer_same_provider and providers == appointments[-1].providers:  # a series keeps its provider
            values["continuity"] += 1.0
        terms = tuple(ScoreTerm(name, values[name], getattr(settings.weights, name)) for name in TERMS)
        minute = int(table.local_minute[lead])
        appointments.append(
            Appointment(
                step=s,
                start=int(step.slot_start[pick.slots[s]]),
                duration=int(table.duration[lead]),
                providers=providers,
                location=search.locations[table.location[lead]],
                room=table.rooms[table.room[lead]] if table.room[lead] >= 0 else None,
                visit_type=visit_type,
                score=sum(t.points for t in terms),
                terms=terms,
                local_date=zones.EPOCH.date() + dt.timedelta(days=int(table.local_day[lead])),
                local_time=dt.time(minute // 60, minute % 60),
            )
        )
    local_date = zones.EPOCH.date() + dt.timedelta(days=int(steps[0].slot_day[pick.slots[0]]))
    return Offer(
        appointments=tuple(appointments), score=float(sum(a.score for a in appointments)), local_date=local_date
    )
