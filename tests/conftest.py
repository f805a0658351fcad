"""Shared test configuration: hypothesis profiles.

``ci`` (the default) is reproducible: a fixed number of examples drawn from a derandomized stream,
no deadline (CP-SAT's first import is slow), no example database. ``dev`` searches harder and
remembers failures. ``HYPOTHESIS_PROFILE=dev pytest`` picks the other one.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

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
    "dev",
    max_examples=500,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
