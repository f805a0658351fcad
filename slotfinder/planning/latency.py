"""Latency benchmark: a grid of scenarios, the warm engine beside the pure interval-sweep baseline.

For each cell (providers, horizon, grain, top K, load, rooms and equipment off/on, visit type) the
scenario is generated once (``scenario.generate``), the engine is warmed by one call, then engine and
baseline calls alternate: p50 and p95 of each, their ratio, the median of each pipeline stage
(``SlotResult.timings``), the peak memory of one engine call (tracemalloc) and the candidates before
and after pruning. With rooms and equipment on, the cell is also compared with the same cell without
them when both ran (``resources_ratio_p50``). Start-up costs (``import slotfinder``, a cold
``slotfinder demo``) are measured once per run.

Figures are reports, never assertions. Run it with ``slotfinder bench`` or
``python -m benchmarks.latency_grid`` (see docs/benchmarks.md).
"""

from __future__ import annotations

import datetime as dt
import importlib
import itertools
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs
from attrs import field, frozen

from slotfinder._calendars.expand import BusyIndex
from slotfinder.planning.baseline import sweep_baseline
from slotfinder.planning.scenario import Scenario, ScenarioSpec, generate, request_for

__all__ = [
    "CELL_FIELDS",
    "PRESETS",
    "STAGES",
    "Cell",
    "Grid",
    "markdown_table",
    "measure_cell",
    "percentile",
    "run_grid",
    "startup_times",
    "write_results",
]

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


def percentile(samples: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` 0.5 is the median of an odd count)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def _ms(run: Callable[[], object]) -> float:
    began = time.perf_counter()
    run()
    return (time.perf_counter() - began) * 1000


def measure_cell(scenario: Scenario, cell: Cell, grid: Grid, index: BusyIndex | None = None) -> dict[str, Any]:
    """The figures of one cell on its (already generated) scenario; ``index`` is the baseline's busy
    index of the scenario's clinic (built here when not given)."""
    from slotfinder._pipeline import find_slots

    clinic = scenario.clinic
    query = request_for(scenario, cell.days, cell.visit_type, limit=cell.limit)
    if index is None:
        index = BusyIndex(clinic.busy)  # the baseline's warm help, as the engine has its cached index

    def engine() -> Any:
        return find_slots(clinic, query.request, query.settings, query.now)

    def baseline() -> object:
        return sweep_baseline(clinic, index, query.request, query.duration, cell.limit)

    first = engine()  # warm: time-zone conversions, template expansion, the busy index, ortools
    pair = _ms(engine) + _ms(baseline)
    repeats = max(grid.min_repeat, min(grid.repeat, math.floor(grid.budget_seconds * 1000 / max(pair, 1e-3))))
    engine_ms: list[float] = []
    baseline_ms: list[float] = []
    stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for _ in range(repeats):  # alternate, so drift of the machine touches both sides alike
        began = time.perf_counter()
        result = engine()
        engine_ms.append((time.perf_counter() - began) * 1000)
        for stage in STAGES:
            stages[stage].append(result.timings.get(stage, 0.0))
        baseline_ms.append(_ms(baseline))
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        engine()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    engine_p50, engine_p95 = percentile(engine_ms, 0.5), percentile(engine_ms, 0.95)
    baseline_p50, baseline_p95 = percentile(baseline_ms, 0.5), percentile(baseline_ms, 0.95)
    return {
        **attrs.asdict(cell),
        "scenario": {
            "seed": scenario.spec.seed,
            "locations": len(clinic.locations),
            "templates": len(clinic.templates),
            "busy_items": len(clinic.busy),
            "history_items": len(scenario.history),
            "booked_share": round(scenario.booked_share, 4),
            "substitutions": scenario.substitutions,
        },
        "repeats": repeats,
        "engine_p50_ms": engine_p50,
        "engine_p95_ms": engine_p95,
        "stages_p50_ms": {stage: statistics.median(values) for stage, values in stages.items()},
        "peak_memory_mb": peak / 2**20,
        "candidates": first.candidates,
        "after_pruning": first.pruned_to,
        "slots": len(first.slots),
        "status": first.status,
        "baseline_p50_ms": baseline_p50,
        "baseline_p95_ms": baseline_p95,
        "ratio_p50": engine_p50 / baseline_p50 if baseline_p50 > 0 else None,
        "ratio_p95": engine_p95 / baseline_p95 if baseline_p95 > 0 else None,
        "resources_ratio_p50": None,
    }


def _median_ms(command: list[str], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def startup_times(repeat: int) -> dict[str, float]:
    """Median wall milliseconds of a bare interpreter, ``import slotfinder`` and a cold ``slotfinder demo``."""
    python = sys.executable
    return {
        "python_ms": _median_ms([python, "-c", "pass"], repeat),
        "import_ms": _median_ms([python, "-c", "import slotfinder"], repeat),
        "cli_demo_ms": _median_ms([python, "-m", "slotfinder", "demo"], repeat),
    }


def _machine() -> dict[str, Any]:
    import numpy

    try:
        from importlib.metadata import version

        ortools = version("ortools")
    except Exception:  # pragma: no cover - ortools is a dependency; the report must not fail on metadata
        ortools = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "numpy": numpy.__version__,
        "ortools": ortools,
    }


def _progress(total: int, show: bool) -> Any:
    """A tqdm bar on stderr when asked and tqdm (the planning extra) is installed; else a no-op."""
    if show:
        try:
            tqdm = importlib.import_module("tqdm").tqdm  # untyped package: imported as Any
        except ImportError:
            pass
        else:
            return tqdm(total=total, unit="cell", desc="latency grid", file=sys.stderr)
    return _NoBar()


class _NoBar:
    def update(self, _n: int = 1) -> None:
        pass

    def set_postfix_str(self, _text: str) -> None:
        pass

    def close(self) -> None:
        pass


def _scenarios(cells: list[Cell], seed: int) -> Iterator[tuple[Cell, Scenario, BusyIndex, float]]:
    """Each cell with its scenario (and the baseline's busy index of it), generating a scenario once
    for the adjacent cells that share it."""
    current: tuple[ScenarioSpec, Scenario, BusyIndex, float] | None = None
    for cell in cells:
        spec = cell.spec(seed)
        if current is None or current[0] != spec:
            current = None  # let the previous scenario go before building the next
            _release_engine_caches()
            began = time.perf_counter()
            scenario = generate(spec)
            generated = time.perf_counter() - began
            current = (spec, scenario, BusyIndex(scenario.clinic.busy), generated)
        yield cell, current[1], current[2], current[3]


def _release_engine_caches() -> None:
    """Drop the engine's per-clinic busy indexes (it keeps up to 8 clinics alive: gigabytes at 500
    providers x 365 days). Only the benchmark does this, between scenarios; it changes no figure,
    as every cell is warmed on its own clinic first."""
    from slotfinder._solve import candidates

    cache = getattr(candidates, "_INDEX_CACHE", None)
    if isinstance(cache, dict):
        cache.clear()


def run_grid(grid: Grid, *, progress: bool | None = None, command: str | None = None) -> dict[str, Any]:
    """Measure every cell of ``grid`` (and the start-up costs) into one JSON-ready document.

    ``progress`` None shows a tqdm bar when the run is long (more than 20 cells) and stderr is a terminal.
    """
    cells = grid.cells()
    show = progress if progress is not None else len(cells) > 20 and sys.stderr.isatty()
    started = dt.datetime.now(dt.UTC)
    began = time.perf_counter()
    rows: list[dict[str, Any]] = []
    bar = _progress(len(cells), show)
    try:
        for cell, scenario, index, generated in _scenarios(cells, grid.seed):
            bar.set_postfix_str(cell.label())
            row = measure_cell(scenario, cell, grid, index)
            row["scenario"]["generate_s"] = round(generated, 3)
            rows.append(row)
            bar.update(1)
    finally:
        bar.close()
    _pair_resources(rows)
    startup = startup_times(grid.startup_repeat) if grid.startup_repeat > 0 else None
    elapsed = time.perf_counter() - began
    return {
        "schema": SCHEMA,
        "preset": grid.name,
        "command": command,
        "started": started.isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 1),
        "machine": _machine(),
        "grid": attrs.asdict(grid),
        "startup": {**startup, "repeat": grid.startup_repeat} if startup is not None else None,
        "cells": rows,
    }


def _pair_resources(rows: list[dict[str, Any]]) -> None:
    """``resources_ratio_p50`` of each rooms+equipment cell: its engine p50 over the same cell without them."""
    keys = ("providers", "days", "grain", "limit", "booked", "visit_type")
    off = {tuple(r[k] for k in keys): r for r in rows if not r["resources"]}
    for row in rows:
        twin = off.get(tuple(row[k] for k in keys))
        if row["resources"] and twin is not None and twin["engine_p50_ms"] > 0:
            row["resources_ratio_p50"] = row["engine_p50_ms"] / twin["engine_p50_ms"]


def write_results(document: dict[str, Any], path: str | os.PathLike[str] = DEFAULT_OUT) -> Path:
    """Write the document as JSON (parent directories created); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return target


def _num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:.0f}"
    return f"{value:.{digits}f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def markdown_table(document: dict[str, Any]) -> str:
    """The run as Markdown: a line on the machine and start-up, then one table row per cell."""
    machine = document["machine"]
    lines = [
        f"Preset `{document['preset']}`, {len(document['cells'])} cells, {document['elapsed_s']} s; "
        f"Python {machine['python']}, {machine['cpus']} CPUs, OR-Tools {machine['ortools']}. "
        "Times in ms (engine warm); stages are medians; ratio = engine / sweep baseline (same run); "
        "R+E = rooms and equipment on, R+E cost = engine p50 with / without them.",
    ]
    startup = document.get("startup")
    if startup:
        lines.append("")
        lines.append(
            f"Start-up, median of {startup['repeat']}: bare `python -c pass` {startup['python_ms']:.0f} ms, "
            f"`import slotfinder` {startup['import_ms']:.0f} ms, "
            f"cold `slotfinder demo` {startup['cli_demo_ms']:.0f} ms."
        )
    lines += [
        "",
        "| providers | days | grain | K | booked | R+E | visit | engine p50 | engine p95 | expand | candidates "
        "| score | model | solve | peak MB | candidates -> pruned | baseline p50 | baseline p95 | ratio p50 "
        "| R+E cost |",
        "|" + "---|" * 20,
    ]
    for row in document["cells"]:
        stages = row["stages_p50_ms"]
        lines.append(
            "| "
            + " | ".join(
                [
                    str(row["providers"]),
                    str(row["days"]),
                    str(row["grain"]),
                    str(row["limit"]),
                    f"{row['booked']:.0%}",
                    "on" if row["resources"] else "off",
                    row["visit_type"],
                    _num(row["engine_p50_ms"]),
                    _num(row["engine_p95_ms"]),
                    *(_num(stages[stage]) for stage in STAGES),
                    _num(row["peak_memory_mb"]),
                    f"{row['candidates']} -> {row['after_pruning']}",
                    _num(row["baseline_p50_ms"]),
                    _num(row["baseline_p95_ms"]),
                    _ratio(row["ratio_p50"]),
                    _ratio(row["resources_ratio_p50"]),
                ]
            )
            + " |"
        )
    return "\n".join(lines) + "\n"
