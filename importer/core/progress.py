"""The time left of a long step (check, import, undo), in one place for the web app and the CLI.

Pure functions and a small holder of their state:

- :func:`recent_rate`: items a second over the last ``WINDOW`` seconds of samples, not the
  average since the start (a first stretch of reads and look-ups says little about the rest;
  issue 31: "about 3 min" at 120 s of a 228 s import).
- :func:`smoothed`: the rate moved only part of the way towards the newest recent rate, so
  that the time left does not jump between wildly different values when one batch is slow;
  :func:`seconds_left` divides by it.
- :func:`left_words`: the estimate as people read it: "less than a minute left", "about 3
  minutes left", "about 1.5 hours left"; never "0 seconds" while work remains.

:class:`Pace` keeps the samples and the smoothed rate of one step.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .i18n import _, decimal, ngettext

WINDOW = 10.0  # seconds of samples the rate is taken from
TAU = 4.0  # seconds: how quickly the rate shown follows a changed one (about 2/3 in TAU)
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
    """The rate the time left is taken from: ``previous`` (taken ``since`` seconds ago) moved
    towards the recent ``raw`` rate by the share an exponential filter of time constant
    ``tau`` gives. Smoothing the rate, not the time: a slow start (8.8 rows a second, "about
    30 minutes") gives way within seconds when the rows go 80 times faster, where a smoothed
    time would still say "15 minutes" with 20 s left. No recent rate: none (not known)."""
    if raw is None or previous is None:
        return raw
    share = 1.0 - math.exp(-max(since, 0.0) / tau)
    return previous + share * (raw - previous)


def seconds_left(remaining: int, rate: float | None) -> float | None:
    """Seconds for ``remaining`` items at ``rate`` a second; None without a rate."""
    if remaining <= 0:
        return 0.0
    return remaining / rate if rate else None


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
    """The samples and the smoothed rate of one step (``clock``: for tests). The job's thread
    records while a page's request asks the rate: one lock keeps the samples whole."""

    clock: Callable[[], float] = time.monotonic
    samples: deque[Sample] = field(default_factory=lambda: deque(maxlen=256))
    smooth: float | None = None  # the smoothed rate
    smoothed_at: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def now(self) -> float:
        return self.clock()

    def record(self, done: int, total: int) -> None:
        """``done`` of ``total`` items now (called per item; a sample kept every quarter
        second, and the rate moved with it)."""
        now = self.now()
        with self.lock:
            if self.samples and done < self.samples[-1][1]:
                self._reset()  # a new stage counts from 0 again: its own rate
            if self.samples and now - self.samples[-1][0] < SAMPLE_EVERY and done < total:
                return
            self.samples.append((now, done))
            self._update(now)

    def update(self, now: float) -> float | None:
        with self.lock:
            return self._update(now)

    def _update(self, now: float) -> float | None:
        self.smooth = smoothed(recent_rate(self.samples, now), self.smooth, now - self.smoothed_at)
        self.smoothed_at = now
        return self.smooth

    def rate(self) -> float:
        """The smoothed rate (0 while not known), moved to now when a second old (a stall
        lowers it, and a whole window of one makes it unknown)."""
        now = self.now()
        with self.lock:
            if now - self.smoothed_at >= 1.0:
                self._update(now)
            return self.smooth or 0.0

    def left(self, remaining: int) -> float | None:
        return seconds_left(remaining, self.rate())

    def words(self, remaining: int) -> str:
        return left_words(self.left(remaining), remaining)

    def reset(self) -> None:
        with self.lock:
            self._reset()

    def _reset(self) -> None:
        self.samples.clear()
        self.smooth, self.smoothed_at = None, 0.0
