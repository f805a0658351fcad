"""The latency grid runs (smoke preset) and reports every field; figures are reports, never asserted."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

from slotfinder import PreparedClinic, prepare
from slotfinder.planning import (
    CELL_FIELDS,
    PRESETS,
    STAGES,
    Grid,
    ScenarioSpec,
    _bench_cli,
    _latency_grid,
    generate,
    markdown_table,
    measure_cell,
    request_for,
    run_bench,
    run_grid,
    sweep_baseline,
    write_results,
)
from slotfinder.planning._bench_cli import add_bench_parser, grid_from_args


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="slotfinder")
    add_bench_parser(parser.add_subparsers(dest="command", required=True))
    return parser


@pytest.fixture(scope="module")
def smoke() -> dict[str, object]:
    return run_grid(PRESETS["smoke"], progress=False)


def test_smoke_reports_every_field(smoke: dict[str, object], tmp_path: Path) -> None:
    """Every cell of the smoke grid reports every field, with counts that make sense; the document
    survives JSON."""
    cells = smoke["cells"]
    assert isinstance(cells, list)
    assert len(cells) == len(PRESETS["smoke"].cells()) == 8
    for row in cells:
        assert set(CELL_FIELDS) <= set(row)
        assert set(row["stages_p50_ms"]) == set(STAGES)
        assert row["candidates"] >= row["after_pruning"] >= row["slots"] > 0
        assert row["after_pruning"] <= row["limit"]
        for name in ("engine_p50_ms", "engine_p95_ms", "baseline_p50_ms", "baseline_p95_ms", "peak_memory_mb"):
            assert isinstance(row[name], float)
        assert row["engine_p95_ms"] >= row["engine_p50_ms"]
        assert row["repeats"] >= PRESETS["smoke"].min_repeat
        assert (row["resources_ratio_p50"] is not None) == row["resources"]
        assert row["scenario"]["busy_items"] > 0
    startup = smoke["startup"]
    assert isinstance(startup, dict)
    assert {"python_ms", "import_ms", "cli_demo_ms"} <= set(startup)
    path = write_results(smoke, tmp_path / "deeper" / "latency.json")
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(json.dumps(smoke))


def test_smoke_markdown_table(smoke: dict[str, object]) -> None:
    """The Markdown table has its header, one row per cell with as many columns, and the start-up line."""
    table = markdown_table(smoke)
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| providers | days | grain | K | booked | R+E | visit | engine p50 | engine p95")
    assert len(rows) == 1 + 8
    assert all(row.count("|") == rows[0].count("|") for row in rows)
    assert "import slotfinder" in table and "slotfinder demo" in table


def test_full_preset_is_the_issues_grid() -> None:
    """The full preset is the issue's grid: 576 cells."""
    full = PRESETS["full"]
    assert full.providers == (1, 20, 100, 500) and full.days == (7, 30, 365) and full.grains == (5, 15)
    assert full.limits == (10, 50) and full.loads == (0.5, 0.8, 0.95) and full.resources == (False, True)
    assert len(full.cells()) == 4 * 3 * 2 * 2 * 3 * 2 * 2


def test_sample_keeps_on_off_pairs_and_is_reproducible() -> None:
    """A sample draws the same points every time, each with resources off and on."""
    grid = attrs.evolve(PRESETS["full"], sample=5)
    cells = grid.cells()
    assert cells == grid.cells()
    assert len(cells) == 5 * 2 * 2
    key = [(c.providers, c.days, c.grain, c.limit, c.booked, c.visit_type) for c in cells]
    assert all(key.count(k) == 2 for k in key)  # each point with resources off and on


def test_bench_command_options_replace_the_preset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Axes on the command line replace the preset's; the command writes the JSON and prints the table
    it also writes as Markdown."""
    out = tmp_path / "r.json"
    markdown = tmp_path / "r.md"
    args = _parser().parse_args(
        ["bench", "--providers", "2", "--days", "3", "--grain", "15", "--limit", "5", "--load", "50%",
         "--resources", "off", "--visit-type", "OV", "--repeat", "2", "--startup-repeat", "0",
         "--no-progress", "--out", str(out), "--markdown", str(markdown), "--plot", str(tmp_path / "l.png")]
    )  # fmt: skip
    grid = grid_from_args(args)
    assert isinstance(grid, Grid)
    assert (grid.providers, grid.days, grid.loads, grid.resources, grid.repeat) == ((2,), (3,), (0.5,), (False,), 2)
    assert run_bench(args) == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert len(document["cells"]) == 1 and document["startup"] is None
    printed = capsys.readouterr().out
    assert printed == markdown.read_text(encoding="utf-8")
    assert "| 2 | 3 | 15 | 5 | 50% | off | OV |" in printed
    assert (tmp_path / "l.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # the latency-versus-size plot


@pytest.mark.parametrize(
    "option", [["--load", "1.5"], ["--providers", "0"], ["--resources", "maybe"], ["--preset", "huge"]]
)
def test_bench_rejects_bad_options(option: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Bad values exit with status 2 and a message naming the command."""
    with pytest.raises(SystemExit) as exit_info:
        _parser().parse_args(["bench", *option])
    assert exit_info.value.code == 2
    assert "bench" in capsys.readouterr().err


def test_cli_parser_names_agree_and_stay_light() -> None:
    """The bench options name the latency grid's presets and output without importing it: building the
    planning commands' parsers loads only their argument modules (no benchmark, no tqdm, matplotlib,
    Dask or pandas)."""
    assert set(_bench_cli.PRESET_NAMES) == set(PRESETS)
    assert Path(_bench_cli.DEFAULT_OUT) == _latency_grid.DEFAULT_OUT
    code = (
        "import argparse, sys; from slotfinder.planning import _cli; "
        "_cli.add_parsers(argparse.ArgumentParser().add_subparsers()); "
        "print(sorted(m for m in sys.modules if m.startswith('slotfinder.planning.') "
        "or m.split('.')[0] in ('tqdm', 'matplotlib', 'dask', 'distributed', 'pandas')))"
    )
    shown = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert shown.strip() == str(
        ["slotfinder.planning._bench_cli", "slotfinder.planning._cli", "slotfinder.planning._simulate_cli"]
    )


def test_bench_rejects_bad_values_it_can_only_check_late(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A horizon over 365 days or an unknown visit type is refused before anything runs or is written."""
    for option in (["--days", "400"], ["--visit-type", "NOPE"]):
        args = _parser().parse_args(["bench", *option, "--out", str(tmp_path / "r.json")])
        assert run_bench(args) == 2
        assert "invalid option" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def _count_preparations(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Record every PreparedClinic built from now on (fresh preparations and ``updated`` ones)."""
    built: list[object] = []
    original = PreparedClinic.__init__

    def spy(self: PreparedClinic, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(PreparedClinic, "__init__", spy)
    return built


def test_engine_and_baseline_share_the_cells_prepared_clinic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a prepared clinic, a cell prepares nothing more: the engine and the baseline both use it
    (no hidden cache, no fresh preparation per call); a grid prepares each scenario once."""
    scenario = generate(ScenarioSpec(seed=1, providers=2, days=3, grain=15))
    grid = attrs.evolve(PRESETS["smoke"], providers=(2,), days=(3,), resources=(False,), startup_repeat=0)
    prepared = prepare(scenario.clinic)
    built = _count_preparations(monkeypatch)
    row = measure_cell(scenario, grid.cells()[0], grid, prepared)
    assert built == [] and row["slots"] > 0
    document = run_grid(grid, progress=False)
    assert len(document["cells"]) == 2  # OV and PROC share the scenario ...
    assert len(built) == 1  # ... and its one preparation
    query = request_for(scenario, limit=5)
    assert sweep_baseline(prepared, query.request, query.duration, 5)  # the baseline reads a prepared clinic
