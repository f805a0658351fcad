"""A single-slot request that names a composite visit type, answered with offers laid out as slots.

``find_slots`` hands a request here when its visit type is one of the clinic's composites (a
sequence or a series): the request becomes a ``CompositeRequest`` and each offer becomes one slot
per appointment, best offer first, steps in order. A slot has one provider and one location, so the
offer is carried in its notes: ``offer:<id>`` (shared by the offer's appointments), ``step:<i>/<n>``,
and ``with:<provider ID>`` for every further participant of the appointment.

The request's providers narrow every step of one participant that one of them offers (the patient's
clinician takes what they can; the other steps keep their definition); when none of them offers any
such step, there is no offer. A preference's duration is ignored (each step's visit type has its
own), and reported so.
"""

from __future__ import annotations

from collections.abc import Sequence

from attrs import evolve

from slotfinder._calendars.clinic_composites import offered_types
from slotfinder._composite import CompositeRequest, Offer, OfferResult, Role, Step
from slotfinder._composite_types import CompositeVisitType
from slotfinder._domain import Clinic, Preference, SlotRequest
from slotfinder._errors import InvalidRequest, Problem
from slotfinder._offers import find_offers
from slotfinder._prepared import PreparedClinic
from slotfinder._result import RankedSlot, SlotResult
from slotfinder._search import NO_PROVIDER
from slotfinder._settings import Settings

__all__ = ["composite_asked", "find_composite_slots"]

DAY = 1440
NO_OFFER = "no offer: no set of open starts meets every step of the composite visit type"


def composite_asked(clinic: Clinic, request: SlotRequest) -> CompositeVisitType | None:
    """The composite the request asks for (None: an ordinary search); InvalidRequest when mixed."""
    found: list[CompositeVisitType] = []
    for wanted in request.visit_types:
        match = next(
            (
                c
                for c in clinic.composites
                if c.code == wanted.code and (wanted.codeset is None or wanted.codeset == c.codeset)
            ),
            None,
        )
        if match is not None:
            found.append(match)
    if not found:
        return None
    if len(found) != len(request.visit_types):
        raise InvalidRequest([Problem("visit_types", "a composite visit type must be asked for alone")])
    return found[0]


def _narrowed(clinic: Clinic, steps: Sequence[Step], people: frozenset[str]) -> tuple[tuple[Step, ...], bool]:
    """Each step of one participant that some of ``people`` offer, narrowed to them; and whether any was."""
    offered = offered_types(clinic)
    narrowed: list[Step] = []
    used = False
    for step in steps:
        listed = step.participants[0].providers
        able = tuple(
            p
            for p in sorted(people)
            if (not listed or p in listed) and p in offered and step.visit_type in (offered[p] or {step.visit_type})
        )
        if step.size == 1 and able:
            used = True
            narrowed.append(evolve(step, providers=able) if not step.roles else evolve(step, roles=(Role(able, 1),)))
        else:
            narrowed.append(step)
    return tuple(narrowed), used


def _appointment_slots(offer: Offer) -> list[RankedSlot]:
    n = len(offer.appointments)
    slots = []
    for a in offer.appointments:
        notes = (f"offer:{offer.offer_id}", f"step:{a.step + 1}/{n}", *(f"with:{p.id}" for p in a.providers[1:]))
        slots.append(
            RankedSlot(
                start=a.start,
                duration=a.duration,
                provider=a.providers[0],
                location=a.location,
                room=a.room,
                visit_type=a.visit_type,
                score=a.score,
                terms=a.terms,
                local_date=a.local_date,
                local_time=a.local_time,
                notes=notes,
            )
        )
    return slots


def _as_slots(found: OfferResult, window: tuple[int, int], ignored: Sequence[str], why: str = NO_OFFER) -> SlotResult:
    return SlotResult(
        slots=tuple(slot for offer in found.offers for slot in _appointment_slots(offer)),
        status=found.status,
        complete=found.complete,
        method=found.method,
        now=found.now,
        window=window,
        candidates=sum(found.candidates),
        pruned_to=sum(found.pruned_to),
        ignored=tuple(ignored),
        reasons=() if found.offers else (why,),
        timings=found.timings,
    )


def find_composite_slots(
    prepared: PreparedClinic,
    composite: CompositeVisitType,
    request: SlotRequest,
    settings: Settings,
    now: int,
    ignored: Sequence[str],
) -> SlotResult:
    """The offers for ``composite`` within the request's window, as slots (see the module docstring)."""
    clinic = prepared.clinic
    steps = composite.sequence()
    skipped = list(ignored)
    if request.providers:
        people = frozenset(
            p.id
            for p in clinic.providers
            if any(f.id == p.id and (f.id_type is None or f.id_type == p.id_type) for f in request.providers)
        )
        steps, used = _narrowed(clinic, steps, people)
        if not used:  # none of them can take part: nothing to offer with them
            window = (max(request.start, now), request.end or request.start)
            return _as_slots(OfferResult((), "EMPTY", True, "none", now, (), ()), window, skipped, NO_PROVIDER)
    skipped += [f"preferences[{i}].duration" for i, p in enumerate(request.preferences) if p.duration is not None]
    end = request.end if request.end is not None else request.start + settings.default_horizon_days * DAY
    asked = CompositeRequest(
        start=request.start,
        end=end,
        steps=steps,
        locations=request.locations,
        preferences=tuple(Preference(p.days, p.times) for p in request.preferences),
        patient_ids=request.patient_ids,
    )
    found = find_offers(prepared, asked, settings, now)
    return _as_slots(found, (max(request.start, now), end), skipped)
