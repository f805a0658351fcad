"""Entry points for Redox messages: parse, search, answer."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from typing import Any

import attrs
from attrs import frozen

from slotfinder._domain import Clinic
from slotfinder._errors import InvalidRequest, Problem
from slotfinder._limits import Limits
from slotfinder._pipeline import (
    HARD_PREFERENCES_EXCLUDE_ALL,
    NO_LOCATION,
    NO_PROVIDER,
    NO_VISIT_TYPE,
    find_slots,
)
from slotfinder._prepared import PreparedClinic
from slotfinder._result import SlotResult
from slotfinder._settings import Settings
from slotfinder.redox._echo import MessageEcho
from slotfinder.redox._format import format_response
from slotfinder.redox._parse import parse_request

__all__ = ["RedoxSlotResult", "answer_redox", "find_slots_redox", "with_visit_type"]

# The engine names request fields by the domain's names; a Redox caller reads the message's own.
_PATHS = {
    "end": "$.EndDateTime",
    "start": "$.StartDateTime",
    "visit_types": "$.Visit.VisitType",
    "providers": "$.Visit.AttendingProviders",
}
_PREFERENCE_DURATION = re.compile(r"preferences\[(\d+)\]\.duration")
_RULES = {"must be later than the start": "must be later than StartDateTime"}
_REASONS = {
    NO_PROVIDER: "no provider of the clinic matches Visit.AttendingProviders",
    NO_LOCATION: "no location of the clinic matches Visit.Locations",
    NO_VISIT_TYPE: "no visit type of the clinic matches Visit.VisitType",
    HARD_PREFERENCES_EXCLUDE_ALL: "hard preferences (Visit.VisitPreference) exclude every open start",
}


def _redox_problem(problem: Problem) -> Problem:
    return Problem(_redox_path(problem.path), _RULES.get(problem.rule, problem.rule))


def _redox_path(path: str) -> str:
    """A request field by its name in the message (the engine names it by the domain's)."""
    duration = _PREFERENCE_DURATION.fullmatch(path)
    if duration:
        return f"$.Visit.VisitPreference[{duration.group(1)}].Duration"
    return _PATHS.get(path, path)


@frozen
class RedoxSlotResult(SlotResult):
    """The engine's result for a Redox request, with the request's Meta to echo in the response."""

    echo: MessageEcho | None = None

    @classmethod
    def of(cls, result: SlotResult, echo: MessageEcho | None) -> RedoxSlotResult:
        return cls(**{a.name: getattr(result, a.name) for a in attrs.fields(SlotResult)}, echo=echo)

    def to_redox(self) -> dict[str, Any]:
        """The Redox ``Scheduling.AvailableSlotsResponse`` message."""
        return format_response(self, self.echo)

    def to_json(self) -> str:
        """The Redox response as canonical JSON text (same result, same bytes)."""
        return json.dumps(self.to_redox(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def find_slots_redox(
    message: Mapping[str, Any],
    clinic: Clinic | PreparedClinic | None = None,
    settings: Settings | None = None,
    now: dt.datetime | int | None = None,
    *,
    limits: Limits | None = None,
) -> RedoxSlotResult:
    """Search for a Redox AvailableSlots message (a parsed JSON dict).

    ``clinic`` defaults to the bundled demo clinic (a ``PreparedClinic`` serves many calls); ``now``
    defaults to the message's ``Meta.EventDateTime``, else the wall clock. ``limits`` bound the message
    (``docs/limits.md``).
    """
    parsed = parse_request(message, limits=limits)
    if clinic is None:
        from slotfinder._calendars.clinic_file import demo_clinic

        clinic = demo_clinic()
    when = now if now is not None else parsed.now
    try:
        result = find_slots(clinic, parsed.request, settings, when, ignored=parsed.ignored)
    except InvalidRequest as error:
        raise type(error)([_redox_problem(p) for p in error.problems]) from None
    found = attrs.evolve(
        result,
        reasons=tuple(_REASONS.get(r, r) for r in result.reasons),
        ignored=tuple(_redox_path(p) for p in result.ignored),
    )
    return RedoxSlotResult.of(found, parsed.echo)


def answer_redox(
    message: Mapping[str, Any],
    clinic: Clinic | PreparedClinic | None = None,
    settings: Settings | None = None,
    now: dt.datetime | int | None = None,
    *,
    limits: Limits | None = None,
) -> dict[str, Any]:
    """The AvailableSlotsResponse dict for an AvailableSlots message."""
    return find_slots_redox(message, clinic, settings, now, limits=limits).to_redox()


def with_visit_type(message: Mapping[str, Any], code: str, codeset: str | None = None) -> dict[str, Any]:
    """A copy of an AvailableSlots message asking for visit type ``code`` instead (the CLI's ``--visit-type``)."""
    changed = dict(message)
    visit = changed.get("Visit")
    changed["Visit"] = {
        **(visit if isinstance(visit, Mapping) else {}),
        "VisitType": [{"Code": code, "Codeset": codeset}],
    }
    return changed
