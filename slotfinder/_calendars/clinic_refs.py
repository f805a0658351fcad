"""Clinic-file rules between objects: unique IDs, references that resolve, known time zones.

They run on the raw JSON mapping, not on domain objects, so they still run (and report) when some
object is malformed; ``clinic_file`` adds their problems to the structural ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from slotfinder._calendars import zones
from slotfinder._problems import Problems, item_path, key_path

__all__ = ["check_references", "unknown_zones"]


def _objects(raw: Mapping[str, Any], key: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    items = raw.get(key)
    if isinstance(items, list):
        for i, item in enumerate(items):
            if isinstance(item, Mapping):
                yield item_path(key_path("$", key), i), item


def _texts(obj: Mapping[str, Any], key: str) -> Iterator[tuple[int, str]]:
    items = obj.get(key)
    if isinstance(items, list):
        yield from ((i, item) for i, item in enumerate(items) if isinstance(item, str))


def _ids(raw: Mapping[str, Any], key: str, name: str, what: str, problems: Problems) -> set[str] | None:
    """The ``name`` values of the objects under ``key``, a repeated one being a problem.

    None when some object has no readable value: its own problem is reported already, and checking
    references against a partial set would add a false "no such id" for every item that names it.
    """
    first: dict[str, str] = {}
    for path, obj in _objects(raw, key):
        value = obj.get(name)
        if isinstance(value, str):
            if value in first:
                problems.add(key_path(path, name), f"duplicate {what} (first at {first[value]})")
            first.setdefault(value, path)
    items = raw.get(key)
    readable = isinstance(items, list) and all(isinstance(o, Mapping) and isinstance(o.get(name), str) for o in items)
    return set(first) if readable else None


def unknown_zones(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    found = ((key_path(path, "time_zone"), loc.get("time_zone")) for path, loc in _objects(raw, "locations"))
    return [(path, zone) for path, zone in found if isinstance(zone, str) and zone and not zones.check_zone(zone)]


def _units(raw: Mapping[str, Any], key: str, noun: str, what: str, problems: Problems) -> dict[str, set[str]]:
    """Names of ``key`` ("rooms" or "equipment") per location id; a name repeated within a location,
    or one a visit type needs that no location has, is a problem."""
    named: dict[str, set[str]] = {}
    for path, loc in _objects(raw, "locations"):
        names: set[str] = set()
        for i, name in _texts(loc, key):
            if name in names:
                problems.add(item_path(key_path(path, key), i), f"duplicate {noun} name in this location")
            names.add(name)
        location = loc.get("id")
        if isinstance(location, str):
            named.setdefault(location, set()).update(names)
    everywhere = set().union(*named.values())
    for path, visit_type in _objects(raw, "visit_types"):
        for i, name in _texts(visit_type, key):
            if name not in everywhere:
                problems.add(item_path(key_path(path, key), i), f"no location has {what} of this name")
    return named


def _whole(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _kinds(obj: Mapping[str, Any], key: str, path: str, problems: Problems) -> Iterator[tuple[str, str, int | None]]:
    """(path, kind, units) of the ``key`` entries ("pools" or "needs") of ``obj``; a kind repeated is a problem."""
    entries = obj.get(key)
    seen: set[str] = set()
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if isinstance(entry, Mapping) and isinstance(entry.get("kind"), str):
            entry_path = item_path(key_path(path, key), i)
            if entry["kind"] in seen:
                problems.add(key_path(entry_path, "kind"), "duplicate kind (give it once, with its units)")
            seen.add(entry["kind"])
            yield entry_path, entry["kind"], _whole(entry.get("units", 1))


def _check_pools(raw: Mapping[str, Any], problems: Problems) -> None:
    """Pool kinds are unique per location; what a visit type needs and a busy item occupies exists in enough units."""
    pools: dict[str, dict[str, int | None]] = {}  # location id -> kind -> units
    for path, loc in _objects(raw, "locations"):
        kinds = {kind: units for _, kind, units in _kinds(loc, "pools", path, problems)}
        if isinstance(loc.get("id"), str):
            pools.setdefault(loc["id"], {}).update(kinds)
    largest: dict[str, int | None] = {}
    for kinds in pools.values():
        for kind, units in kinds.items():
            known = largest.get(kind, 0)
            largest[kind] = None if units is None or known is None else max(known, units)
    for path, visit_type in _objects(raw, "visit_types"):
        for need_path, kind, units in _kinds(visit_type, "needs", path, problems):
            most = largest.get(kind, 0)
            if kind not in largest:
                problems.add(key_path(need_path, "kind"), "no location has a pool of this kind")
            elif units is not None and most is not None and units > most:
                problems.add(key_path(need_path, "units"), "more units than any location's pool of this kind has")
    for path, item in _objects(raw, "busy"):
        pool, location, units = item.get("pool"), item.get("location_id"), _whole(item.get("pool_units", 1))
        if not isinstance(pool, str) or not isinstance(location, str) or location not in pools:
            continue
        if pool not in pools[location]:
            problems.add(key_path(path, "pool"), "the location has no pool of this kind")
        elif units is not None and (total := pools[location][pool]) is not None and units > total:
            problems.add(key_path(path, "pool_units"), "more units than the location's pool of this kind has")


def _check_limits(
    raw: Mapping[str, Any], providers: set[str] | None, codes: set[str] | None, problems: Problems
) -> None:
    """A busy item's visit type, and the visit types and providers a booking limit names, exist."""
    for path, item in _objects(raw, "busy"):
        code = item.get("visit_type")
        if codes is not None and isinstance(code, str) and code not in codes:
            problems.add(key_path(path, "visit_type"), "no visit type has this code")
    for path, limit in _objects(raw, "booking_limits"):
        for i, code in _texts(limit, "visit_types"):
            if codes is not None and code not in codes:
                problems.add(item_path(key_path(path, "visit_types"), i), "no visit type has this code")
        for i, provider in _texts(limit, "providers"):
            if providers is not None and provider not in providers:
                problems.add(item_path(key_path(path, "providers"), i), "no provider has this id")


def check_references(raw: Mapping[str, Any], problems: Problems) -> None:
    """Unique ids, and every id, code and room an item names exists; what breaks a rule goes to ``problems``."""
    providers = _ids(raw, "providers", "id", "provider id", problems)
    locations = _ids(raw, "locations", "id", "location id", problems)
    codes = _ids(raw, "visit_types", "code", "visit type code", problems)
    rooms = _units(raw, "rooms", "room", "a room", problems)
    equipment = _units(raw, "equipment", "equipment", "equipment", problems)
    for key, codes_key in (
        ("templates", "visit_types"),
        ("openings", "visit_types"),
        ("open_times", "visit_types"),
        ("busy", "reserved_for"),
        ("date_overrides", "visit_types"),  # the override's own keys; its hours are checked below
    ):
        for path, item in _objects(raw, key):
            provider, location, room = item.get("provider_id"), item.get("location_id"), item.get("room")
            unit = item.get("equipment")
            if isinstance(unit, str) and isinstance(location, str) and unit not in equipment.get(location, {unit}):
                problems.add(key_path(path, "equipment"), "the location has no equipment of this name")
            if providers is not None and isinstance(provider, str) and provider not in providers:
                problems.add(key_path(path, "provider_id"), "no provider has this id")
            if locations is not None and isinstance(location, str) and location not in locations:
                problems.add(key_path(path, "location_id"), "no location has this id")
            if isinstance(room, str) and isinstance(location, str) and room not in rooms.get(location, {room}):
                problems.add(key_path(path, "room"), "the location has no room of this name")
            for i, code in _texts(item, codes_key):
                if codes is not None and code not in codes:
                    problems.add(item_path(key_path(path, codes_key), i), "no visit type has this code")
    _check_overrides(raw, codes, rooms, problems)
    _check_pools(raw, problems)
    _check_limits(raw, providers, codes, problems)


def _check_overrides(
    raw: Mapping[str, Any], codes: set[str] | None, rooms: dict[str, set[str]], problems: Problems
) -> None:
    """One override per provider, location (or none) and date; its hours name its location's rooms and known codes."""
    first: dict[tuple[str, str | None, str], str] = {}
    for path, override in _objects(raw, "date_overrides"):
        provider, location, date = override.get("provider_id"), override.get("location_id"), override.get("date")
        if isinstance(provider, str) and isinstance(date, str) and (location is None or isinstance(location, str)):
            key = (provider, location, date)
            if key in first and "location_id" in override:
                problems.add(path, f"duplicate override of this provider, location and date (first at {first[key]})")
            first.setdefault(key, path)
        hours = override.get("hours")
        for j, block in enumerate(hours if isinstance(hours, list) else []):
            if not isinstance(block, Mapping):
                continue
            block_path, room = item_path(key_path(path, "hours"), j), block.get("room")
            if isinstance(room, str) and isinstance(location, str) and room not in rooms.get(location, {room}):
                problems.add(key_path(block_path, "room"), "the location has no room of this name")
            for i, code in _texts(block, "visit_types"):
                if codes is not None and code not in codes:
                    problems.add(item_path(key_path(block_path, "visit_types"), i), "no visit type has this code")
