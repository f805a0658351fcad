"""Composite offers at size: a 2-step sequence on a 20-provider, 30-day clinic and a 6-visit weekly
series on a 20-provider, 60-day one (K = 10), plus a step of two people at once (CP-SAT decides).

    python -m benchmarks.composite_offers [--repeat 5]

Each row: total p50 (ms) of ``find_offers`` on a prepared clinic, its stages (candidates per step,
model and pruning, selection), how the answer was found, and the offers. Beside the chains, the same
search with ``Settings(offer_search="cp-sat")`` (the solver path the chain programme replaces, on the
same pruned model): the alternative for the same work. Brute-force enumeration
(``tests/reference_composite.py``) is exponential in the steps and only runs on the test suite's small
clinics. A report, never a timed assertion.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import attrs

from slotfinder import CompositeRequest, Role, SameProvider, Series, Settings, Step, find_offers, prepare
from slotfinder.planning import synthetic_clinic, typical_request

__all__ = ["cases", "main", "measure"]

DAY = 1440


def cases() -> list[tuple[str, int, int, tuple[Step, ...]]]:
    """(name, providers, days, steps) of each row."""
    sequence = (Step("FU"), Step("OV", min_gap=0, max_gap=60))
    weekly = Series("OV", 6, interval_days=7, tolerance_days=1).steps()
    preferred = Series("OV", 6, interval_days=7, tolerance_days=1, same_provider=SameProvider.PREFERRED).steps()
    together = (Step("FU"), Step("OV", roles=[Role(), Role()], min_gap=0, max_gap=60))
    return [
        ("2-step sequence (FU, then OV 0-60 min later)", 20, 30, sequence),
        ("6-visit weekly series ±1 day, same provider", 20, 60, weekly),
        ("6-visit weekly series ±1 day, provider preferred", 20, 60, preferred),
        ("2-step sequence, OV with two providers at once", 20, 30, together),
    ]


def measure(providers: int, days: int, steps: tuple[Step, ...], repeat: int) -> dict[str, Any]:
    clinic = prepare(synthetic_clinic(providers, days, 5, 0.8))
    first = typical_request(days)
    series = any(step.by_date for step in steps)
    window = 14 * DAY if series else days * DAY  # a series' first visit in the next two weeks
    request = CompositeRequest(start=first.start, end=first.start + window, steps=steps)
    settings = Settings(limit=10)
    now = first.start - DAY
    totals: list[float] = []
    result = None
    for _ in range(repeat):
        began = time.perf_counter()
        result = find_offers(clinic, request, settings, now)
        totals.append((time.perf_counter() - began) * 1000)
    assert result is not None
    began = time.perf_counter()
    by_solver = find_offers(clinic, request, attrs.evolve(settings, offer_search="cp-sat"), now)
    solver_ms = (time.perf_counter() - began) * 1000
    return {
        "p50_ms": statistics.median(totals),
        "timings": dict(result.timings),
        "method": result.method,
        "offers": len(result.offers),
        "complete": result.complete,
        "candidates": sum(result.candidates),
        "rows": sum(result.pruned_to),
        "cp_sat_same_model_ms": solver_ms,
        "cp_sat_offers": len(by_solver.offers),
        "cp_sat_complete": by_solver.complete,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    print(
        "| case | providers × days | p50 (ms) | candidates / model / selection (ms) | method | offers "
        "| open starts → rows | CP-SAT on the same model (ms) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, providers, days, steps in cases():
        row = measure(providers, days, steps, args.repeat)
        t = row["timings"]
        stages = f"{t.get('candidates', 0):.0f} / {t.get('model', 0):.0f} / {t.get('solve', 0):.0f}"
        solver = (
            "(is the method)"
            if row["method"] == "cp-sat"
            else f"{row['cp_sat_same_model_ms']:.0f} ({row['cp_sat_offers']} offers)"
        )
        print(
            f"| {name} | {providers} × {days} | {row['p50_ms']:.0f} | {stages} | {row['method']} | "
            f"{row['offers']} | {row['candidates']} → {row['rows']} | {solver} |"
        )


if __name__ == "__main__":
    main()
