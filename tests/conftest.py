"""Shared test configuration: hypothesis profiles, chosen with ``HYPOTHESIS_PROFILE``.

``ci`` (the default, what every push runs) is reproducible: 60 examples per property drawn from a
derandomized stream, no deadline (CP-SAT's first import is slow), no example database. It checks
the same examples every run, so by itself it never explores new ones.

``long`` is the scheduled exploration: randomized, 2,000 examples per property, no deadline, the
example database on (``.hypothesis/examples`` at the repository root, git-ignored: a failure found
once is replayed first next time) and every failure printed with its ``@reproduce_failure`` blob.
Run it on a schedule (nightly) or by hand::

    HYPOTHESIS_PROFILE=long .venv/bin/pytest

It changes only the property tests (``@given``); a path or ``-k`` narrows the run. A failure it finds
is replayed first on the next run from the database, or anywhere from the printed blob. Tests that
set their own ``max_examples`` keep it under both profiles.
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "long",
    max_examples=2000,
    deadline=None,
    derandomize=False,
    database=DirectoryBasedExampleDatabase(Path(__file__).resolve().parents[1] / ".hypothesis" / "examples"),
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
