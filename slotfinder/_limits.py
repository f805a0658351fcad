"""Input limits, in one place: how large a request, a message, a clinic or an import may be.

Every reader takes ``limits=`` (a :class:`Limits`); past a limit it raises a typed error whose problem
names the JSON path (or the file and component) and the limit broken, before any work is done on the
input and before anything is written::

    $.Visit.AttendingProviders: more than 10000 items (limit max_array_items)

The defaults are generous: each is several times what a large health system sends, and they exist so
that a hostile or broken input is refused at once instead of exhausting memory or time. The table of
limits and the reason for each default is ``docs/limits.md``.

Where a reader is reached without a ``limits`` keyword (the calendar store reading an import it was
handed), the limits in force are those of the innermost :func:`limits_in_force` block, else the
defaults: the command line sets ``--limits`` that way.
"""

from __future__ import annotations

import contextlib
import tomllib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import attrs

from slotfinder._errors import InvalidClinic, InvalidMessage, InvalidRequest, InvalidValue, Problem, SlotfinderError
from slotfinder._problems import data_key_path, item_path

__all__ = [
    "CalendarTooLarge",
    "LimitExceeded",
    "Limits",
    "MessageTooLarge",
    "RequestTooLarge",
    "clinic_sizes",
    "depth_rule",
    "exceeded",
    "limits_in_force",
    "load_limits",
    "resolve",
    "shape_problems",
    "size_problem",
]


def _positive(_: Any, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidValue(f"{attribute.name}: must be a whole number, at least 1")


@attrs.frozen(kw_only=True)
class Limits:
    """How large an input may be. Every field is a positive whole number; see ``docs/limits.md``.

    ``Limits(max_array_items=500)`` keeps the other defaults; ``attrs.evolve(limits, ...)`` changes one.
    """

    max_request_bytes: int = attrs.field(default=10_000_000, validator=_positive)
    """Bytes of a Redox request or scheduling message read as text (Redox's own payload limit, 10 MB)."""
    max_file_bytes: int = attrs.field(default=500_000_000, validator=_positive)
    """Bytes of a clinic file, an iCalendar file or a FHIR bundle (a clinic at max_busy_items is ~300 MB)."""
    max_depth: int = attrs.field(default=32, validator=_positive)
    """Nesting of JSON arrays and objects (every format of ours needs fewer than 10 levels)."""
    max_array_items: int = attrs.field(default=10_000, validator=_positive)
    """Items of any JSON array not limited below (a request's providers, locations,
    identifiers, visit types, preferences; a clinic's locations, visit types, booking limits; a bundle's
    actors, codings...)."""
    max_providers: int = attrs.field(default=10_000, validator=_positive)
    """Providers of one clinic."""
    max_templates: int = attrs.field(default=100_000, validator=_positive)
    """Weekly templates of one clinic (ten blocks for each of max_providers)."""
    max_busy_items: int = attrs.field(default=2_000_000, validator=_positive)
    """Busy items of one clinic (the largest clinic benchmarked holds about 1.8 million)."""
    max_open_items: int = attrs.field(default=2_000_000, validator=_positive)
    """Open times, openings and date overrides of one clinic, each list (imported Slots become open times)."""
    max_rule_instances: int = attrs.field(default=5_000, validator=_positive)
    """Instances one recurring iCalendar series expands to in the import window (a daily event for 13 years)."""
    max_import_items: int = attrs.field(default=500_000, validator=_positive)
    """Instances one iCalendar import expands to, and entries of one FHIR bundle."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Limits:
        """Limits from ``{"max_array_items": 500, ...}`` (a TOML table); unknown keys are refused."""
        names = {a.name for a in attrs.fields(cls)}
        unknown = sorted(str(k) for k in data if k not in names)
        if unknown:
            raise InvalidValue(f"unknown limit {unknown[0]} (known: {', '.join(sorted(names))})")
        return cls(**data)


# ---- errors -------------------------------------------------------------------------------------


class LimitExceeded(SlotfinderError):  # noqa: N818 named like InvalidRequest and WindowTooLarge
    """An input is larger than its :class:`Limits` allow (a server answers it 413, not 400).

    Raised as :class:`RequestTooLarge` (an ``InvalidRequest``), :class:`MessageTooLarge` (an
    ``InvalidMessage``) or :class:`CalendarTooLarge` (an ``InvalidClinic``); its problems name each
    path and the limit, never a value.
    """


class RequestTooLarge(InvalidRequest, LimitExceeded):
    """An AvailableSlots request past a limit."""


class MessageTooLarge(InvalidMessage, LimitExceeded):
    """A Redox scheduling event (New, Cancel, PushSlots, ...) past a limit: the store logs it as rejected."""


class CalendarTooLarge(InvalidClinic, LimitExceeded):
    """A clinic file, an iCalendar file or a FHIR bundle past a limit: nothing of it is imported."""


# ---- the limits in force ------------------------------------------------------------------------

_IN_FORCE: ContextVar[Limits | None] = ContextVar("slotfinder_limits", default=None)


@contextlib.contextmanager
def limits_in_force(limits: Limits | None) -> Iterator[None]:
    """Readers called without ``limits=`` inside this block use ``limits`` (None: the defaults)."""
    token = _IN_FORCE.set(limits)
    try:
        yield
    finally:
        _IN_FORCE.reset(token)


def resolve(limits: Limits | None) -> Limits:
    """``limits``, else those in force, else the defaults."""
    return limits if limits is not None else _IN_FORCE.get() or _DEFAULT


_DEFAULT = Limits()


def load_limits(path: str | Path) -> Limits:
    """Limits from a TOML file of ``name = number`` lines (the defaults for the rest).

    Raises ValueError with a one-line message naming the key, never echoing a value.
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError:
        raise ValueError(f"{path}: not valid TOML") from None
    try:
        return Limits.from_mapping(data)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{path}: {error}") from None


# ---- checks -------------------------------------------------------------------------------------


def exceeded(limit: int, name: str, what: str = "items") -> str:
    """The rule an input past a limit breaks: ``more than 10000 items (limit max_array_items)``."""
    return f"more than {limit} {what} (limit {name})"


def depth_rule(limits: Limits) -> str:
    """The rule nesting past ``max_depth`` breaks."""
    return f"nests deeper than {limits.max_depth} levels (limit max_depth)"


def size_problem(size: int, limit: int, name: str, path: str = "$") -> Problem | None:
    """A problem when ``size`` bytes are more than ``limit``."""
    return Problem(path, exceeded(limit, name, "bytes")) if size > limit else None


def clinic_sizes(limits: Limits) -> dict[str, tuple[int, str]]:
    """The arrays of a clinic file with a limit of their own (the rest: ``max_array_items``)."""
    return {
        "$.providers": (limits.max_providers, "max_providers"),
        "$.templates": (limits.max_templates, "max_templates"),
        "$.busy": (limits.max_busy_items, "max_busy_items"),
        "$.open_times": (limits.max_open_items, "max_open_items"),
        "$.openings": (limits.max_open_items, "max_open_items"),
        "$.date_overrides": (limits.max_open_items, "max_open_items"),
    }


_CONTAINERS = (dict, list, tuple)  # what JSON parses to; exact types keep the walk fast
_Node = tuple[Any, "_Node | None", Any, int]  # value, parent, key or index in the parent, depth


def _path(node: _Node, *, indices: bool = True) -> str:
    """The JSON path of a walked node (``$.busy[3].patients``; ``$.busy[].patients`` without indices)."""
    steps: list[tuple[bool, Any]] = []
    at: _Node | None = node
    while at is not None and at[1] is not None:
        steps.append((isinstance(at[1][0], Mapping), at[2]))
        at = at[1]
    path = "$"
    for in_object, key in reversed(steps):
        path = data_key_path(path, key) if in_object else item_path(path, key) if indices else f"{path}[]"
    return path


def shape_problems(value: Any, limits: Limits, sizes: Mapping[str, tuple[int, str]] | None = None) -> list[Problem]:
    """Arrays with too many items, and nesting too deep, each at its JSON path.

    ``sizes`` gives some arrays a limit of their own, by path without indices (``$.entry``,
    ``$.busy``). Walked without recursion; what is past a limit is not walked into. Paths are
    spelt only for what is reported: the walk of a clinic of a million busy items stays cheap.
    """
    sizes = sizes or {}
    smallest = min([limits.max_array_items, *(limit for limit, _ in sizes.values())])
    found: list[Problem] = []
    stack: list[_Node] = [(value, None, None, 0)]
    while stack:
        entry = stack.pop()
        node, _, _, depth = entry
        if depth >= limits.max_depth:
            found.append(Problem(_path(entry), depth_rule(limits)))
            continue
        if isinstance(node, dict) or isinstance(node, Mapping):  # noqa: SIM101 the exact type first: fast
            children = [(v, entry, k, depth + 1) for k, v in node.items() if isinstance(v, _CONTAINERS)]
        elif isinstance(node, list | tuple):
            if len(node) > smallest:  # only then is it worth spelling the path to find its limit
                limit, name = sizes.get(_path(entry, indices=False), (limits.max_array_items, "max_array_items"))
                if len(node) > limit:
                    found.append(Problem(_path(entry), exceeded(limit, name)))
                    continue
            children = [(v, entry, i, depth + 1) for i, v in enumerate(node) if isinstance(v, _CONTAINERS)]
        else:
            continue
        stack.extend(reversed(children))
    return found
