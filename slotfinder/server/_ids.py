"""The ids of ``$find``'s proposed Appointments: what to hold or book, readable back without storing anything.

A search writes nothing, yet IHE ITI-116 names the Appointment to hold by ``appointment-reference``. So a
proposal's id says what it proposes: ``proposed-<start>-<duration>-<digest>`` (start in minutes since the
epoch and duration in minutes, both hexadecimal; digest: the first 16 hex digits of the SHA-256 of provider
ID, location ID and visit-type code). Read back against the clinic, it gives the proposal again; the hold
or booking is then checked as any other. The digest keeps the id a valid FHIR id (64 characters at most)
whatever the clinic's identifiers are; it hides nothing (the Appointment names them anyway).
"""

from __future__ import annotations

import hashlib
import re

from slotfinder._domain import Clinic
from slotfinder.store._reserve import Proposal

__all__ = ["proposal_id", "read_proposal_id"]

_PREFIX = "proposed-"
_ID = re.compile(r"proposed-([0-9a-f]{1,12})-([0-9a-f]{1,4})-([0-9a-f]{16})")


def _digest(provider_id: str, location_id: str, visit_type: str | None) -> str:
    text = "\x00".join((provider_id, location_id, visit_type or ""))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def proposal_id(start: int, duration: int, provider_id: str, location_id: str, visit_type: str | None) -> str:
    """The id of a proposed Appointment (see the module docstring)."""
    return f"{_PREFIX}{start:x}-{duration:x}-{_digest(provider_id, location_id, visit_type)}"


def read_proposal_id(text: str, clinic: Clinic) -> Proposal | None:
    """The proposal an id of :func:`proposal_id` stands for in ``clinic`` (None: not such an id, or it names
    a provider, location or visit type the clinic no longer has)."""
    found = _ID.fullmatch(text)
    if found is None:
        return None
    start, duration, digest = int(found.group(1), 16), int(found.group(2), 16), found.group(3)
    codes: list[str | None] = [None, *(vt.code for vt in clinic.visit_types)]
    for provider in clinic.providers:
        for location in clinic.locations:
            for code in codes:
                if _digest(provider.id, location.id, code) == digest:
                    return Proposal(start, start + duration, provider.id, location.id, code)
    return None
