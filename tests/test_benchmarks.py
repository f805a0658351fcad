"""The benchmark code runs (smoke size) and its baseline agrees with the engine: no timings asserted."""

from __future__ import annotations

import attrs
import pytest

from benchmarks.typical_query import measure
from slotfinder import Settings, list_candidates, prepare
from slotfinder.planning import sweep_baseline, synthetic_clinic, typical_request


def test_scenario_is_reproducible() -> None:
    """Same seed, same clinic; another seed, another clinic."""
    assert synthetic_clinic(3, 7, seed=1) == synthetic_clinic(3, 7, seed=1)
    assert synthetic_clinic(3, 7, seed=1) != synthetic_clinic(3, 7, seed=2)


@pytest.mark.parametrize("shift", [0, 60 + 7, 3 * 60 + 2])
def test_baseline_starts_are_engine_candidates(shift: int) -> None:
    """The sweep baseline's earliest starts are exactly the engine's earliest candidates (no rooms),
    also when the window opens between grid starts inside a block."""
    clinic = synthetic_clinic(4, 7, grain=5, booked=0.7)
    request = attrs.evolve(typical_request(7), start=typical_request(7).start + shift)
    baseline = sweep_baseline(prepare(clinic), request, 30, 25)
    engine = sorted((c.start, c.provider_id) for c in list_candidates(clinic, request, Settings(), request.start))
    assert baseline == engine[:25]


def test_measure_smoke() -> None:
    """A tiny run of the latency benchmark reports both sides and the pruning counts."""
    row = measure(providers=2, days=3, grain=15, limit=5, booked=0.5, repeat=2)
    assert row["candidates"] >= row["after_pruning"] >= row["slots"] > 0
    assert row["engine_p50_ms"] > 0
    assert row["baseline_p50_ms"] > 0


def test_startup_smoke() -> None:
    """The start-up benchmark runs its three commands and reports each."""
    from benchmarks.startup import startup_times

    row = startup_times(1)
    assert set(row) == {"python_ms", "import_ms", "cli_demo_ms"}
    assert all(value > 0 for value in row.values())


def test_solver_stage_smoke() -> None:
    """The selection-stage benchmark runs every cell at a tiny size: the default caps are answered by the
    ranking, the non-nesting settings and the two-zone providers by CP-SAT, all complete."""
    from benchmarks.solver_stage import measure as measure_stage

    rows = measure_stage(providers=3, days=5, repeat=1)
    assert [row["method"] for row in rows] == ["ranking", "cp-sat", "cp-sat", "cp-sat", "cp-sat"]
    assert all(row["complete"] and row["slots"] > 0 for row in rows)
    assert all(row["candidates"] >= row["selection_rows"] for row in rows)


def test_floor_grid_smoke() -> None:
    """The engine / floor benchmark runs a tiny cell, provider-only and with rooms and equipment, and
    reports both sides (the floor finds what it is asked for; ``tests/test_floor.py`` checks what)."""
    from benchmarks.floor_grid import HEADER, measure, row_markdown

    for cell in ("3x5", "3x5+re"):
        row = measure(cell, repeat=1, budget_s=0.1)
        assert row["engine_p50_ms"] > 0 and row["floor_p50_ms"] > 0
        assert row["floor_found"] == min(20, row["candidates"])
        assert row_markdown(row).count("|") == HEADER.splitlines()[0].count("|")
