"""What a Redox response echoes from its request's Meta (no patient data)."""

from __future__ import annotations

from collections.abc import Iterable

from attrs import field, frozen

__all__ = ["MessageEcho", "System"]


@frozen
class System:
    """A system named in a message's Meta (Source or a Destination)."""

    id: str | None
    name: str | None


def _systems(value: Iterable[System]) -> tuple[System, ...]:
    return tuple(value)


@frozen
class MessageEcho:
    """Parts of the request's Meta a response carries back (no patient data)."""

    test: bool | None = None
    source: System | None = None
    destinations: tuple[System, ...] = field(default=(), converter=_systems)
    facility_code: str | None = None
