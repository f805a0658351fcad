"""The Redox ``Scheduling.AvailableSlots`` request as sent on the wire, and its one cattrs converter.

Attribute names are snake_case; the converter renames them to Redox's PascalCase (``id_type`` ->
``IDType``). Fields the engine does not use are typed loosely (``Any``) so their content is never
inspected, only reported as ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import cattrs
from attrs import define, field
from cattrs.cols import list_structure_factory
from cattrs.gen import make_dict_structure_fn, override

__all__ = ["WireRequest", "converter", "wire_name"]


def wire_name(attribute: str) -> str:
    """``event_date_time`` -> ``EventDateTime``; ``id`` parts become ``ID``."""
    return "".join("ID" if part == "id" else part.capitalize() for part in attribute.split("_"))


@define
class WireSystem:
    id: str | None = None
    name: str | None = None


@define
class WireLog:
    id: str | None = None
    attempt_id: str | None = None


@define
class WireMeta:
    data_model: str
    event_type: str
    event_date_time: str | None = None
    test: bool | None = None
    source: WireSystem | None = None
    destinations: list[WireSystem] = field(factory=list)
    logs: list[WireLog] = field(factory=list)
    facility_code: str | None = None


@define
class WireIdentifier:
    id: str | None = None
    id_type: str | None = None


@define
class WirePatient:
    identifiers: list[WireIdentifier] = field(factory=list)
    demographics: Any = None
    notes: Any = None
    diagnoses: Any = None


@define
class WireProvider:
    id: str | None = None
    id_type: str | None = None
    first_name: Any = None
    last_name: Any = None
    credentials: Any = None
    address: Any = None
    email_addresses: Any = None
    phone_number: Any = None
    location: Any = None


@define
class WireLocation:
    type: str | None = None
    facility: str | None = None
    department: str | None = None
    specialty_department: Any = None
    room: str | None = None
    id: str | None = None


@define
class WireVisitType:
    code: str | None = None
    codeset: str | None = None
    description: Any = None


@define
class WirePreference:
    duration: str | None = None
    duration_unit: str | None = None
    day: list[str] = field(factory=list)
    time: list[str] = field(factory=list)


@define
class WireVisit:
    reasons: Any = None
    attending_providers: list[WireProvider] = field(factory=list)
    locations: list[WireLocation] = field(factory=list)
    visit_type: list[WireVisitType] = field(factory=list)
    visit_preference: list[WirePreference] = field(factory=list)


@define
class WireRequest:
    meta: WireMeta
    start_date_time: str
    end_date_time: str | None = None
    patient: WirePatient | None = None
    visit: WireVisit | None = None


def _strict_str(value: Any, _type: Any) -> str:
    # Codes and IDs sometimes arrive as numbers; anything else is a type error, not str(value).
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise TypeError("expected a string")


def _strict_bool(value: Any, _type: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError("expected true or false")


def _make_converter() -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=False, detailed_validation=True)
    conv.register_structure_hook(str, _strict_str)
    conv.register_structure_hook(bool, _strict_bool)

    def is_list(type_: Any) -> bool:
        return getattr(type_, "__origin__", None) is list

    def list_hook(type_: Any) -> Any:
        inner = list_structure_factory(type_, conv)

        def structure(value: Any, _type: Any) -> list[Any]:
            # `null` for an empty list is common in Redox traffic; a lone object stands for a
            # one-element list (older documents show VisitType and VisitPreference as objects).
            if value is None:
                return []
            if isinstance(value, dict):
                value = [value]
            if not isinstance(value, list):
                raise TypeError("expected an array")
            return inner(value, type_)  # type: ignore[no-any-return]

        return structure

    conv.register_structure_hook_factory(is_list, list_hook)

    def hook_for(cls: type) -> Any:
        renames = {a.name: override(rename=wire_name(a.name)) for a in attrs.fields(cls)}
        inner: Callable[[Any, Any], Any] = make_dict_structure_fn(cls, conv, **renames)  # type: ignore[arg-type]

        def structure(value: Any, type_: Any) -> Any:
            # The generated function would read a string or an array as an object with no keys.
            if not isinstance(value, Mapping):
                raise TypeError("expected an object")
            return inner(value, type_)

        return structure

    conv.register_structure_hook_factory(attrs.has, hook_for)
    return conv


converter = _make_converter()
