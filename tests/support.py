"""Shared test helpers: example messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED_EXAMPLES = ROOT.parent / "shared" / "redox" / "examples"


def example(name: str) -> dict[str, Any]:
    """An example message of ../shared/redox/examples (read-only material beside the checkout)."""
    data: dict[str, Any] = json.loads((SHARED_EXAMPLES / name).read_text())
    return data


def seed() -> dict[str, Any]:
    """The seed's example AvailableSlots request (the shared copy; the package ships its own copy)."""
    path = SHARED_EXAMPLES / "availableslots-request.json"
    if not path.exists():
        path = ROOT / "slotfinder" / "data" / "demo_request.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data
