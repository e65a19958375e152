"""Carrying out one row's step of the plan: the executing half of a run.

A :class:`Runner` creates a row (journaled before and after, retried only when the request
surely never arrived), settles a lost answer by reading back, updates a changed row's
appointment and cancels the appointment of a row that left the file. Every write stamps the
appointment (:mod:`importer.onoffice.reference`) with what it wrote, so any computer can tell later
what the import last wrote. :mod:`importer.run.submit` plans a run and drives these from its worker
threads.

Every row ends with one status (:class:`Status`): ``created``; ``updated`` (the row changed
since its import: its appointment was modified); ``unchanged`` (it changed, but onOffice already
holds it so); ``already-created`` (this computer imported it as it is); ``exists`` (in onOffice
as it is, imported by another computer or list); ``conflict`` (its appointment was changed or
deleted in onOffice since the import's last write, or another list wrote it: not overwritten
without ``force``); ``ambiguous`` (two rows could be its appointment: say which); ``invalid``,
``failed``, ``unknown`` or ``not-sent``.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from ..core import contract
from ..core.errors import (
    ActionRefused,
    ApiError,
    AuthenticationError,
    ClockError,
    ExitCode,
    JournalError,
    NotDelivered,
    OutcomeUnknown,
    PermissionRefused,
)
from ..core.excel import IN_ONOFFICE
from ..core.i18n import N_, _, when
from ..core.problems import RowProblem
from ..onoffice.client import OnOfficeClient
from ..onoffice.form import form_of
from ..onoffice.readback import (
    Appointment,
    Who,
    cancels,
    field_digests,
    find_appointment,
    seen_digest,
    written_among,
)
from ..onoffice.reference import Stamp, reference, with_stamp
from ..rules.check import CheckReport
from ..rules.keys import KEY_PREFIX
from ..rules.payload import fingerprint, kept_on_modify, modify_parameters
from ..rules.refusals import explain
from . import identity
from . import journal as jr
from .identity import Removed, Step
from .journal import CANCELED_REMOVED, Journal, entry_content
from .settle import find_created
from .state import CHANGED, GONE, INTACT, UNSURE, Prior, restamped, retired


class Status(StrEnum):
    """Every status a row can end with, in the order reports list them. A member is its text
    ("created"), so it compares, prints and is written to workbooks as that text."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    ALREADY = "already-created"
    EXISTS = "exists"
    CONFLICT = "conflict"
    AMBIGUOUS = "ambiguous"
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
CONFLICT, AMBIGUOUS, INVALID, FAILED, UNKNOWN, NOT_SENT = (
    Status.CONFLICT,
    Status.AMBIGUOUS,
    Status.INVALID,
    Status.FAILED,
    Status.UNKNOWN,
    Status.NOT_SENT,
)
# Statuses of rows whose appointment is in onOffice and this import's (undo removes them).
IMPORTED = tuple(s for s in STATUSES if s in IN_ONOFFICE)
# What became of the appointment of a row that is no longer in the file.
KEPT, CANCELED, REMOVED_GONE = "kept", "canceled", "already-gone"
Earlier = dict[int, tuple[str | None, int | None, int]]  # row -> (status, id, source row)


class Pending(NamedTuple):
    """A row whose answer was lost in this run: settled again once ``ready_at`` has come."""

    step: Step
    params: dict[str, Any]
    ready_at: float  # time.monotonic() from when a read-back can tell
    declined: int  # attempts onOffice declined (HTTP 503) so far


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
    # send rows again whose appointment type onOffice refused before (it may have been added)
    retry_refused: bool = False
    # The user's answers to the plan's questions: row -> appointment id, or None for "new".
    choices: dict[int, int | None] = field(default_factory=dict)
    # Another run of the same list that writes nothing for this long is taken for ended (a run
    # that sends writes many times a second; one that pauses longer, to settle or to back off,
    # finds what was sent meanwhile by its looks).
    quiet_after: float = 5.0
    # Where the caller writes the results workbook: recorded in the ledger with the mapping,
    # so that History finds the import and opens it on any later day (a CLI run's too).
    results: str | None = None


@dataclass
class RowResult:
    row: int
    status: Status
    appointment_id: int | None = None
    error: str | None = None
    answer: str | None = None  # onOffice's own code and text of a refusal (for support)
    problems: tuple[RowProblem, ...] = ()  # the cells a refusal concerns
    # What onOffice keeps that the row does not set, which the API cannot remove
    # (contract.NOT_CLEARABLE): said on the row and, counted, once for the run
    kept: tuple[str, ...] = ()


def kept_fields(
    entry: jr.Entry | None,
    new: dict[str, Any],
    found: Appointment | None,
    mapped: Collection[str] = (),
) -> list[str]:
    """What the file no longer sets but onOffice keeps (the API has no way to clear it,
    contract.NOT_CLEARABLE): by what this computer last wrote, and, on any computer, a
    reminder or a series' left-out dates the read of the appointment shows, where the mapping
    fills that field (``mapped``): a list that has no reminders is not told of those an
    office sets in onOffice."""
    kept = kept_on_modify(entry.payload if entry is not None else None, new)
    data = new.get("data") or {}
    if found is None:
        return kept
    # a series' left-out dates only where the row is still a series
    shown = {"erinnerung": found.reminder, "rp_exception": found.skips and data.get("rp_flag")}
    kept += [
        name
        for name, held in shown.items()
        if held and name in mapped and not data.get(name) and name not in kept
    ]
    return kept


def filled(checked: CheckReport) -> frozenset[str]:
    """The fields the mapping fills, as :func:`kept_fields` asks: its sources, a series' left-out
    dates only where it names them (the sources give every series field the repeat column, so
    that a refusal marks a cell)."""
    series = checked.mapping.series
    told = series is not None and series.exceptions is not None
    return frozenset(name for name in checked.sources if name != "rp_exception" or told)


def _kept(kept: list[str], updated: bool) -> str | None:
    """Said on the row: its appointment holds what the file does not set."""
    if not kept:
        return None
    fields = kept_words(kept)
    if updated:
        return _(
            "updated, but {fields} stays in onOffice as it was: the file no longer sets it, and "
            "the onOffice API has no way to remove it; remove it in onOffice by hand"
        ).format(fields=fields)
    return _(
        "as in the file, but {fields} stays in onOffice: the file does not set it, and the "
        "onOffice API has no way to remove it; remove it in onOffice by hand"
    ).format(fields=fields)


def kept_words(kept: list[str]) -> str:
    """The fields of contract.NOT_CLEARABLE in the user's words ("the reminder, …")."""
    return ", ".join(_(_KEPT_WORDS[k]) for k in kept)


_KEPT_WORDS = {
    "erinnerung": N_("the reminder"),
    "art": N_("the appointment type"),
    "reminderTypes": N_("the reminder channels"),
    "rp_exception": N_("the series' list of left-out dates"),
}
_UNKNOWN_OUTCOME = N_("outcome unknown: {error}")
STOPPED_UNSETTLED = N_("outcome unknown: the run stopped before it could be settled; run again")
# Writes refused for a missing right before any write succeeded that stop the run.
DENIED_STOP = 3


@dataclass
class RemovedRow:
    """An appointment an earlier run imported from this list, for a row no longer in it."""

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
    existence_reads: int = 0  # reads of onOffice's calendar (the list, and while sending)
    removed: list[RemovedRow] = field(default_factory=list)
    questions: list[identity.Question] = field(default_factory=list)  # the plan's questions
    list_name: str = ""
    notices: list[str] = field(default_factory=list)  # said once, also in the Summary

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
        failing = (INVALID, FAILED, NOT_SENT, CONFLICT, AMBIGUOUS)
        if any(counts[s] for s in failing):
            return ExitCode.ROWS_FAILED
        if any(r.status in (CONFLICT, FAILED) for r in self.removed):
            return ExitCode.ROWS_FAILED
        return ExitCode.OK


@dataclass(frozen=True)
class Signature:
    """What a run writes into every stamp besides the row's own part."""

    list_tag: str
    run: str


class Runner:
    def __init__(
        self,
        client: OnOfficeClient,
        journal: Journal,
        options: RunOptions,
        stop: threading.Event,
        report: RunReport,
        signature: Signature,
        use_reference: bool = True,
    ) -> None:
        self.client, self.journal, self.options = client, journal, options
        self.stop, self.report = stop, report
        self.signature = signature
        self.lock = threading.Lock()
        self.unreachable_streak = 0
        # row -> (step, params, when to read it back: time.monotonic(), attempts declined
        # with a 503 so far: such a row is sent again once it is proven absent)
        self.pending: dict[int, Pending] = {}
        self.rng = random.Random()
        self.use_reference = use_reference
        self.written: set[int] = set()  # appointments this run wrote (a look finds them too)
        self.denied = 0  # writes refused for a missing right
        self._sent: dict[int, dict[str, Any] | None] | None = None  # row -> its parameters

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

    # --- what is written ------------------------------------------------------------------------
    def payload(
        self,
        step: Step,
        params: dict[str, Any],
        before: Appointment | None = None,
        row: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """What is sent for a row: its parameters, stamped (unless the mapping says not to).
        ``row``: the row's own parameters where more is sent (a status making it active
        again): the stamp's content is the row's, as a later run computes it."""
        if not self.use_reference:
            return params
        keyed = step.key.startswith(KEY_PREFIX)
        stamp = Stamp(
            step.ref or reference(step.key),
            self.signature.list_tag,
            self._source_row(step),
            keyed,
            _content(step, params if row is None else row)[:12],
            seen_digest(params, before),
            self.signature.run,
            int(self.client.server_now()),
            field_digests(params, before),
        )
        return with_stamp(params, stamp)

    def _source_row(self, step: Step) -> int:
        earlier = self.report.earlier.get(step.row)
        return earlier[2] if earlier is not None else step.row

    def do(self, step: Step, params: dict[str, Any]) -> RowResult:
        """A create or an update, as the step says."""
        if step.action == identity.UPDATE:
            return self.update(step, params)
        return self.send(step, params)

    # --- one row --------------------------------------------------------------------------------
    def send(self, step: Step, params: dict[str, Any], attempts: int = 0) -> RowResult:
        row, key = step.row, step.key
        attempt = attempts
        if step.prior is None:
            step = replace(step, ref=step.ref or reference(key))
        sent = self.payload(replace(step, prior=None), params)
        while True:
            if self.stop.is_set() and attempt == 0:
                return RowResult(row, NOT_SENT, error=self.report.stopped or _("the run stopped"))
            attempt += 1
            try:
                self.journal.intent(key, self._source_row(step), sent, _content(step, params))
            except JournalError as exc:  # nothing is sent that is not journaled
                self.halt(str(exc), ExitCode.STOPPED)
                return RowResult(row, NOT_SENT, error=str(exc))
            try:
                new_id = self.client.create_appointment(sent, identifier=f"row-{row}")
            except NotDelivered as exc:
                if attempt >= self.options.max_attempts or self.stop.is_set():
                    self._journal(self.journal.failed, key, str(exc))
                    self._unanswered(str(exc))
                    return RowResult(
                        row, FAILED, error=_("not delivered: {error}").format(error=exc)
                    )
                self.stop.wait(self._backoff(attempt))  # a stop cuts it short
                continue
            except ActionRefused as exc:
                self._answered()
                self._journal(self.journal.failed, key, str(exc))
                return self.refused(row, None, exc)
            except (AuthenticationError, ClockError) as exc:
                # refused before any work: sent again by a later run
                self._journal(self.journal.failed, key, str(exc))
                self.halt(str(exc), ExitCode.CONFIGURATION)
                return RowResult(row, FAILED, error=str(exc))
            except OutcomeUnknown as exc:
                self._journal(self.journal.unknown, key, str(exc))
                self._unanswered(str(exc))
                if exc.status == 503:
                    # "Service unavailable": the server declined it. A read-back confirms that
                    # nothing was created before it is sent again (never on a guess).
                    # The read-back is the first pause; later ones back off exponentially.
                    if attempt > 1:
                        self.stop.wait(self._backoff(attempt))
                    return self.settle(step, params, resend=attempt)
                self._later(step, params, exc.timed_out)
                return RowResult(row, UNKNOWN, error=_(_UNKNOWN_OUTCOME).format(error=exc))
            except ApiError as exc:  # MalformedResponse: it may exist now
                self._journal(self.journal.unknown, key, str(exc))
                self._unanswered(str(exc))
                self._later(step, params, False)
                return RowResult(row, UNKNOWN, error=_(_UNKNOWN_OUTCOME).format(error=exc))
            self._answered()
            self._journal(self.journal.created, key, new_id)
            with self.lock:
                self.written.add(new_id)
            return RowResult(row, CREATED, appointment_id=new_id)

    def give_way(
        self, step: Step, params: dict[str, Any], ours: int, theirs: Appointment
    ) -> RowResult:
        """A row this run created (``ours``) that another run created at the same moment, with
        the lower id (:mod:`importer.run.watch`): ours is deleted, theirs becomes the row's."""
        series = int(theirs.series)
        try:
            self.client.delete_appointment(ours)
        except ApiError as exc:
            return RowResult(
                step.row,
                CREATED,
                ours,
                _(
                    "in onOffice twice: another run of this list created it at the same moment "
                    "(appointment {theirs}), and this copy could not be deleted ({error}); "
                    "delete one of the two in onOffice"
                ).format(theirs=series, error=exc),
            )
        with self.lock:
            self.written.discard(ours)
        held = self.payload(step, params, theirs)
        content = _content(step, params)
        self._journal(self.journal.adopt, step.key, self._source_row(step), held, series, content)
        self._journal(self.journal.undone, ours, jr.UNDO_DELETED)
        return RowResult(
            step.row,
            EXISTS,
            series,
            _(
                "another run of this list created it at the same moment; this run deleted its "
                "own copy (appointment {ours})"
            ).format(ours=ours),
        )

    def refused(self, row: int, appointment: int | None, exc: ActionRefused) -> RowResult:
        """A row onOffice refused, in the user's words, its cells marked (:mod:`refusals`).
        The first writes of a run all refused for a right: the API user may write nothing, and
        the run stops with one line instead of failing every row alike."""
        checked = self.report.check
        code, text = exc.errorcode or 0, exc.server_message or ""
        with self.lock:
            if self._sent is None:  # looked up once, the first time a row is refused
                self._sent = {o.row: o.parameters for o in checked.outcomes}
        told = explain(row, code, text, checked.sources, checked.allowed, self._sent.get(row))
        if contract.is_permission_refusal(code, text):
            with self.lock:
                self.denied += 1
                nothing = self.denied >= DENIED_STOP and not self.written
            if nothing:
                stop = PermissionRefused(code, text, action="calendar create/modify")
                self.halt(str(stop), ExitCode.CONFIGURATION)
        return RowResult(row, FAILED, appointment, told.message, told.answer, told.problems)

    def _later(
        self, step: Step, params: dict[str, Any], timed_out: bool, declined: int = 0
    ) -> None:
        """Read this row back later in the run (:func:`importer.run.submit` settles them)."""
        with self.lock:
            self.pending[step.row] = Pending(step, params, self._ready_at(timed_out), declined)

    def keep(self, step: Step, params: dict[str, Any]) -> RowResult:
        """A row whose appointment already holds it: journaled, nothing sent."""
        prior = step.prior
        assert prior is not None
        appointment = prior.appointment_id
        entry = prior.entry
        content = _content(step, params)
        if entry is not None and entry.state in (jr.SENDING, jr.UNKNOWN):
            self._journal(self.journal.created, entry.fingerprint, appointment)  # our lost create
            return RowResult(step.row, CREATED, appointment)
        kept = kept_fields(None, params, prior.found, filled(self.report.check))
        said, stays = _kept(kept, updated=False), tuple(kept)
        if entry is None or entry.appointment_id != appointment:
            held = self.payload(step, params, prior.found)
            self._journal(
                self.journal.adopt, step.key, self._source_row(step), held, appointment, content
            )
            return RowResult(step.row, EXISTS, appointment, said, kept=stays)
        if (entry_content(entry) or "")[:12] == content[:12] and entry.state == jr.CREATED:
            return RowResult(step.row, ALREADY, appointment, said, kept=stays)
        held = self.payload(step, params, prior.found)
        self._journal_updated(entry.fingerprint, step, held, params)
        return RowResult(step.row, UNCHANGED, appointment, said, kept=stays)

    def update(self, step: Step, params: dict[str, Any]) -> RowResult:
        """A row that changed since its import: its appointment is modified to the row's full
        new content (its stamp says what was written, for every computer)."""
        prior = step.prior
        assert prior is not None
        appointment = prior.appointment_id
        if self.stop.is_set():
            return RowResult(
                step.row, NOT_SENT, appointment, self.report.stopped or _("the run stopped")
            )
        content = dict(params)
        data = params.get("data", {})
        if prior.cancelled and not cancels(data) and not data.get("status"):  # active again
            content = {**params, "data": {**data, "status": "active"}}
        new = self.payload(step, content, prior.found, row=params)
        semantics = form_of(self.client).subscribers
        unseen = prior.found is not None and "participants" in prior.found.unseen
        if self._taken_off(prior, new) and (semantics == "merge" or (unseen and not semantics)):
            # an account that adds participants, or one whose reads cannot show whether it
            # does: a new appointment is the only way onOffice surely holds the file
            return self._anew(step, prior, params, prior.found)
        entry = prior.entry
        ledger = entry.fingerprint if entry is not None else None
        try:
            if entry is not None and entry.state in (jr.SENDING, jr.UNKNOWN):
                self.journal.created(entry.fingerprint, appointment)  # our lost create, found
            if ledger is not None:
                self.journal.pending(ledger, new)
        except JournalError as exc:
            self.halt(str(exc), ExitCode.STOPPED)
            return RowResult(step.row, NOT_SENT, appointment, str(exc))
        failed = self._modify(step.row, ledger, appointment, modify_parameters(new))
        if failed is not None:
            return failed
        if self._taken_off(prior, new) and not form_of(self.client).subscribers:
            kept = self._participants_kept(prior, new)
            if kept is not None:
                return self._anew(step, prior, params, kept)
        with self.lock:
            self.written.add(appointment)
        if prior.entry is None:  # an appointment this computer did not know: now it does
            self._journal(
                self.journal.adopt,
                step.key,
                self._source_row(step),
                new,
                appointment,
                _content(step, params),
            )
        else:
            self._journal_updated(prior.entry.fingerprint, step, new, params)
        stays = kept_fields(entry, new, prior.found, filled(self.report.check))
        return RowResult(
            step.row, UPDATED, appointment, _kept(stays, updated=True), kept=tuple(stays)
        )

    @staticmethod
    def _taken_off(prior: Prior, sent: dict[str, Any]) -> bool:
        """Whether a modify with ``sent`` takes a participant off the appointment (where reads
        do not show participants: whether it changes those the import last wrote, as the
        stamp's digest of them tells)."""
        found = prior.found
        if found is None:
            return False
        users = Who.of(sent).users
        if "participants" in found.unseen:
            stamp = prior.stamp
            if stamp is None or not stamp.fields:
                return False
            now = sorted(str(u) for u in users)
            return written_among(stamp.fields, "participants", [now]) is None
        return bool(found.beyond_groups - users)

    def _participants_kept(self, prior: Prior, sent: dict[str, Any]) -> Appointment | None:
        """Read back the first modify that takes a participant off, as the documentation
        recommends where it leaves open whether `subscribers` replaces or adds (§5.4): the
        appointment as it is now where the account kept a participant taken off (it adds),
        else None (it replaces, or the read cannot tell). Learned once per account."""
        found = prior.found
        assert found is not None
        try:
            now = find_appointment(self.client, prior.appointment_id, [sent])
        except (ApiError, OutcomeUnknown):
            return None
        if now is None or "participants" in now.unseen:
            return None
        shown = now.people
        before = found.beyond_groups  # a group's members stay listed whatever a modify does
        kept = bool((before - Who.of(sent).users) & shown)
        form_of(self.client).subscribers = "merge" if kept else "replace"
        return now if kept else None

    def _anew(
        self, step: Step, prior: Prior, params: dict[str, Any], found: Appointment | None
    ) -> RowResult:
        """The row's participants changed on an account that adds participants on a modify
        instead of replacing them: the old appointment is cancelled (its stamp retired, so no
        row takes it again) and the row is created anew, so that onOffice holds the file."""
        appointment = prior.appointment_id
        assert found is not None
        at = int(self.client.server_now())
        try:
            data = retired(found, run=self.signature.run, at=at)
            self.client.modify_appointment(appointment, {"data": data})
        except ActionRefused as exc:
            return self.refused(step.row, appointment, exc)
        except ApiError as exc:
            return RowResult(
                step.row, FAILED, appointment, _("not updated: {error}").format(error=exc)
            )
        with self.lock:
            self.written.add(appointment)
        # kept in the ledger under a key of its own (the row's key goes to the new one), as a
        # run's cancel: undo removes it with the list's others
        written = prior.entry.payload if prior.entry is not None else params
        self._journal(self._retired, appointment, self._source_row(step), written)
        result = self.send(replace(step, action=identity.CREATE, prior=None), params)
        if form_of(self.client).subscribers == "merge":
            why = _(
                "onOffice keeps the earlier participants when an appointment is changed:"
                " appointment {old} was cancelled and this row's appointment created anew"
            ).format(old=appointment)
        else:
            why = _(
                "onOffice's reads do not show participants, so whether a change keeps the earlier"
                " ones cannot be seen: appointment {old} was cancelled and this row's appointment"
                " created anew"
            ).format(old=appointment)
        return replace(result, error=f"{result.error}; {why}" if result.error else why)

    def _retired(self, appointment: int, source_row: int, payload: dict[str, Any]) -> None:
        self.journal.adopt(f"retired:{appointment}", source_row, payload, appointment, None)
        self.journal.undone(appointment, CANCELED_REMOVED)

    def _modify(
        self, row: int, ledger: str | None, appointment: int, parameters: dict[str, Any]
    ) -> RowResult | None:
        """Send a journaled modify, retried only while it surely never arrived; None when
        onOffice confirmed it, else the row's result (the stamp says later what is there).
        ``ledger``: the key of the entry that recorded the modify as pending, if any."""
        attempt = 0
        while True:
            attempt += 1
            try:
                self.client.modify_appointment(appointment, parameters)
            except NotDelivered as exc:
                if attempt < self.options.max_attempts and not self.stop.is_set():
                    self.stop.wait(self._backoff(attempt))
                    continue
                if ledger is not None:
                    self._journal(self.journal.settled_pending, ledger)
                self._unanswered(str(exc))
                return RowResult(
                    row, FAILED, appointment, _("not updated: {error}").format(error=exc)
                )
            except ActionRefused as exc:
                self._answered()
                if ledger is not None:
                    self._journal(self.journal.settled_pending, ledger)
                return self.refused(row, appointment, exc)
            except (AuthenticationError, ClockError) as exc:
                if ledger is not None:
                    self._journal(self.journal.settled_pending, ledger)
                self.halt(str(exc), ExitCode.CONFIGURATION)
                return RowResult(row, FAILED, appointment, str(exc))
            except ApiError as exc:  # the modify may have been made: the next run reads it
                self._unanswered(str(exc))
                return RowResult(
                    row,
                    UNKNOWN,
                    appointment,
                    _(
                        "update outcome unknown: {error}; run again (it is read first and "
                        "written again only if needed)"
                    ).format(error=exc),
                )
            self._answered()
            return None

    def _journal_updated(
        self, old_key: str, step: Step, payload: dict[str, Any], params: dict[str, Any]
    ) -> None:
        try:
            if old_key != step.key:  # the row's identity changed (its mapping gained a key)
                self.journal.rekey(old_key, step.key)
            self.journal.updated(step.key, self._source_row(step), payload, _content(step, params))
        except JournalError as exc:
            self.halt(str(exc), ExitCode.STOPPED)

    def cancel_removed(self, removed: Removed) -> RemovedRow:
        """Cancel the appointment of a row that left the file (journaled; undo removes it too),
        stamped as cancelled by the import so that no computer takes it for a person's."""
        prior = removed.prior
        appointment = prior.appointment_id
        shown = _shown(prior)
        row = RemovedRow(appointment, prior.row, shown[0], shown[1], KEPT)
        if prior.condition == GONE:
            self._journal(self.journal.undone, appointment, "deleted")
            return replace(row, status=REMOVED_GONE, message=_("not in onOffice any more"))
        if prior.cancelled:
            # nothing journaled: whose cancel it was stays what the stamp says (if the row
            # comes back, the import's own cancel is undone, a person's is a conflict)
            return replace(row, status=REMOVED_GONE, message=_("cancelled already"))
        if not self.options.cancel_removed or self.stop.is_set():
            return replace(
                row, message=_("no longer in the file; kept (--cancel-removed cancels it)")
            )
        if removed.held:
            return replace(
                row, message=_("no longer in the file; kept: {why}").format(why=removed.held)
            )
        if prior.condition in (CHANGED, UNSURE) and not self.options.force:
            return replace(
                row,
                status=CONFLICT,
                message=_(
                    "changed in onOffice since the import's last write; not cancelled (use --force)"
                ),
            )
        try:
            self.client.modify_appointment(appointment, self._cancelling(prior))
            self.journal.undone(appointment, CANCELED_REMOVED)
        except ActionRefused as exc:
            return replace(row, status=FAILED, message=exc.server_message or str(exc))
        except (ApiError, JournalError) as exc:  # cancelling again is harmless: run again
            return replace(row, status=FAILED, message=_("{error}; run again").format(error=exc))
        return replace(row, status=CANCELED, message=_("no longer in the file; cancelled"))

    def _cancelling(self, prior: Prior) -> dict[str, Any]:
        """The modify that cancels an appointment of the list and stamps it so."""
        found = prior.found
        assert found is not None
        if not self.use_reference:
            return {"data": {"status": "canceled"}}
        at = int(self.client.server_now())
        return {"data": restamped(found, cancelled=True, run=self.signature.run, at=at)}

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

    def _journal(self, record: Callable[..., None], key: Any, *value: Any) -> None:
        """An outcome into the journal; if the disk is full, the run stops (nothing more sent),
        and what onOffice did is still found later by the row's stamp."""
        try:
            record(key, *value)
        except JournalError as exc:
            self.halt(str(exc), ExitCode.STOPPED)

    def settle(self, step: Step, params: dict[str, Any], resend: int = 0) -> RowResult:
        """Read back; adopt the row's appointment if it is there; send again only when it is
        proven absent ``resend_after`` seconds after the last attempt, or at once after a 503
        (``resend``: the attempts made so far)."""
        row, key = step.row, step.key
        try:
            # What the earlier attempt sent is looked for (its days: the row may have been
            # edited since); the row's content now is written afterwards.
            entry = self.journal.entry(key)
            # Ids other rows own, and ids undo removed or cancelled: never this row's now.
            taken = self.journal.claimed_ids() | set(self.journal.undone_ids())
        except JournalError as exc:  # the disk: stop; the next run reads the row back
            self.halt(str(exc), ExitCode.STOPPED)
            return RowResult(row, UNKNOWN, error=_(STOPPED_UNSETTLED))
        sent = entry.payload if entry is not None else self.payload(step, params)
        intent_at = entry.intent_at if entry is not None else None
        ref = reference(key) if self.use_reference else None
        try:
            found = find_created(self.client, sent, intent_at, taken, ref)
        except (AuthenticationError, ClockError) as exc:
            self.halt(str(exc), ExitCode.CONFIGURATION)
            return RowResult(
                row,
                UNKNOWN,
                error=_("outcome unknown, read-back refused: {error}").format(error=exc),
            )
        except ApiError as exc:
            if resend:  # a 503 whose read-back failed too: read again later in this run
                self._later(step, params, False, resend)
            return RowResult(
                row,
                UNKNOWN,
                error=_("outcome unknown, read-back failed: {error}; {when}").format(
                    error=exc, when=self.settle_when(intent_at)
                ),
            )
        if found.appointment_id is not None:
            self._journal(self.journal.created, key, found.appointment_id)
            if entry is not None and _content(step, params) != (entry.content or ""):
                try:
                    settled = self.journal.entry(key)  # edited meanwhile: written now
                except JournalError as exc:  # the next run writes the row's new content
                    self.halt(str(exc), ExitCode.STOPPED)
                    return RowResult(row, CREATED, appointment_id=found.appointment_id)
                prior = Prior(found.appointment_id, found.appointment, None, settled, INTACT, True)
                return self.update(replace(step, prior=prior, ref=ref or ""), params)
            return RowResult(row, CREATED, appointment_id=found.appointment_id)
        return self._not_found(step, params, found, intent_at, resend)

    def _not_found(
        self,
        step: Step,
        params: dict[str, Any],
        found: Any,
        intent_at: str | None,
        resend: int,
    ) -> RowResult:
        """A row whose appointment the read-back did not find: sent again only when it is
        proven absent and may no longer be on its way."""
        row = step.row
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
            self._journal(self.journal.failed, step.key, "HTTP 503 at every attempt")
            return RowResult(
                row,
                FAILED,
                error=_("onOffice declined it {n} times (HTTP 503); run again").format(n=resend),
            )
        if not resend and _age_seconds(intent_at) < self.options.resend_after:
            return RowResult(
                row,
                UNKNOWN,
                error=_(
                    "outcome unknown: not in onOffice yet, but it may still be on its way; {when} "
                    "(it is sent again then only if it is still absent)"
                ).format(when=self.settle_when(intent_at)),
            )
        if self.stop.is_set():
            return RowResult(row, UNKNOWN, error=_(STOPPED_UNSETTLED))
        return self.send(step, params, attempts=resend)

    def settle_when(self, intent_at: str | None) -> str:
        """When the next run can settle a row sent at ``intent_at``, in the user's words."""
        if not intent_at:
            return _("run again to settle it")
        sent = datetime.strptime(intent_at, contract.DATETIME_FORMAT).replace(tzinfo=UTC)
        ready = sent + timedelta(seconds=self.options.resend_after)
        if ready <= datetime.now(UTC):
            return _("run again to settle it")
        local = ready.astimezone(ZoneInfo(contract.LOCAL_TIMEZONE)).replace(tzinfo=None)
        return _("run again from {time} on to settle it").format(time=when(local))


def _shown(prior: Prior) -> tuple[str, str]:
    """Subject and start of an appointment, as read (or as this computer last wrote it)."""
    if prior.found is not None:
        return prior.found.subject, min(prior.found.starts, default="")
    data = prior.entry.payload.get("data", {}) if prior.entry is not None else {}
    return str(data.get("description") or ""), str(data.get("start_dt") or "")


def _age_seconds(intent_at: str | None) -> float:
    """Seconds since a journal timestamp (UTC); infinite when there is none."""
    if not intent_at:
        return float("inf")
    moment = datetime.strptime(intent_at, contract.DATETIME_FORMAT).replace(tzinfo=UTC)
    return (datetime.now(UTC) - moment).total_seconds()


def _content(step: Step, params: dict[str, Any]) -> str:
    """The fingerprint of the row's parameters: the check computed it and the plan hands it on
    in its step; only a step made outside a plan (a test's) has it computed here."""
    return step.content or fingerprint(params)
