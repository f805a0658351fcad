"""Load on a real server: Redox ``AvailableSlots`` throughput and latency at 1, 8 and 64 concurrent clients on
the demo clinic (or a generated one of ``--synthetic N`` providers), while scheduling events (New, then Cancel
of the same visit) keep arriving.

python -m benchmarks.server_load [--seconds 10] [--workers 2] [--clients 1 8 64] [--events-per-second 5]
    [--max-concurrent-queries N] [--queue-seconds S] [--synthetic 200]

Starts ``slotfinder serve`` on a temporary copy of the demo clinic (a subprocess on a free localhost port),
waits until it answers a query on as many connections as it has workers (each worker reads and prepares the
clinic once when it starts: that start-up is not what is measured), runs each level for ``--seconds`` after a
one-second warm-up, and prints a Markdown table: answers per second, p50 and p99 latency of AvailableSlots,
the queries refused (503, past ``queue_seconds``), the events applied meanwhile and their p50 and p99
latency; and the p99 of AvailableSlots as the server logged it (its JSON log's ``ms``: the wait for a turn
and the search), which leaves out the time spent in the clients and in uvicorn before the application. The
feed runs in a process of its own, so the query clients' load does not delay it.
Reported, not asserted: the numbers depend on the machine (``docs/server.md`` has one run).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from importlib import resources
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import httpx

from slotfinder import clinic_to_dict
from slotfinder.planning import synthetic_clinic, typical_request
from slotfinder.store import CalendarStore
from slotfinder.walltime import to_datetime

__all__ = ["main"]

TOKEN = "benchmark-token"
HEADERS = {"verification-token": TOKEN, "content-type": "application/json"}
SATURATED = 503  # a query past the server's bound and queue wait


def _meta(event: str) -> dict[str, Any]:
    return {"DataModel": "Scheduling", "EventType": event, "EventDateTime": _stamp(dt.datetime.now(dt.UTC))}


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def query() -> dict[str, Any]:
    """An AvailableSlots query: Office Visits at 3N over the next two weeks, any provider."""
    start = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(days=1)
    return {
        "Meta": _meta("AvailableSlots"),
        "Patient": {"Identifiers": [{"ID": "0000000001", "IDType": "MR"}]},
        "StartDateTime": _stamp(start),
        "EndDateTime": _stamp(start + dt.timedelta(days=14)),
        "Visit": {
            "AttendingProviders": [],
            "Locations": [{"Facility": "RES General Hospital", "Department": "3N"}],
            "VisitType": [{"Code": "210", "Codeset": "DNER15", "Description": "Office Visit"}],
        },
    }


def event(kind: str, number: int) -> dict[str, Any]:
    """A New (or Cancel) of visit ``number``: Ana, 3N, a 30-minute visit on a day ahead that cycles."""
    day = dt.datetime.now(dt.UTC).replace(hour=15, minute=0, second=0, microsecond=0)
    location = {"Facility": "RES General Hospital", "Department": "3N"}
    return _visit_event(kind, number, day, "1234567890", location)


def _visit_event(
    kind: str, number: int, day: dt.datetime, provider_id: str, location: dict[str, str]
) -> dict[str, Any]:
    """A New (or Cancel) of visit ``number``, 30 minutes with the provider at the location, on a day after
    ``day`` (and a time) that cycle with the number."""
    when = day + dt.timedelta(days=1 + number % 14, minutes=30 * (number % 8))
    visit = {
        "VisitNumber": f"V-LOAD-{number}",
        "VisitDateTime": _stamp(when),
        "Duration": 30,
        "Reason": "Office Visit",
        "AttendingProvider": {"ID": provider_id, "IDType": "NPI"},
        "Location": location,
    }
    return {"Meta": _meta(kind), "Patient": {"Identifiers": [{"ID": f"LOAD-{number}", "IDType": "MR"}]}, "Visit": visit}


def synthetic_query() -> dict[str, Any]:
    """An AvailableSlots query on the generated clinic: Office Visits anywhere over its first two weeks, asked
    the day before (the clinic's bookings fill its first 30 days)."""
    window = typical_request(14)
    assert window.end is not None
    start = to_datetime(window.start)
    return {
        "Meta": {**_meta("AvailableSlots"), "EventDateTime": _stamp(start - dt.timedelta(days=1))},
        "Patient": {"Identifiers": [{"ID": "0000000001", "IDType": "MR"}]},
        "StartDateTime": _stamp(start),
        "EndDateTime": _stamp(to_datetime(window.end)),
        "Visit": {"AttendingProviders": [], "Locations": [], "VisitType": [{"Code": "OV", "Codeset": "LOCAL"}]},
    }


def synthetic_event(kind: str, number: int) -> dict[str, Any]:
    """A New (or Cancel) of visit ``number`` on the generated clinic: its first provider, at its first location."""
    first = to_datetime(typical_request(14).start).replace(hour=15, minute=0)
    return _visit_event(kind, number, first, "1000000000", {"Facility": "Facility 0", "Department": "Dept 0"})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(db: Path, workers: int, log: Path, config: Path | None) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "SLOTFINDER_REDOX_TOKEN": TOKEN}
    args = [sys.executable, "-m", "slotfinder", "serve", "--db", str(db), "--port", str(port)]
    args += ["--config", str(config)] if config else []
    with log.open("wb") as out:
        process = subprocess.Popen([*args, "--workers", str(workers)], stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).is_success:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the server did not start")


def _prime(url: str, workers: int, synthetic: bool) -> None:
    """One query on each of ``workers`` connections at once, answered (the workers' start-up behind them)."""
    body = json.dumps(synthetic_query() if synthetic else query())

    async def ask(client: httpx.AsyncClient) -> None:
        (await client.post("/redox", content=body)).raise_for_status()

    async def all_of_them() -> None:
        clients = [httpx.AsyncClient(base_url=url, timeout=300, headers=HEADERS) for _ in range(workers)]
        try:
            await asyncio.gather(*(ask(c) for c in clients))
        finally:
            for client in clients:
                await client.aclose()

    asyncio.run(all_of_them())


def _feed(url: str, warm_up: float, seconds: float, rate: float, synthetic: bool) -> tuple[int, list[float]]:
    """The event feed, in a process of its own (so the query clients' load does not delay it): New then Cancel
    pairs at up to ``rate`` events a second; events applied after the warm-up, and their latencies in ms."""
    applied: list[float] = []
    began_at = time.monotonic()
    number = int(time.time() * 1000)
    with httpx.Client(base_url=url, timeout=120, headers=HEADERS) as client:
        while time.monotonic() < began_at + warm_up + seconds:
            for kind in ("New", "Cancel"):
                began = time.monotonic()
                message = synthetic_event(kind, number) if synthetic else event(kind, number)
                response = client.post("/redox", content=json.dumps(message))
                response.raise_for_status()
                if response.json()["outcome"] == "applied" and began >= began_at + warm_up:
                    applied.append((time.monotonic() - began) * 1000)
            number += 1
            time.sleep(2 / rate)
    return len(applied), applied


def _server_ms(log: Path, since: float) -> list[float]:
    """The milliseconds the server logged (its JSON log's ``ms``: queueing and search) for the queries it answered
    from ``since`` (a wall-clock time) on."""
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    return sorted(
        r["ms"] for r in records if "search" in r and dt.datetime.fromisoformat(r["time"]).timestamp() >= since
    )


async def _level(
    url: str, clients: int, seconds: float, rate: float, feeder: Executor, synthetic: bool
) -> dict[str, float]:
    """Run ``clients`` query loops and one event feed for ``seconds`` (after a warm-up); latencies in ms."""
    latencies: list[float] = []
    refused = 0
    body = json.dumps(synthetic_query() if synthetic else query())
    limits = httpx.Limits(max_connections=clients)
    events = asyncio.get_running_loop().run_in_executor(feeder, _feed, url, 1.0, seconds, rate, synthetic)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits, headers=HEADERS) as client:
        warm_until = time.monotonic() + 1.0
        stop = warm_until + seconds
        measured_from = time.time() + 1.0

        async def ask() -> None:
            nonlocal refused
            while time.monotonic() < stop:
                began = time.monotonic()
                response = await client.post("/redox", content=body)
                if response.status_code == SATURATED:  # saturated: counted, then retried as Retry-After says
                    refused += began >= warm_until
                    await asyncio.sleep(float(response.headers.get("retry-after", "1")))
                    continue
                response.raise_for_status()
                if began >= warm_until:
                    latencies.append((time.monotonic() - began) * 1000)

        await asyncio.gather(*(ask() for _ in range(clients)))
    applied, event_latencies = await events
    ordered = sorted(latencies)
    median = statistics.median(ordered) if ordered else float("nan")
    return {"answers": len(ordered), "per_s": len(ordered) / seconds, "p50": median,
            "p99": _p99(ordered), "refused": refused, "events": applied,
            "event_p50": statistics.median(event_latencies) if event_latencies else float("nan"),
            "event_p99": _p99(sorted(event_latencies)), "since": measured_from}  # fmt: skip


def _p99(ordered: list[float]) -> float:
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else float("nan")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="AvailableSlots under load, with events arriving")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--events-per-second", type=float, default=5.0)
    parser.add_argument("--max-concurrent-queries", type=int, default=None, help="per worker (serve's default)")
    parser.add_argument("--queue-seconds", type=float, default=None, help="serve's default when not given")
    parser.add_argument("--synthetic", type=int, default=None, help="a generated clinic of N providers (30 days)")
    options = parser.parse_args(argv)
    synthetic = options.synthetic is not None
    if synthetic:
        clinic = clinic_to_dict(synthetic_clinic(options.synthetic, 30, 5, 0.8))
    else:
        clinic = json.loads(resources.files("slotfinder").joinpath("data/demo_clinic.json").read_text("utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "clinic.db"
        with CalendarStore(db) as store:
            store.load_clinic(clinic)
        settings = {"max_concurrent_queries": options.max_concurrent_queries, "queue_seconds": options.queue_seconds}
        config = Path(folder) / "serve.toml"
        config.write_text("".join(f"{k} = {v}\n" for k, v in settings.items() if v is not None), encoding="utf-8")
        log = Path(folder) / "server.log"
        process, url = _start(db, options.workers, log, config)
        feeder = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
        try:
            _prime(url, options.workers, synthetic)
            limits = ", ".join(f"{k} {v}" for k, v in settings.items() if v is not None) or "default limits"
            what = f"generated clinic of {options.synthetic} providers" if synthetic else "demo clinic"
            print(f"{what}, workers {options.workers}, {options.seconds:.0f} s per level, "
                  f"events {options.events_per_second}/s,"
                  f" {limits}")  # fmt: skip
            print("| clients | answers/s | p50 (ms) | p99 (ms) | p99 in server (ms) | answers | 503s | events applied "
                  "| event p50 (ms) | event p99 (ms) |")  # fmt: skip
            print("|---|---|---|---|---|---|---|---|---|---|")
            for clients in options.clients:
                row = asyncio.run(_level(url, clients, options.seconds, options.events_per_second, feeder, synthetic))
                inside = _server_ms(log, row["since"])
                print(f"| {clients} | {row['per_s']:.1f} | {row['p50']:.0f} | {row['p99']:.0f} | {_p99(inside):.0f} "
                      f"| {row['answers']:.0f} | {row['refused']:.0f} | {row['events']:.0f} "
                      f"| {row['event_p50']:.0f} | {row['event_p99']:.0f} |")  # fmt: skip
        finally:
            feeder.shutdown()
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
