"""A real server for the tests: ``slotfinder serve`` in a subprocess on a free localhost port.

Nothing is mocked: the tests talk HTTP to uvicorn as Redox or a FHIR client would, and read the store
file afterwards with their own connection.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from slotfinder.store import CalendarStore

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "tok-7f3a9c1e-server-tests"


def free_port() -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def demo_store(path: Path) -> Path:
    """A store holding the bundled demo clinic."""
    clinic = json.loads(resources.files("slotfinder").joinpath("data/demo_clinic.json").read_text("utf-8"))
    with CalendarStore(path) as store:
        store.load_clinic(clinic)
    return path


def cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """``slotfinder ARGS`` in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "slotfinder", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env=env,
        input=stdin,
    )


@dataclass
class Server:
    """A running ``slotfinder serve``: its base URL, process and log file."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    db: Path

    def client(self, **options: Any) -> httpx.Client:
        """An HTTP client for this server."""
        return httpx.Client(base_url=self.url, timeout=60, **options)

    def post(
        self, message: Any, token: str | None = TOKEN, request_id: str | None = None, **options: Any
    ) -> httpx.Response:
        """POST a message (a JSON value, or bytes as they are) to /redox with the verification token header (and
        an ``X-Request-ID`` when given)."""
        headers = {"verification-token": token} if token is not None else {}
        if request_id is not None:
            headers["x-request-id"] = request_id
        body = message if isinstance(message, bytes) else json.dumps(message).encode()
        with self.client() as client:
            return client.post("/redox", content=body, headers={**headers, "content-type": "application/json"})

    def log_text(self) -> str:
        """What the server wrote on stdout and stderr so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def log_lines(self) -> list[dict[str, Any]]:
        """The server's log so far, one JSON object per line (raises if a line is not one)."""
        return [json.loads(line) for line in self.log_text().splitlines() if line.strip()]

    def logged_requests(self, route: str | None = None) -> list[dict[str, Any]]:
        """The log's request lines (those with a request ID), of ``route`` when given."""
        lines = [line for line in self.log_lines() if "request_id" in line and "route" in line]
        return [line for line in lines if route is None or line["route"] == route]

    def wait_logged(self, request_ids: set[str]) -> dict[str, dict[str, Any]]:
        """The log's request lines by ID, once those of ``request_ids`` are written (a server writes a request's
        line just after sending its answer, so it may trail the answer by a moment; the wait is bounded)."""
        deadline = time.monotonic() + 30
        while True:
            found = {line["request_id"]: line for line in self.logged_requests()}
            if request_ids <= set(found) or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the process this test started (SIGTERM, then SIGKILL)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    db: Path,
    log: Path,
    *,
    token: str | None = TOKEN,
    config: Path | None = None,
    workers: int = 1,
    fhir_token: str | None = None,
) -> Server:
    """Start ``slotfinder serve --db DB`` and wait until ``/healthz`` answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("SLOTFINDER_REDOX_TOKEN", "SLOTFINDER_FHIR_TOKEN")}
    if token is not None:
        env["SLOTFINDER_REDOX_TOKEN"] = token
    if fhir_token is not None:
        env["SLOTFINDER_FHIR_TOKEN"] = fhir_token
    args = [sys.executable, "-m", "slotfinder", "serve", "--db", str(db), "--port", str(port)]
    args += ["--workers", str(workers)] + (["--config", str(config)] if config else [])
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    server = Server(f"http://127.0.0.1:{port}", process, log, db)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}):\n{server.log_text()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"the server did not start:\n{server.log_text()}")
