"""Bounds of the property tests, robust on a busy machine (issue 34).

Each Hypothesis run is bounded by its number of examples and by a deadline per example, both
scaled: the deadline by how busy the machine is when the session starts (its load per core, at
least 1), the examples by ``FUZZ_SCALE`` (a long run by hand). The pytest timeout of such a test
follows from the two (every example at its deadline, and a minute to set up), instead of one
fixed timeout over a whole run that a busy machine overran.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

SCALE = int(os.environ.get("FUZZ_SCALE", "1"))
# how many times slower than a quiet core an example may run now (2 cores, six engineers: 7)
LOAD = max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))


def budget(examples: int, seconds: float, **more: Any) -> settings:
    """At most ``examples`` examples (times FUZZ_SCALE), each within ``seconds`` on a quiet
    core (times :data:`LOAD`)."""
    return settings(
        max_examples=examples * SCALE,
        deadline=timedelta(seconds=seconds * LOAD),
        database=None,
        suppress_health_check=list(HealthCheck),
        **more,
    )


def timeout(examples: int, seconds: float) -> pytest.MarkDecorator:
    """The pytest timeout a :func:`budget` implies: every example at its deadline (twice over:
    shrinking replays a failure), and a minute for the set-up."""
    return pytest.mark.timeout(60 + 2 * examples * SCALE * seconds * LOAD)
