"""Memory: the clinic's own size beside the peak memory of preparing and searching it (issue 10).

    python -m benchmarks.memory                      # the cells below (about 40 minutes on 2 cores)
    python -m benchmarks.memory --cells 20x30,200x30 # some of them
    python -m benchmarks.memory --cells 3x5          # a smoke run

Each cell is a generated health system (``slotfinder.planning.generate``: 5-minute grid, 80% booked,
seed 0, provider only: no rooms, no equipment), searched over its whole horizon for the top 20 office
visits (``OV``), as in the engine / floor table. One subprocess generates the cell and writes its
clinic file (``slotfinder.clinic_to_dict``) and its query; two fresh subprocesses then read them and
measure, each after one search of a tiny generated clinic (imports, ortools and zone tables not counted):

* **traced** (``tracemalloc``: every allocation of Python objects and numpy buffers):
  the clinic = bytes still allocated after ``load_clinic(json.loads(text))`` and a collection (the
  Clinic object with everything it holds, its strings included; the parsed JSON is freed);
  prepare = peak and kept bytes of ``prepare(clinic)`` above the clinic; search = peak bytes of the
  first ``find_slots`` on the prepared clinic above clinic and prepared clinic; one-shot = peak bytes
  of ``find_slots(clinic, ...)`` on the plain clinic (it prepares afresh) above the clinic.
* **resident** (Linux ``/proc/self/status``, no tracing): the same steps measured as process RSS:
  growth of VmRSS for the clinic, growth of the peak (VmHWM, reset through ``/proc/self/clear_refs``
  before each step) for the rest. RSS also sees memory that tracemalloc does not (C++ solver memory,
  allocator slack). Freed memory is given back (``malloc_trim``) before each step, but a step may
  still reuse memory freed by an earlier one, so RSS growth is a lower bound.

``total / clinic`` is the whole footprint of a search at its peak (clinic + the larger of prepare's
peak and prepared clinic + search peak) over the clinic's own size: the issue asks for at most 2x.
A report, never an assertion.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import gc
import json
import pickle
import re
import subprocess
import sys
import tempfile
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from slotfinder import clinic_to_dict, find_slots, load_clinic, prepare
from slotfinder.planning import ScenarioSpec, generate, request_for

__all__ = ["CELLS", "HEADER", "main", "measure", "row_markdown"]

CELLS = ("20x30", "200x365", "500x365")  # providers x days, provider only
_LIMIT = 20
_MB = 1024 * 1024
_KB = 1024
_QUERY = "query.pickle"
_CLINIC = "clinic.json"


def build(cell: str, folder: Path) -> dict[str, Any]:
    """Generate the cell and write its clinic file and its query (request, settings, now) into ``folder``."""
    providers, days = (int(n) for n in cell.split("x"))
    scenario = generate(ScenarioSpec(seed=0, providers=providers, days=days, grain=5, booked=0.8))
    query = request_for(scenario, days, "OV", limit=_LIMIT)
    text = json.dumps(clinic_to_dict(scenario.clinic))
    (folder / _CLINIC).write_text(text, encoding="utf-8")
    (folder / _QUERY).write_bytes(pickle.dumps((query.request, query.settings, query.now)))
    return {
        "cell": cell,
        "providers": providers,
        "days": days,
        "busy_items": len(scenario.clinic.busy),
        "templates": len(scenario.clinic.templates),
        "json_mb": len(text.encode("utf-8")) / _MB,
    }


def _warm() -> None:
    """One search of a tiny generated clinic: imports (ortools), zone tables and caches are not counted below."""
    scenario = generate(ScenarioSpec(seed=1, providers=2, days=3, grain=5, booked=0.8))
    query = request_for(scenario, 3, "OV", limit=_LIMIT)
    find_slots(load_clinic(clinic_to_dict(scenario.clinic)), query.request, query.settings, query.now)


def _query(folder: Path) -> tuple[Any, Any, int]:
    request, settings, now = pickle.loads((folder / _QUERY).read_bytes())  # our own file, written by build()
    return request, settings, int(now)


def traced(folder: Path) -> dict[str, Any]:
    """The tracemalloc measures of one written cell (see the module's docstring)."""
    text = (folder / _CLINIC).read_text(encoding="utf-8")
    request, settings, now = _query(folder)
    _warm()
    gc.collect()
    tracemalloc.start()
    try:
        clinic = load_clinic(json.loads(text))
        del text
        gc.collect()
        clinic_bytes, load_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        prepared = prepare(clinic)
        kept, peak = tracemalloc.get_traced_memory()
        prepare_peak, prepared_kept = peak - clinic_bytes, kept - clinic_bytes
        tracemalloc.reset_peak()
        result = find_slots(prepared, request, settings, now)
        after, peak = tracemalloc.get_traced_memory()
        search_peak, search_kept = peak - kept, after - kept
        slots = len(result.slots)
        del prepared, result
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        find_slots(clinic, request, settings, now)
        one_shot = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return {
        "clinic_mb": clinic_bytes / _MB,
        "load_peak_mb": load_peak / _MB,
        "prepare_peak_mb": prepare_peak / _MB,
        "prepared_mb": prepared_kept / _MB,
        "search_peak_mb": search_peak / _MB,
        "search_kept_mb": search_kept / _MB,
        "one_shot_peak_mb": one_shot / _MB,
        "slots": slots,
    }


def _status() -> tuple[int, int] | None:
    """(VmRSS, VmHWM) in bytes, or None off Linux."""
    try:
        text = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return None
    found = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", text, re.MULTILINE))
    if "VmRSS" not in found or "VmHWM" not in found:
        return None
    return int(found["VmRSS"]) * _KB, int(found["VmHWM"]) * _KB


def _settle() -> int:
    """Collect, give freed memory back to the system, reset the peak; the resident bytes now."""
    gc.collect()
    name = ctypes.util.find_library("c")
    if name is not None:
        trim = getattr(ctypes.CDLL(name), "malloc_trim", None)
        if trim is not None:
            trim(0)
    Path("/proc/self/clear_refs").write_text("5", encoding="ascii")  # VmHWM := VmRSS (Linux 4.0+)
    status = _status()
    assert status is not None
    return status[0]


def _peak_of(step: Callable[[], Any]) -> tuple[Any, int, int]:
    """``step()``, the growth of the resident peak while it ran, and of the resident bytes after it."""
    before = _settle()
    value = step()
    status = _status()
    assert status is not None
    return value, status[1] - before, status[0] - before


def resident(folder: Path) -> dict[str, Any]:
    """The RSS measures of one written cell (see the module's docstring); empty off Linux."""
    if _status() is None or not Path("/proc/self/clear_refs").exists():
        return {}
    request, settings, now = _query(folder)
    _warm()
    before = _settle()
    clinic, load_peak, _ = _peak_of(lambda: load_clinic(folder / _CLINIC))
    clinic_rss = _settle() - before  # the parsed JSON freed
    prepared, prepare_peak, prepared_rss = _peak_of(lambda: prepare(clinic))
    _, search_peak, _ = _peak_of(partial(find_slots, prepared, request, settings, now))
    del prepared
    _, one_shot, _ = _peak_of(lambda: find_slots(clinic, request, settings, now))
    return {
        "clinic_rss_mb": clinic_rss / _MB,
        "load_peak_rss_mb": load_peak / _MB,
        "prepare_peak_rss_mb": prepare_peak / _MB,
        "prepared_rss_mb": prepared_rss / _MB,
        "search_peak_rss_mb": search_peak / _MB,
        "one_shot_peak_rss_mb": one_shot / _MB,
    }


_STEPS: dict[str, Callable[[Path], dict[str, Any]]] = {"traced": traced, "resident": resident}


def _child(step: str, folder: Path, cell: str = "") -> dict[str, Any]:
    """Run one step in a fresh interpreter; its JSON line."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", "--step", step, "--folder", str(folder), "--cells", cell],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    row: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return row


def measure(cell: str) -> dict[str, Any]:
    """One cell (``"PxD"``): built in one subprocess, measured in two fresh ones; the row of the table."""
    with tempfile.TemporaryDirectory(prefix="slotfinder-memory-") as name:
        folder = Path(name)
        row = _child("build", folder, cell)
        row.update(_child("traced", folder))
        row.update(_child("resident", folder))
    row["total_mb"] = row["clinic_mb"] + max(row["prepare_peak_mb"], row["prepared_mb"] + row["search_peak_mb"])
    row["ratio"] = row["total_mb"] / row["clinic_mb"]
    return row


HEADER = (
    "| providers x days | busy items | clinic JSON | clinic | prepare peak (kept) | search peak | one-shot "
    "search peak | total / clinic | RSS: clinic | RSS: prepare peak | RSS: search peak |\n" + "|---" * 11 + "|"
)


def _rss(row: dict[str, Any], key: str) -> str:
    return f"{row[key]:,.0f} MB" if key in row else "n/a"


def row_markdown(row: dict[str, Any]) -> str:
    """One table row (see ``HEADER``): MB throughout, tracemalloc unless marked RSS."""
    return (
        f"| {row['providers']} x {row['days']} | {row['busy_items']:,} | {row['json_mb']:,.0f} MB "
        f"| {row['clinic_mb']:,.1f} MB | {row['prepare_peak_mb']:,.1f} MB ({row['prepared_mb']:,.1f} MB) "
        f"| {row['search_peak_mb']:,.1f} MB | {row['one_shot_peak_mb']:,.1f} MB | {row['ratio']:.2f}x "
        f"| {_rss(row, 'clinic_rss_mb')} | {_rss(row, 'prepare_peak_rss_mb')} | {_rss(row, 'search_peak_rss_mb')} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--cells", default=",".join(CELLS), help="comma-separated PxD (default: 20x30,200x365,500x365)")
    parser.add_argument("--json", action="store_true", help="print each cell's row as JSON too")
    parser.add_argument("--step", choices=("build", *_STEPS), help=argparse.SUPPRESS)  # one subprocess's part
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.step is not None:
        folder = Path(args.folder)
        row = build(args.cells, folder) if args.step == "build" else _STEPS[args.step](folder)
        print(json.dumps(row), flush=True)
        return 0
    print(HEADER, flush=True)
    for cell in args.cells.split(","):
        row = measure(cell.strip())
        print(row_markdown(row), flush=True)
        if args.json:
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
