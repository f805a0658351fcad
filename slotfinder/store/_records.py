"""Records of the calendar store as JSON text (one cattrs converter for appointments and pushed slots)."""

from __future__ import annotations

import json
from typing import Any

import cattrs

from slotfinder.store._state import Appointment, PushedEntry

__all__ = ["dump_appointment", "dump_pushed", "load_appointment", "load_pushed"]

_converter = cattrs.Converter()


def _dump(value: Any) -> str:
    return json.dumps(_converter.unstructure(value), sort_keys=True, separators=(",", ":"))


def dump_appointment(appointment: Appointment) -> str:
    return _dump(appointment)


def load_appointment(text: str) -> Appointment:
    return _converter.structure(json.loads(text), Appointment)


def dump_pushed(entry: PushedEntry) -> str:
    return _dump(entry)


def load_pushed(text: str) -> PushedEntry:
    return _converter.structure(json.loads(text), PushedEntry)
