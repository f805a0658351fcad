"""What a search returns: ranked slots with their score breakdown, and how the search went."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from attrs import field, frozen

from slotfinder._calendars import zones
from slotfinder._domain import Location, Provider, VisitType

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RankedSlot", "ScoreTerm", "SlotResult"]


@frozen
class ScoreTerm:
    """One ranking term of one slot: its value, its weight, and the points it adds (value x weight)."""

    name: str
    value: float
    weight: float

    @property
    def points(self) -> float:
        return self.value * self.weight + 0.0  # + 0.0: no "-0.0" in breakdowns


@frozen
class RankedSlot:
    """An offered slot: when, how long, with whom, where, and why it ranks where it does."""

    start: int  # instant, minutes since the epoch (UTC)
    duration: int
    provider: Provider
    location: Location
    room: str | None
    visit_type: VisitType | None
    score: float
    terms: tuple[ScoreTerm, ...]
    local_date: dt.date
    local_time: dt.time
    notes: tuple[str, ...] = ()  # an offer's appointment: "offer:<id>", "step:<i>/<n>", "with:<provider ID>"

    @property
    def start_utc(self) -> dt.datetime:
        return zones.to_datetime(self.start)

    @property
    def end_utc(self) -> dt.datetime:
        return zones.to_datetime(self.start + self.duration)

    @property
    def slot_id(self) -> str:
        """Stable ID: department (or location ID), room, provider ID and UTC start."""
        stamp = self.start_utc.strftime("%Y%m%dT%H%MZ")
        parts = [self.location.department or self.location.id, self.room, self.provider.id, stamp]
        return "-".join(p for p in parts if p)

    def breakdown(self) -> dict[str, float]:
        """Points per term (they add up to ``score``)."""
        return {t.name: t.points for t in self.terms}


@frozen
class SlotResult:
    """The answer to one search."""

    slots: tuple[RankedSlot, ...]
    status: str  # OPTIMAL, FEASIBLE (time limit hit), GREEDY (fallback), or EMPTY
    complete: bool  # False when the solver's time limit cut the search (IsIncomplete)
    method: str  # how the answer was found: "ranking" (caps nest, proven), "cp-sat", "greedy" (fallback), "none"
    now: int
    window: tuple[int, int]  # the starts considered: [max(start, now + notice), end)
    candidates: int  # open starts found before pruning
    pruned_to: int  # candidates the solver saw
    ignored: tuple[str, ...] = ()  # JSON paths of request fields present but not used
    reasons: tuple[str, ...] = ()  # why nothing (or little) was found
    alternatives: tuple[RankedSlot, ...] = ()  # offers with soft preferences or a wider window
    # Milliseconds per stage (expand, candidates, score, model, solve, alternatives): not part of equality.
    timings: Mapping[str, float] = field(factory=dict, eq=False, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The slots as a pandas DataFrame, one row per slot, with each term's points as a column."""
        import pandas as pd

        rows: list[Mapping[str, Any]] = [
            {
                "rank": rank,
                "slot_id": slot.slot_id,
                "start_utc": pd.Timestamp(slot.start_utc),
                "local_date": slot.local_date,
                "local_time": slot.local_time,
                "duration_min": slot.duration,
                "provider_id": slot.provider.id,
                "provider": " ".join(p for p in (slot.provider.first_name, slot.provider.last_name) if p),
                "location_id": slot.location.id,
                "department": slot.location.department,
                "room": slot.room,
                "visit_type": slot.visit_type.code if slot.visit_type else None,
                "score": slot.score,
                **{f"points_{name}": value for name, value in slot.breakdown().items()},
            }
            for rank, slot in enumerate(self.slots, start=1)
        ]
        return pd.DataFrame(rows)
