"""The time left of a long step (check, import, undo), in one place for the web app and the CLI.

Three pure functions and a small holder of their state:

- :func:`recent_rate`: items a second over the last ``WINDOW`` seconds of samples, not the
  average since the start (a first stretch of reads and look-ups says little about the rest;
  issue 31: "about 3 min" at 120 s of a 228 s import).
- :func:`smoothed`: the estimate carried forward (counted down by the time passed) and moved
  only part of the way towards the newest raw estimate, so that it does not jump between
  wildly different values when one batch is slow.
- :func:`left_words`: the estimate as people read it: "less than a minute left", "about 3
  minutes left", "about 1.5 hours left"; never "0 seconds" while work remains.

:class:`Pace` keeps the samples and the last estimate of one step.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .i18n import _, decimal, ngettext

WINDOW = 15.0  # seconds of samples the rate is taken from
TAU = 6.0  # seconds: how quickly the estimate follows a changed rate (about 2/3 in TAU)
MIN_SPAN = 1.0  # seconds of samples before any rate is trusted (one batch is no rate)
SAMPLE_EVERY = 0.25  # seconds between samples kept (callbacks come per row)

Sample = tuple[float, int]  # (monotonic seconds, items done)


def recent_rate(samples: Sequence[Sample], now: float, window: float = WINDOW) -> float | None:
    """Items a second over the samples of the last ``window`` seconds (with the last sample
    before them as the start, so that a stall inside the window counts); None while they
    span less than MIN_SPAN or show no item done (no data yet, or a stall: no estimate)."""
    if not samples:
        return None
    start = 0
    for i, (at, _done) in enumerate(samples):
        if now - at <= window:
            start = max(i - 1, 0)
            break
    else:
        return None  # nothing happened for a whole window: a stall
    (t0, d0), (t1, d1) = samples[start], samples[-1]
    span = max(now, t1) - t0  # up to now: a step that stopped moving slows down the rate
    if span < MIN_SPAN or d1 <= d0:
        return None
    return (d1 - d0) / span


def smoothed(
    raw: float | None, previous: float | None, since: float, tau: float = TAU
) -> float | None:
    """The estimate shown: ``previous`` (shown ``since`` seconds ago) counted down, moved
    towards ``raw`` by the share an exponential filter of time constant ``tau`` gives.
    No raw estimate: the previous one counted down, while it lasts (then None: not known)."""
    if previous is None:
        return raw
    carried = max(previous - max(since, 0.0), 0.0)
    if raw is None:
        return carried if carried > 0 else None
    share = 1.0 - math.exp(-max(since, 0.0) / tau)
    return carried + share * (raw - carried)


def left_words(seconds: float | None, remaining: int) -> str:
    """``seconds`` left of a step with ``remaining`` items as a person says it. Below a minute
    "less than a minute" (never "0 seconds" while work remains); minutes to the minute up to
    ten, then to five; from 55 minutes on hours to the half hour."""
    if remaining <= 0:
        return _("finishing …")
    if seconds is None:
        return _("working out the time left …")
    if seconds < 60:
        return _("less than a minute left")
    minutes = seconds / 60
    if minutes < 10.5:
        n = max(round(minutes), 1)
        return ngettext("about {n} minute left", "about {n} minutes left", n).format(n=n)
    if minutes < 55:
        n = 5 * round(minutes / 5)
        return ngettext("about {n} minute left", "about {n} minutes left", n).format(n=n)
    halves = max(round(minutes / 30), 2)  # whole hours shown without ",0"
    hours = decimal(halves / 2) if halves % 2 else str(halves // 2)
    return ngettext("about {n} hour left", "about {n} hours left", 1 if halves == 2 else 2).format(
        n=hours
    )


@dataclass
class Pace:
    """The samples and the shown estimate of one step (``clock``: for tests)."""

    clock: Callable[[], float] = time.monotonic
    samples: deque[Sample] = field(default_factory=lambda: deque(maxlen=256))
    estimate: float | None = None
    estimated_at: float = 0.0

    def now(self) -> float:
        return self.clock()

    def record(self, done: int, total: int) -> None:
        """``done`` of ``total`` items now (called per item; a sample kept every quarter
        second, and the estimate moved with it)."""
        now = self.now()
        if self.samples and done < self.samples[-1][1]:
            self.reset()  # a new stage counts from 0 again: its own rate
        if self.samples and now - self.samples[-1][0] < SAMPLE_EVERY and done < total:
            return
        self.samples.append((now, done))
        self.update(total - done, now)

    def update(self, remaining: int, now: float) -> float | None:
        rate = recent_rate(self.samples, now)
        raw = remaining / rate if rate else None
        since = now - self.estimated_at
        self.estimate = smoothed(raw, self.estimate, since) if remaining > 0 else 0.0
        self.estimated_at = now
        return self.estimate

    def rate(self) -> float:
        return recent_rate(self.samples, self.now()) or 0.0

    def left(self, remaining: int) -> float | None:
        """The shown estimate at a poll: counted down to now, or, when no item came for a
        second, estimated again (a stall lowers the rate, and then says it does not know)."""
        now = self.now()
        if now - self.estimated_at >= 1.0:
            return self.update(remaining, now)
        return None if self.estimate is None else max(self.estimate - (now - self.estimated_at), 0)

    def words(self, remaining: int) -> str:
        return left_words(self.left(remaining), remaining)

    def reset(self) -> None:
        self.samples.clear()
        self.estimate, self.estimated_at = None, 0.0
