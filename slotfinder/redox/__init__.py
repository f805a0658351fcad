"""The Redox edge: the only code that knows Redox field names.

Requests in (``parse_request``), responses out (``format_response``, ``RedoxSlotResult.to_redox``),
scheduling events in (``parse_event``), booked visits in for reconciliation (``read_booked``) and the
differences found out (``format_differences``).
"""

from slotfinder.redox._api import RedoxSlotResult, answer_redox, find_slots_redox, with_visit_type
from slotfinder.redox._booked import BookedVisit, booked_window, format_differences, read_booked
from slotfinder.redox._echo import MessageEcho, System
from slotfinder.redox._events import EVENT_TYPES, parse_event, unhandled
from slotfinder.redox._format import format_instant, format_response
from slotfinder.redox._parse import ParsedRequest, parse_request

__all__ = [
    "EVENT_TYPES",
    "BookedVisit",
    "MessageEcho",
    "ParsedRequest",
    "RedoxSlotResult",
    "System",
    "answer_redox",
    "booked_window",
    "find_slots_redox",
    "format_differences",
    "format_instant",
    "format_response",
    "parse_event",
    "parse_request",
    "read_booked",
    "unhandled",
    "with_visit_type",
]
