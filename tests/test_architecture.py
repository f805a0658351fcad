"""The architecture, checked: layers, one-boundary rules, no cycles, no module-level caches.

docs/architecture.md draws the layers and names the test that holds each rule. The checks are static:
every ``.py`` file of ``slotfinder/`` and ``benchmarks/`` is parsed with :mod:`ast` and every import
statement counts, wherever it stands (module level, inside a function, under ``if TYPE_CHECKING``),
so a lazy import cannot hide a dependency. Only "what does ``import slotfinder`` load" is measured,
in a fresh interpreter.

The import graph is built here rather than with a library (grimp, import-linter): ~50 lines of
``ast`` give every import with its line and whether it sits inside a function, which the CLI rule
needs, and add no test dependency. ``from a.b import c`` is an edge to ``a.b.c`` when that is a module,
else to ``a.b``; relative imports are resolved against the importing module's package.

Layers (a module belongs to the first that matches):

* **core**: ``slotfinder._*`` and its subpackages (``_domain``, ``_errors``, ``_calendars``, ``_solve``,
  ``_pipeline``, ...) except the command line (``_cli``, ``__main__``), plus ``slotfinder.walltime`` and
  ``slotfinder.intervals``;
* **format edges**: ``slotfinder.redox``, ``slotfinder.fhir``, ``slotfinder.ical``;
* **store**: ``slotfinder.store``;
* **server**: ``slotfinder.server`` (HTTP: the Redox destination, FHIR ``$find``, health checks), above the store;
* **public API**: ``slotfinder`` (the root) and ``slotfinder.frames``;
* **applications**: ``slotfinder.planning``, ``benchmarks``, and the command line.
"""

from __future__ import annotations

import ast
import functools
import json
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from attrs import frozen

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("slotfinder", "benchmarks")

EDGES = ("slotfinder.redox", "slotfinder.fhir", "slotfinder.ical")
STORE = "slotfinder.store"
SERVER = "slotfinder.server"
PLANNING = "slotfinder.planning"
CLI = ("slotfinder._cli", "slotfinder.__main__")
PUBLIC_ROOTS = frozenset(
    {"slotfinder", "slotfinder.walltime", "slotfinder.intervals", "slotfinder.frames", *EDGES, STORE, PLANNING},
)


# ---- the import graph ---------------------------------------------------------------------------


@frozen
class Import:
    """One import statement's edge: who imports what, where, and whether only when a function runs."""

    importer: str
    target: str  # dotted module name (a slotfinder module resolved as far as it exists)
    line: int
    in_function: bool

    def __str__(self) -> str:
        where = " (inside a function)" if self.in_function else ""
        return f"{self.importer}:{self.line} imports {self.target}{where}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.cache
def modules() -> dict[str, Path]:
    """Every module of the package and of the benchmarks, by dotted name."""
    return {_module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = importer.split(".")
    if modules()[importer].name != "__init__.py":
        package.pop()
    package = package[: len(package) - node.level + 1]
    return ".".join([*package, *([node.module] if node.module else [])])


def _walk(node: ast.AST, in_function: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    """Every node below ``node``, with whether a function (or lambda) encloses it."""
    for child in ast.iter_child_nodes(node):
        yield child, in_function
        nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        yield from _walk(child, nested)


@functools.cache
def imports_of(importer: str) -> tuple[Import, ...]:
    """Every import in module ``importer``, at any depth."""
    known = modules()
    found: list[Import] = []
    for node, in_function in _walk(ast.parse(known[importer].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [Import(importer, alias.name, node.lineno, in_function) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(importer, node)
            for alias in node.names:
                target = f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                found.append(Import(importer, target, node.lineno, in_function))
    return tuple(found)


def all_imports() -> list[Import]:
    """Every import of every module of slotfinder and benchmarks."""
    return [i for name in modules() for i in imports_of(name)]


def internal(i: Import) -> bool:
    """An import of a slotfinder (or benchmarks) module."""
    return i.target.split(".")[0] in PACKAGES


def layer(name: str) -> str:
    """The layer of a module (see the module docstring)."""
    parts = name.split(".")
    by_package = [
        (EDGES, "edge"),
        ((STORE,), "store"),
        ((SERVER,), "server"),
        ((PLANNING,), "planning"),
        (("benchmarks",), "benchmarks"),
    ]
    if name in CLI:
        found = "cli"
    elif name in ("slotfinder.walltime", "slotfinder.intervals") or (len(parts) > 1 and parts[1].startswith("_")):
        found = "core"
    else:  # the root and slotfinder.frames are the public API
        found = next((what for packages, what in by_package if any(_within(name, p) for p in packages)), "public")
    return found


def _violations(importers: str, allowed: set[str]) -> list[str]:
    """Imports of slotfinder modules by modules of layer ``importers`` whose target's layer is not allowed."""
    return [
        str(i)
        for i in all_imports()
        if layer(i.importer) == importers and internal(i) and layer(i.target) not in allowed
    ]


def _package_of(name: str) -> str:
    """The public namespace a slotfinder module belongs to (``slotfinder.ical._read`` -> ``slotfinder.ical``)."""
    return ".".join(name.split(".")[:2])


def none_of(found: Iterable[object], rule: str) -> None:
    """Assert that nothing breaks ``rule``, listing every offender one per line when something does."""
    offenders = [str(f) for f in found]
    assert not offenders, f"{rule}:\n  " + "\n  ".join(offenders)


# ---- no cycles ----------------------------------------------------------------------------------


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module, or a module importing itself (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    """The cycle finder itself: a -> b -> c -> a is one cycle, d -> d another, e -> a none."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}, "e": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"], ["d"]]


def test_no_import_cycles() -> None:
    """No cycle among slotfinder and benchmarks modules, counting imports inside functions too."""
    graph: dict[str, set[str]] = {name: set() for name in modules()}
    for i in all_imports():
        if internal(i) and i.target in graph:
            graph[i.importer].add(i.target)
    none_of(_cycles(graph), "import cycles (each list is one strongly connected group of modules)")


# ---- layers -------------------------------------------------------------------------------------


def test_layer_rules_see_every_module() -> None:
    """The layer map covers the package: core, edges, store, server, planning and the CLI all have members."""
    layers = {layer(name) for name in modules()}
    assert layers == {"core", "edge", "store", "server", "planning", "public", "cli", "benchmarks"}
    assert layer("slotfinder.server._app") == "server"
    assert layer("slotfinder._solve.cpsat") == layer("slotfinder.walltime") == "core"
    assert layer("slotfinder.ical._read") == "edge"
    assert layer("slotfinder") == layer("slotfinder.frames") == "public"


def test_core_imports_only_core() -> None:
    """Core (``slotfinder._*``, ``slotfinder.walltime``) imports nothing above it: no format edge (redox, fhir,
    ical), no store, no planning, no frames, not the root or the command line."""
    none_of(_violations("core", {"core"}), "core imports a layer above it")


def test_format_edges_import_only_core_and_themselves() -> None:
    """redox, fhir and ical import core and their own modules: not the store, planning, frames or the root,
    and not each other (a FHIR or iCalendar module borrowing a Redox helper would couple two formats)."""
    violations = [
        str(i)
        for i in all_imports()
        if layer(i.importer) == "edge"
        and internal(i)
        and layer(i.target) != "core"
        and _package_of(i.target) != _package_of(i.importer)
    ]
    none_of(violations, "a format edge imports a layer it may not")


def test_store_imports_core_and_format_edges() -> None:
    """The store imports core, the format edges (it ingests Redox events, FHIR and iCalendar) and itself."""
    none_of(_violations("store", {"core", "edge", "store"}), "the store imports planning, frames or the root")


def test_server_imports_core_format_edges_and_store() -> None:
    """The server imports core, the format edges, the store and itself: not planning, frames or the root."""
    none_of(_violations("server", {"core", "edge", "store", "server"}), "the server imports a layer it may not")


def test_only_the_command_line_imports_the_server_and_only_inside_a_function() -> None:
    """The server (and Starlette, uvicorn) loads only when ``serve`` runs: outside the server, only
    ``slotfinder._cli`` imports it, and only inside a function."""
    offenders = [
        str(i)
        for i in all_imports()
        if _within(i.target, SERVER)
        and layer(i.importer) != "server"
        and (i.importer != "slotfinder._cli" or not i.in_function)
    ]
    none_of(offenders, "the server imported at module level or by a module other than the CLI")
    assert any(_within(i.target, SERVER) for i in imports_of("slotfinder._cli")), "the CLI runs serve"


@pytest.mark.parametrize("who", ["planning", "benchmarks"])
def test_applications_use_only_public_names(who: str) -> None:
    """Planning and the benchmarks import only public names: ``slotfinder``, ``slotfinder.walltime``,
    ``slotfinder.frames`` and the public subpackage roots (redox, fhir, ical, store, planning), plus their
    own modules; never a module path with a ``_`` segment from outside their own package."""
    own = PLANNING if who == "planning" else "benchmarks"
    violations = [
        str(i)
        for i in all_imports()
        if layer(i.importer) == who and internal(i) and not _within(i.target, own) and i.target not in PUBLIC_ROOTS
    ]
    none_of(violations, "a module path with a `_` segment imported from outside")


def test_only_the_command_line_imports_planning_and_only_inside_a_function() -> None:
    """Capacity planning loads only when its commands run: outside planning and the benchmarks, only
    ``slotfinder._cli`` imports it, and only inside a function."""
    offenders = [
        str(i)
        for i in all_imports()
        if _within(i.target, PLANNING)
        and layer(i.importer) not in ("planning", "benchmarks")
        and (i.importer != "slotfinder._cli" or not i.in_function)
    ]
    none_of(offenders, "planning imported at module level or by a module other than the CLI")
    assert any(_within(i.target, PLANNING) for i in imports_of("slotfinder._cli")), "the CLI runs the planning commands"


# ---- one-boundary rules -------------------------------------------------------------------------


def _external_importers(top_levels: set[str]) -> set[str]:
    return {i.importer for i in all_imports() if i.target.split(".")[0] in top_levels}


def test_only_cpsat_imports_ortools() -> None:
    """OR-Tools is one module's business: only ``slotfinder._solve.cpsat`` imports ``ortools``."""
    assert _external_importers({"ortools"}) == {"slotfinder._solve.cpsat"}


def test_only_zones_imports_a_time_zone_library() -> None:
    """Wall time meets instants in one place: only ``slotfinder._calendars.zones`` imports a time-zone
    library (pendulum, zoneinfo, pytz, dateutil, tzdata); everything else counts minutes since the epoch."""
    assert _external_importers({"pendulum", "zoneinfo", "pytz", "dateutil", "tzdata"}) == {
        "slotfinder._calendars.zones"
    }


# Field names only Redox uses (FHIR and iCalendar names such as "identifier" or "DTSTART" are fine elsewhere).
REDOX_FIELDS = (
    "AttendingProviders",
    "AvailableSlots",
    "DataModel",
    "EndDateTime",
    "EventDateTime",
    "EventType",
    "FacilityCode",
    "IDType",
    "Identifiers",
    "StartDateTime",
    "VisitDateTime",
    "VisitNumber",
    "VisitPreference",
    "Visits",
)
_REDOX_FIELD = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(REDOX_FIELDS) + r")(?![A-Za-z0-9_])")


def _documentation(tree: ast.Module) -> set[int]:
    """ids of string constants that are documentation: docstrings and other bare string statements."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }


def redox_names_in(source: str) -> list[tuple[int, str]]:
    """(line, string) of each string constant in code that names a Redox field.

    A constant names a field when it holds the field as a whole word and no whitespace: a key such as
    ``"VisitNumber"`` or a path (part) such as ``"$.Visits["``. Prose (help texts, messages) and
    documentation may mention Redox; code outside ``slotfinder/redox/`` may not spell its fields.
    """
    tree = ast.parse(source)
    documentation = _documentation(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in documentation
        and not re.search(r"\s", node.value)
        and _REDOX_FIELD.search(node.value)
    ]


def test_redox_field_detector() -> None:
    """The detector: keys and path parts count, prose and docstrings do not."""
    source = '''
"""Module docstring naming VisitNumber."""
KEY = "VisitNumber"
PATH = f"$.Visits[{0}].VisitDateTime"
HELP = "answer a Redox AvailableSlots request"
NOT_A_FIELD = "VisitNumbers"
'''
    assert redox_names_in(source) == [(3, "VisitNumber"), (4, "$.Visits["), (4, "].VisitDateTime")]


def test_no_redox_field_names_outside_redox() -> None:
    """Only ``slotfinder/redox/`` spells Redox field names in code; core, the other edges, the store, the
    command line and planning work with domain values."""
    found = [
        f"{name}:{line} {text!r}"
        for name, path in modules().items()
        if _within(name, "slotfinder") and not _within(name, "slotfinder.redox")
        for line, text in redox_names_in(path.read_text(encoding="utf-8"))
    ]
    none_of(found, "Redox field names spelt outside slotfinder/redox/")


# ---- no module-level caches ---------------------------------------------------------------------

# The one allowed memo: pure functions of (zone name), (zone, local date, minute) or (zone, instant)
# in the wall-time boundary. They hold tz-database answers only, no clinic or patient data, so they
# cannot go stale when a clinic changes nor leak one search's data into another.
ALLOWED_MEMOS = {"slotfinder._calendars.zones": frozenset({"_zone", "instant_of", "offset_at"})}

_CACHE_DECORATORS = frozenset({"cache", "lru_cache"})
_MUTABLE_CALLS = frozenset(
    {
        "dict",
        "list",
        "set",
        "defaultdict",
        "OrderedDict",
        "Counter",
        "deque",
        "WeakValueDictionary",
        "WeakKeyDictionary",
    }
)
_MUTATORS = frozenset(
    {"add", "append", "clear", "discard", "extend", "insert", "pop", "popitem", "remove", "setdefault", "update"}
)


def _decorator_name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute):
        return target.attr
    return target.id if isinstance(target, ast.Name) else ""


def _module_level_mutables(tree: ast.Module) -> set[str]:
    """Names bound at module level to a mutable container (dict, list, set and friends)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign):
            value, targets = node.value, node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            value, targets = node.value, [node.target]
        else:
            continue
        mutable = isinstance(value, ast.Dict | ast.List | ast.Set | ast.DictComp | ast.ListComp | ast.SetComp) or (
            isinstance(value, ast.Call) and _decorator_name(value) in _MUTABLE_CALLS
        )
        if not mutable:
            continue
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def caches_in(name: str, source: str) -> list[str]:
    """Module-level caches in one module: memo decorators, module containers written by functions, globals."""
    tree = ast.parse(source)
    allowed = ALLOWED_MEMOS.get(name, frozenset())
    mutables = _module_level_mutables(tree)
    found: list[str] = []
    for node, in_function in _walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name not in allowed:
            found += [
                f"{name}:{node.lineno} @{_decorator_name(d)} on {node.name}"
                for d in node.decorator_list
                if _decorator_name(d) in _CACHE_DECORATORS
            ]
        if not in_function:
            continue
        if isinstance(node, ast.Global):
            found.append(f"{name}:{node.lineno} global {', '.join(node.names)}")
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del):
            if isinstance(node.value, ast.Name) and node.value.id in mutables:
                found.append(f"{name}:{node.lineno} writes module-level {node.value.id}[...]")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id in mutables and node.func.attr in _MUTATORS:
                found.append(f"{name}:{node.lineno} {owner.id}.{node.func.attr}(...) on a module-level container")
    return found


def test_cache_detector() -> None:
    """The detector: memo decorators, writes to module containers and globals count; constant tables,
    per-call dicts and per-instance cached properties do not."""
    source = """
import functools
TABLE = {"a": 1}
_SEEN: dict[str, int] = {}
_LOG = []
@functools.lru_cache(maxsize=8)
def memo(x): return x
def remember(k, v):
    _SEEN[k] = v
    _LOG.append(k)
    local = {}
    local[k] = TABLE[k]
def swap():
    global TABLE
class Thing:
    @functools.cached_property
    def value(self): return 1
"""
    assert caches_in("m", source) == [
        "m:7 @lru_cache on memo",
        "m:9 writes module-level _SEEN[...]",
        "m:10 _LOG.append(...) on a module-level container",
        "m:14 global TABLE",
    ]


def test_no_module_level_caches() -> None:
    """State lives in objects the caller holds (PreparedClinic, CalendarStore), never in the module: no
    functools.cache/lru_cache, no module-level dict/list/set written by a function, no ``global``.

    The one exception is the time-zone memo of ``slotfinder/_calendars/zones.py`` (``ALLOWED_MEMOS``): pure
    functions of (zone name, local date, minute) or (zone, instant), holding tz-database answers and no
    clinic or patient data.
    """
    found = [
        line
        for name, path in modules().items()
        if _within(name, "slotfinder")
        for line in caches_in(name, path.read_text())
    ]
    none_of(found, "module-level caches")


def test_allowed_memos_exist() -> None:
    """The allow-list names functions that exist and are memoised, so it cannot silently outlive them."""
    for name, functions in ALLOWED_MEMOS.items():
        tree = ast.parse(modules()[name].read_text(encoding="utf-8"))
        memoised = {
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef)
            and any(_decorator_name(d) in _CACHE_DECORATORS for d in node.decorator_list)
        }
        assert functions <= memoised, functions - memoised


# ---- what an import loads -----------------------------------------------------------------------

HEAVY = ("slotfinder.planning", "pandas", "matplotlib", "ortools", "dask", "distributed", "tqdm")


@pytest.mark.parametrize("module", ["slotfinder", "slotfinder._cli"])
def test_import_loads_no_heavy_module(module: str) -> None:
    """``import slotfinder`` (and the command line's start-up) in a fresh interpreter loads none of planning,
    pandas, matplotlib, ortools, dask, distributed or tqdm: each loads only when a call needs it."""
    code = (
        f"import json, sys, {module}\n"
        f"heavy = {HEAVY!r}\n"
        "print(json.dumps(sorted(m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in heavy))))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    none_of(json.loads(run.stdout), f"import {module} loads")
