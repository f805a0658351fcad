"""The project's own clinic file format (JSON), read into and written from the domain model.

The format is documented in ``docs/clinic-format.md``. Keys are the attribute names of the domain
classes; only the wire forms of times differ: wall times are ``"HH:MM"``, weekdays ``"Mon"``..``"Sun"``,
dates ``"YYYY-MM-DD"`` and busy instants ISO 8601 date-times with an explicit offset.

One cattrs ``Converter`` does the work. Its structuring hooks are generated per domain class with
detailed validation, so every broken rule is collected with its JSON path instead of stopping at the
first. Three things are added around cattrs:

* strict leaf hooks (a string is not a number, ``"30"`` is not ``30``, a string is not a list);
* a checking constructor that runs each attrs validator of a class on its own, so a domain rule
  (``end must be later than start``) is reported at its key, not at the enclosing object;
* a pass over the raw mapping for rules between objects (references, uniqueness, time zones), which
  runs even when some object is malformed, so one load reports everything at once.

No message repeats a value from the file: busy items carry patient identifiers, and errors end up in
logs and CLI output.
"""

from __future__ import annotations

import datetime as dt
import importlib.resources
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar, cast, get_args, get_origin

import attrs
import cattrs
from attrs import AttrsInstance
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.errors import AttributeValidationNote, BaseValidationError, ClassValidationError
from cattrs.gen import make_dict_structure_fn_from_attrs, make_dict_unstructure_fn, override

from slotfinder._calendars import zones
from slotfinder._calendars.clinic_composites import composite_problems
from slotfinder._calendars.clinic_refs import check_references, unknown_zones
from slotfinder._composite_types import CompositeVisitType, Role, SameProvider, Series, Step
from slotfinder._domain import (
    BookingLimit,
    Busy,
    BusyKind,
    Clinic,
    DateOverride,
    LimitPeriod,
    Location,
    Need,
    Opening,
    OpenTime,
    PatientId,
    Pool,
    Provider,
    StartAlignment,
    VisitType,
    WeeklyTemplate,
    WorkingHours,
)
from slotfinder._errors import InvalidClinic, Problem, UnknownTimeZone
from slotfinder._limits import (
    CalendarTooLarge,
    Limits,
    clinic_sizes,
    depth_rule,
    resolve,
    shape_problems,
    size_problem,
)
from slotfinder._problems import Dialect, Problems, RuleError, structure_problems

__all__ = ["check_clinic", "clinic_to_dict", "demo_clinic", "load_clinic", "load_written_clinic"]

T = TypeVar("T", bound=AttrsInstance)
_Parse = Callable[[Any, Any], Any]
_Format = Callable[[Any], Any]
_MIN = dt.timedelta(minutes=1)
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WALL_TIME = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d|24:00")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNKNOWN_ZONE = "unknown IANA time zone"
# The file's wording of cattrs' errors. An unknown key is named in its path only when it looks like a
# key of the format (slotfinder._problems): a misplaced patient identifier used as a key must not reach
# an error message.
_CLINIC = Dialect(required="required key is missing", malformed="invalid value")


# ---- leaf hooks: strict, so a typo in a type is reported rather than coerced ------------------


def _text(value: Any, _: Any) -> str:
    if not isinstance(value, str):
        raise RuleError("must be a string")
    return value


def _whole(value: Any, _: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleError("must be a whole number")
    return value


def _flag(value: Any, _: Any) -> bool:
    if not isinstance(value, bool):
        raise RuleError("must be true or false")
    return value


def _date(value: Any, _: Any) -> dt.date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise RuleError("must be a date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise RuleError("must be a date YYYY-MM-DD that exists in the calendar") from None


def _kind(value: Any, _: Any) -> BusyKind:
    try:
        return BusyKind(value)
    except ValueError:
        raise RuleError(f"must be one of {', '.join(k.value for k in BusyKind)}") from None


def _period(value: Any, _: Any) -> LimitPeriod:
    if not isinstance(value, str) or value not in {p.value for p in LimitPeriod}:
        raise RuleError(f"must be one of {', '.join(p.value for p in LimitPeriod)}")
    return LimitPeriod(value)


def _same_provider(value: Any, _: Any) -> SameProvider:
    if not isinstance(value, str) or value not in {a.value for a in SameProvider}:
        raise RuleError(f"must be one of {', '.join(a.value for a in SameProvider)}")
    return SameProvider(value)


def _alignment(value: Any, _: Any) -> StartAlignment:
    if not isinstance(value, str) or value not in {a.value for a in StartAlignment}:
        raise RuleError(f"must be one of {', '.join(a.value for a in StartAlignment)}")
    return StartAlignment(value)


def _wall_start(value: Any, _: Any) -> int:
    if not isinstance(value, str) or not _WALL_TIME.fullmatch(value) or value == "24:00":
        raise RuleError("must be a wall time HH:MM from 00:00 to 23:59")
    return int(value[:2]) * 60 + int(value[3:])


def _wall_end(value: Any, _: Any) -> int:
    if not isinstance(value, str) or not _WALL_TIME.fullmatch(value):
        raise RuleError("must be a wall time HH:MM from 00:00 to 24:00")
    return int(value[:2]) * 60 + int(value[3:])


def _weekdays(value: Any, _: Any) -> frozenset[int]:
    if not isinstance(value, list) or not value:
        raise RuleError("must be a non-empty list of weekdays")
    if not all(day in _WEEKDAYS for day in value):
        raise RuleError(f"each weekday must be one of {', '.join(_WEEKDAYS)}")
    return frozenset(_WEEKDAYS.index(day) for day in value)


def _instant(value: Any, _: Any) -> int:
    if not isinstance(value, str):
        raise RuleError("must be an ISO 8601 date-time string")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise RuleError("must be an ISO 8601 date-time such as 2025-10-24T14:30:00Z") from None
    if moment.tzinfo is None:
        raise RuleError("must have an explicit UTC offset (Z or +HH:MM); naive date-times are ambiguous")
    minutes, rest = divmod(moment - zones.EPOCH, _MIN)
    if rest:
        raise RuleError("must be on a whole minute")
    if not zones.EARLIEST <= minutes <= zones.LATEST:  # far instants overflow date arithmetic downstream
        raise RuleError(zones.RANGE_RULE)
    return int(minutes)


def _optional_instant(value: Any, type_: Any) -> int | None:
    return None if value is None else _instant(value, type_)


def _wall_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _instant_text(instant: int) -> str:
    return zones.to_datetime(instant).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- per-class hooks --------------------------------------------------------------------------


def _fail(cls: type, broken: list[tuple[str | None, str]]) -> ClassValidationError:
    """Rules broken in one object, each noted with its key (None: the object as a whole)."""
    errors: list[Exception] = []
    for name, rule in broken:
        error = RuleError(rule)
        if name is not None:
            error.__notes__ = [AttributeValidationNote(f"rule of {cls.__name__}.{name}", name, None)]
        errors.append(error)
    return ClassValidationError(f"While structuring {cls.__name__}", errors, cls)


_Rules = Callable[[Any], Iterator[tuple[str | None, str]]]


def _build(cls: type[T], values: dict[str, Any], rules: _Rules | None) -> T:
    """Run every validator of ``cls`` and the file's extra ``rules``, then construct the object.

    attrs stops at the first failing validator, on the object; running each one by itself against a
    namespace of the converted values reports all of them, each at its own key.
    """
    converted: dict[str, Any] = {}
    for field in attrs.fields(cls):
        value = values.get(field.name, field.default)  # the domain uses plain defaults, no factories
        converted[field.name] = value if field.converter is None else cast(Callable[[Any], Any], field.converter)(value)
    view = SimpleNamespace(**converted)
    broken: list[tuple[str | None, str]] = []
    for field in attrs.fields(cls):
        if field.validator is not None:
            try:
                field.validator(view, field, converted[field.name])
            except (ValueError, TypeError) as exc:  # domain messages name the rule, not patient data
                broken.append((field.name, str(exc)))
    if rules is not None:
        broken.extend(rules(view))
    if broken:
        raise _fail(cls, broken)
    return cls(**values)


def _template_rules(t: Any) -> Iterator[tuple[str | None, str]]:
    if t.effective_from is not None and t.effective_until is not None and t.effective_until < t.effective_from:
        yield "effective_until", "must not be before effective_from"


def _visit_type_rules(v: Any) -> Iterator[tuple[str | None, str]]:
    if v.rooms and not v.needs_room:
        yield "rooms", "only applies when needs_room is true"


def _busy_rules(b: Any) -> Iterator[tuple[str | None, str]]:
    if b.kind is BusyKind.CLOSURE and b.location_id is None:
        yield "location_id", "a closure needs the location it closes"
    if b.kind is BusyKind.OUT_OF_OFFICE and b.provider_id is None:
        yield "provider_id", "an out_of_office item needs the provider who is away"
    if b.reserved_for and b.kind is not BusyKind.BLOCK:
        yield "reserved_for", "only a block can be reserved for visit types"
    if b.release_before is not None and not b.reserved_for:
        yield "release_before", "only applies to a block with reserved_for"
    if b.release_before is not None and b.release_before < 0:
        yield "release_before", "must not be negative"
    if b.room is not None and b.location_id is None:
        yield "room", "needs location_id: room names belong to a location"
    if b.visit_type is not None and b.kind not in (BusyKind.BOOKING, BusyKind.HOLD, BusyKind.BLOCK):
        yield "visit_type", "only a booking, a hold or a block is a visit of some type"
    if b.visit_type is not None and b.reserved_for:
        yield "visit_type", "a block reserved for visit types is not itself a visit: give one or the other"
    if b.pool is not None and b.location_id is None:
        yield "pool", "needs location_id: pools belong to a location"
    if b.pool_units != 1 and b.pool is None:
        yield "pool_units", "only applies with pool"
    if b.provider_id is None and b.location_id is None and not b.patients and b.equipment is None:
        yield None, "must occupy something: provider_id, location_id (with or without room), equipment or patients"


def _build_busy(**values: Any) -> Busy:
    """Busy with ``end`` or ``duration`` (minutes after start), exactly one of them."""
    end, duration = values.pop("end", None), values.pop("duration", None)
    if end is None and duration is None:
        raise _fail(Busy, [("end", "required unless duration is given")])
    if end is not None and duration is not None:
        raise _fail(Busy, [("duration", "give either end or duration, not both")])
    if duration is not None and duration <= 0:
        raise _fail(Busy, [("duration", "must be a positive number of minutes")])
    if duration is not None and values["start"] + duration > zones.LATEST:
        raise _fail(Busy, [("duration", f"must end by then: {zones.RANGE_RULE}")])
    values["end"] = end if end is not None else values["start"] + duration
    return _build(Busy, values, _busy_rules)


@attrs.frozen
class _BusySpan:
    """The keys a busy item uses for its end in the file, where the domain has ``end`` only."""

    end: int | None = None
    duration: int | None = None


def _constructor(cls: type[T], rules: _Rules | None = None) -> Callable[..., T]:
    def construct(**values: Any) -> T:
        return _build(cls, values, rules)

    construct.__name__ = construct.__qualname__ = cls.__name__
    return construct


def _register(
    cls: type[T],
    construct: Callable[..., T],
    wire: Mapping[str, tuple[_Parse, _Format]] | None = None,
    fields: list[attrs.Attribute[Any]] | None = None,
) -> None:
    """Structure ``cls`` from a JSON object and unstructure it back; ``wire`` maps keys to (parse, format).

    cattrs generates the per-key code with detailed validation (every key's problem collected) and
    hands the structured keys to ``construct`` where it would call the class.
    """
    wire = wire or {}
    attrs.resolve_types(cls)  # the domain module uses postponed annotations
    parse_overrides: dict[str, Any] = {key: override(struct_hook=parse) for key, (parse, _) in wire.items()}
    structure = make_dict_structure_fn_from_attrs(
        fields if fields is not None else list(attrs.fields(cls)),
        cast(type[T], construct),
        _converter,
        **parse_overrides,
    )

    def hook(value: Any, type_: Any) -> T:
        if not isinstance(value, Mapping):
            raise RuleError("must be an object")
        return structure(value, type_)

    _converter.register_structure_hook(cls, hook)
    format_overrides: dict[str, Any] = {key: override(unstruct_hook=fmt) for key, (_, fmt) in wire.items()}
    unstructure = make_dict_unstructure_fn(cls, _converter, _cattrs_omit_if_default=True, **format_overrides)
    _converter.register_unstructure_hook(cls, unstructure)


def _is_tuple(type_: Any) -> bool:
    args = get_args(type_)
    return get_origin(type_) is tuple and args[1:] == (...,)


def _strict_tuple(type_: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    inner = homogenous_tuple_structure_factory(type_, converter)

    def hook(value: Any, t: Any) -> Any:
        if not isinstance(value, list | tuple):  # cattrs would turn "MD" into ("M", "D")
            raise RuleError("must be a list")
        return inner(value, t)

    return hook


_converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
for _type, _hook in ((str, _text), (int, _whole), (bool, _flag), (dt.date, _date), (BusyKind, _kind)):
    _converter.register_structure_hook(_type, _hook)
_converter.register_structure_hook_factory(_is_tuple, _strict_tuple)
_converter.register_unstructure_hook(dt.date, dt.date.isoformat)
_converter.register_unstructure_hook(BusyKind, lambda kind: kind.value)
_converter.register_structure_hook(StartAlignment, _alignment)
_converter.register_unstructure_hook(StartAlignment, lambda alignment: alignment.value)
_converter.register_structure_hook(LimitPeriod, _period)
_converter.register_unstructure_hook(LimitPeriod, lambda period: period.value)
_converter.register_structure_hook(SameProvider, _same_provider)
_converter.register_unstructure_hook(SameProvider, lambda same: same.value)

# Leaves first, Clinic last: a generated hook looks up the hooks of its fields' types once, when made.
_WALL: dict[str, tuple[_Parse, _Format]] = {"start": (_wall_start, _wall_text), "end": (_wall_end, _wall_text)}
for _cls in (Provider, Pool, Location, PatientId, Need):
    _register(_cls, _constructor(_cls))
_register(VisitType, _constructor(VisitType, _visit_type_rules))
_register(Opening, _constructor(Opening), _WALL)
_register(
    WeeklyTemplate,
    _constructor(WeeklyTemplate, _template_rules),
    {**_WALL, "weekdays": (_weekdays, lambda days: [_WEEKDAYS[d] for d in sorted(days)])},
)
_register(OpenTime, _constructor(OpenTime), {"start": (_instant, _instant_text), "end": (_instant, _instant_text)})
attrs.resolve_types(_BusySpan)
_register(
    Busy,
    _build_busy,
    {"start": (_instant, _instant_text), "end": (_optional_instant, _instant_text)},
    [f for f in attrs.fields(Busy) if f.name != "end"] + list(attrs.fields(_BusySpan)),
)
_register(WorkingHours, _constructor(WorkingHours), _WALL)
_register(DateOverride, _constructor(DateOverride))
_register(BookingLimit, _constructor(BookingLimit))
for _part in (Role, Step, Series, CompositeVisitType):
    _register(_part, _constructor(_part))
_register(Clinic, _constructor(Clinic))


# ---- public functions -------------------------------------------------------------------------


def _read(source: str | os.PathLike[str], limits: Limits) -> Any:
    too_large = size_problem(Path(source).stat().st_size, limits.max_file_bytes, "max_file_bytes")
    if too_large is not None:  # refused before it is read into memory
        raise CalendarTooLarge([too_large])
    try:
        return json.loads(Path(source).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:  # the position, never the text around it
        rule = f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        raise InvalidClinic([Problem("$", rule)]) from None
    except UnicodeDecodeError:
        raise InvalidClinic([Problem("$", "not UTF-8 text")]) from None
    except RecursionError:
        raise CalendarTooLarge([Problem("$", depth_rule(limits))]) from None


def load_clinic(source: str | os.PathLike[str] | Mapping[str, Any], *, limits: Limits | None = None) -> Clinic:
    """Read a clinic from a JSON file (a path) or an already parsed JSON object.

    Raises InvalidClinic with every problem found, or UnknownTimeZone when an unknown time zone is
    the only problem. A missing or unreadable file raises the usual OSError. Past ``limits`` (file
    size, nesting, providers, templates, busy items, ...: ``docs/limits.md``) it raises
    ``CalendarTooLarge`` (an InvalidClinic) before anything else is read.
    """
    limits = resolve(limits)
    raw = source if isinstance(source, Mapping) else _read(source, limits)
    if not isinstance(raw, Mapping):
        raise InvalidClinic([Problem("$", "must be a JSON object")])
    too_large = shape_problems(raw, limits, clinic_sizes(limits))
    if too_large:
        raise CalendarTooLarge(too_large)
    clinic: Clinic | None = None
    problems = Problems()
    try:
        clinic = _converter.structure(raw, Clinic)
    except (BaseValidationError, RuleError) as exc:  # every rule broken, at its key
        problems.extend(structure_problems(exc, dialect=_CLINIC))
    unknown = unknown_zones(raw)
    for path, _ in unknown:
        problems.add(path, _UNKNOWN_ZONE)
    check_references(raw, problems)
    if clinic is not None:  # rules of composite definitions need the structured clinic
        problems.extend(composite_problems(clinic))
    if len(problems) == 1 and unknown:
        raise UnknownTimeZone(*unknown[0])
    problems.raise_if_any(InvalidClinic)
    if clinic is None:
        raise InvalidClinic([Problem("$", "invalid clinic")])
    return clinic


def clinic_to_dict(clinic: Clinic) -> dict[str, Any]:
    """The clinic as a JSON-ready dict in the file format (keys equal to their default are left out)."""
    return cast(dict[str, Any], _converter.unstructure(clinic, Clinic))


def check_clinic(clinic: Clinic) -> None:
    """Apply the file's rules (references, uniqueness, time zones) to a clinic built in Python."""
    load_clinic(clinic_to_dict(clinic))


def demo_clinic() -> Clinic:
    """The demo clinic shipped with the package (``slotfinder/data/demo_clinic.json``), read afresh (a few ms)."""
    resource = importlib.resources.files("slotfinder") / "data" / "demo_clinic.json"
    return load_clinic(json.loads(resource.read_text(encoding="utf-8")))


def load_written_clinic(raw: Mapping[str, Any]) -> Clinic:
    """A clinic this module wrote (``clinic_to_dict``) from a checked one, read back fast: busy items are
    built directly instead of key by key with every rule (tens of thousands in a large clinic; the rules
    held when the clinic was checked); everything else goes through :func:`load_clinic`.

    For the calendar store's own record only: a file from anywhere else needs ``load_clinic``.
    """
    clinic = load_clinic({key: value for key, value in raw.items() if key != "busy"})
    return attrs.evolve(clinic, busy=tuple(_written_busy(item) for item in raw.get("busy", ())))


def _written_busy(item: Mapping[str, Any]) -> Busy:
    start = _instant(item["start"], None)
    patients = tuple(PatientId(p["id"], p.get("id_type")) for p in item.get("patients", ()))
    return Busy(
        BusyKind(item["kind"]),
        start,
        _instant(item["end"], None) if "end" in item else start + int(item["duration"]),
        provider_id=item.get("provider_id"),
        location_id=item.get("location_id"),
        room=item.get("room"),
        visit_number=item.get("visit_number"),
        patients=patients,
        reserved_for=tuple(item.get("reserved_for", ())),
        release_before=item.get("release_before"),
        equipment=item.get("equipment"),
        visit_type=item.get("visit_type"),
        pool=item.get("pool"),
        pool_units=item.get("pool_units", 1),
    )
