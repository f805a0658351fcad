"""Holds and bookings written by the store (FHIR $hold/$book): checked free by the engine's own rules and
written in the same write transaction, so concurrent writers never both get one time; holds lapse."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import attrs
import pytest

from slotfinder._calendars import zones
from slotfinder._domain import BusyKind, PatientId, VisitType
from slotfinder.store import CalendarStore, Proposal
from tests.clinic_builders import MAIN, NOW, OV, P1, P2, PROC, at, clinic, day, weekly

WHEN = zones.to_datetime(NOW)
ECG = VisitType("ECG", "DNE", "Electrocardiogram", 30, equipment=("cart-1",))
LAB = attrs.evolve(MAIN, equipment=("cart-1",))


def store_at(path: Path, **options: object) -> CalendarStore:
    """A store holding a small clinic: P1 and P2 both work at MAIN on weekday mornings."""
    store = CalendarStore(path)
    templates = [weekly(), weekly(provider=P2.id)]
    store.load_clinic(clinic(templates=templates, **options))  # type: ignore[arg-type]
    return store


def ov(hhmm: str = "09:00", provider: str = P1.id, **fields: object) -> Proposal:
    start = at(day(0), hhmm)
    return Proposal(start, start + OV.duration, provider, MAIN.id, OV.code, **fields)  # type: ignore[arg-type]


def test_a_booking_is_written_once_and_replayed(tmp_path: Path) -> None:
    """The first book of a free time is ``booked`` (logged as kind booking, the record only); the second is
    ``taken`` and writes nothing; the state equals its replay."""
    with store_at(tmp_path / "c.db") as store:
        first = store.book_if_free(ov(patients=[PatientId("MR-1", "MR")]), "request text", WHEN)
        assert first.outcome == "booked" and first.appointment is not None
        assert first.appointment.status == "booked" and first.appointment.room is None
        log = store.log()
        assert [e.kind for e in log] == ["clinic", "booking"] and log[-1].seq == first.seq
        assert "request text" not in log[-1].record
        again = store.book_if_free(ov(), "", WHEN)
        assert (again.outcome, again.seq) == ("taken", None)
        assert len(store.log()) == 2
        assert store.replay() == store.state()
        busy = [b for b in store.snapshot(WHEN).busy if b.visit_number == first.appointment.visit_number]
        assert [(b.kind, b.provider_id) for b in busy] == [(BusyKind.BOOKING, P1.id)]


def test_the_engine_decides_what_is_free(tmp_path: Path) -> None:
    """What the search would not offer cannot be booked: off the grid, outside working hours, overlapping
    another booking of the provider, or of the patient with another provider."""
    with store_at(tmp_path / "c.db") as store:
        assert store.book_if_free(ov("09:05"), now=WHEN).outcome == "taken"
        assert store.book_if_free(ov("13:00"), now=WHEN).outcome == "taken"
        patient = [PatientId("MR-7", "MR")]
        assert store.book_if_free(ov("10:00", patients=patient), now=WHEN).outcome == "booked"
        assert store.book_if_free(ov("10:15"), now=WHEN).outcome == "taken"
        assert store.book_if_free(ov("10:15", P2.id, patients=patient), now=WHEN).outcome == "taken"
        assert store.book_if_free(ov("10:15", P2.id), now=WHEN).outcome == "booked"
        late = zones.to_datetime(at(day(0), "09:01"))
        assert store.book_if_free(ov("09:00"), now=late).outcome == "taken"  # no longer in the future


def test_equipment_is_occupied_by_a_booking(tmp_path: Path) -> None:
    """A visit type's equipment is written with the booking: the only ECG cart, booked with P1, is not free for
    P2 at the same time (the engine's equipment rule sees the booking)."""
    with store_at(tmp_path / "c.db", visit_types=[OV, ECG], locations=[LAB]) as store:
        start = at(day(0), "09:00")
        first = Proposal(start, start + 30, P1.id, MAIN.id, ECG.code)
        assert store.book_if_free(first, now=WHEN).outcome == "booked"
        assert store.book_if_free(attrs.evolve(first, provider_id=P2.id), now=WHEN).outcome == "taken"
        assert store.book_if_free(ov("09:00", P2.id), now=WHEN).outcome == "booked"


def test_a_hold_keeps_its_time_until_it_lapses(tmp_path: Path) -> None:
    """A hold is busy (kind HOLD) until its expiry, for everyone else; after it, the time is free again
    (nothing written); the holder books it with ``book_held`` while it holds."""
    with store_at(tmp_path / "c.db") as store:
        held = store.hold_if_free(ov(), WHEN + dt.timedelta(minutes=10), now=WHEN)
        assert held.outcome == "held" and held.appointment is not None
        number = held.appointment.visit_number
        assert held.appointment.held_until == "2025-05-26T05:10:00.000+00:00"
        kinds = [b.kind for b in store.snapshot(WHEN).busy if b.visit_number == number]
        assert kinds == [BusyKind.HOLD]
        assert not [b for b in store.snapshot(WHEN + dt.timedelta(minutes=10)).busy if b.visit_number == number]
        assert store.book_if_free(ov(), now=WHEN + dt.timedelta(minutes=9)).outcome == "taken"
        assert store.hold_if_free(ov(), WHEN + dt.timedelta(hours=1), now=WHEN).outcome == "taken"
        booked = store.book_held(number, now=WHEN + dt.timedelta(minutes=5))
        assert booked.outcome == "booked" and booked.appointment is not None
        assert (booked.appointment.visit_number, booked.appointment.held_until) == (number, None)
        assert store.book_held(number, now=WHEN).outcome == "taken"  # already booked
        assert store.book_held("fhir-unknown", now=WHEN).outcome == "unknown"
        assert store.replay() == store.state()


def test_a_lapsed_hold_is_booked_only_if_still_free(tmp_path: Path) -> None:
    """After the expiry someone else may book the time; the holder's late book is then ``taken``. A lapsed
    hold whose time stayed free is booked."""
    with store_at(tmp_path / "c.db") as store:
        later = WHEN + dt.timedelta(minutes=11)
        lost = store.hold_if_free(ov(), WHEN + dt.timedelta(minutes=10), now=WHEN).appointment
        assert lost is not None
        assert store.book_if_free(ov(), now=later).outcome == "booked"
        assert store.book_held(lost.visit_number, now=later).outcome == "taken"
        kept = store.hold_if_free(ov("11:00"), WHEN + dt.timedelta(minutes=10), now=WHEN).appointment
        assert kept is not None
        assert store.book_held(kept.visit_number, now=later).outcome == "booked"


def test_expiry_must_be_aware(tmp_path: Path) -> None:
    with store_at(tmp_path / "c.db") as store, pytest.raises(ValueError, match="aware"):
        store.hold_if_free(ov(), dt.datetime(2025, 6, 2, 9, 0), now=WHEN)  # noqa: DTZ001 - the case refused


def test_concurrent_connections_book_one_time_once(tmp_path: Path) -> None:
    """Sixteen connections (threads, each with its own SQLite connection: the store holds no Python lock)
    book the same time forty times each: one booking, every other attempt taken."""
    store_at(tmp_path / "c.db").close()

    def attempts(_: int) -> list[str]:
        with CalendarStore(tmp_path / "c.db") as own:
            return [own.book_if_free(ov("11:15"), now=WHEN).outcome for _ in range(40)]

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = [o for batch in pool.map(attempts, range(16)) for o in batch]
    assert outcomes.count("booked") == 1 and outcomes.count("taken") == 16 * 40 - 1
    with CalendarStore(tmp_path / "c.db") as store:
        assert [e.kind for e in store.log()] == ["clinic", "booking"]
        assert store.replay() == store.state()


def test_a_booking_record_keeps_no_free_text(tmp_path: Path) -> None:
    """The record written holds what the engine uses: times, provider, location, room, visit type, patient
    identifiers; nothing else is there to keep (a Proposal carries no name, birth date or text)."""
    fields = {a.name for a in attrs.fields(Proposal)}
    assert fields == {"start", "end", "provider_id", "location_id", "visit_type", "patients"}
    with store_at(tmp_path / "c.db", locations=[attrs.evolve(MAIN, rooms=("136",))]) as store:
        done = store.book_if_free(ov(patients=[PatientId("MR-9", "MR")]), now=WHEN)
        assert done.appointment is not None
        assert json.loads(store.log()[-1].record) == {
            "appointment": {
                "booking": True,
                "end": ov().end,
                "held_until": None,
                "location_id": "loc-main",
                "no_show": False,
                "patients": [{"id": "MR-9", "id_type": "MR"}],
                "pools": [],
                "provider_id": "1111111111",
                "room": None,
                "staff": [],
                "start": ov().start,
                "status": "booked",
                "visit_number": done.appointment.visit_number,
                "visit_type": "OV",
            }
        }


def test_a_version_1_store_is_upgraded_to_2_unchanged(tmp_path: Path) -> None:
    """Schema 2 (bookings and holds) is version 1 plus what only a newer store writes: a version-1 store is
    opened as it was, and marked 2 so that an older slotfinder refuses it (it would not count holds)."""
    with store_at(tmp_path / "c.db") as store:
        store.book_if_free(ov(), now=WHEN)
        before = store.state()
    with closing(sqlite3.connect(tmp_path / "c.db")) as raw:
        raw.execute("PRAGMA user_version = 1")
    with CalendarStore(tmp_path / "c.db") as store:
        assert store.state() == before and store.replay() == before
    with closing(sqlite3.connect(tmp_path / "c.db")) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == 2


def test_a_visit_needing_a_room_takes_one_and_keeps_it(tmp_path: Path) -> None:
    """A visit type that needs a room is written in the room the engine chose; two providers at one time take
    the two rooms; a hold booked keeps its room."""
    with store_at(tmp_path / "c.db") as store:
        start = at(day(0), "09:00")
        first = Proposal(start, start + PROC.duration, P1.id, MAIN.id, PROC.code)
        held = store.hold_if_free(first, WHEN + dt.timedelta(minutes=10), now=WHEN).appointment
        assert held is not None and held.room in MAIN.rooms
        other = store.book_if_free(attrs.evolve(first, provider_id=P2.id), now=WHEN).appointment
        assert other is not None and {held.room, other.room} == set(MAIN.rooms)
        booked = store.book_held(held.visit_number, now=WHEN).appointment
        assert booked is not None and booked.room == held.room
