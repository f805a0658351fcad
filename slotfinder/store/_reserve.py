"""Holding and booking one appointment (FHIR ``$hold``/``$book``): is it still free, and what is written.

The check is the engine's own: :func:`open_candidate` lists the engine's candidates for exactly the
proposed start (window of one minute, the proposal's provider, location and visit type) on the
materialised calendars, and takes one whose duration is the proposal's. Busy time, buffers, rooms,
equipment, pools, booking limits and the minimum notice are all the search's rules, so a start the
search would not offer cannot be held or booked. A cheap interval test on the appointment records
(:func:`clashes`) answers the common refusal (someone just took it) before the engine runs.

The record written is an :class:`Appointment` of status ``held`` or ``booked`` with what the fold and
the engine use: times, provider, location, the room the engine chose, the visit type (its equipment
and pooled units, buffered), the patient's identifiers (ID and type) and, for a hold, its expiry.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable

from attrs import field, frozen

from slotfinder._domain import Clinic, LocationFilter, Need, PatientId, ProviderFilter, SlotRequest, VisitTypeFilter
from slotfinder._events import StaffTime
from slotfinder._pipeline import Candidate, list_candidates
from slotfinder._prepared import PreparedClinic
from slotfinder._settings import Settings
from slotfinder.store._records import dump_appointment, load_appointment
from slotfinder.store._state import BOOKED, HELD, Appointment, StoreState, holds_time, materialise, utc_text

__all__ = [
    "DEFAULT_HOLD",
    "HELD",
    "Proposal",
    "Reserved",
    "clashes",
    "dump_reservation",
    "free_record",
    "load_reservation",
    "new_number",
    "open_candidate",
    "reserved",
    "utc_text",
]

DEFAULT_HOLD = dt.timedelta(minutes=10)
"""How long a hold keeps its time when the caller does not say (the server's ``hold_minutes``)."""

NUMBER_PREFIX = "fhir-"  # visit numbers this store gives: never one an EHR sends (theirs are its own)


def _tuple(value: tuple[PatientId, ...] | list[PatientId]) -> tuple[PatientId, ...]:
    return tuple(value)


@frozen
class Proposal:
    """An appointment a client asks to hold or book: when, with whom, where, of which visit type, for whom."""

    start: int  # instant (minutes since the epoch, UTC)
    end: int
    provider_id: str
    location_id: str
    visit_type: str | None = None
    patients: tuple[PatientId, ...] = field(default=(), converter=_tuple)


@frozen
class Reserved:
    """What became of a hold or book: ``outcome`` is ``held``, ``booked``, ``taken`` (not free: nothing
    written) or ``unknown`` (no such held appointment); ``seq`` is the log entry when one was written."""

    outcome: str
    appointment: Appointment | None = None
    seq: int | None = None

    @property
    def done(self) -> bool:
        return self.outcome in (HELD, BOOKED)


def new_number() -> str:
    """A fresh visit number for an appointment this store creates."""
    return NUMBER_PREFIX + uuid.uuid4().hex


def clashes(appointments: dict[str, Appointment], proposal: Proposal, now: str, number: str | None = None) -> bool:
    """Whether a record other than ``number`` occupying its time at ``now`` overlaps the proposal's provider
    (a quick refusal; the engine's check decides when this finds nothing)."""
    for other in appointments.values():
        if other.visit_number == number or other.start is None or other.end is None:
            continue
        same = other.provider_id == proposal.provider_id or any(
            s.resource == proposal.provider_id and not s.is_equipment for s in other.staff
        )
        if same and other.start < proposal.end and proposal.start < other.end and holds_time(other, now):
            return True
    return False


def open_candidate(
    clinic: Clinic | PreparedClinic, proposal: Proposal, now: dt.datetime, room: str | None = None
) -> Candidate | None:
    """The engine's candidate for exactly this start, provider, location, visit type and duration, if the
    materialised ``clinic`` (or the same calendars prepared) has one at ``now`` (when rooms make several: the
    one in ``room``, else the best-ranked)."""
    request = SlotRequest(
        start=proposal.start,
        end=proposal.start + 1,
        providers=[ProviderFilter(proposal.provider_id)],
        locations=[LocationFilter(id=proposal.location_id)],
        visit_types=[VisitTypeFilter(proposal.visit_type)] if proposal.visit_type else [],
        patient_ids=proposal.patients,
    )
    found = [
        candidate
        for candidate in list_candidates(clinic, request, Settings(), now)
        if candidate.start == proposal.start
        and candidate.duration == proposal.end - proposal.start
        and candidate.provider_id == proposal.provider_id
        and candidate.location_id == proposal.location_id
        and candidate.visit_type == proposal.visit_type
        and candidate.eligible
    ]
    return next((c for c in found if room is not None and c.room == room), found[0] if found else None)


def free_record(
    state: StoreState,
    proposal: Proposal,
    number: str,
    now: dt.datetime,
    room: str | None = None,
    prepared: Callable[[StoreState, dt.datetime], PreparedClinic] | None = None,
) -> Appointment | None:
    """The booked record ``proposal`` would be written as (in ``room`` when the engine offers it there, else
    in the room the engine ranks first) if its time is free in ``state`` at ``now``, else None. The record
    ``number`` itself is left out (a hold does not block its own booking). ``prepared``: what gives the
    materialised calendars of a state at ``now`` prepared (a store's cache); else they are materialised here."""
    if clashes(state.appointments, proposal, utc_text(now), number):
        return None
    others = StoreState(state.clinic, {n: a for n, a in state.appointments.items() if n != number}, state.pushed)
    clinic = materialise(others, now) if prepared is None or others.clinic is None else prepared(others, now)
    candidate = open_candidate(clinic, proposal, now, room)
    rules = clinic.clinic if isinstance(clinic, PreparedClinic) else clinic  # its visit types
    return None if candidate is None else reserved(rules, proposal, candidate, number, None)


def reserved(
    clinic: Clinic, proposal: Proposal, candidate: Candidate, number: str, held_until: str | None
) -> Appointment:
    """The record of ``proposal`` held (until ``held_until``) or booked (None) as ``number``: it occupies
    what the visit type needs (the room the engine chose, every equipment unit, pooled units)."""
    visit_type = next((vt for vt in clinic.visit_types if vt.code == proposal.visit_type), None)
    staff: list[StaffTime] = []
    needs: tuple[Need, ...] = ()
    if visit_type is not None:
        # Equipment items carry no visit type, so their buffers are written into their span.
        before, after = proposal.start - visit_type.buffer_before, proposal.end + visit_type.buffer_after
        staff = [StaffTime(unit, before, after, is_equipment=True) for unit in visit_type.equipment]
        needs = visit_type.needs
    return Appointment(
        visit_number=number,
        status=HELD if held_until is not None else BOOKED,
        start=proposal.start,
        end=proposal.end,
        provider_id=proposal.provider_id,
        location_id=proposal.location_id,
        room=candidate.room,
        patients=proposal.patients,
        staff=staff,
        visit_type=proposal.visit_type,
        held_until=held_until,
        booking=True,
        pools=needs,
    )


def dump_reservation(appointment: Appointment) -> str:
    """The log record of a hold or booking: the appointment record it sets (kind ``booking``)."""
    return json.dumps({"appointment": json.loads(dump_appointment(appointment))}, sort_keys=True, separators=(",", ":"))


def load_reservation(text: str) -> Appointment:
    return load_appointment(json.dumps(json.loads(text)["appointment"]))
