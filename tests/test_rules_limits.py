"""Booking limits (docs/clinic-format.md, "Booking limits"), as allows/forbids pairs.

The default clinic of ``tests/clinic_builders.py``: P1 at MAIN (Chicago) weekdays 09:00-12:00 on a
15-minute grid; OV 30 min, NP 60 min, PROC 30 min with a room. Limits are added per test; a limit is
a filter: a start is dropped when booking it would take P1 past the limit, given what is booked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from attrs import evolve

from slotfinder import find_slots, list_candidates
from slotfinder._calendars.zones import instant_of
from slotfinder._domain import (
    BookingLimit,
    Busy,
    BusyKind,
    Clinic,
    LimitPeriod,
    Location,
    Opening,
    VisitTypeFilter,
)
from slotfinder._settings import Settings
from tests.clinic_builders import (
    MAIN,
    MONDAY,
    NOW,
    P1,
    P2,
    at,
    clinic,
    day,
    minute,
    offered,
    request,
    weekly,
)

TUESDAY, THURSDAY, SUNDAY, NEXT_MONDAY = day(1), day(3), day(6), day(7)
DAY, WEEK, SESSION = LimitPeriod.DAY, LimitPeriod.WEEK, LimitPeriod.SESSION
NP_ASKED = [VisitTypeFilter("NP")]


def _visit(
    start: str,
    minutes: int = 30,
    *,
    on: dt.date = MONDAY,
    kind: BusyKind = BusyKind.BOOKING,
    provider: str = P1.id,
    visit_type: str | None = None,
    location: str | None = None,
) -> Busy:
    """A visit of ``provider`` (P1) at wall time ``start`` on ``on`` (MONDAY), ``minutes`` long."""
    begin = at(on, start)
    return Busy(kind, begin, begin + minutes, provider_id=provider, visit_type=visit_type, location_id=location)


def _limited(
    *limits: BookingLimit, busy: Sequence[Busy] = (), holds_count: bool = False, base: Clinic | None = None
) -> Clinic:
    """The default clinic (or ``base``) with these limits and busy items."""
    where = base if base is not None else clinic()
    return evolve(where, busy=tuple(busy), booking_limits=limits, limits_count_holds=holds_count)


# ---- visits per day --------------------------------------------------------------------------


def test_allows_start_while_the_day_has_room() -> None:
    """At most 2 visits a day, one booked: a second one is offered."""
    where = _limited(BookingLimit(DAY, max_visits=2), busy=[_visit("09:00")])
    assert offered(where, request(), at(MONDAY, "10:00"))


def test_forbids_start_once_the_day_is_full() -> None:
    """At most 2 visits a day, two booked: no third one on Monday."""
    where = _limited(BookingLimit(DAY, max_visits=2), busy=[_visit("09:00"), _visit("09:30")])
    assert not offered(where, request(), at(MONDAY, "10:00"))


def test_allows_start_on_another_day_when_one_day_is_full() -> None:
    """Monday is full; Tuesday is counted on its own."""
    where = _limited(BookingLimit(DAY, max_visits=2), busy=[_visit("09:00"), _visit("09:30")])
    assert offered(where, request(first=TUESDAY), at(TUESDAY, "10:00"))


def test_forbids_start_when_the_days_bookings_lie_in_the_past() -> None:
    """Bookings earlier that day count although they are over: now is 10:00, 09:00 was booked, limit 1."""
    where = _limited(BookingLimit(DAY, max_visits=1), busy=[_visit("09:00")])
    assert not offered(where, request(), at(MONDAY, "11:00"), now=at(MONDAY, "10:00"))


def test_allows_start_when_another_providers_day_is_full() -> None:
    """Limits count per provider: P2's bookings do not fill P1's day."""
    where = _limited(BookingLimit(DAY, max_visits=1), busy=[_visit("09:00", provider=P2.id)])
    assert offered(where, request(), at(MONDAY, "10:00"))


def test_forbids_start_when_the_provider_is_booked_at_another_location() -> None:
    """... but count the provider's bookings wherever they are."""
    where = _limited(BookingLimit(DAY, max_visits=1), busy=[_visit("07:00", location="loc-annex")])
    assert not offered(where, request(), at(MONDAY, "10:00"))


def test_a_limit_is_a_filter_not_a_cap_on_the_answer() -> None:
    """At most 1 visit a day and nothing booked: every Monday start stays, and the answer may hold several
    (each offer is an alternative the patient books alone)."""
    where = _limited(BookingLimit(DAY, max_visits=1))
    result = find_slots(where, request(), Settings(per_day=3, per_provider_day=3), NOW)
    assert len(result.slots) == 3


# ---- minutes ---------------------------------------------------------------------------------


def test_allows_visit_that_fills_the_minutes_exactly() -> None:
    """At most 90 minutes a day, 60 booked: a 30-minute OV fits exactly."""
    where = _limited(BookingLimit(DAY, max_minutes=90), busy=[_visit("09:00", 60)])
    assert offered(where, request(), at(MONDAY, "10:00"))


def test_forbids_visit_that_would_pass_the_minutes() -> None:
    """... a 60-minute NP would make 120."""
    where = _limited(BookingLimit(DAY, max_minutes=90), busy=[_visit("09:00", 60)])
    assert not offered(where, request(visit_types=NP_ASKED), at(MONDAY, "10:00"))


def test_forbids_when_either_maximum_is_reached() -> None:
    """max_visits 5 and max_minutes 60: one 60-minute booking leaves no minutes, though visits remain."""
    where = _limited(BookingLimit(DAY, max_visits=5, max_minutes=60), busy=[_visit("09:00", 60)])
    assert not offered(where, request(), at(MONDAY, "10:00"))


# ---- visit types -----------------------------------------------------------------------------


def test_forbids_a_type_whose_limit_is_reached() -> None:
    """At most 1 NP a day, one NP booked: no NP on Monday."""
    where = _limited(BookingLimit(DAY, max_visits=1, visit_types=("NP",)), busy=[_visit("09:00", 60, visit_type="NP")])
    assert not offered(where, request(visit_types=NP_ASKED), at(MONDAY, "10:00"))


def test_allows_other_types_when_a_types_limit_is_reached() -> None:
    """... the limit names NP only: OV is still offered."""
    where = _limited(BookingLimit(DAY, max_visits=1, visit_types=("NP",)), busy=[_visit("09:00", 60, visit_type="NP")])
    assert offered(where, request(), at(MONDAY, "10:30"))


def test_allows_a_type_when_only_other_types_are_booked() -> None:
    """At most 1 NP a day: an OV booking does not count toward it."""
    where = _limited(BookingLimit(DAY, max_visits=1, visit_types=("NP",)), busy=[_visit("09:00", visit_type="OV")])
    assert offered(where, request(visit_types=NP_ASKED), at(MONDAY, "10:00"))


def test_allows_a_type_when_the_booking_has_no_known_type() -> None:
    """A booking without a visit type counts toward limits of every type only, not toward an NP limit."""
    where = _limited(BookingLimit(DAY, max_visits=1, visit_types=("NP",)), busy=[_visit("09:00")])
    assert offered(where, request(visit_types=NP_ASKED), at(MONDAY, "10:00"))


def test_forbids_when_a_booking_without_type_fills_an_every_type_limit() -> None:
    """... and it does count toward a limit of every type."""
    where = _limited(BookingLimit(DAY, max_visits=1), busy=[_visit("09:00")])
    assert not offered(where, request(visit_types=NP_ASKED), at(MONDAY, "10:00"))


def test_a_group_of_types_counts_together() -> None:
    """At most 2 of NP and PROC a day: one NP and one PROC booked fill it for both."""
    limit = BookingLimit(DAY, max_visits=2, visit_types=("NP", "PROC"))
    where = _limited(limit, busy=[_visit("09:00", 60, visit_type="NP"), _visit("10:00", visit_type="PROC")])
    assert not offered(where, request(visit_types=NP_ASKED), at(MONDAY, "10:30"))
    assert offered(where, request(), at(MONDAY, "10:30"))  # OV is not in the group


def test_allows_start_without_visit_type_under_a_typed_limit() -> None:
    """A request with no visit type is limited only by limits of every type: a full NP limit does not apply."""
    where = _limited(BookingLimit(DAY, max_visits=1, visit_types=("NP",)), busy=[_visit("09:00", 60, visit_type="NP")])
    assert offered(where, request(visit_types=[]), at(MONDAY, "10:00"))


# ---- holds, blocks ---------------------------------------------------------------------------


def test_allows_start_when_holds_do_not_count() -> None:
    """By default holds do not count: one hold and a limit of 1 still leave Monday open."""
    where = _limited(BookingLimit(DAY, max_visits=1), busy=[_visit("09:00", kind=BusyKind.HOLD)])
    assert offered(where, request(), at(MONDAY, "10:00"))


def test_forbids_start_when_holds_count() -> None:
    """With limits_count_holds the hold fills the day."""
    where = _limited(BookingLimit(DAY, max_visits=1), busy=[_visit("09:00", kind=BusyKind.HOLD)], holds_count=True)
    assert not offered(where, request(), at(MONDAY, "10:00"))


def test_allows_start_after_blocks_whatever_the_setting() -> None:
    """Blocks and out-of-office are not visits: they never count."""
    busy = [_visit("09:00", kind=BusyKind.BLOCK), _visit("09:30", kind=BusyKind.OUT_OF_OFFICE)]
    where = _limited(BookingLimit(DAY, max_visits=1), busy=busy, holds_count=True)
    assert offered(where, request(), at(MONDAY, "10:00"))


# ---- providers -------------------------------------------------------------------------------


def test_allows_start_of_a_provider_the_limit_does_not_name() -> None:
    """A limit naming P2 leaves P1 alone."""
    where = _limited(BookingLimit(DAY, max_visits=1, providers=(P2.id,)), busy=[_visit("09:00")])
    assert offered(where, request(), at(MONDAY, "10:00"))


def test_forbids_start_of_a_provider_the_limit_names() -> None:
    """A limit naming P1 applies to P1."""
    where = _limited(BookingLimit(DAY, max_visits=1, providers=(P1.id,)), busy=[_visit("09:00")])
    assert not offered(where, request(), at(MONDAY, "10:00"))


# ---- weeks -----------------------------------------------------------------------------------


def test_forbids_start_once_the_iso_week_is_full() -> None:
    """At most 3 visits a week, Monday, Tuesday and Wednesday booked: nothing on Thursday."""
    busy = [_visit("09:00", on=day(n)) for n in range(3)]
    where = _limited(BookingLimit(WEEK, max_visits=3), busy=busy)
    assert not offered(where, request(first=THURSDAY), at(THURSDAY, "10:00"))


def test_allows_start_in_the_next_iso_week() -> None:
    """... the next Monday starts a new ISO week."""
    busy = [_visit("09:00", on=day(n)) for n in range(3)]
    where = _limited(BookingLimit(WEEK, max_visits=3), busy=busy)
    assert offered(where, request(first=NEXT_MONDAY), at(NEXT_MONDAY, "10:00"))


def test_week_ends_at_local_midnight_before_monday() -> None:
    """A visit at 23:30 on Sunday counts in its own week, not in the next: limit 1 a week, Monday is open."""
    where = _limited(BookingLimit(WEEK, max_visits=1), busy=[_visit("23:30", on=SUNDAY)])
    assert offered(where, request(first=NEXT_MONDAY), at(NEXT_MONDAY, "09:00"))
    assert not offered(where, request(), at(MONDAY, "09:00"))


# ---- sessions --------------------------------------------------------------------------------


TWO_SESSIONS = clinic(templates=[weekly(start="09:00", end="12:00"), weekly(start="13:00", end="16:00")])


def test_forbids_start_once_its_session_is_full() -> None:
    """At most 1 visit a session, 09:00 booked: nothing more in the morning block."""
    where = _limited(BookingLimit(SESSION, max_visits=1), busy=[_visit("09:00")], base=TWO_SESSIONS)
    assert not offered(where, request(), at(MONDAY, "10:00"))


def test_allows_start_in_another_session_of_the_day() -> None:
    """... the afternoon block is a session of its own."""
    where = _limited(BookingLimit(SESSION, max_visits=1), busy=[_visit("09:00")], base=TWO_SESSIONS)
    assert offered(where, request(), at(MONDAY, "13:00"))


def test_session_counts_visits_starting_in_the_block_only() -> None:
    """A booking 08:00-08:30 before the morning block does not count toward it (it starts outside)."""
    where = _limited(BookingLimit(SESSION, max_visits=1), busy=[_visit("08:00")], base=TWO_SESSIONS)
    assert offered(where, request(), at(MONDAY, "10:00"))


def test_session_of_an_opening_is_the_opening() -> None:
    """An opening is a session too: 2 new patients per evening opening, two booked, none more."""
    evening = Opening(P1.id, MAIN.id, MONDAY, minute("17:00"), minute("20:00"), 15, ("NP",))
    base = evolve(clinic(), openings=(evening,))
    limit = BookingLimit(SESSION, max_visits=2, visit_types=("NP",))
    full = _limited(limit, busy=[_visit("17:00", 60, visit_type="NP"), _visit("18:00", 60, visit_type="NP")], base=base)
    half = _limited(limit, busy=[_visit("17:00", 60, visit_type="NP")], base=base)
    assert not offered(full, request(visit_types=NP_ASKED), at(MONDAY, "19:00"))
    assert offered(half, request(visit_types=NP_ASKED), at(MONDAY, "19:00"))


# ---- time zones ------------------------------------------------------------------------------


KOLKATA = Location("loc-kol", "RES Kolkata", "OPD", "Asia/Kolkata")
TWO_ZONES = clinic(
    locations=[MAIN, KOLKATA],
    templates=[
        weekly(weekdays=range(7)),  # Chicago mornings
        weekly(location=KOLKATA.id, weekdays=range(7), start="09:00", end="12:00"),  # Kolkata mornings
    ],
)
# 23:30 on Monday in Chicago (CDT, -05:00) is 10:00 on Tuesday in Kolkata (+05:30).
LATE_MONDAY = _visit("23:30")


def _kolkata(hhmm: str, date: dt.date) -> int:
    """The instant of Kolkata wall time ``hhmm`` on ``date``."""
    return instant_of(KOLKATA.time_zone, date, minute(hhmm))


def test_day_is_the_local_date_at_the_new_visits_location() -> None:
    """At most 1 visit a day; P1 saw someone at 23:30 Monday, Chicago time. At the Kolkata location that was
    Tuesday 10:00 local, so Tuesday there is full ..."""
    where = _limited(BookingLimit(DAY, max_visits=1), busy=[LATE_MONDAY], base=TWO_ZONES)
    asked = request(first=MONDAY, days=3)
    assert not offered(where, asked, _kolkata("11:00", TUESDAY))


def test_day_at_another_location_is_its_own_local_date() -> None:
    """... while at the Chicago location Tuesday morning is open (the booking was Monday there)."""
    where = _limited(BookingLimit(DAY, max_visits=1), busy=[LATE_MONDAY], base=TWO_ZONES)
    asked = request(first=MONDAY, days=3)
    assert offered(where, asked, at(TUESDAY, "09:00"))


# ---- without limits nothing changes ----------------------------------------------------------


def test_limits_of_other_providers_change_nothing() -> None:
    """A limit that applies to nobody asked gives the very same candidates."""
    busy = [_visit("09:00"), _visit("10:00", visit_type="NP")]
    limited = _limited(BookingLimit(DAY, max_visits=1, providers=(P2.id,)), busy=busy)
    plain = _limited(busy=busy)
    assert list_candidates(limited, request(), now=NOW) == list_candidates(plain, request(), now=NOW)


# ---- the worked example of docs/clinic-format.md ---------------------------------------------


def test_docs_worked_example() -> None:
    """docs/clinic-format.md, "Booking limits": 2 new patients (NP here) per session, 6 hours a day for P1,
    holds counting. Two NP and a one-hour hold in the morning: no NP in the morning, NP in the afternoon,
    OV in the free morning hour; three more hours booked in the afternoon fill the day."""
    limits = (
        BookingLimit(SESSION, max_visits=2, visit_types=("NP",)),
        BookingLimit(DAY, max_minutes=360, providers=(P1.id,)),
        BookingLimit(WEEK, max_visits=40),
    )
    morning = [_visit("08:00", 60, visit_type="NP"), _visit("09:00", 60, visit_type="NP")]
    morning.append(_visit("10:00", 60, kind=BusyKind.HOLD))
    base = clinic(templates=[weekly(start="08:00", end="12:00"), weekly(start="13:00", end="17:00")])
    where = _limited(*limits, busy=morning, holds_count=True, base=base)
    assert not offered(where, request(visit_types=NP_ASKED), at(MONDAY, "11:00"))
    assert offered(where, request(visit_types=NP_ASKED), at(MONDAY, "13:00"))
    assert offered(where, request(), at(MONDAY, "11:00"))
    afternoon = [_visit("13:00", 60), _visit("14:00", 60), _visit("15:00", 60)]
    full = _limited(*limits, busy=[*morning, *afternoon], holds_count=True, base=base)
    assert not offered(full, request(), at(MONDAY, "16:00"))
    without_holds = _limited(*limits, busy=[*morning, *afternoon], base=base)
    assert offered(without_holds, request(), at(MONDAY, "16:00"))
