"""Latency grid: the warm engine beside the pure interval-sweep baseline over providers, horizon, grain,
top K, load, rooms and equipment off/on (``slotfinder bench`` without the CLI; see docs/benchmarks.md).

    python -m benchmarks.latency_grid                      # smoke: a few seconds
    python -m benchmarks.latency_grid --preset full        # the issue's grid (hours; --sample N draws N points)

Writes benchmarks/results/latency.json and prints the Markdown table. A report, never a timed assertion.
"""

from __future__ import annotations

import argparse

from slotfinder.planning import add_bench_arguments, run_bench

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency_grid", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_bench_arguments(parser)
    return run_bench(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
