"""Hypothesis strategies: small clinics, busy time and requests around DST transitions.

A scenario is one clinic (1-3 providers, 1-2 locations in DST-interesting zones, 1-3 visit types),
its templates and openings (night blocks, blocks that start inside a spring-forward gap or a
fall-back fold, ordinary clinic hours), busy time of every kind (bookings, holds, reserved blocks
with and without release, out-of-office, closures, room bookings, the patient's own appointments),
a request of 1-3 days placed across a transition or on an ordinary day, settings and ``now``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar
from zoneinfo import ZoneInfo

from attrs import evolve
from hypothesis import strategies as st

from slotfinder._domain import (
    BookingLimit,
    Busy,
    BusyKind,
    Clinic,
    DateOverride,
    LimitPeriod,
    Location,
    LocationFilter,
    Need,
    Opening,
    PatientId,
    Pool,
    Preference,
    Provider,
    ProviderFilter,
    SlotRequest,
    StartAlignment,
    VisitType,
    VisitTypeFilter,
    WeeklyTemplate,
    WorkingHours,
)
from slotfinder._settings import Settings, Weights

__all__ = ["ANCHORS", "ZONES", "Scenario", "scenarios"]

DAY = 1440
T = TypeVar("T")
EPOCH_DATE = dt.date(1970, 1, 1)

ZONES = ("America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "America/Chicago")
TRANSITIONS = {
    "America/New_York": (dt.date(2025, 3, 9), dt.date(2025, 11, 2)),
    "America/Chicago": (dt.date(2025, 3, 9), dt.date(2025, 11, 2)),
    "Europe/London": (dt.date(2025, 3, 30), dt.date(2025, 10, 26)),
    "Australia/Lord_Howe": (dt.date(2025, 4, 6), dt.date(2025, 10, 5)),
    "Asia/Kolkata": (),
}
ORDINARY = (dt.date(2025, 1, 15), dt.date(2025, 7, 22))
ANCHORS = tuple(sorted({d for ds in TRANSITIONS.values() for d in ds} | set(ORDINARY)))

ROOMS = ("R1", "R2", "R3")
UNITS = ("ECG", "US")  # equipment units
POOLS = ("CHAIR", "BAY")  # pooled resource kinds
CODES = ("V1", "V2", "V3")
PATIENT = PatientId("M1", "MR")

# Wall-clock (start, end) pairs worth testing: night blocks across the transitions, blocks that begin
# inside a gap (02:30 US/EU, 02:15 Lord Howe) or inside a fold (01:00-02:00 US, 01:30-02:00 Lord Howe),
# ordinary clinic hours, and a block to midnight.
INTERESTING = (
    (0, 360),
    (150, 240),
    (135, 210),
    (60, 180),
    (90, 150),
    (120, 200),
    (480, 720),
    (780, 1020),
    (1320, 1440),
    (1410, 1440),
)


@dataclass(frozen=True)
class Scenario:
    """Everything one engine call needs."""

    clinic: Clinic
    request: SlotRequest
    settings: Settings
    now: int


@st.composite
def _wall_span(draw: st.DrawFn) -> tuple[int, int]:
    if draw(st.integers(0, 2)) > 0:
        return draw(st.sampled_from(INTERESTING))
    start = draw(st.integers(0, 1435))
    length = draw(st.integers(5, 360) | st.integers(60, 360))
    return start, min(DAY, start + length)


def _subset(items: tuple[str, ...], min_size: int = 0) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(items), unique=True, min_size=min_size, max_size=len(items)).map(tuple)


def _mostly(*right: T, wrong: T) -> st.SearchStrategy[T]:
    """One of ``right`` nine times in ten, else ``wrong`` (a value that may fail to match)."""
    return st.sampled_from(right * 9 + (wrong,))


def _variant(text: str) -> st.SearchStrategy[str]:
    """The same text as a request might spell it: other case, stray spaces."""
    return st.sampled_from((text, text.lower(), text.upper(), f" {text} "))


def _pools(pooled: bool) -> st.SearchStrategy[tuple[Pool, ...]]:
    """A location's pools: mostly some chairs (1-3), sometimes bays too, sometimes none (``pooled``: both)."""
    chairs = st.builds(Pool, st.just("CHAIR"), st.sampled_from((1, 1, 2, 3)))
    bays = st.builds(Pool, st.just("BAY"), st.integers(1, 2))
    if pooled:
        return st.tuples(st.builds(Pool, st.just("CHAIR"), st.sampled_from((1, 2, 2, 3))), bays)
    return st.just(()) | st.tuples(chairs) | st.tuples(chairs, bays) | st.tuples(bays)


def _needs(pooled: bool) -> st.SearchStrategy[tuple[Need, ...]]:
    """A visit type's needs: none half the time (a quarter when ``pooled``), else mostly a chair or two
    (sometimes more than a location has)."""
    chairs = st.tuples(st.builds(Need, st.just("CHAIR"), st.sampled_from((1, 1, 1, 2))))
    bays = st.tuples(st.builds(Need, st.just("BAY"), st.just(1)))
    both = st.tuples(st.builds(Need, st.just("CHAIR"), st.just(1)), st.builds(Need, st.just("BAY"), st.just(1)))
    if pooled:
        return st.just(()) | chairs | chairs | both
    return st.just(()) | st.just(()) | chairs | chairs | bays | both


@st.composite
def _booking_limit(draw: st.DrawFn, provider_ids: tuple[str, ...], codes: tuple[str, ...]) -> BookingLimit:
    """A booking limit small enough to bite on the few bookings a scenario has."""
    visits = draw(st.sampled_from((None, 1, 1, 2, 3)))
    minutes = draw(st.sampled_from((None, None, 30, 60, 120, 240)))
    return BookingLimit(
        period=draw(st.sampled_from(tuple(LimitPeriod))),
        max_visits=1 if visits is None and minutes is None else visits,
        max_minutes=minutes,
        visit_types=draw(st.just(()) | _subset(codes, min_size=1)),
        providers=draw(st.just(()) | _subset(provider_ids, min_size=1)),
    )


@st.composite
def scenarios(
    draw: st.DrawFn, small: bool = False, dense: bool = False, aligned: bool = False, pooled: bool = False
) -> Scenario:
    """A random scenario; ``small`` keeps candidates few (short blocks, coarse grid, one day).

    ``dense``: one provider at one location, a few busy items all over its working time, one visit
    type asked (often needing a room) and the patient named, so that the busy rules (reserved blocks
    and their release, rooms, the patient's own items) decide a lot and rarely mask one another.

    Every scenario may have date overrides and visit types with a booking horizon (own notice,
    maximum advance, rolling dates). ``aligned`` also draws a start alignment (the clinic's, sometimes
    replaced by the settings'); without it starts follow the block grid, which
    ``tests/test_reference_properties.py`` checks returned slots against.

    Every scenario may also have buffers on its visit types. Scenarios that are not ``small`` may have
    visit types on their bookings, holds and unreserved blocks, and up to two booking limits (per day,
    ISO week or session, of some visit types or providers), with holds counting or not; small ones,
    which the iCalendar and FHIR round trips use, have neither (those formats carry no busy item's
    visit type).

    Scenarios that are not ``small`` may have pooled resources (``Location.pools``, ``VisitType.needs``,
    busy items with ``pool``); ``pooled`` makes them decide a lot: every location has chairs, most
    visit types need some, and more items take chairs.
    """
    zone_a = draw(st.sampled_from(ZONES))
    zone_b = draw(st.sampled_from((zone_a, *ZONES)))
    if TRANSITIONS[zone_a] and draw(st.integers(0, 3)) > 0:
        anchor = draw(st.sampled_from(TRANSITIONS[zone_a]))
    else:
        anchor = draw(st.sampled_from(ANCHORS))

    # ---- locations, providers, visit types
    locations = []
    for i, zone in enumerate((zone_a, zone_b)[: 1 if dense else draw(st.integers(1, 2))], start=1):
        rooms = tuple(draw(st.permutations(ROOMS))[: draw(st.integers(1 if i == 1 else 0, 3))])
        locations.append(
            Location(
                id=f"L{i}",
                facility=draw(st.sampled_from(("North", "South", None))),
                department=draw(st.sampled_from(("Cardio", "Derm"))),
                time_zone=zone,
                type=draw(st.sampled_from(("Clinic", None))),
                rooms=rooms,
                equipment=draw(st.just(()) | _subset(UNITS)),
                pools=() if small else draw(_pools(pooled)),
            )
        )
    location_ids = tuple(loc.id for loc in locations)
    providers = [
        Provider(id=f"P{i}", id_type=draw(st.sampled_from(("NPI", "EXT"))))
        for i in range(1, (1 if dense else draw(st.integers(1, 3))) + 1)
    ]
    provider_ids = tuple(p.id for p in providers)
    visit_types = [
        VisitType(
            code=code,
            codeset=draw(st.sampled_from(("CS", "ALT", None))),
            description=None,
            duration=draw(st.sampled_from((10, 15, 20, 30, 45, 60)) | st.integers(5, 75)),
            needs_room=draw(st.booleans() if dense else st.integers(0, 2).map(lambda n: n == 0)),
            rooms=() if dense else draw(st.just(()) | _subset(ROOMS)),
            equipment=draw(st.just(()) | st.just(()) | _subset(UNITS)),
            needs=() if small else draw(_needs(pooled)),
            # buffers: busy items of this type occupy them too, and a new visit needs its own free
            buffer_before=draw(st.sampled_from((0, 0, 5, 15, 30))),
            buffer_after=draw(st.sampled_from((0, 0, 10, 15, 45))),
            # the booking horizon: now lies within two days of the window, which is 1-3 days long
            min_notice_minutes=draw(st.sampled_from((0, 0, 0, 0, 45, 600))),
            max_advance_days=draw(st.sampled_from((None, None, None, None, None, 0, 1, 2))),
            rolling_dates=draw(st.sampled_from((None, None, None, 1, 1, 2))),
            seats=draw(st.sampled_from((1, 1, 1, 2, 3))),  # group visits: sessions stay open to this type
        )
        for code in CODES[: draw(st.integers(1, 3))]
    ]
    codes = tuple(v.code for v in visit_types)

    # ---- templates and openings
    near = st.sampled_from(
        (None, None, None, None, None, anchor - dt.timedelta(days=1), anchor, anchor + dt.timedelta(days=1))
    )
    step = st.sampled_from((5, 10, 15, 20, 30)) | st.integers(5, 30)
    if small:
        step = st.sampled_from((20, 30, 45, 60))

    def room_for(location_id: str) -> st.SearchStrategy[str | None]:
        location = next(loc for loc in locations if loc.id == location_id)
        return st.sampled_from((None, None, *location.rooms, "R9"))

    templates: list[WeeklyTemplate] = []
    for _ in range(draw(st.integers(2 if small else 1, 4 if small else 5))):
        location_id = draw(st.sampled_from(location_ids))
        start, end = draw(_wall_span())
        if small:
            end = min(end, start + 240)
        templates.append(
            WeeklyTemplate(
                provider_id=draw(st.sampled_from(provider_ids)),
                location_id=location_id,
                weekdays=draw(
                    st.sampled_from((frozenset(range(7)),) * 3) | st.frozensets(st.integers(0, 6), min_size=1)
                ),
                start=start,
                end=end,
                slot_length=draw(step),
                visit_types=draw(st.just(()) | _subset(codes)),
                effective_from=draw(near),
                effective_until=draw(near),
                room=None if dense else draw(room_for(location_id)),
            )
        )
    openings: list[Opening] = []
    for _ in range(draw(st.integers(0, 1 if small else 2))):
        location_id = draw(st.sampled_from(location_ids))
        start, end = draw(_wall_span())
        openings.append(
            Opening(
                provider_id=draw(st.sampled_from(provider_ids)),
                location_id=location_id,
                date=anchor + dt.timedelta(days=draw(st.integers(-1, 1))),
                start=start,
                end=min(end, start + 240) if small else end,
                slot_length=draw(step),
                visit_types=draw(st.just(()) | _subset(codes)),
                room=draw(room_for(location_id)),
            )
        )
    # ---- date overrides: a provider's hours on a date near the anchor, at one location or (not working) all
    overrides: list[DateOverride] = []
    for _ in range(draw(st.integers(0, 2))):
        override_location = draw(st.sampled_from((None, *location_ids)))
        override_rooms = next((loc.rooms for loc in locations if loc.id == override_location), ())
        worked: list[WorkingHours] = []
        for _ in range(0 if override_location is None else draw(st.integers(0, 1 if small else 2))):
            start, end = draw(_wall_span())
            worked.append(
                WorkingHours(
                    start=start,
                    end=min(end, start + 240) if small else end,
                    slot_length=draw(step),
                    visit_types=draw(st.just(()) | _subset(codes)),
                    room=draw(st.sampled_from((None, None, *override_rooms))),  # rooms the file would accept
                )
            )
        overrides.append(
            DateOverride(
                provider_id=draw(st.sampled_from(provider_ids)),
                location_id=override_location,
                date=anchor + dt.timedelta(days=draw(st.integers(-1, 1))),
                hours=worked,
            )
        )
    override_hours = [  # as openings, where busy items are placed over working time
        Opening(o.provider_id, o.location_id, o.date, h.start, h.end)
        for o in overrides
        if o.location_id is not None
        for h in o.hours
    ]
    alignments = st.sampled_from(tuple(StartAlignment)) if aligned else st.just(StartAlignment.BLOCK)

    # ---- the window and now
    midnight = dt.datetime(anchor.year, anchor.month, anchor.day, tzinfo=ZoneInfo(zone_a))
    # the window starts near local midnight of the anchor (so it holds the transition night), or a day before
    shift = draw(st.sampled_from((-24 * 60, -6 * 60, -60, 0, 0, 60, 150)) | st.integers(-8 * 60, 4 * 60))
    request_start = int(midnight.timestamp()) // 60 + shift - shift % 5
    days = 1 if small else draw(st.integers(1, 3))
    open_end = draw(st.booleans())
    request_end = None if open_end else request_start + days * DAY - draw(st.sampled_from((0, 0, 17, 360)))
    now = request_start + draw(st.sampled_from((-3000, -400, -61, 0, 0, 0, 7, 240, 900)))

    if len(locations) == 2 and zone_a != zone_b and draw(st.booleans()):
        # One provider at both locations at the same instants, at an hour when the two zones' dates
        # differ (New York evenings are Kolkata mornings): one provider and start then counts against
        # two dates' caps.
        zones = [ZoneInfo(zone_a), ZoneInfo(zone_b)]

        def local(instant: int, zone: ZoneInfo) -> dt.datetime:
            return dt.datetime.fromtimestamp(60 * instant, zone)

        hours = [
            request_start + 60 * h
            for h in range(24 * days)
            if local(request_start + 60 * h, zones[0]).date() != local(request_start + 60 * h, zones[1]).date()
        ]
        if hours:
            begin = draw(st.sampled_from(hours))
            length = draw(st.sampled_from((30, 60, 120)))
            twin_provider, twin_step = draw(st.sampled_from(provider_ids)), draw(step)
            for loc, tz in zip(locations, zones, strict=True):
                first = local(begin, tz)
                minute = first.hour * 60 + first.minute
                openings.append(
                    Opening(twin_provider, loc.id, first.date(), minute, min(DAY, minute + length), twin_step)
                )

    # ---- busy time: anywhere around the window, or over working time (where it matters)
    zone_of = {loc.id: loc.time_zone for loc in locations}

    def when() -> tuple[int, int, str, str]:
        """Start, end, provider and location of a busy item: random, or over a working rule's time."""
        provider_id = draw(st.sampled_from(provider_ids))
        location_id = draw(st.sampled_from(location_ids))
        if not dense and draw(st.integers(0, 2)) == 0:
            start = request_start + draw(st.integers(-600, days * DAY + 600))
        else:
            rules: list[WeeklyTemplate | Opening] = [*templates, *openings, *override_hours]
            rule = draw(st.sampled_from(rules))
            provider_id, location_id = rule.provider_id, rule.location_id
            zone = ZoneInfo(zone_of[location_id])
            if isinstance(rule, Opening):
                date = rule.date
            else:  # a local date inside the window
                moment = dt.datetime.fromtimestamp(60 * (request_start + draw(st.integers(0, days * DAY - 1))), zone)
                date = moment.date()
            local_midnight = dt.datetime(date.year, date.month, date.day, tzinfo=zone)
            start = int(local_midnight.timestamp()) // 60 + draw(st.integers(rule.start - 20, rule.end - 5))
        if draw(st.booleans()):
            start -= start % 5
        return start, start + draw(st.sampled_from((5, 15, 30, 60)) | st.integers(1, 240)), provider_id, location_id

    def room_of(location_id: str) -> st.SearchStrategy[str]:
        rooms = next(loc.rooms for loc in locations if loc.id == location_id) or ROOMS
        return st.sampled_from((rooms[0], *rooms))  # the first room (taken first) more often

    # reserved for some of the clinic's types and/or "VR", a type no request asks for; sometimes for none
    reserved = _subset((*codes, "VR"), min_size=1) | _subset(codes)
    release = st.sampled_from((None, None, 0, 600, 3000, 10000))  # minutes before its start it opens to all
    if dense:  # released long ago, or never
        release = st.sampled_from((None, 10000))
    kinds = (
        "booking",
        "hold",
        "block",
        "block",
        "ooo",
        "closure",
        "room",
        "room",
        "patient",
        "patient",
        "located",
        "unit",
    )
    if dense:
        kinds = (
            "booking",
            "hold",
            "block",
            "block",
            "block",
            "closure",
            "room",
            "room",
            "room",
            "patient",
            "located",
            "unit",
        )
    busy = []
    for _ in range(draw(st.integers(1, 5) if dense else st.integers(0, 10))):
        start, end, provider_id, location_id = when()
        kind = draw(st.sampled_from(kinds))
        if kind == "booking":
            item = Busy(
                BusyKind.BOOKING,
                start,
                end,
                provider_id=provider_id,
                location_id=draw(st.sampled_from((None, location_id))),
                patients=draw(st.sampled_from(((), (PatientId("M2", "MR"),), (PATIENT,)))),
            )
        elif kind == "hold":
            item = Busy(BusyKind.HOLD, start, end, provider_id=provider_id)
        elif kind == "block":
            owner = draw(st.sampled_from((provider_id, provider_id, None)))
            item = Busy(
                BusyKind.BLOCK,
                start,
                end,
                provider_id=owner,
                location_id=location_id,
                reserved_for=draw(reserved),
                release_before=draw(release),
            )
        elif kind == "ooo":
            item = Busy(BusyKind.OUT_OF_OFFICE, start, end, provider_id=provider_id)
        elif kind == "closure":
            item = Busy(BusyKind.CLOSURE, start, end, location_id=location_id)
        elif kind == "room":
            room_kind = draw(st.sampled_from((BusyKind.BOOKING, BusyKind.HOLD, BusyKind.BLOCK, BusyKind.BLOCK)))
            if dense:
                room_kind = BusyKind.BLOCK
            item = Busy(
                room_kind,
                start,
                end,
                location_id=location_id,
                room=draw(room_of(location_id)),
                reserved_for=draw(reserved) if room_kind is BusyKind.BLOCK else (),
                release_before=draw(release),
            )
        elif kind == "unit":
            item = Busy(
                draw(st.sampled_from((BusyKind.BOOKING, BusyKind.BLOCK))),
                start,
                end,
                location_id=location_id,
                equipment=draw(st.sampled_from(UNITS)),
            )
        elif kind == "patient":
            item = Busy(
                BusyKind.BOOKING,
                start,
                end,
                provider_id=draw(st.sampled_from((None, "P9", provider_id))),
                patients=(draw(st.sampled_from((PATIENT, PatientId("M1", None), PatientId("M1", "OTHER")))),),
            )
        else:  # a booking with provider, location and room
            item = Busy(
                BusyKind.BOOKING,
                start,
                end,
                provider_id=provider_id,
                location_id=location_id,
                room=draw(room_of(location_id)),
            )
        if not small and item.kind in (BusyKind.BOOKING, BusyKind.HOLD, BusyKind.BLOCK) and not item.reserved_for:
            item = evolve(item, visit_type=draw(st.sampled_from((None, *codes))))  # its buffers, its limits
        busy.append(item)
    # Units of pooled kinds (not in small scenarios: iCalendar and FHIR carry no pools), mostly of a kind
    # some visit type needs, at a location that has it, over working time: so they decide often.
    needed = sorted({n.kind for v in visit_types for n in v.needs}) or list(POOLS)
    for _ in range(0 if small else draw(st.integers(2, 6) if pooled else st.integers(0, 4))):
        start, _, provider_id, location_id = when()
        end = start + draw(st.sampled_from((15, 30, 60, 120, 240)))
        pool_kind = draw(st.sampled_from((BusyKind.BOOKING, BusyKind.HOLD, BusyKind.BLOCK)))
        item = Busy(
            pool_kind,
            start,
            end,
            provider_id=draw(st.sampled_from((None, None, provider_id))),
            location_id=location_id,
            pool=draw(st.sampled_from((*needed, *needed, *POOLS))),
            pool_units=draw(st.sampled_from((1, 1, 2))),
            reserved_for=draw(st.just(()) | reserved) if pool_kind is BusyKind.BLOCK else (),
        )
        if not item.reserved_for:
            item = evolve(item, visit_type=draw(st.sampled_from((None, *codes))))  # its buffers, its limits
        busy.append(item)

    clinic = Clinic(
        providers=providers,
        locations=locations,
        visit_types=visit_types,
        templates=templates,
        openings=openings,
        busy=busy,
        default_duration=draw(st.sampled_from((15, 30, 40))),
        date_overrides=overrides,
        booking_limits=[] if small else draw(st.lists(_booking_limit(provider_ids, codes), max_size=2)),
        limits_count_holds=not small and draw(st.booleans()),
        start_alignment=draw(alignments),
    )

    # ---- the request
    provider_filters = []
    if not dense and draw(st.integers(0, 2)) == 0:
        for _ in range(draw(st.integers(1, 2))):
            provider = draw(st.sampled_from(providers))
            provider_filters.append(
                ProviderFilter(
                    id=draw(_mostly(provider.id, wrong="PX")),
                    id_type=draw(_mostly(None, provider.id_type, wrong="NPI")),
                )
            )
    location_filters = []
    if not dense and draw(st.integers(0, 2)) == 0:
        for _ in range(draw(st.integers(1, 2))):
            loc = draw(st.sampled_from(locations))
            location_filters.append(
                LocationFilter(
                    id=draw(st.sampled_from((None, None, loc.id))),
                    facility=draw(
                        st.none() | (_variant(loc.facility) if loc.facility else _mostly(None, wrong="North"))
                    ),
                    department=draw(st.none() | _variant(loc.department or "Cardio")),
                    room=draw(st.none() | st.none() | st.sampled_from(ROOMS).flatmap(_variant)),
                    type=draw(st.none() | st.none() | _variant(loc.type or "Clinic")),
                )
            )
    visit_filters = []
    if dense or pooled or draw(st.integers(0, 2)) > 0:
        for _ in range(1 if dense else draw(st.integers(1, 2))):
            visit_type = draw(st.sampled_from(visit_types))
            visit_filters.append(
                VisitTypeFilter(
                    code=draw(_mostly(visit_type.code, wrong="VX")),
                    codeset=draw(_mostly(None, visit_type.codeset, wrong="ALT")),
                )
            )
    preferences = draw(
        st.lists(
            st.builds(
                Preference,
                days=st.frozensets(st.integers(0, 6), max_size=3),
                times=st.lists(st.integers(0, 1439), max_size=2).map(tuple),
                duration=st.sampled_from((None, None, None, 20, 35)),
            ),
            max_size=2,
        )
    )
    request = SlotRequest(
        start=request_start,
        end=request_end,
        providers=provider_filters,
        locations=location_filters,
        visit_types=visit_filters,
        preferences=preferences,
        patient_ids=draw(st.sampled_from(((PATIENT,), (PatientId("M1", None),), (PatientId("M1", "OTHER"),), ()))),
    )

    # ---- settings
    weights = draw(
        st.just(Weights())
        | st.builds(
            Weights,
            preferred_day=st.integers(0, 40).map(float),
            preferred_time=st.integers(0, 40).map(float),
            earliness=st.sampled_from((0.0, 10.0, 3.5)),
            continuity=st.integers(0, 20).map(float),
            fragmentation=st.integers(-10, 0).map(float),
            adjacency=st.integers(0, 5).map(float),
        )
    )
    settings = Settings(
        limit=draw(st.integers(1, 5)),
        per_day=draw(st.integers(1, 3)),
        per_provider_day=draw(st.integers(1, 3)),
        default_horizon_days=days,
        min_notice_minutes=draw(st.sampled_from((0, 0, 30, 125))),
        start_interval=draw(st.sampled_from((None, None, None, 20, 30) if small else (None, None, None, 5, 15, 25))),
        hard_preferences=draw(st.booleans()),
        hard_time_tolerance=draw(st.sampled_from((0, 30, 60, 180))),
        time_scale=draw(st.sampled_from((60, 240, 500))),
        weights=weights,
        preferred_providers=draw(_subset(provider_ids)),
        start_alignment=draw(st.none() | alignments) if aligned else None,  # None: the clinic's
    )
    return Scenario(clinic=clinic, request=request, settings=settings, now=now)
