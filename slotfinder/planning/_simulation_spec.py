"""What a simulation run is made of besides the clinic: arrival rates, the patient models and the spec."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs
from attrs import field, frozen

from slotfinder import Settings
from slotfinder.planning._minutes import DAY, WEEK

__all__ = ["ArrivalRate", "ChoiceModel", "PreferenceModel", "ScriptedArrival", "SimulationSpec"]

_WEEKDAYS = frozenset(range(7))


def _set(value: Iterable[int]) -> frozenset[int]:
    return frozenset(value)


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


def _probability(_inst: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must lie in 0..1, got {value}")


def _non_negative(_inst: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0:  # also rejects NaN
        raise ValueError(f"{attribute.name} must not be negative, got {value}")


def _positive(_inst: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be positive, got {value}")


def _weekday_set(_inst: Any, attribute: attrs.Attribute[Any], value: frozenset[int]) -> None:
    if not value <= _WEEKDAYS:
        raise ValueError(f"{attribute.name} must hold weekdays 0 (Monday) .. 6 (Sunday)")


def _wall_times(_inst: Any, attribute: attrs.Attribute[Any], value: tuple[int, ...]) -> None:
    if any(not 0 <= t < DAY for t in value):
        raise ValueError(f"{attribute.name} must hold minutes after local midnight, 0..1439")


@frozen
class ArrivalRate:
    """Requests of one visit type (its code) per call day, on average (Poisson)."""

    visit_type: str
    per_day: float = field(validator=_non_negative)


@frozen
class PreferenceModel:
    """How patients' preferred weekdays and start times are drawn.

    With probability ``day_probability`` a patient names ``k`` weekdays (``k`` uniform among
    ``day_counts``) drawn without replacement from ``weekdays``; independently, with probability
    ``time_probability``, one start time from ``times`` (weights ``time_weights``, uniform when empty).
    """

    day_probability: float = field(default=0.5, validator=_probability)
    day_counts: tuple[int, ...] = field(default=(1, 2, 3), converter=_tuple)
    weekdays: tuple[int, ...] = field(default=(0, 1, 2, 3, 4), converter=_tuple)
    time_probability: float = field(default=0.5, validator=_probability)
    times: tuple[int, ...] = field(default=(540, 600, 780, 900), converter=_tuple, validator=_wall_times)
    time_weights: tuple[float, ...] = field(default=(), converter=_tuple)

    def __attrs_post_init__(self) -> None:
        if (
            not self.weekdays
            or not frozenset(self.weekdays) <= _WEEKDAYS
            or len(set(self.weekdays)) != len(self.weekdays)
        ):
            raise ValueError("weekdays must be distinct weekdays 0 (Monday) .. 6 (Sunday)")
        if not self.day_counts or any(not 1 <= k <= len(self.weekdays) for k in self.day_counts):
            raise ValueError("day_counts must lie in 1..len(weekdays)")
        if not self.times:
            raise ValueError("times must not be empty")
        if self.time_weights and (
            len(self.time_weights) != len(self.times)
            or any(w < 0 for w in self.time_weights)
            or not sum(self.time_weights)
        ):
            raise ValueError("time_weights must be one non-negative weight per time, not all zero")


@frozen
class ChoiceModel:
    """The patient's choice among the offers: multinomial logit with a decline option, or ``best``.

    Utility of an offer: ``score * engine score + preferred_day * [weekday preferred] +
    preferred_time * [start within time_tolerance minutes of a preferred time] + wait_per_day * days
    from request to visit`` (local calendar days); of declining: ``decline``.
    """

    rule: str = field(default="logit")
    score: float = 0.02
    preferred_day: float = 1.0
    preferred_time: float = 1.0
    wait_per_day: float = -0.05
    decline: float = 0.0
    time_tolerance: int = field(default=60, validator=_non_negative)

    @rule.validator
    def _rule(self, _attribute: attrs.Attribute[str], value: str) -> None:
        if value not in ("logit", "best"):
            raise ValueError(f"rule must be 'logit' or 'best', got {value!r}")


@frozen
class ScriptedArrival:
    """A given request (instead of drawn ones): when, which visit type, preferences, and optionally its fate.

    ``pick``: the offer rank taken (0 = the engine's best), -1 declines, None lets the choice model decide.
    ``cancel_at``: cancel the booking at this instant (between booking and visit); None draws it.
    ``no_show``: True / False (either also means not cancelled unless ``cancel_at`` is given); None draws it.
    """

    at: int
    visit_type: str
    days: frozenset[int] = field(default=frozenset(), converter=_set, validator=_weekday_set)
    times: tuple[int, ...] = field(default=(), converter=_tuple, validator=_wall_times)
    pick: int | None = None
    cancel_at: int | None = None
    no_show: bool | None = None


@frozen
class SimulationSpec:
    """Everything a run depends on besides the clinic; the same spec and clinic give the same result."""

    start: int  # instant the first request may arrive (minutes since the epoch, UTC)
    weeks: int = field(default=4, validator=_positive)
    seed: int = field(default=0, validator=_non_negative)
    rates: tuple[ArrivalRate, ...] = field(default=(), converter=_tuple)
    load: float = field(default=1.0, validator=_non_negative)  # multiplies every rate
    call_days: frozenset[int] = field(default=frozenset(range(5)), converter=_set, validator=_weekday_set)
    call_hours: tuple[int, int] = field(
        default=(8 * 60, 17 * 60), converter=_tuple
    )  # local wall minutes [open, close) requests arrive in
    preferences: PreferenceModel = PreferenceModel()
    k: int = field(default=3, validator=_positive)  # offers per request (the engine's limit)
    choice: ChoiceModel = ChoiceModel()
    cancel_probability: float = field(default=0.1, validator=_probability)
    no_show_probability: float = field(default=0.05, validator=_probability)
    horizon_days: int = field(default=30, validator=_positive)  # window each request asks for
    tna_horizon_days: int = field(default=90, validator=_positive)  # how far first/third available look
    settings: Settings = field(factory=Settings)  # engine settings (limit is replaced by k)
    script: tuple[ScriptedArrival, ...] = field(default=(), converter=_tuple)  # replaces drawn arrivals
    zone: str | None = None  # arrival hours and weeks; default: the clinic's first location's zone

    @call_hours.validator
    def _hours(self, _attribute: attrs.Attribute[tuple[int, int]], value: tuple[int, int]) -> None:
        if not 0 <= value[0] < value[1] <= DAY:
            raise ValueError("call_hours must be (open, close) minutes after local midnight, open < close")

    @property
    def end(self) -> int:
        """The instant the simulation stops: ``weeks`` weeks of elapsed time after ``start``."""
        return self.start + self.weeks * WEEK
