"""Retention: what a purge keeps of the state it folds into a checkpoint (see ``CalendarStore.purge``)."""

from __future__ import annotations

import attrs

from slotfinder.store._records import Checkpoint
from slotfinder.store._state import CANCELLED, RESCHEDULED, Appointment, StoreState

__all__ = ["pruned"]


def pruned(state: StoreState, minute: int) -> tuple[Checkpoint, int]:
    """``state`` without what ended at or before ``minute``, and how many appointment records it forgot.

    An appointment that ended (all its times) is dropped, with the clinic's busy time of the same visit
    number; a cancelled or rescheduled one is cut down to its visit number and status, so a late New
    still leaves it freed. Pushed slots and the clinic's busy and open time that ended are dropped.
    """

    def ended(appointment: Appointment) -> bool:
        end = appointment.end
        return end is not None and end <= minute and all(s.end <= minute for s in appointment.staff)

    appointments: dict[str, Appointment] = {}
    gone: set[str] = set()
    for number, appointment in state.appointments.items():
        if not ended(appointment):
            appointments[number] = appointment
        elif appointment.status in (CANCELLED, RESCHEDULED):
            appointments[number] = Appointment(number, appointment.status)
        else:
            gone.add(number)
    forgotten = sum(appointments.get(n) != a for n, a in state.appointments.items())
    pushed = tuple(e for e in state.pushed if e.end > minute)
    clinic = state.clinic
    if clinic is not None:
        clinic = attrs.evolve(
            clinic,
            busy=tuple(b for b in clinic.busy if b.end > minute and b.visit_number not in gone),
            open_times=tuple(o for o in clinic.open_times if o.end > minute),
        )
    return Checkpoint(clinic, appointments, pushed), forgotten
