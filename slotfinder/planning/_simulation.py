"""Capacity simulation: requests arrive over weeks, the engine offers its top K, patients choose, calendars fill.

One run is a discrete-event simulation on the engine's clock (integer minutes since the epoch, UTC):

1. **Arrivals.** On each call day (local weekday in ``SimulationSpec.call_days``, in the simulation's
   time zone) the number of requests of each visit type is Poisson with mean ``per_day x load``; each
   arrives at a uniformly drawn minute of the call hours. ``SimulationSpec.script`` replaces them with
   given requests (tests, what-if cases).
2. **Preferences.** Each patient names preferred weekdays with probability ``day_probability`` (1-3 of
   ``weekdays``) and a preferred start time with probability ``time_probability`` (one of ``times``).
3. **Search.** The request asks for its visit type over ``horizon_days`` from its arrival, with those
   preferences (soft, ranking only) and a new synthetic patient identifier; ``find_slots`` answers with
   ``now`` = the arrival and ``limit`` = K. Before that the first and third next available appointment
   are measured on the same calendars (``next_available``).
4. **Choice.** A multinomial logit over the K offers and a decline option (``ChoiceModel``): an offer's
   utility is ``score x engine score + preferred_day x [weekday preferred] + preferred_time x [start
   within the tolerance of a preferred time] + wait_per_day x days from request to visit``; declining
   has utility ``decline``. ``rule="best"`` takes the top offer (never declines). A patient who declines
   or gets no offer leaves (no retry).
5. **Booking.** The chosen slot becomes a ``Busy(BOOKING)`` with the patient and a ``SIM-...`` visit
   number, added to the clinic (a new frozen value; the run holds it prepared for the engine and moves
   to the next with ``PreparedClinic.updated`` after every change). At booking time its fate is drawn: cancelled with
   ``cancel_probability`` at a uniform instant between booking and the visit (the time is freed: the
   item is removed, later requests can book it), else a no-show with ``no_show_probability`` (the time
   stays used, recorded as wasted when the visit's start passes), else attended.

Everything random comes from four numpy streams spawned from ``SimulationSpec.seed`` (arrivals,
preferences, choices, fates), and events at the same minute run in a fixed order (visits, then
cancellations, then arrivals, each in creation order): the same clinic and spec give the same result,
in any process. Metrics: ``weekly_metrics`` (``_run_result``); replicates: ``run_replicates``.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np

from slotfinder import (
    Busy,
    BusyKind,
    Clinic,
    PatientId,
    Preference,
    PreparedClinic,
    RankedSlot,
    Settings,
    SlotRequest,
    VisitTypeFilter,
    find_slots,
    prepare,
    walltime,
)
from slotfinder.planning._arrivals import Arrival, drawn_arrivals, scripted_arrivals
from slotfinder.planning._availability import Available, next_available
from slotfinder.planning._minutes import DAY
from slotfinder.planning._records import BookingRecord, BookingStatus, Offer, Outcome, RequestRecord
from slotfinder.planning._run_result import SimulationResult
from slotfinder.planning._simulation_spec import SimulationSpec

__all__ = ["simulate"]

_MEASURED = 3  # next available appointments measured per request: the first and the third
_STREAMS = 4  # random streams spawned from the seed: arrivals, preferences, choices, fates
_VISIT, _CANCEL, _ARRIVE = 0, 1, 2  # order of events at the same minute


def simulate(clinic: Clinic, spec: SimulationSpec, *, progress: bool = False) -> SimulationResult:
    """Run the simulation of ``spec`` on ``clinic`` (see the module docstring); deterministic from the seed."""
    zone = _checked_zone(clinic, spec)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(spec.seed).spawn(_STREAMS)]
    arrival_rng, preference_rng, choice_rng, fate_rng = streams
    arrivals = scripted_arrivals(spec) if spec.script else drawn_arrivals(spec, zone, arrival_rng, preference_rng)
    settings = attrs.evolve(spec.settings, limit=spec.k)
    run = _Run(clinic, spec, zone, settings, choice_rng, fate_rng)
    events: list[tuple[int, int, int, int]] = []  # (instant, order, sequence, payload)
    sequence = 0

    def push(at: int, kind: int, payload: int) -> None:
        nonlocal sequence
        heapq.heappush(events, (at, kind, sequence, payload))
        sequence += 1

    for i, arrival in enumerate(arrivals):
        push(arrival.at, _ARRIVE, i)
    bar = _progress(len(arrivals), progress)
    try:
        while events and events[0][0] < spec.end:
            at, kind, _, payload = heapq.heappop(events)
            if kind == _ARRIVE:
                booking = run.arrive(arrivals[payload], payload)
                bar.update(1)
                if booking is not None:
                    cancel_at, _no_show = run.fates[booking]
                    if cancel_at is not None:
                        push(cancel_at, _CANCEL, booking)
                    else:
                        push(run.bookings[booking].start, _VISIT, booking)
            elif kind == _CANCEL:
                run.cancel(payload, at)
            else:
                run.visit(payload)
    finally:
        bar.close()
    return SimulationResult(
        spec=spec,
        zone=zone,
        requests=tuple(run.requests),
        bookings=tuple(run.bookings),
        clinic=run.clinic,
        initial=clinic,
    )


def _checked_zone(clinic: Clinic, spec: SimulationSpec) -> str:
    """The simulation's time zone, once ``spec`` is known to fit ``clinic`` (else ValueError)."""
    if spec.zone is None and not clinic.locations:
        raise ValueError("the clinic has no location (no time zone for arrival hours and weeks)")
    zone = spec.zone or clinic.locations[0].time_zone
    if not walltime.check_zone(zone):
        raise ValueError(f"unknown time zone {zone!r}")
    if spec.tna_horizon_days > spec.settings.max_horizon_days or spec.horizon_days > spec.settings.max_horizon_days:
        raise ValueError(f"horizons must not exceed the engine's maximum of {spec.settings.max_horizon_days} days")
    codes = {vt.code for vt in clinic.visit_types}
    for name in [r.visit_type for r in spec.rates] + [a.visit_type for a in spec.script]:
        if name not in codes:
            raise ValueError(f"visit type {name!r} is not one of the clinic's ({', '.join(sorted(codes))})")
    return zone


class _NoBar:
    """A progress bar that shows nothing."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, enabled: bool) -> Any:
    """A tqdm bar over the requests on stderr, or nothing (tqdm loads only when shown)."""
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc="requests", unit="req", leave=False)


class _Run:
    """The state of a run: the calendars now, and every record so far."""

    def __init__(
        self,
        clinic: Clinic,
        spec: SimulationSpec,
        zone: str,
        settings: Settings,
        choice_rng: np.random.Generator,
        fate_rng: np.random.Generator,
    ) -> None:
        self.clinic = clinic
        self._prepared = prepare(clinic)
        self.spec = spec
        self.zone = zone
        self.settings = settings
        self.choice_rng = choice_rng
        self.fate_rng = fate_rng
        self.requests: list[RequestRecord] = []
        self.bookings: list[BookingRecord] = []
        self.items: list[tuple[Busy, ...]] = []  # the calendar items of each booking (the visit, then units)
        self.fates: list[tuple[int | None, bool]] = []  # cancel instant, no-show

    def prepared(self) -> PreparedClinic:
        """The calendars now, prepared for the engine (each booking and cancellation moves it on with
        ``with_busy``: the busy index is updated, templates are not expanded again)."""
        return self._prepared

    def _change(self, added: Sequence[Busy] = (), removed: Sequence[Busy] = ()) -> None:
        self._prepared = self._prepared.with_busy(added, removed)
        self.clinic = self._prepared.clinic

    def arrive(self, arrival: Arrival, index: int) -> int | None:
        """Search, offer, choose and book; the booking's index when one is made."""
        code = arrival.visit_type
        now = arrival.at
        local_date, _ = walltime.local_of(self.zone, now)
        patient = PatientId(f"SIM{self.spec.seed}-{index:06d}", "SIM")
        prepared = self.prepared()
        available = next_available(
            prepared, code, now, count=_MEASURED, horizon_days=self.spec.tna_horizon_days, settings=self.settings
        )
        first = available[0] if available else None
        third = available[_MEASURED - 1] if len(available) >= _MEASURED else None
        preferences = [Preference(arrival.days, arrival.times)] if arrival.days or arrival.times else []
        request = SlotRequest(
            start=now,
            end=now + self.spec.horizon_days * DAY,
            visit_types=[VisitTypeFilter(code)],
            preferences=preferences,
            patient_ids=[patient],
        )
        found = find_slots(prepared, request, self.settings, now, relax=False)
        offers = [self._offer(slot, arrival, now) for slot in found.slots]
        chosen, probabilities = self._choose(offers, arrival)
        offers = [attrs.evolve(o, probability=p) for o, p in zip(offers, probabilities, strict=True)]
        if not offers:
            outcome = Outcome.NO_OFFER
        elif chosen is None:
            outcome = Outcome.DECLINED
        else:
            outcome = Outcome.BOOKED
        self.requests.append(
            RequestRecord(
                index=index,
                arrival=now,
                local_date=local_date,
                visit_type=code,
                duration=_duration(self.clinic, code),
                patient=patient.id,
                days=arrival.days,
                times=arrival.times,
                offers=tuple(offers),
                chosen=chosen,
                outcome=outcome,
                first_available=first.start if first is not None else None,
                third_available=third.start if third is not None else None,
                first_available_days=_days(self.clinic, first, now),
                third_available_days=_days(self.clinic, third, now),
            )
        )
        if chosen is None:
            return None
        return self._book(found.slots[chosen], offers[chosen], arrival, index, patient)

    def _offer(self, slot: RankedSlot, arrival: Arrival, now: int) -> Offer:
        minute = slot.local_time.hour * 60 + slot.local_time.minute
        tolerance = self.spec.choice.time_tolerance
        return Offer(
            start=slot.start,
            duration=slot.duration,
            provider_id=slot.provider.id,
            location_id=slot.location.id,
            room=slot.room,
            score=slot.score,
            local_date=slot.local_date,
            local_minute=minute,
            wait_days=(slot.local_date - walltime.local_of(slot.location.time_zone, now)[0]).days,
            preferred_day=slot.local_date.weekday() in arrival.days,
            preferred_time=any(abs(minute - t) <= tolerance for t in arrival.times),
            probability=0.0,
        )

    def _choose(self, offers: Sequence[Offer], arrival: Arrival) -> tuple[int | None, list[float]]:
        """The offer taken (None: declined) and each offer's probability of being taken."""
        model = self.spec.choice
        # One uniform per request, always drawn: the stream stays aligned whatever the rule.
        u = float(self.choice_rng.random())
        if not offers:
            return None, []
        if arrival.pick is not None:
            if arrival.pick >= len(offers):
                raise ValueError(f"scripted pick {arrival.pick} but only {len(offers)} offers at {arrival.at}")
            chosen = None if arrival.pick < 0 else arrival.pick
            return chosen, [1.0 if i == chosen else 0.0 for i in range(len(offers))]
        if model.rule == "best":
            return 0, [1.0] + [0.0] * (len(offers) - 1)
        utilities = [model.decline] + [
            model.score * o.score
            + model.preferred_day * o.preferred_day
            + model.preferred_time * o.preferred_time
            + model.wait_per_day * o.wait_days
            for o in offers
        ]
        top = max(utilities)
        weights = [math.exp(v - top) for v in utilities]
        total = math.fsum(weights)
        probabilities = [w / total for w in weights]
        cumulative = 0.0
        pick = len(probabilities) - 1
        for i, p in enumerate(probabilities):
            cumulative += p
            if u < cumulative:
                pick = i
                break
        return (None if pick == 0 else pick - 1), probabilities[1:]

    def _book(self, slot: RankedSlot, offer: Offer, arrival: Arrival, index: int, patient: PatientId) -> int:
        number = len(self.bookings)
        visit_number = f"SIM-{self.spec.seed}-{number:06d}"
        visit_type = slot.visit_type
        item = Busy(
            BusyKind.BOOKING,
            slot.start,
            slot.start + slot.duration,
            provider_id=slot.provider.id,
            location_id=slot.location.id,
            room=slot.room,
            visit_number=visit_number,
            patients=[patient],
            visit_type=visit_type.code if visit_type is not None else None,  # its buffers, limits and seats
        )
        # the equipment units and pooled units the visit type needs are taken too, as in a real booking
        taken = [
            Busy(BusyKind.BOOKING, item.start, item.end, location_id=slot.location.id, equipment=unit,
                 visit_number=visit_number)
            for unit in (visit_type.equipment if visit_type is not None else ())
        ] + [
            Busy(BusyKind.BOOKING, item.start, item.end, location_id=slot.location.id, pool=need.kind,
                 pool_units=need.units, visit_number=visit_number)
            for need in (visit_type.needs if visit_type is not None else ())
        ]  # fmt: skip
        self._change(added=(item, *taken))
        self.items.append((item, *taken))
        self.fates.append(self._fate(arrival, slot.start))
        self.bookings.append(
            BookingRecord(
                visit_number=visit_number,
                request=index,
                visit_type=arrival.visit_type,
                patient=patient.id,
                start=slot.start,
                end=slot.start + slot.duration,
                provider_id=slot.provider.id,
                location_id=slot.location.id,
                room=slot.room,
                booked_at=arrival.at,
                status=BookingStatus.SCHEDULED,
                cancelled_at=None,
                preferred_day=offer.preferred_day if arrival.days else None,
                preferred_time=offer.preferred_time if arrival.times else None,
            )
        )
        return number

    def _fate(self, arrival: Arrival, start: int) -> tuple[int | None, bool]:
        """When the booking is cancelled (None: never) and whether the patient fails to come."""
        u_cancel, u_when, u_no_show = (float(x) for x in self.fate_rng.random(3))  # always three draws
        if arrival.cancel_at is not None:
            if not arrival.at <= arrival.cancel_at < max(start, arrival.at + 1):
                raise ValueError(f"scripted cancel_at {arrival.cancel_at} is not between booking and visit")
            return arrival.cancel_at, False
        if arrival.no_show is None and u_cancel < self.spec.cancel_probability:
            return arrival.at + math.floor(u_when * max(start - arrival.at, 0)), False
        no_show = arrival.no_show if arrival.no_show is not None else u_no_show < self.spec.no_show_probability
        return None, no_show

    def cancel(self, booking: int, at: int) -> None:
        self._change(removed=self.items[booking])  # the visit and the units it took
        self.bookings[booking] = attrs.evolve(self.bookings[booking], status=BookingStatus.CANCELLED, cancelled_at=at)

    def visit(self, booking: int) -> None:
        status = BookingStatus.NO_SHOW if self.fates[booking][1] else BookingStatus.ATTENDED
        self.bookings[booking] = attrs.evolve(self.bookings[booking], status=status)


def _duration(clinic: Clinic, code: str) -> int:
    return clinic.visit_type(code).duration


def _days(clinic: Clinic, appointment: Available | None, now: int) -> int | None:
    """Local calendar days from ``now`` to the appointment, in its location's zone (IHI counts calendar days)."""
    if appointment is None:
        return None
    zone = clinic.location(appointment.location_id).time_zone
    return (walltime.local_of(zone, appointment.start)[0] - walltime.local_of(zone, now)[0]).days
