"""Calendars kept current: scheduling events applied by visit number, in an SQLite calendar store."""

from slotfinder.store._reconcile import Difference, reconcile_booked, reconcile_fhir, reconcile_visits
from slotfinder.store._reserve import Proposal, Reserved
from slotfinder.store._sqlite import CalendarStore, ClinicCache, Ingested, LogEntry, Purged, StoreState, materialise

__all__ = [
    "CalendarStore",
    "ClinicCache",
    "Difference",
    "Ingested",
    "LogEntry",
    "Proposal",
    "Purged",
    "Reserved",
    "StoreState",
    "materialise",
    "reconcile_booked",
    "reconcile_fhir",
    "reconcile_visits",
]
