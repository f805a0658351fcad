"""Start-up costs: ``import slotfinder`` and a cold CLI call on the demo clinic, beside ``python -c pass``.

python -m benchmarks.startup [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

__all__ = ["main", "startup_times"]


def _median_ms(command: list[str], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def startup_times(repeat: int) -> dict[str, float]:
    """Median wall milliseconds of a bare interpreter, ``import slotfinder`` and ``slotfinder demo``."""
    python = sys.executable
    return {
        "python_ms": _median_ms([python, "-c", "pass"], repeat),
        "import_ms": _median_ms([python, "-c", "import slotfinder"], repeat),
        "cli_demo_ms": _median_ms([python, "-m", "slotfinder", "demo"], repeat),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="start-up costs")
    parser.add_argument("--repeat", type=int, default=5)
    row = startup_times(parser.parse_args(argv).repeat)
    print("| measure | median (ms) | ratio to bare python |")
    print("|---|---|---|")
    for name in ("python_ms", "import_ms", "cli_demo_ms"):
        print(f"| {name.removesuffix('_ms')} | {row[name]:.0f} | {row[name] / row['python_ms']:.1f}x |")


if __name__ == "__main__":
    main()
