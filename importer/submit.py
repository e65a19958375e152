"""Create the valid rows one by one: journaled, retried safely, settled by read-back.

    report = importer.run_import("viewings.xlsx", "mappings/viewings.yaml", client=client)

Every row ends with one status: ``created``, ``already-created``, ``invalid``, ``failed``,
``unknown`` or ``not-sent``. Requests run in worker threads (``workers``, default 1); the caller's
thread only waits, so a Ctrl-C there stops new requests while in-flight ones finish.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from . import journal as jr
from .check import CheckReport, RowOutcome, check, prepare
from .client import OnOfficeClient
from .errors import (
    ActionRefused,
    ApiError,
    AuthenticationError,
    ClockError,
    ExitCode,
    NotDelivered,
)
from .journal import Journal
from .load import LoadOptions, Table
from .mapping import Mapping
from .settle import find_created

CREATED, ALREADY, INVALID, FAILED, UNKNOWN, NOT_SENT = (
    "created",
    "already-created",
    "invalid",
    "failed",
    "unknown",
    "not-sent",
)
MAX_WORKERS = 16
OUTCOME_COLUMNS = ("Status", "Appointment ID", "Error", "Source row")
Earlier = dict[int, tuple[str | None, int | None, int]]  # row -> (status, id, source row)


@dataclass(frozen=True)
class RunOptions:
    workers: int = 1
    only_failed: bool = False  # with a results workbook: skip rows it marks as created
    allow_duplicates: bool = False  # send rows identical to an earlier row of the file
    max_attempts: int = 5  # per row, for requests that surely never reached the server
    backoff_base: float = 0.5  # seconds; doubled per attempt, with jitter
    backoff_cap: float = 30.0
    settle_delay: float | None = None  # wait before reading back; default: the read timeout
    settle_rounds: int = 3
    unreachable_limit: int = 5  # consecutive rows without an answer stop the run
    strict: bool = False  # double bookings are errors: those rows are not sent


@dataclass
class RowResult:
    row: int
    status: str
    appointment_id: int | None = None
    error: str | None = None


@dataclass
class RunReport:
    check: CheckReport
    results: dict[int, RowResult]
    api_url: str
    started: datetime
    finished: datetime | None = None
    stopped: str | None = None  # why the run stopped early
    stop_code: ExitCode | None = None
    interrupted: bool = False
    results_path: Path | None = None
    journal_path: Path | None = None
    earlier: Earlier = field(default_factory=dict)  # when the input is a results workbook

    def counts(self) -> Counter[str]:
        return Counter(r.status for r in self.results.values())

    @property
    def exit_code(self) -> ExitCode:
        counts = self.counts()
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if self.stop_code is not None:
            return self.stop_code
        if counts[UNKNOWN]:
            return ExitCode.UNKNOWN_OUTCOME
        if counts[INVALID] or counts[FAILED] or counts[NOT_SENT]:
            return ExitCode.ROWS_FAILED
        return ExitCode.OK


Progress = Callable[[int, int, Counter[str]], None]


class _Stop(Exception):
    """Raised inside a worker when the run must stop (systemic failure)."""


class _Runner:
    def __init__(
        self,
        client: OnOfficeClient,
        journal: Journal,
        options: RunOptions,
        stop: threading.Event,
        report: RunReport,
    ) -> None:
        self.client, self.journal, self.options = client, journal, options
        self.stop, self.report = stop, report
        self.lock = threading.Lock()
        self.unreachable_streak = 0
        self.pending: dict[int, tuple[str, dict[str, Any], float]] = {}  # row -> settle later
        self.rng = random.Random()

    # --- systemic failures ----------------------------------------------------------------------
    def halt(self, reason: str, code: ExitCode) -> None:
        with self.lock:
            if self.report.stopped is None:
                self.report.stopped, self.report.stop_code = reason, code
        self.stop.set()

    def _answered(self) -> None:
        with self.lock:
            self.unreachable_streak = 0

    def _unanswered(self, why: str) -> None:
        with self.lock:
            self.unreachable_streak += 1
            streak = self.unreachable_streak
        if streak >= self.options.unreachable_limit:
            self.halt(f"the API did not answer {streak} rows in a row ({why})", ExitCode.STOPPED)

    # --- one row --------------------------------------------------------------------------------
    def send(self, row: int, fingerprint: str, params: dict[str, Any]) -> RowResult:
        attempt = 0
        while True:
            if self.stop.is_set() and attempt == 0:
                return RowResult(row, NOT_SENT, error=self.report.stopped or "the run stopped")
            attempt += 1
            self.journal.intent(fingerprint, row, params)
            try:
                new_id = self.client.create_appointment(params, identifier=f"row-{row}")
            except NotDelivered as exc:
                if attempt >= self.options.max_attempts or self.stop.is_set():
                    self.journal.failed(fingerprint, str(exc))
                    self._unanswered(str(exc))
                    return RowResult(row, FAILED, error=f"not delivered: {exc}")
                delay = min(self.options.backoff_cap, self.options.backoff_base * 2**attempt)
                self.stop.wait(delay * (0.5 + self.rng.random()))  # jitter; a stop cuts it short
                continue
            except ActionRefused as exc:
                self._answered()
                self.journal.failed(fingerprint, str(exc))
                return RowResult(row, FAILED, error=exc.server_message or str(exc))
            except (AuthenticationError, ClockError) as exc:
                self.journal.failed(fingerprint, str(exc))  # refused before any work: resend later
                self.halt(str(exc), ExitCode.CONFIGURATION)
                return RowResult(row, FAILED, error=str(exc))
            except ApiError as exc:  # OutcomeUnknown, MalformedResponse: it may exist now
                self.journal.unknown(fingerprint, str(exc))
                self._unanswered(str(exc))
                with self.lock:
                    self.pending[row] = (fingerprint, params, time.monotonic())
                return RowResult(row, UNKNOWN, error=f"outcome unknown: {exc}")
            self._answered()
            self.journal.created(fingerprint, new_id)
            return RowResult(row, CREATED, appointment_id=new_id)

    def settle(
        self, row: int, fingerprint: str, params: dict[str, Any], intent_at: str | None
    ) -> RowResult:
        """Read back; adopt the appointment if it exists, re-send only if proven absent."""
        try:
            found = find_created(self.client, params, intent_at, self.journal.claimed_ids())
        except (AuthenticationError, ClockError) as exc:
            self.halt(str(exc), ExitCode.CONFIGURATION)
            return RowResult(row, UNKNOWN, error=f"outcome unknown, read-back refused: {exc}")
        except ApiError as exc:
            return RowResult(row, UNKNOWN, error=f"outcome unknown, read-back failed: {exc}")
        if found.appointment_id is not None:
            self.journal.created(fingerprint, found.appointment_id)
            return RowResult(row, CREATED, appointment_id=found.appointment_id)
        if found.candidates:
            return RowResult(
                row,
                UNKNOWN,
                error="outcome unknown: onOffice holds a look-alike that differs from the row "
                f"(appointment {', '.join(found.candidates)}); check it, it is not sent again",
            )
        if not found.absent:
            return RowResult(
                row, UNKNOWN, error="outcome unknown: too many appointments that day to be sure"
            )
        if self.stop.is_set():
            return RowResult(
                row, UNKNOWN, error="outcome unknown: the run stopped before it could be settled"
            )
        return self.send(row, fingerprint, params)


def split_outcomes(table: Table) -> Earlier:
    """Set aside the outcome columns of an earlier results workbook given as input."""
    frame = table.frame
    if not set(OUTCOME_COLUMNS) <= set(frame.columns):
        return {}
    earlier: Earlier = {}
    for row, status, appointment, source_row in zip(
        frame.index, frame["Status"], frame["Appointment ID"], frame["Source row"], strict=True
    ):
        appointment_id = int(appointment) if isinstance(appointment, int | float) else None
        original = int(source_row) if isinstance(source_row, int | float) else int(row)
        earlier[int(row)] = (str(status) if status else None, appointment_id, original)
    table.frame = frame.drop(
        columns=[c for c in (*OUTCOME_COLUMNS, "Warnings") if c in frame.columns]
    )
    return earlier


def _row_keys(outcomes: list[RowOutcome], allow_duplicates: bool) -> dict[int, str | None]:
    """Journal key per valid row; repeated payloads get an occurrence suffix only if allowed."""
    seen: Counter[str] = Counter()
    keys: dict[int, str | None] = {}
    for o in outcomes:
        if not o.valid or o.fingerprint is None:
            keys[o.row] = None
            continue
        seen[o.fingerprint] += 1
        n = seen[o.fingerprint]
        keys[o.row] = (
            o.fingerprint if n == 1 else (f"{o.fingerprint}#{n}" if allow_duplicates else None)
        )
    return keys


def run_import(
    source: str | Path,
    mapping: str | Path | Mapping,
    *,
    client: OnOfficeClient,
    journal_path: str | Path,
    options: RunOptions | None = None,
    load_options: LoadOptions | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    now: datetime | None = None,
) -> RunReport:
    """Import ``source`` (a spreadsheet, or a results workbook of an earlier run).

    Raises :class:`~importer.errors.ImporterError` before anything is sent (unusable input,
    credentials, clock); afterwards every outcome is in the report, also when stopped early.
    """
    options = options or RunOptions()
    workers = max(1, min(options.workers, MAX_WORKERS))
    stop = stop or threading.Event()
    started = now or datetime.now()
    prepared = prepare(source, mapping, load_options)  # a refused file costs no API call
    refused = _preflight_failure(client)
    with Journal(journal_path) as journal:
        entries = journal.entries()
        created = frozenset(k for k, e in entries.items() if e.state == jr.CREATED)
        # onOffice is asked about double bookings only for rows not created yet: the others
        # would conflict with themselves.
        try:
            checked = check(
                source,
                mapping,
                api=None if refused else client,
                report=False,
                now=started,
                prepared=prepared,
                strict=options.strict,
                skip_conflicts_for=created,
            )
        except ApiError as exc:  # the look-ups failed: still nothing sent, still results
            refused = f"look-ups failed: {exc}", exc.exit_code
            checked = check(
                source, mapping, report=False, now=started, prepared=prepared, strict=options.strict
            )
        earlier = split_outcomes(checked.table)
        report = RunReport(
            checked, {}, client.url, started, journal_path=Path(journal_path), earlier=earlier
        )
        if refused:  # nothing is sent; every row still gets an outcome in the results
            report.stopped, report.stop_code = refused
            for o in checked.outcomes:
                status, error = (
                    (NOT_SENT, refused[0])
                    if o.valid
                    else (INVALID, "; ".join(p.message for p in o.errors))
                )
                report.results[o.row] = RowResult(o.row, status, error=error)
            report.finished = datetime.now()
            return report
        keys = _row_keys(checked.outcomes, options.allow_duplicates)
        journal.set_meta("last_input", str(Path(source).resolve()))
        journal.set_meta("last_input_sha256", checked.source_sha256)
        runner = _Runner(client, journal, options, stop, report)
        to_send: list[tuple[int, str, dict[str, Any]]] = []
        to_settle: list[tuple[int, str, dict[str, Any], str | None]] = []
        for outcome in checked.outcomes:
            row, key = outcome.row, keys[outcome.row]
            before = earlier.get(row, (None, None, row))
            if not outcome.valid:
                report.results[row] = RowResult(
                    row, INVALID, error="; ".join(p.message for p in outcome.errors)
                )
            elif key is None:
                report.results[row] = RowResult(
                    row,
                    NOT_SENT,
                    error=next(p.message for p in outcome.warnings if p.code == "duplicate-row")
                    + " (use --allow-duplicates to send it)",
                )
            elif key in entries and entries[key].state == jr.CREATED:
                report.results[row] = RowResult(row, ALREADY, entries[key].appointment_id)
            elif options.only_failed and before[0] in (CREATED, ALREADY):
                report.results[row] = RowResult(row, ALREADY, before[1])
            elif key in entries and entries[key].state in (jr.SENDING, jr.UNKNOWN):
                assert outcome.parameters is not None
                to_settle.append((row, key, outcome.parameters, entries[key].intent_at))
            else:
                assert outcome.parameters is not None
                to_send.append((row, key, outcome.parameters))
        total = len(to_send) + len(to_settle)
        done = 0

        def tick(result: RowResult) -> None:
            nonlocal done
            report.results[result.row] = result
            done += 1
            if progress:
                progress(done, total, report.counts())

        try:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="import") as pool:
                # Rows an earlier run left unsettled come first: the server has long finished.
                _drain(pool, workers, stop, tick, [(runner.settle, args) for args in to_settle])
                _drain(pool, workers, stop, tick, [(runner.send, args) for args in to_send])
                _settle_pending(runner, pool, workers, client, report, options)
        except KeyboardInterrupt:
            report.interrupted = True
            stop.set()
        for row, *_ in to_settle:
            report.results.setdefault(
                row, RowResult(row, UNKNOWN, error="not settled: the run stopped first")
            )
        for row, *_ in to_send:
            report.results.setdefault(
                row, RowResult(row, NOT_SENT, error=report.stopped or "interrupted")
            )
    report.finished = datetime.now()
    return report


def _drain(
    pool: ThreadPoolExecutor,
    workers: int,
    stop: threading.Event,
    tick: Callable[[RowResult], None],
    tasks: list[tuple[Any, tuple[Any, ...]]],
) -> None:
    """Run tasks with at most ``workers`` in flight; stop submitting once ``stop`` is set."""
    queue = list(reversed(tasks))
    running: set[Future[RowResult]] = set()
    try:
        while queue or running:
            while queue and len(running) < workers and not stop.is_set():
                fn, args = queue.pop()
                running.add(pool.submit(fn, *args))
            if not running:
                break
            finished, running = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in finished:
                tick(future.result())
    except KeyboardInterrupt:
        stop.set()  # no new requests; the in-flight ones finish and are recorded
        for future in running:
            tick(future.result())
        raise


def _settle_pending(
    runner: _Runner,
    pool: ThreadPoolExecutor,
    workers: int,
    client: OnOfficeClient,
    report: RunReport,
    options: RunOptions,
) -> None:
    """Rows of this run whose outcome was unknown: wait, read back, adopt or re-send.

    Runs also after a systemic stop (then only adopting: `settle` re-sends nothing once the run
    is stopping); a Ctrl-C ends it at once.
    """
    delay = options.settle_delay if options.settle_delay is not None else client.timeouts.read
    for _ in range(options.settle_rounds):
        with runner.lock:
            pending, runner.pending = dict(runner.pending), {}
        if not pending:
            return
        latest = max(at for _, _, at in pending.values())
        time.sleep(max(0.0, latest + delay - time.monotonic()))  # the server may still be busy
        tasks = []
        for row, (key, params, _) in sorted(pending.items()):
            entry = runner.journal.entry(key)
            tasks.append((runner.settle, (row, key, params, entry.intent_at if entry else None)))

        def record(result: RowResult) -> None:
            report.results[result.row] = result

        _drain(pool, workers, threading.Event(), record, tasks)


def _preflight_failure(client: OnOfficeClient) -> tuple[str, ExitCode] | None:
    try:
        preflight(client)
    except (AuthenticationError, ClockError) as exc:
        return f"preflight: {exc}", ExitCode.CONFIGURATION
    except ApiError as exc:
        return f"preflight: the API cannot be reached ({exc})", ExitCode.STOPPED
    return None


def preflight(client: OnOfficeClient) -> None:
    """A read-only call that proves the credentials and the clock before anything is created."""
    client.get_users()
    skew = client.last_clock_skew
    if skew is not None and abs(skew) > 60:
        raise ClockError(
            f"this computer's clock is {abs(skew):.0f} s "
            f"{'ahead of' if skew > 0 else 'behind'} the API server's"
        )
