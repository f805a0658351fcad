"""The latency grid's axes and presets: which cells a run measures and how hard (``Grid``, ``PRESETS``)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from attrs import field, frozen

from slotfinder.planning._scenario import ScenarioSpec

__all__ = ["CELL_FIELDS", "DEFAULT_OUT", "PRESETS", "SCHEMA", "STAGES", "Cell", "Grid"]

SCHEMA = "slotfinder-latency/1"
DEFAULT_OUT = Path("benchmarks") / "results" / "latency.json"
STAGES = ("expand", "candidates", "score", "model", "solve")
CELL_FIELDS = (
    "providers",
    "days",
    "grain",
    "limit",
    "booked",
    "resources",
    "visit_type",
    "scenario",
    "repeats",
    "engine_p50_ms",
    "engine_p95_ms",
    "stages_p50_ms",
    "peak_memory_mb",
    "candidates",
    "after_pruning",
    "slots",
    "status",
    "baseline_p50_ms",
    "baseline_p95_ms",
    "ratio_p50",
    "ratio_p95",
    "resources_ratio_p50",
)


def _tuple(value: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(value)


@frozen
class Cell:
    """One point of the grid: the scenario it needs and the query asked of it."""

    providers: int
    days: int
    grain: int
    limit: int
    booked: float
    resources: bool  # rooms and equipment, both on or both off
    visit_type: str = "OV"

    def spec(self, seed: int) -> ScenarioSpec:
        """The scenario this cell is measured on (K and the visit type do not change it)."""
        return ScenarioSpec(
            seed=seed,
            providers=self.providers,
            days=self.days,
            grain=self.grain,
            booked=self.booked,
            rooms=self.resources,
            equipment=self.resources,
        )

    def label(self) -> str:
        """The cell in words, for the progress bar."""
        extra = ", rooms+equipment" if self.resources else ""
        return (
            f"{self.providers} providers, {self.days} d, {self.grain} min, top {self.limit}, "
            f"{self.booked:.0%} booked{extra}, {self.visit_type}"
        )


@frozen
class Grid:
    """The axes of a run and how hard to measure each cell."""

    name: str
    providers: tuple[int, ...] = field(converter=_tuple)
    days: tuple[int, ...] = field(converter=_tuple)
    grains: tuple[int, ...] = field(converter=_tuple)
    limits: tuple[int, ...] = field(converter=_tuple)
    loads: tuple[float, ...] = field(converter=_tuple)
    resources: tuple[bool, ...] = field(converter=_tuple)
    visit_types: tuple[str, ...] = field(default=("OV",), converter=_tuple)
    repeat: int = 30  # timed calls of the engine (and of the baseline) per cell, at most
    min_repeat: int = 5  # ... and at least
    budget_seconds: float = 10.0  # per cell for the timed calls: fewer repeats when calls are slow
    seed: int = 0  # scenario seed; also draws the sample
    sample: int | None = None  # draw this many (providers, days, grain, K, load) points, each with every
    # resources and visit-type value, so on/off pairs stay together
    startup_repeat: int = 5  # 0: skip the start-up measures

    def points(self) -> list[tuple[int, int, int, int, float]]:
        """The (providers, days, grain, K, load) points run: every one, or the drawn sample."""
        every = list(itertools.product(self.providers, self.days, self.grains, self.limits, self.loads))
        if self.sample is not None and self.sample < len(every):
            every = random.Random(f"sample:{self.seed}").sample(every, self.sample)
        return every

    def cells(self) -> list[Cell]:
        """Every cell, ordered so cells sharing a scenario are adjacent (it is generated once)."""
        found = [
            Cell(p, d, g, k, load, res, vt)
            for (p, d, g, k, load) in self.points()
            for res in self.resources
            for vt in self.visit_types
        ]
        return sorted(found, key=lambda c: (c.providers, c.days, c.grain, c.booked, c.resources, c.limit, c.visit_type))


PRESETS = {
    # CI: tiny, well under 20 s including the start-up measures.
    "smoke": Grid(
        "smoke",
        providers=(1, 5),
        days=(7,),
        grains=(15,),
        limits=(10,),
        loads=(0.8,),
        resources=(False, True),
        visit_types=("OV", "PROC"),
        repeat=5,
        min_repeat=3,
        budget_seconds=1.0,
        startup_repeat=1,
    ),
    # The grid: 4 x 3 x 2 x 2 x 3 points x (off, on) x (OV, PROC) = 576 cells.
    "full": Grid(
        "full",
        providers=(1, 20, 100, 500),
        days=(7, 30, 365),
        grains=(5, 15),
        limits=(10, 50),
        loads=(0.5, 0.8, 0.95),
        resources=(False, True),
        visit_types=("OV", "PROC"),
    ),
}
