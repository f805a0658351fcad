"""Where the solver earns its keep: the selection stage with nesting caps, non-nesting diversity, and a
provider whose starts fall on two local dates (working in two time zones), beside the sweep baseline.

    python -m benchmarks.solver_stage [--providers 20] [--days 30] [--repeat 30]

Each row: engine p50/p95, how the answer was found (``ranking``: no solver; ``cp-sat``), candidates
and the rows the selection saw. A report, never a timed assertion.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from typing import Any

import slotfinder
from benchmarks.typical_query import percentiles
from slotfinder import Settings, find_slots, prepare
from slotfinder.planning import sweep_baseline, synthetic_clinic, typical_request
from slotfinder.walltime import instant_of

__all__ = ["main", "measure", "two_zone_clinic"]

_P95 = 0.95
_VISIT = 30
_WEEKDAYS = frozenset(range(5))
_FIRST = dt.date(2025, 10, 20)  # a Monday; the window crosses the US fall-back night (2025-11-02)


def two_zone_clinic(
    providers: int, days: int, booked: float = 0.5, seed: int = 7, dual: int | None = None
) -> slotfinder.Clinic:
    """Telehealth providers on an evening shift in New York; ``dual`` of them (default: all) also on a
    morning shift in Kolkata at the same instants, so their starts fall on two local dates. Bookings
    fill ``booked`` of the New York shifts."""
    rng = random.Random(seed)
    ny = slotfinder.Location("NY", "Clinic", "Tele", "America/New_York")
    kol = slotfinder.Location("KOL", "Clinic", "Tele", "Asia/Kolkata")
    staff = [slotfinder.Provider(f"{i:010d}") for i in range(providers)]
    templates = [slotfinder.WeeklyTemplate(p.id, ny.id, _WEEKDAYS, 20 * 60, 24 * 60, slot_length=15) for p in staff] + [
        slotfinder.WeeklyTemplate(p.id, kol.id, frozenset(range(1, 6)), 5 * 60 + 30, 9 * 60 + 30)
        for p in staff[: providers if dual is None else dual]
    ]
    busy = []
    for p in staff:
        for offset in range(days):
            date = _FIRST + dt.timedelta(days=offset)
            for quarter in range(0, 240, _VISIT):
                if date.weekday() < len(_WEEKDAYS) and rng.random() < booked:
                    start = instant_of(ny.time_zone, date, 20 * 60 + quarter)
                    busy.append(slotfinder.Busy(slotfinder.BusyKind.BOOKING, start, start + _VISIT, p.id, ny.id))
    visit = slotfinder.VisitType("TELE", None, "Telehealth visit", _VISIT)
    return slotfinder.Clinic(staff, (ny, kol), (visit,), templates, busy=busy, name="two-zone telehealth")


def measure(providers: int, days: int, repeat: int) -> list[dict[str, Any]]:
    """One row per cell (see the module docstring)."""
    typical = prepare(synthetic_clinic(providers, days, 5, 0.8))
    request = typical_request(days)
    zones = prepare(two_zone_clinic(providers, days))
    some = prepare(two_zone_clinic(providers, days, dual=max(1, providers // 10)))
    zone_request = slotfinder.SlotRequest(
        start=instant_of("UTC", _FIRST, 0), end=instant_of("UTC", _FIRST + dt.timedelta(days=days), 0)
    )
    cells: list[tuple[str, slotfinder.PreparedClinic, slotfinder.SlotRequest, Settings]] = [
        ("nesting caps (default)", typical, request, Settings(limit=20)),
        ("per_provider=2", typical, request, Settings(limit=20, per_provider=2)),
        ("min_providers=5, spread", typical, request, Settings(limit=20, min_providers=5, spread=True)),
        ("a tenth of providers in two time zones", some, zone_request, Settings(limit=20)),
        ("every provider in two time zones", zones, zone_request, Settings(limit=20)),
    ]
    rows = []
    for label, prepared, what, settings in cells:
        result = find_slots(prepared, what, settings, what.start)
        p50, p95 = percentiles(lambda: find_slots(prepared, what, settings, what.start), repeat)  # noqa: B023
        base50, _ = percentiles(lambda: sweep_baseline(prepared, what, _VISIT, settings.limit), repeat)  # noqa: B023
        rows.append(
            {
                "cell": label,
                "method": result.method,
                "engine_p50_ms": p50,
                "engine_p95_ms": p95,
                "baseline_p50_ms": base50,
                "candidates": result.candidates,
                "selection_rows": result.pruned_to,
                "slots": len(result.slots),
                "complete": result.complete,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--providers", type=int, default=20)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args(argv)
    print(f"selection stage: {args.providers} providers, {args.days} days, top 20")
    print("| cell | method | engine p50 (ms) | engine p95 (ms) | sweep baseline p50 (ms) | candidates -> rows seen |")
    print("|---|---|---|---|---|---|")
    for row in measure(args.providers, args.days, args.repeat):
        print(
            f"| {row['cell']} | {row['method']} | {row['engine_p50_ms']:.1f} | {row['engine_p95_ms']:.1f} | "
            f"{row['baseline_p50_ms']:.1f} | {row['candidates']} -> {row['selection_rows']} |"
        )


if __name__ == "__main__":
    main()
