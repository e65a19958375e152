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
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..core.contract import local_now
from ..core.errors import ImporterError
from ..core.i18n import _
from ..core.progress import Pace

log = logging.getLogger(__name__)


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
    error_kind: str = ""  # the error's class, for support ("JournalError")
    stopped_at: datetime | None = None  # the office's clock (Berlin), for support
    thread: threading.Thread | None = None
    stage: str = ""  # what it does now, in the user's words ("reading the file")
    pace: Pace = field(default_factory=Pace)  # the rate and time left (core.progress)
    counting: bool = False  # the stage has a count of its own (shown with it) ...
    part: tuple[int, int] = (0, 0)  # ... done of total (``done``/``total`` stay the rows')
    results: Path | None = None  # the results workbook an undo works on (its page links it)

    @property
    def running(self) -> bool:
        return self.finished is None

    def progress(self, done: int, total: int, counts: Counter[str]) -> None:
        """The library's progress callback (called from its worker threads)."""
        self.done, self.total, self.counts = done, total, Counter(counts)
        self.stage = ""
        self.pace.record(done, total)

    def counted(self, stage: str, done: int, total: int) -> None:
        """A stage with a count of its own (the check's rows, its report's rows, an import's
        last look in onOffice); a stage of the library's calls it from its threads."""
        if stage != self.stage or not self.counting:
            self.pace.reset()
        self.stage, self.part, self.counting = stage, (done, total), True
        self.pace.record(done, total)

    def at(self, stage: str) -> None:
        """The job now does ``stage`` (a text already in the user's language), uncounted."""
        self.stage, self.counting = stage, False
        self.pace.reset()

    def cancel(self) -> None:
        self.stop.set()

    def snapshot(self) -> dict[str, Any]:
        """What the progress display needs, as JSON."""
        elapsed = (self.finished or time.monotonic()) - self.started
        rate = self.pace.rate()
        done, total = self.part if self.stage and self.counting else (self.done, self.total)
        remaining = total - done
        left = self.pace.left(remaining) if total else None
        return {
            "id": self.id,
            "kind": self.kind,
            "running": self.running,
            "cancelled": self.stop.is_set(),
            "done": done,
            "total": total,
            "rate": round(rate, 1),
            "elapsed": round(elapsed, 1),
            "left": None if left is None else round(left),
            # in the polling browser's language (this runs in its request)
            "left_words": self.pace.words(remaining) if total else "",
            "counts": dict(self.counts),
            "error": self.error,
            "stage": self.stage,
            "counting": self.counting or not self.stage,
        }

    def start(self, work: Callable[[Job], Any], say: Callable[[BaseException], str] = str) -> Job:
        """Run ``work(job)`` in a thread; ``say`` words an error for the page."""

        def body() -> None:
            try:
                self.result = work(self)
            except ImporterError as exc:
                self.error, self.error_kind = say(exc), type(exc).__name__
            except Exception:  # a bug: said on the page, the traceback only in the server log
                log.exception("job %s (%s) failed", self.id, self.kind)
                self.error = _("an unexpected error stopped this step; see the server's output")
                self.error_kind = "bug"
            finally:
                self.stopped_at = local_now()
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
