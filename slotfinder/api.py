"""Entry points for Redox messages: parse, search, answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from slotfinder.domain import Clinic
from slotfinder.pipeline import find_slots
from slotfinder.redox.parse import parse_request
from slotfinder.result import SlotResult
from slotfinder.settings import Settings

__all__ = ["answer_redox", "find_slots_redox"]


def find_slots_redox(
    message: Mapping[str, Any],
    clinic: Clinic | None = None,
    settings: Settings | None = None,
    now: dt.datetime | int | None = None,
) -> SlotResult:
    """Search for a Redox AvailableSlots message (a parsed JSON dict).

    ``clinic`` defaults to the bundled demo clinic; ``now`` defaults to the message's
    ``Meta.EventDateTime``, else the wall clock.
    """
    parsed = parse_request(message)
    if clinic is None:
        from slotfinder.calendars.clinic_file import demo_clinic

        clinic = demo_clinic()
    when = now if now is not None else parsed.now
    return find_slots(clinic, parsed.request, settings, when, ignored=parsed.ignored, echo=parsed.echo)


def answer_redox(
    message: Mapping[str, Any],
    clinic: Clinic | None = None,
    settings: Settings | None = None,
    now: dt.datetime | int | None = None,
) -> dict[str, Any]:
    """The AvailableSlotsResponse dict for an AvailableSlots message."""
    return find_slots_redox(message, clinic, settings, now).to_redox()
