"""A ``Clinic`` built in Python checked before it is searched: what the engine cannot search is refused
with ``InvalidClinic`` (paths as in the file: ``$.templates[3].location_id``) instead of surfacing deep
in a search as a bare ``KeyError`` or pendulum's ``InvalidTimezone``.

The rules are the clinic file's own (``clinic_refs.check_references``, ``clinic_composites``), read
from a view of the objects shaped like the file, but only those a search depends on are enforced:

* ids are unique (providers, locations, visit-type codes) and every time zone is known;
* every provider, location and visit-type code a template, opening or date override names exists,
  and so does every one a booking limit names;
* composite definitions follow their rules.

Rooms, equipment and pools a location lacks, and busy items and open times naming what the clinic
does not have (a store's pushed slots and imports may), are tolerated as the engine defines them
(``docs/semantics.md``): nothing asked for matches them.

Cost: busy items and open times are not looked at; templates and openings are viewed once per
distinct combination of the references they carry. A clinic updated from one checked already, with
the same providers, locations, templates and rules (a booking, a pushed slot), is not checked again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from slotfinder._calendars.clinic_composites import composite_problems
from slotfinder._calendars.clinic_refs import check_references, unknown_zones
from slotfinder._domain import Clinic, DateOverride, Location, VisitType
from slotfinder._errors import InvalidClinic, Problem, UnknownTimeZone
from slotfinder._problems import Problems

__all__ = ["validate_clinic"]

_UNKNOWN_ZONE = "unknown IANA time zone"
_ITEM = re.compile(r"^\$\.(templates|openings)\[(\d+)\]")
_BLOCKS = (
    r"(templates|openings|date_overrides)\[\d+\]"
    r"\.(provider_id|location_id|visit_types\[\d+\]|hours\[\d+\]\.visit_types\[\d+\])"
)
_ENFORCED = re.compile(
    rf"\$\.(providers\[\d+\]\.id|locations\[\d+\]\.(id|time_zone)|visit_types\[\d+\]\.code|{_BLOCKS}"
    r"|booking_limits\[\d+\]\.(visit_types|providers)\[\d+\])"
)


def _location(loc: Location) -> dict[str, Any]:
    pools = [{"kind": p.kind, "units": p.units} for p in loc.pools]
    return {"id": loc.id, "time_zone": loc.time_zone, "rooms": list(loc.rooms), "pools": pools}


def _visit_type(v: VisitType) -> dict[str, Any]:
    return {"code": v.code}


def _override(o: DateOverride) -> dict[str, Any]:
    hours = [{"visit_types": list(h.visit_types)} for h in o.hours]
    return {"provider_id": o.provider_id, "location_id": o.location_id, "date": o.date.isoformat(), "hours": hours}


def _distinct(items: Iterable[tuple[int, Any]]) -> tuple[list[dict[str, Any]], list[int]]:
    """One file-shaped view per distinct (provider, location, room, visit types) of templates or openings,
    and the index of the first item of each."""
    first: dict[tuple[Any, Any, Any, tuple[str, ...]], int] = {}
    for index, item in items:
        first.setdefault((item.provider_id, item.location_id, item.room, item.visit_types), index)
    views = [
        {"provider_id": p, "location_id": loc, "room": room, "visit_types": list(codes)}
        for p, loc, room, codes in first
    ]
    return views, list(first.values())


def _same_rules(clinic: Clinic, previous: Clinic) -> bool:
    """Whether only busy items and open times differ (tuples of the same objects compare at C speed)."""
    names = ("providers", "locations", "visit_types", "templates", "openings", "date_overrides", "booking_limits")
    return all(getattr(clinic, n) == getattr(previous, n) for n in (*names, "composites"))


def validate_clinic(clinic: Clinic, previous: Clinic | None = None) -> None:
    """Raise ``InvalidClinic`` (``UnknownTimeZone`` when that is the only problem) for a clinic the engine
    cannot search: see the module's rules. ``previous``: a clinic this one updates that passed already;
    when only busy items and open times differ, there is nothing to check."""
    if previous is not None and _same_rules(clinic, previous):
        return
    raw: dict[str, Any] = {
        "providers": [{"id": p.id} for p in clinic.providers],
        "locations": [_location(loc) for loc in clinic.locations],
        "visit_types": [_visit_type(v) for v in clinic.visit_types],
        "date_overrides": [_override(o) for o in clinic.date_overrides],
        "booking_limits": [
            {"visit_types": list(b.visit_types), "providers": list(b.providers)} for b in clinic.booking_limits
        ],
    }
    firsts: dict[str, list[int]] = {}
    for key in ("templates", "openings"):
        raw[key], firsts[key] = _distinct(enumerate(getattr(clinic, key)))
    found = Problems()
    check_references(raw, found)
    problems = Problems()
    unknown = unknown_zones(raw)
    for path, _ in unknown:
        problems.add(path, _UNKNOWN_ZONE)
    problems.extend(_at_item(p, firsts) for p in found if _ENFORCED.fullmatch(p.path))
    if clinic.composites:
        problems.extend(composite_problems(clinic))
    if len(problems) == 1 and unknown:
        raise UnknownTimeZone(*unknown[0])
    problems.raise_if_any(InvalidClinic)


def _at_item(problem: Problem, firsts: dict[str, list[int]]) -> Problem:
    """The problem with the index of a distinct view turned back into that of its first item."""
    match = _ITEM.match(problem.path)
    if match is None:
        return problem
    key, view = match.group(1), int(match.group(2))
    return Problem(f"$.{key}[{firsts[key][view]}]{problem.path[match.end() :]}", problem.rule)
