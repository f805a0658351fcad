"""Plots of the capacity metrics (PNG): over time, and versus load.

Figures are built on ``matplotlib.figure.Figure`` with the Agg canvas, never through pyplot: no GUI
backend, no global state, safe in worker processes and tests. Every figure has a title, axes labelled
with units, and names the time zone its weeks are counted in.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from attrs import frozen

from slotfinder.planning._run_result import ALL

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = [
    "METRICS",
    "PlotMetric",
    "latency_figure",
    "over_time_figure",
    "plot_over_time",
    "plot_versus_load",
    "versus_load_figure",
]


@frozen
class PlotMetric:
    """A metric column, what it is called, its axis label with unit, and how values are scaled for it."""

    column: str
    title: str
    label: str
    scale: float = 1.0  # fractions are shown as percent


METRICS = (
    PlotMetric("tna_days_mean", "Third-next-available appointment", "Days from request to third next available (days)"),
    PlotMetric(
        "first_available_days_mean", "First available appointment", "Days from request to first available (days)"
    ),
    PlotMetric("utilisation", "Utilisation", "Booked / template minutes (%)", 100.0),
    PlotMetric("fill_rate", "Fill rate", "Requests booked (% of requests)", 100.0),
    PlotMetric(
        "preferred_day_share", "Preferred day given", "Bookings on a preferred weekday (% of those with one)", 100.0
    ),
    PlotMetric(
        "preferred_time_share", "Preferred time given", "Bookings near a preferred time (% of those with one)", 100.0
    ),
    PlotMetric("declined", "Offers declined", "Requests declining every offer (requests per week)"),
)


def _figure() -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def over_time_figure(summary: pd.DataFrame, metric: PlotMetric, zone: str, load: float | None = None) -> Figure:
    """One line per visit type over the weeks (mean over replicates, band of +-1 standard deviation).

    ``summary`` is ``summarize``'s frame; ``load`` picks one load factor (default: 1 when run,
    else the first).
    """
    figure = _figure()
    axes = figure.add_subplot()
    loads = [float(x) for x in dict.fromkeys(summary["load"])]
    chosen = (1.0 if 1.0 in loads else loads[0]) if load is None else load
    part = summary[summary["load"] == chosen]
    for code, rows in part.groupby("visit_type", sort=False):
        x = list(rows["week_start"])
        y = rows[metric.column].to_numpy(dtype=float) * metric.scale
        axes.plot(x, y, marker="o", label=str(code))
        spread_column = f"{metric.column}_std"
        if spread_column in rows and rows["replicates"].max() > 1:
            spread = rows[spread_column].fillna(0).to_numpy(dtype=float) * metric.scale
            axes.fill_between(x, (y - spread).clip(min=0), y + spread, alpha=0.15)  # every metric is >= 0
    axes.set_title(f"{metric.title} by week (load x{chosen:g}; weeks in {zone})")
    axes.set_xlabel(f"Week starting (Monday, local date in {zone})")
    axes.set_ylabel(metric.label)
    axes.grid(alpha=0.3)
    axes.legend(title="Visit type")
    figure.autofmt_xdate()
    return figure


def versus_load_figure(loads: pd.DataFrame, metric: PlotMetric, zone: str) -> Figure:
    """One line per visit type against the offered load (``load_summary``'s frame), with +-1 sd bars."""
    figure = _figure()
    axes = figure.add_subplot()
    totals = loads[loads["visit_type"] == ALL].set_index("load")["load_ratio"]
    for code, rows in loads.groupby("visit_type", sort=False):
        x = [float(totals.get(v, float("nan"))) * 100.0 for v in rows["load"]]
        y = rows[metric.column].to_numpy(dtype=float) * metric.scale
        spread = rows.get(f"{metric.column}_std")
        errors = None if spread is None else spread.fillna(0).to_numpy(dtype=float) * metric.scale
        axes.errorbar(x, y, yerr=errors, marker="o", capsize=3, label=str(code))
    axes.set_title(f"{metric.title} versus load (weeks in {zone})")
    axes.set_xlabel("Offered load: requested minutes / template minutes (%)")
    axes.set_ylabel(metric.label)
    axes.grid(alpha=0.3)
    axes.legend(title="Visit type")
    return figure


def plot_over_time(
    summary: pd.DataFrame, out: Path, zone: str, metrics: Sequence[PlotMetric] = METRICS, load: float | None = None
) -> list[Path]:
    """Write ``<column>_over_time.png`` for each metric into ``out``; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for metric in metrics:
        path = out / f"{metric.column}_over_time.png"
        over_time_figure(summary, metric, zone, load).savefig(path, format="png")
        written.append(path)
    return written


def plot_versus_load(loads: pd.DataFrame, out: Path, zone: str, metrics: Sequence[PlotMetric] = METRICS) -> list[Path]:
    """Write ``<column>_vs_load.png`` for each metric into ``out``; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for metric in metrics:
        path = out / f"{metric.column}_vs_load.png"
        versus_load_figure(loads, metric, zone).savefig(path, format="png")
        written.append(path)
    return written


def latency_figure(document: dict[str, typing.Any]) -> Figure:
    """Engine p50 (and the sweep baseline's) against the clinic's size, from a ``slotfinder bench`` run:
    one line per visit type and rooms-and-equipment setting, log-log."""
    figure = _figure()
    axes = figure.add_subplot()
    series: dict[tuple[str, bool], list[tuple[int, float, float]]] = {}
    for row in document["cells"]:
        size = int(row["providers"]) * int(row["days"])
        series.setdefault((row["visit_type"], bool(row["resources"])), []).append(
            (size, float(row["engine_p50_ms"]), float(row["baseline_p50_ms"]))
        )
    for (visit, resources), points in sorted(series.items()):
        points.sort()
        label = f"{visit}{', rooms + equipment' if resources else ''}"
        sizes = [p[0] for p in points]
        line = axes.plot(sizes, [p[1] for p in points], marker="o", label=f"engine, {label}")[0]
        axes.plot(sizes, [p[2] for p in points], linestyle=":", color=line.get_color(), label=f"sweep, {label}")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_title(f"Search latency versus size (preset {document['preset']}, p50, warm)")
    axes.set_xlabel("Clinic size: providers x days searched")
    axes.set_ylabel("Latency per search, p50 (ms)")
    axes.grid(alpha=0.3, which="both")
    axes.legend(fontsize="small")
    return figure
