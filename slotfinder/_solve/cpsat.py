"""Stage 2: CP-SAT picks the top K when a ranking cannot. The only module that imports ortools.

It runs only when the caps do not nest (see ``problem``): an answer-wide cap per provider, a minimum
of distinct providers, a morning/afternoon spread, or a provider with one start on two local dates.
Objective, lexicographic in one integer sum: first as many slots as the caps allow (up to K), then
the diversity asked for, then the highest total score, then the earliest candidates in output
order among equal scores (so the answer is one fixed choice, not any of several ties). One worker
and a fixed seed make it deterministic; presolve is off because these models are small and it
only adds time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from slotfinder._composite import SequenceModel, SequencePick, StepModel
from slotfinder._solve.problem import Selection, SelectionProblem, greedy

__all__ = ["solve", "solve_sequence"]


def _diversity_terms(problem: SelectionProblem) -> int:
    """The most diversity points an answer can earn (each worth more than any score difference)."""
    return (problem.min_providers if problem.min_providers > 1 else 0) + (2 if problem.spread else 0)


def _weights(problem: SelectionProblem) -> tuple[list[int], int]:
    """Per-row objective weights, and the weight of one diversity point."""
    n = problem.rows.shape[0]
    tie = problem.limit * n + 1  # exceeds any sum of tie-break bonuses
    spread = int(problem.points.max() - problem.points.min()) if n else 0
    diversity = problem.limit * (spread + 1) * tie  # exceeds any score-and-tie difference between choices
    per_slot = diversity * (_diversity_terms(problem) + 1) + 1  # exceeds any diversity-and-score difference
    low = int(problem.points.min()) if n else 0
    return [per_slot + (int(p) - low) * tie + (n - i) for i, p in enumerate(problem.points)], diversity


def _groups(chosen: Sequence[cp_model.IntVar], keys: npt.NDArray[np.int64]) -> dict[int, list[cp_model.IntVar]]:
    groups: dict[int, list[cp_model.IntVar]] = {}
    for var, key in zip(chosen, keys.tolist(), strict=True):
        groups.setdefault(key, []).append(var)
    return groups


def _cap(model: cp_model.CpModel, chosen: Sequence[cp_model.IntVar], keys: npt.NDArray[np.int64], cap: int) -> None:
    for members in _groups(chosen, keys).values():
        if len(members) > cap:
            model.add(sum(members) <= cap)


def _at_least_one(
    model: cp_model.CpModel, name: str, chosen: Sequence[cp_model.IntVar], keys: npt.NDArray[np.int64]
) -> list[cp_model.IntVar]:
    """One indicator per group: true only if a row of the group is chosen (the objective sets it)."""
    found = []
    for key, members in sorted(_groups(chosen, keys).items()):
        has = model.new_bool_var(f"{name}[{key}]")
        model.add(has <= sum(members))
        found.append(has)
    return found


def solve(problem: SelectionProblem, time_limit: float, seed: int) -> Selection:
    """Choose the rows to offer, best first."""
    n = problem.rows.shape[0]
    if n == 0:
        return Selection(rows=problem.rows, status="OPTIMAL", complete=True, method="cp-sat")
    model = cp_model.CpModel()
    chosen = [model.new_bool_var(f"offer[{i}]") for i in range(n)]
    model.add(sum(chosen) <= problem.limit)
    _cap(model, chosen, problem.day, problem.per_day)
    _cap(model, chosen, problem.provider_day, problem.per_provider_day)
    _cap(model, chosen, problem.provider_start, 1)
    if problem.per_provider is not None:
        _cap(model, chosen, problem.provider, problem.per_provider)
    weights, diversity = _weights(problem)
    bonus: list[cp_model.IntVar] = []
    if problem.min_providers > 1:  # distinct providers, rewarded up to min_providers
        providers = _at_least_one(model, "provider_seen", chosen, problem.provider)
        model.add(sum(providers) <= problem.min_providers)
        bonus += providers
    if problem.spread:  # a morning and an afternoon offer
        bonus += _at_least_one(model, "half_day_seen", chosen, problem.half)
    model.maximize(sum(w * x for w, x in zip(weights, chosen, strict=True)) + diversity * sum(bonus))
    start_from = set(greedy(problem).tolist())  # a feasible start: about halves the time to prove optimality
    for i, var in enumerate(chosen):
        model.add_hint(var, i in start_from)

    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.cp_model_presolve = False
    status = solver.solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        picked = [i for i in range(n) if solver.boolean_value(chosen[i])]
        return Selection(
            rows=problem.rows[picked],
            status=solver.status_name(status),
            complete=status == cp_model.OPTIMAL,
            method="cp-sat",
        )
    return Selection(rows=problem.rows[greedy(problem)], status="GREEDY", complete=False, method="greedy")


# Composite visits: the best offers of a sequence of steps (see ``slotfinder._offers``).


def _step_rows(
    m: cp_model.CpModel, s: int, step: StepModel, x: list[cp_model.IntVar]
) -> tuple[list[list[cp_model.IntVar]], list[int]]:
    """Per role, one Boolean per row: a chosen slot gets exactly ``count`` rows of the role, others
    none; one person fills at most one role of the step. Also each row's points (the objective)."""
    per_person: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    step_rows: list[list[cp_model.IntVar]] = []
    points: list[int] = []
    for j, count in enumerate(step.role_counts):
        y = [m.new_bool_var(f"row[{s},{j},{r}]") for r in range(step.role_slot[j].shape[0])]
        filling: dict[int, list[cp_model.IntVar]] = {}
        for var, slot, person in zip(y, step.role_slot[j].tolist(), step.role_provider[j].tolist(), strict=True):
            filling.setdefault(slot, []).append(var)
            per_person.setdefault((slot, person), []).append(var)
        for i, var in enumerate(x):
            m.add(sum(filling.get(i, [])) == count * var)
        points += step.role_points[j].tolist()
        step_rows.append(y)
    for members in per_person.values():
        if len(members) > 1:
            m.add_at_most_one(members)
    return step_rows, points


def _exclude(
    m: cp_model.CpModel, model: SequenceModel, x: list[cp_model.IntVar], y: list[list[cp_model.IntVar]]
) -> None:
    """No offer with an excluded key (first start, first role's people); no first step on a full date."""
    first = model.steps[0]
    starts = first.slot_start[first.role_slot[0]].tolist()
    people_of = first.role_provider[0].tolist()
    for start, people in model.excluded:
        members = [var for var, t, p in zip(y[0], starts, people_of, strict=True) if t == start and p in people]
        if len(members) >= len(people):
            m.add(sum(members) <= len(people) - 1)
    full = set(model.full_days)
    for var, day in zip(x, first.slot_day.tolist(), strict=True):
        if day in full:
            m.add(var == 0)


def _sequence_model(
    model: SequenceModel,
) -> tuple[cp_model.CpModel, list[list[cp_model.IntVar]], list[list[list[cp_model.IntVar]]]]:
    """One offer: a slot per step, the rows filling each role there, precedence, sameness, exclusions."""
    m = cp_model.CpModel()
    slots: list[list[cp_model.IntVar]] = []
    rows: list[list[list[cp_model.IntVar]]] = []
    variables: list[cp_model.IntVar] = []
    points: list[int] = []
    for s, step in enumerate(model.steps):
        x = [m.new_bool_var(f"slot[{s},{i}]") for i in range(step.slot_start.shape[0])]
        m.add_exactly_one(x)
        step_rows, step_points = _step_rows(m, s, step, x)
        variables += [var for y in step_rows for var in y]
        points += step_points
        if s > 0:  # precedence with gap bounds and location: a compatible previous slot is chosen
            earlier: list[list[int]] = [[] for _ in x]
            for i, k in zip(step.link_slot.tolist(), step.link_previous.tolist(), strict=True):
                earlier[i].append(k)
            for i, var in enumerate(x):
                m.add(var <= sum(slots[s - 1][k] for k in earlier[i]))
        if s > 0 and step.same_provider_as_previous:  # one participant each: the same person
            mine = _by_person(step, step_rows)
            theirs = _by_person(model.steps[s - 1], rows[s - 1])
            for person in sorted(set(mine) | set(theirs)):
                m.add(sum(mine.get(person, [])) == sum(theirs.get(person, [])))
        if s > 0 and step.prefer_same_provider:  # a series' reward per visit with the previous provider
            pairs = _same_person(m, s, _by_person(step, step_rows), _by_person(model.steps[s - 1], rows[s - 1]))
            variables += pairs
            points += [step.prefer_same_provider] * len(pairs)
        slots.append(x)
        rows.append(step_rows)
    _exclude(m, model, slots[0], rows[0])
    # score first; among equal scores the earliest first start (so ties are one fixed choice)
    order = np.argsort(model.steps[0].slot_start, kind="stable").tolist()
    span = len(slots[0]) + 1
    variables += [slots[0][i] for i in order]
    weights = [span * p for p in points] + [span - 1 - rank for rank in range(len(order))]
    m.maximize(cp_model.LinearExpr.weighted_sum(variables, weights))
    return m, slots, rows


def _same_person(
    m: cp_model.CpModel,
    s: int,
    mine: dict[int, list[cp_model.IntVar]],
    theirs: dict[int, list[cp_model.IntVar]],
) -> list[cp_model.IntVar]:
    """Per person in both steps (one participant each): a Boolean that is true when both chose them."""
    both: list[cp_model.IntVar] = []
    for person in sorted(set(mine) & set(theirs)):
        here, there = sum(mine[person]), sum(theirs[person])
        z = m.new_bool_var(f"same[{s},{person}]")
        m.add(z <= here)
        m.add(z <= there)
        m.add(z >= here + there - 1)
        both.append(z)
    return both


def _by_person(step: StepModel, step_rows: list[list[cp_model.IntVar]]) -> dict[int, list[cp_model.IntVar]]:
    found: dict[int, list[cp_model.IntVar]] = {}
    for j, y in enumerate(step_rows):
        for var, person in zip(y, step.role_provider[j].tolist(), strict=True):
            found.setdefault(person, []).append(var)
    return found


def solve_sequence(model: SequenceModel, time_limit: float, seed: int) -> tuple[SequencePick | None, bool]:
    """The best single offer of ``model`` (None if there is none or none was found in time), and whether
    that answer is proven (OPTIMAL, or INFEASIBLE). One worker and a fixed seed: deterministic."""
    if any(step.slot_start.shape[0] == 0 for step in model.steps):
        return None, True
    m, slots, rows = _sequence_model(model)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.cp_model_probing_level = 0  # small models (``_offers`` restricts them): probing only adds time
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, status == cp_model.INFEASIBLE
    picked_slots = tuple(next(i for i, var in enumerate(x) if solver.boolean_value(var)) for x in slots)
    picked_rows = tuple(
        tuple(tuple(r for r, var in enumerate(y) if solver.boolean_value(var)) for y in step_rows) for step_rows in rows
    )
    return SequencePick(slots=picked_slots, rows=picked_rows, optimal=status == cp_model.OPTIMAL), (
        status == cp_model.OPTIMAL
    )
