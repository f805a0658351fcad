"""``slotfinder bench``: the latency grid from the command line (also ``python -m benchmarks.latency_grid``).

    slotfinder bench [--preset smoke|full] [--out FILE] [--markdown FILE] [--providers 1,20] [--days 7,30]
                     [--grain 5,15] [--limit 10,50] [--load 0.5,0.8,0.95] [--resources off,on]
                     [--visit-type OV,PROC] [--sample N] [--seed S] [--repeat N] [--budget SECONDS]
                     [--startup-repeat N] [--progress | --no-progress]

An axis given on the command line replaces the preset's. Writes the JSON document (default
``benchmarks/results/latency.json``) and prints the Markdown table on standard output.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import attrs

__all__ = ["add_bench_arguments", "add_bench_parser", "grid_from_args", "run_bench"]

T = TypeVar("T")
BAD_INPUT = 2  # exit status of a bad command line, as the rest of the CLI


def _listing(kind: Callable[[str], T], what: str) -> Callable[[str], tuple[T, ...]]:
    def parse(text: str) -> tuple[T, ...]:
        try:
            values = tuple(kind(part.strip()) for part in text.split(",") if part.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list of {what}, got {text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError(f"expected at least one {what}")
        return values

    return parse


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(text)
    return value


def _share(text: str) -> float:
    value = float(text.removesuffix("%")) / (100 if text.endswith("%") else 1)
    if not 0 <= value <= 1:
        raise ValueError(text)
    return value


def _switch(text: str) -> bool:
    lowered = text.lower()
    if lowered in {"on", "true", "yes", "1"}:
        return True
    if lowered in {"off", "false", "no", "0"}:
        return False
    raise ValueError(text)


def _count(text: str) -> int:
    try:
        return _positive_int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, got {text!r}") from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


# The same as PRESETS and DEFAULT_OUT of ``_latency_grid`` (a test checks): building the CLI's parser
# must not import the benchmark (the scenario generator, the engine's callers) before a command needs it.
PRESET_NAMES = ("full", "smoke")
DEFAULT_OUT = "benchmarks/results/latency.json"


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``slotfinder bench`` on any parser (the CLI's sub-command and the script share them)."""
    parser.add_argument("--preset", choices=PRESET_NAMES, default="smoke", help="grid to run (default: smoke)")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"JSON results file (default: {DEFAULT_OUT})")
    parser.add_argument("--markdown", help="also write the Markdown table to this file")
    parser.add_argument("--plot", help="also write a latency-versus-size PNG to this file")
    axes = parser.add_argument_group("grid axes (comma-separated; each replaces the preset's)")
    axes.add_argument("--providers", type=_listing(_positive_int, "provider counts"))
    axes.add_argument("--days", type=_listing(_positive_int, "horizons in days"), help="horizon, 1..365 days")
    axes.add_argument("--grain", type=_listing(_positive_int, "grains in minutes"), help="template slot length")
    axes.add_argument("--limit", type=_listing(_positive_int, "top-K values"), help="top K")
    axes.add_argument("--load", type=_listing(_share, "booked shares"), help="booked share, 0.8 or 80%%")
    axes.add_argument("--resources", type=_listing(_switch, "off/on values"), help="rooms and equipment off,on")
    axes.add_argument("--visit-type", type=_listing(str, "visit type codes"), help="query visit type (OV, PROC...)")
    how = parser.add_argument_group("measurement")
    how.add_argument("--sample", type=_count, help="run this many random grid points (each with every R+E value)")
    how.add_argument("--seed", type=int, help="scenario seed, also draws the sample (default 0)")
    how.add_argument("--repeat", type=_count, help="timed calls per cell, at most")
    how.add_argument("--budget", type=_seconds, help="seconds of timed calls per cell before repeats are cut")
    how.add_argument("--startup-repeat", type=int, help="runs of each start-up measure (0 skips them)")
    shown = how.add_mutually_exclusive_group()
    shown.add_argument("--progress", dest="progress", action="store_true", default=None, help="show a progress bar")
    shown.add_argument("--no-progress", dest="progress", action="store_false", help="never show a progress bar")


def add_bench_parser(subparsers: Any) -> None:
    """Add ``bench`` to the CLI's sub-commands (``argparse`` sub-parsers action)."""
    bench = subparsers.add_parser(
        "bench", help="latency benchmark grid: engine vs interval-sweep baseline, JSON and a Markdown table"
    )
    add_bench_arguments(bench)


def grid_from_args(args: argparse.Namespace) -> Any:
    """The preset with the command line's axes and measurement options applied (a ``Grid``)."""
    from slotfinder.planning._latency_grid import PRESETS

    grid = PRESETS[args.preset]
    changes: dict[str, Any] = {}
    for option, name in (
        ("providers", "providers"),
        ("days", "days"),
        ("grain", "grains"),
        ("limit", "limits"),
        ("load", "loads"),
        ("resources", "resources"),
        ("visit_type", "visit_types"),
        ("sample", "sample"),
        ("seed", "seed"),
        ("repeat", "repeat"),
        ("budget", "budget_seconds"),
        ("startup_repeat", "startup_repeat"),
    ):
        value = getattr(args, option, None)
        if value is not None:
            changes[name] = value
    if "repeat" in changes:
        changes["min_repeat"] = min(grid.min_repeat, changes["repeat"])
    return attrs.evolve(grid, **changes)


def run_bench(args: argparse.Namespace) -> int:
    """Run the grid ``args`` describe, write the JSON (and Markdown), print the table; 0, or 2 on bad values."""
    from slotfinder.planning._catalogue import SHARED, SPECIALTIES
    from slotfinder.planning._latency import run_grid
    from slotfinder.planning._latency_report import markdown_table, write_results
    from slotfinder.planning._scenario import MAX_DAYS

    grid = grid_from_args(args)
    if any(d > MAX_DAYS for d in grid.days):
        print(f"slotfinder: invalid option: --days: at most {MAX_DAYS}", file=sys.stderr)
        return BAD_INPUT
    known = {k.code for k in SHARED} | {k.code for s in SPECIALTIES for k in s.kinds}
    unknown = sorted(set(grid.visit_types) - known)
    if unknown:
        hint = "OV, FU, TELE, PROC or a specialty's code such as CARD-ECHO"
        print(f"slotfinder: invalid option: --visit-type: unknown code {unknown[0]} ({hint})", file=sys.stderr)
        return BAD_INPUT
    command = shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv and sys.argv[0] else None
    document = run_grid(grid, progress=args.progress, command=command)
    path = write_results(document, args.out)
    table = markdown_table(document)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as handle:
            handle.write(table)
    if args.plot:
        from slotfinder.planning._plots import latency_figure

        latency_figure(document).savefig(args.plot, format="png")
    sys.stdout.write(table)
    sys.stdout.flush()
    print(f"results: {path}", file=sys.stderr)
    return 0
