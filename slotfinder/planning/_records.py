"""What a simulation records: how each request ended, the offers it saw, each booking and its fate.

``BookingStatus`` is also the fate of a generated scenario's history items (no-show, cancelled).
"""

from __future__ import annotations

import datetime as dt
import enum

from attrs import frozen

__all__ = ["BookingRecord", "BookingStatus", "Offer", "Outcome", "RequestRecord"]


class Outcome(enum.Enum):
    """How a request ended."""

    BOOKED = "booked"
    DECLINED = "declined"  # offered slots, took none
    NO_OFFER = "no_offer"  # the engine found nothing in the request's window


class BookingStatus(enum.Enum):
    """What became of a booking: by the end of a simulation run, or in a generated scenario's history.

    A scenario's history holds only ``NO_SHOW`` (the booking stays in ``clinic.busy``) and
    ``CANCELLED`` (it is not in ``clinic.busy``: its time is open again).
    """

    SCHEDULED = "scheduled"  # its visit starts after the simulation ends (still on the calendar)
    ATTENDED = "attended"
    NO_SHOW = "no_show"  # the time stayed booked and was wasted
    CANCELLED = "cancelled"  # freed before the visit


@frozen
class Offer:
    """One slot shown to a patient, and what the patient saw in it."""

    start: int
    duration: int
    provider_id: str
    location_id: str
    room: str | None
    score: float  # the engine's score
    local_date: dt.date
    local_minute: int
    wait_days: int  # local calendar days from the request to the visit
    preferred_day: bool
    preferred_time: bool
    probability: float  # chance the choice model gave it (1 or 0 for rule "best" and scripted picks)


@frozen
class RequestRecord:
    """One request: who asked for what, what they were offered, what they did, and availability then."""

    index: int  # position in arrival order (ties: rate order for drawn, script order for scripted requests)
    arrival: int
    local_date: dt.date  # of the arrival, in the simulation's zone
    visit_type: str
    duration: int
    patient: str
    days: frozenset[int]  # preferred weekdays (empty: none named)
    times: tuple[int, ...]  # preferred start wall times (empty: none named)
    offers: tuple[Offer, ...]
    chosen: int | None  # index into offers
    outcome: Outcome
    first_available: int | None  # instant of the next available appointment (None: none in tna horizon)
    third_available: int | None  # instant of the third next available appointment
    first_available_days: int | None  # local calendar days from the request
    third_available_days: int | None


@frozen
class BookingRecord:
    """One booking the simulation made and its fate."""

    visit_number: str
    request: int  # RequestRecord.index
    visit_type: str
    patient: str
    start: int
    end: int
    provider_id: str
    location_id: str
    room: str | None
    booked_at: int
    status: BookingStatus
    cancelled_at: int | None
    preferred_day: bool | None  # None: the patient named no day
    preferred_time: bool | None  # None: the patient named no time
