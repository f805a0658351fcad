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
   are measured on the same calendars (``metrics.next_available``).
4. **Choice.** A multinomial logit over the K offers and a decline option (``ChoiceModel``): an offer's
   utility is ``score x engine score + preferred_day x [weekday preferred] + preferred_time x [start
   within the tolerance of a preferred time] + wait_per_day x days from request to visit``; declining
   has utility ``decline``. ``rule="best"`` takes the top offer (never declines). A patient who declines
   or gets no offer leaves (no retry).
5. **Booking.** The chosen slot becomes a ``Busy(BOOKING)`` with the patient and a ``SIM-...`` visit
   number, added to the clinic (a new frozen value). At booking time its fate is drawn: cancelled with
   ``cancel_probability`` at a uniform instant between booking and the visit (the time is freed: the
   item is removed, later requests can book it), else a no-show with ``no_show_probability`` (the time
   stays used, recorded as wasted when the visit's start passes), else attended.

Everything random comes from four numpy streams spawned from ``SimulationSpec.seed`` (arrivals,
preferences, choices, fates), and events at the same minute run in a fixed order (visits, then
cancellations, then arrivals, each in creation order): the same clinic and spec give the same result,
in any process. Metrics: ``slotfinder.planning.metrics``; replicates: ``slotfinder.planning.runner``.
"""

from __future__ import annotations

import datetime as dt
import enum
import heapq
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
from attrs import field, frozen

from slotfinder._calendars import zones
from slotfinder._domain import Busy, BusyKind, Clinic, PatientId, Preference, SlotRequest, VisitTypeFilter
from slotfinder._result import RankedSlot
from slotfinder._settings import Settings
from slotfinder.planning.metrics import Available, next_available

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ArrivalRate",
    "BookingRecord",
    "BookingStatus",
    "ChoiceModel",
    "Offer",
    "Outcome",
    "PreferenceModel",
    "RequestRecord",
    "ScriptedArrival",
    "SimulationResult",
    "SimulationSpec",
    "simulate",
]

DAY = 1440
WEEK = 7 * DAY
_WEEKDAYS = frozenset(range(7))


def _set(value: Iterable[int]) -> frozenset[int]:
    return frozenset(value)


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(value)


def _probability(_inst: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must lie in 0..1, got {value}")


def _non_negative(_inst: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value >= 0:  # also rejects NaN
        raise ValueError(f"{attribute.name} must not be negative, got {value}")


def _positive(_inst: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be positive, got {value}")


def _weekday_set(_inst: Any, attribute: attrs.Attribute[Any], value: frozenset[int]) -> None:
    if not value <= _WEEKDAYS:
        raise ValueError(f"{attribute.name} must hold weekdays 0 (Monday) .. 6 (Sunday)")


def _wall_times(_inst: Any, attribute: attrs.Attribute[Any], value: tuple[int, ...]) -> None:
    if any(not 0 <= t < DAY for t in value):
        raise ValueError(f"{attribute.name} must hold minutes after local midnight, 0..1439")


@frozen
class ArrivalRate:
    """Requests of one visit type (its code) per call day, on average (Poisson)."""

    visit_type: str
    per_day: float = field(validator=_non_negative)


@frozen
class PreferenceModel:
    """How patients' preferred weekdays and start times are drawn.

    With probability ``day_probability`` a patient names ``k`` weekdays (``k`` uniform among
    ``day_counts``) drawn without replacement from ``weekdays``; independently, with probability
    ``time_probability``, one start time from ``times`` (weights ``time_weights``, uniform when empty).
    """

    day_probability: float = field(default=0.5, validator=_probability)
    day_counts: tuple[int, ...] = field(default=(1, 2, 3), converter=_tuple)
    weekdays: tuple[int, ...] = field(default=(0, 1, 2, 3, 4), converter=_tuple)
    time_probability: float = field(default=0.5, validator=_probability)
    times: tuple[int, ...] = field(default=(540, 600, 780, 900), converter=_tuple, validator=_wall_times)
    time_weights: tuple[float, ...] = field(default=(), converter=_tuple)

    def __attrs_post_init__(self) -> None:
        if (
            not self.weekdays
            or not frozenset(self.weekdays) <= _WEEKDAYS
            or len(set(self.weekdays)) != len(self.weekdays)
        ):
            raise ValueError("weekdays must be distinct weekdays 0 (Monday) .. 6 (Sunday)")
        if not self.day_counts or any(not 1 <= k <= len(self.weekdays) for k in self.day_counts):
            raise ValueError("day_counts must lie in 1..len(weekdays)")
        if not self.times:
            raise ValueError("times must not be empty")
        if self.time_weights and (
            len(self.time_weights) != len(self.times)
            or any(w < 0 for w in self.time_weights)
            or not sum(self.time_weights)
        ):
            raise ValueError("time_weights must be one non-negative weight per time, not all zero")


@frozen
class ChoiceModel:
    """The patient's choice among the offers: multinomial logit with a decline option, or ``best``.

    Utility of an offer: ``score * engine score + preferred_day * [weekday preferred] +
    preferred_time * [start within time_tolerance minutes of a preferred time] + wait_per_day * days
    from request to visit`` (local calendar days); of declining: ``decline``.
    """

    rule: str = field(default="logit")
    score: float = 0.02
    preferred_day: float = 1.0
    preferred_time: float = 1.0
    wait_per_day: float = -0.05
    decline: float = 0.0
    time_tolerance: int = field(default=60, validator=_non_negative)

    @rule.validator
    def _rule(self, _attribute: attrs.Attribute[str], value: str) -> None:
        if value not in ("logit", "best"):
            raise ValueError(f"rule must be 'logit' or 'best', got {value!r}")


@frozen
class ScriptedArrival:
    """A given request (instead of drawn ones): when, which visit type, preferences, and optionally its fate.

    ``pick``: the offer rank taken (0 = the engine's best), -1 declines, None lets the choice model decide.
    ``cancel_at``: cancel the booking at this instant (between booking and visit); None draws it.
    ``no_show``: True / False (either also means not cancelled unless ``cancel_at`` is given); None draws it.
    """

    at: int
    visit_type: str
    days: frozenset[int] = field(default=frozenset(), converter=_set, validator=_weekday_set)
    times: tuple[int, ...] = field(default=(), converter=_tuple, validator=_wall_times)
    pick: int | None = None
    cancel_at: int | None = None
    no_show: bool | None = None


@frozen
class SimulationSpec:
    """Everything a run depends on besides the clinic; the same spec and clinic give the same result."""

    start: int  # instant the first request may arrive (minutes since the epoch, UTC)
    weeks: int = field(default=4, validator=_positive)
    seed: int = field(default=0, validator=_non_negative)
    rates: tuple[ArrivalRate, ...] = field(default=(), converter=_tuple)
    load: float = field(default=1.0, validator=_non_negative)  # multiplies every rate
    call_days: frozenset[int] = field(default=frozenset(range(5)), converter=_set, validator=_weekday_set)
    call_hours: tuple[int, int] = field(
        default=(8 * 60, 17 * 60), converter=_tuple
    )  # local wall minutes [open, close) requests arrive in
    preferences: PreferenceModel = PreferenceModel()
    k: int = field(default=3, validator=_positive)  # offers per request (the engine's limit)
    choice: ChoiceModel = ChoiceModel()
    cancel_probability: float = field(default=0.1, validator=_probability)
    no_show_probability: float = field(default=0.05, validator=_probability)
    horizon_days: int = field(default=30, validator=_positive)  # window each request asks for
    tna_horizon_days: int = field(default=90, validator=_positive)  # how far first/third available look
    settings: Settings = field(factory=Settings)  # engine settings (limit is replaced by k)
    script: tuple[ScriptedArrival, ...] = field(default=(), converter=_tuple)  # replaces drawn arrivals
    zone: str | None = None  # arrival hours and weeks; default: the clinic's first location's zone

    @call_hours.validator
    def _hours(self, _attribute: attrs.Attribute[tuple[int, int]], value: tuple[int, int]) -> None:
        if not 0 <= value[0] < value[1] <= DAY:
            raise ValueError("call_hours must be (open, close) minutes after local midnight, open < close")

    @property
    def end(self) -> int:
        """The instant the simulation stops: ``weeks`` weeks of elapsed time after ``start``."""
        return self.start + self.weeks * WEEK


class Outcome(enum.Enum):
    """How a request ended."""

    BOOKED = "booked"
    DECLINED = "declined"  # offered slots, took none
    NO_OFFER = "no_offer"  # the engine found nothing in the request's window


class BookingStatus(enum.Enum):
    """What became of a booking by the end of the run."""

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


@frozen
class SimulationResult:
    """A run: its spec, every request and booking, and the calendars at the end."""

    spec: SimulationSpec
    zone: str
    requests: tuple[RequestRecord, ...]
    bookings: tuple[BookingRecord, ...]
    clinic: Clinic  # calendars at the end: cancelled bookings removed, no-shows kept
    initial: Clinic  # calendars at the start

    @property
    def start(self) -> int:
        return self.spec.start

    @property
    def end(self) -> int:
        return self.spec.end

    def metrics(self) -> pd.DataFrame:
        """Per visit type and ISO week (``metrics.weekly_metrics``)."""
        from slotfinder.planning.metrics import weekly_metrics

        return weekly_metrics(self)


# ---- the run ------------------------------------------------------------------------------------


@frozen
class _Arrival:
    at: int
    visit_type: str
    days: frozenset[int]
    times: tuple[int, ...]
    pick: int | None = None
    cancel_at: int | None = None
    no_show: bool | None = None


_VISIT, _CANCEL, _ARRIVE = 0, 1, 2  # order of events at the same minute


def simulate(clinic: Clinic, spec: SimulationSpec, *, progress: bool = False) -> SimulationResult:
    """Run the simulation of ``spec`` on ``clinic`` (see the module docstring); deterministic from the seed."""
    zone = spec.zone or _default_zone(clinic)
    if not zones.check_zone(zone):
        raise ValueError(f"unknown time zone {zone!r}")
    if spec.tna_horizon_days > spec.settings.max_horizon_days or spec.horizon_days > spec.settings.max_horizon_days:
        raise ValueError(f"horizons must not exceed the engine's maximum of {spec.settings.max_horizon_days} days")
    codes = {vt.code for vt in clinic.visit_types}
    for name in [r.visit_type for r in spec.rates] + [a.visit_type for a in spec.script]:
        if name not in codes:
            raise ValueError(f"visit type {name!r} is not one of the clinic's ({', '.join(sorted(codes))})")
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(spec.seed).spawn(4)]
    arrival_rng, preference_rng, choice_rng, fate_rng = streams
    arrivals = _scripted(spec) if spec.script else _drawn(spec, zone, arrival_rng, preference_rng)
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


def _default_zone(clinic: Clinic) -> str:
    if not clinic.locations:
        raise ValueError("the clinic has no location (no time zone for arrival hours and weeks)")
    return clinic.locations[0].time_zone


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


def _scripted(spec: SimulationSpec) -> list[_Arrival]:
    for a in spec.script:
        if not spec.start <= a.at < spec.end:
            raise ValueError(f"a scripted arrival at {a.at} lies outside the simulation [{spec.start}, {spec.end})")
    ordered = sorted(enumerate(spec.script), key=lambda p: (p[1].at, p[0]))
    return [_Arrival(a.at, a.visit_type, a.days, a.times, a.pick, a.cancel_at, a.no_show) for _, a in ordered]


def _drawn(
    spec: SimulationSpec, zone: str, arrival_rng: np.random.Generator, preference_rng: np.random.Generator
) -> list[_Arrival]:
    """Poisson arrivals per call day and visit type, uniform over the call hours; then their preferences."""
    first, _ = zones.local_of(zone, spec.start)
    last, _ = zones.local_of(zone, spec.end)
    opens, closes = spec.call_hours
    found: list[tuple[int, int, int, str]] = []
    date = first
    while date <= last:
        if date.weekday() in spec.call_days:
            for order, rate in enumerate(spec.rates):
                count = int(arrival_rng.poisson(rate.per_day * spec.load))
                minutes = arrival_rng.integers(opens, closes, size=count)
                for minute in sorted(int(m) for m in minutes):
                    at = zones.instant_of(zone, date, minute)
                    if spec.start <= at < spec.end:
                        found.append((at, order, len(found), rate.visit_type))
        date += dt.timedelta(days=1)
    found.sort()
    model = spec.preferences
    weights = np.array(model.time_weights or [1.0] * len(model.times), dtype=np.float64)
    weights = weights / weights.sum()
    arrivals = []
    for at, _, _, code in found:
        draws = preference_rng.random(2)
        count = model.day_counts[int(preference_rng.integers(len(model.day_counts)))]
        picked = preference_rng.choice(len(model.weekdays), size=count, replace=False)
        time = model.times[int(preference_rng.choice(len(model.times), p=weights))]
        days = frozenset(model.weekdays[int(i)] for i in picked) if draws[0] < model.day_probability else frozenset()
        times = (time,) if draws[1] < model.time_probability else ()
        arrivals.append(_Arrival(at, code, days, times))
    return arrivals


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
        self.spec = spec
        self.zone = zone
        self.settings = settings
        self.choice_rng = choice_rng
        self.fate_rng = fate_rng
        self.requests: list[RequestRecord] = []
        self.bookings: list[BookingRecord] = []
        self.items: list[Busy] = []  # the calendar item of each booking
        self.fates: list[tuple[int | None, bool]] = []  # cancel instant, no-show

    def arrive(self, arrival: _Arrival, index: int) -> int | None:
        """Search, offer, choose and book; the booking's index when one is made."""
        from slotfinder._pipeline import find_slots

        code = arrival.visit_type
        now = arrival.at
        local_date, _ = zones.local_of(self.zone, now)
        patient = PatientId(f"SIM{self.spec.seed}-{index:06d}", "SIM")
        available = next_available(
            self.clinic, code, now, count=3, horizon_days=self.spec.tna_horizon_days, settings=self.settings
        )
        first = available[0] if available else None
        third = available[2] if len(available) > 2 else None
        preferences = [Preference(arrival.days, arrival.times)] if arrival.days or arrival.times else []
        request = SlotRequest(
            start=now,
            end=now + self.spec.horizon_days * DAY,
            visit_types=[VisitTypeFilter(code)],
            preferences=preferences,
            patient_ids=[patient],
        )
        found = find_slots(self.clinic, request, self.settings, now, relax=False)
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

    def _offer(self, slot: RankedSlot, arrival: _Arrival, now: int) -> Offer:
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
            wait_days=(slot.local_date - zones.local_of(slot.location.time_zone, now)[0]).days,
            preferred_day=slot.local_date.weekday() in arrival.days,
            preferred_time=any(abs(minute - t) <= tolerance for t in arrival.times),
            probability=0.0,
        )

    def _choose(self, offers: Sequence[Offer], arrival: _Arrival) -> tuple[int | None, list[float]]:
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

    def _book(self, slot: RankedSlot, offer: Offer, arrival: _Arrival, index: int, patient: PatientId) -> int:
        number = len(self.bookings)
        visit_number = f"SIM-{self.spec.seed}-{number:06d}"
        item = Busy(
            BusyKind.BOOKING,
            slot.start,
            slot.start + slot.duration,
            provider_id=slot.provider.id,
            location_id=slot.location.id,
            room=slot.room,
            visit_number=visit_number,
            patients=[patient],
        )
        self.clinic = attrs.evolve(self.clinic, busy=(*self.clinic.busy, item))
        self.items.append(item)
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

    def _fate(self, arrival: _Arrival, start: int) -> tuple[int | None, bool]:
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
        item = self.items[booking]
        self.clinic = attrs.evolve(self.clinic, busy=tuple(b for b in self.clinic.busy if b is not item))
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
    return (zones.local_of(zone, appointment.start)[0] - zones.local_of(zone, now)[0]).days
