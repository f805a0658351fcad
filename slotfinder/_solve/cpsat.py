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

from slotfinder._solve.problem import Selection, SelectionProblem, greedy

__all__ = ["solve"]


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
