"""Create the valid rows one by one: journaled, retried safely, settled by read-back.

    report = importer.run_import("viewings.xlsx", "mappings/viewings.yaml", client=client)

Every row ends with one status: ``created``; ``updated`` (the row changed since its import: its
appointment was modified); ``unchanged`` (it changed, but onOffice already holds it so);
``already-created`` (this account's journal imported it as it is); ``exists`` (found in onOffice
by its import reference: created by an earlier import, on any computer); ``conflict`` (its
appointment was changed in onOffice since the import: not overwritten without ``force``);
``invalid``, ``failed``, ``unknown`` or ``not-sent``. Which rows are created, updated or left
alone is planned first (:mod:`importer.identity`); appointments of rows that left the file are
listed, and cancelled with ``cancel_removed``. Requests run in worker threads
(``workers``, default 1); the caller's thread only waits, so a Ctrl-C there stops new requests
while in-flight ones finish.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import contract, identity
from . import journal as jr
from .check import CheckReport, RowOutcome, check, prepare
from .client import OnOfficeClient
from .errors import (
    ActionRefused,
    ApiError,
    AuthenticationError,
    ClockError,
    ExitCode,
    JournalError,
    NotDelivered,
    OutcomeUnknown,
)
from .identity import Candidate
from .journal import CANCELED_REMOVED, Entry, Journal, ledger_path
from .load import LoadOptions, Table
from .mapping import Mapping
from .payload import fingerprint as fingerprint_of
from .payload import modify_parameters
from .readback import (
    Appointment,
    differences,
    find_appointment,
    holds,
    same_content,
)
from .reference import (
    found_in,
    note_without_reference,
    reference,
    with_reference,
    without_reference,
)
from .settle import find_created, find_existing, find_references

# Every status a row can end with, in the order reports list them.
STATUSES = (
    "created",
    "updated",
    "unchanged",
    "already-created",
    "exists",
    "conflict",
    "invalid",
    "failed",
    "unknown",
    "not-sent",
)
CREATED, UPDATED, UNCHANGED, ALREADY, EXISTS, CONFLICT, INVALID, FAILED, UNKNOWN, NOT_SENT = (
    STATUSES
)
# Statuses of rows whose appointment is in onOffice and this import's (undo removes them).
IMPORTED = (CREATED, UPDATED, UNCHANGED, ALREADY, EXISTS)
# What became of the appointment of a row that is no longer in the file.
KEPT, CANCELED, REMOVED_GONE = "kept", "canceled", "already-gone"
MAX_WORKERS = 16
# Rows sent between two existence checks (each check is one read of those rows' days): the
# window in which two runs that overlap in time can both create a row.
EXISTENCE_BATCH_PER_WORKER = 4
EXISTENCE_BATCH_MIN = 4
OUTCOME_COLUMNS = ("Status", "Appointment ID", "Error", "Source row")
Earlier = dict[int, tuple[str | None, int | None, int]]  # row -> (status, id, source row)
ToSend = list[tuple[int, str, dict[str, Any]]]  # row, journal key, payload
ToSettle = list[tuple[int, str, dict[str, Any], str | None]]  # ... and when it was last sent
# row, journal key, payload, its entry, the key it moves to
ToUpdate = list[tuple[int, str, dict[str, Any], Entry, str | None]]


@dataclass(frozen=True)
class RunOptions:
    workers: int = 1
    only_failed: bool = False  # with a results workbook: skip rows it marks as created
    allow_duplicates: bool = False  # send rows identical to an earlier row of the file
    max_attempts: int = 5  # per row, for requests that surely never reached the server
    backoff_base: float = 0.05  # seconds; doubled per attempt, with jitter
    backoff_cap: float = 30.0
    # Wait before reading back. Default: the read timeout after a timeout (the server may still
    # be working), one second after an answer that was lost or broken (it has finished).
    settle_delay: float | None = None
    settle_rounds: int = 3
    # A create whose outcome is unknown is sent again only when a read-back finds it absent
    # this long after the attempt: a slow server may still be creating it before that.
    resend_after: float = 120.0
    unreachable_limit: int = 5  # consecutive rows without an answer stop the run
    strict: bool = False  # double bookings are errors: those rows are not sent
    force: bool = False  # update appointments even where they were changed in onOffice
    cancel_removed: bool = False  # cancel the appointments of rows no longer in the file


@dataclass
class RowResult:
    row: int
    status: str
    appointment_id: int | None = None
    error: str | None = None


@dataclass
class RemovedRow:
    """An appointment an earlier run imported from this file, for a row no longer in it."""

    appointment_id: int
    source_row: int | None
    subject: str
    start: str
    status: str  # KEPT, CANCELED, REMOVED_GONE, CONFLICT or FAILED
    message: str = ""


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
    account: str | None = None  # whose calendar (URL and API user; never a secret)
    existence_reads: int = 0  # reads the check for rows already in onOffice cost
    removed: list[RemovedRow] = field(default_factory=list)

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
        if counts[INVALID] or counts[FAILED] or counts[NOT_SENT] or counts[CONFLICT]:
            return ExitCode.ROWS_FAILED
        if any(r.status in (CONFLICT, FAILED) for r in self.removed):
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
        use_reference: bool = True,
    ) -> None:
        self.client, self.journal, self.options = client, journal, options
        self.stop, self.report = stop, report
        self.lock = threading.Lock()
        self.unreachable_streak = 0
        # row -> (key, payload, when to read it back: time.monotonic())
        self.pending: dict[int, tuple[str, dict[str, Any], float]] = {}
        self.rng = random.Random()
        self.use_reference = use_reference
        # Why appointments of rows that left the file are kept even with cancel_removed.
        self.hold_removed = ""

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
    def reference(self, key: str) -> str | None:
        return reference(key) if self.use_reference else None

    def payload(self, key: str, params: dict[str, Any]) -> dict[str, Any]:
        return sent_payload(key, params, self.use_reference)

    def send(
        self, row: int, fingerprint: str, params: dict[str, Any], attempts: int = 0
    ) -> RowResult:
        attempt = attempts
        sent = self.payload(fingerprint, params)
        while True:
            if self.stop.is_set() and attempt == 0:
                return RowResult(row, NOT_SENT, error=self.report.stopped or "the run stopped")
            attempt += 1
            try:
                self.journal.intent(fingerprint, row, sent, fingerprint_of(params))
            except JournalError as exc:  # nothing is sent that is not journaled
                self.halt(str(exc), ExitCode.STOPPED)
                return RowResult(row, NOT_SENT, error=str(exc))
            try:
                new_id = self.client.create_appointment(sent, identifier=f"row-{row}")
            except NotDelivered as exc:
                if attempt >= self.options.max_attempts or self.stop.is_set():
                    self._journal(self.journal.failed, fingerprint, str(exc))
                    self._unanswered(str(exc))
                    return RowResult(row, FAILED, error=f"not delivered: {exc}")
                self.stop.wait(self._backoff(attempt))  # a stop cuts it short
                continue
            except ActionRefused as exc:
                self._answered()
                self._journal(self.journal.failed, fingerprint, str(exc))
                return RowResult(row, FAILED, error=exc.server_message or str(exc))
            except (AuthenticationError, ClockError) as exc:
                # refused before any work: sent again by a later run
                self._journal(self.journal.failed, fingerprint, str(exc))
                self.halt(str(exc), ExitCode.CONFIGURATION)
                return RowResult(row, FAILED, error=str(exc))
            except OutcomeUnknown as exc:
                self._journal(self.journal.unknown, fingerprint, str(exc))
                self._unanswered(str(exc))
                if exc.status == 503:
                    # "Service unavailable": the server declined it. A read-back confirms that
                    # nothing was created before it is sent again (never on a guess).
                    # The read-back is the first pause; later ones back off exponentially.
                    if attempt > 1:
                        self.stop.wait(self._backoff(attempt))
                    entry = self.journal.entry(fingerprint)
                    sent_at = entry.intent_at if entry else None
                    return self.settle(row, fingerprint, params, sent_at, resend=attempt)
                with self.lock:
                    self.pending[row] = (fingerprint, params, self._ready_at(exc.timed_out))
                return RowResult(row, UNKNOWN, error=f"outcome unknown: {exc}")
            except ApiError as exc:  # MalformedResponse: it may exist now
                self._journal(self.journal.unknown, fingerprint, str(exc))
                self._unanswered(str(exc))
                with self.lock:
                    self.pending[row] = (fingerprint, params, self._ready_at(False))
                return RowResult(row, UNKNOWN, error=f"outcome unknown: {exc}")
            self._answered()
            self._journal(self.journal.created, fingerprint, new_id)
            return RowResult(row, CREATED, appointment_id=new_id)

    def update(
        self,
        row: int,
        key: str,
        params: dict[str, Any],
        entry: Entry,
        rekey: str | None = None,
    ) -> RowResult:
        """A row that changed since its import: its appointment is modified to the row's full
        new content, unless someone changed the appointment in onOffice meanwhile. ``rekey``:
        the row's identity now (its mapping gained a key); the note's reference follows it."""
        appointment = entry.appointment_id
        assert appointment is not None
        if self.stop.is_set():
            return RowResult(row, NOT_SENT, appointment, self.report.stopped or "the run stopped")
        new = self.payload(rekey or key, params)
        written = [p for p in (entry.payload, entry.pending) if p]  # what we may have left
        try:
            current = find_appointment(self.client, appointment, [*written, new])
        except (AuthenticationError, ClockError) as exc:
            self.halt(str(exc), ExitCode.CONFIGURATION)
            return RowResult(row, NOT_SENT, appointment, f"not updated: {exc}")
        except ApiError as exc:  # OutcomeUnknown too: gone or not, it cannot be told
            return RowResult(
                row,
                NOT_SENT,
                appointment,
                f"not updated: appointment {appointment} could not be read ({exc}); run again",
            )
        if current is None:
            if self.options.force:  # --force: the row gets an appointment again
                return self.send(row, rekey or key, params)
            return RowResult(
                row,
                CONFLICT,
                appointment,
                f"appointment {appointment} was deleted in onOffice; not created again "
                "(use --force to create it again)",
            )
        if entry.pending == new and holds(current, new):  # our modify made it; answer lost
            self._journal_updated(rekey or key, row, new, params, rekey and key)
            return RowResult(row, UNCHANGED, appointment)
        if entry.pending and holds(current, entry.pending):  # an earlier lost modify was made
            self._journal_updated(key, row, entry.pending, without_reference(entry.pending))
            written = [entry.pending]
        if not self.options.force and not any(holds(current, p) for p in written):
            # what we wrote last (nothing known: an import found elsewhere) against what it holds
            changed = ", ".join(differences(current, written[0] if written else new, note=True))
            return RowResult(
                row,
                CONFLICT,
                appointment,
                f"appointment {appointment} was changed in onOffice since the import "
                f"({changed}); not overwritten (use --force to write the row over it)",
            )
        try:
            self.journal.pending(key, new)
        except JournalError as exc:
            self.halt(str(exc), ExitCode.STOPPED)
            return RowResult(row, NOT_SENT, appointment, str(exc))
        modify = modify_parameters(new, *written)
        attempt = 0
        while True:
            attempt += 1
            try:
                self.client.modify_appointment(appointment, modify)
            except NotDelivered as exc:
                if attempt < self.options.max_attempts and not self.stop.is_set():
                    self.stop.wait(self._backoff(attempt))
                    continue
                self._journal(self.journal.settled_pending, key)
                self._unanswered(str(exc))
                return RowResult(row, FAILED, appointment, f"not updated: {exc}")
            except ActionRefused as exc:
                self._answered()
                self._journal(self.journal.settled_pending, key)
                return RowResult(row, FAILED, appointment, exc.server_message or str(exc))
            except (AuthenticationError, ClockError) as exc:
                self._journal(self.journal.settled_pending, key)
                self.halt(str(exc), ExitCode.CONFIGURATION)
                return RowResult(row, FAILED, appointment, str(exc))
            except ApiError as exc:  # the modify may have been made: a later run reads it
                self._unanswered(str(exc))
                return RowResult(
                    row,
                    UNKNOWN,
                    appointment,
                    f"update outcome unknown: {exc}; run again (it is read back first and "
                    "sent again only if needed)",
                )
            self._answered()
            self._journal_updated(rekey or key, row, new, params, rekey and key)
            return RowResult(row, UPDATED, appointment)

    def _journal_updated(
        self,
        key: str,
        row: int,
        payload: dict[str, Any],
        params: dict[str, Any],
        old_key: str | None = None,
    ) -> None:
        try:
            if old_key:
                self.journal.rekey(old_key, key)
            self.journal.updated(key, row, payload, fingerprint_of(params))
        except JournalError as exc:
            self.halt(str(exc), ExitCode.STOPPED)

    def cancel_removed(self, entry: Entry) -> RemovedRow:
        """Cancel the appointment of a row that left the file (journaled; undo restores it)."""
        appointment = entry.appointment_id
        assert appointment is not None
        data = entry.payload.get("data", {})
        removed = RemovedRow(
            appointment,
            entry.source_row,
            str(data.get("description") or ""),
            str(data.get("start_dt") or ""),
            KEPT,
        )
        if not self.options.cancel_removed or self.stop.is_set():
            return replace(
                removed, message="no longer in the file; kept (--cancel-removed cancels it)"
            )
        if self.hold_removed:
            return replace(removed, message=f"no longer in the file; kept: {self.hold_removed}")
        written = [p for p in (entry.payload, entry.pending) if p]
        try:
            current = find_appointment(self.client, appointment, written)
            if current is None:
                self.journal.undone(appointment, "deleted")
                return replace(removed, status=REMOVED_GONE, message="not in onOffice any more")
            if current.cancelled:
                self.journal.undone(appointment, "deleted")  # not ours to give back later
                return replace(
                    removed, status=REMOVED_GONE, message="cancelled in onOffice already"
                )
            if not self.options.force and not any(holds(current, p) for p in written):
                return replace(
                    removed,
                    status=CONFLICT,
                    message="changed in onOffice since the import "
                    f"({', '.join(differences(current, entry.payload, note=True))}); not "
                    "cancelled (use --force)",
                )
            self.client.modify_appointment(appointment, {"data": {"status": "canceled"}})
            self.journal.undone(appointment, CANCELED_REMOVED)
        except ActionRefused as exc:
            return replace(removed, status=FAILED, message=exc.server_message or str(exc))
        except (ApiError, JournalError) as exc:  # cancelling again is harmless: run again
            return replace(removed, status=FAILED, message=f"{exc}; run again")
        return replace(removed, status=CANCELED, message="no longer in the file; cancelled")

    def _backoff(self, attempt: int) -> float:
        """Seconds to wait before attempt ``attempt + 1``: doubling, capped, with jitter."""
        delay: float = min(self.options.backoff_cap, self.options.backoff_base * 2**attempt)
        return delay * (0.5 + self.rng.random())

    def _ready_at(self, timed_out: bool) -> float:
        """When a lost create may be read back: the server must have finished with it."""
        delay = self.options.settle_delay
        if delay is None:
            read = self.client.timeouts.read
            delay = read if timed_out else min(1.0, read)
        return time.monotonic() + delay

    def _journal(self, record: Callable[..., None], key: str, *value: Any) -> None:
        """An outcome into the journal; if the disk is full, the run stops (nothing more sent),
        and what onOffice did is still found later by the row's reference."""
        try:
            record(key, *value)
        except JournalError as exc:
            self.halt(str(exc), ExitCode.STOPPED)

    def settle(
        self,
        row: int,
        fingerprint: str,
        params: dict[str, Any],
        intent_at: str | None,
        resend: int = 0,
    ) -> RowResult:
        """Read back; adopt the row's appointment if it is there; send again only when it is
        proven absent ``resend_after`` seconds after the last attempt, or at once after a 503
        (``resend``: the attempts made so far)."""
        # What the earlier attempt sent is looked for (its days: the row may have been edited
        # since); the row's content now is written afterwards.
        entry = self.journal.entry(fingerprint)
        sent = entry.payload if entry is not None else self.payload(fingerprint, params)
        try:
            # Ids other rows own, and ids undo removed or cancelled: never this row's now.
            taken = self.journal.claimed_ids() | set(self.journal.undone_ids())
            found = find_created(self.client, sent, intent_at, taken, self.reference(fingerprint))
        except (AuthenticationError, ClockError) as exc:
            self.halt(str(exc), ExitCode.CONFIGURATION)
            return RowResult(row, UNKNOWN, error=f"outcome unknown, read-back refused: {exc}")
        except ApiError as exc:
            return RowResult(row, UNKNOWN, error=f"outcome unknown, read-back failed: {exc}")
        if found.appointment_id is not None:
            self._journal(self.journal.created, fingerprint, found.appointment_id)
            settled = self.journal.entry(fingerprint)
            if settled is not None and not identity.same_payload(
                settled.payload, self.payload(fingerprint, params)
            ):
                return self.update(row, fingerprint, params, settled)  # edited meanwhile
            return RowResult(row, CREATED, appointment_id=found.appointment_id)
        if found.candidates:
            return RowResult(
                row,
                UNKNOWN,
                error="outcome unknown: onOffice holds a look-alike that is not this import's "
                f"(appointment {', '.join(found.candidates)}); check it, it is not sent again",
            )
        if not found.absent:
            return RowResult(
                row, UNKNOWN, error="outcome unknown: too many appointments that day to be sure"
            )
        if resend >= self.options.max_attempts:  # declined every time (503), and not there
            self._journal(self.journal.failed, fingerprint, "HTTP 503 at every attempt")
            return RowResult(
                row, FAILED, error=f"onOffice declined it {resend} times (HTTP 503); run again"
            )
        waited = _age_seconds(intent_at)
        if not resend and waited < self.options.resend_after:
            return RowResult(
                row,
                UNKNOWN,
                error="outcome unknown: not in onOffice yet, but it may still be on its way; "
                f"run again after {self.options.resend_after:.0f} s to settle it (it is sent "
                "again then only if it is still absent)",
            )
        if self.stop.is_set():
            return RowResult(
                row, UNKNOWN, error="outcome unknown: the run stopped before it could be settled"
            )
        return self.send(row, fingerprint, params, attempts=resend)


def sent_payload(key: str, params: dict[str, Any], use_reference: bool) -> dict[str, Any]:
    """What is sent for a row kept under ``key``: its parameters, with the reference line."""
    return with_reference(params, reference(key)) if use_reference else params


def _age_seconds(intent_at: str | None) -> float:
    """Seconds since a journal timestamp (UTC); infinite when there is none."""
    if not intent_at:
        return float("inf")
    moment = datetime.strptime(intent_at, contract.DATETIME_FORMAT).replace(tzinfo=UTC)
    return (datetime.now(UTC) - moment).total_seconds()


def split_outcomes(table: Table) -> Earlier:
    """Set aside the outcome columns of an earlier results workbook given as input."""
    earlier = earlier_outcomes(table)
    if earlier:
        table.frame = table.frame.drop(
            columns=[c for c in (*OUTCOME_COLUMNS, "Warnings") if c in table.frame.columns]
        )
    return earlier


def earlier_outcomes(table: Table) -> Earlier:
    """The outcome columns of an earlier results workbook given as input (read only)."""
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
    return earlier


def run_import(
    source: str | Path,
    mapping: str | Path | Mapping,
    *,
    client: OnOfficeClient,
    journal_path: str | Path | None = None,
    options: RunOptions | None = None,
    load_options: LoadOptions | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    now: datetime | None = None,
) -> RunReport:
    """Import ``source`` (a spreadsheet, or a results workbook of an earlier run).

    ``journal_path`` defaults to the account's ledger (:func:`importer.journal.ledger_path`).
    Raises :class:`~importer.errors.ImporterError` before anything is sent (unusable input,
    credentials, clock); afterwards every outcome is in the report, also when stopped early.
    """
    options = options or RunOptions()
    stop = stop or threading.Event()
    started = now or contract.local_now()
    prepared = prepare(source, mapping, load_options)  # a refused file costs no API call
    refused, account = _preflight_failure(client)
    if refused or account is None:
        checked = check(
            source, mapping, report=False, now=started, prepared=prepared, strict=options.strict
        )
        return _not_sent(checked, client, started, refused or ("no account", ExitCode.STOPPED))
    path = Path(journal_path) if journal_path is not None else ledger_path(account)
    with Journal(path, account) as journal:
        report = _run(source, mapping, prepared, client, journal, options, progress, stop, started)
        report.account = account
    report.finished = contract.local_now()
    return report


def _not_sent(
    checked: CheckReport, client: OnOfficeClient, started: datetime, why: tuple[str, ExitCode]
) -> RunReport:
    """Nothing is sent; every row still gets an outcome in the results."""
    report = RunReport(checked, {}, client.url, started, earlier=split_outcomes(checked.table))
    report.stopped, report.stop_code = why
    for o in checked.outcomes:
        status, error = (
            (NOT_SENT, why[0]) if o.valid else (INVALID, "; ".join(p.message for p in o.errors))
        )
        report.results[o.row] = RowResult(o.row, status, error=error)
    report.finished = contract.local_now()
    return report


def _run(
    source: str | Path,
    mapping: str | Path | Mapping,
    prepared: tuple[Mapping, Table],
    client: OnOfficeClient,
    journal: Journal,
    options: RunOptions,
    progress: Progress | None,
    stop: threading.Event,
    started: datetime,
) -> RunReport:
    workers = max(1, min(options.workers, MAX_WORKERS))
    entries = journal.entries()
    input_path = str(Path(source).resolve())
    mapping_used, table = prepared
    before_check = earlier_outcomes(table)
    same = _same_places(journal.get_meta(jr.rows_key(input_path)), len(table.row_numbers))

    def not_new(outcomes: list[RowOutcome]) -> set[int]:
        """Rows with an appointment already: onOffice is not asked about double bookings for
        them (they would conflict with themselves)."""
        plan = _plan(outcomes, mapping_used, before_check, entries, input_path, options, same)
        return {row for row, step in plan.steps.items() if step.action != identity.CREATE}

    try:
        checked = check(
            source,
            mapping,
            api=client,
            report=False,
            now=started,
            prepared=prepared,
            strict=options.strict,
            skip_conflicts_for=not_new,
        )
    except ApiError as exc:  # the look-ups failed: still nothing sent, still results
        checked = check(
            source, mapping, report=False, now=started, prepared=prepared, strict=options.strict
        )
        return _not_sent(checked, client, started, (f"look-ups failed: {exc}", exc.exit_code))
    earlier = split_outcomes(checked.table)
    report = RunReport(checked, {}, client.url, started, journal_path=journal.path, earlier=earlier)
    journal.input = input_path
    journal.set_meta("last_input", journal.input)
    journal.set_meta("last_input_sha256", checked.source_sha256)
    use_reference = prepared[0].options.reference
    runner = _Runner(client, journal, options, stop, report, use_reference)
    plan = _plan(checked.outcomes, checked.mapping, earlier, entries, input_path, options, same)
    journal.set_meta(jr.rows_key(input_path), str(len(checked.table.row_numbers)))
    journal.derived = bool(earlier)
    journal.seen(
        [
            (step.key, row)
            for row, step in plan.steps.items()
            if step.entry is not None
            and not journal.derived
            and step.action == identity.UNCHANGED
            and (step.entry.source_row != row or step.entry.input != input_path)
        ]
    )
    runner.hold_removed = _hold_removed(checked.outcomes, plan, entries)
    undone = journal.undone_ids()
    to_send: ToSend = []
    to_settle: ToSettle = []
    to_update: ToUpdate = []
    for outcome in checked.outcomes:
        row = outcome.row
        before = earlier.get(row, (None, None, row))
        step = plan.steps.get(row)
        if not outcome.valid:
            report.results[row] = RowResult(
                row, INVALID, error="; ".join(p.message for p in outcome.errors)
            )
            continue
        assert outcome.parameters is not None and step is not None
        entry = step.entry
        if step.action == identity.DUPLICATE:
            report.results[row] = RowResult(
                row,
                NOT_SENT,
                error=f"the same appointment as row {step.same_as} (use --allow-duplicates "
                "to send it)",
            )
        elif step.action == identity.UNCHANGED:
            assert entry is not None
            report.results[row] = RowResult(row, ALREADY, entry.appointment_id)
        elif (
            options.only_failed
            and before[0] in IMPORTED
            and before[1] not in undone  # undo removed it: the workbook's word is stale
            and (entry is None or entry.state != jr.UNDONE)
        ):
            report.results[row] = RowResult(row, ALREADY, before[1])
        elif step.action == identity.UPDATE:
            assert entry is not None
            to_update.append((row, step.key, outcome.parameters, entry, step.rekey))
        elif step.action == identity.SETTLE:
            assert entry is not None
            to_settle.append((row, step.key, outcome.parameters, entry.intent_at))
        else:
            to_send.append((row, step.key, outcome.parameters))
    if use_reference and (to_send or to_settle):
        try:
            to_send, to_settle = _recognise_existing(runner, to_send, to_settle)
            to_send = _recognise_by_workbook(runner, to_send, earlier)
        except (ApiError, JournalError) as exc:  # without it, rows could be doubled
            for unchecked, *_ in to_send:
                report.results[unchecked] = RowResult(
                    unchecked, NOT_SENT, error=f"not checked: {exc}"
                )
            for unsettled, *_ in to_settle:  # sent by an earlier run: it may exist
                report.results[unsettled] = RowResult(
                    unsettled, UNKNOWN, error=f"not settled: {exc}"
                )
            report.stopped = f"onOffice could not be asked which rows exist already ({exc})"
            report.stop_code = exc.exit_code
            return report
    total = len(to_send) + len(to_settle) + len(to_update)
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
            _drain(pool, workers, stop, tick, [(runner.update, args) for args in to_update])
            batch_size = max(EXISTENCE_BATCH_MIN, EXISTENCE_BATCH_PER_WORKER * workers)
            if use_reference:
                # Each run sends in an order of its own: two runs of one file that overlap in
                # time then rarely reach the same row at the same moment (results keep the
                # file's order).
                to_send = random.Random().sample(to_send, len(to_send))
            batches = enumerate(_batches(to_send, batch_size))

            def next_batch() -> list[tuple[Any, tuple[Any, ...]]]:
                """The next rows to send; from the second batch on, asked about again: another
                run (a colleague's) may have created them meanwhile. Asked while the workers
                finish the batch before, so no worker waits for it."""
                for n, batch in batches:
                    if n and use_reference and not stop.is_set():
                        known = set(report.results)
                        try:
                            batch, _ = _recognise_existing(runner, batch, [], spread=True)
                        except (ApiError, JournalError) as exc:
                            runner.halt(f"onOffice could not be asked ({exc})", exc.exit_code)
                            return []
                        for row in set(report.results) - known:
                            tick(report.results[row])
                    if batch:
                        return [(runner.send, args) for args in batch]
                return []

            _drain(pool, workers, stop, tick, next_batch(), next_batch)
            _settle_pending(runner, pool, workers, client, report, options)
            report.removed = [runner.cancel_removed(entry) for entry in plan.removed]
    except KeyboardInterrupt:
        report.interrupted = True
        stop.set()
    for row, *_ in to_settle:
        report.results.setdefault(
            row, RowResult(row, UNKNOWN, error="not settled: the run stopped first")
        )
    for row, *_ in to_send + to_update:
        report.results.setdefault(
            row, RowResult(row, NOT_SENT, error=report.stopped or "interrupted")
        )
    return report


def _plan(
    outcomes: list[RowOutcome],
    mapping: Mapping,
    earlier: Earlier,
    entries: dict[str, Entry],
    input_path: str,
    options: RunOptions,
    same_length: bool,
) -> identity.Plan:
    """What a run does with each valid row (:func:`importer.identity.plan`). An appointment
    whose row has its key but is invalid now is not counted as removed from the file."""
    use_reference = mapping.options.reference
    candidates = [
        Candidate(o.row, o.fingerprint, o.identity, before[2], before[1], o.parameters)
        for o in outcomes
        if o.fingerprint is not None and o.parameters is not None
        for before in [earlier.get(o.row, (None, None, o.row))]
    ]
    plan = identity.plan(
        candidates,
        entries,
        input_path,
        lambda key, params: sent_payload(key, params, use_reference),
        allow_duplicates=options.allow_duplicates,
        same_length=same_length,
    )
    invalid = {o.identity for o in outcomes if not o.valid and o.identity}
    return replace(plan, removed=[e for e in plan.removed if e.fingerprint not in invalid])


def _hold_removed(
    outcomes: list[RowOutcome], plan: identity.Plan, entries: dict[str, Entry]
) -> str:
    """Why the appointments of rows that left the file must not be cancelled, if so."""
    if not plan.removed:
        return ""
    if not plan.recognised:
        return (
            "no row of this file was imported before: it looks like another list saved "
            "under the same name, so nothing is cancelled"
        )
    # an invalid row that cannot be tied to its entry (no key, or a key new to the journal)
    unknown = sum(1 for o in outcomes if not o.valid and o.identity not in entries)
    if unknown:
        return (
            f"{unknown} rows of the file are invalid and one of them may be its row; fix "
            "them, then run again"
        )
    return ""


def _same_places(last_rows: str | None, rows: int) -> bool:
    """Rows are matched by their place only while no row can have been deleted (which would
    shift the rows below it): the file has at least as many rows as at its last run."""
    return last_rows is not None and last_rows.isdigit() and rows >= int(last_rows)


def preview(
    checked: CheckReport,
    client: OnOfficeClient,
    journal_path: str | Path | None = None,
    allow_duplicates: bool = False,
) -> None:
    """Fill ``checked.plan``: what a run would do with each valid row, from this account's
    journal (read only: a run may be going on). onOffice itself is not searched, so a row
    planned as ``create`` may turn out to exist already when the run looks."""
    account = client.account()
    path = Path(journal_path) if journal_path is not None else ledger_path(account)
    entries, meta = jr.snapshot(path, account)
    earlier = earlier_outcomes(checked.table)
    source = str(checked.source.resolve())
    same = _same_places(meta.get(jr.rows_key(source)), len(checked.table.row_numbers))
    options = RunOptions(allow_duplicates=allow_duplicates)
    plan = _plan(checked.outcomes, checked.mapping, earlier, entries, source, options, same)
    checked.plan = {row: step.action for row, step in plan.steps.items()}
    checked.plan_removed = len(plan.removed)


def _recognise_existing(
    runner: _Runner, to_send: ToSend, to_settle: ToSettle, spread: bool = False
) -> tuple[ToSend, ToSettle]:
    """onOffice is the final witness: rows whose reference is already there are not sent.

    Rows this journal never sent are ``exists``; rows it sent whose answer was lost are
    ``created`` (looked for where that attempt put them; a row edited since is then updated).
    Both are journaled with the appointment's id.
    """
    report, journal = runner.report, runner.journal
    sent: dict[str, dict[str, Any]] = {}
    for _, key, params, *_ in to_settle:
        entry = journal.entry(key)
        sent[key] = entry.payload if entry is not None else runner.payload(key, params)
    for _, key, params in to_send:
        sent[key] = runner.payload(key, params)
    rows = [(row, key, params) for row, key, params in to_send]
    rows += [(row, key, params) for row, key, params, _ in to_settle]
    refs = {key: reference(key) for _, key, _ in rows}
    existing = (find_references if spread else find_existing)(
        runner.client,
        [(refs[key], sent[key]) for _, key, _ in rows],
        ignore=set(journal.undone_ids()),  # removed or cancelled by undo: not the row's
    )
    report.existence_reads += existing.reads
    settled = {row for row, *_ in to_settle}
    for row, key, params in rows:
        appointment = existing.found.get(refs[key])
        if appointment is None and not existing.complete:  # absence not proven: not sent
            report.results[row] = RowResult(
                row,
                UNKNOWN,
                error="not sent: onOffice could not be searched completely for this row "
                "(too many appointments that day, or no agent or group to look under)",
            )
            continue
        if appointment is None:
            continue
        payload = runner.payload(key, params)
        found = existing.appointments.get(appointment)
        if row in settled:  # our lost create: it holds what was sent
            entry = journal.entry(key)
            content = entry.content if entry is not None else fingerprint_of(params)
            journal.adopt(key, row, sent[key], appointment, content)
            if identity.same_payload(sent[key], payload):
                report.results[row] = RowResult(row, CREATED, appointment)
            else:  # the row was edited since that attempt
                entry = journal.entry(key)
                assert entry is not None
                report.results[row] = runner.update(row, key, params, entry)
        elif found and not holds(found, payload):
            # Imported elsewhere, then the row or the appointment changed: which of them is
            # not known here, so nothing is overwritten without --force.
            report.results[row] = _unverified(runner, row, key, params, appointment, found)
        else:
            journal.adopt(key, row, payload, appointment, fingerprint_of(params))
            report.results[row] = RowResult(row, EXISTS, appointment)
    _recognise_by_content(runner, to_send, existing.imported)
    return (
        [item for item in to_send if item[0] not in report.results],
        [item for item in to_settle if item[0] not in report.results],
    )


def _recognise_by_content(runner: _Runner, to_send: ToSend, imported: list[Appointment]) -> None:
    """Rows not found by their reference that an import's appointment holds exactly (an
    update on another computer gave it this content; its note keeps its first reference):
    ``exists``, adopted with the reference it carries. Only one such appointment, owned by no
    other row, is taken; two that both fit prove nothing."""
    report = runner.report
    owned = runner.journal.claimed_ids() | set(runner.journal.undone_ids())
    for row, key, params in to_send:
        if row in report.results:
            continue
        fits = [
            a
            for a in imported
            if isinstance(a.series, int)
            and a.series not in owned
            and same_content(a, params)
            and note_without_reference(a.note).strip()
            == str(params.get("data", {}).get("note") or "").strip()
        ]
        if len(fits) != 1:
            continue
        found = fits[0]
        assert isinstance(found.series, int)
        held = with_reference(params, sorted(found_in(found.note))[0])
        runner.journal.adopt(key, row, held, found.series, fingerprint_of(params))
        owned.add(found.series)
        report.results[row] = RowResult(row, EXISTS, found.series)


def _unverified(
    runner: _Runner,
    row: int,
    key: str,
    params: dict[str, Any],
    appointment: int,
    current: Appointment,
    named: str = "this row's key, imported elsewhere",
) -> RowResult:
    """An import's appointment that is the row's, holding something else, and no journal
    here that knows what it held: ``conflict``, or with ``force`` the row written over it. It
    is journaled as holding something unknown until the modify succeeds."""
    if not runner.options.force:
        changed = ", ".join(differences(current, runner.payload(key, params), note=True))
        return RowResult(
            row,
            CONFLICT,
            appointment,
            f"appointment {appointment} ({named}) holds something else ({changed}), and "
            "nothing here tells whether the row or the appointment changed; not overwritten "
            "(use --force to write the row over it)",
        )
    runner.journal.adopt(key, row, {}, appointment, None)
    entry = runner.journal.entry(key)
    assert entry is not None
    return runner.update(row, key, params, entry)


def _recognise_by_workbook(runner: _Runner, to_send: ToSend, earlier: Earlier) -> ToSend:
    """Rows of a results workbook whose Appointment ID this journal does not know (another
    computer imported them, or the journal was lost) and which are not in onOffice as they are
    now: edited rows. The appointment the workbook names is the row's only if it carries an
    import reference and no other row owns it; as nobody here knows whether the row or the
    appointment changed since, it is overwritten only with ``force`` (else ``conflict``).
    Rows whose appointment is gone, or is not an import's, are left to be created."""
    report = runner.report
    claimed = runner.journal.claimed_ids() | set(runner.journal.undone_ids())
    left: ToSend = []
    for row, key, params in to_send:
        appointment = earlier.get(row, (None, None, row))[1]
        if appointment is None or appointment in claimed:
            left.append((row, key, params))
            continue
        claimed.add(appointment)  # one appointment, one row: a copied row does not share it
        payload = runner.payload(key, params)
        try:
            current = find_appointment(runner.client, appointment, [payload])
        except OutcomeUnknown as exc:
            report.results[row] = RowResult(
                row,
                UNKNOWN,
                appointment,
                f"not sent: the results name appointment {appointment}, and whether it still "
                f"exists cannot be told ({exc})",
            )
            continue
        if current is None or not found_in(current.note):  # gone, or not an import's
            left.append((row, key, params))
        elif same_content(current, payload) and not current.cancelled:
            runner.journal.adopt(key, row, payload, appointment, fingerprint_of(params))
            report.results[row] = RowResult(row, EXISTS, appointment)
        else:
            named = "named in the results"
            report.results[row] = _unverified(runner, row, key, params, appointment, current, named)
    return left


def _batches(items: ToSend, size: int) -> list[ToSend]:
    """Batches of ``size``, smaller towards the end (down to one row): two runs that overlap
    both end up with the few rows neither has sent, where a wide window would collide."""
    out, i = [], 0
    while i < len(items):
        step = max(1, min(size, (len(items) - i) // 8))
        out.append(items[i : i + step])
        i += step
    return out


def _drain(
    pool: ThreadPoolExecutor,
    workers: int,
    stop: threading.Event,
    tick: Callable[[RowResult], None],
    tasks: list[tuple[Any, tuple[Any, ...]]],
    more: Callable[[], list[tuple[Any, tuple[Any, ...]]]] | None = None,
) -> None:
    """Run tasks with at most ``workers`` in flight; stop submitting once ``stop`` is set.

    ``more`` is asked for further tasks whenever the queue runs dry (an empty list: no more).
    """
    queue = list(reversed(tasks))
    running: set[Future[RowResult]] = set()
    try:
        while queue or running or more is not None:
            if not queue and more is not None and not stop.is_set():
                queue = list(reversed(more()))
                more = more if queue else None
            elif not queue:
                more = None
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
    for _ in range(options.settle_rounds):
        with runner.lock:
            pending, runner.pending = dict(runner.pending), {}
        if not pending:
            return
        ready = max(at for _, _, at in pending.values())
        time.sleep(max(0.0, ready - time.monotonic()))  # the server may still be busy
        tasks = []
        for row, (key, params, _) in sorted(pending.items()):
            entry = runner.journal.entry(key)
            tasks.append((runner.settle, (row, key, params, entry.intent_at if entry else None)))

        def record(result: RowResult) -> None:
            report.results[result.row] = result

        _drain(pool, workers, threading.Event(), record, tasks)


def _preflight_failure(client: OnOfficeClient) -> tuple[tuple[str, ExitCode] | None, str | None]:
    """Why nothing may be sent (or None), and the account the client speaks for."""
    try:
        return None, preflight(client)
    except (AuthenticationError, ClockError) as exc:
        return (f"preflight: {exc}", ExitCode.CONFIGURATION), None
    except ApiError as exc:
        return (f"preflight: the API cannot be reached ({exc})", ExitCode.STOPPED), None


def preflight(client: OnOfficeClient) -> str:
    """A read-only call that proves the credentials and the clock before anything is created;
    returns the account they belong to (:meth:`OnOfficeClient.account`)."""
    account = client.account()
    skew = client.last_clock_skew
    if skew is not None and abs(skew) > 60:
        raise ClockError(
            f"this computer's clock is {abs(skew):.0f} s "
            f"{'ahead of' if skew > 0 else 'behind'} the API server's"
        )
    return account
