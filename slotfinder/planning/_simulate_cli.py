"""``slotfinder simulate``: capacity simulation from the command line (metrics CSV/JSON and PNG plots).

Without ``--clinic`` the clinic is a generated scenario (``generate``) of
``--providers`` providers in ``--zone``, booked to ``--booked`` for its first ``--booked-days`` days,
and the simulation starts at the scenario's start. With ``--clinic`` (a clinic JSON file) ``--start``
is required. Bad input exits with status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["add_simulate_parser", "run_simulate"]

BAD_INPUT = 2
_SHARED_RATES = (("OV", 3.0), ("FU", 3.0), ("TELE", 1.0))  # requests per provider and call day (generated clinic)
_FILE_RATE = 2.0  # requests per visit type and call day (clinic file without --rate)
_ISO_DATE_LENGTH = len("2025-10-20")  # --start without a time of day
_GENERATED_GRAIN = 15  # template slot length of the generated clinic (minutes)


def add_simulate_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``simulate`` command and its options to a ``slotfinder`` sub-command set."""
    parser = subparsers.add_parser(
        "simulate",
        help="capacity simulation: requests over weeks, offers, choices, bookings; metrics and plots",
        description="Simulate requests arriving over weeks against a clinic: each is offered the engine's "
        "top K, a patient-choice model books one or declines, bookings are cancelled or missed. Writes "
        "weekly metrics (CSV, JSON) and PNG plots to --out.",
    )
    parser.add_argument("--clinic", help="clinic JSON file (default: a generated scenario)")
    parser.add_argument("--start", help="first instant or local date requests arrive (required with --clinic)")
    parser.add_argument("--weeks", type=int, default=4, help="weeks simulated (default 4)")
    parser.add_argument("--replicates", type=int, default=1, help="independent runs per load (default 1)")
    parser.add_argument("--loads", default="1", help="comma-separated factors on the arrival rates (default 1)")
    parser.add_argument(
        "--rate",
        action="append",
        default=[],
        metavar="CODE=PER_DAY",
        help="requests of a visit type per call day (repeatable; default: OV, FU, TELE scaled by providers "
        "for a generated clinic, 2 of every visit type for a clinic file)",
    )
    parser.add_argument("--k", type=int, default=3, help="offers shown per request (the engine's top K, default 3)")
    parser.add_argument("--cancel", type=float, default=0.1, help="probability a booking is cancelled (default 0.1)")
    parser.add_argument("--no-show", type=float, default=0.05, help="probability of a no-show (default 0.05)")
    parser.add_argument("--horizon-days", type=int, default=30, help="window each request asks for (default 30)")
    parser.add_argument("--skip-weeks", type=int, default=0, help="warm-up weeks left out of the load summary")
    parser.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address (default: local processes)")
    parser.add_argument("--workers", type=int, help="local processes (default: one per CPU; 0 runs in this process)")
    parser.add_argument(
        "--out", default="simulation", help="directory for CSV, JSON and PNG files (default ./simulation)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (default: shown on a terminal)")
    parser.add_argument("--providers", type=int, default=6, help="providers of the generated clinic (default 6)")
    parser.add_argument("--zone", default="America/New_York", help="time zone of the generated clinic")
    parser.add_argument("--booked", type=float, default=0.6, help="share of the generated clinic already booked")
    parser.add_argument("--booked-days", type=int, default=14, help="days ahead the generated clinic is booked")


class _BadInput(Exception):
    """A problem with the command line, reported in one line."""


def run_simulate(args: argparse.Namespace) -> int:
    """Run ``slotfinder simulate``; 0 on success, 2 on bad input."""
    try:
        return _simulate(args)
    except (_BadInput, ValueError) as error:
        sys.stderr.write(f"slotfinder simulate: {error}\n")
        return BAD_INPUT


def _simulate(args: argparse.Namespace) -> int:
    from slotfinder import SlotfinderError
    from slotfinder.planning._plots import plot_over_time, plot_versus_load
    from slotfinder.planning._replicates import run_replicates
    from slotfinder.planning._run_result import bookings_frame, requests_frame
    from slotfinder.planning._simulation_spec import ArrivalRate, SimulationSpec
    from slotfinder.planning._summaries import combine, load_summary, summarize

    loads = _loads(args.loads)
    if args.weeks < 1 or args.replicates < 1 or args.k < 1:
        raise _BadInput("--weeks, --replicates and --k must be at least 1")
    try:
        clinic, start, default_rates = _clinic(args)
    except SlotfinderError as error:
        raise _BadInput(str(error)) from None
    rates = _rates(args.rate) if args.rate else default_rates
    spec = SimulationSpec(
        start=start,
        weeks=args.weeks,
        seed=args.seed,
        rates=[ArrivalRate(code, per_day) for code, per_day in rates],
        k=args.k,
        cancel_probability=args.cancel,
        no_show_probability=args.no_show,
        horizon_days=args.horizon_days,
    )
    began = time.perf_counter()
    runs = run_replicates(
        clinic,
        spec,
        args.replicates,
        loads=loads,
        scheduler=args.scheduler,
        workers=args.workers,
        progress=False if args.no_progress else None,
    )
    elapsed = time.perf_counter() - began
    zone = runs[0].result.zone
    weekly = combine((r.load, r.index, r.result.metrics()) for r in runs)
    summary = summarize(weekly)
    by_load = load_summary(weekly, skip_weeks=args.skip_weeks)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "weekly.csv", out / "summary.csv", out / "load.csv", out / "requests.csv", out / "bookings.csv"]
    weekly.to_csv(written[0], index=False)
    summary.to_csv(written[1], index=False)
    by_load.to_csv(written[2], index=False)
    _detail(runs, requests_frame).to_csv(written[3], index=False)
    _detail(runs, bookings_frame).to_csv(written[4], index=False)
    document = {
        "zone": zone,
        "parameters": _parameters(args, spec, loads, rates),
        "seeds": [{"load": r.load, "replicate": r.index, "seed": r.seed} for r in runs],
        "weekly": _records(weekly),
        "summary": _records(summary),
        "load": _records(by_load),
    }
    (out / "metrics.json").write_text(json.dumps(document, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    written.append(out / "metrics.json")
    written += plot_over_time(summary, out, zone)
    written += plot_versus_load(by_load, out, zone)
    columns = ["load", "visit_type", "requests", "tna_days_mean", "utilisation", "fill_rate", "decline_rate"]
    sys.stdout.write(by_load[columns].to_string(index=False, float_format=lambda v: f"{v:.3f}") + "\n")
    sys.stdout.write(f"{len(runs)} simulation(s) in {elapsed:.1f} s; wrote {len(written)} files to {out}\n")
    return 0


def _loads(text: str) -> list[float]:
    try:
        loads = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise _BadInput(f"--loads must be comma-separated numbers, got {text!r}") from None
    if not loads or any(not x >= 0 for x in loads):
        raise _BadInput("--loads must be non-negative numbers, at least one")
    return loads


def _rates(items: list[str]) -> list[tuple[str, float]]:
    rates = []
    for item in items:
        code, sep, value = item.partition("=")
        try:
            per_day = float(value)
        except ValueError:
            per_day = -1.0
        if not sep or not code.strip() or not per_day >= 0:
            raise _BadInput(f"--rate must be CODE=PER_DAY with a non-negative number, got {item!r}")
        rates.append((code.strip(), per_day))
    return rates


def _clinic(args: argparse.Namespace) -> tuple[Any, int, list[tuple[str, float]]]:
    """The clinic, the simulation's start instant, and the default rates for it."""
    from slotfinder import load_clinic, walltime

    if args.clinic:
        if not args.start:
            raise _BadInput("--start is required with --clinic (an ISO date or date-time with offset)")
        clinic = load_clinic(args.clinic)
        zone = clinic.locations[0].time_zone if clinic.locations else "UTC"
        return clinic, _instant(args.start, zone), [(vt.code, _FILE_RATE) for vt in clinic.visit_types]
    from slotfinder.planning._generator import generate
    from slotfinder.planning._scenario import ScenarioSpec

    if not walltime.check_zone(args.zone):
        raise _BadInput(f"--zone: unknown time zone {args.zone!r}")
    if args.providers < 1:
        raise _BadInput("--providers must be at least 1")
    scenario = generate(
        ScenarioSpec(
            seed=args.seed,
            providers=args.providers,
            days=args.booked_days,
            grain=_GENERATED_GRAIN,
            booked=args.booked,
            zones=(args.zone,),
        )
    )
    start = _instant(args.start, args.zone) if args.start else scenario.start
    rates = [(code, round(per * args.providers, 2)) for code, per in _SHARED_RATES]
    return scenario.clinic, start, rates


def _instant(text: str, zone: str) -> int:
    """An ISO date (local midnight in ``zone``) or date-time with offset, as an instant."""
    from slotfinder import walltime

    try:
        if len(text) == _ISO_DATE_LENGTH:
            return walltime.instant_of(zone, dt.date.fromisoformat(text), 0)
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise _BadInput(f"--start must be an ISO date or date-time, got {text!r}") from None
    if moment.utcoffset() is None:
        raise _BadInput("--start: a date-time needs a UTC offset (add Z or +HH:MM)")
    return int((moment - walltime.EPOCH) // dt.timedelta(minutes=1))


def _detail(runs: list[Any], frame_of: Any) -> Any:
    import pandas as pd

    parts = [frame_of(r.result).assign(load=r.load, replicate=r.index) for r in runs]
    return pd.concat(parts, ignore_index=True)


def _records(frame: Any) -> list[dict[str, Any]]:
    """A frame as JSON-ready records: dates as ISO text, NaN as null."""
    if "week_start" in frame:
        frame = frame.assign(week_start=frame["week_start"].astype(str))  # 2025-10-20, not a midnight date-time
    text = frame.to_json(orient="records", date_format="iso", default_handler=str)
    records: list[dict[str, Any]] = json.loads(text)
    return records


def _parameters(
    args: argparse.Namespace, spec: Any, loads: list[float], rates: list[tuple[str, float]]
) -> dict[str, Any]:
    from slotfinder import walltime

    return {
        "clinic": args.clinic or "generated",
        "start": spec.start,
        "start_utc": walltime.to_datetime(spec.start).isoformat().replace("+00:00", "Z"),
        "weeks": spec.weeks,
        "replicates": args.replicates,
        "loads": loads,
        "rates": dict(rates),
        "k": spec.k,
        "cancel_probability": spec.cancel_probability,
        "no_show_probability": spec.no_show_probability,
        "horizon_days": spec.horizon_days,
        "seed": spec.seed,
        "scheduler": args.scheduler,
        **({} if args.clinic else {"providers": args.providers, "zone": args.zone, "booked": args.booked}),
    }
