"""Reconciliation: the visits an EHR lists as booked, or its busy Slots (FHIR), against the store.

Differences are listed by visit number; nothing about the patient is included. The formats are read
at their edges (``slotfinder.redox`` reads a BookedResponse into :class:`BookedVisit` values,
``slotfinder.fhir`` a bundle into busy time); this module compares domain values only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from attrs import frozen

from slotfinder._calendars import zones
from slotfinder._domain import Busy, Clinic
from slotfinder.redox._booked import BookedVisit, read_booked

__all__ = ["Difference", "reconcile_booked", "reconcile_fhir", "reconcile_visits"]


@frozen
class Difference:
    """One disagreement about one visit."""

    visit_number: str
    what: str  # missing_in_store | missing_in_ehr | time | duration | provider


def reconcile_visits(visits: Iterable[BookedVisit], clinic: Clinic, window: tuple[int, int]) -> list[Difference]:
    """What differs between the visits an EHR lists and the visits of ``clinic`` (a store snapshot) in ``window``.

    A visit counts when it starts in the window; one the EHR lists outside the window is still
    compared with ours, wherever ours starts.
    """
    ehr = {v.visit_number: v for v in visits}
    everything = {b.visit_number: b for b in clinic.busy if b.visit_number is not None and b.provider_id is not None}
    ours = {n: b for n, b in everything.items() if window[0] <= b.start < window[1]}
    differences: list[Difference] = []
    for number in sorted(set(ehr) | set(ours)):
        theirs, mine = ehr.get(number), everything.get(number)
        if theirs is None:
            differences.append(Difference(number, "missing_in_ehr"))
        elif mine is None:
            differences.append(Difference(number, "missing_in_store"))
        else:
            if mine.start != theirs.start:
                differences.append(Difference(number, "time"))
            if theirs.duration is not None and mine.end - mine.start != theirs.duration:
                differences.append(Difference(number, "duration"))
            if theirs.provider_id is not None and mine.provider_id != theirs.provider_id:
                differences.append(Difference(number, "provider"))
    return differences


def reconcile_booked(message: Mapping[str, Any], clinic: Clinic, window: tuple[int, int]) -> list[Difference]:
    """:func:`reconcile_visits` of a Redox BookedResponse message (raises ``InvalidMessage`` when malformed)."""
    return reconcile_visits(read_booked(message), clinic, window)


def reconcile_fhir(bundle: Mapping[str, Any], clinic: Clinic, window: tuple[int, int]) -> list[Difference]:
    """What differs between the busy Slots of a FHIR bundle and the busy time of ``clinic`` in ``window``.

    Busy time is compared per provider as exact spans (start, end); a difference is named by the
    Slot id (EHR side) or the visit number (ours), else by provider and UTC start.
    """
    from slotfinder.fhir import read_fhir_bundle

    def key(b: Busy) -> tuple[str, int, int]:
        assert b.provider_id is not None
        return (b.provider_id, b.start, b.end)

    def name(b: Busy) -> str:
        return b.visit_number or f"{b.provider_id}@{zones.to_datetime(b.start):%Y-%m-%dT%H:%M:%SZ}"

    in_window = [b for b in clinic.busy if b.provider_id is not None and b.start < window[1] and window[0] < b.end]
    theirs = {key(b): b for b in read_fhir_bundle(bundle, clinic).busy if b.provider_id is not None}
    ours = {key(b): b for b in in_window}
    found = [Difference(name(b), "missing_in_store") for k, b in theirs.items() if k not in ours]
    found += [Difference(name(b), "missing_in_ehr") for k, b in ours.items() if k not in theirs]
    return sorted(found, key=lambda d: (d.visit_number, d.what))
