"""Capacity planning's shape: public core API only, small modules, no import cycles, a light lazy package.

These read the source (``ast``) and run fresh interpreters; they check the architecture, not behaviour.
"""

from __future__ import annotations

import ast
import importlib
import itertools
import random
import subprocess
import sys
from pathlib import Path

import pytest

from slotfinder import planning
from slotfinder.planning._minutes import covered, merge, subtract

ROOT = Path(__file__).resolve().parents[2]
PLANNING = ROOT / "slotfinder" / "planning"
BENCHMARKS = ROOT / "benchmarks"
MAX_LINES = 400
PUBLIC_CORE = {
    "slotfinder",
    "slotfinder.walltime",
    "slotfinder.intervals",
    "slotfinder.frames",
    "slotfinder.redox",
    "slotfinder.fhir",
    "slotfinder.ical",
    "slotfinder.store",
}
HEAVY = ("matplotlib", "tqdm", "dask", "distributed", "pandas")


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """Every import of a file, at any depth (functions, ``TYPE_CHECKING`` blocks): (module, names)."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def _sources(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.py"))


def _module(path: Path) -> str:
    return f"slotfinder.planning.{path.stem}" if path.stem != "__init__" else "slotfinder.planning"


@pytest.mark.parametrize("path", _sources(PLANNING) + _sources(BENCHMARKS), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_only_the_public_core_api_is_imported(path: Path) -> None:
    """Planning and the benchmarks import the core through its public names only: the package root,
    ``walltime``, ``frames`` and the public subpackages; planning also its own modules, the benchmarks
    only ``slotfinder.planning`` itself."""
    own = "slotfinder.planning." if path.parent == PLANNING else None
    for module, names in _imports(path):
        if module.split(".")[0] != "slotfinder":
            continue
        if own is not None and module.startswith(own):
            continue
        assert module in PUBLIC_CORE or module == "slotfinder.planning", f"{path.name} imports {module}"
        private = [n for n in names if n.startswith("_")]
        if own is not None and module == "slotfinder.planning":
            assert path.stem == "__init__" or not names, f"{path.name}: import planning's modules directly"
            continue
        assert not private, f"{path.name} imports {private} from {module}"


@pytest.mark.parametrize("path", _sources(PLANNING), ids=lambda p: p.name)
def test_modules_are_small(path: Path) -> None:
    """No planning module is over 400 lines."""
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.name}: {lines} lines"


def test_no_import_cycles_between_planning_modules() -> None:
    """The planning modules import one another without a cycle, counting imports inside functions and
    under ``TYPE_CHECKING``; none goes through the package root (which only re-exports)."""
    graph: dict[str, set[str]] = {}
    for path in _sources(PLANNING):
        if path.stem == "__init__":
            continue
        targets = {m for m, _ in _imports(path) if m.startswith("slotfinder.planning")}
        assert "slotfinder.planning" not in targets, f"{path.name} imports the package root"
        graph[_module(path)] = {t for t in targets if t != _module(path)}
    assert graph, "no modules found"
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        assert module not in trail, "import cycle: " + " -> ".join((*trail[trail.index(module) :], module))
        if module in done:
            return
        for target in sorted(graph.get(module, ())):
            visit(target, (*trail, module))
        done.add(module)

    for module in sorted(graph):
        visit(module, ())


def test_public_names_are_sorted_and_each_resolves_to_its_module() -> None:
    """``__all__`` is sorted (constants, classes, functions) and every name loads from the module the
    package says it lives in; nothing else is offered."""

    def order(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    names = list(planning.__all__)
    assert names == sorted(names, key=order)
    assert set(names) == set(planning._SOURCES)
    for name in names:
        module = importlib.import_module(f"slotfinder.planning.{planning._SOURCES[name]}")
        assert getattr(planning, name) is getattr(module, name), name
        assert name in module.__all__, name
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = planning.nothing


def _loaded_after(code: str) -> list[str]:
    """Planning modules and heavy libraries loaded by running ``code`` in a fresh interpreter."""
    probe = (
        f"import sys; {code}; "
        "print(sorted(m for m in sys.modules if m.startswith('slotfinder.planning.') "
        f"or m.split('.')[0] in {HEAVY!r}))"
    )
    shown = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True, cwd=ROOT)
    loaded: list[str] = ast.literal_eval(shown.stdout.strip())
    return loaded


def test_importing_planning_loads_nothing_until_a_name_is_used() -> None:
    """``import slotfinder`` does not load planning; ``import slotfinder.planning`` loads none of its
    modules; a name loads its module (and what it needs), still without pandas, matplotlib, tqdm or Dask."""
    assert _loaded_after("import slotfinder") == []
    assert _loaded_after("import slotfinder.planning") == []
    generator = _loaded_after("import slotfinder.planning as p; p.generate")
    assert "slotfinder.planning._generator" in generator
    assert not [m for m in generator if m.split(".")[0] in HEAVY]
    simulation = _loaded_after("import slotfinder.planning as p; p.simulate; p.run_grid; p.run_replicates")
    assert not [m for m in simulation if m.split(".")[0] in HEAVY]


def _minutes(intervals: list[tuple[int, int]]) -> set[int]:
    return {m for a, b in intervals for m in range(a, b)}


def test_interval_helpers_agree_with_minute_sets() -> None:
    """merge, subtract and covered give what sets of minutes give, on random intervals."""
    rng = random.Random(5)
    for _ in range(300):
        free = [(a, a + rng.randrange(0, 30)) for a in (rng.randrange(200) for _ in range(rng.randrange(6)))]
        busy = [(a, a + rng.randrange(0, 30)) for a in (rng.randrange(200) for _ in range(rng.randrange(6)))]
        merged_free, merged_busy = merge(free), merge(busy)
        assert _minutes(merged_free) == _minutes(free)
        assert all(a < b for a, b in merged_free)
        assert all(b < c for (_, b), (c, _) in itertools.pairwise(merged_free))  # disjoint, apart
        assert _minutes(subtract(merged_free, merged_busy)) == _minutes(free) - _minutes(busy)
        lo = rng.randrange(200)
        hi = lo + rng.randrange(60)
        assert covered(merged_free, lo, hi) == len(_minutes(free) & set(range(lo, hi)))
