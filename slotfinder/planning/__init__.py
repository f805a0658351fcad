"""Capacity planning: synthetic health systems, latency benchmarks and capacity simulation.

Built on slotfinder's public API alone (``slotfinder``, ``slotfinder.walltime``), and loaded only when
used: ``import slotfinder`` never imports it, and importing it loads none of its modules. Each name
below loads its module on first use; pandas, matplotlib, tqdm and Dask load only inside the calls
that need them (frames, plots, progress bars, a cluster).

* **Scenarios**: ``generate(ScenarioSpec(...)) -> Scenario`` builds a reproducible health system from
  a seed (specialties, time zones across DST, rooms, equipment, bookings, no-shows, cancellations);
  ``request_for`` asks it a query; ``synthetic_clinic`` / ``typical_request`` are the first, simple
  generator.
* **Latency**: ``run_grid(PRESETS["smoke"])`` measures the engine beside ``sweep_baseline`` over a
  ``Grid`` of cells; ``markdown_table`` and ``write_results`` report it (``slotfinder bench``).
* **Simulation**: ``simulate(clinic, SimulationSpec(...)) -> SimulationResult``: requests arrive,
  the engine offers its top K, patients choose, calendars fill; ``run_replicates`` runs replicates
  and loads on local processes or a Dask cluster (``slotfinder simulate``).
* **Metrics**: ``next_available`` (third-next-available), ``weekly_metrics``, ``requests_frame``,
  ``bookings_frame``, ``combine``, ``summarize``, ``load_summary`` (pandas); ``plot_over_time`` and
  ``plot_versus_load`` (matplotlib, PNG).

Every module here whose name starts with ``_`` is private; docs/capacity.md and docs/benchmarks.md
describe the models and the figures.
"""

from __future__ import annotations

import importlib
import typing

if typing.TYPE_CHECKING:  # the names as the type checker sees them; at run time __getattr__ loads them
    from slotfinder.planning._availability import Available, next_available
    from slotfinder.planning._baseline import sweep_baseline
    from slotfinder.planning._bench_cli import add_bench_arguments, run_bench
    from slotfinder.planning._catalogue import SHARED, SPECIALTIES, Specialty, VisitKind
    from slotfinder.planning._generator import generate
    from slotfinder.planning._latency import measure_cell, percentile, run_grid, startup_times
    from slotfinder.planning._latency_grid import CELL_FIELDS, PRESETS, STAGES, Cell, Grid
    from slotfinder.planning._latency_report import markdown_table, write_results
    from slotfinder.planning._plots import (
        METRICS,
        PlotMetric,
        over_time_figure,
        plot_over_time,
        plot_versus_load,
        versus_load_figure,
    )
    from slotfinder.planning._records import BookingRecord, BookingStatus, Offer, Outcome, RequestRecord
    from slotfinder.planning._replicates import Replicate, replicate_seed, run_replicates
    from slotfinder.planning._run_result import (
        ALL,
        WEEKLY_COLUMNS,
        SimulationResult,
        bookings_frame,
        iso_week,
        requests_frame,
        weekly_metrics,
    )
    from slotfinder.planning._scenario import HistoryItem, Query, Scenario, ScenarioSpec, dst_changes, request_for
    from slotfinder.planning._simulation import simulate
    from slotfinder.planning._simulation_spec import (
        ArrivalRate,
        ChoiceModel,
        PreferenceModel,
        ScriptedArrival,
        SimulationSpec,
    )
    from slotfinder.planning._summaries import combine, load_summary, summarize
    from slotfinder.planning._synthetic import synthetic_clinic, typical_request

__all__ = [
    "ALL",
    "CELL_FIELDS",
    "METRICS",
    "PRESETS",
    "SHARED",
    "SPECIALTIES",
    "STAGES",
    "WEEKLY_COLUMNS",
    "ArrivalRate",
    "Available",
    "BookingRecord",
    "BookingStatus",
    "Cell",
    "ChoiceModel",
    "Grid",
    "HistoryItem",
    "Offer",
    "Outcome",
    "PlotMetric",
    "PreferenceModel",
    "Query",
    "Replicate",
    "RequestRecord",
    "Scenario",
    "ScenarioSpec",
    "ScriptedArrival",
    "SimulationResult",
    "SimulationSpec",
    "Specialty",
    "VisitKind",
    "add_bench_arguments",
    "bookings_frame",
    "combine",
    "dst_changes",
    "generate",
    "iso_week",
    "load_summary",
    "markdown_table",
    "measure_cell",
    "next_available",
    "over_time_figure",
    "percentile",
    "plot_over_time",
    "plot_versus_load",
    "replicate_seed",
    "request_for",
    "requests_frame",
    "run_bench",
    "run_grid",
    "run_replicates",
    "simulate",
    "startup_times",
    "summarize",
    "sweep_baseline",
    "synthetic_clinic",
    "typical_request",
    "versus_load_figure",
    "weekly_metrics",
    "write_results",
]

# Where each public name lives (a test checks this agrees with __all__ and with the modules).
_SOURCES: dict[str, str] = {
    "Available": "_availability",
    "next_available": "_availability",
    "sweep_baseline": "_baseline",
    "add_bench_arguments": "_bench_cli",
    "run_bench": "_bench_cli",
    "SHARED": "_catalogue",
    "SPECIALTIES": "_catalogue",
    "Specialty": "_catalogue",
    "VisitKind": "_catalogue",
    "generate": "_generator",
    "measure_cell": "_latency",
    "percentile": "_latency",
    "run_grid": "_latency",
    "startup_times": "_latency",
    "CELL_FIELDS": "_latency_grid",
    "PRESETS": "_latency_grid",
    "STAGES": "_latency_grid",
    "Cell": "_latency_grid",
    "Grid": "_latency_grid",
    "markdown_table": "_latency_report",
    "write_results": "_latency_report",
    "METRICS": "_plots",
    "PlotMetric": "_plots",
    "over_time_figure": "_plots",
    "plot_over_time": "_plots",
    "plot_versus_load": "_plots",
    "versus_load_figure": "_plots",
    "BookingRecord": "_records",
    "BookingStatus": "_records",
    "Offer": "_records",
    "Outcome": "_records",
    "RequestRecord": "_records",
    "Replicate": "_replicates",
    "replicate_seed": "_replicates",
    "run_replicates": "_replicates",
    "ALL": "_run_result",
    "WEEKLY_COLUMNS": "_run_result",
    "SimulationResult": "_run_result",
    "bookings_frame": "_run_result",
    "iso_week": "_run_result",
    "requests_frame": "_run_result",
    "weekly_metrics": "_run_result",
    "HistoryItem": "_scenario",
    "Query": "_scenario",
    "Scenario": "_scenario",
    "ScenarioSpec": "_scenario",
    "dst_changes": "_scenario",
    "request_for": "_scenario",
    "simulate": "_simulation",
    "ArrivalRate": "_simulation_spec",
    "ChoiceModel": "_simulation_spec",
    "PreferenceModel": "_simulation_spec",
    "ScriptedArrival": "_simulation_spec",
    "SimulationSpec": "_simulation_spec",
    "combine": "_summaries",
    "load_summary": "_summaries",
    "summarize": "_summaries",
    "synthetic_clinic": "_synthetic",
    "typical_request": "_synthetic",
}


def __getattr__(name: str) -> typing.Any:
    """Load a public name's module on first use (PEP 562), so importing the package stays light."""
    module = _SOURCES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
