"""The public surface, pinned (in the manner of httpx's exported-members test).

Public namespaces: the root ``slotfinder``, ``slotfinder.walltime``, ``slotfinder.frames``, the format
edges ``slotfinder.redox``, ``slotfinder.fhir``, ``slotfinder.ical``, the store ``slotfinder.store``,
the server ``slotfinder.server`` and ``slotfinder.planning``. Everything else has a ``_`` segment in its
dotted path and is private.
A namespace's ``__all__`` is sorted and is exactly what it offers: adding a public name without
exporting it, or exporting a name that is not there, fails here.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import tomllib
import types
from pathlib import Path

import pytest

import slotfinder
from slotfinder import _errors

ROOT = Path(__file__).resolve().parents[1]

# The namespaces that only re-export (their own functions live in private modules).
REEXPORTING = (
    "slotfinder",
    "slotfinder.fhir",
    "slotfinder.ical",
    "slotfinder.intervals",
    "slotfinder.planning",
    "slotfinder.redox",
    "slotfinder.server",
    "slotfinder.store",
    "slotfinder.walltime",
)
PUBLIC = frozenset({*REEXPORTING, "slotfinder.frames"})
ALSO_EXPORTED = {"slotfinder": {"__version__"}}  # dunder metadata a namespace may list in __all__
FUTURE_FEATURE = type(importlib.import_module("__future__").annotations)  # what `from __future__ import` binds


def ruff_sort_key(name: str) -> tuple[int, list[str | int]]:
    """The order ruff's RUF022 gives ``__all__``: CONSTANTS, then Classes, then the rest, each naturally sorted
    (digit runs compare as numbers)."""
    cased = [c for c in name if c.isalpha()]
    if len(name) > 1 and cased and all(c.isupper() for c in cased):
        kind = 0
    elif name[:1].isupper():
        kind = 1
    else:
        kind = 2
    return kind, [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _public_bound(module: types.ModuleType) -> set[str]:
    """Public names bound in a module's namespace, without submodules and ``from __future__`` features."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and not isinstance(value, FUTURE_FEATURE)
    }


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_all_is_sorted_and_every_name_resolves(name: str) -> None:
    """``__all__`` exists, is sorted (as ruff's RUF022 sorts it), has no duplicates, and each name resolves to
    something other than a module (lazily loaded names included)."""
    module = importlib.import_module(name)
    exported = list(getattr(module, "__all__", ()))
    assert exported, f"{name} has no __all__"
    assert exported == sorted(set(exported), key=ruff_sort_key)
    for member in exported:
        assert not isinstance(getattr(module, member), types.ModuleType), member


@pytest.mark.parametrize("name", REEXPORTING)
def test_all_is_exactly_the_public_names(name: str) -> None:
    """Every public name bound in the namespace is in ``__all__`` (no stray ``Any`` or helper), and, unless
    the namespace loads names lazily (PEP 562 ``__getattr__``), every name of ``__all__`` is bound."""
    module = importlib.import_module(name)
    exported = set(module.__all__) - ALSO_EXPORTED.get(name, set())
    bound = _public_bound(module)
    assert sorted(bound - exported) == [], "public names missing from __all__"
    if "__getattr__" not in vars(module):
        assert sorted(exported - bound) == [], "names in __all__ the module does not bind"


def test_frames_exports_every_public_function_it_defines() -> None:
    """``slotfinder.frames`` defines its functions itself: each public one is in ``__all__``."""
    frames = importlib.import_module("slotfinder.frames")
    defined = {
        name
        for name, value in vars(frames).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == frames.__name__
    }
    assert defined, "slotfinder.frames defines no public function"
    assert sorted(defined - set(frames.__all__)) == []


def test_version_is_the_installed_distributions() -> None:
    """``slotfinder.__version__`` is the version pip installed, because pyproject reads it from the package
    (a stale install, or a version written in two places, fails here)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "slotfinder.__version__"}
    assert slotfinder.__version__ == importlib.metadata.version("slotfinder")


def _public_errors() -> dict[str, type[BaseException]]:
    return {
        name: value
        for name, value in vars(_errors).items()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and value.__module__ == _errors.__name__
        and not name.startswith("_")
    }


def _drawn_tree() -> dict[str, str | None]:
    """The error tree drawn in ``_errors``'s docstring: each class with its parent in the drawing.

    The root stands alone on its line; every other node follows ``├── `` or ``└── ``, four columns
    deeper per level. The drawing ends at the first line without a branch.
    """
    lines = (_errors.__doc__ or "").splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip() == "SlotfinderError")
    column = lines[first].index("SlotfinderError")
    parents: dict[str, str | None] = {"SlotfinderError": None}
    path = ["SlotfinderError"]  # the names on the way down to the current line
    for line in lines[first + 1 :]:
        branch = re.search(r"[├└]── (\w+)", line)
        if branch is None:
            break
        del path[(branch.start(1) - column) // 4 :]
        parents[branch.group(1)] = path[-1]
        path.append(branch.group(1))
    return parents


def test_every_error_is_exported_and_drawn() -> None:
    """Each public exception class of ``slotfinder._errors`` is exported at the root (same object) and drawn
    in the docstring's error tree, under its nearest public base class; nothing else is drawn."""
    errors = _public_errors()
    assert "SlotfinderError" in errors
    for name, cls in errors.items():
        assert name in slotfinder.__all__, name
        assert getattr(slotfinder, name) is cls, name
    drawn = _drawn_tree()
    assert sorted(drawn) == sorted(errors), "the drawing and the classes differ"
    for name, cls in errors.items():
        base = next((b.__name__ for b in cls.__mro__[1:] if b.__name__ in errors), None)
        assert drawn[name] == base, f"{name} is drawn under {drawn[name]}, but derives from {base}"


def test_every_other_module_is_private() -> None:
    """Every module under ``slotfinder/`` that is not a public namespace has a ``_``-prefixed segment in its
    dotted path (``slotfinder.redox._parse``, ``slotfinder._solve.cpsat``, ``slotfinder.__main__``)."""
    public_looking = []
    for path in sorted((ROOT / "slotfinder").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        if name not in PUBLIC and not any(part.startswith("_") for part in parts):
            public_looking.append(name)
    assert public_looking == []
