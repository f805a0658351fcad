"""A ``kill -9`` of the server mid-stream, then Redox's redelivery: nothing acknowledged is lost, nothing is
applied twice.

Three feeds stream Scheduling New and Cancel messages (one at a time each, as Redox sends a feed); once some
are acknowledged the server process is killed with SIGKILL, wherever it is (in a commit, between a commit
and its 200, reading a body). A new server on the same store then receives, per feed, the last two
acknowledged messages again (their 200 may be what was lost, and Redox delivers at least once) and every
message from the first unacknowledged one on, in order.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from slotfinder.store import CalendarStore
from slotfinder.store._records import digest
from tests.server.running import TOKEN, Server, demo_store, start_server
from tests.support import example

FEEDS = 3
VISITS = 30  # per feed; every third is cancelled right after it is booked
KILL_AFTER = 25  # acknowledged messages, over all feeds, before the kill
HEADERS = {"verification-token": TOKEN, "content-type": "application/json"}


def feed(f: int) -> list[str]:
    """Feed ``f``'s messages, as the text sent (so each has one digest): New, and for every third visit Cancel."""
    texts = []
    for i in range(VISITS):
        message = copy.deepcopy(example("new.json"))
        message["Visit"]["VisitNumber"] = f"KILL-{f}-{i:03d}"
        message["Visit"]["VisitDateTime"] = f"2025-10-{20 + f:02d}T{13 + i // 4:02d}:{(i % 4) * 15:02d}:00Z"
        texts.append(json.dumps(message))
        if i % 3 == 0:
            message["Meta"]["EventType"] = "Cancel"
            texts.append(json.dumps(message))
    return texts


def applied(response: httpx.Response) -> bool:
    return response.status_code == 200 and response.json()["outcome"] == "applied"


class Feeder(threading.Thread):
    """Sends one feed in order until it ends or the server goes away; ``acked`` counts the 200s received."""

    def __init__(self, server: Server, texts: list[str]) -> None:
        super().__init__(daemon=True)
        self.server, self.texts, self.acked = server, texts, 0

    def run(self) -> None:
        with self.server.client() as client:
            for text in self.texts:
                try:
                    response = client.post("/redox", content=text.encode(), headers=HEADERS)
                except httpx.TransportError:  # killed: this one is not acknowledged
                    return
                if not applied(response):
                    return
                self.acked += 1


def _kill_mid_stream(server: Server, feeders: list[Feeder]) -> None:
    for feeder in feeders:
        feeder.start()
    deadline = time.monotonic() + 120  # a bound on the wait, not a timing assertion
    while sum(f.acked for f in feeders) < KILL_AFTER and time.monotonic() < deadline:
        time.sleep(0.005)
    server.process.kill()  # SIGKILL: no shutdown, no flush beyond what SQLite already synced
    server.process.wait()
    for feeder in feeders:
        feeder.join(timeout=60)


def _reference(path: Path, feeds: list[list[str]]) -> Any:
    """The state of a store that received each message exactly once, in feed order."""
    with CalendarStore(demo_store(path)) as store:
        for texts in feeds:
            for text in texts:
                assert store.ingest(text).applied
        return store.state()


def test_kill_9_mid_stream_then_redelivery_loses_nothing_and_applies_nothing_twice(tmp_path: Path) -> None:
    db = demo_store(tmp_path / "clinic.db")
    feeds = [feed(f) for f in range(FEEDS)]
    first = start_server(db, tmp_path / "first.log")
    feeders = [Feeder(first, texts) for texts in feeds]
    _kill_mid_stream(first, feeders)
    acked = [f.acked for f in feeders]
    assert sum(acked) >= KILL_AFTER and sum(acked) < sum(map(len, feeds))  # killed mid-stream
    with CalendarStore(db) as store:  # after the kill, before any redelivery: every 200 is committed
        logged = {entry.digest for entry in store.log()}
        assert all(digest(text) in logged for texts, n in zip(feeds, acked, strict=True) for text in texts[:n])
        assert store.integrity() == "ok"
    second = start_server(db, tmp_path / "second.log")
    try:
        with second.client() as client:
            for texts, n in zip(feeds, acked, strict=True):
                for text in texts[max(0, n - 2) :]:  # at least once: some acknowledged ones come again
                    assert applied(client.post("/redox", content=text.encode(), headers=HEADERS))
    finally:
        second.stop()
    with CalendarStore(db) as store:
        state = store.state()
        assert store.replay() == state
        assert store.integrity() == "ok"
        assert {entry.digest for entry in store.log()} >= {digest(text) for texts in feeds for text in texts}
    expected = _reference(tmp_path / "reference.db", feeds)
    assert state.appointments == expected.appointments  # each visit once, as if each message came once
    numbers = {f"KILL-{f}-{i:03d}" for f in range(FEEDS) for i in range(VISITS)}
    assert numbers <= set(state.appointments)
