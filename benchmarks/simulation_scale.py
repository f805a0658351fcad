"""Capacity simulation at size: one replicate of a generated health system, and replicates spread out.

    python -m benchmarks.simulation_scale                             # docs/capacity.md's figures (~25 min)
    python -m benchmarks.simulation_scale --providers 200 --weeks 2   # one size, a longer stretch
    python -m benchmarks.simulation_scale --part replicates --no-dask # serial against local processes only
    python -m benchmarks.simulation_scale --providers 2 --replicate-providers 2 --replicate-weeks 1 --replicates 2

**One replicate.** The clinic is generated as ``slotfinder simulate --providers P`` generates it
(``ScenarioSpec(seed, P, days=14, grain=15, booked=0.6, zones=(zone,))``; requests per provider and
call day OV 3, FU 3, TELE 1, times ``--load``), and ``simulate`` runs ``--weeks`` weeks of it in this
process. Reported: requests, wall and CPU time, milliseconds per request, the time of 52 weeks
*extrapolated* from the measured weeks (wall time x 52 / weeks), and the 1-minute load average (on a
shared machine, wall times are only as good as it). Calendars fill as a run goes on, so the
cost of a request can drift over a longer run; the extrapolation does not see that.

**Replicates.** ``run_replicates`` of a smaller scenario three ways: in this process (``workers=0``),
on the local process pool (``workers``, spawned processes, started inside the timed call), and on a
local Dask cluster (``LocalCluster`` of ``workers`` single-threaded worker processes, started before
timing; its start-up is reported beside). The three results are compared: the library promises they
are identical. A report, never a timed assertion.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from slotfinder import Clinic
from slotfinder.planning import ArrivalRate, Replicate, ScenarioSpec, SimulationSpec, generate, run_replicates, simulate

__all__ = [
    "REPLICATES_HEADER",
    "SIZE_HEADER",
    "measure_replicates",
    "measure_size",
    "replicates_markdown",
    "scenario",
    "size_markdown",
    "spec_for",
]

ZONE = "America/New_York"  # the default of ``slotfinder simulate --zone``
RATES = (("OV", 3.0), ("FU", 3.0), ("TELE", 1.0))  # per provider and call day, as ``slotfinder simulate``
YEAR_WEEKS = 52


def scenario(providers: int, seed: int = 0) -> tuple[Clinic, int]:
    """The clinic and start instant ``slotfinder simulate --providers N`` generates (its defaults)."""
    generated = generate(ScenarioSpec(seed=seed, providers=providers, days=14, grain=15, booked=0.6, zones=(ZONE,)))
    return generated.clinic, generated.start


def spec_for(providers: int, start: int, weeks: int, load: float = 1.0, seed: int = 0) -> SimulationSpec:
    """The simulation ``slotfinder simulate`` runs on the generated clinic (K 3, 30-day window)."""
    return SimulationSpec(
        start=start,
        weeks=weeks,
        seed=seed,
        rates=[ArrivalRate(code, round(per * providers, 2)) for code, per in RATES],
        load=load,
        k=3,
        cancel_probability=0.1,
        no_show_probability=0.05,
        horizon_days=30,
    )


def measure_size(
    providers: int, weeks: int, load: float = 1.0, seed: int = 0, progress: bool = False
) -> dict[str, Any]:
    """One replicate of ``weeks`` weeks in this process: requests, wall time, ms per request, a year extrapolated."""
    began = time.perf_counter()
    clinic, start = scenario(providers, seed)
    generate_s = time.perf_counter() - began
    spec = spec_for(providers, start, weeks, load, seed)
    began, cpu = time.perf_counter(), time.process_time()
    result = simulate(clinic, spec, progress=progress)
    wall_s, cpu_s = time.perf_counter() - began, time.process_time() - cpu
    load_average = os.getloadavg()[0]
    requests = len(result.requests)
    booked = sum(1 for r in result.requests if r.chosen is not None)
    return {
        "providers": providers,
        "weeks": weeks,
        "load": load,
        "busy_items": len(clinic.busy),
        "generate_s": generate_s,
        "requests": requests,
        "booked": booked,
        "wall_s": wall_s,
        "cpu_s": cpu_s,  # this process's CPU time: less touched than wall time by other load on the machine
        "load_average": load_average,  # 1-minute load average at the end (this run counts 1 of it)
        "ms_per_request": wall_s * 1000 / requests if requests else float("nan"),
        "year_requests": round(requests * YEAR_WEEKS / weeks),
        "year_s": wall_s * YEAR_WEEKS / weeks,
    }


_MINUTE, _HOUR = 60, 3600


def _duration(seconds: float) -> str:
    if seconds >= _HOUR:
        return f"{seconds / _HOUR:.1f} h"
    if seconds >= _MINUTE:
        return f"{seconds / _MINUTE:.1f} min"
    return f"{seconds:.1f} s"


SIZE_HEADER = (
    "| providers | weeks x load | requests (booked) | wall (CPU) | ms / request | year: requests | year: time "
    "(extrapolated) | load average |\n" + "|---" * 8 + "|"
)


def size_markdown(row: dict[str, Any]) -> str:
    """One row of ``SIZE_HEADER``."""
    return (
        f"| {row['providers']} | {row['weeks']} x {row['load']:g} | {row['requests']:,} ({row['booked']:,}) "
        f"| {_duration(row['wall_s'])} ({_duration(row['cpu_s'])}) | {row['ms_per_request']:.1f} "
        f"| {row['year_requests']:,} | {_duration(row['year_s'])} | {row['load_average']:.1f} |"
    )


def measure_replicates(
    providers: int, weeks: int, replicates: int, workers: int = 2, dask: bool = True, seed: int = 0
) -> dict[str, Any]:
    """``run_replicates`` in this process, on ``workers`` local processes and (``dask``) on a local Dask
    cluster of ``workers`` workers: wall time of each and the runs themselves (``"runs"``, by way)."""
    clinic, start = scenario(providers, seed)
    spec = spec_for(providers, start, weeks, seed=seed)
    runs: dict[str, list[Replicate]] = {}
    wall: dict[str, float] = {}
    load_average: dict[str, float] = {}

    def timed(way: str, **where: Any) -> None:
        began = time.perf_counter()
        runs[way] = run_replicates(clinic, spec, replicates, progress=False, **where)
        wall[way] = time.perf_counter() - began
        load_average[way] = os.getloadavg()[0]

    timed("serial", workers=0)
    timed("processes", workers=workers)
    cluster_s = float("nan")
    if dask:
        from distributed import LocalCluster

        began = time.perf_counter()
        with LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:  # fmt: skip
            cluster_s = time.perf_counter() - began
            timed("dask", scheduler=cluster.scheduler_address)
    return {
        "providers": providers,
        "weeks": weeks,
        "replicates": replicates,
        "workers": workers,
        "requests": [len(r.result.requests) for r in runs["serial"]],
        "wall_s": wall,
        "load_average": load_average,  # 1-minute load average at the end of each (this run counts in it)
        "cluster_start_s": cluster_s,
        "identical": {way: found == runs["serial"] for way, found in runs.items()},
        "runs": runs,
    }


REPLICATES_HEADER = "| how | wall | speed-up vs serial | identical to serial | load average |\n" + "|---" * 5 + "|"

_HOW = {
    "serial": "this process (`workers=0`)",
    "processes": "local process pool (`workers={workers}`)",
    "dask": "local Dask cluster ({workers} workers x 1 thread)",
}


def replicates_markdown(row: dict[str, Any]) -> list[str]:
    """The rows of ``REPLICATES_HEADER``, one per way the replicates ran."""
    serial = row["wall_s"]["serial"]
    lines = []
    for way, seconds in row["wall_s"].items():
        lines.append(
            f"| {_HOW[way].format(workers=row['workers'])} | {seconds:.1f} s | {serial / seconds:.2f}x "
            f"| {'yes' if row['identical'][way] else 'NO'} | {row['load_average'][way]:.1f} |"
        )
    return lines


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.simulation_scale", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--part", choices=("both", "size", "replicates"), default="both")
    parser.add_argument("--providers", default="20,50,200", help="comma-separated sizes of the one-replicate table")
    parser.add_argument("--weeks", type=int, default=1, help="weeks simulated per size (default 1)")
    parser.add_argument("--load", type=float, default=1.0, help="factor on the arrival rates (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true", help="a tqdm bar of each one-replicate run on stderr")
    parser.add_argument("--replicate-providers", type=int, default=20, help="size of the replicates' scenario")
    parser.add_argument("--replicate-weeks", type=int, default=4)
    parser.add_argument("--replicates", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="local processes, and Dask workers (default 2)")
    parser.add_argument("--no-dask", action="store_true", help="leave out the local Dask cluster")
    args = parser.parse_args(argv)
    if args.part in ("both", "size"):
        print(SIZE_HEADER, flush=True)
        for providers in _ints(args.providers):
            row = measure_size(providers, args.weeks, args.load, args.seed, args.progress)
            print(size_markdown(row), flush=True)
        print()
    if args.part in ("both", "replicates"):
        row = measure_replicates(
            args.replicate_providers,
            args.replicate_weeks,
            args.replicates,
            args.workers,
            dask=not args.no_dask,
            seed=args.seed,
        )
        print(
            f"{row['replicates']} replicates of {row['providers']} providers x {row['weeks']} weeks "
            f"({', '.join(f'{n:,}' for n in row['requests'])} requests)"
            + ("" if args.no_dask else f"; the Dask cluster started in {row['cluster_start_s']:.1f} s (not timed)")
        )
        print(REPLICATES_HEADER)
        print("\n".join(replicates_markdown(row)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
