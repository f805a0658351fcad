"""Past saturation: queries beyond ``max_concurrent_queries`` wait a short while, then get 503 with Retry-After;
events always go through (they never wait for a query's turn), and nothing crashes or is lost."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import anyio
import httpx
from anyio import wait_all_tasks_blocked

from slotfinder.server._capacity import QueryGate
from slotfinder.server._config import ServerConfig
from slotfinder.store import CalendarStore
from tests.server.running import TOKEN, demo_store, start_server
from tests.support import example, seed

HEADERS = {"verification-token": TOKEN, "content-type": "application/json"}
QUERIES = 24
EVENTS = 8


def _gate(queue_seconds: float) -> QueryGate:
    return QueryGate(ServerConfig(db="unused.db", token="t", max_concurrent_queries=1, queue_seconds=queue_seconds))


async def _second_while_first_runs(gate: QueryGate, release_while_queued: bool) -> list[str]:
    """What two queries get when the second arrives while the first holds the only turn; the first lets go once
    the second waits in the queue, or only once the second is answered."""
    release = anyio.Event()
    found: list[str] = []

    async def held() -> str:
        await release.wait()
        return "first answered"

    async def second() -> str:
        return "second answered"

    async def first() -> None:
        found.append(await gate.run(held, lambda: "first refused"))

    async def release_when_all_wait() -> None:
        await wait_all_tasks_blocked()  # the second is in the queue
        release.set()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(first)
        await wait_all_tasks_blocked()  # the first holds the turn, waiting for release
        if release_while_queued:
            tasks.start_soon(release_when_all_wait)
        found.append(await gate.run(second, lambda: "second refused"))
        release.set()
    return found


def test_a_query_over_the_bound_is_refused_after_its_wait() -> None:
    assert sorted(anyio.run(_second_while_first_runs, _gate(0.01), False)) == ["first answered", "second refused"]


def test_a_query_over_the_bound_runs_when_a_turn_frees_up_in_time() -> None:
    assert sorted(anyio.run(_second_while_first_runs, _gate(60), True)) == ["first answered", "second answered"]


async def _flood(url: str, events: list[bytes]) -> tuple[list[httpx.Response], list[httpx.Response]]:
    limits = httpx.Limits(max_connections=QUERIES + EVENTS)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        query = json.dumps(seed()).encode()
        queries = [client.post("/redox", content=query, headers=HEADERS) for _ in range(QUERIES)]
        sent = [client.post("/redox", content=body, headers=HEADERS) for body in events]
        answers = await asyncio.gather(*queries, *sent)
    return list(answers[:QUERIES]), list(answers[QUERIES:])


def test_a_flood_of_queries_gets_503s_and_every_event_is_applied(tmp_path: Path) -> None:
    """One query at a time and almost no queue: a flood of queries is answered 200 or 503 (Retry-After, a path
    and a rule), never anything else; every event sent during the flood is applied and in the store."""
    config = tmp_path / "serve.toml"
    config.write_text("max_concurrent_queries = 1\nqueue_seconds = 0.001\n", encoding="utf-8")
    running = start_server(demo_store(tmp_path / "c.db"), tmp_path / "s.log", config=config)
    numbers = [f"FLOOD-{i}" for i in range(EVENTS)]
    events = []
    for number in numbers:
        message = example("new.json")
        message["Visit"]["VisitNumber"] = number
        events.append(json.dumps(message).encode())
    try:
        queries, applied = asyncio.run(_flood(running.url, events))
    finally:
        running.stop()
    counted = Counter(answer.status_code for answer in queries)
    assert set(counted) <= {200, 503} and counted[503] >= 1
    for answer in queries:
        if answer.status_code == 503:
            assert answer.headers["retry-after"] == "2"
            assert answer.json() == {"errors": [{"path": "$", "rule": "too many queries at once, retry later"}]}
    assert [answer.status_code for answer in applied] == [200] * EVENTS
    with CalendarStore(running.db) as store:
        assert set(numbers) <= set(store.state().appointments)
    refused = [line for line in running.logged_requests("/redox") if line["status"] == 503]
    assert len(refused) == counted[503] and all(line.get("queue") == "full" for line in refused)
