"""slotfinder: when can this patient be seen?

Ranked open appointment slots from clinic calendars, as a Redox ``Scheduling.AvailableSlotsResponse``.

>>> import slotfinder
>>> result = slotfinder.find_slots_redox(message)          # a parsed AvailableSlots dict, demo clinic
>>> result.to_redox()                                      # the response dict
>>> slotfinder.find_slots(clinic, request, settings, now)  # the same from domain objects
>>> prepared = slotfinder.prepare(clinic)                  # hold it to search one clinic many times

The names below are the public API; every module whose name starts with ``_`` is private. The format
edges are public subpackages: ``slotfinder.redox``, ``slotfinder.fhir``, ``slotfinder.ical``; the
calendar store is ``slotfinder.store``; ``slotfinder.frames`` (pandas tables and plots) and
``slotfinder.planning`` (capacity planning) load only when imported; ``slotfinder.walltime`` is the
DST policy (local wall time <-> instants).
"""

from slotfinder._calendars.clinic_file import check_clinic, clinic_to_dict, demo_clinic, load_clinic
from slotfinder._calendars.expand import Block
from slotfinder._composite import Appointment, CompositeRequest, Offer, OfferResult, Role, Step
from slotfinder._composite_types import CompositeVisitType, SameProvider, Series
from slotfinder._domain import (
    BookingLimit,
    Busy,
    BusyKind,
    Clinic,
    DateOverride,
    LimitPeriod,
    Location,
    LocationFilter,
    Need,
    Opening,
    OpenTime,
    PatientId,
    Pool,
    Preference,
    Provider,
    ProviderFilter,
    SlotRequest,
    StartAlignment,
    VisitType,
    VisitTypeFilter,
    WeeklyTemplate,
    WorkingHours,
)
from slotfinder._errors import (
    InvalidClinic,
    InvalidMessage,
    InvalidRequest,
    InvalidValue,
    Problem,
    SlotfinderError,
    UnknownTimeZone,
    WindowTooLarge,
)
from slotfinder._limits import CalendarTooLarge, LimitExceeded, Limits, MessageTooLarge, RequestTooLarge
from slotfinder._offers import find_offers
from slotfinder._pipeline import Candidate, find_slots, list_candidates
from slotfinder._prepared import PreparedClinic, prepare
from slotfinder._result import RankedSlot, ScoreTerm, SlotResult
from slotfinder._settings import Settings, Weights
from slotfinder.redox import (
    MessageEcho,
    ParsedRequest,
    RedoxSlotResult,
    answer_redox,
    find_slots_redox,
    parse_request,
)

__version__ = "0.2.0"

__all__ = [
    "Appointment",
    "Block",
    "BookingLimit",
    "Busy",
    "BusyKind",
    "CalendarTooLarge",
    "Candidate",
    "Clinic",
    "CompositeRequest",
    "CompositeVisitType",
    "DateOverride",
    "InvalidClinic",
    "InvalidMessage",
    "InvalidRequest",
    "InvalidValue",
    "LimitExceeded",
    "LimitPeriod",
    "Limits",
    "Location",
    "LocationFilter",
    "MessageEcho",
    "MessageTooLarge",
    "Need",
    "Offer",
    "OfferResult",
    "OpenTime",
    "Opening",
    "ParsedRequest",
    "PatientId",
    "Pool",
    "Preference",
    "PreparedClinic",
    "Problem",
    "Provider",
    "ProviderFilter",
    "RankedSlot",
    "RedoxSlotResult",
    "RequestTooLarge",
    "Role",
    "SameProvider",
    "ScoreTerm",
    "Series",
    "Settings",
    "SlotRequest",
    "SlotResult",
    "SlotfinderError",
    "StartAlignment",
    "Step",
    "UnknownTimeZone",
    "VisitType",
    "VisitTypeFilter",
    "WeeklyTemplate",
    "Weights",
    "WindowTooLarge",
    "WorkingHours",
    "__version__",
    "answer_redox",
    "check_clinic",
    "clinic_to_dict",
    "demo_clinic",
    "find_offers",
    "find_slots",
    "find_slots_redox",
    "list_candidates",
    "load_clinic",
    "parse_request",
    "prepare",
]
