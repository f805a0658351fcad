"""The latency grid runs (smoke preset) and reports every field; figures are reports, never asserted."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

from slotfinder.planning import bench_cli, latency
from slotfinder.planning.bench_cli import add_bench_parser, grid_from_args, run_bench
from slotfinder.planning.latency import CELL_FIELDS, PRESETS, STAGES, Grid, markdown_table, run_grid, write_results


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="slotfinder")
    add_bench_parser(parser.add_subparsers(dest="command", required=True))
    return parser


@pytest.fixture(scope="module")
def smoke() -> dict[str, object]:
    return run_grid(PRESETS["smoke"], progress=False)


def test_smoke_reports_every_field(smoke: dict[str, object], tmp_path: Path) -> None:
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
    table = markdown_table(smoke)
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| providers | days | grain | K | booked | R+E | visit | engine p50 | engine p95")
    assert len(rows) == 1 + 8
    assert all(row.count("|") == rows[0].count("|") for row in rows)
    assert "import slotfinder" in table and "slotfinder demo" in table


def test_full_preset_is_the_issues_grid() -> None:
    full = PRESETS["full"]
    assert full.providers == (1, 20, 100, 500) and full.days == (7, 30, 365) and full.grains == (5, 15)
    assert full.limits == (10, 50) and full.loads == (0.5, 0.8, 0.95) and full.resources == (False, True)
    assert len(full.cells()) == 4 * 3 * 2 * 2 * 3 * 2 * 2


def test_sample_keeps_on_off_pairs_and_is_reproducible() -> None:
    grid = attrs.evolve(PRESETS["full"], sample=5)
    cells = grid.cells()
    assert cells == grid.cells()
    assert len(cells) == 5 * 2 * 2
    key = [(c.providers, c.days, c.grain, c.limit, c.booked, c.visit_type) for c in cells]
    assert all(key.count(k) == 2 for k in key)  # each point with resources off and on


def test_bench_command_options_replace_the_preset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    markdown = tmp_path / "r.md"
    args = _parser().parse_args(
        ["bench", "--providers", "2", "--days", "3", "--grain", "15", "--limit", "5", "--load", "50%",
         "--resources", "off", "--visit-type", "OV", "--repeat", "2", "--startup-repeat", "0",
         "--no-progress", "--out", str(out), "--markdown", str(markdown)]
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


@pytest.mark.parametrize(
    "option", [["--load", "1.5"], ["--providers", "0"], ["--resources", "maybe"], ["--preset", "huge"]]
)
def test_bench_rejects_bad_options(option: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _parser().parse_args(["bench", *option])
    assert exit_info.value.code == 2
    assert "bench" in capsys.readouterr().err


def test_cli_parser_names_agree_and_stay_light() -> None:
    """The bench options name the latency module's presets and output without importing it (or tqdm)."""
    assert set(bench_cli.PRESET_NAMES) == set(PRESETS)
    assert Path(bench_cli.DEFAULT_OUT) == latency.DEFAULT_OUT
    code = (
        "import argparse, sys; from slotfinder.planning.bench_cli import add_bench_parser; "
        "add_bench_parser(argparse.ArgumentParser().add_subparsers()); "
        "print(sorted(m for m in sys.modules if m.startswith(('slotfinder.planning.', 'tqdm'))))"
    )
    shown = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert shown.strip() == "['slotfinder.planning.bench_cli']"


def test_bench_rejects_bad_values_it_can_only_check_late(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for option in (["--days", "400"], ["--visit-type", "NOPE"]):
        args = _parser().parse_args(["bench", *option, "--out", str(tmp_path / "r.json")])
        assert run_bench(args) == 2
        assert "invalid option" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()
