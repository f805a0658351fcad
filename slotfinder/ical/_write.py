"""A provider's or a room's calendar written as iCalendar, so that reading it back gives the same time.

``write_ical`` is the inverse of ``calendars.ical.read_ical`` over a window of local dates: the busy
items of the provider (or room) become VEVENTs, and, for a provider, every block of working time
(templates, openings and open times, expanded by ``calendars.expand.expand_blocks``) becomes an
AVAILABLE of one VAVAILABILITY. Every time is written in UTC, one component per item, so nothing
depends on the reader's time zones or DST policy. What the engine needs beyond RFC 5545/7953 travels
in ``X-SLOTFINDER-*`` properties (kind, reserved visit types, release, room, location id, grid).

Patient identifiers are never written: a calendar file travels further than the clinic file. SUMMARY
is the kind of busy time ("Booked", "Hold", ...), never a name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter

import icalendar

from slotfinder._calendars import zones
from slotfinder._calendars.expand import Block, expand_blocks
from slotfinder._domain import MINUTES_PER_DAY, Busy, BusyKind, Clinic, Location
from slotfinder.ical._sources import (
    X_KIND,
    X_LOCATION,
    X_PROVIDER,
    X_RELEASE_BEFORE,
    X_RESERVED_FOR,
    X_ROOM,
    X_SLOT_LENGTH,
    X_VISIT_NUMBER,
    CalendarSource,
    check_source,
)

__all__ = ["write_ical"]

PRODID = "-//slotfinder//slotfinder calendars//EN"
_SUMMARY = {
    BusyKind.BOOKING: "Booked",
    BusyKind.HOLD: "Hold",
    BusyKind.BLOCK: "Blocked",
    BusyKind.OUT_OF_OFFICE: "Out of office",
    BusyKind.CLOSURE: "Closed",
}


def write_ical(
    clinic: Clinic,
    source: CalendarSource,
    first: dt.date,
    last: dt.date,
    *,
    stamp: dt.datetime | None = None,
) -> bytes:
    """The calendar of ``source`` on local dates ``first``..``last`` as iCalendar bytes.

    Busy items overlapping those dates (at the source's location) and, for a provider, working blocks
    starting on them are written; ``read_ical`` of the result over the same dates gives the same
    busy and open instants. ``stamp`` is the DTSTAMP (default: now); pass one for identical bytes.
    """
    if last < first:
        raise ValueError("last must not be before first")
    check_source(clinic, source)
    stamped = (stamp or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    locations = {loc.id: loc for loc in clinic.locations}
    zone = locations[source.location_id].time_zone
    window = (zones.instant_of(zone, first, 0), zones.instant_of(zone, last, MINUTES_PER_DAY))

    calendar = icalendar.Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    if source.provider_id is not None:
        calendar.add(X_PROVIDER, source.provider_id)
    else:
        calendar.add(X_ROOM, source.room)
    calendar.add(X_LOCATION, source.location_id)

    if source.provider_id is not None:
        blocks = [
            b
            for b in expand_blocks(clinic, first, last, providers=[source.provider_id])
            if first <= b.date <= last and b.provider_id == source.provider_id
        ]
        calendar.add_component(_availability(blocks, source, window, locations, stamped, first, last))

    uids: Counter[str] = Counter()
    for item in sorted(_busy_of(clinic, source, window), key=_busy_order):
        calendar.add_component(_event(item, source, locations, stamped, uids))
    return bytes(calendar.to_ical())


def _busy_of(clinic: Clinic, source: CalendarSource, window: tuple[int, int]) -> list[Busy]:
    def overlaps(item: Busy) -> bool:
        return item.start < window[1] and window[0] < item.end

    if source.provider_id is not None:
        return [b for b in clinic.busy if b.provider_id == source.provider_id and overlaps(b)]
    return [b for b in clinic.busy if b.location_id == source.location_id and b.room == source.room and overlaps(b)]


def _busy_order(item: Busy) -> tuple[int, int, str, str]:
    return item.start, item.end, item.kind.value, item.visit_number or ""


def _utc(instant: int) -> dt.datetime:
    return zones.to_datetime(instant)


def _place(location: Location) -> str:
    parts = [p for p in (location.facility, location.department) if p]
    return ", ".join(parts) or location.id


def _availability(
    blocks: list[Block],
    source: CalendarSource,
    window: tuple[int, int],
    locations: dict[str, Location],
    stamped: dt.datetime,
    first: dt.date,
    last: dt.date,
) -> icalendar.Availability:
    container = icalendar.Availability()
    container.add("UID", f"slotfinder-availability-{source.provider_id}-{first:%Y%m%d}-{last:%Y%m%d}")
    container.add("DTSTAMP", stamped)
    # The bounds cover every block written, so the reader's clipping to them changes nothing.
    container.add("DTSTART", _utc(min([window[0], *(b.start for b in blocks)])))
    container.add("DTEND", _utc(max([window[1], *(b.end for b in blocks)])))
    container.add("BUSYTYPE", "BUSY-UNAVAILABLE")
    container.add("SUMMARY", "Working hours")
    for n, block in enumerate(blocks):
        available = icalendar.Available()
        key = f"{block.provider_id}|{block.location_id}|{block.start}|{block.end}|{block.step}|{n}"
        available.add("UID", f"slotfinder-open-{hashlib.sha1(key.encode()).hexdigest()[:16]}")
        available.add("DTSTAMP", stamped)
        available.add("DTSTART", _utc(block.start))
        available.add("DTEND", _utc(block.end))
        available.add("LOCATION", _place(locations[block.location_id]))
        available.add(X_LOCATION, block.location_id)
        if block.room is not None:
            available.add(X_ROOM, block.room)
        if block.step < block.end - block.start:  # a step as long as the block: one start, as without a grid
            available.add(X_SLOT_LENGTH, str(block.step))
        if block.visit_types:
            available.add("CATEGORIES", list(block.visit_types))
        container.add_component(available)
    return container


def _event(
    item: Busy, source: CalendarSource, locations: dict[str, Location], stamped: dt.datetime, uids: Counter[str]
) -> icalendar.Event:
    event = icalendar.Event()
    # UIDs must be unique (the reader would take two equal ones for versions of one event).
    key = f"{item.kind.value}|{item.start}|{item.end}|{item.provider_id}|{item.location_id}|{item.room}"
    uid = item.visit_number or f"slotfinder-busy-{hashlib.sha1(key.encode()).hexdigest()[:16]}"
    uids[uid] += 1
    if uids[uid] > 1:
        uid = f"{uid}-{uids[uid]}"
    event.add("UID", uid)
    event.add("DTSTAMP", stamped)
    event.add("DTSTART", _utc(item.start))
    event.add("DTEND", _utc(item.end))
    event.add("SUMMARY", _SUMMARY[item.kind])
    event.add("STATUS", "TENTATIVE" if item.kind is BusyKind.HOLD else "CONFIRMED")
    event.add("TRANSP", "OPAQUE")
    kind = item.kind if item.kind is not BusyKind.CLOSURE else BusyKind.BLOCK
    event.add(X_KIND, kind.value)
    if item.visit_number is not None:
        event.add(X_VISIT_NUMBER, item.visit_number)
    if source.provider_id is not None:
        if item.location_id is not None:
            event.add("LOCATION", _place(locations[item.location_id]))
            event.add(X_LOCATION, item.location_id)
        if item.room is not None:
            event.add(X_ROOM, item.room)
    if item.reserved_for and item.kind is BusyKind.BLOCK:
        event.add(X_RESERVED_FOR, ",".join(item.reserved_for))
        if item.release_before is not None:
            event.add(X_RELEASE_BEFORE, str(item.release_before))
    return event
