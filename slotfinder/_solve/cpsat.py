"""Stage 2: CP-SAT picks the top K under the diversity caps. The only module that imports ortools.

Objective, lexicographic in one integer sum: first as many slots as the caps allow (up to K), then
the highest total score, then the earliest candidates in output order among equal scores (so the
answer is one fixed choice, not any of several ties). One worker and a fixed seed make it
deterministic; presolve is off because these models are tiny and it only adds time.
"""

from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from slotfinder._solve.problem import Selection, SelectionProblem, greedy

__all__ = ["solve"]


def _objective_weights(problem: SelectionProblem) -> list[int]:
    n = problem.rows.shape[0]
    tie = problem.limit * n + 1  # exceeds any sum of tie-break bonuses
    spread = int(problem.points.max() - problem.points.min()) if n else 0
    per_slot = problem.limit * (spread + 1) * tie + 1  # exceeds any score difference between choices
    low = int(problem.points.min()) if n else 0
    return [per_slot + (int(p) - low) * tie + (n - i) for i, p in enumerate(problem.points)]


def _cap(model: cp_model.CpModel, chosen: list[cp_model.IntVar], keys: np.ndarray, cap: int) -> None:
    groups: dict[int, list[cp_model.IntVar]] = {}
    for var, key in zip(chosen, keys.tolist(), strict=True):
        groups.setdefault(key, []).append(var)
    for members in groups.values():
        if len(members) > cap:
            model.add(sum(members) <= cap)


def solve(problem: SelectionProblem, time_limit: float, seed: int) -> Selection:
    """Choose the rows to offer, best first."""
    n = problem.rows.shape[0]
    if n == 0:
        return Selection(rows=problem.rows, status="OPTIMAL", complete=True)
    model = cp_model.CpModel()
    chosen = [model.new_bool_var(f"offer[{i}]") for i in range(n)]
    model.add(sum(chosen) <= problem.limit)
    _cap(model, chosen, problem.day, problem.per_day)
    _cap(model, chosen, problem.provider_day, problem.per_provider_day)
    _cap(model, chosen, problem.provider_start, 1)
    model.maximize(sum(w * x for w, x in zip(_objective_weights(problem), chosen, strict=True)))

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
        )
    return Selection(rows=problem.rows[greedy(problem)], status="GREEDY", complete=False)
