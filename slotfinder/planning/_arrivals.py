"""The requests of a run: given by the spec's script, or drawn (Poisson per call day, then preferences)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from attrs import frozen

from slotfinder import walltime
from slotfinder.planning._simulation_spec import SimulationSpec

__all__ = ["Arrival", "drawn_arrivals", "scripted_arrivals"]


@frozen
class Arrival:
    """One request to come: when, which visit type, preferences, and (scripted only) its choice and fate."""

    at: int
    visit_type: str
    days: frozenset[int]
    times: tuple[int, ...]
    pick: int | None = None
    cancel_at: int | None = None
    no_show: bool | None = None


def scripted_arrivals(spec: SimulationSpec) -> list[Arrival]:
    """The spec's scripted requests in order of arrival (ties: script order); each must lie inside the run."""
    for a in spec.script:
        if not spec.start <= a.at < spec.end:
            raise ValueError(f"a scripted arrival at {a.at} lies outside the simulation [{spec.start}, {spec.end})")
    ordered = sorted(enumerate(spec.script), key=lambda p: (p[1].at, p[0]))
    return [Arrival(a.at, a.visit_type, a.days, a.times, a.pick, a.cancel_at, a.no_show) for _, a in ordered]


def drawn_arrivals(
    spec: SimulationSpec, zone: str, arrival_rng: np.random.Generator, preference_rng: np.random.Generator
) -> list[Arrival]:
    """Poisson arrivals per call day and visit type, uniform over the call hours; then their preferences."""
    first, _ = walltime.local_of(zone, spec.start)
    last, _ = walltime.local_of(zone, spec.end)
    opens, closes = spec.call_hours
    found: list[tuple[int, int, int, str]] = []
    date = first
    while date <= last:
        if date.weekday() in spec.call_days:
            for order, rate in enumerate(spec.rates):
                count = int(arrival_rng.poisson(rate.per_day * spec.load))
                minutes = arrival_rng.integers(opens, closes, size=count)
                for minute in sorted(int(m) for m in minutes):
                    at = walltime.instant_of(zone, date, minute)
                    if spec.start <= at < spec.end:
                        found.append((at, order, len(found), rate.visit_type))
        date += dt.timedelta(days=1)
    found.sort()
    model = spec.preferences
    weights = np.array(model.time_weights or [1.0] * len(model.times), dtype=np.float64)
    weights = weights / weights.sum()
    arrivals = []
    for at, _, _, code in found:
        draws = preference_rng.random(2)
        count = model.day_counts[int(preference_rng.integers(len(model.day_counts)))]
        picked = preference_rng.choice(len(model.weekdays), size=count, replace=False)
        time = model.times[int(preference_rng.choice(len(model.times), p=weights))]
        days = frozenset(model.weekdays[int(i)] for i in picked) if draws[0] < model.day_probability else frozenset()
        times = (time,) if draws[1] < model.time_probability else ()
        arrivals.append(Arrival(at, code, days, times))
    return arrivals
