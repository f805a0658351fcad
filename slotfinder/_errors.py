"""Errors raised by slotfinder.

Every error a caller can provoke with bad input derives from :class:`SlotfinderError`::

    SlotfinderError
    ├── InvalidRequest        a request field is missing or malformed (every problem, with its JSON path)
    │   └── WindowTooLarge    the search window exceeds the maximum horizon
    ├── InvalidClinic         a clinic file or clinic object breaks a rule (every problem, with its path)
    ├── InvalidMessage        a Redox scheduling event (New, Cancel, PushSlots, ...) is malformed
    ├── UnknownTimeZone       a location names a time zone the tz database does not know
    └── InvalidValue          a domain object built in Python breaks its own rule (also a ValueError)

Messages name the path and the rule broken; they never repeat a value the caller sent, so no
patient data can leak through an error, a log line or a CLI message.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

__all__ = [
    "InvalidClinic",
    "InvalidMessage",
    "InvalidRequest",
    "InvalidValue",
    "Problem",
    "SlotfinderError",
    "UnknownTimeZone",
    "WindowTooLarge",
]


@attrs.frozen
class Problem:
    """One rule broken at one place: ``path`` is a JSON path such as ``$.Visit.VisitType[0].Code``."""

    path: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path}: {self.rule}"


class SlotfinderError(Exception):
    """Base of every error slotfinder raises on purpose."""


class _ProblemsError(SlotfinderError):
    """An error carrying one or more :class:`Problem` entries."""

    what = "input"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("an error needs at least one problem")
        first = str(self.problems[0])
        more = len(self.problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        super().__init__(f"invalid {self.what}: {first}{suffix}")

    def details(self) -> str:
        """Every problem, one per line."""
        return "\n".join(str(p) for p in self.problems)


class InvalidRequest(_ProblemsError):
    """The AvailableSlots request (or its Python equivalent) is malformed."""

    what = "request"


class WindowTooLarge(InvalidRequest):
    """The search window is longer than the maximum horizon."""


class InvalidClinic(_ProblemsError):
    """The clinic's calendars are malformed or inconsistent."""

    what = "clinic"


class InvalidMessage(_ProblemsError):
    """A scheduling event message cannot be applied as it stands (a missing VisitNumber, a bad date)."""

    what = "message"


class UnknownTimeZone(SlotfinderError):
    """A location names a time zone that is not in the IANA database.

    The message names the path and the rule only: the zone the caller gave is kept in ``zone`` for
    the caller and never echoed in the text (a value may be long or hold anything).
    """

    def __init__(self, path: str, zone: str) -> None:
        self.path = path
        self.zone = zone
        super().__init__(f"{path}: unknown IANA time zone")


class InvalidValue(SlotfinderError, ValueError):
    """A value given to a domain class (``Preference``, ``Weights``, ``Settings``, ``VisitType``, ``Limits``...)
    breaks its rule, such as a negative duration; the message names the field and the rule.

    Also a ``ValueError``, as constructors have always raised, so existing ``except ValueError`` keeps working.
    The message may quote the number given (a duration, a count), never text.
    """
