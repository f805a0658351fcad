"""Engine settings and ranking weights, with their documented defaults."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import attrs
from attrs import field, frozen

from slotfinder._domain import StartAlignment, start_alignment
from slotfinder._errors import InvalidValue

__all__ = ["Settings", "Weights"]


def _non_negative(_inst: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if value < 0:
        raise InvalidValue(f"{attribute.name} must not be negative, got {value}")


def _positive(_inst: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if value <= 0:
        raise InvalidValue(f"{attribute.name} must be positive, got {value}")


def _finite(_inst: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidValue(f"{attribute.name} must be a finite number")


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _alignment(value: StartAlignment | str | None) -> StartAlignment | None:
    return None if value is None else start_alignment(value)


@frozen
class Weights:
    """Points per unit of each ranking term (see the README's ranking section).

    Gains are positive, costs negative; set a weight to 0 to switch its term off.
    """

    preferred_day: float = field(default=30.0, validator=_finite)  # start falls on a preferred weekday (0 or 1)
    preferred_time: float = field(default=20.0, validator=_finite)  # 1 at a preferred time, to 0 at time_scale
    earliness: float = field(default=10.0, validator=_finite)  # 1 at the window's start, 0 at its end
    continuity: float = field(default=15.0, validator=_finite)  # a provider the patient sees, or a preferred one
    fragmentation: float = field(default=-8.0, validator=_finite)  # per gap left shorter than the shortest visit
    adjacency: float = field(default=3.0, validator=_finite)  # per side of the visit touching a booking


@frozen
class Settings:
    """How many slots, how diverse, how far ahead, and how hard to search."""

    limit: int = field(default=10, validator=_positive)  # top K
    per_day: int = field(default=3, validator=_positive)  # at most N slots on one local date
    per_provider_day: int = field(default=2, validator=_positive)  # at most N per provider and date
    # Diversity that does not nest with the caps above (CP-SAT decides when any is set):
    per_provider: int | None = field(default=None)  # at most N offers of one provider in the answer
    min_providers: int = field(default=1, validator=_positive)  # at least M distinct providers, when possible
    spread: bool = False  # a morning and an afternoon offer, when both exist
    default_horizon_days: int = field(default=30, validator=_positive)
    max_horizon_days: int = field(default=366, validator=_positive)
    min_notice_minutes: int = field(default=0, validator=_non_negative)
    start_interval: int | None = field(default=None)  # override of every block's slot length (minutes)
    # where starts lie in a block ("block", "clock", "after_busy"); None: the clinic's start_alignment
    start_alignment: StartAlignment | None = field(default=None, converter=_alignment)
    hard_preferences: bool = False  # preferences filter instead of only ranking
    hard_time_tolerance: int = field(default=60, validator=_non_negative)  # minutes, when hard
    time_scale: int = field(default=240, validator=_positive)  # minutes for preferred_time to reach 0
    weights: Weights = Weights()
    preferred_providers: tuple[str, ...] = field(default=(), converter=_strings)  # continuity
    time_limit_seconds: float = field(default=5.0, validator=_positive)
    random_seed: int = 0
    # how composite offers are chosen: "auto" (the exact chain programme when every step has one
    # participant, else CP-SAT) or "cp-sat" (always the solver: to compare, or to check the programme)
    offer_search: str = field(default="auto")

    @offer_search.validator
    def _offer_search(self, _attribute: attrs.Attribute[Any], value: str) -> None:
        if value not in ("auto", "cp-sat"):
            raise InvalidValue('offer_search must be "auto" or "cp-sat"')

    @per_provider.validator
    def _per_provider(self, _attribute: attrs.Attribute[Any], value: int | None) -> None:
        if value is not None and value <= 0:
            raise InvalidValue(f"per_provider must be positive, got {value}")

    @start_interval.validator
    def _interval(self, _attribute: attrs.Attribute[Any], value: int | None) -> None:
        if value is not None and value <= 0:
            raise InvalidValue(f"start_interval must be positive, got {value}")
