"""Typical query of brief section 7, beside the honest floor and the sweep baseline measured in the same run.

    python -m benchmarks.typical_query [--providers 20] [--days 30] [--grain 5] [--limit 20] [--booked 0.8]

Prints p50/p95 of the warm engine, of the floor (``benchmarks/floor.py``: the candidate stage's work on
one vectorised timeline, the earliest K kept) and of the sweep baseline (merge template blocks, subtract
busy time, step the grid, take the first K, looping per provider: a non-floor comparison), and the
ratios engine / floor and engine / sweep. A report, never a timed assertion.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from benchmarks.floor import Floor, floor_candidates
from slotfinder import Settings, find_slots, prepare
from slotfinder.planning import sweep_baseline, synthetic_clinic, typical_request

__all__ = ["main", "measure", "percentiles"]

_OFFICE_VISIT = 30  # minutes: the typical request asks for an office visit
_P95 = 0.95


def percentiles(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds of ``repeat`` warm calls of ``run`` (one call first, untimed)."""
    run()  # warm: time-zone conversions, the prepared clinic's template expansion, ortools import
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, round(_P95 * (len(samples) - 1)))]


def measure(
    providers: int, days: int, grain: int, limit: int, booked: float, repeat: int, rooms: bool = False
) -> dict[str, float]:
    """p50/p95 in milliseconds of the engine, the floor and the baseline, and the engine's candidate counts."""
    clinic = synthetic_clinic(providers, days, grain, booked, rooms=rooms)
    prepared, floor = prepare(clinic), Floor(clinic)  # each side's warm help, built before timing
    request = typical_request(days)
    settings = Settings(limit=limit)
    now = request.start
    result = find_slots(prepared, request, settings, now)
    engine = percentiles(lambda: find_slots(prepared, request, settings, now), repeat)
    baseline = percentiles(lambda: sweep_baseline(prepared, request, _OFFICE_VISIT, limit), repeat)
    lower = percentiles(lambda: floor_candidates(floor, request, settings, now, limit=limit), repeat)
    return {
        "engine_p50_ms": engine[0],
        "engine_p95_ms": engine[1],
        "floor_p50_ms": lower[0],
        "floor_p95_ms": lower[1],
        "floor_ratio_p50": engine[0] / lower[0],
        "baseline_p50_ms": baseline[0],
        "baseline_p95_ms": baseline[1],
        "ratio_p50": engine[0] / baseline[0],
        "candidates": result.candidates,
        "after_pruning": result.pruned_to,
        "slots": len(result.slots),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--providers", type=int, default=20)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--grain", type=int, default=5)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--booked", type=float, default=0.8)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--rooms", action="store_true", help="visits also need a free room")
    args = parser.parse_args(argv)
    row = measure(args.providers, args.days, args.grain, args.limit, args.booked, args.repeat, args.rooms)
    print(
        f"typical query: {args.providers} providers, {args.days} days, {args.grain}-minute grid, "
        f"top {args.limit}, {args.booked:.0%} booked{', rooms needed' if args.rooms else ''}"
    )
    print("| measure | engine | floor | engine / floor | sweep baseline (not a floor) | engine / sweep |")
    print("|---|---|---|---|---|---|")
    for q in ("p50", "p95"):
        engine, lower, sweep = row[f"engine_{q}_ms"], row[f"floor_{q}_ms"], row[f"baseline_{q}_ms"]
        print(
            f"| {q} (ms) | {engine:.2f} | {lower:.2f} | {engine / lower:.2f}x | {sweep:.2f} | {engine / sweep:.2f}x |"
        )
    print(f"candidates {row['candidates']:.0f}, after pruning {row['after_pruning']:.0f}, offered {row['slots']:.0f}")


if __name__ == "__main__":
    main()
