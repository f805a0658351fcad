"""The capacity-planning commands of the ``slotfinder`` CLI (loaded only when one of them runs)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from slotfinder.planning._bench_cli import add_bench_parser, run_bench
from slotfinder.planning._simulate_cli import add_simulate_parser, run_simulate

__all__ = ["COMMANDS", "add_parsers"]

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"bench": run_bench, "simulate": run_simulate}


def add_parsers(subparsers: Any) -> None:
    """Add ``bench`` and ``simulate`` to the CLI's sub-commands (an ``argparse`` sub-parsers action)."""
    add_bench_parser(subparsers)
    add_simulate_parser(subparsers)
