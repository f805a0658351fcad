"""The research notebooks run top to bottom against the current code, and are committed without outputs.

Each notebook under ``notebooks/`` is executed in a fresh kernel (nbclient, the Agg matplotlib backend,
a time limit per cell); it must open with a markdown "Question" cell and close with a markdown
"Findings" cell. Committed notebooks carry no outputs, so nothing stale is ever committed: the
findings are backed by assertions in the notebooks' own code cells, which this run executes.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
CELL_TIMEOUT = 120  # seconds per cell; a whole notebook is meant to run in well under a minute


def strip_outputs(path: Path) -> bool:
    """Remove outputs and execution counts from a notebook file; True when it changed."""
    notebook = _read(path)
    changed = False
    for cell in notebook.cells:
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            cell.outputs, cell.execution_count = [], None
            changed = True
    if changed:
        nbformat.write(notebook, path)  # type: ignore[no-untyped-call]
    return changed


def _read(path: Path) -> nbformat.NotebookNode:
    notebook: nbformat.NotebookNode = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    return notebook


def test_notebooks_exist() -> None:
    """The three notebooks the README promises are there."""
    assert [p.name for p in PATHS] == [
        "01-quickstart.ipynb",
        "02-preferences-and-ranking.ipynb",
        "03-capacity-study.ipynb",
    ]


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_shape(path: Path) -> None:
    """Valid nbformat 4; opens with the question, ends with the findings; no outputs committed."""
    notebook = _read(path)
    nbformat.validate(notebook)
    cells = notebook.cells
    assert cells[0].cell_type == "markdown" and "## Question" in cells[0].source
    assert cells[-1].cell_type == "markdown" and cells[-1].source.lstrip().startswith("## Findings")
    for cell in cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: committed outputs (strip them)"
            assert cell.execution_count is None, f"{path.name}: committed execution counts (strip them)"
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cell runs without error in a fresh kernel (the notebooks assert their own findings)."""
    monkeypatch.setenv("MPLBACKEND", "Agg")  # the kernel inherits it: no display needed, nothing shown
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # quiet debugger warning of frozen modules
    notebook = _read(path)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    try:  # CELL_TIMEOUT bounds a hang; how long a notebook takes is not asserted (a loaded machine is slower)
        client.execute()
    except CellExecutionError as error:  # the failing cell and its traceback, uncoloured
        pytest.fail(f"{path.name}: {_ANSI.sub('', str(error))[-4000:]}", pytrace=False)


if __name__ == "__main__":  # python tests/test_notebooks.py: strip every notebook before committing
    for notebook_path in PATHS:
        print(f"{notebook_path.name}: {'stripped' if strip_outputs(notebook_path) else 'clean'}")
