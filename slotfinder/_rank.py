"""Ranking: every candidate's score as a sum of named, weighted terms (weights in ``Weights``).

Terms (each a number per candidate; the score adds ``weight * term``):

* ``preferred_day``   1 when the local weekday is one the patient prefers, else 0;
* ``preferred_time``  1 at a preferred local start time, falling linearly to 0 at ``time_scale``
  minutes away;
* ``earliness``       1 at the start of the requested window, falling linearly to 0 at its end;
* ``continuity``      1 for a provider the patient already has bookings with, or a preferred one;
* ``fragmentation``   how many of the two gaps the visit leaves in its stretch of free time are
  shorter than the shortest visit the block allows (unbookable leftovers), 0..2;
* ``adjacency``       how many sides of the visit touch an existing booking, 0..2.

Several VisitPreference entries are alternatives: a candidate takes the day and time terms of the
entry that scores it best. With ``Settings.hard_preferences`` a candidate must also match one entry:
its weekday among the entry's days (when given) and its start within ``hard_time_tolerance`` of one
of the entry's times (when given).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from attrs import frozen

from slotfinder._domain import Preference
from slotfinder._settings import Settings, Weights
from slotfinder._solve.candidates import CandidateTable

__all__ = ["TERMS", "Scores", "score_candidates", "term_values"]

TERMS = ("preferred_day", "preferred_time", "earliness", "continuity", "fragmentation", "adjacency")
SCORE_SCALE = 1000  # integer points per score unit, for CP-SAT's integer objective

FloatArray = npt.NDArray[np.float64]


@frozen
class Scores:
    """Per-candidate term values, total score, its integer form, and whether hard rules keep it."""

    terms: dict[str, FloatArray]
    total: FloatArray
    points: npt.NDArray[np.int64]
    keep: npt.NDArray[np.bool_]


def _preference_terms(
    table: CandidateTable, preferences: Sequence[Preference], settings: Settings
) -> tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    """Best entry's day and time terms, and whether some entry matches under the hard rule."""
    n = len(table)
    weights = settings.weights
    best_day = np.zeros(n)
    best_time = np.zeros(n)
    best = np.full(n, -np.inf)
    matches = np.zeros(n, dtype=bool) if preferences else np.ones(n, dtype=bool)
    weekday = table.weekday
    for entry in preferences:
        day_hit = np.isin(weekday, sorted(entry.days)) if entry.days else np.zeros(n, dtype=bool)
        day_term = day_hit.astype(np.float64)
        if entry.times:
            distance = np.min(np.abs(table.local_minute[:, None] - np.array(entry.times)[None, :]), axis=1)
            time_term = np.clip(1.0 - distance / settings.time_scale, 0.0, 1.0)
            time_hit = distance <= settings.hard_time_tolerance
        else:
            time_term = np.zeros(n)
            time_hit = np.ones(n, dtype=bool)
        value = weights.preferred_day * day_term + weights.preferred_time * time_term
        better = value > best
        best = np.where(better, value, best)
        best_day = np.where(better, day_term, best_day)
        best_time = np.where(better, time_term, best_time)
        matches |= (day_hit if entry.days else True) & time_hit
    return best_day, best_time, matches


def term_values(
    table: CandidateTable, preferences: Sequence[Preference], continuity: frozenset[str], settings: Settings
) -> tuple[dict[str, FloatArray], npt.NDArray[np.bool_]]:
    """Each term's value per candidate, and the hard-preference mask."""
    search = table.search
    day, time, matches = _preference_terms(table, preferences, settings)
    span = max(search.window_end - search.request_start, 1)
    provider_ids = np.array([p.id in continuity for p in search.providers], dtype=bool)
    short = (table.gap_before > 0) & (table.gap_before < table.shortest)
    short_after = (table.gap_after > 0) & (table.gap_after < table.shortest)
    terms = {
        "preferred_day": day,
        "preferred_time": time,
        "earliness": 1.0 - (table.start - search.request_start) / span,
        "continuity": provider_ids[table.provider].astype(np.float64) if len(table) else np.zeros(0),
        "fragmentation": short.astype(np.float64) + short_after.astype(np.float64),
        "adjacency": table.booked_before.astype(np.float64) + table.booked_after.astype(np.float64),
    }
    return terms, matches


def combine(terms: dict[str, FloatArray], weights: Weights) -> FloatArray:
    """The score: the weighted sum of the terms."""
    total = np.zeros_like(terms["earliness"])
    for name in TERMS:
        total = total + getattr(weights, name) * terms[name]
    return total


def score_candidates(
    table: CandidateTable, preferences: Sequence[Preference], continuity: frozenset[str], settings: Settings
) -> Scores:
    """Score every candidate (see the module docstring)."""
    terms, matches = term_values(table, preferences, continuity, settings)
    total = combine(terms, settings.weights)
    points = np.rint(total * SCORE_SCALE).astype(np.int64)
    keep = matches if settings.hard_preferences else np.ones(len(table), dtype=bool)
    return Scores(terms=terms, total=total, points=points, keep=keep)
