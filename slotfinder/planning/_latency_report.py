"""The latency grid's results as a file and as a Markdown table."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from slotfinder.planning._latency_grid import DEFAULT_OUT, STAGES

__all__ = ["markdown_table", "write_results"]

_WHOLE_FROM = 100.0  # figures this large are shown without decimals


def write_results(document: dict[str, Any], path: str | os.PathLike[str] = DEFAULT_OUT) -> Path:
    """Write the document as JSON (parent directories created); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return target


def _num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    if value >= _WHOLE_FROM:
        return f"{value:.0f}"
    return f"{value:.{digits}f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def markdown_table(document: dict[str, Any]) -> str:
    """The run as Markdown: a line on the machine and start-up, then one table row per cell."""
    machine = document["machine"]
    lines = [
        f"Preset `{document['preset']}`, {len(document['cells'])} cells, {document['elapsed_s']} s; "
        f"Python {machine['python']}, {machine['cpus']} CPUs, OR-Tools {machine['ortools']}. "
        "Times in ms (engine warm); stages are medians; ratio = engine / sweep baseline (same run; the sweep "
        "is a non-floor comparison, engine / floor: `python -m benchmarks.floor_grid`); "
        "R+E = rooms and equipment on, R+E cost = engine p50 with / without them.",
    ]
    startup = document.get("startup")
    if startup:
        lines.append("")
        lines.append(
            f"Start-up, median of {startup['repeat']}: bare `python -c pass` {startup['python_ms']:.0f} ms, "
            f"`import slotfinder` {startup['import_ms']:.0f} ms, "
            f"cold `slotfinder demo` {startup['cli_demo_ms']:.0f} ms."
        )
    lines += [
        "",
        "| providers | days | grain | K | booked | R+E | visit | engine p50 | engine p95 | expand | candidates "
        "| score | model | solve | peak MB | candidates -> pruned | baseline p50 | baseline p95 | ratio p50 "
        "| R+E cost |",
        "|" + "---|" * 20,
    ]
    for row in document["cells"]:
        stages = row["stages_p50_ms"]
        lines.append(
            "| "
            + " | ".join(
                [
                    str(row["providers"]),
                    str(row["days"]),
                    str(row["grain"]),
                    str(row["limit"]),
                    f"{row['booked']:.0%}",
                    "on" if row["resources"] else "off",
                    row["visit_type"],
                    _num(row["engine_p50_ms"]),
                    _num(row["engine_p95_ms"]),
                    *(_num(stages[stage]) for stage in STAGES),
                    _num(row["peak_memory_mb"]),
                    f"{row['candidates']} -> {row['after_pruning']}",
                    _num(row["baseline_p50_ms"]),
                    _num(row["baseline_p95_ms"]),
                    _ratio(row["ratio_p50"]),
                    _ratio(row["resources_ratio_p50"]),
                ]
            )
            + " |"
        )
    return "\n".join(lines) + "\n"
