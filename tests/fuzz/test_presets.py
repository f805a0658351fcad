"""How many examples a fuzz property draws: ``FUZZ_EXAMPLES`` is read once, and the command line's properties
(a subprocess per example) draw a hundredth of it; and the command line's bound per input.

Issue 11: ``test_cli_fuzz`` divided ``FUZZ_EXAMPLES`` by 100 and handed the result to ``preset``, which read
``FUZZ_EXAMPLES`` again, so a campaign of ``FUZZ_EXAMPLES=1200`` ran 1,200 subprocesses per property
(4,800 in all, hours) instead of 12: a run that looked stalled.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.fuzz.hostile import preset
from tests.support import ROOT


def test_examples_default_without_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FUZZ_EXAMPLES", raising=False)
    assert preset(150).max_examples == 150
    assert preset(4, divisor=100).max_examples == 4


def test_the_variable_is_divided_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUZZ_EXAMPLES", "1200")
    assert preset(150).max_examples == 1200
    assert preset(4, divisor=100).max_examples == 12
    monkeypatch.setenv("FUZZ_EXAMPLES", "50")
    assert preset(4, divisor=100).max_examples == 1  # never zero


def test_the_command_line_properties_draw_a_hundredth() -> None:
    """What the module itself sets up, as a long campaign imports it."""
    code = "from tests.fuzz import test_cli_fuzz; print(test_cli_fuzz.PRESET.max_examples)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "FUZZ_EXAMPLES": "1200"},
    )
    assert done.stdout.split() == ["12"]


def test_a_command_past_the_timeout_fails_its_example(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line's bound per input: a subprocess still running at ``TIMEOUT`` is killed and the
    example fails (here a bound no interpreter starts within, instead of a hanging input)."""
    from tests.fuzz import test_cli_fuzz

    monkeypatch.setattr(test_cli_fuzz, "TIMEOUT", 0.01)
    with pytest.raises(pytest.fail.Exception, match=r"slotfinder demo still running after 0\.01 s"):
        test_cli_fuzz.run("demo")
