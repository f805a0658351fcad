"""Sequences of one participant per step (a series, most lab-then-consult chains): bounds and the exact
best offers by dynamic programming over the chain, without a solver.

Each step's rows are (person, slot); a row of step ``s`` may follow a row of step ``s - 1`` when its
slot is linked to the earlier slot (``link_slot``, ``link_previous``: gaps, dates, location) and, for a
same-provider link, the person is the same. The best chain from every row onward is one backward pass (vectorised per
step); a preferred provider adds its reward where the person repeats. With one participant per step
nothing else couples the steps, so these values are exact: the best offer through each first-step
row is known, and the top K (one per key, at most ``per_day`` per first date) is the greedy over
keys that ``slotfinder._offers`` explains. ``bounds`` also serves the CP-SAT path (several
participants at once), where it is only an upper bound.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from slotfinder._composite import SequencePick, StepModel

__all__ = ["NONE", "bounds", "chain_offers", "is_chain", "pairs", "same_person_after"]

IntArray = npt.NDArray[np.int64]


def pairs(step: StepModel) -> tuple[IntArray, IntArray]:
    """(slot, previous slot) pairs of the step's links, by slot."""
    return step.link_slot, step.link_previous


NONE = -(1 << 60)


def step_bound(step: StepModel) -> IntArray:
    """Per slot: at least the step's points there (each role's best ``count`` rows; overlaps ignored)."""
    total = np.zeros(step.slot_start.shape[0], dtype=np.int64)
    for count, slot, points in zip(step.role_counts, step.role_slot, step.role_points, strict=True):
        order = np.lexsort((-points, slot))
        ordered = slot[order]
        first = np.ones(ordered.shape[0], dtype=bool)
        first[1:] = ordered[1:] != ordered[:-1]
        rank = np.arange(ordered.shape[0]) - np.maximum.accumulate(np.where(first, np.arange(ordered.shape[0]), 0))
        top = rank < count
        np.add.at(total, ordered[top], points[order][top])
    return total


def single(step: StepModel) -> bool:
    return step.role_counts == (1,)


def same_person_after(before: StepModel, after: StepModel, row_bound: IntArray) -> IntArray:
    """Per row of ``before`` (one participant): the best ``row_bound`` of a row of ``after`` with the same
    person in a slot that may follow it (``NONE`` if there is none)."""
    owner, prev = pairs(after)
    lengths = np.bincount(owner, minlength=after.slot_start.shape[0])
    offsets = np.cumsum(lengths) - lengths
    slot, person = after.role_slot[0], after.role_provider[0]
    per_row = lengths[slot]
    row = np.repeat(np.arange(slot.shape[0]), per_row)
    within = np.arange(row.shape[0]) - (np.cumsum(per_row) - per_row)[row]
    earlier = prev[offsets[slot][row] + within]
    people = int(max(person.max(initial=0), before.role_provider[0].max(initial=0))) + 1
    wanted = earlier * people + person[row]
    keys = before.role_slot[0] * people + before.role_provider[0]
    order = np.argsort(keys, kind="stable")
    pos = np.minimum(np.searchsorted(keys[order], wanted), max(keys.shape[0] - 1, 0))
    hit = keys[order][pos] == wanted if keys.shape[0] else np.zeros(wanted.shape[0], dtype=bool)
    best = np.full(keys.shape[0], NONE, dtype=np.int64)
    np.maximum.at(best, order[pos[hit]], row_bound[row[hit]])
    return best


def bounds(steps: list[StepModel]) -> IntArray:
    """Per first-step slot: an upper bound of any offer's points through it (its best rows plus the best
    bound among the later slots it may reach, per person across a same-provider link; the rule that
    one person fills one role of a step only lowers it)."""
    slot_bound = step_bound(steps[-1])
    row_bound = steps[-1].role_points[0] if single(steps[-1]) else None
    for s in range(len(steps) - 1, 0, -1):
        before, after = steps[s - 1], steps[s]
        if after.same_provider_as_previous and row_bound is not None:  # one participant in both steps
            row_bound = np.maximum(before.role_points[0] + same_person_after(before, after, row_bound), NONE)
            slot_bound = np.full(before.slot_start.shape[0], NONE, dtype=np.int64)
            np.maximum.at(slot_bound, before.role_slot[0], row_bound)
        else:
            owner, prev = pairs(after)
            reach = np.full(before.slot_start.shape[0], NONE, dtype=np.int64)
            np.maximum.at(reach, prev, slot_bound[owner] + max(after.prefer_same_provider, 0))
            slot_bound = np.maximum(step_bound(before) + reach, NONE)
            row_bound = before.role_points[0] + reach[before.role_slot[0]] if single(before) else None
    return slot_bound


def is_chain(steps: list[StepModel]) -> bool:
    """One participant per step, and no reward that could be negative: the dynamic programme is exact."""
    return all(single(step) for step in steps) and all(step.prefer_same_provider >= 0 for step in steps)


def _valid(values: IntArray) -> npt.NDArray[np.bool_]:
    return values > NONE // 2


def row_values(steps: list[StepModel]) -> list[IntArray]:
    """Per step, per row: the best points of a chain from that row to the last step (``NONE``: no chain)."""
    values = [steps[-1].role_points[0].astype(np.int64)]
    for s in range(len(steps) - 1, 0, -1):
        before, after = steps[s - 1], steps[s]
        later = values[0]
        same = same_person_after(before, after, later)
        if after.same_provider_as_previous:
            onward = same
        else:
            slot_best = np.full(after.slot_start.shape[0], NONE, dtype=np.int64)
            np.maximum.at(slot_best, after.role_slot[0], later)
            owner, prev = pairs(after)
            reach = np.full(before.slot_start.shape[0], NONE, dtype=np.int64)
            np.maximum.at(reach, prev, slot_best[owner])
            onward = reach[before.role_slot[0]]
            if after.prefer_same_provider:
                onward = np.maximum(onward, np.where(_valid(same), same + after.prefer_same_provider, NONE))
        values.insert(0, np.where(_valid(onward), before.role_points[0] + onward, NONE))
    return values


def _next_row(before: StepModel, after: StepModel, row: int, needed: int, values: IntArray) -> int:
    """The row of ``after`` continuing ``row`` of ``before`` with exactly ``needed`` more points (the
    earliest such start, then the lowest row: one fixed choice)."""
    slot, person = int(before.role_slot[0][row]), int(before.role_provider[0][row])
    owner, prev = pairs(after)
    slots = np.unique(owner[prev == slot])
    rows = np.flatnonzero(np.isin(after.role_slot[0], slots))
    same = after.role_provider[0][rows] == person
    if after.same_provider_as_previous:
        rows, same = rows[same], same[same]
    gain = values[rows] + np.where(same, after.prefer_same_provider, 0)
    rows = rows[gain == needed]
    order = np.lexsort((rows, after.slot_start[after.role_slot[0][rows]]))
    return int(rows[order[0]])


def chain_offers(steps: list[StepModel], limit: int, per_day: int) -> list[SequencePick]:
    """The top ``limit`` offers: the best chain of each key (first start, person), greedily by points,
    then earliest first start, at most ``per_day`` per local date of the first step."""
    values = row_values(steps)
    first = steps[0]
    rows = np.flatnonzero(_valid(values[0]))
    start = first.slot_start[first.role_slot[0][rows]]
    person = first.role_provider[0][rows]
    order = np.lexsort((rows, person, start, -values[0][rows]))  # best first; ties: earliest, then person
    picks: list[SequencePick] = []
    taken: set[tuple[int, int]] = set()
    per_date: dict[int, int] = {}
    for i in order.tolist():
        key = (int(start[i]), int(person[i]))
        row = int(rows[i])
        day = int(first.slot_day[first.role_slot[0][row]])
        if key in taken or per_date.get(day, 0) >= per_day:
            continue
        taken.add(key)
        per_date[day] = per_date.get(day, 0) + 1
        chain = [row]
        for s in range(1, len(steps)):
            needed = int(values[s - 1][chain[-1]] - steps[s - 1].role_points[0][chain[-1]])
            chain.append(_next_row(steps[s - 1], steps[s], chain[-1], needed, values[s]))
        slots = tuple(int(step.role_slot[0][r]) for step, r in zip(steps, chain, strict=True))
        picks.append(SequencePick(slots=slots, rows=tuple(((r,),) for r in chain), optimal=True))
        if len(picks) == limit:
            break
    return picks
