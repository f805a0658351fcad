"""Each worker's clinic cache (``ClinicCache``, ``docs/server.md`` "Load"): answers are the store's.

The server parses the clinic row once per version and searches a prepared copy of the store's calendars.
These tests hold it to the rule that this changes nothing a client can see: after every event, hold and
booking, a real server's answers (two worker processes, each with its own cache) are byte for byte the
answers computed afresh on ``CalendarStore.snapshot()``; and a clinic written by another process (``slotfinder
import``) is answered at once, by queries and by events.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from slotfinder import Settings, SlotRequest, VisitTypeFilter, demo_clinic, find_slots, find_slots_redox
from slotfinder._domain import ProviderFilter
from slotfinder.server import ServerConfig, create_app
from slotfinder.store import CalendarStore
from tests.server.fhir_client import ANA, booked_resource, find, operate, window, with_reference
from tests.server.running import Server, cli, demo_store, start_server
from tests.server.test_redox_destination import booking
from tests.store.test_imports import FHIR_BUNDLE
from tests.support import example, seed

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
STEPS = ("new", "new", "cancel", "reschedule", "linked", "modification", "noshow", "push", "hold", "book")


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[Server]:
    """``slotfinder serve --workers 2`` on a demo store; holds last a day (none lapses during a test)."""
    config = tmp_path / "serve.toml"
    config.write_text("hold_minutes = 1440\n", encoding="utf-8")
    running = start_server(demo_store(tmp_path / "clinic.db"), tmp_path / "server.log", config=config, workers=2)
    yield running
    running.stop()


def query(now: str) -> dict[str, Any]:
    """The seed's AvailableSlots query asked at ``now`` for the week from tomorrow (where FHIR holds land too)."""
    start, end = window()
    message = seed()
    message["Meta"]["EventDateTime"] = now
    message.update(StartDateTime=start, EndDateTime=end)
    return message


def expected(db: Path, message: dict[str, Any]) -> bytes:
    """The answer computed afresh: the store's snapshot read by a new connection, searched by the engine."""
    with CalendarStore(db) as store:
        return find_slots_redox(message, store.snapshot()).to_json().encode()


def fhir_expected(db: Path) -> list[str]:
    """The starts ``$find`` must propose for Ana's Office Visits (``fhir_client.find``), computed afresh."""
    start, end = window()
    request = SlotRequest(
        start=int((dt.datetime.fromisoformat(start) - EPOCH).total_seconds() // 60),
        end=int((dt.datetime.fromisoformat(end) - EPOCH).total_seconds() // 60),
        providers=[ProviderFilter(ANA, "NPI")],
        visit_types=[VisitTypeFilter("210", "DNER15")],
    )
    with CalendarStore(db) as store:
        found = find_slots(store.snapshot(), request, Settings(limit=4), dt.datetime.now(dt.UTC), relax=False)
    return [(EPOCH + dt.timedelta(minutes=s.start)).strftime("%Y-%m-%dT%H:%M:%SZ") for s in found.slots]


def visit(kind: str, slot: dict[str, Any], number: str, old: str | None = None) -> dict[str, Any]:
    """A Scheduling event of ``kind`` about visit ``number`` at ``slot`` (an AvailableSlots answer's slot)."""
    message = booking(slot, number)
    message["Meta"]["EventType"] = kind
    if old is not None:
        message["Visit"]["OldVisitNumber"] = old
    return message


def push(slot: dict[str, Any], reason: str) -> dict[str, Any]:
    """A PushSlots of one slot at ``slot``'s time for its provider and location, with ``reason``."""
    pushed = {
        "ID": f"push-{slot['DateTime']}",
        "DateTime": slot["DateTime"],
        "Duration": 60,
        "Reason": reason,
        "Provider": {"ID": slot["Provider"]["ID"], "IDType": "NPI"},
        "Location": {k: v for k, v in slot["Location"].items() if k in ("Facility", "Department") and v},
    }
    return {"Meta": {"DataModel": "Scheduling", "EventType": "PushSlots"}, "Slots": [pushed]}


def step(
    server: Server, kind: str, chance: random.Random, slots: list[dict[str, Any]], known: list[str], held: list[str]
) -> str:
    """One change of ``kind`` through the server, on random slots and visits: a Redox event, a FHIR hold or
    booking."""
    slot = chance.choice(slots) if slots else None
    filed = [b.visit_number for b in demo_clinic().busy if b.visit_number]  # the clinic file's own bookings
    number = f"V-CACHE-{len(known)}"
    if kind == "hold" or (kind == "book" and not held):
        proposals = find(server, 4)
        if proposals:
            answer = operate(server, "hold", with_reference(chance.choice(proposals)["id"]))
            assert answer.status_code in (200, 409), answer.text
            if answer.status_code == 200:
                held.append(booked_resource(answer)["id"])
        return kind
    if kind == "book":
        answer = operate(server, "book", with_reference(held.pop(chance.randrange(len(held)))))
        assert answer.status_code in (200, 409), answer.text
        return kind
    if slot is None:
        return "none"
    if kind == "new":
        message = visit("New", slot, number)
        known.append(number)
    elif kind == "push":
        message = push(slot, chance.choice(("Blocked", "Office Visit")))
    elif kind == "linked" and known:
        message = visit("Reschedule", slot, number, old=chance.choice(known))
        known.append(number)
    else:
        subject = chance.choice(known + filed[:2] if known else filed[:2])
        event = {"cancel": "Cancel", "noshow": "NoShow", "modification": "Modification"}.get(kind, "Reschedule")
        message = visit(event, slot, subject)
    answer = server.post(message)
    assert answer.status_code == 200 and answer.json()["outcome"] == "applied", answer.text
    return kind


@pytest.mark.parametrize("seed_value", [1, 2])
def test_every_answer_is_the_snapshots_answer(two_workers: Server, seed_value: int) -> None:
    """Random Redox events (New, Cancel, Reschedule, linked Reschedule, Modification, NoShow, PushSlots, on the
    answers' own slots and on the clinic file's bookings) and FHIR holds and bookings, each followed by queries:
    every AvailableSlots answer is byte for byte ``find_slots_redox`` on a fresh connection's snapshot, and
    every $find proposes the starts ``find_slots`` finds there."""
    chance = random.Random(seed_value)
    now = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:00.000Z")
    message = query(now)
    known: list[str] = []
    held: list[str] = []
    done: list[str] = []
    plan = list(STEPS) * 2
    chance.shuffle(plan)
    for kind in [*plan, "none"]:
        answers = [two_workers.post(message) for _ in range(2)]  # most likely one from each worker
        reference = expected(two_workers.db, message)
        for answer in answers:
            assert answer.status_code == 200
            assert answer.content == reference, done
        assert [a["start"] for a in find(two_workers, 4)] == fhir_expected(two_workers.db), done
        slots = answers[0].json()["AvailableSlots"]
        if kind != "none":
            done.append(step(two_workers, kind, chance, slots, known, held))
    assert set(done) == set(STEPS)


def modified_clinic(path: Path, answer: dict[str, Any]) -> Path:
    """The demo clinic with its first answered slot's provider busy at that time, and one more provider."""
    clinic = json.loads((Path(__file__).resolve().parents[2] / "slotfinder/data/demo_clinic.json").read_text())
    first = answer["AvailableSlots"][0]
    clinic["busy"].append(
        {"kind": "block", "start": first["DateTime"], "duration": 60, "provider_id": first["Provider"]["ID"]}
    )
    newcomer = copy.deepcopy(clinic["providers"][0])
    newcomer.update(id="1999999999", first_name="Nia", last_name="Newcomer")
    clinic["providers"].append(newcomer)
    path.write_text(json.dumps(clinic), encoding="utf-8")
    return path


def test_an_import_by_another_process_is_answered_at_once(two_workers: Server, tmp_path: Path) -> None:
    """Both workers answer (and so hold the clinic); ``slotfinder import`` of a changed clinic, then of a FHIR
    bundle, in another process: every next answer is the new snapshot's, and an event naming the new clinic's
    provider is applied against the new clinic (no "provider not in the clinic" anomaly)."""
    before = [two_workers.post(seed()) for _ in range(4)]
    assert {a.content for a in before} == {expected(two_workers.db, seed())}
    imported = cli("import", "--db", str(two_workers.db), str(modified_clinic(tmp_path / "c.json", before[0].json())))
    assert imported.returncode == 0, imported.stderr
    after = [two_workers.post(seed()) for _ in range(4)]
    assert {a.content for a in after} == {expected(two_workers.db, seed())}
    assert after[0].content != before[0].content  # the first slot is busy now
    message = example("new.json")
    message["Visit"]["VisitNumber"] = "V-NEWCOMER"
    message["Visit"]["AttendingProvider"]["ID"] = "1999999999"
    answers = [two_workers.post(message) for _ in range(2)]  # redelivered: whichever worker, the new clinic
    assert [a.json()["anomalies"] for a in answers] == [0, 0]
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps(FHIR_BUNDLE), encoding="utf-8")
    imported = cli("import", "--db", str(two_workers.db), str(bundle), "--from", "2025-10-01", "--to", "2025-12-31")
    assert imported.returncode == 0, imported.stderr
    assert {two_workers.post(seed()).content for _ in range(4)} == {expected(two_workers.db, seed())}


async def _requests(app: Any, db: Path) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    headers = {"verification-token": "redox"}
    answers = []
    async with httpx.AsyncClient(transport=transport, base_url="http://slotfinder", headers=headers) as client:
        for n in range(3):
            answers.append(await client.post("/redox", json=seed()))
            message = example("new.json")
            message["Visit"]["VisitNumber"] = f"V-APP-{n}"
            answers.append(await client.post("/redox", json=message))
            answers.append(await client.get("/fhir/Appointment/$find", params={"start": window()[0]}))
    return answers


def test_an_application_parses_the_clinic_once_per_version(tmp_path: Path) -> None:
    """Two applications on one store file, each with its own cache (``app.state.clinic_cache``): queries and
    events read the clinic once per application; after another connection loads a clinic, once more."""
    db = demo_store(tmp_path / "clinic.db")
    apps = [create_app(ServerConfig(db=str(db), token="redox")) for _ in range(2)]
    for app in apps:
        answers = asyncio.run(_requests(app, db))
        assert [a.status_code for a in answers] == [200] * len(answers)
        assert app.state.clinic_cache.reads == 1
    with CalendarStore(db) as other:
        other.load_clinic(demo_clinic())
    for app in apps:
        assert asyncio.run(_requests(app, db))[0].content == expected(db, seed())
        assert app.state.clinic_cache.reads == 2


async def _while_running(app: Any, prepared: bool) -> tuple[int, int]:
    """Run the application's lifespan (start-up) until its cache has read the clinic (and, when ``prepared``,
    prepared it), or a bound passes; then stop it."""
    cache = app.state.clinic_cache
    async with app.router.lifespan_context(app):
        for _ in range(1200):  # a bound on the wait (60 s), not a timing claim
            if cache.reads and (cache.preparations or not prepared):
                break
            await asyncio.sleep(0.05)
    return cache.reads, cache.preparations


def test_a_worker_fills_its_cache_when_it_starts(tmp_path: Path) -> None:
    """At start-up (the application's lifespan) a background task reads and prepares the clinic once, before
    any request asks for it; on a store without a clinic it leaves the cache empty."""
    db = demo_store(tmp_path / "clinic.db")
    assert asyncio.run(_while_running(create_app(ServerConfig(db=str(db), token="redox")), True)) == (1, 1)
    CalendarStore(tmp_path / "empty.db").close()
    empty = create_app(ServerConfig(db=str(tmp_path / "empty.db"), token="redox"))
    assert asyncio.run(_while_running(empty, False)) == (1, 0)
