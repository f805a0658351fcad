"""What every fuzz module shares: the planted sentinel, hostile JSON values, mutations, the leak check.

A *sentinel* stands in for patient data: it is planted into inputs (as a value, as a key, inside
text) and must never come back in an error, a problem, a skipped note or a CLI line. Examples per
property come from ``FUZZ_EXAMPLES`` (see each module's docstring for its default and a long campaign).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import slotfinder

__all__ = [
    "HOSTILE",
    "SENTINEL",
    "examples",
    "mutated",
    "no_sentinel",
    "paths",
    "preset",
    "problem_texts",
    "typed",
]

SENTINEL = "ZZSENTINEL9"


def examples(default: int) -> int:
    """Examples per property: ``FUZZ_EXAMPLES`` when set, else ``default`` (sized for about a minute in all)."""
    return int(os.environ.get("FUZZ_EXAMPLES", str(default)))


def preset(default: int, divisor: int = 1) -> settings:
    """Hypothesis settings of one fuzz property: no deadline (no timed asserts), every health check off.

    Examples: ``default``, or ``FUZZ_EXAMPLES / divisor`` (at least one) when it is set. A property whose
    example is costly (a subprocess) passes a ``divisor``; ``FUZZ_EXAMPLES`` is read here only, once.
    """
    count = examples(default * divisor) // divisor
    return settings(max_examples=max(1, count), deadline=None, suppress_health_check=list(HealthCheck))


def _deep(levels: int) -> Any:
    node: Any = SENTINEL
    for _ in range(levels):
        node = {"a": node}
    return node


_HOSTILE_VALUES: list[Any] = [
    *(None, True, False, 0, -1, 1, 1440, 1441, 10**23, 10**400, -(10**20), 1e308, 0.5, -0.0),
    *(float("inf"), float("-inf"), float("nan")),
    *("", " ", "\ud800", "\x00", "1e400", "inf", "9" * 400, "Z" * 300, SENTINEL, f"{SENTINEL}@example.com"),
    *("9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "1899-12-31T23:59:59Z", "2025-10-21T19:00:00"),
    *("2025-10-21T19:00:00+25:00", "2025-02-30", "24:00", "23:59", "00:00", "25:61", "Mon", "Mars/Olympus"),
    *("America/Chicago", "UTC", "booking", "closure", "block", "day", "clock"),
    *([], {}, [SENTINEL], [{}], [None], {SENTINEL: 1}, {"a": SENTINEL}, _deep(40), [_deep(10)]),
]
HOSTILE: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(_HOSTILE_VALUES), st.text(max_size=12), st.integers(), st.floats()
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every node of a JSON value, the root first."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths(value, (*prefix, index))


@st.composite
def mutated(draw: st.DrawFn, document: Any, most: int = 3) -> Any:
    """``document`` with one to ``most`` nodes overwritten by hostile values, deleted, or given a sentinel key."""
    result = copy.deepcopy(document)
    places = [p for p in paths(document) if p]
    for _ in range(draw(st.integers(1, most))):
        path = draw(st.sampled_from(places))
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "sentinel key"]))
        node: Any = result
        try:
            for step in path[:-1]:
                node = node[step]
            if action == "replace":
                node[path[-1]] = draw(HOSTILE)
            elif action == "delete":
                del node[path[-1]]
            elif isinstance(node[path[-1]], dict):
                node[path[-1]][SENTINEL] = SENTINEL
        except (KeyError, IndexError, TypeError):  # an earlier mutation replaced or removed a parent
            continue
    return result


def problem_texts(error: BaseException) -> list[str]:
    """What an error shows: its message, and each problem's path and rule."""
    found = [str(error)]
    for problem in getattr(error, "problems", ()):
        found += [str(problem), problem.path, problem.rule]
    return found


def no_sentinel(*texts: object) -> None:
    """Nothing planted came back."""
    for text in texts:
        assert SENTINEL not in str(text), "a planted value came back"


def typed(error: BaseException, *kinds: type[BaseException]) -> None:
    """A refusal is a SlotfinderError (of one of ``kinds`` when given) whose messages leak nothing planted."""
    assert isinstance(error, slotfinder.SlotfinderError), type(error)
    assert not kinds or isinstance(error, kinds), type(error)
    no_sentinel(*problem_texts(error))
