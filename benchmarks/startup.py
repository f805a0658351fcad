"""Start-up costs: ``import slotfinder`` and a cold CLI call on the demo clinic, beside ``python -c pass``.

python -m benchmarks.startup [--repeat 5]

The measure is ``slotfinder.planning.startup_times`` (the latency grid reports it too).
"""

from __future__ import annotations

import argparse

from slotfinder.planning import startup_times

__all__ = ["main", "startup_times"]


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
