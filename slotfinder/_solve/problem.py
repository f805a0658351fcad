"""The top-K choice as a solver-agnostic problem, the pruning that keeps it small, and when no solver is needed.

Choose at most K candidates maximising, lexicographically, the number chosen, then the diversity
asked for (distinct providers up to ``min_providers``, a morning and an afternoon offer when
``spread`` is on), then the total score, then the output order among ties; with at most
``per_day`` on one local date, at most ``per_provider_day`` for one provider on one date, at most
``per_provider`` for one provider over the answer, and one per provider and start.

**When the caps nest** (only ``per_day`` and ``per_provider_day``, and no provider has one start on
two local dates) the best choice is a ranking: dominance pruning is exact, by exchange. In any
choice that holds a candidate with at least ``cap`` strictly better ones in its own group, one of
those is unchosen and can take its place without breaking a cap. Applied provider-day, then day,
then overall, this leaves no more than K candidates, all of them chosen: the answer is the pruned
ranking itself and no solver runs (``exact_ranking``).

**Otherwise** CP-SAT decides, on candidates pruned by an exchange *within one provider*: a
candidate ``c`` of provider ``p`` can be swapped for any better unchosen ``b`` of ``p`` (in the same
half-day when ``spread`` is on) whose day and provider-day are not full and whose start ``p`` does
not already hold; that keeps every count, cap and diversity term and raises the objective. At most
``K - 1`` others are chosen, full days hold at most ``floor(K / per_day)`` groups of rows of ``p``,
full provider-days ``floor(K / per_provider_day)``, and a provider with one start on two dates may
block ``K`` more (each chosen row blocks its one twin); so keeping that many plus one per provider
(and half-day) loses no optimum. Only the providers whose starts collide across dates keep extra
rows: in a provider-day, ``per_provider_day`` more for each chosen row that can hold a twin, that is
each row on the dates at most ``apart`` away (``per_provider_day * (1 + 2 * apart)`` in all).

"Better" is the output order (score descending, then start, provider ID, location, visit type), a
strict total order, so ties are broken the same way with or without pruning.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from attrs import frozen

from slotfinder._solve.candidates import CandidateTable

__all__ = ["NOON", "Selection", "SelectionProblem", "build_problem", "greedy", "rank_order", "select_ranking"]

IntpArray = npt.NDArray[np.intp]


@frozen
class SelectionProblem:
    """What the solver sees: candidates (as rows of the table) with integer points, and caps."""

    rows: IntpArray  # candidate rows, best first
    points: npt.NDArray[np.int64]  # score points per row (same order)
    day: npt.NDArray[np.int64]  # local date per row
    provider_day: npt.NDArray[np.int64]  # (provider, date) key per row
    provider_start: npt.NDArray[np.int64]  # (provider, start) key per row
    provider: npt.NDArray[np.int64]  # provider per row
    half: npt.NDArray[np.int64]  # 0 when the local start is before noon, else 1
    limit: int
    per_day: int
    per_provider_day: int
    before_pruning: int  # candidates that reached this stage
    per_provider: int | None = None  # at most N offers of one provider over the answer
    min_providers: int = 1  # reward distinct providers up to this many
    spread: bool = False  # reward having a morning and an afternoon offer
    exact_ranking: bool = False  # the caps nest: ``rows`` is the optimal answer as it stands


@frozen
class Selection:
    """The solver's answer: chosen rows, best first, and whether optimality was proven."""

    rows: IntpArray
    status: str  # OPTIMAL, FEASIBLE (time limit hit), or GREEDY (solver found nothing in time)
    complete: bool
    method: str  # "ranking" (caps nest: proven by exchange), "cp-sat", or "greedy" (the solver's fallback)


NOON = 720  # local minute that splits morning from afternoon (for ``spread``)


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


def _keep_top(rows: IntpArray, keys: npt.NDArray[np.int64], cap: int | npt.NDArray[np.int64]) -> IntpArray:
    return rows[_rank_in_group(keys) < cap]


def _colliding(
    provider_start: npt.NDArray[np.int64], provider: npt.NDArray[np.int64], day: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.bool_], int]:
    """Per row: its provider has some start on two local dates (rows already one per start and date);
    and the most local dates apart two rows of one start lie (0 when nothing collides)."""
    keys, inverse, counts = np.unique(provider_start, return_inverse=True, return_counts=True)
    if not (counts > 1).any():
        return np.zeros(provider.shape, dtype=bool), 0
    first = np.full(keys.shape, np.iinfo(np.int64).max)
    last = np.full(keys.shape, np.iinfo(np.int64).min)
    np.minimum.at(first, inverse, day)
    np.maximum.at(last, inverse, day)
    twice = np.unique(provider[np.isin(provider_start, keys[counts > 1])])
    return np.isin(provider, twice), int((last - first).max())


def _any_collision(table: CandidateTable, rows: IntpArray) -> bool:
    """Some provider has one start on two local dates among ``rows`` (``_colliding``, without sorting when
    no provider has rows of two locations or visit types: its starts are then distinct)."""
    if rows.shape[0] == 0:
        return False
    seated = any(v is not None and v.seats > 1 for v in table.search.visit_types)  # sessions: a second row
    variant = table.location[rows] * (int(table.visit_type[rows].max()) + 1) + table.visit_type[rows]
    first = np.full(int(table.provider[rows].max()) + 1, -1, dtype=np.int64)
    first[table.provider[rows]] = variant  # one of each provider's variants
    other = first[table.provider[rows]] != variant
    if not seated:  # only a provider with rows of two variants can hold one start twice
        if not other.any():
            return False
        mixed = np.zeros(first.shape[0], dtype=bool)
        mixed[table.provider[rows][other]] = True
        rows = rows[mixed[table.provider[rows]]]
    provider_start = table.provider[rows] * (1 << 40) + table.start[rows]
    order = np.argsort(provider_start, kind="stable")
    key, day = provider_start[order], table.local_day[rows][order]
    runs = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    return bool((np.minimum.reduceat(day, runs) != np.maximum.reduceat(day, runs)).any())


def _nested_top(
    table: CandidateTable,
    points: npt.NDArray[np.int64],
    kept: IntpArray,
    provider_start: npt.NDArray[np.int64],
    provider_day: npt.NDArray[np.int64],
    limit: int,
    per_day: int,
    per_provider_day: int,
) -> IntpArray:
    """The pruned ranking when the caps nest, from the best-ranked rows only: each pruning step keeps a row
    by the rows ranked before it alone, so the first ``m`` rows decide their own fate; ``m`` grows until
    ``limit`` rows survive (or every row was seen)."""
    m = max(4 * limit, 256)
    while True:
        prefix = _best_ranked(table, points, kept, m)
        rows = _keep_top(prefix, _group_ids(provider_start[prefix], table.local_day[prefix]), 1)
        rows = _keep_top(rows, provider_day[rows], per_provider_day)
        rows = _keep_top(rows, table.local_day[rows], per_day)
        if rows.shape[0] >= limit or prefix.shape[0] >= kept.shape[0]:
            return rows[:limit]
        m *= 4


def _best_ranked(table: CandidateTable, points: npt.NDArray[np.int64], rows: IntpArray, m: int) -> IntpArray:
    """The first ``m`` of ``rows`` in output order (all of them in order when ``m`` reaches their number)."""
    if m >= rows.shape[0]:
        return rank_order(table, points, rows)
    worst = np.partition(-points[rows], m - 1)[m - 1]  # every row scoring at least the m-th best, ties too
    return rank_order(table, points, rows[-points[rows] <= worst])[:m]


def build_problem(
    table: CandidateTable,
    points: npt.NDArray[np.int64],
    keep: npt.NDArray[np.bool_],
    *,
    limit: int,
    per_day: int,
    per_provider_day: int,
    per_provider: int | None = None,
    min_providers: int = 1,
    spread: bool = False,
) -> SelectionProblem:
    """Order, collapse and prune the candidates; the result still holds an optimal choice."""
    provider_day = table.provider * (1 << 24) + table.local_day
    provider_start = table.provider * (1 << 40) + table.start
    half = (table.local_minute >= NOON).astype(np.int64)
    kept = np.flatnonzero(keep)

    def problem(rows: IntpArray, before: int, exact: bool) -> SelectionProblem:
        return SelectionProblem(
            rows=rows,
            points=points[rows],
            day=table.local_day[rows],
            provider_day=provider_day[rows],
            provider_start=provider_start[rows],
            provider=table.provider[rows],
            half=half[rows],
            limit=limit,
            per_day=per_day,
            per_provider_day=per_provider_day,
            before_pruning=before,
            per_provider=per_provider,
            min_providers=min_providers,
            spread=spread,
            exact_ranking=exact,
        )

    if per_provider is None and min_providers <= 1 and not spread and not _any_collision(table, kept):
        rows = _nested_top(table, points, kept, provider_start, provider_day, limit, per_day, per_provider_day)
        return problem(rows, int(kept.shape[0]), True)
    rows = rank_order(table, points, kept)
    before = rows.shape[0]
    # The best visit type/location variant of a provider, start and date stands for the rest.
    rows = _keep_top(rows, _group_ids(provider_start[rows], table.local_day[rows]), 1)
    colliding, apart = _colliding(provider_start[rows], table.provider[rows], table.local_day[rows])
    nested = not colliding.any() and per_provider is None and min_providers <= 1 and not spread
    if nested:  # the pruned ranking is the answer (see the module docstring)
        rows = _keep_top(rows, provider_day[rows], per_provider_day)
        rows = _keep_top(rows, table.local_day[rows], per_day)
        rows = rows[:limit]
    else:
        extra = np.where(colliding, limit, 0)
        by_half = half[rows] if spread else np.zeros(rows.shape[0], dtype=np.int64)
        # a chosen row of the provider on another date within ``apart`` blocks at most one twin here
        cap = np.where(colliding, per_provider_day * (1 + 2 * apart), per_provider_day)
        keep_pd = _rank_in_group(_group_ids(provider_day[rows], by_half)) < cap
        rows, extra, by_half, cap = rows[keep_pd], extra[keep_pd], by_half[keep_pd], cap[keep_pd]
        per_group = (limit - 1) + (limit // per_day) * cap + (limit // per_provider_day) * cap + extra + 1
        rows = _keep_top(rows, _group_ids(table.provider[rows], by_half), per_group)
    return problem(rows, before, nested)


def greedy(problem: SelectionProblem) -> IntpArray:
    """Best-first choice under the caps (the fallback when the solver returns nothing in time).

    Exact when the caps nest; with the diversity terms it is only a feasible answer (they are not sought).
    """
    chosen: list[int] = []
    per_day: dict[int, int] = {}
    per_pd: dict[int, int] = {}
    per_p: dict[int, int] = {}
    provider_cap = problem.per_provider if problem.per_provider is not None else problem.limit
    taken: set[int] = set()  # (provider, start) keys: one offer per provider and instant
    for i in range(problem.rows.shape[0]):
        d, pd, ps = int(problem.day[i]), int(problem.provider_day[i]), int(problem.provider_start[i])
        p = int(problem.provider[i])
        if (
            len(chosen) < problem.limit
            and per_day.get(d, 0) < problem.per_day
            and per_pd.get(pd, 0) < problem.per_provider_day
            and per_p.get(p, 0) < provider_cap
            and ps not in taken
        ):
            chosen.append(i)
            per_day[d] = per_day.get(d, 0) + 1
            per_pd[pd] = per_pd.get(pd, 0) + 1
            per_p[p] = per_p.get(p, 0) + 1
            taken.add(ps)
    return np.array(chosen, dtype=np.intp)


def select_ranking(problem: SelectionProblem) -> Selection:
    """The answer when the caps nest: every pruned row, in output order (no solver; see the module docstring)."""
    assert problem.exact_ranking
    return Selection(rows=problem.rows, status="OPTIMAL", complete=True, method="ranking")
