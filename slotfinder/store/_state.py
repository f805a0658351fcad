"""Applying scheduling events to calendars: a pure function of (what is known, event) -> (what is known).

Each visit number's record changes only through events that name it, so events about different visits
commute: any interleaving that keeps each visit's own order gives the same state. Rules:

* New: the visit is booked (with a patient: a booking; without: a block). A New for a visit already
  cancelled (its Cancel came first) keeps it cancelled; a New for a booked visit replaces it. A booked
  visit's type is the clinic visit type whose code or description its Reason is (else none): the
  booking then keeps that type's buffers and counts toward booking limits by it.
* Reschedule: the old visit (``OldVisitNumber``, else the same number) is freed; the new one is booked
  (unless it is already cancelled: a cancelled visit number is never booked again).
* Modification: replaces the visit; an unknown visit is booked as given.
* Cancel: frees the visit; an unknown visit is remembered as cancelled, so its late New stays freed.
* NoShow: history only (the time stays as it was).
* PushSlots: per provider and location, replaces earlier pushed slots overlapping the span the message
  covers; a slot's Reason says (through ``ReasonMap``) for which visit types it is bookable; a slot
  that is not bookable is busy.
* FHIR holds and bookings (``_reserve.py``) set a record whole, under a number of the store's own; a
  ``held`` record is busy until its ``held_until`` instant and free after it (``holds_time``).
Whatever does not fit (unknown visit, unknown location, unmapped Reason) is applied as described and
recorded as an anomaly; nothing is dropped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
from attrs import field, frozen

from slotfinder._domain import Busy, BusyKind, Clinic, Need, OpenTime, PatientId
from slotfinder._errors import InvalidClinic, Problem
from slotfinder._events import EventKind, LocationRef, PushedSlot, SlotsPushed, StaffTime, VisitEvent

__all__ = [
    "Appointment",
    "PushedEntry",
    "ReasonMap",
    "StoreState",
    "apply_push",
    "apply_visit",
    "appointment_busy",
    "holds_time",
    "materialise",
    "pushed_items",
    "replace_pushed",
    "resolve_push",
    "utc_text",
]

BOOKED, CANCELLED, RESCHEDULED, UNKNOWN = "booked", "cancelled", "rescheduled", "unknown"
HELD = "held"  # a FHIR $hold: busy until ``held_until``, then free again (nothing is written when it lapses)


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


@frozen
class Appointment:
    """What is known of one visit number: status, times, resources and the patient's identifiers.

    No Reason or other free text: a record holds only what the fold and the engine use.
    """

    visit_number: str
    status: str  # booked, cancelled, rescheduled, held (FHIR $hold), or unknown (only a NoShow was heard)
    start: int | None = None
    end: int | None = None
    provider_id: str | None = None
    location_id: str | None = None
    room: str | None = None
    patients: tuple[PatientId, ...] = field(default=(), converter=_tuple)
    staff: tuple[StaffTime, ...] = field(default=(), converter=_tuple)
    no_show: bool = False
    visit_type: str | None = None  # the clinic's visit-type code its Reason names (buffers, booking limits)
    # Written by FHIR $hold/$book only (slotfinder.store._reserve):
    held_until: str | None = None  # a hold's expiry, UTC ISO 8601 with milliseconds (status held)
    booking: bool = False  # a visit booked or held for a patient: a booking even without patient identifiers
    pools: tuple[Need, ...] = field(default=(), converter=_tuple)  # pooled units of its location it occupies


@frozen
class PushedEntry:
    """One pushed slot as applied: open for ``visit_types`` when bookable, else busy."""

    provider_id: str
    location_id: str
    start: int
    end: int
    bookable: bool
    visit_types: tuple[str, ...] = field(default=(), converter=_tuple)
    slot_id: str | None = None
    room: str | None = None


@frozen
class ReasonMap:
    """Which pushed-slot Reasons are bookable, and for which visit types (empty tuple: any type).

    ``reasons`` maps a Reason (compared case-insensitively) to visit-type codes, or to None for "not
    bookable". Reasons not listed: a visit type's code or description names it, else not bookable.
    """

    reasons: Mapping[str, tuple[str, ...] | None] = field(factory=dict)

    def lookup(self, reason: str | None, clinic: Clinic) -> tuple[bool, tuple[str, ...], bool]:
        """(bookable, visit types, whether the Reason was known to the mapping or the clinic)."""
        key = (reason or "").strip().casefold()
        if not key:  # no Reason says nothing about bookability
            return False, (), False
        for name, codes in self.reasons.items():
            if name.strip().casefold() == key:
                return codes is not None, codes or (), True
        for vt in clinic.visit_types:
            if key in {vt.code.casefold(), (vt.description or "").strip().casefold()}:
                return True, (vt.code,), True
        return False, (), False


def resolve_location(ref: LocationRef | None, clinic: Clinic) -> str | None:
    """The clinic location a message names: department (and facility, when given) must match."""
    if ref is None or ref.department is None:
        return None
    for loc in clinic.locations:
        same_department = (loc.department or "").casefold() == ref.department.strip().casefold()
        same_facility = ref.facility is None or (loc.facility or "").casefold() == ref.facility.strip().casefold()
        if same_department and same_facility:
            return loc.id
    return None


def _booked(event: VisitEvent, number: str, clinic: Clinic, anomalies: list[str]) -> Appointment:
    location_id = resolve_location(event.location, clinic)
    if event.location is not None and location_id is None:
        anomalies.append(f"visit {number}: its location matches no clinic location (kept without one)")
    if event.provider_id is not None and event.provider_id not in {p.id for p in clinic.providers}:
        anomalies.append(f"visit {number}: its provider is not in the clinic (kept as given)")
    assert event.start is not None  # required for New, Reschedule and Modification by the parser
    assert event.duration is not None
    code = _visit_type(event.reason, clinic)
    return Appointment(
        visit_number=number,
        status=BOOKED,
        start=event.start,
        end=event.start + event.duration,
        provider_id=event.provider_id,
        location_id=location_id,
        room=event.location.room if event.location else None,
        patients=event.patients,
        staff=event.staff,
        visit_type=code,
        pools=_pooled_needs(clinic, code, location_id),
    )


def _pooled_needs(clinic: Clinic, code: str | None, location_id: str | None) -> tuple[Need, ...]:
    """The pooled units a visit of type ``code`` takes at its location (those the location pools)."""
    if code is None or location_id is None:
        return ()
    kinds = {pool.kind for loc in clinic.locations if loc.id == location_id for pool in loc.pools}
    return tuple(need for vt in clinic.visit_types if vt.code == code for need in vt.needs if need.kind in kinds)


def _visit_type(reason: str | None, clinic: Clinic) -> str | None:
    """The visit type whose code or description the visit's Reason is (case and spaces aside), if one is."""
    key = (reason or "").strip().casefold()
    for vt in clinic.visit_types:
        if key and key in {vt.code.strip().casefold(), (vt.description or "").strip().casefold()}:
            return vt.code
    return None


_Changes = tuple[dict[str, Appointment], list[str]]


def _new_or_modified(current: Appointment | None, event: VisitEvent, clinic: Clinic) -> _Changes:
    anomalies: list[str] = []
    number = event.visit_number
    booked = _booked(event, number, clinic, anomalies)
    if current is None:
        if event.kind is EventKind.MODIFICATION:
            anomalies.append(f"visit {number}: Modification of an unknown visit (booked as given)")
        return {number: booked}, anomalies
    if current.status in (CANCELLED, RESCHEDULED):
        anomalies.append(f"visit {number}: {event.kind.value} after the visit was {current.status} (stays freed)")
        return {number: attrs.evolve(booked, status=current.status, no_show=current.no_show)}, anomalies
    if (
        event.kind is EventKind.NEW
        and current.status == BOOKED
        and current != attrs.evolve(booked, no_show=current.no_show)
    ):
        anomalies.append(f"visit {number}: New for a visit already booked (applied as a Modification)")
    return {number: attrs.evolve(booked, no_show=current.no_show)}, anomalies


def _cancelled(current: Appointment | None, event: VisitEvent, _clinic: Clinic) -> _Changes:
    number = event.visit_number
    if current is None:
        rule = f"visit {number}: Cancel of an unknown visit (kept; a later New stays cancelled)"
        return {number: Appointment(number, CANCELLED)}, [rule]
    return {number: attrs.evolve(current, status=CANCELLED)}, []


def _no_show(current: Appointment | None, event: VisitEvent, _clinic: Clinic) -> _Changes:
    number = event.visit_number
    if current is None:
        return {number: Appointment(number, UNKNOWN, no_show=True)}, [f"visit {number}: NoShow of an unknown visit"]
    return {number: attrs.evolve(current, no_show=True)}, []


def _rescheduled(known: Mapping[str, Appointment | None], event: VisitEvent, clinic: Clinic) -> _Changes:
    anomalies: list[str] = []
    number = event.visit_number
    current = known.get(number)
    old_number = event.old_visit_number or number
    if old_number == number:
        booked = _booked(event, number, clinic, anomalies)
        if current is None:
            anomalies.append(f"visit {number}: Reschedule of an unknown visit (booked as given)")
            return {number: booked}, anomalies
        if current.status in (CANCELLED, RESCHEDULED):
            anomalies.append(f"visit {number}: Reschedule after the visit was {current.status} (stays freed)")
        status = current.status if current.status in (CANCELLED, RESCHEDULED) else BOOKED
        return {number: attrs.evolve(booked, status=status, no_show=current.no_show)}, anomalies
    old = known.get(old_number)
    if old is None:
        anomalies.append(f"visit {old_number}: rescheduled but unknown (recorded as rescheduled)")
        old = Appointment(old_number, RESCHEDULED)
    changes = {old_number: attrs.evolve(old, status=RESCHEDULED)}
    booked = _booked(event, number, clinic, anomalies)
    if current is not None and current.status in (CANCELLED, RESCHEDULED):
        anomalies.append(f"visit {number}: Reschedule onto a visit already {current.status} (stays freed)")
        booked = attrs.evolve(booked, status=current.status)
    changes[number] = booked
    return changes, anomalies


def apply_visit(known: Mapping[str, Appointment | None], event: VisitEvent, clinic: Clinic) -> _Changes:
    """The new records of the visit numbers ``event`` names, and the anomalies met."""
    current = known.get(event.visit_number)
    if event.kind in (EventKind.NEW, EventKind.MODIFICATION):
        return _new_or_modified(current, event, clinic)
    if event.kind is EventKind.CANCEL:
        return _cancelled(current, event, clinic)
    if event.kind is EventKind.NO_SHOW:
        return _no_show(current, event, clinic)
    return _rescheduled(known, event, clinic)


def holds_time(appointment: Appointment, now: str) -> bool:
    """Whether the record occupies its time at ``now`` (UTC ISO text): booked, or held and not yet expired."""
    if appointment.status == HELD:
        return appointment.held_until is not None and appointment.held_until > now
    return appointment.status == BOOKED


def appointment_busy(appointment: Appointment, now: str | None = None) -> list[Busy]:
    """The busy time a record stands for at ``now`` (UTC ISO text, as ``held_until``; default the wall clock):
    none once cancelled or rescheduled, once its hold lapsed, or without a time."""
    if (
        not holds_time(appointment, now or utc_text(dt.datetime.now(dt.UTC)))
        or appointment.start is None
        or appointment.end is None
    ):
        return []
    if appointment.status == HELD:
        kind = BusyKind.HOLD
    else:
        kind = BusyKind.BOOKING if appointment.patients or appointment.booking else BusyKind.BLOCK
    items = [
        Busy(
            kind,
            appointment.start,
            appointment.end,
            provider_id=appointment.provider_id,
            location_id=appointment.location_id if appointment.provider_id or appointment.room else None,
            room=appointment.room if appointment.location_id else None,
            visit_number=appointment.visit_number,
            patients=appointment.patients,
            visit_type=appointment.visit_type,
        )
    ]
    for staff in appointment.staff:
        items.append(
            Busy(
                kind,
                staff.start,
                staff.end,
                provider_id=None if staff.is_equipment else staff.resource,
                location_id=appointment.location_id if staff.is_equipment else None,
                equipment=staff.resource if staff.is_equipment else None,
                visit_number=appointment.visit_number,
            )
        )
    for need in appointment.pools if appointment.location_id else ():
        items.append(
            Busy(
                kind,
                appointment.start,
                appointment.end,
                location_id=appointment.location_id,
                visit_number=appointment.visit_number,
                visit_type=appointment.visit_type,
                pool=need.kind,
                pool_units=need.units,
            )
        )
    return [b for b in items if b.provider_id or b.location_id or b.equipment]


def from_busy(item: Busy) -> Appointment:
    """A clinic file's booking as a record, so events can change it by its visit number."""
    assert item.visit_number is not None
    return Appointment(
        visit_number=item.visit_number,
        status=BOOKED,
        start=item.start,
        end=item.end,
        provider_id=item.provider_id,
        location_id=item.location_id,
        room=item.room,
        patients=item.patients,
        visit_type=item.visit_type,
    )


def resolve_push(event: SlotsPushed, clinic: Clinic, reasons: ReasonMap) -> tuple[list[PushedEntry], list[str]]:
    """The pushed slots ``event`` stands for, located in ``clinic`` and made bookable (or not) by their
    Reason under ``reasons``; a slot without a provider or a known location is left out (an anomaly).

    The entries carry no Reason text: what it decided (bookable, for which visit types) is all they keep.
    """
    anomalies: list[str] = []
    groups: dict[tuple[str, str], list[PushedSlot]] = {}
    for i, slot in enumerate(event.slots):
        location_id = resolve_location(slot.location, clinic)
        if slot.provider_id is None or location_id is None:
            anomalies.append(f"pushed slot {i}: no provider or no known location (not applied)")
            continue
        groups.setdefault((slot.provider_id, location_id), []).append(slot)
    entries: list[PushedEntry] = []
    for (provider_id, location_id), slots in sorted(groups.items()):
        for slot in slots:
            bookable, types, known_reason = reasons.lookup(slot.reason, clinic)
            if not known_reason:
                anomalies.append(f"pushed slot {slot.slot_id or '?'}: Reason missing or not mapped (not bookable)")
            room = slot.location.room if slot.location else None
            entries.append(
                PushedEntry(provider_id, location_id, slot.start, slot.start + slot.duration, bookable, types,
                            slot.slot_id, room)
            )  # fmt: skip
    return entries, anomalies


def replace_pushed(pushed: Sequence[PushedEntry], entries: Sequence[PushedEntry]) -> list[PushedEntry]:
    """Pushed slots after adding ``entries``: per provider and location, earlier slots overlapping the span
    the new ones cover are replaced."""
    groups: dict[tuple[str, str], list[PushedEntry]] = {}
    for entry in entries:
        groups.setdefault((entry.provider_id, entry.location_id), []).append(entry)
    kept = list(pushed)
    for (provider_id, location_id), group in sorted(groups.items()):
        first = min(e.start for e in group)
        last = max(e.end for e in group)
        kept = [
            e
            for e in kept
            if not (e.provider_id == provider_id and e.location_id == location_id and e.start < last and first < e.end)
        ]
        kept += group
    kept.sort(key=lambda e: (e.provider_id, e.location_id, e.start, e.end, e.slot_id or ""))
    return kept


def apply_push(
    pushed: Sequence[PushedEntry], event: SlotsPushed, clinic: Clinic, reasons: ReasonMap
) -> tuple[list[PushedEntry], list[str]]:
    """Pushed slots after ``event``: per provider and location, those overlapping its span are replaced."""
    entries, anomalies = resolve_push(event, clinic, reasons)
    return replace_pushed(pushed, entries), anomalies


def pushed_items(entries: Iterable[PushedEntry]) -> tuple[list[OpenTime], list[Busy]]:
    """Pushed slots as open time (bookable) and busy time (not bookable)."""
    open_times: list[OpenTime] = []
    busy: list[Busy] = []
    for e in entries:
        if e.bookable:
            open_times.append(
                OpenTime(e.provider_id, e.location_id, e.start, e.end, None, e.visit_types, e.room, e.slot_id)
            )
        else:
            busy.append(Busy(BusyKind.BLOCK, e.start, e.end, provider_id=e.provider_id, visit_number=e.slot_id))
    return open_times, busy


@frozen
class StoreState:
    """The derived state: comparable between the tables and a replay of the log."""

    clinic: Clinic | None
    appointments: dict[str, Appointment]
    pushed: tuple[PushedEntry, ...]


def utc_text(moment: dt.datetime) -> str:
    """An aware instant as the store writes instants: UTC ISO 8601 with milliseconds (sorts as text)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def materialise(state: StoreState, now: dt.datetime | None = None) -> Clinic:
    """The clinic the engine searches: file busy time, replaced by visit number, plus pushed slots; a hold
    counts while it has not lapsed at ``now`` (default the wall clock)."""
    if state.clinic is None:
        raise InvalidClinic([Problem("$", "no clinic loaded in the store")])
    clinic = state.clinic
    at = utc_text(now or dt.datetime.now(dt.UTC))
    changed = set(state.appointments)
    busy = [b for b in clinic.busy if b.visit_number is None or b.visit_number not in changed]
    for number in sorted(state.appointments):
        busy += appointment_busy(state.appointments[number], at)
    open_times, pushed_busy = pushed_items(state.pushed)
    return attrs.evolve(clinic, busy=busy + pushed_busy, open_times=clinic.open_times + tuple(open_times))
