"""Operations, end to end on a real ``slotfinder serve``: JSON log lines with request IDs and timings and no
message value; the request deadline bounding the solver (an answer it cuts is marked incomplete, not lost)."""

from __future__ import annotations

import contextlib
import copy
import json
import sqlite3
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
import pytest

from slotfinder.redox import with_visit_type
from slotfinder.server._capacity import MIN_TIME_LIMIT, search_settings, solver_limit
from slotfinder.server._config import ServerConfig
from slotfinder.server._maintenance import compaction, request_store
from slotfinder.store import CalendarStore
from tests.server.running import TOKEN, Server, demo_store, start_server
from tests.support import example, seed

# Values planted in messages, headers and URLs: none may reach the log.
SENTINELS = ("Quillon-8812", "Marrowby-3390", "1911-02-03", "MRN-55-0912-77", "VN-SENTINEL-6621", "chal-4419")
REQUEST_FIELDS = ("time", "level", "logger", "request_id", "method", "route", "status", "ms")
DEMO_REQUEST = json.loads(resources.files("slotfinder").joinpath("data/demo_request.json").read_text("utf-8"))


def planted_query() -> dict[str, Any]:
    message = seed()
    message["Patient"]["Demographics"].update(FirstName=SENTINELS[0], LastName=SENTINELS[1], DOB=SENTINELS[2])
    message["Patient"]["Identifiers"] = [{"ID": SENTINELS[3], "IDType": "MR"}]
    return message


def planted_event() -> dict[str, Any]:
    message = example("new.json")
    message["Visit"]["VisitNumber"] = SENTINELS[4]
    message["Patient"]["Identifiers"] = [{"ID": SENTINELS[3], "IDType": "MR"}]
    message["Patient"].setdefault("Demographics", {})["FirstName"] = SENTINELS[0]
    return message


def test_every_line_is_json_with_a_request_id_and_no_value_of_a_message(server: Server) -> None:
    """Each request is one JSON line (ID, method, route template, status, ms; a search's method, completeness and
    stage timings; an event's outcome); a safe X-Request-ID is honoured and echoed, an unsafe one replaced; no
    planted value (names, date of birth, identifiers, visit number, token, challenge, query string) is logged."""
    query = server.post(planted_query(), request_id="trace-0001.a_B")
    assert query.status_code == 200 and query.headers["x-request-id"] == "trace-0001.a_B"
    event = server.post(planted_event(), request_id=f"{SENTINELS[3]} x")  # a space: not a safe token
    assert event.status_code == 200
    generated = event.headers["x-request-id"]
    assert SENTINELS[3] not in generated and len(generated) == 32
    with server.client() as client:
        client.get("/redox", params={"challenge": SENTINELS[5], "verification-token": TOKEN})
        client.get(f"/redox/{SENTINELS[4]}", headers={"x-request-id": "other-path"})
        found = client.get(
            "/fhir/Appointment/$find",
            params={"start": "2030-01-07T00:00:00Z", "practitioner": SENTINELS[3]},
            headers={"x-request-id": "fhir-find"},
        )
    by_id = server.wait_logged({"trace-0001.a_B", generated, "other-path", "fhir-find"})
    text = server.log_text()
    assert not any(value in text for value in (*SENTINELS, TOKEN, "Traceback"))
    lines = server.log_lines()  # every line parses as JSON
    assert all({"time", "level", "logger"} <= set(line) for line in lines)
    requests = server.logged_requests()
    assert all(set(REQUEST_FIELDS) <= set(line) for line in requests)
    logged = by_id["trace-0001.a_B"]
    assert (logged["method"], logged["route"], logged["status"]) == ("POST", "/redox", 200)
    assert logged["search"]["method"] == "ranking" and logged["search"]["complete"] is True
    assert {"expand", "candidates", "solve"} <= set(logged["search"]["stage_ms"])
    assert by_id[generated]["outcome"] == "applied"
    assert by_id["other-path"]["route"] == "(other path)"
    assert (by_id["fhir-find"]["route"], by_id["fhir-find"]["status"]) == ("/fhir/Appointment/$find", found.status_code)


def test_the_solver_limit_is_cut_to_the_deadline_left() -> None:
    assert solver_limit(5.0, 60.0, 1.0) == 5.0
    assert solver_limit(5.0, 60.0, 57.5) == pytest.approx(2.5)
    assert solver_limit(5.0, 60.0, 75.0) == MIN_TIME_LIMIT  # late: a quick answer marked incomplete
    config = ServerConfig(db="unused.db", token="t", deadline_seconds=30, time_limit_seconds=7)
    assert search_settings(config).time_limit_seconds == 7  # outside a request: nothing has elapsed


def test_the_deadline_must_stay_inside_redox_round_trip() -> None:
    with pytest.raises(ValueError, match="deadline_seconds"):
        ServerConfig(db="unused.db", token="t", deadline_seconds=120)
    with pytest.raises(ValueError, match="max_concurrent_queries"):
        ServerConfig(db="unused.db", token="t", max_concurrent_queries=0)


def _two_participant_store(path: Path) -> Path:
    """The demo clinic plus composite 330: two providers at once (the engine needs CP-SAT for it)."""
    data = json.loads(resources.files("slotfinder").joinpath("data/demo_clinic.json").read_text("utf-8"))
    roles = [{"providers": ["1538296147"]}, {"providers": ["1093817264"]}]
    data["composites"].append({"code": "330", "steps": [{"visit_type": "210", "roles": roles}]})
    with CalendarStore(path) as store:
        store.load_clinic(data)
    return path


def test_a_search_past_its_deadline_is_answered_incomplete(tmp_path: Path) -> None:
    """With a deadline already spent when the solver starts, a search that needs CP-SAT is still answered 200,
    marked ``IsIncomplete`` (and logged ``complete: false``) rather than lost."""
    config = tmp_path / "serve.toml"
    config.write_text("deadline_seconds = 0.001\n", encoding="utf-8")
    running = start_server(_two_participant_store(tmp_path / "c.db"), tmp_path / "s.log", config=config)
    try:
        message = with_visit_type(copy.deepcopy(DEMO_REQUEST), "330")
        message["Visit"]["Locations"] = [{"Department": "3N"}]
        answer = running.post(message, request_id="deadline-1")
        assert answer.status_code == 200
        assert answer.json()["Meta"]["IsIncomplete"] is True
        assert running.wait_logged({"deadline-1"})["deadline-1"]["search"]["complete"] is False
    finally:
        running.stop()


def _owe_compaction(db: Path) -> None:
    with contextlib.closing(sqlite3.connect(db)) as connection:  # as a purge leaves it when readers hold the WAL
        connection.execute("INSERT OR REPLACE INTO settings(key, value) VALUES ('compact', 'pending')")
        connection.commit()


def _owed(db: Path) -> bool:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        return connection.execute("SELECT 1 FROM settings WHERE key = 'compact'").fetchone() is not None


def test_requests_leave_an_owed_compaction_to_the_background_task(tmp_path: Path) -> None:
    """A request's store never compacts (a VACUUM would stall it); the background task does, off the request
    path; ``has_clinic`` (what ``/readyz`` reads) looks up one row."""
    db = demo_store(tmp_path / "c.db")
    _owe_compaction(db)
    with request_store(str(db)) as store:
        assert store.has_clinic()
    assert _owed(db)

    async def until_compacted() -> None:
        async with compaction(str(db), every=0.01):
            with anyio.fail_after(60):  # a bound on the wait, not a timing assertion
                while _owed(db):
                    await anyio.sleep(0.01)

    anyio.run(until_compacted)
    assert not _owed(db)
    CalendarStore(tmp_path / "empty.db").close()
    with request_store(str(tmp_path / "empty.db")) as store:
        assert not store.has_clinic()


def test_readers_are_not_blocked_by_a_writer(server: Server) -> None:
    """While another connection holds the store's write lock (as a long event or a purge would), queries and the
    readiness probe are answered from the last commit (WAL): a blocked reader would wait out the busy timeout
    and answer 503."""
    with contextlib.closing(sqlite3.connect(server.db, isolation_level=None)) as writer:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE settings SET value = value")  # a write in progress, not committed
        try:
            assert server.post(seed()).status_code == 200
            with server.client() as client:
                assert client.get("/readyz").status_code == 200
        finally:
            writer.execute("ROLLBACK")
