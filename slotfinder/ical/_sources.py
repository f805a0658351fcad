"""What a calendar belongs to: the X-SLOTFINDER properties, :class:`CalendarSource` and the calendar map.

Separate from the reader because a source is settled before any event is read: from a map entry,
from the calendar's own ``X-SLOTFINDER-PROVIDER`` / ``-ROOM`` / ``-LOCATION`` properties (a map
entry wins), and checked against the clinic. The property names are shared with ``ical_write``.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Final

import attrs
import icalendar

from slotfinder._domain import Clinic
from slotfinder._errors import InvalidClinic, Problem
from slotfinder._problems import Dialect, Problems, Reader, key_path
from slotfinder.ical._parse import _parse, _text

# Calendar properties: what the calendar belongs to.
X_PROVIDER: Final = "X-SLOTFINDER-PROVIDER"
X_ROOM: Final = "X-SLOTFINDER-ROOM"  # also on VEVENT / AVAILABLE of a provider calendar: the room it uses
X_LOCATION: Final = "X-SLOTFINDER-LOCATION"  # also on VEVENT / AVAILABLE: a location id (wins over LOCATION)
# Component properties.
X_SLOT_LENGTH: Final = "X-SLOTFINDER-SLOT-LENGTH"  # AVAILABLE: grid step of starts, minutes
X_KIND: Final = "X-SLOTFINDER-KIND"  # VEVENT: booking, hold, block, out_of_office
X_RESERVED_FOR: Final = "X-SLOTFINDER-RESERVED-FOR"  # VEVENT (blocks): visit type codes, comma separated
X_RELEASE_BEFORE: Final = "X-SLOTFINDER-RELEASE-BEFORE"  # VEVENT (reserved blocks): minutes
MAX_RELEASE_BEFORE: Final = 10**6  # minutes (about two years): more is a typo, not a policy
X_VISIT_NUMBER: Final = "X-SLOTFINDER-VISIT-NUMBER"  # VEVENT: the visit number (else the UID)

_MAP_KEYS: Final = frozenset({"file", "provider_id", "room", "location_id"})
_MAP: Final = Dialect(
    object="must be an object with file, provider_id or room, and location_id",
    array="must be a list of calendar entries",
    required_array="must be a list of calendar entries",
    string="must be a non-empty string",
    blank_string="must be a non-empty string",
)


@attrs.frozen
class CalendarSource:
    """What a calendar belongs to: one provider or one room, at a location.

    ``location_id`` is the provider calendar's default location (an event or AVAILABLE without a
    LOCATION is there) or the room's location. ``name`` labels messages (usually the file name).
    """

    location_id: str
    provider_id: str | None = None
    room: str | None = None
    name: str = "calendar.ics"

    def __attrs_post_init__(self) -> None:
        if (self.provider_id is None) == (self.room is None):
            raise ValueError("a calendar belongs to exactly one of a provider (provider_id) or a room (room)")


def declared_source(data: bytes | str, name: str) -> CalendarSource:
    """The source a calendar declares with X-SLOTFINDER-PROVIDER or -ROOM, and X-SLOTFINDER-LOCATION."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        declared = _declared(_parse(data, name, bare=True), name)
    return _complete_source(declared, name, name)


def check_source(clinic: Clinic, source: CalendarSource) -> None:
    """Raise :class:`InvalidClinic` unless the source's provider, location and room exist in ``clinic``."""
    problems = Problems()
    location = next((loc for loc in clinic.locations if loc.id == source.location_id), None)
    if location is None:
        problems.add(source.name, "its location (X-SLOTFINDER-LOCATION / location_id) is not in the clinic")
    if source.provider_id is not None and all(p.id != source.provider_id for p in clinic.providers):
        problems.add(source.name, "its provider (X-SLOTFINDER-PROVIDER / provider_id) is not in the clinic")
    if source.room is not None and location is not None and source.room not in location.rooms:
        problems.add(source.name, "its room (X-SLOTFINDER-ROOM / room) is not a room of its location")
    problems.raise_if_any(InvalidClinic)


def load_calendar_map(path: str | os.PathLike[str]) -> list[tuple[Path, CalendarSource]]:
    """The calendar files a map lists, each with what it belongs to (see ``docs/icalendar.md``).

    The map is a JSON list of ``{"file", "provider_id" | "room", "location_id"}``; ``file`` is relative
    to the map. A key left out is taken from the file's own X-SLOTFINDER properties (so the file is read
    then); a key given in the map wins over the file.
    """
    map_path = Path(path)
    label = map_path.name
    try:
        raw = json.loads(map_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InvalidClinic(
            [Problem(f"{label}:$", f"is not JSON (line {error.lineno}, column {error.colno})")]
        ) from None
    except UnicodeDecodeError:
        raise InvalidClinic([Problem(f"{label}:$", "is not UTF-8 text")]) from None
    root = Reader(raw, f"{label}:$", Problems(), _MAP)
    found: list[tuple[Path, CalendarSource]] = []
    for entry in root.items(required=True):
        try:
            mapped = _map_entry(entry, map_path.parent)
        except InvalidClinic as error:  # what the calendar file itself declares
            root.problems.extend(error.problems)
            continue
        if mapped is not None:
            found.append(mapped)
    root.problems.raise_if_any(InvalidClinic)
    return found


# ---- declared sources and map entries -----------------------------------------------------------


def _declared(calendar: icalendar.Component, name: str) -> dict[str, str]:
    declared: dict[str, str] = {}
    problems = Problems()
    where = f"{name}:VCALENDAR"
    for prop, key in ((X_PROVIDER, "provider_id"), (X_ROOM, "room"), (X_LOCATION, "location_id")):
        value = problems.attempt(key_path(where, prop), partial(_text, calendar, prop))
        if value is not None:
            declared[key] = value
    if "provider_id" in declared and "room" in declared:
        problems.add(where, f"declares both {X_PROVIDER} and {X_ROOM}; a calendar is one's")
    problems.raise_if_any(InvalidClinic)
    return declared


def _complete_source(values: Mapping[str, str], name: str, where: str) -> CalendarSource:
    problems = Problems()
    if "provider_id" not in values and "room" not in values:
        problems.add(where, f"names no provider or room (provider_id / room, or {X_PROVIDER} / {X_ROOM})")
    if "location_id" not in values:
        problems.add(where, f"names no location (location_id, or {X_LOCATION})")
    problems.raise_if_any(InvalidClinic)
    return CalendarSource(
        location_id=values["location_id"], provider_id=values.get("provider_id"), room=values.get("room"), name=name
    )


def _map_entry(entry: Reader, base: Path) -> tuple[Path, CalendarSource] | None:
    """The file and source of one map entry; None when the entry breaks a rule (recorded at ``entry``)."""
    if entry.object() is None:
        return None
    before = len(entry.problems)
    entry.unknown_keys(_MAP_KEYS)
    given: dict[str, str] = {}
    for key in sorted(_MAP_KEYS):
        text = entry.at(key).string(required=key == "file")
        if text is not None:
            given[key] = text
    if "provider_id" in given and "room" in given:
        entry.problem("names both provider_id and room; a calendar is one's")
    if len(entry.problems) > before:
        return None
    file = base / given.pop("file")
    name = file.relative_to(base).as_posix()
    owner_known = "provider_id" in given or "room" in given
    if not owner_known or "location_id" not in given:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            declared = _declared(_parse(file.read_bytes(), name), name)
        if owner_known:  # the map's owner wins as a whole: a declared room does not join a mapped provider
            declared.pop("provider_id", None)
            declared.pop("room", None)
        given = {**declared, **given}
    return file, _complete_source(given, name, entry.path)
