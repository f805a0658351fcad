"""The clinic and the request, as frozen attrs values.

Plain values only: no JSON field names, no solver, no time-zone arithmetic. Two time scales appear:

* an *instant* is an ``int`` of minutes since 1970-01-01T00:00Z (the engine's only clock);
* a *wall time* is an ``int`` of minutes after local midnight (0..1440) at a location, used by
  weekly templates and preferences, and turned into instants only by ``calendars.zones``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import Any

import attrs
from attrs import field, frozen

from slotfinder._composite_types import CompositeVisitType
from slotfinder._errors import InvalidValue

__all__ = [
    "BookingLimit",
    "Busy",
    "BusyKind",
    "Clinic",
    "DateOverride",
    "LimitPeriod",
    "Location",
    "LocationFilter",
    "Need",
    "OpenTime",
    "Opening",
    "PatientId",
    "Pool",
    "Preference",
    "Provider",
    "ProviderFilter",
    "SlotRequest",
    "StartAlignment",
    "VisitType",
    "VisitTypeFilter",
    "WeeklyTemplate",
    "WorkingHours",
    "start_alignment",
]

MINUTES_PER_DAY = 1440


def _non_empty(_inst: Any, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value.strip():
        raise InvalidValue(f"{attribute.name} must not be empty")


def _positive(_inst: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if value <= 0:
        raise InvalidValue(f"{attribute.name} must be a positive number of minutes, got {value}")


def _at_most_a_day(_inst: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if value > MINUTES_PER_DAY:
        raise InvalidValue(f"{attribute.name} must be at most {MINUTES_PER_DAY} minutes, got {value}")


def _not_negative(_inst: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 0:
        raise InvalidValue(f"{attribute.name} must not be negative")


def _at_least_one(_inst: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 1:
        raise InvalidValue(f"{attribute.name} must be at least 1")


def _wall_time(_inst: Any, attribute: attrs.Attribute[Any], value: int) -> None:
    if not 0 <= value <= MINUTES_PER_DAY:
        raise InvalidValue(f"{attribute.name} must lie in 0..1440 minutes after midnight, got {value}")


def _later_same_day(inst: Any, _attribute: attrs.Attribute[Any], value: int) -> None:
    """``end`` after ``start``, both wall-clock minutes of one local day (templates, openings, hours)."""
    if value <= inst.start:
        raise InvalidValue("end must be later than start on the same local day")


def _weekdays(_inst: Any, attribute: attrs.Attribute[Any], value: frozenset[int]) -> None:
    if not value or not value <= frozenset(range(7)):
        raise InvalidValue(f"{attribute.name} must be a non-empty set of weekdays 0 (Monday) .. 6 (Sunday)")


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    # Typed as Any so mypy accepts lists and tuples alike at construction; the field type says what is inside.
    return tuple(value)


def _set(value: Iterable[Any]) -> frozenset[Any]:
    return frozenset(value)


@frozen
class Provider:
    """A clinician whose calendar can be booked."""

    id: str = field(validator=_non_empty)
    id_type: str = "NPI"
    first_name: str | None = None
    last_name: str | None = None
    credentials: tuple[str, ...] = field(default=(), converter=_tuple)
    specialty: str | None = None


@frozen
class Pool:
    """``units`` interchangeable units of one resource ``kind`` at a location (3 infusion chairs)."""

    kind: str = field(validator=_non_empty)
    units: int = field(validator=_at_least_one)


@frozen
class Need:
    """A visit type needs ``units`` free units of the pooled resource ``kind`` at its location."""

    kind: str = field(validator=_non_empty)
    units: int = field(default=1, validator=_at_least_one)


@frozen
class Location:
    """A place visits happen: a department of a facility, in one IANA time zone."""

    id: str = field(validator=_non_empty)
    facility: str | None
    department: str | None
    time_zone: str = field(validator=_non_empty)
    type: str | None = None
    rooms: tuple[str, ...] = field(default=(), converter=_tuple)
    equipment: tuple[str, ...] = field(default=(), converter=_tuple)  # named units (an ECG cart, an ultrasound)
    pools: tuple[Pool, ...] = field(default=(), converter=_tuple)  # interchangeable units per kind


@frozen
class VisitType:
    """A kind of visit: how long it lasts, whether it needs a room (any of ``rooms``, or any room), and
    which equipment units of the location it needs."""

    code: str = field(validator=_non_empty)
    codeset: str | None
    description: str | None
    duration: int = field(validator=[_positive, _at_most_a_day])
    needs_room: bool = False
    rooms: tuple[str, ...] = field(default=(), converter=_tuple)
    equipment: tuple[str, ...] = field(default=(), converter=_tuple)  # units it needs, every one, all visit long
    needs: tuple[Need, ...] = field(default=(), converter=_tuple)  # free units of pooled kinds, all visit long
    # Buffers (docs/clinic-format.md): minutes before and after the visit that its provider, room and
    # equipment must also have free, for a new visit and for existing bookings of this type alike.
    buffer_before: int = field(default=0, validator=[_not_negative, _at_most_a_day])
    buffer_after: int = field(default=0, validator=[_not_negative, _at_most_a_day])
    # Booking horizon (docs/clinic-format.md): the stricter of this and Settings.min_notice_minutes applies;
    # the start's local date at most max_advance_days after today's; only the first rolling_dates local dates
    # (from today) on which the search has an open start of this type.
    min_notice_minutes: int = field(default=0, validator=_not_negative)
    max_advance_days: int | None = field(default=None, validator=attrs.validators.optional(_not_negative))
    rolling_dates: int | None = field(default=None, validator=attrs.validators.optional(_at_least_one))
    # Group visits (docs/clinic-format.md): bookings of this type with one provider over one span form a
    # session whose start stays open to this type until ``seats`` patients hold it.
    seats: int = field(default=1, validator=_at_least_one)


@frozen
class WeeklyTemplate:
    """A recurring block of working time: weekdays, wall-clock start/end at one location.

    ``visit_types`` empty means every visit type; ``effective_until`` None means it never expires;
    ``slot_length`` is the grid step of starts inside the block; ``room`` is the provider's room.
    """

    provider_id: str
    location_id: str
    weekdays: frozenset[int] = field(converter=_set, validator=_weekdays)
    start: int = field(validator=_wall_time)
    end: int = field(validator=[_wall_time, _later_same_day])
    slot_length: int = field(default=15, validator=[_positive, _at_most_a_day])
    visit_types: tuple[str, ...] = field(default=(), converter=_tuple)
    effective_from: dt.date | None = None
    effective_until: dt.date | None = None
    room: str | None = None

    def in_effect(self, date: dt.date) -> bool:
        """The template gives working time on this local date (its weekday, within its effective dates)."""
        if date.weekday() not in self.weekdays:
            return False
        if self.effective_from is not None and date < self.effective_from:
            return False
        return self.effective_until is None or date <= self.effective_until


@frozen
class Opening:
    """A one-off block of working time on one local date (an extra clinic, a covered shift)."""

    provider_id: str
    location_id: str
    date: dt.date
    start: int = field(validator=_wall_time)
    end: int = field(validator=[_wall_time, _later_same_day])
    slot_length: int = field(default=15, validator=[_positive, _at_most_a_day])
    visit_types: tuple[str, ...] = field(default=(), converter=_tuple)
    room: str | None = None


@frozen
class WorkingHours:
    """One block of a date override: wall-clock start/end on the override's date, like an opening's."""

    start: int = field(validator=_wall_time)
    end: int = field(validator=[_wall_time, _later_same_day])
    slot_length: int = field(default=15, validator=[_positive, _at_most_a_day])
    visit_types: tuple[str, ...] = field(default=(), converter=_tuple)
    room: str | None = None


@frozen
class DateOverride:
    """A provider's hours on one local date, replacing the weekly templates for that date.

    With a ``location_id``, the templates at that location are replaced by ``hours`` there (empty: not
    working there that day); without one, the templates at every location are replaced and ``hours``
    must be empty (not working that day at all). Openings and open times on the date still apply.
    """

    provider_id: str
    location_id: str | None
    date: dt.date
    hours: tuple[WorkingHours, ...] = field(default=(), converter=_tuple)

    @hours.validator
    def _located(self, _attribute: attrs.Attribute[Any], value: tuple[WorkingHours, ...]) -> None:
        if value and self.location_id is None:
            raise InvalidValue("hours need a location_id: an override without one can only say not working")

    def openings(self) -> tuple[Opening, ...]:
        """The override's hours as one-off openings on its date."""
        if self.location_id is None:
            return ()
        where = self.location_id
        return tuple(
            Opening(self.provider_id, where, self.date, h.start, h.end, h.slot_length, h.visit_types, h.room)
            for h in self.hours
        )


class StartAlignment(enum.Enum):
    """Where candidate starts lie inside a block of working time (README, Semantics)."""

    BLOCK = "block"  # every step from the block's start, in elapsed minutes
    CLOCK = "clock"  # wall-clock multiples of the step after local midnight at the location
    AFTER_BUSY = "after_busy"  # as BLOCK, the grid restarting where busy time ends inside the block


def start_alignment(value: StartAlignment | str) -> StartAlignment:
    """A start alignment from itself or its name (``"block"``, ``"clock"``, ``"after_busy"``)."""
    try:
        return StartAlignment(value)
    except ValueError:
        names = ", ".join(a.value for a in StartAlignment)
        raise InvalidValue(f"start_alignment must be one of {names}") from None


@frozen
class OpenTime:
    """Bookable time between two instants: a pushed slot, a FHIR free Slot, an iCalendar AVAILABLE.

    ``slot_length`` is the grid step of starts from ``start``; None makes the whole span one slot.
    ``source`` keeps the identifier it arrived with (a Redox slot ID, a FHIR Slot id, an iCalendar UID).
    """

    provider_id: str
    location_id: str
    start: int
    end: int = field()
    slot_length: int | None = field(default=None)
    visit_types: tuple[str, ...] = field(default=(), converter=_tuple)
    room: str | None = None
    source: str | None = None

    @end.validator
    def _after_start(self, _attribute: attrs.Attribute[int], value: int) -> None:
        if value <= self.start:
            raise InvalidValue("end must be later than start")

    @slot_length.validator
    def _step(self, _attribute: attrs.Attribute[int | None], value: int | None) -> None:
        if value is not None and not 0 < value <= MINUTES_PER_DAY:
            raise InvalidValue(f"slot_length must be 1..1440 minutes, got {value}")


class BusyKind(enum.Enum):
    """Why a stretch of time is not open."""

    BOOKING = "booking"  # an appointment with a patient
    HOLD = "hold"  # a patient-less appointment kept for someone
    BLOCK = "block"  # a patient-less block, possibly reserved for some visit types
    OUT_OF_OFFICE = "out_of_office"  # provider away (vacation, meeting, sick)
    CLOSURE = "closure"  # location closed (holiday, maintenance)


@frozen
class PatientId:
    """One identifier of a patient (ID and its type, e.g. MR)."""

    id: str
    id_type: str | None = None


@frozen
class Busy:
    """Busy time between two instants, occupying a provider, a room, a whole location, equipment or a patient.

    A BLOCK with ``reserved_for`` visit-type codes is open to those types and busy for the rest;
    with ``release_before`` minutes it opens to every type that long before its start.
    """

    kind: BusyKind
    start: int
    end: int = field()
    provider_id: str | None = None
    location_id: str | None = None
    room: str | None = None
    visit_number: str | None = None
    patients: tuple[PatientId, ...] = field(default=(), converter=_tuple)
    reserved_for: tuple[str, ...] = field(default=(), converter=_tuple)
    release_before: int | None = None
    equipment: str | None = None  # the equipment unit it occupies (with location_id)
    visit_type: str | None = None  # the visit's type code: its buffers occupy too, booking limits count it
    pool: str | None = None  # a pooled resource kind of its location (with location_id) it occupies units of
    pool_units: int = field(default=1, validator=_at_least_one)  # how many units of ``pool`` it occupies

    @end.validator
    def _after_start(self, _attribute: attrs.Attribute[int], value: int) -> None:
        if value <= self.start:
            raise InvalidValue("end must be later than start")

    def blocks(self, visit_type: str | None, now: int) -> bool:
        """Whether this item keeps a visit of ``visit_type`` (None: unspecified) out at ``now``."""
        if self.kind is not BusyKind.BLOCK or not self.reserved_for:
            return True
        if self.release_before is not None and now >= self.start - self.release_before:
            return False
        return visit_type not in self.reserved_for


class LimitPeriod(enum.Enum):
    """What a booking limit counts over, for one provider (local dates at the new visit's location)."""

    DAY = "day"  # the local date of the start
    WEEK = "week"  # the ISO week (Monday to Sunday) of that local date
    SESSION = "session"  # the block of working time (template, opening, open time) the start lies in


def _optional_count(_inst: Any, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and value <= 0:
        raise InvalidValue(f"{attribute.name} must be a positive whole number")


@frozen
class BookingLimit:
    """At most ``max_visits`` visits and/or ``max_minutes`` minutes of visits per provider and ``period``.

    ``visit_types`` empty: visits of every type count, and the limit applies to every new visit;
    else only visits of those types count, and it applies to new visits of those types.
    ``providers`` empty: every provider, each counted on its own. See docs/clinic-format.md.
    """

    period: LimitPeriod
    max_visits: int | None = field(default=None, validator=_optional_count)
    max_minutes: int | None = field(default=None)
    visit_types: tuple[str, ...] = field(default=(), converter=_tuple)
    providers: tuple[str, ...] = field(default=(), converter=_tuple)

    @max_minutes.validator
    def _some_maximum(self, attribute: attrs.Attribute[Any], value: int | None) -> None:
        _optional_count(self, attribute, value)
        if value is None and self.max_visits is None:
            raise InvalidValue("max_visits or max_minutes (or both) must be given")


@frozen
class Clinic:
    """Everything the engine knows about a clinic's calendars."""

    providers: tuple[Provider, ...] = field(converter=_tuple)
    locations: tuple[Location, ...] = field(converter=_tuple)
    visit_types: tuple[VisitType, ...] = field(converter=_tuple)
    templates: tuple[WeeklyTemplate, ...] = field(default=(), converter=_tuple)
    openings: tuple[Opening, ...] = field(default=(), converter=_tuple)
    open_times: tuple[OpenTime, ...] = field(default=(), converter=_tuple)
    busy: tuple[Busy, ...] = field(default=(), converter=_tuple)
    default_duration: int = field(default=30, validator=[_positive, _at_most_a_day])
    name: str = "clinic"
    booking_limits: tuple[BookingLimit, ...] = field(default=(), converter=_tuple)  # filters of new visits
    limits_count_holds: bool = False  # holds of a provider count toward booking limits, as bookings always do
    date_overrides: tuple[DateOverride, ...] = field(default=(), converter=_tuple)  # hours replacing templates
    start_alignment: StartAlignment = field(default=StartAlignment.BLOCK, converter=start_alignment)
    # visit-type codes that book several appointments (a sequence or a series: slotfinder.find_offers)
    composites: tuple[CompositeVisitType, ...] = field(default=(), converter=_tuple)

    def provider(self, provider_id: str) -> Provider:
        return next(p for p in self.providers if p.id == provider_id)

    def location(self, location_id: str) -> Location:
        return next(loc for loc in self.locations if loc.id == location_id)

    def visit_type(self, code: str) -> VisitType:
        return next(v for v in self.visit_types if v.code == code)


# ---- the request ----------------------------------------------------------------------------


@frozen
class ProviderFilter:
    """Only this provider: ID must match, and IDType too when given."""

    id: str
    id_type: str | None = None


@frozen
class LocationFilter:
    """A location alternative: every field that is not None must match."""

    id: str | None = None
    facility: str | None = None
    department: str | None = None
    room: str | None = None
    type: str | None = None


@frozen
class VisitTypeFilter:
    """A requested visit type: Code must match, and Codeset too when given."""

    code: str
    codeset: str | None = None


@frozen
class Preference:
    """One alternative of the patient's preferences: weekdays (0 = Monday), start wall times, duration."""

    days: frozenset[int] = field(default=frozenset(), converter=_set)
    times: tuple[int, ...] = field(default=(), converter=_tuple)
    duration: int | None = field(default=None)

    @days.validator
    def _known_days(self, _attribute: attrs.Attribute[frozenset[int]], value: frozenset[int]) -> None:
        if not value <= frozenset(range(7)):
            raise InvalidValue("days must be weekdays 0 (Monday) .. 6 (Sunday)")

    @times.validator
    def _wall_times(self, _attribute: attrs.Attribute[tuple[int, ...]], value: tuple[int, ...]) -> None:
        if any(not 0 <= minute < MINUTES_PER_DAY for minute in value):
            raise InvalidValue("times must be minutes after local midnight, 0..1439")

    @duration.validator
    def _visit_length(self, _attribute: attrs.Attribute[int | None], value: int | None) -> None:
        if value is not None and not 0 < value <= MINUTES_PER_DAY:
            raise InvalidValue("duration must be 1..1440 minutes")


@frozen
class SlotRequest:
    """What is asked: a window of instants and the filters and preferences that apply."""

    start: int
    end: int | None = None
    providers: tuple[ProviderFilter, ...] = field(default=(), converter=_tuple)
    locations: tuple[LocationFilter, ...] = field(default=(), converter=_tuple)
    visit_types: tuple[VisitTypeFilter, ...] = field(default=(), converter=_tuple)
    preferences: tuple[Preference, ...] = field(default=(), converter=_tuple)
    patient_ids: tuple[PatientId, ...] = field(default=(), converter=_tuple)
