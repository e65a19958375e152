"""Sending one row, and recognising rows already in onOffice: the executing half of a run.

A :class:`Runner` creates a row (journaled before and after, retried only when the request
surely never arrived), settles a lost answer by reading back, updates a changed row's
appointment (never over someone's change without ``force``) and cancels the appointment of a
row that left the file. The ``recognise_*`` functions ask onOffice, before anything is sent,
which rows are there already. :mod:`importer.submit` plans a run and drives these from its
worker threads.

Every row ends with one status: ``created``; ``updated`` (the row changed since its import: its
appointment was modified); ``unchanged`` (it changed, but onOffice already holds it so);
``already-created`` (this account's journal imported it as it is); ``exists`` (found in onOffice
by its import reference, or holding exactly the row: created by an earlier import, on any
computer); ``conflict`` (its appointment was changed in onOffice since the import: not
overwritten without ``force``); ``invalid``, ``failed``, ``unknown`` or ``not-sent``.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from . import contract, identity
from .check import CheckReport
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
from .i18n import N_, _
from .journal import CANCELED_REMOVED, Entry, Journal
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


class Status(StrEnum):
    """Every status a row can end with, in the order reports list them. A member is its text
    ("created"), so it compares, prints and is written to workbooks as that text."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    ALREADY = "already-created"
    EXISTS = "exists"
    CONFLICT = "conflict"
    INVALID = "invalid"
    FAILED = "failed"
    UNKNOWN = "unknown"
    NOT_SENT = "not-sent"


STATUSES = tuple(Status)
CREATED, UPDATED, UNCHANGED, ALREADY, EXISTS = (
    Status.CREATED,
    Status.UPDATED,
    Status.UNCHANGED,
    Status.ALREADY,
    Status.EXISTS,
)
CONFLICT, INVALID, FAILED, UNKNOWN, NOT_SENT = (
    Status.CONFLICT,
    Status.INVALID,
    Status.FAILED,
    Status.UNKNOWN,
    Status.NOT_SENT,
)
# Statuses of rows whose appointment is in onOffice and this import's (undo removes them).
IMPORTED = (CREATED, UPDATED, UNCHANGED, ALREADY, EXISTS)
# What became of the appointment of a row that is no longer in the file.
KEPT, CANCELED, REMOVED_GONE = "kept", "canceled", "already-gone"
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
    status: Status
    appointment_id: int | None = None
    error: str | None = None


_UNKNOWN_OUTCOME = N_("outcome unknown: {error}")


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


class Runner:
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
            self.halt(
                _("the API did not answer {n} rows in a row ({why})").format(n=streak, why=why),
                ExitCode.STOPPED,
            )

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
                return RowResult(row, NOT_SENT, error=self.report.stopped or _("the run stopped"))
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
                    return RowResult(
                        row, FAILED, error=_("not delivered: {error}").format(error=exc)
                    )
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
                return RowResult(row, UNKNOWN, error=_(_UNKNOWN_OUTCOME).format(error=exc))
            except ApiError as exc:  # MalformedResponse: it may exist now
                self._journal(self.journal.unknown, fingerprint, str(exc))
                self._unanswered(str(exc))
                with self.lock:
                    self.pending[row] = (fingerprint, params, self._ready_at(False))
                return RowResult(row, UNKNOWN, error=_(_UNKNOWN_OUTCOME).format(error=exc))
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
            return RowResult(
                row, NOT_SENT, appointment, self.report.stopped or _("the run stopped")
            )
        new = self.payload(rekey or key, params)
        written = [p for p in (entry.payload, entry.pending) if p]  # what we may have left
        try:
            current = find_appointment(self.client, appointment, [*written, new])
        except (AuthenticationError, ClockError) as exc:
            self.halt(str(exc), ExitCode.CONFIGURATION)
            return RowResult(
                row, NOT_SENT, appointment, _("not updated: {error}").format(error=exc)
            )
        except ApiError as exc:  # OutcomeUnknown too: gone or not, it cannot be told
            return RowResult(
                row,
                NOT_SENT,
                appointment,
                _("not updated: appointment {id} could not be read ({error}); run again").format(
                    id=appointment, error=exc
                ),
            )
        if current is None:
            if self.options.force:  # --force: the row gets an appointment again
                return self.send(row, rekey or key, params)
            return RowResult(
                row,
                CONFLICT,
                appointment,
                _(
                    "appointment {id} was deleted in onOffice; not created again (use --force "
                    "to create it again)"
                ).format(id=appointment),
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
                _(
                    "appointment {id} was changed in onOffice since the import ({changes}); "
                    "not overwritten (use --force to write the row over it)"
                ).format(id=appointment, changes=changed),
            )
        try:
            self.journal.pending(key, new)
        except JournalError as exc:
            self.halt(str(exc), ExitCode.STOPPED)
            return RowResult(row, NOT_SENT, appointment, str(exc))
        failed = self._modify(row, key, appointment, modify_parameters(new, *written))
        if failed is not None:
            return failed
        self._journal_updated(rekey or key, row, new, params, rekey and key)
        return RowResult(row, UPDATED, appointment)

    def _modify(
        self, row: int, key: str, appointment: int, parameters: dict[str, Any]
    ) -> RowResult | None:
        """Send a journaled modify, retried only while it surely never arrived; None when
        onOffice confirmed it, else the row's result (the journal says what is known)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                self.client.modify_appointment(appointment, parameters)
            except NotDelivered as exc:
                if attempt < self.options.max_attempts and not self.stop.is_set():
                    self.stop.wait(self._backoff(attempt))
                    continue
                self._journal(self.journal.settled_pending, key)
                self._unanswered(str(exc))
                return RowResult(
                    row, FAILED, appointment, _("not updated: {error}").format(error=exc)
                )
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
                    _(
                        "update outcome unknown: {error}; run again (it is read back first "
                        "and sent again only if needed)"
                    ).format(error=exc),
                )
            self._answered()
            return None

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
                removed, message=_("no longer in the file; kept (--cancel-removed cancels it)")
            )
        if self.hold_removed:
            return replace(
                removed,
                message=_("no longer in the file; kept: {why}").format(why=self.hold_removed),
            )
        written = [p for p in (entry.payload, entry.pending) if p]
        try:
            current = find_appointment(self.client, appointment, written)
            if current is None:
                self.journal.undone(appointment, "deleted")
                return replace(removed, status=REMOVED_GONE, message=_("not in onOffice any more"))
            if current.cancelled:
                self.journal.undone(appointment, "deleted")  # not ours to give back later
                return replace(
                    removed, status=REMOVED_GONE, message=_("cancelled in onOffice already")
                )
            if not self.options.force and not any(holds(current, p) for p in written):
                return replace(
                    removed,
                    status=CONFLICT,
                    message=_(
                        "changed in onOffice since the import ({changes}); not cancelled "
                        "(use --force)"
                    ).format(changes=", ".join(differences(current, entry.payload, note=True))),
                )
            self.client.modify_appointment(appointment, {"data": {"status": "canceled"}})
            self.journal.undone(appointment, CANCELED_REMOVED)
        except ActionRefused as exc:
            return replace(removed, status=FAILED, message=exc.server_message or str(exc))
        except (ApiError, JournalError) as exc:  # cancelling again is harmless: run again
            return replace(
                removed, status=FAILED, message=_("{error}; run again").format(error=exc)
            )
        return replace(removed, status=CANCELED, message=_("no longer in the file; cancelled"))

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
            return RowResult(
                row,
                UNKNOWN,
                error=_("outcome unknown, read-back refused: {error}").format(error=exc),
            )
        except ApiError as exc:
            return RowResult(
                row,
                UNKNOWN,
                error=_("outcome unknown, read-back failed: {error}").format(error=exc),
            )
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
                error=_(
                    "outcome unknown: onOffice holds a look-alike that is not this import's "
                    "(appointment {ids}); check it, it is not sent again"
                ).format(ids=", ".join(found.candidates)),
            )
        if not found.absent:
            return RowResult(
                row, UNKNOWN, error=_("outcome unknown: too many appointments that day to be sure")
            )
        if resend >= self.options.max_attempts:  # declined every time (503), and not there
            self._journal(self.journal.failed, fingerprint, "HTTP 503 at every attempt")
            return RowResult(
                row,
                FAILED,
                error=_("onOffice declined it {n} times (HTTP 503); run again").format(n=resend),
            )
        waited = _age_seconds(intent_at)
        if not resend and waited < self.options.resend_after:
            return RowResult(
                row,
                UNKNOWN,
                error=_(
                    "outcome unknown: not in onOffice yet, but it may still be on its way; run "
                    "again after {seconds} s to settle it (it is sent again then only if it is "
                    "still absent)"
                ).format(seconds=f"{self.options.resend_after:.0f}"),
            )
        if self.stop.is_set():
            return RowResult(
                row,
                UNKNOWN,
                error=_("outcome unknown: the run stopped before it could be settled"),
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


def recognise_existing(
    runner: Runner, to_send: ToSend, to_settle: ToSettle, spread: bool = False
) -> tuple[ToSend, ToSettle]:
    """onOffice is the final witness: rows whose reference is already there are not sent.

    Rows this journal never sent are ``exists``; rows it sent whose answer was lost are
    ``created`` (looked for where that attempt put them; a row edited since is then updated).
    Both are journaled with the appointment's id.
    """
    report, journal = runner.report, runner.journal
    sent: dict[str, dict[str, Any]] = {}
    for _row, key, params, *_rest in to_settle:
        entry = journal.entry(key)
        sent[key] = entry.payload if entry is not None else runner.payload(key, params)
    for _row, key, params in to_send:
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
                error=_(
                    "not sent: onOffice could not be searched completely for this row (too many "
                    "appointments that day, or no agent or group to look under)"
                ),
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
    recognise_by_content(runner, to_send, existing.imported)
    return (
        [item for item in to_send if item[0] not in report.results],
        [item for item in to_settle if item[0] not in report.results],
    )


def recognise_by_content(runner: Runner, to_send: ToSend, imported: list[Appointment]) -> None:
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
    runner: Runner,
    row: int,
    key: str,
    params: dict[str, Any],
    appointment: int,
    current: Appointment,
    named: str = N_("this row's key, imported elsewhere"),
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
            _(
                "appointment {id} ({named}) holds something else ({changes}), and nothing here "
                "tells whether the row or the appointment changed; not overwritten (use --force "
                "to write the row over it)"
            ).format(id=appointment, named=_(named), changes=changed),
        )
    runner.journal.adopt(key, row, {}, appointment, None)
    entry = runner.journal.entry(key)
    assert entry is not None
    return runner.update(row, key, params, entry)


def recognise_by_workbook(runner: Runner, to_send: ToSend, earlier: Earlier) -> ToSend:
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
                _(
                    "not sent: the results name appointment {id}, and whether it still exists "
                    "cannot be told ({error})"
                ).format(id=appointment, error=exc),
            )
            continue
        if current is None or not found_in(current.note):  # gone, or not an import's
            left.append((row, key, params))
        elif same_content(current, payload) and not current.cancelled:
            runner.journal.adopt(key, row, payload, appointment, fingerprint_of(params))
            report.results[row] = RowResult(row, EXISTS, appointment)
        else:
            named = N_("named in the results")
            report.results[row] = _unverified(runner, row, key, params, appointment, current, named)
    return left
