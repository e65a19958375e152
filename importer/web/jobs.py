"""Work that takes longer than a page: a check, an import, an undo, each in a thread of its own.

A page starts a job and polls its :meth:`Job.snapshot` (``/jobs/<id>``), so progress survives
a reload and a closed tab: the job belongs to the server, not to the page. :meth:`Job.cancel`
sets the stop event the library's run watches, which stops like Ctrl-C: no new requests, the
ones in flight are recorded.
"""

from __future__ import annotations

import contextvars
import logging
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import ImporterError
from ..core.i18n import _

log = logging.getLogger(__name__)
RECENT = 15.0  # seconds of progress the rate (and so the time left) is taken from


@dataclass
class Job:
    kind: str  # "check", "import", "undo"
    id: str = field(default_factory=lambda: secrets.token_urlsafe(8))
    stop: threading.Event = field(default_factory=threading.Event)
    done: int = 0
    total: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    result: Any = None
    error: str | None = None  # why it could not run (a one-line message, never a secret)
    thread: threading.Thread | None = None
    stage: str = ""  # what it does now, in the user's words ("reading the file")
    samples: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=64))
    results: Path | None = None  # the results workbook an undo works on (its page links it)

    @property
    def running(self) -> bool:
        return self.finished is None

    def progress(self, done: int, total: int, counts: Counter[str]) -> None:
        """The library's progress callback (called from its worker threads)."""
        self.done, self.total, self.counts = done, total, Counter(counts)
        self.stage = ""
        now = time.monotonic()
        if not self.samples or now - self.samples[-1][0] >= 0.25:
            self.samples.append((now, done))

    def at(self, stage: str) -> None:
        """The job now does ``stage`` (a text already in the user's language)."""
        self.stage = stage

    def rate(self) -> float:
        """Rows a second over the last RECENT seconds: the time left follows what the run
        does now (a first stretch of looks and reads says little about the rest)."""
        now = time.monotonic()
        recent = [(t, d) for t, d in self.samples if now - t <= RECENT]
        if len(recent) >= 2 and recent[-1][0] > recent[0][0]:
            (t0, d0), (t1, d1) = recent[0], recent[-1]
            return (d1 - d0) / (t1 - t0)
        elapsed = (self.finished or now) - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def cancel(self) -> None:
        self.stop.set()

    def snapshot(self) -> dict[str, Any]:
        """What the progress display needs, as JSON."""
        elapsed = (self.finished or time.monotonic()) - self.started
        rate = self.rate()
        left = (self.total - self.done) / rate if rate > 0 and self.total else None
        return {
            "id": self.id,
            "kind": self.kind,
            "running": self.running,
            "cancelled": self.stop.is_set(),
            "done": self.done,
            "total": self.total,
            "rate": round(rate, 1),
            "elapsed": round(elapsed, 1),
            "left": None if left is None else round(left),
            "counts": dict(self.counts),
            "error": self.error,
            "stage": self.stage,
        }

    def start(self, work: Callable[[Job], Any], say: Callable[[BaseException], str] = str) -> Job:
        """Run ``work(job)`` in a thread; ``say`` words an error for the page."""

        def body() -> None:
            try:
                self.result = work(self)
            except ImporterError as exc:
                self.error = say(exc)
            except Exception:  # a bug: said on the page, the traceback only in the server log
                log.exception("job %s (%s) failed", self.id, self.kind)
                self.error = _("an unexpected error stopped this step; see the server's output")
            finally:
                self.finished = time.monotonic()

        # in the starting request's context: the job speaks the language of its browser
        context = contextvars.copy_context()
        self.thread = threading.Thread(
            target=context.run, args=(body,), name=f"ui-{self.kind}", daemon=True
        )
        self.thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.running
