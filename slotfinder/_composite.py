"""Composite visits as frozen attrs values: steps in sequence, roles filled k of n, and the offers found.

Plain values only: no JSON, no solver. A :class:`CompositeRequest` asks for a sequence of
:class:`Step` s (a lab draw, then a consult 0-60 minutes after it ends); each step needs one or
more :class:`Role` s filled at once (the physician and any one nurse of a list). An answer is an
:class:`Offer`: one :class:`Appointment` per step, all bookable together.

:class:`SequenceModel` is the solver-agnostic form of one search (candidate slots and participant
rows per step, with integer points) that ``slotfinder._solve.cpsat.solve_sequence`` reads; it is
built by ``slotfinder._offers``.

Definitions are checked by :func:`definition_problems` (paths such as ``steps[1].max_gap``) so that a
bad request raises ``InvalidRequest`` with every problem, never ``ValueError``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
from attrs import field, frozen

from slotfinder._calendars import zones
from slotfinder._composite_types import Role, Series, Step
from slotfinder._domain import Location, LocationFilter, PatientId, Preference, Provider, VisitType
from slotfinder._errors import Problem
from slotfinder._result import ScoreTerm

__all__ = [
    "Appointment",
    "CompositeRequest",
    "Offer",
    "OfferResult",
    "Role",
    "SequenceModel",
    "SequencePick",
    "Series",
    "Step",
    "StepModel",
    "definition_problems",
    "series_problems",
    "steps_problems",
]

IntArray = npt.NDArray[np.int64]


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


@frozen
class CompositeRequest:
    """A sequence of steps; the first step starts in ``[start, end)`` (end None: the default horizon).

    ``locations``, ``preferences`` and ``patient_ids`` apply to every step as to a single-slot
    request (the patient's appointments are busy; preferences rank each step).
    """

    start: int
    steps: tuple[Step, ...] = field(converter=_tuple)
    end: int | None = None
    locations: tuple[LocationFilter, ...] = field(default=(), converter=_tuple)
    preferences: tuple[Preference, ...] = field(default=(), converter=_tuple)
    patient_ids: tuple[PatientId, ...] = field(default=(), converter=_tuple)


def definition_problems(
    request: CompositeRequest, provider_ids: frozenset[str], visit_types: Iterable[VisitType]
) -> list[Problem]:
    """Every rule the request's steps break (paths into ``steps``; values are never repeated)."""
    return steps_problems(request.steps, provider_ids, visit_types)


def steps_problems(
    steps: tuple[Step, ...], provider_ids: frozenset[str], visit_types: Iterable[VisitType], at: str = "steps"
) -> list[Problem]:
    """Every rule a sequence of steps breaks, at paths under ``at``."""
    problems: list[Problem] = []
    codes = {(v.code, v.codeset) for v in visit_types}
    if not steps:
        problems.append(Problem(at, "must hold at least one step"))
    for i, step in enumerate(steps):
        previous = steps[i - 1] if i else None
        problems += _step_problems(f"{at}[{i}]", step, previous, provider_ids, codes)
    return problems


def _step_problems(
    at: str, step: Step, previous: Step | None, provider_ids: frozenset[str], codes: set[tuple[str, str | None]]
) -> list[Problem]:
    problems: list[Problem] = []
    if not any(c == step.visit_type and (step.codeset is None or s == step.codeset) for c, s in codes):
        problems.append(Problem(f"{at}.visit_type", "is not a visit type of the clinic"))
    if step.providers and step.roles:
        problems.append(Problem(f"{at}.providers", "give providers or roles, not both"))
    if step.roles:
        for j, role in enumerate(step.roles):
            problems += _role_problems(f"{at}.roles[{j}]", role, provider_ids)
    else:
        problems += _provider_problems(f"{at}.providers", step.providers, provider_ids)
    problems += _distance_problems(at, step)
    for flag in ("same_provider_as_previous", "prefer_same_provider"):
        if not getattr(step, flag):
            continue
        if previous is None:
            problems.append(Problem(f"{at}.{flag}", "the first step has no previous step"))
        elif step.size != 1 or previous.size != 1:
            rule = "needs exactly one participant in this step and in the previous one"
            problems.append(Problem(f"{at}.{flag}", rule))
    if step.same_provider_as_previous and step.prefer_same_provider:
        problems.append(Problem(f"{at}.prefer_same_provider", "give same_provider_as_previous or this, not both"))
    return problems


def _distance_problems(at: str, step: Step) -> list[Problem]:
    """Gap bounds in minutes, or in local dates when ``min_days``/``max_days`` are given."""
    problems: list[Problem] = []
    if step.by_date:
        if step.min_days is None or step.max_days is None:
            missing = "min_days" if step.min_days is None else "max_days"
            problems.append(Problem(f"{at}.{missing}", "required when the other of min_days, max_days is given"))
        elif step.min_days < 0:
            problems.append(Problem(f"{at}.min_days", "must not be negative"))
        elif step.max_days < step.min_days:
            problems.append(Problem(f"{at}.max_days", "must not be less than min_days"))
    else:
        if step.min_gap < 0:
            problems.append(Problem(f"{at}.min_gap", "must not be negative"))
        if step.max_gap < step.min_gap:
            problems.append(Problem(f"{at}.max_gap", "must not be less than min_gap"))
    if step.travel < 0:
        problems.append(Problem(f"{at}.travel", "must not be negative"))
    return problems


def series_problems(at: str, series: Series) -> list[Problem]:
    """The rules of a series itself (its expanded steps are checked like any sequence)."""
    problems: list[Problem] = []
    if series.count < 1:
        problems.append(Problem(f"{at}.count", "must be at least 1"))
    if series.interval_days < 1:
        problems.append(Problem(f"{at}.interval_days", "must be at least 1"))
    if series.tolerance_days < 0:
        problems.append(Problem(f"{at}.tolerance_days", "must not be negative"))
    elif series.tolerance_days >= series.interval_days >= 1:
        problems.append(Problem(f"{at}.tolerance_days", "must be less than interval_days"))
    return problems


def _provider_problems(at: str, providers: tuple[str, ...], known: frozenset[str]) -> list[Problem]:
    problems = [
        Problem(f"{at}[{m}]", "is not a provider of the clinic") for m, p in enumerate(providers) if p not in known
    ]
    if len(set(providers)) != len(providers):
        problems.append(Problem(at, "must not repeat a provider"))
    return problems


def _role_problems(at: str, role: Role, known: frozenset[str]) -> list[Problem]:
    problems = _provider_problems(f"{at}.providers", role.providers, known)
    if role.count < 1:
        problems.append(Problem(f"{at}.count", "must be at least 1"))
    elif role.providers and role.count > len(set(role.providers)):
        problems.append(Problem(f"{at}.count", "must not exceed the number of providers listed"))
    return problems


@frozen
class Appointment:
    """One step of an offer: when, how long, who (every participant, roles in order), where."""

    step: int
    start: int  # instant, minutes since the epoch (UTC)
    duration: int
    providers: tuple[Provider, ...]
    location: Location
    room: str | None
    visit_type: VisitType
    score: float  # summed over the participants' candidate scores (and a series' continuity reward)
    local_date: dt.date  # at the location
    local_time: dt.time
    terms: tuple[ScoreTerm, ...] = ()  # per ranking term, values summed over the participants

    @property
    def start_utc(self) -> dt.datetime:
        return zones.to_datetime(self.start)

    @property
    def end(self) -> int:
        return self.start + self.duration


@frozen
class Offer:
    """A coherent set of appointments that can all be booked together, and its score (summed over steps)."""

    appointments: tuple[Appointment, ...]
    score: float
    local_date: dt.date  # local date of the first step (what ``Settings.per_day`` caps)

    @property
    def offer_id(self) -> str:
        """Stable ID: a digest of every appointment's start, location and providers."""
        text = "|".join(
            f"{a.start}:{a.location.id}:{','.join(p.id for p in a.providers)}:{a.visit_type.code}"
            for a in self.appointments
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@frozen
class OfferResult:
    """The answer to one composite search: offers best first, and how the search went."""

    offers: tuple[Offer, ...]
    status: str  # OPTIMAL, FEASIBLE (a solve hit the time limit), or EMPTY
    complete: bool  # False when the time limit cut a solve (IsIncomplete)
    method: str  # "chain" (one participant per step: exact dynamic programme), "cp-sat", or "none"
    now: int
    candidates: tuple[int, ...]  # open starts per step before pruning
    pruned_to: tuple[int, ...]  # participant rows per step the solver saw
    timings: dict[str, float] = field(factory=dict)


# The solver-agnostic model (built by ``_offers``, solved by ``_solve.cpsat.solve_sequence``).


@frozen
class StepModel:
    """One step as the solver sees it: slots (start, location) and, per role, the rows that can fill them."""

    slot_start: IntArray
    slot_end: IntArray
    slot_location: IntArray  # index into the search's locations
    slot_day: IntArray  # local date (days since the epoch) of the start
    role_counts: tuple[int, ...]
    role_slot: tuple[IntArray, ...]  # per role: the slot of each row
    role_provider: tuple[IntArray, ...]  # per role: the provider of each row (a global index)
    role_points: tuple[IntArray, ...]  # per role: the row's score points
    # which slots may follow which (gaps or dates, location): pairs (slot of this step, slot of the
    # previous step), sorted by slot, then previous slot
    link_slot: IntArray = field(factory=lambda: np.zeros(0, dtype=np.int64))
    link_previous: IntArray = field(factory=lambda: np.zeros(0, dtype=np.int64))
    min_gap: int = 0
    max_gap: int = 0
    same_location: bool = True
    travel: int = 0
    same_provider_as_previous: bool = False
    day_gap: tuple[int, int] | None = None  # local dates after the previous step's, instead of minute gaps
    prefer_same_provider: int = 0  # points when one participant is the previous step's (0: no preference)


@frozen
class SequenceModel:
    """Every step; offers with first-step keys in ``excluded`` or first-step dates in ``full_days`` are not allowed."""

    steps: tuple[StepModel, ...]
    excluded: tuple[tuple[int, tuple[int, ...]], ...] = ()  # (first start, first role's providers)
    full_days: tuple[int, ...] = ()


@frozen
class SequencePick:
    """The best offer found: per step its slot and, per role, the chosen rows (indices into the role arrays)."""

    slots: tuple[int, ...]
    rows: tuple[tuple[tuple[int, ...], ...], ...]
    optimal: bool
