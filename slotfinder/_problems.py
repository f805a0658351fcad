"""Problems collected with their paths: the one reader every JSON edge shares (Redox, FHIR, clinic, calendar map).

The iCalendar reader records into the same :class:`Problems`, and every value parser raises :class:`RuleError`.

A reading never stops at the first broken rule: it records a :class:`~slotfinder._errors.Problem` (a
path and the rule broken) and goes on, then raises them all at once::

    root = Reader(message, dialect=REDOX)
    visit = root.at("Visit")
    visit.object(required=True)                            # "$.Visit: is required" when absent
    number = visit.at("VisitNumber").string(required=True)  # None, and a problem, when unusable
    code = visit.at("VisitType").item(0).at("Code").string()
    root.problems.raise_if_any(InvalidMessage)

* :class:`Reader` is one JSON value at one path. ``at(key)`` and ``item(index)`` descend (an absent
  key, or a value of the wrong shape above it, reads as absent); the typed reads (``object``,
  ``items``, ``string``, ``flag``, ``number``, ``whole``, ``parsed``, ``apply``) return the value, or
  None after recording what is wrong with it.
* :class:`Dialect` is how one format words its rules (``must be an object`` or ``must be a JSON
  object``) and how leniently it reads text; each edge declares one.
* :class:`Problems` holds the problems of one reading, in the order found.
* :func:`structure_problems` turns a cattrs structuring error (``detailed_validation``) into problems.
* :class:`RuleError` is what a value parser raises: its message is the rule, so it may be shown.

No rule and no path ever repeats a value from the input (messages carry patient data): rules are
fixed texts, and a key that comes from the data is named in a path only when it looks like a field
name, because a misplaced identifier can be a key.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from typing import Any, TypeVar

import attrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError

from slotfinder._errors import Problem

__all__ = [
    "Dialect",
    "Problems",
    "Reader",
    "RuleError",
    "data_key_path",
    "item_path",
    "key_path",
    "structure_problems",
]

T = TypeVar("T")

_FIELD_NAME = re.compile(r"[A-Za-z_]{1,40}")


class RuleError(ValueError):
    """A value breaks a rule. The message is the rule (``must be a date YYYY-MM-DD``), never the value."""

    @property
    def rule(self) -> str:
        return str(self)


# ---- paths --------------------------------------------------------------------------------------


def _finite(value: int | float) -> bool:
    """A JSON number that is a real number (an int of any size is; ``math.isfinite`` overflows on huge ints)."""
    return isinstance(value, int) or math.isfinite(value)


def key_path(path: str, key: str) -> str:
    """``$.Visit`` -> ``$.Visit.VisitNumber``, for a key the code names."""
    return f"{path}.{key}"


def item_path(path: str, index: int) -> str:
    """``$.Slots`` -> ``$.Slots[0]``."""
    return f"{path}[{index}]"


def data_key_path(path: str, key: object) -> str:
    """The path of a key found in the data: ``path.key`` when it looks like a field name, else ``path``."""
    return key_path(path, key) if isinstance(key, str) and _FIELD_NAME.fullmatch(key) else path


# ---- problems -----------------------------------------------------------------------------------


class Problems:
    """The problems of one reading, in the order found; a rule broken twice at one path is kept once."""

    def __init__(self) -> None:
        self._found: dict[Problem, None] = {}

    def add(self, path: str, rule: str) -> None:
        self._found.setdefault(Problem(path, rule))

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self._found.setdefault(problem)

    def attempt(self, path: str, read: Callable[[], T], malformed: str = "is malformed") -> T | None:
        """``read()``, or None when it raises: a :class:`RuleError` is its rule at ``path``.

        Any other ``ValueError`` is recorded as ``malformed``: its message might quote the value.
        """
        try:
            return read()
        except RuleError as error:
            self.add(path, error.rule)
        except ValueError:
            self.add(path, malformed)
        return None

    def __len__(self) -> int:
        return len(self._found)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._found)

    def raise_if_any(self, error: Callable[[list[Problem]], Exception]) -> None:
        """Raise ``error`` (``InvalidRequest``, ``InvalidClinic``, ``InvalidMessage``) with every problem, if any."""
        if self._found:
            raise error(list(self._found))


# ---- reading JSON values ------------------------------------------------------------------------


@attrs.frozen
class Dialect:
    """How one format words its rules, and how leniently it reads text."""

    required: str = "is required"
    object: str = "must be an object"
    array: str = "must be an array"
    required_array: str = "is required"
    empty_array: str = "must not be empty"
    string: str = "must be a string"
    blank_string: str | None = None  # the rule a blank string breaks; None: it counts as absent
    integers_as_text: bool = False  # read 4711 where text is expected as "4711" (IDs sent as numbers)
    flag: str = "must be true or false"
    number: str = "must be a number"
    whole: str = "must be a whole number"
    unknown_key: str = "unknown key"
    malformed: str = "is malformed"  # a value a parser refused without saying which rule it broke


@attrs.frozen
class Reader:
    """One JSON value at its path; reads record problems in the shared :class:`Problems`, never the value."""

    value: Any = attrs.field(repr=False)  # never in a repr: it may be patient data
    path: str = "$"
    problems: Problems = attrs.field(factory=Problems, repr=False)
    dialect: Dialect = attrs.field(factory=Dialect, repr=False)

    # -- descending

    def at(self, key: str) -> Reader:
        """The value at ``key`` of this object; absent when there is none or this is not an object."""
        value = self.value.get(key) if isinstance(self.value, Mapping) else None
        return Reader(value, key_path(self.path, key), self.problems, self.dialect)

    def item(self, index: int) -> Reader:
        """Item ``index`` of this array; absent when there is none or this is not an array."""
        items = self.value
        value = items[index] if isinstance(items, list) and 0 <= index < len(items) else None
        return Reader(value, item_path(self.path, index), self.problems, self.dialect)

    # -- recording

    def problem(self, rule: str) -> None:
        """Record ``rule`` as broken here."""
        self.problems.add(self.path, rule)

    @property
    def present(self) -> bool:
        """Whether there is a value here (JSON null counts as absent)."""
        return self.value is not None

    def _absent(self, required: bool, rule: str | None = None) -> None:
        if required:
            self.problem(rule or self.dialect.required)

    # -- typed reads

    def object(self, *, required: bool = False) -> Reader | None:
        """This reader when the value is an object; else None (a problem unless absent and not required)."""
        if self.value is None:
            self._absent(required)
            return None
        if not isinstance(self.value, Mapping):
            self.problem(self.dialect.object)
            return None
        return self

    def items(self, *, required: bool = False, non_empty: bool = False) -> list[Reader]:
        """A reader per item of this array; [] when absent or not an array (a problem when it must be one)."""
        if self.value is None:
            self._absent(required, self.dialect.required_array)
            return []
        if not isinstance(self.value, list):
            self.problem(self.dialect.array)
            return []
        if non_empty and not self.value:
            self.problem(self.dialect.empty_array)
        return [Reader(v, item_path(self.path, i), self.problems, self.dialect) for i, v in enumerate(self.value)]

    def unknown_keys(self, known: Collection[str]) -> None:
        """Record every key of this object outside ``known`` (named only when it looks like a field name)."""
        if isinstance(self.value, Mapping):
            for key in self.value:
                if key not in known:
                    self.problems.add(data_key_path(self.path, key), self.dialect.unknown_key)

    def string(self, *, required: bool = False) -> str | None:
        """The text here, as sent (not stripped)."""
        value = self.value
        if isinstance(value, str):
            if value.strip():
                return value
            if self.dialect.blank_string is not None:
                self.problem(self.dialect.blank_string)
                return None
            self._absent(required)
            return None
        if value is None:
            self._absent(required)
            return None
        if self.dialect.integers_as_text and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        self.problem(self.dialect.string)
        return None

    def flag(self, *, required: bool = False) -> bool | None:
        """JSON true or false."""
        if self.value is None:
            self._absent(required)
            return None
        if not isinstance(self.value, bool):
            self.problem(self.dialect.flag)
            return None
        return self.value

    def number(self, *, required: bool = False) -> int | float | None:
        """A finite JSON number (true and false are not numbers)."""
        value = self.value
        if value is None:
            self._absent(required)
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
            self.problem(self.dialect.number)
            return None
        return value

    def whole(self, *, required: bool = False) -> int | None:
        """A whole JSON number (``30`` or ``30.0``)."""
        value = self.value
        if value is None:
            self._absent(required)
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value) or value != int(value):
            self.problem(self.dialect.whole)
            return None
        return int(value)

    def parsed(self, parse: Callable[[str], T], *, required: bool = False) -> T | None:
        """The text here (see :meth:`string`) read by ``parse``; a :class:`RuleError` it raises is recorded."""
        text = self.string(required=required)
        if text is None:
            return None
        return self.problems.attempt(self.path, lambda: parse(text), self.dialect.malformed)

    def apply(self, read: Callable[[Any], T]) -> T | None:
        """``read(value)`` of whatever is here (absent too); a :class:`RuleError` it raises is recorded."""
        return self.problems.attempt(self.path, lambda: read(self.value), self.dialect.malformed)


# ---- cattrs structuring errors ------------------------------------------------------------------


def structure_problems(
    error: BaseException,
    path: str = "$",
    *,
    dialect: Dialect | None = None,
    key: Callable[[str], str] = str,
    expected: Callable[[Any], str | None] | None = None,
) -> list[Problem]:
    """The problems of a cattrs structuring error (raised with ``detailed_validation``), with JSON paths.

    The walk is :func:`cattrs.transform_error`'s (``group_exceptions`` and the notes' attribute names and
    indices), with three differences: ``key`` names an attribute as the JSON does (``id_type`` ->
    ``IDType``); a forbidden extra key is one problem per key, named only when it looks like a field
    name; and no exception text reaches a rule except a :class:`RuleError`'s. Leaf rules: a missing key
    is ``dialect.required``; a ``TypeError`` or ``ValueError`` of a typed attribute or item is
    ``expected(type)`` when that gives one; anything else is ``dialect.malformed``.
    """
    found: list[Problem] = []
    _walk(error, path, None, dialect or Dialect(), key, expected, found)
    return found


def _walk(
    error: BaseException,
    path: str,
    type_: Any,
    dialect: Dialect,
    key: Callable[[str], str],
    expected: Callable[[Any], str | None] | None,
    found: list[Problem],
) -> None:
    if isinstance(error, IterableValidationError):
        items, rest = error.group_exceptions()
        for sub, item in items:
            where = item_path(path, item.index) if isinstance(item.index, int) else data_key_path(path, item.index)
            _walk(sub, where, item.type, dialect, key, expected, found)
        for sub in rest:
            _walk(sub, path, None, dialect, key, expected, found)
    elif isinstance(error, ClassValidationError):
        fields, rest = error.group_exceptions()
        for sub, field in fields:
            _walk(sub, key_path(path, key(field.name)), field.type, dialect, key, expected, found)
        for sub in rest:
            _walk(sub, path, None, dialect, key, expected, found)
    elif isinstance(error, ForbiddenExtraKeysError):
        found.extend(Problem(data_key_path(path, name), dialect.unknown_key) for name in sorted(error.extra_fields))
    else:
        found.append(Problem(path, _leaf_rule(error, type_, dialect, expected)))


def _leaf_rule(error: BaseException, type_: Any, dialect: Dialect, expected: Callable[[Any], str | None] | None) -> str:
    if isinstance(error, RuleError):
        return error.rule
    if isinstance(error, KeyError):
        return dialect.required
    if expected is not None and type_ is not None and isinstance(error, TypeError | ValueError):
        return expected(type_) or dialect.malformed
    return dialect.malformed


MAX_DEPTH = 32  # JSON nesting any message or file of ours needs is under 10; deeper is refused, not recursed into
DEPTH_RULE = f"nests deeper than {MAX_DEPTH} levels (limit max_depth)"


def too_deep(value: object, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON-like ``value`` nests deeper than ``limit`` (walked without recursion)."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping | list | tuple):
            if depth >= limit:
                return True
            children = node.values() if isinstance(node, Mapping) else node
            stack.extend((child, depth + 1) for child in children)
    return False
