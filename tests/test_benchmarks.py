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


def test_memory_smoke() -> None:
    """The memory benchmark builds a tiny cell, measures it in fresh subprocesses and reports every column
    (sizes are reported, never asserted: only that each was measured and the search found slots)."""
    import sys

    from benchmarks.memory import HEADER, measure, row_markdown

    row = measure("3x5")
    assert row["providers"] == 3 and row["days"] == 5 and row["busy_items"] > 0 and row["slots"] > 0
    assert row["clinic_mb"] > 0 and row["one_shot_peak_mb"] > 0 and row["search_peak_mb"] > 0
    assert row["ratio"] == pytest.approx(row["total_mb"] / row["clinic_mb"])
    header, rule = HEADER.splitlines()
    line = row_markdown(row)
    assert line.count("|") == header.count("|") == rule.count("|")
    if sys.platform == "linux":  # resident memory is read from /proc
        assert {"clinic_rss_mb", "prepare_peak_rss_mb", "search_peak_rss_mb"} <= row.keys() and "n/a" not in line


def test_simulation_scale_smoke() -> None:
    """The simulation-scale benchmark runs one tiny replicate and reports a year extrapolated from it, and
    runs tiny replicates in this process, on local processes and on a local Dask cluster with identical
    results (compared here too, frame by frame, not only through the benchmark's own flag)."""
    from benchmarks.simulation_scale import (
        REPLICATES_HEADER,
        SIZE_HEADER,
        measure_replicates,
        measure_size,
        replicates_markdown,
        size_markdown,
    )
    from slotfinder.planning import requests_frame

    row = measure_size(providers=2, weeks=1)
    assert row["providers"] == 2 and row["weeks"] == 1 and 0 < row["booked"] <= row["requests"]
    assert row["year_requests"] == row["requests"] * 52
    assert row["ms_per_request"] == pytest.approx(row["wall_s"] * 1000 / row["requests"])
    assert row["year_s"] == pytest.approx(row["wall_s"] * 52)
    assert size_markdown(row).count("|") == SIZE_HEADER.splitlines()[0].count("|")

    spread = measure_replicates(providers=2, weeks=1, replicates=2, workers=2, dask=True)
    runs = spread["runs"]
    assert list(runs) == ["serial", "processes", "dask"] == list(spread["wall_s"])
    serial = runs["serial"]
    assert [r.index for r in serial] == [0, 1] and serial[0].result.requests != serial[1].result.requests
    assert spread["requests"] == [len(r.result.requests) for r in serial] and min(spread["requests"]) > 0
    for way in ("processes", "dask"):
        assert runs[way] == serial
        for found, expected in zip(runs[way], serial, strict=True):
            assert requests_frame(found.result).equals(requests_frame(expected.result))
    assert spread["identical"] == {"serial": True, "processes": True, "dask": True}
    lines = replicates_markdown(spread)
    assert len(lines) == 3
    assert all(line.count("|") == REPLICATES_HEADER.splitlines()[0].count("|") for line in lines)
