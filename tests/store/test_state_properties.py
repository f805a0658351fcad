"""Properties of applying scheduling events: order between visits does not matter, duplicates do nothing,
and the SQLite store's tables always equal a replay of its log.

Histories are drawn as one list of visit events over a few visit numbers (New, Modification, Cancel,
NoShow, Reschedule in place, and Reschedules linking an old number to a new one); each number's own
sequence is the sub-list of events naming it, a linked Reschedule belonging to both. A reordering
keeps every number's own sequence (a random linear extension of that partial order).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from slotfinder._calendars.zones import instant_of
from slotfinder._domain import Busy, BusyKind, Clinic, Location, PatientId, Provider, VisitType, WeeklyTemplate
from slotfinder._events import EventKind, LocationRef, PushedSlot, SlotsPushed, StaffTime, VisitEvent
from slotfinder.redox._events import parse_event
from slotfinder.store._sqlite import CalendarStore, materialise
from slotfinder.store._state import Appointment, PushedEntry, ReasonMap, apply_push, apply_visit, from_busy

ZONE = "America/Chicago"
MONDAY = dt.date(2025, 6, 2)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
P1 = Provider("1111111111")
P2 = Provider("2222222222")
MAIN = Location("loc-main", facility="RES General Hospital", department="3N", time_zone=ZONE, rooms=("136", "137"))
ANNEX = Location("loc-annex", facility="RES Annex", department="2W", time_zone=ZONE)
NUMBERS = ("V0", "V1", "V2", "V3")
FILED = Busy(
    BusyKind.BOOKING,
    instant_of(ZONE, MONDAY, 9 * 60),
    instant_of(ZONE, MONDAY, 9 * 60 + 30),
    provider_id=P1.id,
    visit_number="V0",
    patients=(PatientId("MRN-0", "MR"),),
)
CLINIC = Clinic(
    providers=(P1, P2),
    locations=(MAIN, ANNEX),
    visit_types=(VisitType("OV", "DNE", "Office Visit", 30),),
    templates=(WeeklyTemplate(P1.id, MAIN.id, range(5), start=9 * 60, end=12 * 60),),
    busy=(FILED,),  # V0 is booked in the clinic file: events about V0 start from that record
)
REASONS = ReasonMap({"Lunch": None})
BASE = {"V0": from_busy(FILED)}  # what the store knows of V0 before any event names it
Known = dict[str, Appointment]

# ---- strategies -----------------------------------------------------------------------------------

starts = st.integers(0, 11).map(lambda k: instant_of(ZONE, MONDAY, 9 * 60 + 15 * k))
lengths = st.sampled_from((15, 30, 60))
locations = st.sampled_from(
    (
        None,
        LocationRef(department="3N", facility="RES General Hospital", room="136"),
        LocationRef(department="2W"),
        LocationRef(department="9Z", room="901"),  # no such location: kept with an anomaly
    )
)
staff_times = st.builds(
    lambda resource, start, length: StaffTime(resource[0], start, start + length, resource[1]),
    st.sampled_from(((P2.id, False), ("US-1", True))),
    starts,
    lengths,
)
KINDS = ("new", "modification", "cancel", "noshow", "reschedule", "linked")


@st.composite
def visit_events(draw: st.DrawFn) -> VisitEvent:
    """One visit event about the visit numbers of NUMBERS (a linked Reschedule names two of them)."""
    which = draw(st.sampled_from(KINDS))
    number = draw(st.sampled_from(NUMBERS))
    old = None
    if which == "linked":
        old = draw(st.sampled_from([n for n in NUMBERS if n != number]))
    kind = {
        "new": EventKind.NEW,
        "modification": EventKind.MODIFICATION,
        "cancel": EventKind.CANCEL,
        "noshow": EventKind.NO_SHOW,
    }.get(which, EventKind.RESCHEDULE)
    timed = kind not in (EventKind.CANCEL, EventKind.NO_SHOW) or draw(st.booleans())
    return VisitEvent(
        kind=kind,
        visit_number=number,
        start=draw(starts) if timed else None,
        duration=draw(lengths) if timed else None,
        provider_id=draw(st.sampled_from((P1.id, P2.id, "9999999999", None))),
        location=draw(locations),
        patients=draw(st.sampled_from(((), (PatientId("MRN-1", "MR"),)))),
        reason=draw(st.sampled_from(("Office Visit", None))),
        staff=sorted(draw(st.lists(staff_times, max_size=2)), key=lambda s: s.is_equipment),  # as Redox lists them
        old_visit_number=old,
    )


pushes = st.builds(
    SlotsPushed,
    st.lists(
        st.builds(
            PushedSlot,
            slot_id=st.sampled_from(("s-1", "s-2", None)),
            start=starts,
            duration=lengths,
            reason=st.sampled_from(("Office Visit", "Lunch", "Blocked", None)),
            provider_id=st.sampled_from((P1.id, P2.id, None)),
            location=locations,
        ),
        max_size=3,
    ),
)
BAD_MESSAGES = ("{not json", json.dumps({"Meta": {"DataModel": "Scheduling", "EventType": "New"}, "Visit": {}}))


def touched(event: VisitEvent) -> set[str]:
    """The visit numbers an event names (both, for a linked Reschedule)."""
    return {event.visit_number, event.old_visit_number or event.visit_number}


def reorder(data: st.DataObject, events: Sequence[VisitEvent]) -> list[VisitEvent]:
    """A random order of ``events`` that keeps the order of the events naming each visit number."""
    remaining = list(range(len(events)))
    order: list[int] = []
    while remaining:
        ready = [i for i in remaining if not any(j < i and touched(events[j]) & touched(events[i]) for j in remaining)]
        pick = data.draw(st.sampled_from(ready))
        order.append(pick)
        remaining.remove(pick)
    note(f"order: {order}")
    return [events[i] for i in order]


def fold(events: Iterable[VisitEvent], base: Mapping[str, Appointment] = BASE) -> tuple[Known, Counter[str]]:
    """The records events changed (``base``: records known beforehand), and the anomalies met."""
    state: Known = {}
    anomalies: Counter[str] = Counter()
    for event in events:
        changes, found = apply_visit({**base, **state}, event, CLINIC)
        state.update(changes)
        anomalies.update(found)
    return state, anomalies


# ---- the rules commute and are idempotent ---------------------------------------------------------


@settings(max_examples=200)
@given(st.lists(visit_events(), min_size=1, max_size=12), st.data())
def test_any_interleaving_keeping_each_visits_order_gives_the_same_state(
    events: list[VisitEvent], data: st.DataObject
) -> None:
    """Events of different visits commute: every order keeping each number's own order gives the same
    records and the same anomalies."""
    expected, anomalies = fold(events)
    reordered = reorder(data, events)
    assert fold(reordered) == (expected, anomalies)


@given(st.lists(visit_events(), min_size=1, max_size=12))
def test_each_visit_event_applied_twice_changes_nothing(events: list[VisitEvent]) -> None:
    """At every point of a history, applying the next event a second time changes no record."""
    state: Known = dict(BASE)
    for event in events:
        changes, _ = apply_visit(state, event, CLINIC)
        state.update(changes)
        again, _ = apply_visit(state, event, CLINIC)
        assert {n: state[n] for n in again} == again


@given(st.lists(pushes, min_size=1, max_size=6))
def test_each_push_applied_twice_changes_nothing(events: list[SlotsPushed]) -> None:
    """At every point of a history, applying the next PushSlots a second time changes no pushed slot."""
    pushed: list[PushedEntry] = []
    for event in events:
        pushed, _ = apply_push(pushed, event, CLINIC, REASONS)
        again, _ = apply_push(pushed, event, CLINIC, REASONS)
        assert again == pushed


# ---- Redox messages -------------------------------------------------------------------------------


def iso(instant: int) -> str:
    """An instant (minutes since the epoch) as a Redox UTC date-time."""
    return (EPOCH + dt.timedelta(minutes=instant)).strftime("%Y-%m-%dT%H:%M:%SZ")


def location_json(ref: LocationRef) -> dict[str, str]:
    """A LocationRef as a Redox Location object (fields that are None left out)."""
    fields = {"Department": ref.department, "Facility": ref.facility, "Room": ref.room, "Type": ref.type}
    return {k: v for k, v in fields.items() if v is not None}


def render(event: VisitEvent | SlotsPushed) -> dict[str, Any]:
    """An event as the Redox message that says it (what an EHR would send)."""
    if isinstance(event, SlotsPushed):
        slots = []
        for s in event.slots:
            slot: dict[str, Any] = {
                "ID": s.slot_id,
                "DateTime": iso(s.start),
                "Duration": s.duration,
                "Reason": s.reason,
            }
            if s.provider_id is not None:
                slot["Provider"] = {"ID": s.provider_id, "IDType": "NPI"}
            if s.location is not None:
                slot["Location"] = location_json(s.location)
            slots.append(slot)
        return {"Meta": {"DataModel": "Scheduling", "EventType": "PushSlots"}, "Slots": slots}
    visit: dict[str, Any] = {"VisitNumber": event.visit_number, "Reason": event.reason}
    if event.start is not None:
        visit["VisitDateTime"] = iso(event.start)
    if event.duration is not None:
        visit["Duration"] = event.duration
    if event.provider_id is not None:
        visit["AttendingProvider"] = {"ID": event.provider_id, "IDType": "NPI"}
    if event.location is not None:
        visit["Location"] = location_json(event.location)
    if event.old_visit_number is not None:
        visit["OldVisitNumber"] = event.old_visit_number
    visit["AdditionalStaff"] = [
        {"ID": s.resource, "StartDateTime": iso(s.start), "Duration": s.end - s.start}
        for s in event.staff
        if not s.is_equipment
    ]
    visit["Equipment"] = [
        {"Code": s.resource, "StartDateTime": iso(s.start), "Duration": s.end - s.start}
        for s in event.staff
        if s.is_equipment
    ]
    message: dict[str, Any] = {"Meta": {"DataModel": "Scheduling", "EventType": event.kind.value}, "Visit": visit}
    if event.patients:
        message["Patient"] = {"Identifiers": [{"ID": p.id, "IDType": p.id_type} for p in event.patients]}
    return message


@given(st.one_of(visit_events(), pushes))
def test_rendered_messages_parse_back_to_their_event(event: VisitEvent | SlotsPushed) -> None:
    """The renderer the store test uses says exactly the event: parsing its message gives the event back."""
    assert parse_event(json.loads(json.dumps(render(event)))) == event


# ---- the store ------------------------------------------------------------------------------------

messages = st.lists(st.one_of(visit_events(), visit_events(), pushes, st.sampled_from(BAD_MESSAGES)), max_size=10)


@settings(max_examples=60)
@given(history=messages, early=st.booleans())
def test_store_tables_equal_a_replay_of_its_log(
    tmp_path_factory: pytest.TempPathFactory, history: list[VisitEvent | SlotsPushed | str], early: bool
) -> None:
    """Fed Redox messages, the store's tables equal its replay and the rules applied to the applied events;
    rebuilding from the log leaves the state and the engine's snapshot unchanged."""
    path = tmp_path_factory.mktemp("store") / "calendar.sqlite"
    texts = [item if isinstance(item, str) else json.dumps(render(item)) for item in history]
    with CalendarStore(path) as store:
        if early and texts:  # a message before any clinic is loaded is rejected and never replayed
            assert not store.ingest(texts[0]).applied
        store.load_clinic(CLINIC)
        store.set_reasons({"Lunch": None})
        outcomes = [store.ingest(text).applied for text in texts]
        assert outcomes == [not isinstance(item, str) for item in history]

        state = store.state()
        assert state.clinic == CLINIC
        assert store.replay() == state

        visits = [item for item in history if isinstance(item, VisitEvent)]
        expected, _ = fold(visits)
        assert state.appointments == expected
        pushed: list[PushedEntry] = []
        for item in history:
            if isinstance(item, SlotsPushed):
                pushed, _ = apply_push(pushed, item, CLINIC, REASONS)
        assert state.pushed == tuple(pushed)

        snapshot = store.snapshot()
        assert snapshot == materialise(state)
        store.rebuild()
        assert store.state() == state
        assert store.snapshot() == snapshot
        assert store.integrity() == "ok"


# ---- purging ------------------------------------------------------------------------------------


def visible(clinic: Clinic, minute: int) -> tuple[Counter[Busy], Counter[Any]]:
    """What a search from ``minute`` on can meet: busy and open time that has not ended by then."""
    return Counter(b for b in clinic.busy if b.end > minute), Counter(o for o in clinic.open_times if o.end > minute)


def at(minutes_after_nine: int) -> int:
    """An instant on MONDAY, minutes after 09:00 local."""
    return instant_of(ZONE, MONDAY, 9 * 60 + minutes_after_nine)


def event(kind: EventKind, number: str, start: int | None = None, duration: int | None = None) -> VisitEvent:
    """A visit event of P1 at MAIN room 136 with a patient (a time only when given)."""
    where = LocationRef(department="3N", facility="RES General Hospital", room="136")
    return VisitEvent(kind, number, start, duration, P1.id, where, (PatientId("MRN-1", "MR"),), "Office Visit")


CANCELLED_THEN_NEW = [
    event(EventKind.NEW, "V1", at(0), 30),
    event(EventKind.CANCEL, "V1"),
    event(EventKind.NEW, "V1", at(90), 30),  # after the purge: stays cancelled, as without one
]
FILED_MOVED_EARLIER = [event(EventKind.MODIFICATION, "V0", at(0), 15)]  # the filed 09:00-09:30 booking


@settings(max_examples=40)
@given(history=messages, split=st.integers(0, 10), cutoff=starts)
@example(history=CANCELLED_THEN_NEW, split=2, cutoff=at(60))
@example(history=FILED_MOVED_EARLIER, split=1, cutoff=at(15))
def test_purge_keeps_the_replay_and_what_a_search_can_see(
    tmp_path_factory: pytest.TempPathFactory, history: list[VisitEvent | SlotsPushed | str], split: int, cutoff: int
) -> None:
    """Two stores fed the same history, one purged at a cutoff between the messages received before and
    after it (and between the visits' times): the purged one still replays to its state, keeps only the
    later entries, and shows a search exactly the busy and open time of the other from the cutoff on."""
    folder = tmp_path_factory.mktemp("purge")
    texts = [item if isinstance(item, str) else json.dumps(render(item)) for item in history]
    moment = EPOCH + dt.timedelta(minutes=cutoff)
    before, after = ((moment + dt.timedelta(hours=h)).isoformat(timespec="milliseconds") for h in (-24, 24))
    with CalendarStore(folder / "purged.sqlite") as purged, CalendarStore(folder / "kept.sqlite") as kept:
        for store in (purged, kept):
            with patch("slotfinder.store._sqlite._now_text", return_value=before):
                store.load_clinic(CLINIC)
                store.set_reasons({"Lunch": None})
                for text in texts[:split]:
                    store.ingest(text)
            with patch("slotfinder.store._sqlite._now_text", return_value=after):
                for text in texts[split:]:
                    store.ingest(text)
        done = purged.purge(moment)
        assert done.through == min(split, len(texts)) + 2
        assert [e.received_at for e in purged.log()] == [after] * (len(texts) - min(split, len(texts)))
        assert purged.replay() == purged.state()
        assert visible(purged.snapshot(), cutoff) == visible(kept.snapshot(), cutoff)
        assert purged.integrity() == "ok"
