"""Latency benchmark: a grid of scenarios, the warm engine beside the pure interval-sweep baseline.

For each cell (providers, horizon, grain, top K, load, rooms and equipment off/on, visit type) the
scenario is generated and prepared once (``generate``, ``slotfinder.prepare``), the engine is warmed
by one call, then engine and baseline calls alternate, both handed the same prepared clinic: p50 and
p95 of each, their ratio, the median of each pipeline stage (``SlotResult.timings``), the peak memory
of one engine call (tracemalloc) and the candidates before and after pruning. With rooms and
equipment on, the cell is also compared with the same cell without them when both ran
(``resources_ratio_p50``). Start-up costs (``import slotfinder``, a cold ``slotfinder demo``) are
measured once per run.

Figures are reports, never assertions. Run it with ``slotfinder bench`` or
``python -m benchmarks.latency_grid`` (see docs/benchmarks.md).
"""

from __future__ import annotations

import datetime as dt
import importlib
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import attrs

from slotfinder import PreparedClinic, SlotResult, find_slots, prepare
from slotfinder.planning._baseline import sweep_baseline
from slotfinder.planning._generator import generate
from slotfinder.planning._latency_grid import SCHEMA, STAGES, Cell, Grid
from slotfinder.planning._scenario import Scenario, ScenarioSpec, request_for

__all__ = ["measure_cell", "percentile", "run_grid", "startup_times"]

_PROGRESS_FROM_CELLS = 20  # runs with more cells show a progress bar by default (on a terminal)
_MEDIAN, _P95 = 0.5, 0.95


def percentile(samples: Sequence[float], share: float) -> float:
    """Nearest-rank percentile (``share`` 0.5 is the median of an odd count)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def _ms(run: Callable[[], object]) -> float:
    began = time.perf_counter()
    run()
    return (time.perf_counter() - began) * 1000


def measure_cell(scenario: Scenario, cell: Cell, grid: Grid, prepared: PreparedClinic | None = None) -> dict[str, Any]:
    """The figures of one cell on its (already generated) scenario; ``prepared`` is the scenario's clinic
    prepared (done here when not given). Engine and baseline get the same warm help: that prepared
    clinic, with its busy index and cached template expansions."""
    clinic = scenario.clinic
    query = request_for(scenario, cell.days, cell.visit_type, limit=cell.limit)
    warm = prepare(clinic) if prepared is None else prepared

    def engine() -> SlotResult:
        return find_slots(warm, query.request, query.settings, query.now)

    def baseline() -> object:
        return sweep_baseline(warm, query.request, query.duration, cell.limit)

    first = engine()  # warm: time-zone conversions, template expansion, ortools
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
    engine_p50, engine_p95 = percentile(engine_ms, _MEDIAN), percentile(engine_ms, _P95)
    baseline_p50, baseline_p95 = percentile(baseline_ms, _MEDIAN), percentile(baseline_ms, _P95)
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


def _scenarios(cells: list[Cell], seed: int) -> Iterator[tuple[Cell, Scenario, PreparedClinic, float]]:
    """Each cell with its scenario and the scenario's clinic prepared, generating and preparing a
    scenario once for the adjacent cells that share it. Only the current scenario is held: at 500
    providers x 365 days each takes gigabytes."""
    current: tuple[ScenarioSpec, Scenario, PreparedClinic, float] | None = None
    for cell in cells:
        spec = cell.spec(seed)
        if current is None or current[0] != spec:
            current = None  # let the previous scenario go before building the next
            began = time.perf_counter()
            scenario = generate(spec)
            generated = time.perf_counter() - began
            current = (spec, scenario, prepare(scenario.clinic), generated)
        yield cell, current[1], current[2], current[3]


def run_grid(grid: Grid, *, progress: bool | None = None, command: str | None = None) -> dict[str, Any]:
    """Measure every cell of ``grid`` (and the start-up costs) into one JSON-ready document.

    ``progress`` None shows a tqdm bar when the run is long (more than 20 cells) and stderr is a terminal.
    """
    cells = grid.cells()
    show = progress if progress is not None else len(cells) > _PROGRESS_FROM_CELLS and sys.stderr.isatty()
    started = dt.datetime.now(dt.UTC)
    began = time.perf_counter()
    rows: list[dict[str, Any]] = []
    bar = _progress(len(cells), show)
    try:
        for cell, scenario, prepared, generated in _scenarios(cells, grid.seed):
            bar.set_postfix_str(cell.label())
            row = measure_cell(scenario, cell, grid, prepared)
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
