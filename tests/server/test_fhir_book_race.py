"""No double booking under a race: 1,000 clients ``$book`` the same proposed Appointment at once against a real
server with two worker processes (so no Python lock can be what orders them: only the store's write
transaction). Exactly one is answered 200; every other one is a 409 OperationOutcome; the store then holds
exactly one booking of that time, logged once."""

from __future__ import annotations

import asyncio
import resource
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from slotfinder.store import CalendarStore
from tests.server.fhir_client import find, with_resource
from tests.server.running import Server, demo_store, start_server

CLIENTS = 1000


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``slotfinder serve --workers 2`` on a fresh demo store, with room for CLIENTS sockets at each end."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 4 * CLIENTS if hard == resource.RLIM_INFINITY else min(hard, 4 * CLIENTS)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))  # inherited by the server's processes
    folder = tmp_path_factory.mktemp("race")
    running = start_server(demo_store(folder / "clinic.db"), folder / "server.log", workers=2)
    yield running
    running.stop()


async def _race(url: str, body: dict[str, Any]) -> list[tuple[int, Any]]:
    """POST ``body`` to $book from CLIENTS connections at once; (status, parsed body) of each answer."""
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        start = asyncio.Event()

        async def one() -> tuple[int, Any]:
            await start.wait()  # every task is ready before the first request leaves
            response = await client.post("/fhir/Appointment/$book", json=body)
            return response.status_code, response.json()

        tasks = [asyncio.create_task(one()) for _ in range(CLIENTS)]
        await asyncio.sleep(0)
        start.set()
        return await asyncio.gather(*tasks)


def test_a_thousand_clients_book_one_slot_exactly_once(two_workers: Server) -> None:
    """1,000 concurrent $book of one slot: one 200 (booked), 999 409 (fatal, not-found, naming the parameter);
    the store holds one booking at that time, its log one booking entry, and replay equals state; the server
    logged one line per request (route and status)."""
    proposed = find(two_workers, 1)[0]
    answers = asyncio.run(_race(two_workers.url, with_resource(proposed)))
    assert Counter(status for status, _ in answers) == {200: 1, 409: CLIENTS - 1}
    (winner,) = [body for status, body in answers if status == 200]
    booked = winner["entry"][0]["resource"]
    assert booked["status"] == "booked" and booked["start"] == proposed["start"]
    for status, body in answers:
        if status == 409:
            (issue,) = body["issue"]
            assert (issue["severity"], issue["code"]) == ("fatal", "not-found")
            assert issue["expression"] == ["Parameters.parameter[0].resource"]
    with CalendarStore(two_workers.db) as store:
        state = store.state()
        at_that_time = [a for a in state.appointments.values() if a.status == "booked"]
        assert [a.visit_number for a in at_that_time] == [booked["id"]]
        assert [e.kind for e in store.log()] == ["clinic", "booking"]
        assert store.replay() == state
        assert store.integrity() == "ok"
    assert proposed["start"] not in [a["start"] for a in find(two_workers, 4)]
    lines = _book_lines(two_workers)
    assert len(lines) == CLIENTS and not any("Traceback" in line for line in lines)


def _book_lines(server: Server) -> list[str]:
    """The server's log lines about $book, once each request's line is written (a worker writes it just after
    sending the answer, so the last ones may trail the answers by a moment)."""
    deadline = time.monotonic() + 30
    while True:
        lines = [line for line in server.log_text().splitlines() if "/fhir/Appointment/$book" in line]
        if len(lines) >= CLIENTS or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)
