"""Redox ``Scheduling.AvailableSlots`` JSON -> ``SlotRequest``, every problem with its JSON path.

Two passes: cattrs checks the structure (types, required fields), then the values are read with the
lenient readers of ``values``. Fields present but not used, and fields Redox does not define, are
listed as ignored (paths only: values, patient data above all, are never repeated).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, get_args, get_origin

import attrs
import cattrs
from attrs import frozen

from slotfinder._domain import LocationFilter, PatientId, Preference, ProviderFilter, SlotRequest, VisitTypeFilter
from slotfinder._errors import InvalidRequest
from slotfinder._limits import Limits, RequestTooLarge, resolve, shape_problems
from slotfinder._problems import Problems, data_key_path, structure_problems
from slotfinder.redox import _values as values
from slotfinder.redox._echo import MessageEcho, System
from slotfinder.redox._wire import WirePreference, WireRequest, converter, wire_name

__all__ = ["ParsedRequest", "parse_request"]

# Fields Redox defines that the engine reads nothing from; reported as ignored when they carry data.
_UNUSED = frozenset(
    {
        "$.Meta.Logs",
        "$.Patient.Demographics",
        "$.Patient.Notes",
        "$.Patient.Diagnoses",
        "$.Visit.Reasons",
        "$.Visit.AttendingProviders[].FirstName",
        "$.Visit.AttendingProviders[].LastName",
        "$.Visit.AttendingProviders[].Credentials",
        "$.Visit.AttendingProviders[].Address",
        "$.Visit.AttendingProviders[].EmailAddresses",
        "$.Visit.AttendingProviders[].PhoneNumber",
        "$.Visit.AttendingProviders[].Location",
        "$.Visit.Locations[].SpecialtyDepartment",
        "$.Visit.VisitType[].Description",
    }
)


@frozen
class ParsedRequest:
    """A request read from Redox JSON: the domain request, the response echo, and what was ignored."""

    request: SlotRequest
    now: int | None  # Meta.EventDateTime, the default "now"
    echo: MessageEcho
    ignored: tuple[str, ...]


def _has_data(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(_has_data(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_data(v) for v in value)
    return value is not None and value != ""


def _ignored(data: Any, cls: type, path: str, pattern: str, out: list[str]) -> None:
    """Collect paths of unknown fields and of known-but-unused fields that carry data."""
    if not isinstance(data, Mapping):
        return
    fields = {wire_name(a.name): a for a in attrs.fields(cls)}
    for key, value in data.items():
        here, here_pattern = f"{path}.{key}", f"{pattern}.{key}"
        attribute = fields.get(key)
        if attribute is None:  # a key from the data: named only when it looks like a field name
            named = data_key_path(path, key) == here
            out.append(
                f"{here} (not a field of AvailableSlots)"
                if named
                else f"{path} (a key that is not a field of AvailableSlots)"
            )
        elif here_pattern in _UNUSED:
            if _has_data(value):
                out.append(here)
        else:
            _descend(value, attribute.type, here, here_pattern, out)


def _descend(value: Any, type_: Any, path: str, pattern: str, out: list[str]) -> None:
    args = getattr(type_, "__args__", ())
    inner = next((a for a in args if attrs.has(a)), None)
    if attrs.has(type_):
        _ignored(value, type_, path, pattern, out)
    elif getattr(type_, "__origin__", None) is list and inner is not None:
        items = [value] if isinstance(value, Mapping) else value if isinstance(value, list) else []
        for i, item in enumerate(items):
            _ignored(item, inner, f"{path}[{i}]", f"{pattern}[]", out)
    elif inner is not None:
        _ignored(value, inner, path, pattern, out)


def _expected(type_: Any) -> str | None:
    """The rule a value of the wrong JSON type breaks, from the field's declared type."""
    args = get_args(type_)
    optional = type(None) in args
    inner = next((a for a in args if a is not type(None)), type_) if optional else type_
    base = get_origin(inner) or inner
    if base is str:
        return "must be a string or null" if optional else "must be a string"
    if base is bool:
        return "must be true, false or null" if optional else "must be true or false"
    if base is list:
        return "must be an array or null" if optional else "must be an array"
    if attrs.has(base):
        return "must be an object or null" if optional else "must be an object"
    return None


def _present(problems: Problems, path: str, value: str | None, rule: str) -> str | None:
    if value is None or not value.strip():
        problems.add(path, rule)
        return None
    return value


def _preference(problems: Problems, path: str, wire: WirePreference) -> Preference:
    days = [problems.attempt(f"{path}.Day[{i}]", partial(values.parse_day, d)) for i, d in enumerate(wire.day)]
    times = [problems.attempt(f"{path}.Time[{i}]", partial(values.parse_time, t)) for i, t in enumerate(wire.time)]
    duration = None
    if wire.duration is not None and wire.duration.strip():
        duration = problems.attempt(
            f"{path}.Duration", lambda: values.parse_duration(wire.duration or "", wire.duration_unit)
        )
    return Preference(
        days=frozenset(d for d in days if d is not None),
        times=tuple(t for t in times if t is not None),
        duration=duration,
    )


def parse_request(message: Mapping[str, Any], *, limits: Limits | None = None) -> ParsedRequest:
    """Read an AvailableSlots message; raises ``InvalidRequest`` listing every problem.

    Past ``limits`` (nesting, items per array: ``$.Visit.AttendingProviders``, ...) it raises
    ``RequestTooLarge`` (an ``InvalidRequest``) before anything else is read.
    """
    if not isinstance(message, Mapping):
        problems = Problems()
        problems.add("$", "must be a JSON object")
        problems.raise_if_any(InvalidRequest)
    too_large = shape_problems(message, resolve(limits))
    if too_large:
        raise RequestTooLarge(too_large)
    try:
        wire = converter.structure(message, WireRequest)
    except (cattrs.ClassValidationError, cattrs.IterableValidationError) as error:
        found = structure_problems(error, dialect=values.REDOX, key=wire_name, expected=_expected)
        raise InvalidRequest(found) from None
    problems = Problems()
    if wire.meta.data_model != "Scheduling":
        problems.add("$.Meta.DataModel", "must be Scheduling")
    if wire.meta.event_type != "AvailableSlots":
        problems.add("$.Meta.EventType", "must be AvailableSlots")
    start = problems.attempt("$.StartDateTime", lambda: values.parse_instant(wire.start_date_time))
    end = None
    if wire.end_date_time is not None:
        end = problems.attempt("$.EndDateTime", lambda: values.parse_instant(wire.end_date_time or ""))
    now = None
    if wire.meta.event_date_time is not None:
        now = problems.attempt("$.Meta.EventDateTime", lambda: values.parse_instant(wire.meta.event_date_time or ""))
    patient_ids = tuple(PatientId(i.id, i.id_type) for i in (wire.patient.identifiers if wire.patient else []) if i.id)
    visit = wire.visit
    providers: list[ProviderFilter] = []
    locations: list[LocationFilter] = []
    visit_types: list[VisitTypeFilter] = []
    preferences: list[Preference] = []
    if visit is not None:
        for n, p in enumerate(visit.attending_providers):
            pid = _present(problems, f"$.Visit.AttendingProviders[{n}].ID", p.id, "is required to choose a provider")
            if pid is not None:
                providers.append(ProviderFilter(pid, p.id_type))
        locations = [
            LocationFilter(loc.id, loc.facility, loc.department, loc.room, loc.type) for loc in visit.locations
        ]
        for n, v in enumerate(visit.visit_type):
            code = _present(problems, f"$.Visit.VisitType[{n}].Code", v.code, "is required to choose a visit type")
            if code is not None:
                visit_types.append(VisitTypeFilter(code, v.codeset))
        preferences = [
            _preference(problems, f"$.Visit.VisitPreference[{n}]", p) for n, p in enumerate(visit.visit_preference)
        ]
    problems.raise_if_any(InvalidRequest)
    assert start is not None  # else a problem was recorded for it
    ignored: list[str] = []
    _ignored(message, WireRequest, "$", "$", ignored)
    durations = [p.duration for p in preferences if p.duration is not None]
    ignored += [
        f"$.Visit.VisitPreference[{n}].Duration (a different duration than the first one given; the first is used)"
        for n, p in enumerate(preferences)
        if p.duration is not None and p.duration != durations[0]
    ]
    meta = wire.meta
    echo = MessageEcho(
        test=meta.test,
        source=System(meta.source.id, meta.source.name) if meta.source else None,
        destinations=tuple(System(d.id, d.name) for d in meta.destinations),
        facility_code=meta.facility_code,
    )
    request = SlotRequest(
        start=start,
        end=end,
        providers=providers,
        locations=locations,
        visit_types=visit_types,
        preferences=preferences,
        patient_ids=patient_ids,
    )
    return ParsedRequest(request=request, now=now, echo=echo, ignored=tuple(ignored))
