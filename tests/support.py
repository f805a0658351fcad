"""Shared test helpers: example messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "tests" / "data" / "redox"


def example(name: str) -> dict[str, Any]:
    """An example message (copies of the Redox examples the project started from)."""
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text())
    return data


def seed() -> dict[str, Any]:
    """The seed's example AvailableSlots request."""
    data: dict[str, Any] = json.loads((EXAMPLES / "availableslots-request.json").read_text())
    return data
