"""slotfinder: when can this patient be seen?

Ranked open appointment slots from clinic calendars, as a Redox ``Scheduling.AvailableSlotsResponse``.

>>> import slotfinder
>>> result = slotfinder.find_slots_redox(message)          # a parsed AvailableSlots dict, demo clinic
>>> result.to_redox()                                      # the response dict
>>> slotfinder.find_slots(clinic, request, settings, now)  # the same from domain objects
"""

from slotfinder import frames
from slotfinder.api import answer_redox, find_slots_redox
from slotfinder.calendars.clinic_file import clinic_to_dict, demo_clinic, load_clinic
from slotfinder.domain import (
    Busy,
    BusyKind,
    Clinic,
    Location,
    LocationFilter,
    Opening,
    OpenTime,
    PatientId,
    Preference,
    Provider,
    ProviderFilter,
    SlotRequest,
    VisitType,
    VisitTypeFilter,
    WeeklyTemplate,
)
from slotfinder.errors import InvalidClinic, InvalidRequest, Problem, SlotfinderError, UnknownTimeZone, WindowTooLarge
from slotfinder.pipeline import Candidate, find_slots, list_candidates
from slotfinder.redox.parse import ParsedRequest, parse_request
from slotfinder.result import MessageEcho, RankedSlot, ScoreTerm, SlotResult
from slotfinder.settings import Settings, Weights

__all__ = [
    "Busy",
    "BusyKind",
    "Candidate",
    "Clinic",
    "InvalidClinic",
    "InvalidRequest",
    "Location",
    "LocationFilter",
    "MessageEcho",
    "OpenTime",
    "Opening",
    "ParsedRequest",
    "PatientId",
    "Preference",
    "Problem",
    "Provider",
    "ProviderFilter",
    "RankedSlot",
    "ScoreTerm",
    "Settings",
    "SlotRequest",
    "SlotResult",
    "SlotfinderError",
    "UnknownTimeZone",
    "VisitType",
    "VisitTypeFilter",
    "WeeklyTemplate",
    "Weights",
    "WindowTooLarge",
    "answer_redox",
    "clinic_to_dict",
    "demo_clinic",
    "find_slots",
    "find_slots_redox",
    "frames",
    "list_candidates",
    "load_clinic",
    "parse_request",
]
