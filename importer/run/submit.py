"""Import a file: plan every row against what onOffice holds of the list, then send.

    report = importer.run_import("viewings.xlsx", "mappings/viewings.yaml", client=client)

A run proves the credentials and the clock (:func:`preflight`), checks the file (the dry run of
:mod:`importer.rules.check`), reads what onOffice holds of the list and the rows' days
(:mod:`importer.run.state`), plans each row once (:mod:`importer.run.identity`) and checks it for
double bookings against that calendar, then hands the rows to a
:class:`~importer.run.runner.Runner` in worker threads (``workers``, default 1), looking for
changes made elsewhere before each batch (:mod:`importer.run.watch`), and settles lost answers at
the end. The caller's thread only waits, so a Ctrl-C there stops new requests while in-flight
ones finish. The statuses a row can end with are listed in :mod:`importer.run.runner`;
:func:`planned_check` is the same plan without sending.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import random
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from ..core import contract
from ..core.errors import (
    ActionRefused,
    ApiError,
    AuthenticationError,
    ClockError,
    ExitCode,
    JournalError,
)
from ..core.excel import APPOINTMENT_ID, SOURCE_ROW, STATUS, status_value
from ..core.i18n import N_, _, ngettext
from ..core.problems import Level, RowProblem, joined_problems
from ..core.stopping import phase
from ..mapping.spec import Mapping
from ..onoffice.account import read_shape_lines, survey
from ..onoffice.client import OnOfficeClient
from ..onoffice.form import MEMO_KEY, memo, normalised, recall
from ..onoffice.learned import LEDGER_KEY, Learned
from ..onoffice.readback import Appointment
from ..onoffice.reference import list_name as name_of
from ..onoffice.reference import list_tag, read_stamp, reference
from ..rules.check import CheckReport, RowOutcome, add_problems, check, confirm_types, prepare
from ..rules.conflicts import in_calendar
from ..source.load import LoadOptions, Table
from . import identity
from . import journal as jr
from .identity import Candidate, Loose, Step
from .journal import Entry, Journal, ledger_path
from .runner import (
    ALREADY,
    AMBIGUOUS,
    CONFLICT,
    CREATED,
    IMPORTED,
    INVALID,
    NOT_SENT,
    UNKNOWN,
    Earlier,
    RemovedRow,
    RowResult,
    Runner,
    RunOptions,
    RunReport,
    Signature,
    Status,
    filled,
    kept_fields,
    kept_words,
)
from .settle import find_references
from .state import Prior, State, Wanted, condition, read_state
from .watch import Watch

# What a caller of run_import needs, wherever it is defined.
__all__ = [
    "RemovedRow",
    "RowResult",
    "RunOptions",
    "RunReport",
    "earlier_outcomes",
    "planned_check",
    "preflight",
    "run_import",
    "split_outcomes",
]

MAX_WORKERS = 16
# Rows sent between two looks for changes made elsewhere (importer/run/watch.py): a look before
# each of the first batches, so that two runs that start together see each other soon (the one
# that wrote later gives way), and before every batch while another run writes the list. A run
# that starts later sees this one in its first look and gives way from the start, so looks
# later on would find nothing new: a look returns everything edited since the one before, this
# run's own creates too, and costs a request per 500.
FIRST_BATCH = 1
LARGEST_BATCH = 64
LOOKED_BATCH = 4  # per worker, where each batch's rows are looked for by reference
EARLY_LOOKS = 5
Progress = Callable[[int, int, Counter[str]], None]
Stage = Callable[[str, int, int], None]  # a step of its own: its words, done, of
LAST_LOOK = N_("a last look in onOffice for rows another import created at the same time")


def split_outcomes(table: Table) -> Earlier:
    """The outcomes of an earlier results workbook given as input (the loader has set its
    outcome columns aside already: :attr:`Table.outcomes`)."""
    return earlier_outcomes(table)


def earlier_outcomes(table: Table) -> Earlier:
    """The outcome columns of an earlier results workbook given as input (read only)."""
    frame = table.outcomes
    if frame is None or table.own != "results":
        return {}
    status, ids, rows = (frame[h] for h in (STATUS, APPOINTMENT_ID, SOURCE_ROW))
    earlier: Earlier = {}
    for row, state, appointment, source_row in zip(frame.index, status, ids, rows, strict=True):
        appointment_id = int(appointment) if isinstance(appointment, int | float) else None
        original = int(source_row) if isinstance(source_row, int | float) else int(row)
        earlier[int(row)] = (status_value(state), appointment_id, original)
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
    list_name: str | None = None,
    stage: Stage | None = None,
) -> RunReport:
    """Import ``source`` (a spreadsheet, or a results workbook of an earlier run).

    ``progress`` is told the rows handled; ``stage`` a longer step after them with a count of
    its own (the last look in onOffice for rows another run created at the same time: the
    web app shows it instead of a count that stands at its end for minutes).

    ``journal_path`` defaults to the account's ledger (:func:`importer.run.journal.ledger_path`).
    ``list_name``: the name the list is known by on every computer (default: the file's name,
    :func:`importer.onoffice.reference.list_name`; a results workbook keeps its list's).
    Raises :class:`~importer.core.errors.ImporterError` before anything is sent (unusable input,
    credentials, clock); afterwards every outcome is in the report, also when stopped early.
    """
    options = options or RunOptions()
    stop = stop or threading.Event()
    started = now or contract.local_now()

    def stopped_before() -> RunReport:  # stopped before any write: every row's outcome still
        checked = check(source, mapping, now=started, prepared=prepared, strict=options.strict)
        return interrupted_before(checked, client, started)

    try:
        prepared = prepare(source, mapping, load_options)  # a refused file costs no API call
    except KeyboardInterrupt:  # stopped while reading: read once more, for the results
        prepared = prepare(source, mapping, load_options)
        return stopped_before()
    try:
        refused, account = _preflight_failure(client)
    except KeyboardInterrupt:
        return stopped_before()
    if refused or account is None:
        checked = check(source, mapping, now=started, prepared=prepared, strict=options.strict)
        return _not_sent(checked, client, started, refused or ("no account", ExitCode.STOPPED))
    path = Path(journal_path) if journal_path is not None else ledger_path(account)
    # with stamps in onOffice, what a power cut takes from the ledger is read back from there
    power_safe = not prepared[0].options.reference
    try:
        opened = Journal(path, account, power_safe=power_safe)
    except KeyboardInterrupt:  # stopped while the ledger opens: nothing written yet
        return stopped_before()
    with opened as journal:
        run = _Run(source, prepared, client, journal, options, stop, started, list_name, stage)
        run.load = load_options
        report = run.go(progress)
        report.account = account
    _say_kept(report)
    report.finished = contract.local_now()
    return report


def _say_kept(report: RunReport) -> None:
    """Once for the run (on screen, in the Summary): the rows whose appointment keeps what
    the file does not set, which the API cannot remove; each row says it in the results."""
    rows = sorted(r.row for r in report.results.values() if r.kept)
    if not rows:
        return
    kept = dict.fromkeys(
        k for r in sorted(report.results.values(), key=lambda r: r.row) for k in r.kept
    )
    shown = ", ".join(map(str, rows[:10])) + (" …" if len(rows) > 10 else "")
    report.notices.append(
        ngettext(
            "row {rows}: onOffice keeps {fields}, which the file does not set and the onOffice "
            "API has no way to remove; remove it in onOffice by hand",
            "rows {rows}: onOffice keeps {fields}, which the file does not set and the onOffice "
            "API has no way to remove; remove it in onOffice by hand",
            len(rows),
        ).format(rows=shown, fields=kept_words(list(kept)))
    )


def _not_sent(
    checked: CheckReport, client: OnOfficeClient, started: datetime, why: tuple[str, ExitCode]
) -> RunReport:
    """Nothing is sent; every row still gets an outcome in the results."""
    report = RunReport(checked, {}, client.url, started, earlier=split_outcomes(checked.table))
    report.stopped, report.stop_code = why
    for o in checked.outcomes:
        status, error = (NOT_SENT, why[0]) if o.valid else (INVALID, joined_problems(o.errors))
        report.results[o.row] = RowResult(o.row, status, error=error)
    report.finished = contract.local_now()
    return report


def interrupted_before(
    checked: CheckReport, client: OnOfficeClient, started: datetime, report: RunReport | None = None
) -> RunReport:
    """A run stopped (Ctrl-C, SIGTERM) before it wrote anything, or between its writes: the
    results of what was sent (``report``'s), every other row said so."""
    if report is None:
        earlier = split_outcomes(checked.table)
        report = RunReport(checked, {}, client.url, started, earlier=earlier)
    report.interrupted = True
    for o in report.check.outcomes:
        if o.row not in report.results:
            status, error = (
                (NOT_SENT, _("interrupted before it was sent; run again"))
                if o.valid
                else (INVALID, joined_problems(o.errors))
            )
            report.results[o.row] = RowResult(o.row, status, error=error)
    report.finished = contract.local_now()
    return report


# --- the plan, for a run and for a check ---------------------------------------------------------
@dataclass
class Reconciled:
    """A file checked against what onOffice holds of its list: the state, and the plan."""

    state: State
    plan: identity.Plan
    candidates: dict[int, Candidate]


# Said where the account's reads of the rows' days do not show participants (issue 30).
AGENTS_UNSEEN = N_(
    "double bookings of agents were not checked: this onOffice account's reads do not show an"
    " appointment's participants"
)


def reconcile(
    client: OnOfficeClient,
    checked: CheckReport,
    entries: dict[str, Entry],
    *,
    list_name: str,
    run: str,
    earlier: Earlier,
    options: RunOptions,
    beside: dict[int, frozenset[int]] | None = None,
    deleted: frozenset[int] = frozenset(),
) -> Reconciled:
    """Read what onOffice holds of the list and the rows' days; add the double bookings against
    that calendar to the rows (errors with ``strict``); plan every valid row. API errors
    propagate: nothing may be planned on a partial view. ``beside``: invalid rows that were
    invalid as they are at this computer's last run of the list, and the appointments whose
    rows stood beside them then (:func:`invalid_record`). ``deleted``: the appointments this
    computer's ledger says are deleted (:attr:`~importer.run.state.Wanted.deleted`)."""
    beside = beside or {}
    outcomes = checked.outcomes
    valid = [o for o in outcomes if o.valid and o.parameters is not None]
    named = [before[1] for before in earlier.values() if before[1] is not None]
    written = {o.fingerprint[:12]: o.parameters for o in valid if o.fingerprint and o.parameters}
    payloads = [o.parameters for o in valid if o.parameters]
    wanted = Wanted(list_name, run, payloads, entries, named, written=written, deleted=deleted)
    state = read_state(client, wanted)
    if state.unseen:
        checked.notices.append(state.unseen)
    if checked.learned is not None:  # the account lists no types: what it showed and took
        took_in(entries, checked.learned)
        confirm_types(checked, [*state.calendar, *(p.found for p in state.priors)])
    plan = _plan(outcomes, state, entries, earlier, options, beside)
    refused, unchecked = rights(client, plan, checked)
    if unchecked:
        checked.notices.append(unchecked)
    if refused:
        add_problems(outcomes, refused)  # those rows are invalid now: planned again
        plan = _plan(outcomes, state, entries, earlier, options, beside)
        valid = [o for o in outcomes if o.valid and o.parameters is not None]
    own = {p.appointment_id for p in state.priors if p.ours}
    own |= {s.prior.appointment_id for s in plan.steps.values() if s.prior is not None}
    calendar = [a for a in state.calendar if a.series not in own]
    rows = [(o.row, o.parameters) for o in valid if o.parameters is not None]
    level = Level.ERROR if options.strict else Level.WARNING
    found = in_calendar(rows, calendar, checked.sources, level)
    add_problems(outcomes, found)
    if any("participants" in a.unseen for a in calendar):
        checked.notices.append(_(AGENTS_UNSEEN))
    if not state.complete:
        checked.notices.append(
            _(
                "onOffice could not show every appointment of the rows' days (more than 500 on "
                "one day, or this server lists only some): double bookings may be missing"
            )
        )
    if not state.list_complete:
        checked.notices.append(
            _(
                "onOffice could not show every appointment of this list (its users cannot be "
                "listed, or a period holds more than 500): appointments of deleted rows may not "
                "be listed as removed"
            )
        )
    if options.strict and any(p.is_error for p in found):  # those rows are invalid now
        plan = _plan(outcomes, state, entries, earlier, options, beside)
    candidates = {c.row: c for c in _candidates(outcomes, earlier)}
    checked.account = survey(client, seen=state.calendar)  # the Summary's account report
    return Reconciled(state, plan, candidates)


def rights(
    client: OnOfficeClient, plan: identity.Plan, checked: CheckReport
) -> tuple[list[RowProblem], str]:
    """Rows the API user has no right to write (§6.7, `contract.py` says how the call is read):
    a create for agents whose appointments it may not create, an update of an appointment it
    may not modify; said per row before anything is sent. And, where onOffice does not answer,
    why the rights were not checked."""
    by_row = {o.row: o for o in checked.outcomes}
    creates: dict[int, list[int]] = {}
    updates: dict[int, int] = {}
    for row, step in plan.steps.items():
        params = by_row[row].parameters or {}
        if step.action == identity.CREATE:
            agents = (params.get("subscribers") or {}).get("users") or []
            creates[row] = [a for a in agents if isinstance(a, int)]
        elif step.action == identity.UPDATE and step.prior is not None:
            updates[row] = step.prior.appointment_id
    if not creates and not updates:
        return [], ""
    user = client.user_id
    if user is None:
        return [], _("the rights were not checked against onOffice: the API user is not known")
    agents = sorted({a for ids in creates.values() for a in ids})
    try:
        may_create = (
            client.rights("create", contract.CALENDAR_MODULE, user, agents) if agents else set()
        )
        ids = sorted(set(updates.values()))
        may_modify = client.rights("modify", contract.CALENDAR_MODULE, user, ids) if ids else set()
    except ActionRefused as exc:
        why = _("the rights were not checked against onOffice: it does not answer ({why})")
        return [], why.format(why=exc)
    columns = checked.sources.get("subscribers.users", ())
    problems = []
    names = _user_names(client)
    for row, wanted in creates.items():
        missing = [a for a in wanted if a not in may_create]
        if missing:
            message = _(
                "the API user may not create appointments for {agents} in onOffice (a right is "
                "missing); ask for it, or give the row another agent"
            ).format(agents=", ".join(names.get(a, str(a)) for a in missing))
            problems.append(RowProblem(row, columns, "no-right", message, None, Level.ERROR))
    for row, appointment in updates.items():
        if appointment not in may_modify:
            message = _(
                "the API user may not change appointment {id} in onOffice (a right is "
                "missing); ask for it"
            ).format(id=appointment)
            problems.append(RowProblem(row, columns, "no-right", message, None, Level.ERROR))
    return problems, ""


def _user_names(client: OnOfficeClient) -> dict[int, str]:
    """User ids -> user names, for messages (empty where they cannot be had)."""
    try:
        records = client.get_users()
    except ApiError:
        return {}
    out = {}
    for r in records:
        e = contract.as_map(r.elements)
        n = contract.record_id(e.get("id", r.id))
        if isinstance(n, int):
            out[n] = str(e.get("username") or n)
    return out


def _candidates(outcomes: Iterable[RowOutcome], earlier: Earlier) -> list[Candidate]:
    return [
        Candidate(o.row, o.fingerprint, o.identity, before[2], before[1], o.parameters)
        for o in outcomes
        if o.fingerprint is not None and o.parameters is not None
        for before in [earlier.get(o.row, (None, None, o.row))]
    ]


def _plan(
    outcomes: list[RowOutcome],
    state: State,
    entries: dict[str, Entry],
    earlier: Earlier,
    options: RunOptions,
    beside: dict[int, frozenset[int]],
) -> identity.Plan:
    loose = [
        Loose(
            o.row,
            o.identity,
            o.partial or {},
            frozenset(p.field for p in o.errors if p.field),
            beside.get(o.row, frozenset()),
        )
        for o in outcomes
        if not o.valid or o.parameters is None
    ]
    return identity.plan(
        _candidates(outcomes, earlier),
        state.priors,
        state.by_ref,
        entries,
        loose=loose,
        allow_duplicates=options.allow_duplicates,
        force=options.force,
        choices=options.choices,
    )


PLAN_WORDS = {  # what the check's Plan column says of each action
    identity.CREATE: "create",
    identity.UPDATE: "update",
    identity.UNCHANGED: "unchanged",
    identity.SETTLE: "settle",
    identity.DUPLICATE: "duplicate",
    identity.CONFLICT: "conflict",
    identity.AMBIGUOUS: "ambiguous",
    identity.HOLD: "hold",
}


def planned_check(
    client: OnOfficeClient,
    source: str | Path,
    prepared: tuple[Mapping, Table],
    *,
    journal_path: str | Path | None = None,
    allow_duplicates: bool = False,
    strict: bool = False,
    load_options: LoadOptions | None = None,
    list_name: str | None = None,
    choices: dict[int, int | None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CheckReport:
    """The dry run against this account, with its plan: look-ups, what onOffice holds of the
    list (read only), double bookings against its calendar, and ``plan`` filled with what a run
    would do per row (with the appointments it would update, and why not where it would not).
    No report is written. When onOffice cannot be read, a mapping without look-ups is still
    checked and a notice says that the plan is not known; one with look-ups raises
    :class:`~importer.core.errors.NotDelivered` (its values cannot be checked)."""
    options = RunOptions(allow_duplicates=allow_duplicates, strict=strict, choices=choices or {})
    unknown = ""
    learned = None
    try:
        account = client.account()
        path = Path(journal_path) if journal_path is not None else ledger_path(account)
        entries, meta = jr.snapshot(path, account)
        deleted = jr.deleted_in(path)
        learned = Learned.loads(meta.get(LEDGER_KEY))
    except ApiError as exc:
        unknown = str(exc)
    checked = check(
        source,
        prepared[0],
        api=client,
        load_options=load_options,
        strict=strict,
        prepared=prepared,
        learned=learned,
        progress=progress,
    )
    if unknown:
        checked.notices.append(_("what a run would do is not known ({why})").format(why=unknown))
        return checked
    try:
        earlier = earlier_outcomes(checked.table)
        name = checked.list_name = list_name or _list_name(Path(source), checked.table)
        recall(client, meta.get(MEMO_KEY))
        done = reconcile(
            client,
            checked,
            entries,
            list_name=name,
            run=secrets.token_hex(4),
            earlier=earlier,
            options=options,
            beside=_beside(checked, meta.get(invalid_key(name))),
            deleted=deleted,
        )
    except ApiError as exc:
        checked.notices.append(_("what a run would do is not known ({why})").format(why=exc))
        return checked
    fill_plan(checked, done)
    return checked


def took_in(entries: dict[str, Entry], learned: Learned) -> None:
    """The types of the appointments the import created: the account took them."""
    for entry in entries.values():
        art = (entry.payload.get("data") or {}).get(contract.TYPE_FIELD)
        if entry.state == jr.CREATED and isinstance(art, str):
            learned.took(art)


def learn_from(report: RunReport, learned: Learned) -> None:
    """The types a run's writes were taken with, and those onOffice refused (a refusal that
    names `art`, :mod:`importer.rules.refusals`)."""
    sent = {o.row: o.parameters for o in report.check.outcomes}
    for row, result in report.results.items():
        art = ((sent.get(row) or {}).get("data") or {}).get(contract.TYPE_FIELD)
        if not isinstance(art, str):
            continue
        if result.status in (Status.CREATED, Status.UPDATED):
            learned.took(art)
        elif result.status == Status.FAILED and any(
            p.field == contract.TYPE_FIELD for p in result.problems
        ):
            learned.refused_with(art, result.answer or result.error or "?")


def fill_plan(checked: CheckReport, done: Reconciled) -> None:
    """The check report's Plan column, the notes beside it, and the plan's questions."""
    plan = done.plan
    checked.plan = {row: PLAN_WORDS[step.action] for row, step in plan.steps.items()}
    checked.plan_removed = len(plan.removed)
    checked.plan_notes = {row: plan_note(step) for row, step in plan.steps.items()}
    sent = {o.row: o.parameters for o in checked.outcomes}
    mapped = filled(checked)
    for row, step in plan.steps.items():  # what the run would say stays in onOffice
        if step.prior is None or step.action not in (identity.UPDATE, identity.UNCHANGED):
            continue
        entry = step.prior.entry if step.action == identity.UPDATE else None
        kept = kept_fields(entry, sent.get(row) or {}, step.prior.found, mapped)
        if kept:
            stays = _("{fields} stays in onOffice: the onOffice API has no way to remove it")
            said = stays.format(fields=kept_words(kept))
            checked.plan_notes[row] = "; ".join(filter(None, (checked.plan_notes[row], said)))
    checked.questions = [(q.rows, q.appointments) for q in plan.questions]
    asked = {a for q in plan.questions for a in q.appointments}
    checked.asked_about = {
        p.appointment_id: described(p.found)
        for p in done.state.priors
        if p.appointment_id in asked and p.found is not None
    }


def described(found: Appointment) -> str:
    """An appointment in the words of its row: "Besichtigung AC-1042, 01.03.2027 10:00"."""
    # the first reading is the documented one, in local time (appointmentList gives two)
    start = found.readings[0][0] if found.readings else min(found.starts, default="")
    when = f"{start[8:10]}.{start[5:7]}.{start[:4]} {start[11:16]}" if start else ""
    return ", ".join(part for part in (found.subject, when) if part)


def plan_note(step: Step) -> str:
    """What the plan says of a row beyond its action, in the user's words."""
    if step.note:
        return step.note
    if step.prior is None:
        return ""
    appointment = step.prior.appointment_id
    if step.action == identity.UPDATE and step.changed:
        words = ", ".join(_(_ASPECT_WORDS[a]) for a in step.changed if a in _ASPECT_WORDS)
        return _("appointment {id} (changed: {what})").format(id=appointment, what=words)
    return _("appointment {id}").format(id=appointment)


_ASPECT_WORDS = {  # what changed in a row found by its place or likeness
    "day": N_("the day"),
    "time": N_("the time"),
    "property": N_("the property"),
    "contacts": N_("the contacts"),
    "agents": N_("the agents"),
    "subject": N_("the subject"),
    "type": N_("the type"),
    "note": N_("the note"),
    "resources": N_("the resources"),
}


def _list_name(source: Path, table: Table) -> str:
    """The list a file belongs to: our workbooks (results, check report) say it in their
    Summary."""
    return (table.own is not None and table.results_list) or name_of(source)


# --- a run ---------------------------------------------------------------------------------------
class _Run:
    """One run of one file (see the module's doc)."""

    def __init__(
        self,
        source: str | Path,
        prepared: tuple[Mapping, Table],
        client: OnOfficeClient,
        journal: Journal,
        options: RunOptions,
        stop: threading.Event,
        started: datetime,
        list_name: str | None,
        stage: Stage | None = None,
    ) -> None:
        self.source, self.prepared, self.client = Path(source), prepared, client
        self.journal, self.options, self.stop, self.started = journal, options, stop, started
        self.list_name, self.stage = list_name, stage
        self.run = secrets.token_hex(4)
        self.workers = max(1, min(options.workers, MAX_WORKERS))
        self.checked: CheckReport | None = None  # the file checked with the look-ups
        self.report: RunReport | None = None  # the run's report, once there is one
        self.load: LoadOptions | None = None  # the sheet and header row asked for

    def go(self, progress: Progress | None) -> RunReport:
        """The run; stopped (Ctrl-C, SIGTERM) at any point, the results of what was sent."""
        try:
            return self._go(progress)
        except KeyboardInterrupt:  # before the first write, or around the sending
            checked = self.checked or check(
                self.source,
                self.prepared[0],
                now=self.started,
                prepared=self.prepared,
                strict=self.options.strict,
            )
            report = interrupted_before(checked, self.client, self.started, self.report)
            report.journal_path = self.journal.path
            report.list_name = report.list_name or self.list_name or name_of(self.source)
            return report

    def _record(self, name: str, mapping: Mapping) -> None:
        """Where the results go, in the ledger (before anything is sent: the import is in
        History whatever happens next)."""
        assert self.options.results is not None
        load, journal = self.load, self.journal
        journal.recorded(
            jr.ImportRecord(
                str(Path(self.options.results).resolve()),
                name,
                None if journal.derived else journal.input,
                mapping.text,
                mapping.path.stem,
                str(load.sheet) if load is not None and load.sheet is not None else None,
                load.header_row if load is not None else None,
            )
        )

    def _go(self, progress: Progress | None) -> RunReport:
        source, prepared, client, options = self.source, self.prepared, self.client, self.options
        mapping = prepared[0]
        checked = self._checked()
        if isinstance(checked, RunReport):  # the look-ups failed: nothing sent, still results
            return checked
        earlier = split_outcomes(checked.table)
        self.checked = checked
        report = self.report = RunReport(
            checked, {}, client.url, self.started, journal_path=self.journal.path, earlier=earlier
        )
        name = self.list_name or _list_name(source, checked.table)
        report.list_name = name
        journal = self.journal
        journal.input, journal.list, journal.derived = str(source.resolve()), name, bool(earlier)
        journal.set_meta("last_input", journal.input)
        journal.set_meta("last_input_sha256", checked.source_sha256)
        if options.results:
            self._record(name, mapping)
        recall(client, journal.get_meta(MEMO_KEY))
        try:
            done = reconcile(
                client,
                checked,
                journal.entries(),
                list_name=name,
                run=self.run,
                earlier=earlier,
                options=options,
                beside=_beside(checked, journal.get_meta(invalid_key(name))),
                deleted=jr.deleted(journal.undone_ids()),
            )
        except (ApiError, JournalError) as exc:  # without it, rows could be doubled
            for o in checked.outcomes:
                status = NOT_SENT if o.valid else INVALID
                error = _("not checked: {error}").format(error=exc) if o.valid else None
                report.results[o.row] = RowResult(
                    o.row, status, error=error or joined_problems(o.errors)
                )
            report.stopped = _(
                "onOffice could not be asked which rows exist already ({error})"
            ).format(error=exc)
            report.stop_code = exc.exit_code
            return report
        report.existence_reads = done.state.reads
        report.questions = done.plan.questions
        fill_plan(checked, done)
        self._seen(done.plan, done.state.priors)
        use_reference = mapping.options.reference
        signature = Signature(list_tag(name), self.run)
        runner = Runner(client, journal, options, self.stop, report, signature, use_reference)
        work = _sort(checked.outcomes, done, earlier, journal.undone_ids(), options, runner)
        earlier_runs = (journal.get_meta("runs") or "").split()
        with contextlib.suppress(JournalError):  # a hint: the next run need not wait for this
            journal.set_meta("runs", " ".join([*earlier_runs, self.run][-500:]))
        ended = set(earlier_runs)
        watch = Watch.of(client, done.state, self.run, ended) if use_reference else None
        _Sending(runner, work, done, watch, self.workers, progress, self.stage).go()
        _unfinished(report, work)
        if watch is not None:
            report.existence_reads += watch.reads
        with contextlib.suppress(JournalError):  # the next run then holds back, to be safe
            journal.set_meta(invalid_key(name), invalid_record(report))
        if learned := memo(client):  # how the account shows and takes its writes
            with contextlib.suppress(JournalError):  # learned again next time
                journal.set_meta(MEMO_KEY, learned)
        if checked.account is not None:  # the Summary says what the run learned too
            checked.account.shape = read_shape_lines(client, done.state.calendar)
        if checked.learned is not None:
            learn_from(report, checked.learned)
            with contextlib.suppress(JournalError):  # relearned by the next run's reads
                journal.set_meta(LEDGER_KEY, checked.learned.dumps())
        return report

    def _checked(self) -> CheckReport | RunReport:
        """The file checked with the account's look-ups; where they fail, the report of a run
        that sent nothing."""
        source, prepared, options = self.source, self.prepared, self.options
        learned = Learned.loads(self.journal.get_meta(LEDGER_KEY))
        if options.retry_refused:  # tried again; what onOffice answers now is kept
            learned.refused.clear()
        try:
            return check(
                source,
                prepared[0],
                api=self.client,
                now=self.started,
                prepared=prepared,
                strict=options.strict,
                learned=learned,
            )
        except ApiError as exc:
            checked = check(
                source,
                prepared[0],
                now=self.started,
                prepared=prepared,
                strict=options.strict,
            )
            why = (f"look-ups failed: {exc}", exc.exit_code)
            return _not_sent(checked, self.client, self.started, why)

    def _seen(self, plan: identity.Plan, priors: Sequence[Prior]) -> None:
        """Where this computer's known rows stand now (a re-sorted file): it pairs by place."""
        if self.journal.derived:
            return
        moved = [
            (step.prior.entry.fingerprint, row)
            for row, step in plan.steps.items()
            if step.action == identity.UNCHANGED
            and step.prior is not None
            and step.prior.entry is not None
            and step.prior.entry.source_row != row
        ]
        # an invalid row's appointment, kept for it, stands where the row stands now
        entries = {p.appointment_id: p.entry for p in priors if p.entry is not None}
        moved += [
            (entry.fingerprint, row)
            for appointment, row in plan.kept_for.items()
            if (entry := entries.get(appointment)) is not None and entry.source_row != row
        ]
        with contextlib.suppress(JournalError):  # a hint for pairing: nothing is lost without it
            self.journal.seen(moved)


def _unfinished(report: RunReport, work: _Work) -> None:
    """Rows the run did not get to (stopped, interrupted): said so, never left out."""
    for step, _params in work.settle:
        report.results.setdefault(
            step.row, RowResult(step.row, UNKNOWN, error=_("not settled: the run stopped first"))
        )
    for step, _params in work.send:
        report.results.setdefault(
            step.row, RowResult(step.row, NOT_SENT, error=report.stopped or _("interrupted"))
        )


def invalid_key(list_name: str) -> str:
    """The ledger's meta key of what the last run of a list knew of its invalid rows."""
    return f"invalid-rows:{list_name}"


def invalid_record(report: RunReport) -> str:
    """What the next run needs to tell an invalid row that was invalid already from one that
    broke since: the invalid rows' cells, and the appointments of the valid rows beside them."""
    raw = _raw(report.check)
    invalid = sorted({raw[o.row] for o in report.check.outcomes if not o.valid})
    present = sorted(
        {r.appointment_id for r in report.results.values() if r.appointment_id is not None}
    )
    return json.dumps({"invalid": invalid, "present": present})


def _raw(checked: CheckReport) -> dict[int, str]:
    return {
        row: hashlib.sha256(repr(cells).encode()).hexdigest()[:16]
        for row, cells in checked.table.records()
    }


def _beside(checked: CheckReport, record: str | None) -> dict[int, frozenset[int]]:
    """Invalid rows that were invalid as they are at the last run (:func:`invalid_record`)."""
    if not record:
        return {}
    try:
        last = json.loads(record)
        invalid, present = set(last["invalid"]), frozenset(int(n) for n in last["present"])
    except (ValueError, KeyError, TypeError):
        return {}
    raw = _raw(checked)
    return {o.row: present for o in checked.outcomes if not o.valid and raw[o.row] in invalid}


class RowWork(NamedTuple):
    """A row a run settles or sends: its step of the plan, and the parameters it sends."""

    step: Step
    params: dict[str, Any]


@dataclass
class _Work:
    """The rows a run settles and sends (creates and updates)."""

    settle: list[RowWork] = field(default_factory=list)
    send: list[RowWork] = field(default_factory=list)


def _sort(
    outcomes: list[RowOutcome],
    done: Reconciled,
    earlier: Earlier,
    undone: dict[int, str],
    options: RunOptions,
    runner: Runner,
) -> _Work:
    """Each row to its work, or straight to its result when nothing is to be sent."""
    report = runner.report
    work = _Work()
    updates: list[RowWork] = []
    creates: list[RowWork] = []
    for outcome in outcomes:
        row = outcome.row
        step = done.plan.steps.get(row)
        if not outcome.valid or outcome.parameters is None or step is None:
            report.results[row] = RowResult(row, INVALID, error=joined_problems(outcome.errors))
            continue
        params = outcome.parameters
        appointment = step.prior.appointment_id if step.prior is not None else None
        before = earlier.get(row, (None, None, row))
        if step.action == identity.DUPLICATE:
            report.results[row] = RowResult(
                row,
                NOT_SENT,
                error=_(
                    "the same appointment as row {row} (use --allow-duplicates to send it)"
                ).format(row=step.same_as),
            )
        elif step.action == identity.CONFLICT:
            report.results[row] = RowResult(row, CONFLICT, appointment, step.note)
        elif step.action == identity.AMBIGUOUS:
            report.results[row] = RowResult(row, AMBIGUOUS, None, step.note)
        elif step.action == identity.HOLD:
            report.results[row] = RowResult(row, NOT_SENT, appointment, step.note)
        elif step.action == identity.UNCHANGED:
            report.results[row] = runner.keep(step, params)
        elif (
            options.only_failed
            and before[0] in IMPORTED
            and before[1] not in undone  # undo removed it: the workbook's word is stale
            and step.action != identity.SETTLE
        ):
            report.results[row] = RowResult(row, ALREADY, before[1])
        elif step.action == identity.SETTLE:
            work.settle.append(RowWork(step, params))
        elif step.action == identity.UPDATE:
            updates.append(RowWork(step, params))
        else:
            creates.append(RowWork(step, params))
    # Each run creates in an order of its own: two runs of one list that start together rarely
    # reach the same row at once (results keep the file's order).
    work.send = updates + random.Random().sample(creates, len(creates))
    return work


class _Sending:
    """Settle, then send in batches with a look before each; settle lost answers; cancel the
    appointments of rows that left the file. A Ctrl-C stops new requests; in-flight ones are
    recorded."""

    def __init__(
        self,
        runner: Runner,
        work: _Work,
        done: Reconciled,
        watch: Watch | None,
        workers: int,
        progress: Progress | None,
        stage: Stage | None = None,
    ) -> None:
        self.runner, self.work, self.done, self.watch = runner, work, done, watch
        self.workers, self.progress, self.stage = workers, progress, stage
        self.looked: Callable[[int, int], None] | None = None  # the last look's count
        self.report = runner.report
        self.total = len(work.send) + len(work.settle)
        self.finished = 0
        self.counts = self.report.counts()  # kept per row: counting anew each row is quadratic
        self.queue = deque(work.send)
        self.size = FIRST_BATCH
        self.batches = 0
        self.waited = False
        self.cleared: set[int] | None = None  # rows a look by reference proved absent
        # this run's creates not yet checked for a twin another run created at the same moment
        # (reference -> row, appointment; :mod:`importer.run.watch`)
        self.creates = {item.step.row: item for item in work.send if item.step.prior is None}
        self.made: dict[str, tuple[int, int]] = {}
        self.gave_way: list[int] = []

    def tick(self, result: RowResult) -> None:
        earlier = self.report.results.get(result.row)
        if earlier is not None:
            self.counts[earlier.status] -= 1
        self.counts[result.status] += 1
        self.report.results[result.row] = result
        item = self.creates.get(result.row)
        if result.status == CREATED and result.appointment_id and not result.error and item:
            self.made[item.step.ref or reference(item.step.key)] = (
                result.row,
                result.appointment_id,
            )
        self.finished += 1
        phase("sending")
        if self.progress:
            self.progress(self.finished, self.total, +self.counts)

    def go(self) -> None:
        runner, stop = self.runner, self.runner.stop
        try:
            with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="import") as pool:
                # Rows an earlier run left unsettled come first: the server has long finished.
                settle = [(runner.settle, args) for args in self.work.settle]
                _drain(pool, self.workers, stop, self.tick, settle)
                _drain(pool, self.workers, stop, self.tick, self.next_batch(), self.next_batch)
                _settle_pending(runner, pool, self.workers, self.report, runner.options)
                self._last_check()
                self.report.removed = [runner.cancel_removed(r) for r in self.done.plan.removed]
        except KeyboardInterrupt:
            self.report.interrupted = True
            stop.set()

    def next_batch(self) -> list[tuple[Any, tuple[Any, ...]]]:
        """The next rows to send; from the second batch on, after a look at what changed in
        onOffice meanwhile (asked while the workers finish the batch before)."""
        while self.queue and not self.runner.stop.is_set():
            watch = self.watch
            quiet = self.runner.options.quiet_after
            # without reads by `modified`, each batch's rows are asked for by reference: a
            # run of the list elsewhere cannot be seen coming
            due = self.batches <= EARLY_LOOKS or (
                watch is not None and (not watch.supported or watch.others(quiet))
            )
            if watch is not None and self.batches == 0:
                watch.settle_first()
            self.cleared = None
            if due and watch is not None and not self._looked():
                return []
            unwatched = watch is not None and not watch.supported
            # where the rows' days could not be read completely (more than 500 on a day), or
            # nothing tells what changed meanwhile, the next rows are asked for themselves
            by_reference = unwatched or not self.done.state.complete
            if by_reference and self.cleared is None and not self._asked():
                return []
            size = min(self.size, len(self.queue))
            largest = LOOKED_BATCH * self.workers if unwatched else LARGEST_BATCH
            self.size = min(self.size * 2, max(largest, 8 * self.workers))
            self.batches += 1
            if by_reference:  # only rows just proven absent (or updates of their own)
                cleared: set[int] = self.cleared or set()
                batch = [
                    item
                    for item in list(self.queue)[:size]
                    if item.step.prior is not None or item.step.row in cleared
                ]
                for item in batch:
                    self.queue.remove(item)
            else:
                batch = [self.queue.popleft() for _ in range(size)]
            batch = [item for item in batch if item.step.row not in self.report.results]
            if batch:
                if watch is not None:
                    watch.sent += len(batch)
                return [(self.runner.do, item) for item in batch]
        return []

    def _looked(self) -> bool:
        """Look for changes made elsewhere, and wait while another run of the list writes
        (:mod:`importer.run.watch`); False when the run must stop."""
        return self._safely(self._look_and_wait)

    def _look_and_wait(self) -> bool:
        watch = self.watch
        assert watch is not None
        self._look(watch)
        quiet = self.runner.options.quiet_after
        while (other := watch.waiting_for(quiet)) and self.queue:
            if not self.waited:
                self.waited = True
                self.report.notices.append(
                    _(
                        "another import of this list was running at the same time (run "
                        "{run}); this run waited while it wrote, and checked each row it "
                        "created against that run's"
                    ).format(run=other)
                )
            if self.runner.stop.wait(1.0):
                return False
            self._look(watch)
        return True

    def _look(self, watch: Watch) -> None:
        """What changed in onOffice since the last look (and, where the server cannot say,
        the next rows by their references)."""
        self._apply(watch.look())
        self._twins()
        if not watch.supported:
            self._by_reference()

    def _twins(self) -> None:
        """This run's creates a look has shown since: a twin another run created before is
        kept, this run's copy deleted (:meth:`importer.run.watch.Watch.twins`)."""
        watch = self.watch
        if watch is None:
            return
        if watch.notice and watch.notice not in self.report.notices:
            self.report.notices.append(watch.notice)
        checked, twins = watch.twins({ref: made[1] for ref, made in self.made.items()})
        for ref in checked:
            row, ours = self.made.pop(ref)
            if ref in twins:
                item = self.creates[row]
                result = self.runner.give_way(item.step, item.params, ours, twins[ref])
                self.report.results[row] = result
                self.counts[CREATED] -= 1
                self.counts[result.status] += 1
                self.gave_way.append(row)

    def _last_check(self) -> None:
        """The creates no look has shown yet: one more look (by reference where the server
        cannot say what changed); the run names those it still could not check."""
        watch = self.watch
        if watch is None or not self.made:
            return
        self.looked = _counted(self.stage, _(LAST_LOOK), len(self.made))
        with contextlib.suppress(ApiError, JournalError):
            if watch.supported:
                self._look(watch)
            if self.made:  # only these: rows a stop left unsent are not looked for
                queue, self.queue = self.queue, deque()
                try:
                    self._by_reference()
                finally:
                    self.queue = queue
        if self.looked is not None:
            self.looked(0, 0)  # every one looked for
        rows = ", ".join(str(row) for row, _ours in sorted(self.made.values()))
        if rows:
            self.report.notices.append(
                _(
                    "rows {rows} could not be checked after their create: if another run of "
                    "this list ran at the same time, one of them may be in onOffice twice; look "
                    "for them there"
                ).format(rows=rows)
            )
        if self.gave_way:
            self.report.notices.append(
                _(
                    "rows {rows} were created by another run of this list at the same moment "
                    "too; this run deleted its copies, so each is in onOffice once"
                ).format(rows=", ".join(str(r) for r in sorted(self.gave_way)))
            )

    def _safely(self, ask: Callable[[], bool | None]) -> bool:
        """``ask`` onOffice; False when the run must stop (it could not be asked, or ``ask``
        says so)."""
        try:
            return ask() is not False
        except (ApiError, JournalError) as exc:
            self.runner.halt(
                _("onOffice could not be asked ({error})").format(error=exc), exc.exit_code
            )
            return False

    def _apply(self, looked: list[tuple[Any, Any]]) -> None:
        """Rows another run created or wrote meanwhile are not sent again."""
        if not looked:
            return
        pending = {item.step.row: item for item in self.queue}
        by_ref = {item.step.ref or reference(item.step.key): row for row, item in pending.items()}
        by_appointment = {
            item.step.prior.appointment_id: row
            for row, item in pending.items()
            if item.step.prior is not None
        }
        state = self.done.state
        for appointment, stamp in looked:
            if appointment.series in self.runner.written:
                continue
            row = by_appointment.get(appointment.series) or by_ref.get(stamp.ref)
            if row is None:
                continue
            step, params = pending[row]
            entry = step.prior.entry if step.prior is not None else None
            ours = stamp.list_tag == state.list_tag
            shown = normalised(self.runner.client, appointment)  # as the account shows its types
            prior = Prior(
                appointment.series, shown, stamp, entry, condition(shown, stamp, entry), ours
            )
            fresh = identity.decide(
                self.done.candidates[row], prior, "key", self.runner.options.force
            )
            self.queue.remove(pending[row])
            if fresh.action == identity.UNCHANGED:
                self.tick(self.runner.keep(fresh, params))
            elif fresh.action == identity.UPDATE:
                self.queue.appendleft(RowWork(fresh, params))
            else:
                self.tick(RowResult(row, CONFLICT, appointment.series, fresh.note))

    def _asked(self) -> bool:
        """The next rows, looked for by their references themselves; False when the run must
        stop."""
        return self._safely(self._by_reference)

    def _by_reference(self) -> None:
        """Without reads by `modified`: ask for the next rows' references themselves (one
        action per row, 50 to a request)."""
        runner = self.runner
        upcoming = [item for item in list(self.queue)[: self.size] if item.step.prior is None]
        self.cleared = set()  # the rows proven absent: they may be sent
        # and this run's creates not checked yet for a twin (:meth:`_twins`)
        checking = [(ref, self.creates[row].params) for ref, (row, _id) in self.made.items()]
        checking = checking if self.watch is not None else []  # no stamps: nothing to check
        if not upcoming and not checking:
            return
        rows = [(item.step.ref or reference(item.step.key), item.params) for item in upcoming]
        existing = find_references(
            runner.client, rows + checking, set(runner.journal.undone_ids()), self.looked
        )
        self.report.existence_reads += existing.reads
        if self.watch is not None:
            if not self.watch.supported:  # the rows' own stamps show another run too
                shown = [*existing.imported, *existing.appointments.values()]
                self.watch.saw(shown, runner.options.quiet_after)
            self.watch.record(existing.appointments.values())
            self._twins()
        if not existing.complete:  # absence not proven: those rows are not sent
            why = _(
                "not sent: onOffice could not be searched completely for this row (too many "
                "appointments that day, or no agent or group to look under)"
            )
            for step, _params in upcoming:
                if not any(ref == (step.ref or reference(step.key)) for ref in existing.found):
                    self.queue.remove(RowWork(step, _params))
                    self.tick(RowResult(step.row, UNKNOWN, error=why))
        found = [
            (existing.appointments[n], stamp)
            for ref, n in existing.found.items()
            if n in existing.appointments
            for stamp in [read_stamp(existing.appointments[n].note)]
            if stamp is not None and stamp.ref == ref
        ]
        self._apply(found)
        left = {item.step.row for item in self.queue}
        for step, params in upcoming:
            if step.row not in left:
                continue
            if (step.ref or reference(step.key)) not in existing.found:
                self.cleared.add(step.row)
            else:  # found, yet not taken (this run wrote it): never sent again
                self.queue.remove(RowWork(step, params))
                self.tick(
                    RowResult(
                        step.row,
                        UNKNOWN,
                        error=_("already in onOffice; run again to settle it (nothing is sent)"),
                    )
                )


def _counted(stage: Stage | None, words: str, rows: int) -> Callable[[int, int], None] | None:
    """The last look's count: ``rows`` to look for; a later search that looks for the ``of``
    still unresolved counts those resolved before it as done."""
    if stage is None:
        return None

    def looked(done: int, of: int) -> None:
        stage(words, rows - of + done, rows)

    looked(0, rows)
    return looked


def _drain(
    pool: ThreadPoolExecutor,
    workers: int,
    stop: threading.Event,
    tick: Callable[[RowResult], None],
    tasks: Sequence[tuple[Callable[..., RowResult], tuple[Any, ...]]],
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
                # the worker runs in this thread's context: the language (i18n) goes along
                running.add(pool.submit(contextvars.copy_context().run, fn, *args))
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
    runner: Runner,
    pool: ThreadPoolExecutor,
    workers: int,
    report: RunReport,
    options: RunOptions,
) -> None:
    """Rows of this run whose outcome was unknown: wait, read back, adopt or re-send.

    Runs also after a systemic stop (then only adopting: `settle` re-sends nothing once the run
    is stopping); a Ctrl-C ends it at once.
    """
    for _round in range(options.settle_rounds):
        with runner.lock:
            pending, runner.pending = dict(runner.pending), {}
        if not pending:
            return
        ready = max(p.ready_at for p in pending.values())
        time.sleep(max(0.0, ready - time.monotonic()))  # the server may still be busy
        tasks = [
            (runner.settle, (step, params, declined))
            for step, params, _at, declined in pending.values()  # runner.Pending
        ]

        def record(result: RowResult) -> None:
            report.results[result.row] = result

        _drain(pool, workers, threading.Event(), record, tasks)


def _preflight_failure(client: OnOfficeClient) -> tuple[tuple[str, ExitCode] | None, str | None]:
    """Why nothing may be sent (or None), and the account the client speaks for."""
    try:
        return None, preflight(client)
    except (AuthenticationError, ClockError) as exc:
        return (_("preflight: {why}").format(why=exc), ExitCode.CONFIGURATION), None
    except ApiError as exc:
        why = _("preflight: the API cannot be reached ({why})").format(why=exc)
        return (why, ExitCode.STOPPED), None


def preflight(client: OnOfficeClient) -> str:
    """A read-only call that proves the credentials and the clock before anything is created;
    returns the account they belong to (:meth:`OnOfficeClient.account`)."""
    account = client.account()
    skew = client.last_clock_skew
    if skew is not None and abs(skew) > 60:
        ahead = _("this computer's clock is {seconds} s ahead of the API server's")
        behind = _("this computer's clock is {seconds} s behind the API server's")
        raise ClockError((ahead if skew > 0 else behind).format(seconds=f"{abs(skew):.0f}"))
    return account
