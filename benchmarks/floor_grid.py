"""Engine / floor: the warm engine beside the honest floor (``benchmarks/floor.py``), same process, same run.

    python -m benchmarks.floor_grid                         # the issue's cells (a few minutes on 2 cores)
    python -m benchmarks.floor_grid --cells 20x30,100x30    # some of them
    python -m benchmarks.floor_grid --cells 5x7 --repeat 3  # a smoke run

Each cell is a generated health system (``slotfinder.planning.generate``: 5-minute grid, 80% booked, seed
0), searched over its whole horizon for the top 20 office visits (``OV``; ``PROC``, which needs a
procedure room and the ultrasound, in the rooms-and-equipment cell). The engine gets its prepared clinic
(``slotfinder.prepare``), the floor its ``Floor``: both built before timing, both warmed by one call,
then calls alternate. Reported: p50 of each, their ratio, and the engine's own expand + candidates stages
(``SlotResult.timings``) beside the floor, which does that stage's work only. A report, never a timed
assertion.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from benchmarks.floor import Floor, floor_candidates
from slotfinder import find_slots, prepare
from slotfinder.planning import ScenarioSpec, generate, request_for

__all__ = ["CELLS", "main", "measure"]

# providers x days, rooms and equipment: the issue's cells
CELLS = ("20x30", "100x30", "200x30", "20x365", "200x365", "500x365", "100x30+re")
_LIMIT = 20


def _ms(run: Callable[[], object]) -> float:
    began = time.perf_counter()
    run()
    return (time.perf_counter() - began) * 1000


def measure(cell: str, repeat: int, budget_s: float = 20.0) -> dict[str, Any]:
    """One cell (``"PxD"``, ``"+re"`` for rooms and equipment): p50 of engine and floor, alternating."""
    size, _, extra = cell.partition("+")
    providers, days = (int(n) for n in size.split("x"))
    resources = extra == "re"
    began = time.perf_counter()
    scenario = generate(
        ScenarioSpec(seed=0, providers=providers, days=days, grain=5, booked=0.8, rooms=resources, equipment=resources)
    )
    generated = time.perf_counter() - began
    query = request_for(scenario, days, "PROC" if resources else "OV", limit=_LIMIT)
    prepared, floor = prepare(scenario.clinic), Floor(scenario.clinic)

    def engine() -> Any:
        return find_slots(prepared, query.request, query.settings, query.now)

    def lower() -> list[tuple[str, str, int, int]]:
        return floor_candidates(floor, query.request, query.settings, query.now, limit=_LIMIT)

    first, found = engine(), lower()  # warm both: zone tables, expansions
    pair = _ms(engine) + _ms(lower)
    repeats = max(3, min(repeat, int(budget_s * 1000 / max(pair, 1e-3))))
    engine_ms, floor_ms, stage_ms = [], [], []
    for _ in range(repeats):  # alternate, so drift of the machine touches both sides alike
        began = time.perf_counter()
        result = engine()
        engine_ms.append((time.perf_counter() - began) * 1000)
        stage_ms.append(result.timings.get("expand", 0.0) + result.timings.get("candidates", 0.0))
        floor_ms.append(_ms(lower))
    engine_p50, floor_p50 = statistics.median(engine_ms), statistics.median(floor_ms)
    stage_p50 = statistics.median(stage_ms)
    return {
        "cell": cell,
        "providers": providers,
        "days": days,
        "resources": resources,
        "visit_type": "PROC" if resources else "OV",
        "busy_items": len(scenario.clinic.busy),
        "generate_s": generated,
        "repeats": repeats,
        "candidates": first.candidates,
        "engine_p50_ms": engine_p50,
        "floor_p50_ms": floor_p50,
        "ratio_p50": engine_p50 / floor_p50,
        "stage_p50_ms": stage_p50,
        "stage_ratio_p50": stage_p50 / floor_p50,
        "floor_found": len(found),
    }


def row_markdown(row: dict[str, Any]) -> str:
    """One table row (see ``HEADER``)."""
    return (
        f"| {row['providers']} x {row['days']} | {'on' if row['resources'] else 'off'} | {row['visit_type']} "
        f"| {row['busy_items']:,} | {row['candidates']:,} | {row['repeats']} | {row['engine_p50_ms']:.1f} "
        f"| {row['stage_p50_ms']:.1f} | {row['floor_p50_ms']:.1f} | {row['ratio_p50']:.1f}x "
        f"| {row['stage_ratio_p50']:.1f}x |"
    )


HEADER = (
    "| providers x days | R+E | visit | busy items | candidates | repeats | engine p50 | engine expand + "
    "candidates p50 | floor p50 | engine / floor | engine stage / floor |\n" + "|---" * 11 + "|"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor_grid", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--cells", default=",".join(CELLS), help="comma-separated PxD[+re] (default: the issue's)")
    parser.add_argument("--repeat", type=int, default=15, help="timed calls per side and cell, at most")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per cell: slow cells get fewer repeats")
    args = parser.parse_args(argv)
    print(HEADER, flush=True)
    for cell in args.cells.split(","):
        print(row_markdown(measure(cell.strip(), args.repeat, args.budget)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
