"""A brute-force reference for the engine's candidates, scores and top-K optimum (tests only).

Independent of the engine on purpose: it reads only ``slotfinder._domain`` and ``slotfinder._settings``
values, resolves wall times with the standard library's ``zoneinfo`` by trying the UTC offsets in
force around the date and keeping the readings that map back to the wall time, and decides freedom
minute by minute on ``bytearray`` maps (one byte per minute). Slow and obvious by design.

Semantics (the brief, sections 2-5, as the tests' task statement spells them out):

* a wall time in a spring-forward gap is read with the offset in force before the gap (so it lands
  the gap's length later); a wall time that occurs twice takes the earlier instant; 1440 is the
  next local midnight; a block whose end is not after its start is dropped;
* a candidate start lies on the grid of a block of the provider at the location that allows the
  visit type, the whole visit lies in the free time of (provider, location, visit type) -- the union
  of those blocks minus the provider's blocking items and the location's closures --, the patient
  has nothing then, and a room (when the visit type needs one) is the first eligible room free for
  all of the visit; an item keeps a room, like the provider, only if it blocks the visit's type
  (README: a reserved block naming a room keeps it for its reserved types);
* overlapping blocks: a start found in several counts once, from the earlier block (README);
* scheduling rules (docs/clinic-format.md): a date override replaces its provider's templates on its
  date (at its location, or everywhere) by its hours; starts follow the start alignment (block grid,
  wall-clock multiples, or the grid restarting where busy time ends); a visit type's own notice and
  its advance limit in local dates; rolling dates keep the first N local dates per location with an
  open start from now + notice on, found by the same rules before the window;
* buffers (docs/clinic-format.md): a busy item naming a visit type occupies its provider, room or
  equipment ``buffer_before`` minutes earlier and ``buffer_after`` later (painted so in every map);
  a new visit of a type with buffers also needs no item itself (unwidened) that would keep it out over
  the visit widened by its own buffers, for the provider, its room and its equipment, wherever the
  working time is; the patient's own items are checked over the visit only;
* pooled resources: a location's pool of a kind has N interchangeable units; an item with ``pool``
  takes ``pool_units`` of them (over its buffered minutes) when it would keep the visit's type out;
  a visit needing k units of a kind needs, at every minute of the visit, at most N - k taken, and at
  every minute of the visit widened by its own buffers at most N - k taken by the items themselves
  (a location without the kind, or with fewer than k units, offers no such visit); an item with a
  pool is not a closure;
* booking limits: a start is dropped when the provider's bookings (and holds, when they count) of the
  limit's types (an untyped item only for limits of every type), starting on the same local date at
  the new visit's location, in the same ISO week of those dates, or inside the block the start is
  found in, plus the new visit, would exceed a limit's visits or minutes;
* scores are the weighted sum of six terms, points are ``round(score * 1000)``; adjacency counts the
  sides where the visit itself touches a booking of the provider (README, since a83d907);
* the optimum maximises the number of slots (up to ``limit``) and then the total points, with at most
  ``per_day`` per local date, ``per_provider_day`` per provider and local date, and one per provider
  and start.

The minute maps cover the window with three days either side. A stretch of free time that reaches
the edge of that map is treated as unbounded on that side: the gap on that side is then longer than
any visit, so it is never a fragment.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from slotfinder._domain import (
    Busy,
    BusyKind,
    Clinic,
    LimitPeriod,
    Location,
    LocationFilter,
    Opening,
    PatientId,
    SlotRequest,
    VisitType,
    WeeklyTemplate,
)
from slotfinder._settings import Settings

__all__ = [
    "DAY",
    "EPOCH",
    "RefBlock",
    "RefCandidate",
    "Resolved",
    "expand",
    "feasible",
    "instant_of",
    "local_of",
    "once_per_start",
    "optimum",
    "optimum_exhaustive",
    "patient_matches",
    "reference_candidates",
    "resolve",
]

DAY = 1440
MARGIN = 3 * DAY  # minutes of calendar mapped either side of the window
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
EPOCH_DATE = dt.date(1970, 1, 1)
TERMS = ("preferred_day", "preferred_time", "earliness", "continuity", "fragmentation", "adjacency")


# ---- time ---------------------------------------------------------------------------------------


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@functools.cache
def utc_offset(zone: str, instant: int) -> int:
    """Minutes east of UTC in force at an instant (UTC -> local is never ambiguous)."""
    offset = (EPOCH + dt.timedelta(minutes=instant)).astimezone(_zone(zone)).utcoffset()
    assert offset is not None
    return offset // dt.timedelta(minutes=1)


def local_wall(zone: str, instant: int) -> int:
    """The local clock reading at an instant, as minutes since 1970-01-01T00:00 *local*."""
    return instant + utc_offset(zone, instant)


def local_of(zone: str, instant: int) -> tuple[dt.date, int]:
    """Local date and minute after local midnight at an instant."""
    days, minute = divmod(local_wall(zone, instant), DAY)
    return EPOCH_DATE + dt.timedelta(days=days), minute


@functools.cache
def instant_of(zone: str, date: dt.date, minute: int) -> int:
    """The instant of a wall time (``minute`` may be 1440) under the DST policy.

    Every offset in force within two days either side is tried; the readings whose instant shows
    that wall time on the clock are the real ones. One: that instant. Two (fall-back): the earlier.
    None (spring-forward gap): the reading with the offset in force before the gap. The zones used
    change offset at most once in any four days, so "before" and "after" are the only offsets.
    """
    wall = (date - EPOCH_DATE).days * DAY + minute
    before = utc_offset(zone, wall - 2 * DAY)
    after = utc_offset(zone, wall + 2 * DAY)
    readings = sorted({wall - before, wall - after})
    real = [u for u in readings if local_wall(zone, u) == wall]
    if real:
        return real[0]
    return wall - before


# ---- calendars ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefBlock:
    """One expanded block of working time, in instants."""

    provider_id: str
    location_id: str
    start: int
    end: int
    step: int
    visit_types: tuple[str, ...]
    room: str | None
    date: dt.date

    def allows(self, code: str | None) -> bool:
        return code is None or not self.visit_types or code in self.visit_types


def _dates(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    for n in range((last - first).days + 1):
        yield first + dt.timedelta(days=n)


def _template_on(template: WeeklyTemplate, date: dt.date) -> bool:
    return (
        date.weekday() in template.weekdays
        and (template.effective_from is None or template.effective_from <= date)
        and (template.effective_until is None or date <= template.effective_until)
    )


def _overridden(clinic: Clinic, template: WeeklyTemplate, date: dt.date) -> bool:
    return any(
        o.provider_id == template.provider_id and o.date == date and o.location_id in (None, template.location_id)
        for o in clinic.date_overrides
    )


def expand(clinic: Clinic, first: dt.date, last: dt.date, start_interval: int | None) -> list[RefBlock]:
    """Every block of every template, opening and date override on local dates ``first``..``last``.

    A template does not apply on a date a date override of its provider names, at its location or
    with no location (every location); the override's hours are openings on that date.
    """
    zone_of = {loc.id: loc.time_zone for loc in clinic.locations}
    rules: list[tuple[WeeklyTemplate | Opening, dt.date]] = []
    for template in clinic.templates:
        rules.extend(
            (template, date)
            for date in _dates(first, last)
            if _template_on(template, date) and not _overridden(clinic, template, date)
        )
    rules.extend((opening, opening.date) for opening in clinic.openings if first <= opening.date <= last)
    for override in clinic.date_overrides:
        if override.location_id is not None and first <= override.date <= last:
            for h in override.hours:
                hours = Opening(
                    override.provider_id,
                    override.location_id,
                    override.date,
                    start=h.start,
                    end=h.end,
                    slot_length=h.slot_length,
                    visit_types=h.visit_types,
                    room=h.room,
                )
                rules.append((hours, override.date))
    blocks = []
    for rule, date in rules:
        zone = zone_of[rule.location_id]
        start = instant_of(zone, date, rule.start)
        end = instant_of(zone, date, rule.end)
        if end <= start:
            continue
        step = start_interval if start_interval is not None else rule.slot_length
        blocks.append(
            RefBlock(rule.provider_id, rule.location_id, start, end, step, tuple(rule.visit_types), rule.room, date)
        )
    return blocks


def patient_matches(a: PatientId, b: PatientId) -> bool:
    """Same patient: IDs equal, and ID types equal unless either is missing."""
    return a.id == b.id and (a.id_type is None or b.id_type is None or a.id_type == b.id_type)


def _fold(text: str) -> str:
    return text.strip().casefold()


# ---- the request --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolved:
    """The request read against the clinic."""

    request_start: int
    earliest: int  # max(request start, now + notice)
    window_end: int
    providers: tuple[str, ...]
    locations: dict[str, frozenset[str] | None]  # location ID -> folded rooms allowed (None: any)
    visit_types: tuple[VisitType | None, ...]
    durations: tuple[int, ...]


def _location_rooms(location: Location, filters: Sequence[LocationFilter]) -> frozenset[str] | bool | None:
    """False: no filter matches; None: matches without room restriction; else the folded rooms allowed."""
    if not filters:
        return None

    def same(wanted: str | None, actual: str | None) -> bool:
        return wanted is None or (actual is not None and _fold(wanted) == _fold(actual))

    matching = [
        f
        for f in filters
        if (f.id is None or f.id == location.id)
        and same(f.facility, location.facility)
        and same(f.department, location.department)
        and same(f.type, location.type)
    ]
    if not matching:
        return False
    if any(f.room is None for f in matching):
        return None
    return frozenset(_fold(f.room) for f in matching if f.room is not None)


def resolve(clinic: Clinic, request: SlotRequest, settings: Settings, now: int) -> Resolved:
    """Window, providers, locations (with room restrictions), visit types and their durations."""
    end = request.end if request.end is not None else request.start + settings.default_horizon_days * DAY
    providers = tuple(
        p.id
        for p in clinic.providers
        if not request.providers
        or any(f.id == p.id and (f.id_type is None or f.id_type == p.id_type) for f in request.providers)
    )
    locations: dict[str, frozenset[str] | None] = {}
    for loc in clinic.locations:
        rooms = _location_rooms(loc, request.locations)
        if rooms is not False:
            locations[loc.id] = rooms if isinstance(rooms, frozenset) else None
    visit_types: tuple[VisitType | None, ...]
    if request.visit_types:
        visit_types = tuple(
            v
            for v in clinic.visit_types
            if any(f.code == v.code and (f.codeset is None or f.codeset == v.codeset) for f in request.visit_types)
        )
    else:
        visit_types = (None,)
    asked = [p.duration for p in request.preferences if p.duration is not None]
    durations = tuple(
        asked[0] if asked else (v.duration if v is not None else clinic.default_duration) for v in visit_types
    )
    return Resolved(
        request_start=request.start,
        earliest=max(request.start, now + settings.min_notice_minutes),
        window_end=end,
        providers=providers,
        locations=locations,
        visit_types=visit_types,
        durations=durations,
    )


# ---- candidates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefCandidate:
    """One open start, as the reference finds it."""

    start: int
    duration: int
    provider_id: str
    location_id: str
    visit_type: str | None
    room: str | None
    local_date: dt.date
    local_minute: int
    terms: dict[str, float] = field(compare=False)
    score: float
    points: int
    eligible: bool
    block: tuple[int, int, tuple[str, ...], str] = field(compare=False)  # the block it was found in

    @property
    def offer(self) -> tuple[int, str, str, str | None]:
        """What counts once: start, provider, location, visit type."""
        return (self.start, self.provider_id, self.location_id, self.visit_type)

    @property
    def key(self) -> tuple[int, str, str, str | None, str | None]:
        return (self.start, self.provider_id, self.location_id, self.visit_type, self.room)


class _Map:
    """One byte per minute over [lo, hi)."""

    def __init__(self, lo: int, hi: int) -> None:
        self.lo, self.hi = lo, hi
        self.bytes = bytearray(hi - lo)

    def paint(self, start: int, end: int, value: int) -> None:
        a, z = max(start, self.lo) - self.lo, min(end, self.hi) - self.lo
        if a < z:
            self.bytes[a:z] = bytes([value]) * (z - a)

    def all_set(self, start: int, end: int) -> bool:
        assert self.lo <= start
        assert end <= self.hi
        return self.bytes.find(0, start - self.lo, end - self.lo) == -1

    def none_set(self, start: int, end: int) -> bool:
        assert self.lo <= start
        assert end <= self.hi
        return self.bytes.find(1, start - self.lo, end - self.lo) == -1

    def runs(self) -> list[tuple[int | None, int | None]]:
        """Maximal stretches of set minutes; None marks a side that reaches the map's edge."""
        out: list[tuple[int | None, int | None]] = []
        i = self.bytes.find(1)
        while i != -1:
            j = self.bytes.find(0, i)
            end = len(self.bytes) if j == -1 else j
            out.append((None if i == 0 else i + self.lo, None if end == len(self.bytes) else end + self.lo))
            if j == -1:
                break
            i = self.bytes.find(1, j)
        return out


def _stretch(runs: list[tuple[int | None, int | None]], start: int, end: int) -> tuple[int | None, int | None]:
    for a, b in runs:
        if (a is None or a <= start) and (b is None or end <= b):
            return a, b
    raise AssertionError("a visit in free time lies in some stretch of it")


def _aligned_starts(block: RefBlock, alignment: str, zone: str, free: _Map, working: bytes) -> Iterator[int]:
    """The block's starts under the start alignment (README):

    * ``block``: every ``step`` minutes from the block's start;
    * ``clock``: every minute of the block whose local clock reading (minutes after local midnight)
      is a multiple of ``step`` -- whatever the offset, so a repeated hour has its readings twice;
    * ``after_busy``: every ``step`` minutes from the block's start or from the latest minute inside
      the block where busy time ended (the minute before it working but not free, the minute free).
    """
    if alignment == "block":
        yield from range(block.start, block.end, block.step)
    elif alignment == "clock":
        yield from (u for u in range(block.start, block.end) if local_of(zone, u)[1] % block.step == 0)
    else:
        anchor = block.start
        for u in range(block.start, block.end):
            i = u - free.lo
            inside = u > block.start and 0 < i < len(working)
            if inside and working[i - 1] and not free.bytes[i - 1] and free.bytes[i]:
                anchor = u
            if (u - anchor) % block.step == 0:
                yield u


def _in_horizon(visit_type: VisitType | None, zone: str, start: int, now: int) -> bool:
    """The visit type's own notice (the settings' is in the window) and advance limit, in local dates."""
    if visit_type is None:
        return True
    if start < now + visit_type.min_notice_minutes:
        return False
    if visit_type.max_advance_days is None:
        return True
    return (local_of(zone, start)[0] - local_of(zone, now)[0]).days <= visit_type.max_advance_days


def _rolling_dates(
    candidates: list[RefCandidate], open_dates: set[tuple[str | None, str, dt.date]], search: Resolved
) -> list[RefCandidate]:
    """A candidate of a visit type with ``rolling_dates`` N is kept when fewer than N earlier local dates
    at its location have an open start of its type from now on (in the window, or before it)."""
    limit = {v.code: v.rolling_dates for v in search.visit_types if v is not None and v.rolling_dates is not None}
    dates = open_dates | {(c.visit_type, c.location_id, c.local_date) for c in candidates}

    def kept(c: RefCandidate) -> bool:
        if c.visit_type not in limit:
            return True
        earlier = {d for code, loc, d in dates if (code, loc) == (c.visit_type, c.location_id) and d < c.local_date}
        return len(earlier) < limit[c.visit_type]

    return [c for c in candidates if kept(c)]


def _within_limits(
    clinic: Clinic, provider_id: str, code: str | None, duration: int, zone: str, start: int, block: RefBlock
) -> bool:
    """Whether one more visit (``code``, ``duration``) at ``start`` keeps the provider within every booking
    limit that applies to it, counting the items the limit counts in the same period, item by item."""
    date = local_of(zone, start)[0]
    kinds = {BusyKind.BOOKING, BusyKind.HOLD} if clinic.limits_count_holds else {BusyKind.BOOKING}
    for limit in clinic.booking_limits:
        if limit.providers and provider_id not in limit.providers:
            continue
        if limit.visit_types and code not in limit.visit_types:
            continue
        counted = [
            item
            for item in clinic.busy
            if item.kind in kinds
            and item.provider_id == provider_id
            and (not limit.visit_types or item.visit_type in limit.visit_types)
        ]
        if limit.period is LimitPeriod.DAY:
            same = [item for item in counted if local_of(zone, item.start)[0] == date]
        elif limit.period is LimitPeriod.WEEK:
            week = date.isocalendar()[:2]
            same = [item for item in counted if local_of(zone, item.start)[0].isocalendar()[:2] == week]
        else:
            same = [item for item in counted if block.start <= item.start < block.end]
        if limit.max_visits is not None and len(same) + 1 > limit.max_visits:
            return False
        if limit.max_minutes is not None and sum(item.end - item.start for item in same) + duration > limit.max_minutes:
            return False
    return True


def reference_candidates(clinic: Clinic, request: SlotRequest, settings: Settings, now: int) -> list[RefCandidate]:
    """Every candidate, one per (block, start) that qualifies: duplicates from overlapping blocks kept."""
    search = resolve(clinic, request, settings, now)
    # Rolling dates are counted from now: starts from now + notice are found, those before the window
    # only to count the dates that have one (see _rolling_dates).
    rolling = any(v is not None and v.rolling_dates is not None for v in search.visit_types)
    lowest = now + settings.min_notice_minutes if rolling else search.earliest
    lo, hi = min(search.request_start, lowest) - MARGIN, search.window_end + MARGIN
    first = (EPOCH + dt.timedelta(minutes=lo)).date() - dt.timedelta(days=1)
    last = (EPOCH + dt.timedelta(minutes=hi)).date() + dt.timedelta(days=1)
    blocks = [
        b
        for b in expand(clinic, first, last, settings.start_interval)
        if b.provider_id in search.providers and b.location_id in search.locations
    ]
    zone_of = {loc.id: loc.time_zone for loc in clinic.locations}
    location_of = {loc.id: loc for loc in clinic.locations}
    buffers = {v.code: (v.buffer_before, v.buffer_after) for v in clinic.visit_types}

    def occupied(item: Busy) -> tuple[int, int]:
        """The minutes an item keeps its resources: its own, widened by its visit type's buffers."""
        before, after = buffers.get(item.visit_type or "", (0, 0))
        return item.start - before, item.end + after

    def widened(visit_type: VisitType | None, start: int, end: int) -> tuple[int, int]:
        """A new visit with its own buffers."""
        if visit_type is None:
            return start, end
        return start - visit_type.buffer_before, end + visit_type.buffer_after

    patient_items = [
        b for b in clinic.busy if any(patient_matches(p, q) for p in request.patient_ids for q in b.patients)
    ]
    patient = _Map(lo, hi)
    for item in patient_items:
        patient.paint(item.start, item.end, 1)
    continuity = set(settings.preferred_providers) | {b.provider_id for b in patient_items if b.provider_id}

    def closure_of(item: Busy, location_id: str) -> bool:
        return (
            item.provider_id is None
            and item.room is None
            and item.equipment is None
            and item.pool is None
            and item.location_id == location_id
        )

    resource_maps: dict[tuple[str, str, str, str | None], _Map] = {}

    def resource_busy(location_id: str, attribute: str, name: str, code: str | None) -> _Map:
        """Minutes a room or equipment unit (``attribute`` of the items) cannot serve a visit of ``code``:
        items on it, and closures, that block the type."""
        key = (location_id, attribute, name, code)
        if key not in resource_maps:
            busy = _Map(lo, hi)
            for item in clinic.busy:
                if keeps_resource(item, location_id, attribute, name, code):
                    busy.paint(*occupied(item), 1)
            resource_maps[key] = busy
        return resource_maps[key]

    def keeps_resource(item: Busy, location_id: str, attribute: str, name: str, code: str | None) -> bool:
        on_it = item.location_id == location_id and getattr(item, attribute) == name
        return (on_it or closure_of(item, location_id)) and item.blocks(code, now)

    def resource_free(
        location_id: str, attribute: str, name: str, visit_type: VisitType | None, start: int, end: int
    ) -> bool:
        """The room or unit is free for the visit (items with their buffers), and no item itself lies in
        the visit's own buffers."""
        code = None if visit_type is None else visit_type.code
        if not resource_busy(location_id, attribute, name, code).none_set(start, end):
            return False
        reach_start, reach_end = widened(visit_type, start, end)
        return not any(
            keeps_resource(item, location_id, attribute, name, code)
            and item.start < reach_end
            and reach_start < item.end
            for item in clinic.busy
        )

    pool_maps: dict[tuple[str, str, str | None, bool], list[int]] = {}

    def pool_occupied(location_id: str, kind: str, code: str | None, buffered: bool) -> list[int]:
        """Units of the pooled ``kind`` at the location taken, minute by minute, by the items that keep a
        visit of ``code`` out (with their buffers when ``buffered``)."""
        key = (location_id, kind, code, buffered)
        if key not in pool_maps:
            counts = [0] * (hi - lo)
            for item in clinic.busy:
                if item.location_id == location_id and item.pool == kind and item.blocks(code, now):
                    a, b = occupied(item) if buffered else (item.start, item.end)
                    for m in range(max(a, lo), min(b, hi)):
                        counts[m - lo] += item.pool_units
            pool_maps[key] = counts
        return pool_maps[key]

    def pools_free(location_id: str, visit_type: VisitType, start: int, end: int) -> bool:
        """Every minute of the visit leaves the units it needs of each kind free (items with their buffers),
        and so does every minute of the visit with its own buffers (the items themselves)."""
        total = {p.kind: p.units for p in location_of[location_id].pools}
        for need in visit_type.needs:
            spare = total.get(need.kind, 0) - need.units
            if spare < 0:
                return False
            taken = pool_occupied(location_id, need.kind, visit_type.code, True)
            if max(taken[start - lo : end - lo]) > spare:
                return False
            reach_start, reach_end = widened(visit_type, start, end)
            taken = pool_occupied(location_id, need.kind, visit_type.code, False)
            if max(taken[reach_start - lo : reach_end - lo]) > spare:
                return False
        return True

    alignment = (settings.start_alignment or clinic.start_alignment).value
    open_dates: set[tuple[str | None, str, dt.date]] = set()  # (code, location, local date) with a start
    out: list[RefCandidate] = []
    for visit_type, duration in zip(search.visit_types, search.durations, strict=True):
        code = None if visit_type is None else visit_type.code
        for provider_id in search.providers:
            for location_id, allowed in search.locations.items():
                own = [
                    b for b in blocks if (b.provider_id, b.location_id) == (provider_id, location_id) and b.allows(code)
                ]
                if not own:
                    continue
                free = _Map(lo, hi)
                for own_block in own:
                    free.paint(own_block.start, own_block.end, 1)
                working = bytes(free.bytes)  # before busy time is taken out: where busy time ends (after_busy)
                for item in clinic.busy:
                    if item.blocks(code, now) and (item.provider_id == provider_id or closure_of(item, location_id)):
                        free.paint(*occupied(item), 0)
                keeping = [  # the items themselves, for the new visit's own buffers
                    item
                    for item in clinic.busy
                    if item.blocks(code, now) and (item.provider_id == provider_id or closure_of(item, location_id))
                ]
                runs = free.runs()
                bookings = [k for k in clinic.busy if k.kind is BusyKind.BOOKING and k.provider_id == provider_id]
                for block in own:
                    for start in _aligned_starts(block, alignment, zone_of[location_id], free, working):
                        end = start + duration
                        if not lowest <= start < search.window_end:
                            continue
                        if not _in_horizon(visit_type, zone_of[location_id], start, now):
                            continue
                        if not free.all_set(start, end) or not patient.none_set(start, end):
                            continue
                        reach_start, reach_end = widened(visit_type, start, end)
                        if any(item.start < reach_end and reach_start < item.end for item in keeping):
                            continue
                        if visit_type is not None and any(
                            u not in location_of[location_id].equipment
                            or not resource_free(location_id, "equipment", u, visit_type, start, end)
                            for u in visit_type.equipment
                        ):
                            continue
                        if visit_type is not None and not pools_free(location_id, visit_type, start, end):
                            continue
                        if visit_type is not None and visit_type.needs_room:
                            eligible = [
                                r
                                for r in location_of[location_id].rooms
                                if (not visit_type.rooms or r in visit_type.rooms)
                                and (block.room is None or r == block.room)
                                and (allowed is None or _fold(r) in allowed)
                            ]
                            free_rooms = [
                                r for r in eligible if resource_free(location_id, "room", r, visit_type, start, end)
                            ]
                            if not free_rooms:
                                continue
                            room: str | None = free_rooms[0]
                        else:
                            if allowed is not None and (block.room is None or _fold(block.room) not in allowed):
                                continue
                            room = None
                        if not _within_limits(clinic, provider_id, code, duration, zone_of[location_id], start, block):
                            continue
                        local_date, local_minute = local_of(zone_of[location_id], start)
                        if start < search.earliest:  # before the window: it only makes its date an open one
                            open_dates.add((code, location_id, local_date))
                            continue
                        first_free, last_free = _stretch(runs, start, end)
                        shortest = min(
                            (
                                v.duration
                                for v in clinic.visit_types
                                if not block.visit_types or v.code in block.visit_types
                            ),
                            default=clinic.default_duration,
                        )
                        gaps = [
                            None if first_free is None else start - first_free,
                            None if last_free is None else last_free - end,
                        ]
                        # sides where the visit itself touches a booking of the provider
                        adjacency = float(any(k.end == start for k in bookings)) + float(
                            any(k.start == end for k in bookings)
                        )
                        out.append(
                            _candidate(
                                request,
                                settings,
                                search,
                                (start, duration, provider_id, location_id, code, room, local_date, local_minute),
                                continuing=provider_id in continuity,
                                fragmentation=float(sum(1 for g in gaps if g is not None and 0 < g < shortest)),
                                adjacency=adjacency,
                                block=(block.start, block.end, block.visit_types, block.room or ""),
                            )
                        )
    for visit_type in search.visit_types:  # group visits: sessions with a free seat, joined as they are
        if visit_type is None or visit_type.seats <= 1:
            continue
        sessions: dict[tuple[str, str, int, int], list[Busy]] = {}
        for item in clinic.busy:
            if (
                item.visit_type == visit_type.code
                and item.kind in (BusyKind.BOOKING, BusyKind.HOLD)
                and item.provider_id in search.providers
                and item.location_id in search.locations
            ):
                assert item.provider_id is not None and item.location_id is not None
                sessions.setdefault((item.provider_id, item.location_id, item.start, item.end), []).append(item)
        for (provider_id, location_id, start, end), items in sorted(sessions.items()):
            zone = zone_of[location_id]
            room = next((i.room for i in items if i.room is not None), None)
            allowed = search.locations[location_id]
            if (
                sum(max(1, len(i.patients)) for i in items) >= visit_type.seats
                or not lowest <= start < search.window_end
                or not patient.none_set(start, end)
                or not _in_horizon(visit_type, zone, start, now)
                or (allowed is not None and _fold(room or "") not in allowed)
            ):
                continue
            local_date, local_minute = local_of(zone, start)
            if start < search.earliest:
                open_dates.add((visit_type.code, location_id, local_date))
                continue
            out.append(
                _candidate(
                    request,
                    settings,
                    search,
                    (start, end - start, provider_id, location_id, visit_type.code, room, local_date, local_minute),
                    continuing=provider_id in continuity,
                    fragmentation=0.0,  # a session has no gaps of its own and touches no booking
                    adjacency=0.0,
                    block=(start, end, (), ""),
                )
            )
    return _rolling_dates(out, open_dates, search)


def _candidate(
    request: SlotRequest,
    settings: Settings,
    search: Resolved,
    where: tuple[int, int, str, str, str | None, str | None, dt.date, int],
    *,
    continuing: bool,
    fragmentation: float,
    adjacency: float,
    block: tuple[int, int, tuple[str, ...], str],
) -> RefCandidate:
    """A candidate with its terms and score (``where``: start, duration, provider, location, visit type,
    room, local date and minute)."""
    start, duration, provider_id, location_id, code, room, local_date, local_minute = where
    terms = _preference_terms(request, settings, local_date.weekday(), local_minute)
    terms["earliness"] = 1.0 - (start - search.request_start) / (search.window_end - search.request_start)
    terms["continuity"] = 1.0 if continuing else 0.0
    terms["fragmentation"] = fragmentation
    terms["adjacency"] = adjacency
    score = 0.0
    for name in TERMS:  # summed in the order the README lists the terms
        score = score + getattr(settings.weights, name) * terms[name]
    return RefCandidate(
        start=start,
        duration=duration,
        provider_id=provider_id,
        location_id=location_id,
        visit_type=code,
        room=room,
        local_date=local_date,
        local_minute=local_minute,
        terms=terms,
        score=score,
        points=round(score * 1000),
        eligible=not settings.hard_preferences or _hard_match(request, settings, local_date.weekday(), local_minute),
        block=block,
    )


def once_per_start(candidates: Sequence[RefCandidate]) -> list[RefCandidate]:
    """One candidate per start, provider, location and visit type: the one found in the earlier block.

    The README's choice for overlapping blocks: "a start found in both counts once, from the earlier
    block", blocks ordered by start, then end, visit types and room (the block's room and its
    shortest visit come with it).
    """
    best: dict[tuple[int, str, str, str | None], RefCandidate] = {}
    for c in candidates:
        if c.offer not in best or c.block < best[c.offer].block:
            best[c.offer] = c
    return list(best.values())


def _preference_terms(request: SlotRequest, settings: Settings, weekday: int, minute: int) -> dict[str, float]:
    """Day and time terms of the preference entry that scores best (the first among equals)."""
    best: float | None = None
    day = time = 0.0
    for entry in request.preferences:
        d = 1.0 if weekday in entry.days else 0.0
        t = 0.0
        if entry.times:
            distance = min(abs(minute - w) for w in entry.times)
            t = min(1.0, max(0.0, 1.0 - distance / settings.time_scale))
        value = settings.weights.preferred_day * d + settings.weights.preferred_time * t
        if best is None or value > best:
            best, day, time = value, d, t
    return {"preferred_day": day, "preferred_time": time}


def _hard_match(request: SlotRequest, settings: Settings, weekday: int, minute: int) -> bool:
    """Some preference entry holds: its days (if any) and its times within tolerance (if any)."""
    if not request.preferences:
        return True
    return any(
        (not entry.days or weekday in entry.days)
        and (not entry.times or min(abs(minute - w) for w in entry.times) <= settings.hard_time_tolerance)
        for entry in request.preferences
    )


# ---- the top K ----------------------------------------------------------------------------------

Choice = tuple[int, dt.date, str, int]  # points, local date, provider ID, start


def feasible(chosen: Sequence[Choice], limit: int, per_day: int, per_provider_day: int) -> bool:
    """The caps: at most ``limit`` slots, ``per_day`` per date, ``per_provider_day`` per provider and
    date, one per provider and start."""
    days = Counter(c[1] for c in chosen)
    provider_days = Counter((c[2], c[1]) for c in chosen)
    provider_starts = Counter((c[2], c[3]) for c in chosen)
    return (
        len(chosen) <= limit
        and all(n <= per_day for n in days.values())
        and all(n <= per_provider_day for n in provider_days.values())
        and all(n <= 1 for n in provider_starts.values())
    )


def optimum_exhaustive(choices: Sequence[Choice], limit: int, per_day: int, per_provider_day: int) -> tuple[int, int]:
    """(most slots, then most points) over every subset: for a handful of choices only."""
    best = (0, 0)
    for k in range(1, min(limit, len(choices)) + 1):
        for combo in itertools.combinations(choices, k):
            if feasible(combo, limit, per_day, per_provider_day):
                best = max(best, (k, sum(c[0] for c in combo)))
    return best


class _Budget(Exception):
    pass


def optimum(
    choices: Sequence[Choice], limit: int, per_day: int, per_provider_day: int, budget: int = 200_000
) -> tuple[int, int] | None:
    """(most slots, then most points), by branch and bound over take/skip of each choice.

    Choices are visited best first. A branch is cut when even its optimistic completion cannot beat
    the best found: as many more slots as the remaining choices could give under the per-day and
    per-provider-day caps (ignoring one-per-start), each worth the best remaining points. ``None``
    when more than ``budget`` nodes would be needed (the caller skips such a case).
    """
    order = sorted(choices, key=lambda c: -c[0])
    n = len(order)
    if n > 800:
        return None
    big = 2 * limit * (max((abs(c[0]) for c in order), default=0) + 1) + 1  # one more slot beats any points
    prefix = [0, *itertools.accumulate(c[0] for c in order)]
    suffix: list[Counter[tuple[str, dt.date]]] = [Counter() for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        suffix[i] = suffix[i + 1] + Counter([(order[i][2], order[i][1])])
    used_day: Counter[dt.date] = Counter()
    used_pd: Counter[tuple[str, dt.date]] = Counter()
    used_ps: set[tuple[str, int]] = set()
    best = [0, 0, 0]  # value, count, points
    nodes = 0

    def more_slots(i: int) -> int:
        per_date: Counter[dt.date] = Counter()
        for (provider, date), left in suffix[i].items():
            per_date[date] += min(left, per_provider_day - used_pd[(provider, date)])
        return sum(min(k, per_day - used_day[date]) for date, k in per_date.items())

    def search(i: int, count: int, total: int) -> None:
        nonlocal nodes
        nodes += 1
        if nodes > budget:
            raise _Budget
        if count * big + total > best[0]:
            best[:] = [count * big + total, count, total]
        if i == n or count == limit:
            return
        r = min(limit - count, n - i, more_slots(i))
        if r <= 0 or (count + r) * big + total + prefix[i + r] - prefix[i] <= best[0]:
            return
        points, date, provider, start = order[i]
        if (
            used_day[date] < per_day
            and used_pd[(provider, date)] < per_provider_day
            and (provider, start) not in used_ps
        ):
            used_day[date] += 1
            used_pd[(provider, date)] += 1
            used_ps.add((provider, start))
            search(i + 1, count + 1, total + points)
            used_day[date] -= 1
            used_pd[(provider, date)] -= 1
            used_ps.discard((provider, start))
        search(i + 1, count, total)

    try:
        search(0, 0, 0)
    except _Budget:
        return None
    return best[1], best[2]
