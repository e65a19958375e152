"""A stop (Ctrl-C, SIGTERM, Ctrl-Break) held off while something must not be cut in two.

``held()`` is for the few steps a stop must let finish: the results workbook being written
(else a stop while it is written leaves no results of what was sent) and an undo's delete in
flight (else its outcome is unknown). Within it a stop is noted, not raised; the caller
looks at the event afterwards and stops there. Outside the main thread (the web app's jobs)
signals are not this process's to take: it changes nothing.

``phase()`` marks the points of a run and an undo where the tests stop a real process
(``ONOFFICE_IMPORT_TEST_PAUSE=PHASE:FILE``, set by tests only): there the process writes FILE
and waits until a stop arrives (at most a minute), so that a test's signal comes exactly in
that phase, without guessing a time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

PAUSE_VARIABLE: Final = "ONOFFICE_IMPORT_TEST_PAUSE"
_PAUSE_LIMIT: Final = 60.0  # seconds: a test that sends nothing does not hang the process
STOP_SIGNALS: Final = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGBREAK") if hasattr(signal, name)
)

_arrived = threading.Event()  # a stop arrived (held or not): what phase() waits for
_paused: set[str] = set()


def noted() -> None:
    """A stop arrived (called by the process's handlers before they act on it)."""
    _arrived.set()


@contextlib.contextmanager
def held(stop: threading.Event | None = None) -> Iterator[threading.Event]:
    """Within: a stop sets the event (``stop``, or a new one) instead of interrupting; on
    leaving, the handlers before it are back."""
    event = stop if stop is not None else threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield event
        return

    def hold(signum: int, frame: Any) -> None:
        noted()
        event.set()

    before = {number: signal.signal(number, hold) for number in STOP_SIGNALS}
    try:
        yield event
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)


def phase(name: str) -> None:
    """Tests only: with ``ONOFFICE_IMPORT_TEST_PAUSE=NAME:FILE``, write FILE the first time
    phase ``name`` is reached, then wait for a stop (raised here unless held)."""
    wanted = os.environ.get(PAUSE_VARIABLE)
    if not wanted:
        return
    at, _, flag = wanted.partition(":")
    if at != name or name in _paused:
        return
    _paused.add(name)
    Path(flag).write_text(str(os.getpid()), encoding="ascii")
    deadline = time.monotonic() + _PAUSE_LIMIT
    while not _arrived.is_set() and time.monotonic() < deadline:
        time.sleep(0.005)
