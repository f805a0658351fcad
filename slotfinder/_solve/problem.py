"""The top-K choice as a solver-agnostic problem, and the pruning that keeps it small.

Choose at most K candidates maximising total score, with at most ``per_day`` on one local date, at
most ``per_provider_day`` for one provider on one date, and one per provider and start. Caps nest (a
provider-day lies inside a day), so dominance pruning is exact, by exchange: in any choice that
holds a candidate with at least ``cap`` strictly better ones in its own group, one of those is
unchosen and can take its place without breaking a cap. Applied provider-day, then day, then
overall, this leaves no more than K candidates, and never removes one an optimal choice needs.
"Better" is the output order (score descending, then start, provider ID, location, visit type), a
strict total order, so ties are broken the same way with or without pruning.

The one-per-provider-and-start rule first keeps the best variant (visit type, location) of each
provider, start and date. Only when one provider has the same start on two local dates (templates
at locations in different time zones at once) do the groups stop nesting; then nothing more is
pruned and the solver sees every candidate.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from attrs import frozen

from slotfinder._solve.candidates import CandidateTable

__all__ = ["Selection", "SelectionProblem", "build_problem", "rank_order"]

IntpArray = npt.NDArray[np.intp]


@frozen
class SelectionProblem:
    """What the solver sees: candidates (as rows of the table) with integer points, and caps."""

    rows: IntpArray  # candidate rows, best first
    points: npt.NDArray[np.int64]  # score points per row (same order)
    day: npt.NDArray[np.int64]  # local date per row
    provider_day: npt.NDArray[np.int64]  # (provider, date) key per row
    provider_start: npt.NDArray[np.int64]  # (provider, start) key per row
    limit: int
    per_day: int
    per_provider_day: int
    before_pruning: int  # candidates that reached this stage


@frozen
class Selection:
    """The solver's answer: chosen rows, best first, and whether optimality was proven."""

    rows: IntpArray
    status: str  # OPTIMAL, FEASIBLE (time limit hit), or GREEDY (solver found nothing in time)
    complete: bool


def rank_order(table: CandidateTable, points: npt.NDArray[np.int64], rows: IntpArray) -> IntpArray:
    """``rows`` sorted best first: points desc, start, provider, location, visit type, room."""
    keys = (
        table.room[rows],
        table.visit_type[rows],
        table.location[rows],
        table.provider[rows],
        table.start[rows],
        -points[rows],
    )
    return rows[np.lexsort(keys)]


def _rank_in_group(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Position of each element among earlier elements with the same key (0 for the first)."""
    n = keys.shape[0]
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    first = np.ones(n, dtype=bool)
    first[1:] = sorted_keys[1:] != sorted_keys[:-1]
    group_start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - group_start
    return rank


def _group_ids(*columns: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """One integer per distinct combination of the columns' values (without packing bits)."""
    n = columns[0].shape[0]
    order = np.lexsort(columns[::-1])
    change = np.zeros(n, dtype=bool)
    for column in columns:
        ordered = column[order]
        change[1:] |= ordered[1:] != ordered[:-1]
    ids = np.empty(n, dtype=np.int64)
    ids[order] = np.cumsum(change)
    return ids


def _keep_top(rows: IntpArray, keys: npt.NDArray[np.int64], cap: int) -> IntpArray:
    return rows[_rank_in_group(keys) < cap]


def build_problem(
    table: CandidateTable,
    points: npt.NDArray[np.int64],
    keep: npt.NDArray[np.bool_],
    *,
    limit: int,
    per_day: int,
    per_provider_day: int,
) -> SelectionProblem:
    """Order, collapse and prune the candidates; the result still holds an optimal choice."""
    rows = rank_order(table, points, np.flatnonzero(keep))
    before = rows.shape[0]
    provider_day = table.provider * (1 << 24) + table.local_day
    provider_start = table.provider * (1 << 40) + table.start
    # The best visit type/location variant of a provider, start and date stands for the rest.
    rows = _keep_top(rows, _group_ids(provider_start[rows], table.local_day[rows]), 1)
    if np.unique(provider_start[rows]).shape[0] == rows.shape[0]:  # groups nest: prune (see above)
        rows = _keep_top(rows, provider_day[rows], per_provider_day)
        rows = _keep_top(rows, table.local_day[rows], per_day)
        rows = rows[:limit]
    return SelectionProblem(
        rows=rows,
        points=points[rows],
        day=table.local_day[rows],
        provider_day=provider_day[rows],
        provider_start=provider_start[rows],
        limit=limit,
        per_day=per_day,
        per_provider_day=per_provider_day,
        before_pruning=before,
    )


def greedy(problem: SelectionProblem) -> IntpArray:
    """Best-first choice under the caps (the fallback when the solver returns nothing in time)."""
    chosen: list[int] = []
    per_day: dict[int, int] = {}
    per_pd: dict[int, int] = {}
    for i in range(problem.rows.shape[0]):
        d, pd = int(problem.day[i]), int(problem.provider_day[i])
        if (
            len(chosen) < problem.limit
            and per_day.get(d, 0) < problem.per_day
            and per_pd.get(pd, 0) < problem.per_provider_day
        ):
            chosen.append(i)
            per_day[d] = per_day.get(d, 0) + 1
            per_pd[pd] = per_pd.get(pd, 0) + 1
    return np.array(chosen, dtype=np.intp)
