"""The clinic cache of a long-running process (``ClinicCache``): the clinic row is versioned by triggers, a
cached store parses it once per version, writes exactly what an uncached store writes, prepares exactly the
calendars ``snapshot`` gives, and sees at once a clinic another connection writes."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any
from unittest.mock import patch

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotfinder import Settings, SlotRequest, VisitTypeFilter, demo_clinic, find_slots, find_slots_redox
from slotfinder._calendars import zones
from slotfinder._domain import Busy, BusyKind, Clinic, PatientId
from slotfinder._events import EventKind, SlotsPushed, VisitEvent
from slotfinder.store import CalendarStore, Proposal
from slotfinder.store._sqlite import ClinicCache
from tests.store.test_imports import FHIR_BUNDLE
from tests.store.test_state_properties import CLINIC, MONDAY, P1, P2, ZONE, messages, render
from tests.support import example, seed

VERSION_TRIGGERS = {"clinic_version_insert", "clinic_version_update", "clinic_version_delete"}
BEFORE = zones.to_datetime(zones.instant_of(ZONE, MONDAY, 7 * 60))  # Monday 07:00, before the morning's visits
REQUEST = SlotRequest(
    start=zones.instant_of(ZONE, MONDAY, 0),
    end=zones.instant_of(ZONE, MONDAY, 1440),
    visit_types=[VisitTypeFilter("OV")],
)
WIDE = Settings(limit=40, per_day=40, per_provider_day=40)


def connect(path: Path) -> closing[sqlite3.Connection]:
    """A plain SQLite connection (another program, or an older slotfinder, writing the file)."""
    return closing(sqlite3.connect(path, isolation_level=None))


def rows(path: Path) -> dict[str, Any]:
    """What a store wrote: log entries (without the time received), state tables, anomalies."""
    with connect(path) as db:
        return {
            "log": db.execute("SELECT seq, kind, digest, record, outcome FROM log ORDER BY seq").fetchall(),
            "clinic": db.execute("SELECT body FROM clinic").fetchall(),
            "appointments": db.execute("SELECT visit_number, record FROM appointments ORDER BY 1").fetchall(),
            "pushed": db.execute("SELECT id, record FROM pushed ORDER BY id").fetchall(),
            "anomalies": db.execute("SELECT seq, rule FROM anomalies ORDER BY seq, rowid").fetchall(),
        }


def slots_of(clinic: Any, now: dt.datetime) -> list[tuple[int, int, str, str, str | None]]:
    found = find_slots(clinic, REQUEST, WIDE, now, relax=False)
    return [(s.start, s.duration, s.provider.id, s.location.id, s.room) for s in found.slots]


# ---- the version ----------------------------------------------------------------------------------


def test_every_write_of_the_clinic_row_gives_it_a_new_version(tmp_path: Path) -> None:
    """load_clinic, import_calendar, rebuild, purge and any SQL writing the row (another program's) change the
    version; events, holds and settings do not."""
    path = tmp_path / "c.db"
    with CalendarStore(path) as store:
        seen = [store.clinic_version()]
        assert seen[0] is not None

        def changed() -> bool:
            version = store.clinic_version()
            fresh = version not in seen
            seen.append(version)
            return fresh

        store.load_clinic(demo_clinic())
        assert changed()
        store.load_clinic(demo_clinic())  # the same clinic again: still a new row, a new version
        assert changed()
        assert store.ingest(json.dumps(example("new.json"))).applied
        store.set_retention(30)
        store.set_reasons({"Lunch": None})
        assert not changed()
        store.import_calendar("fhir", json.dumps(FHIR_BUNDLE))
        assert changed()
        store.rebuild()
        assert changed()
        store.purge(dt.datetime.now(dt.UTC))
        assert changed()
        with connect(path) as other:
            other.execute("UPDATE clinic SET body = body")
        assert changed()
        with connect(path) as other:
            other.execute("DELETE FROM clinic")
        assert changed()
        assert store.clinic() is None


def test_a_store_made_before_the_version_gets_it_when_opened(tmp_path: Path) -> None:
    """A store of the same schema without the version triggers (made by an earlier slotfinder) gets them, and a
    version, the next time it is opened; from then on a write of the row changes the version."""
    path = tmp_path / "c.db"
    with CalendarStore(path) as store:
        store.load_clinic(demo_clinic())
    with connect(path) as db:
        for name in VERSION_TRIGGERS:
            db.execute(f"DROP TRIGGER {name}")
        db.execute("DELETE FROM settings WHERE key = 'clinic_version'")
    with CalendarStore(path) as store:
        with connect(path) as db:
            names = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert names >= VERSION_TRIGGERS
        first = store.clinic_version()
        assert first is not None
        with connect(path) as db:
            db.execute("UPDATE clinic SET body = body")
        assert store.clinic_version() not in (None, first)


# ---- a cached store ---------------------------------------------------------------------------------


def test_a_cached_store_parses_the_clinic_once_per_version(tmp_path: Path) -> None:
    """Events, snapshots and prepared calendars reuse the clinic parsed once; a new clinic is parsed once more."""
    cache = ClinicCache()
    with CalendarStore(tmp_path / "c.db", cache=cache) as store:
        store.load_clinic(demo_clinic())
        for number in range(5):
            message = example("new.json")
            message["Visit"]["VisitNumber"] = f"V-CACHE-{number}"
            assert store.ingest(json.dumps(message)).applied
            store.snapshot()
            store.prepared()
        assert cache.reads == 1
        store.load_clinic(attrs.evolve(demo_clinic(), name="Renamed"))
        assert store.clinic() == attrs.evolve(demo_clinic(), name="Renamed")
        assert cache.reads == 2


def test_the_same_state_is_prepared_once(tmp_path: Path) -> None:
    """Queries between two events share one prepared clinic; an event that changes nothing keeps it; one that
    changes the calendars makes the next."""
    cache = ClinicCache()
    with CalendarStore(tmp_path / "c.db", cache=cache) as store:
        store.load_clinic(demo_clinic())
        first = store.prepared()
        assert store.prepared() is first
        message = example("new.json")
        store.ingest(json.dumps(message))
        second = store.prepared()
        assert second is not first and cache.preparations == 2
        store.ingest(json.dumps(message))  # redelivered: the same state
        assert store.prepared() is second


@pytest.mark.parametrize("write", ["load", "import", "rebuild", "purge", "sql"])
def test_a_clinic_written_by_another_connection_is_seen_at_once(tmp_path: Path, write: str) -> None:
    """Two connections to one file, one with a warm cache: whatever the other does to the clinic row (a new
    clinic, an import, a rebuild, a purge, plain SQL), the cached one's next snapshot, prepared calendars and
    event equal those of a fresh connection."""
    path = tmp_path / "c.db"
    cache = ClinicCache()
    renamed = attrs.evolve(demo_clinic(), name="Renamed")
    with CalendarStore(path, cache=cache) as cached, CalendarStore(path) as other:
        other.load_clinic(demo_clinic())
        before = cached.prepared()
        assert cached.clinic() == demo_clinic()
        if write == "load":
            other.load_clinic(renamed)
        elif write == "import":
            other.import_calendar("fhir", json.dumps(FHIR_BUNDLE))
        elif write == "rebuild":
            other.rebuild()
        elif write == "purge":
            other.purge(dt.datetime.now(dt.UTC))  # the demo clinic's bookings (2025) ended: they go
        else:
            with connect(path) as db:
                db.execute("UPDATE clinic SET body = ?", (json.dumps({**json.loads(_body(path)), "name": "Renamed"}),))
        assert cache.reads == 1
        now = dt.datetime.now(dt.UTC)
        assert cached.snapshot(now) == other.snapshot(now)
        assert cached.prepared(now).clinic == other.snapshot(now)
        assert cache.reads == 2
        if write in ("load", "sql"):
            assert cached.clinic() == renamed
        if write in ("import", "purge"):
            assert cached.prepared(now).clinic != before.clinic
        message = example("new.json")
        message["Visit"]["VisitNumber"] = "V-20251021-0101"  # a booking of the clinic file: moved by the event
        cached.ingest(json.dumps(message))
        with CalendarStore(path) as fresh:
            assert cached.state() == fresh.state()
            assert write == "sql" or fresh.replay() == fresh.state()  # plain SQL wrote no log entry


def _body(path: Path) -> str:
    with connect(path) as db:
        (body,) = db.execute("SELECT body FROM clinic").fetchone()
    return str(body)


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(history=messages, prepared_at=st.lists(st.integers(0, 10), max_size=4))
def test_a_cached_store_writes_the_bytes_an_uncached_one_writes(
    tmp_path_factory: pytest.TempPathFactory, history: list[VisitEvent | SlotsPushed | str], prepared_at: list[int]
) -> None:
    """Fed the same messages, a store with a cache and one without answer the same (outcomes, anomalies) and
    write byte-identical records (log, state tables, anomalies); at any point, the cached store's prepared
    calendars are the uncached store's snapshot, and a search on them gives the same slots."""
    folder = tmp_path_factory.mktemp("cache")
    texts = [item if isinstance(item, str) else json.dumps(render(item)) for item in history]
    cache = ClinicCache()
    with CalendarStore(folder / "plain.db") as plain, CalendarStore(folder / "cached.db", cache=cache) as cached:
        for store in (plain, cached):
            store.load_clinic(CLINIC)
            store.set_reasons({"Lunch": None})
        for n, text in enumerate(texts):
            assert cached.ingest(text) == plain.ingest(text)
            if n in prepared_at:
                assert cached.prepared(BEFORE).clinic == plain.snapshot(BEFORE)
                assert slots_of(cached.prepared(BEFORE), BEFORE) == slots_of(plain.snapshot(BEFORE), BEFORE)
        assert cached.prepared(BEFORE).clinic == plain.snapshot(BEFORE)
        assert slots_of(cached.prepared(BEFORE), BEFORE) == slots_of(plain.snapshot(BEFORE), BEFORE)
    assert rows(folder / "cached.db") == rows(folder / "plain.db")
    assert cache.reads == 1


def test_holds_and_bookings_are_checked_on_the_prepared_calendars(tmp_path: Path) -> None:
    """Holds and bookings through a cached store: the same outcomes and records as without a cache (the same
    visit numbers given), and the prepared calendars equal the snapshot while a hold runs and after it lapses."""
    cache = ClinicCache()
    paths = (tmp_path / "plain.db", tmp_path / "cached.db")
    outcomes: list[list[tuple[str, Any]]] = []
    for path, with_cache in zip(paths, (None, cache), strict=True):
        numbers = iter(f"fhir-{n:032x}" for n in range(100))
        with (
            patch("slotfinder.store._sqlite.new_number", side_effect=lambda numbers=numbers: next(numbers)),
            CalendarStore(path, cache=with_cache) as store,
        ):
            store.load_clinic(CLINIC)
            outcomes.append(_reservations(store))
    assert outcomes[0] == outcomes[1]
    assert rows(paths[1]) == rows(paths[0])
    assert cache.reads == 1


def _reservations(store: CalendarStore) -> list[tuple[str, Any]]:
    """Holds, bookings and events on the small clinic; after each, the prepared calendars checked against the
    snapshot (while the holds run, and after they lapse)."""
    done: list[tuple[str, Any]] = []
    later = BEFORE + dt.timedelta(hours=1)
    patient = [PatientId("MRN-9", "MR")]

    def proposal(minute: int, provider: str = P1.id) -> Proposal:
        start = zones.instant_of(ZONE, MONDAY, minute)
        return Proposal(start, start + 30, provider, "loc-main", "OV", patient)

    held = store.hold_if_free(proposal(10 * 60), BEFORE + dt.timedelta(minutes=30), "", BEFORE)
    done.append(("hold", held))
    done.append(("hold again", store.hold_if_free(proposal(10 * 60), later, "", BEFORE)))
    done.append(("book", store.book_if_free(proposal(11 * 60), "", BEFORE)))
    done.append(("book taken", store.book_if_free(proposal(11 * 60), "", BEFORE)))
    assert held.appointment is not None
    done.append(("book held", store.book_held(held.appointment.visit_number, "", BEFORE)))
    lapsing = store.hold_if_free(proposal(9 * 60 + 30), BEFORE + dt.timedelta(minutes=5), "", BEFORE)
    done.append(("hold lapsing", lapsing))
    for now in (BEFORE, later):  # the second hold runs, then has lapsed
        assert store.prepared(now).clinic == store.snapshot(now)
        done.append(("slots", slots_of(store.prepared(now), now)))
    done.append(
        ("hold lapsed time", store.hold_if_free(proposal(9 * 60 + 30), later + dt.timedelta(hours=1), "", later))
    )
    event = VisitEvent(EventKind.NEW, "V9", zones.instant_of(ZONE, MONDAY, 9 * 60), 30, provider_id=P2.id)
    done.append(("event", store.ingest(json.dumps(render(event)))))
    assert store.prepared(later).clinic == store.snapshot(later)
    done.append(("slots", slots_of(store.prepared(later), later)))
    return done


def test_pushed_open_time_is_prepared_as_the_snapshot(tmp_path: Path) -> None:
    """Bookable pushed slots add open time (the blocks change): the prepared calendars still equal the snapshot
    and search the same, before, with and after a push replacing them."""
    cache = ClinicCache()
    with CalendarStore(tmp_path / "c.db", cache=cache) as store:
        store.load_clinic(CLINIC)
        for reason in ("Office Visit", "Lunch", "Office Visit", None):
            slot = {"ID": "s-1", "DateTime": _iso(13 * 60), "Duration": 60, "Reason": reason}
            slot["Provider"] = {"ID": P2.id, "IDType": "NPI"}
            slot["Location"] = {"Department": "3N", "Facility": "RES General Hospital"}
            message = {"Meta": {"DataModel": "Scheduling", "EventType": "PushSlots"}, "Slots": [slot]}
            assert store.ingest(json.dumps(message)).applied
            assert store.prepared(BEFORE).clinic == store.snapshot(BEFORE)
            assert slots_of(store.prepared(BEFORE), BEFORE) == slots_of(store.snapshot(BEFORE), BEFORE)


def _iso(minute: int) -> str:
    return zones.to_datetime(zones.instant_of(ZONE, MONDAY, minute)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_demo_clinic_prepared_answers_the_seed_query_as_the_snapshot(tmp_path: Path) -> None:
    """On the demo clinic (buffers, booking limits, rooms), after events that move its own bookings, the Redox
    answer on the prepared calendars is byte for byte the answer on the snapshot."""
    cache = ClinicCache()
    with CalendarStore(tmp_path / "c.db", cache=cache) as store:
        store.load_clinic(demo_clinic())
        filed = [b for b in demo_clinic().busy if b.visit_number and b.kind is BusyKind.BOOKING]
        assert filed
        for n, item in enumerate(filed[:4]):
            message = example("new.json")
            kind = ("Cancel", "Modification", "Reschedule", "NoShow")[n]
            message["Meta"]["EventType"] = kind
            message["Visit"].update(VisitNumber=item.visit_number, VisitDateTime=_later(item), Duration=30)
            assert store.ingest(json.dumps(message)).applied
            now = dt.datetime.now(dt.UTC)
            expected = find_slots_redox(seed(), store.snapshot(now), WIDE).to_json()
            assert find_slots_redox(seed(), store.prepared(now), WIDE).to_json() == expected


def _later(item: Busy) -> str:
    return zones.to_datetime(item.start + 60).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_clinic_the_cache_holds_is_the_parsed_row(tmp_path: Path) -> None:
    """The cached clinic is the clinic the row holds (not one built in Python before writing it)."""
    cache = ClinicCache()
    with CalendarStore(tmp_path / "c.db", cache=cache) as store:
        store.load_clinic(CLINIC)
        assert isinstance(store.clinic(), Clinic)
        assert store.clinic() == CalendarStore(tmp_path / "c.db").clinic() == CLINIC
