"""Load on a real server: Redox ``AvailableSlots`` throughput and latency at 1, 8 and 64 concurrent clients on
the demo clinic, while scheduling events (New, then Cancel of the same visit) keep arriving.

python -m benchmarks.server_load [--seconds 10] [--workers 2] [--clients 1 8 64] [--events-per-second 5]

Starts ``slotfinder serve`` on a temporary copy of the demo clinic (a subprocess on a free localhost port),
runs each level for ``--seconds`` after a one-second warm-up, and prints a Markdown table: answers per
second, p50 and p99 latency of AvailableSlots, and the events applied meanwhile. Reported, not asserted:
the numbers depend on the machine (``docs/server.md`` has one run).
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
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from slotfinder.store import CalendarStore

__all__ = ["main"]

TOKEN = "benchmark-token"
HEADERS = {"verification-token": TOKEN, "content-type": "application/json"}


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
    when = day + dt.timedelta(days=1 + number % 14, minutes=30 * (number % 8))
    visit = {
        "VisitNumber": f"V-LOAD-{number}",
        "VisitDateTime": _stamp(when),
        "Duration": 30,
        "Reason": "Office Visit",
        "AttendingProvider": {"ID": "1234567890", "IDType": "NPI"},
        "Location": {"Facility": "RES General Hospital", "Department": "3N"},
    }
    return {"Meta": _meta(kind), "Patient": {"Identifiers": [{"ID": f"LOAD-{number}", "IDType": "MR"}]}, "Visit": visit}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(db: Path, workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "SLOTFINDER_REDOX_TOKEN": TOKEN}
    args = [sys.executable, "-m", "slotfinder", "serve", "--db", str(db), "--port", str(port)]
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


async def _level(url: str, clients: int, seconds: float, rate: float) -> dict[str, float]:
    """Run ``clients`` query loops and one event feed for ``seconds`` (after a warm-up); latencies in ms."""
    latencies: list[float] = []
    applied = 0
    body = json.dumps(query())
    limits = httpx.Limits(max_connections=clients + 1)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits, headers=HEADERS) as client:
        warm_until = time.monotonic() + 1.0
        stop = warm_until + seconds

        async def ask() -> None:
            while time.monotonic() < stop:
                began = time.monotonic()
                response = await client.post("/redox", content=body)
                response.raise_for_status()
                if began >= warm_until:
                    latencies.append((time.monotonic() - began) * 1000)

        async def feed() -> None:
            nonlocal applied
            number = int(time.time() * 1000)
            while time.monotonic() < stop:
                for kind in ("New", "Cancel"):
                    response = await client.post("/redox", content=json.dumps(event(kind, number)))
                    response.raise_for_status()
                    applied += response.json()["outcome"] == "applied"
                number += 1
                await asyncio.sleep(2 / rate)

        await asyncio.gather(feed(), *(ask() for _ in range(clients)))
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return {"answers": len(ordered), "per_s": len(ordered) / seconds, "p50": statistics.median(ordered), "p99": p99,
            "events": applied}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="AvailableSlots under load, with events arriving")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--events-per-second", type=float, default=5.0)
    options = parser.parse_args(argv)
    clinic = json.loads(resources.files("slotfinder").joinpath("data/demo_clinic.json").read_text("utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "clinic.db"
        with CalendarStore(db) as store:
            store.load_clinic(clinic)
        process, url = _start(db, options.workers, Path(folder) / "server.log")
        try:
            print(f"workers {options.workers}, {options.seconds:.0f} s per level, events {options.events_per_second}/s")
            print("| clients | answers/s | p50 (ms) | p99 (ms) | answers | events applied |")
            print("|---|---|---|---|---|---|")
            for clients in options.clients:
                row = asyncio.run(_level(url, clients, options.seconds, options.events_per_second))
                print(f"| {clients} | {row['per_s']:.1f} | {row['p50']:.0f} | {row['p99']:.0f} | {row['answers']:.0f} "
                      f"| {row['events']:.0f} |")  # fmt: skip
        finally:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
