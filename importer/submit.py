"""Import a file: plan every row, then drive the sending from worker threads.

    report = importer.run_import("viewings.xlsx", "mappings/viewings.yaml", client=client)

A run proves the credentials and the clock (:func:`preflight`), checks the file (the dry run
of :mod:`importer.check`), plans which rows are created, updated or left alone from the
account's ledger (:mod:`importer.identity`), asks onOffice which rows are there already, then
hands the rows to a :class:`~importer.runner.Runner` in worker threads (``workers``, default
1) and settles lost answers at the end. The caller's thread only waits, so a Ctrl-C there stops
new requests while in-flight ones finish. The statuses a row can end with are listed in
:mod:`importer.runner`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import contract, identity
from . import journal as jr
from .check import CheckReport, RowOutcome, check, prepare
from .client import OnOfficeClient
from .errors import (
    ApiError,
    AuthenticationError,
    ClockError,
    ExitCode,
    JournalError,
)
from .excel import APPOINTMENT_ID, SOURCE_ROW, STATUS, outcome_positions, status_value
from .i18n import _
from .identity import Candidate
from .journal import Entry, Journal, ledger_path
from .load import LoadOptions, Table
from .mapping import Mapping
from .problems import joined_problems

if TYPE_CHECKING:
    pass

from .runner import (
    ALREADY,
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
    ToSend,
    ToSettle,
    ToUpdate,
    recognise_by_workbook,
    recognise_existing,
    sent_payload,
)

# What a caller of run_import needs, wherever it is defined.
__all__ = [
    "Planner",
    "RemovedRow",
    "RowResult",
    "RunOptions",
    "RunReport",
    "earlier_outcomes",
    "planner",
    "preflight",
    "preview",
    "run_import",
    "sent_payload",
    "split_outcomes",
]

MAX_WORKERS = 16
# Rows sent between two existence checks (each check is one read of those rows' days): the
# window in which two runs that overlap in time can both create a row.
EXISTENCE_BATCH_PER_WORKER = 4
EXISTENCE_BATCH_MIN = 4
Progress = Callable[[int, int, Counter[str]], None]


def split_outcomes(table: Table) -> Earlier:
    """Set aside the outcome columns of an earlier results workbook given as input: those at
    our columns' places only (a column of the user's may carry the same name)."""
    earlier = earlier_outcomes(table)
    positions = outcome_positions(list(table.frame.columns))
    if earlier and positions is not None:
        ours = set(positions.values())
        table.frame = table.frame.iloc[:, [i for i in range(table.frame.shape[1]) if i not in ours]]
    return earlier


def earlier_outcomes(table: Table) -> Earlier:
    """The outcome columns of an earlier results workbook given as input (read only)."""
    frame = table.frame
    positions = outcome_positions(list(frame.columns))
    if positions is None:
        return {}
    status, ids, rows = (frame.iloc[:, positions[h]] for h in (STATUS, APPOINTMENT_ID, SOURCE_ROW))
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
        status, error = (NOT_SENT, why[0]) if o.valid else (INVALID, joined_problems(o.errors))
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
    same = _same_places(journal.get_meta(jr.rows_key(input_path)), len(prepared[1].row_numbers))
    ledger = Planner(prepared, entries, input_path, options, same)

    try:
        checked = check(
            source,
            mapping,
            api=client,
            report=False,
            now=started,
            prepared=prepared,
            strict=options.strict,
            skip_conflicts_for=ledger.not_new,
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
    runner = Runner(client, journal, options, stop, report, use_reference)
    plan = ledger.plan(checked.outcomes, earlier)
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
    runner.hold_removed, invalid_record = _hold_removed(checked, plan, entries, journal, input_path)
    work = _sort(checked.outcomes, plan, earlier, journal.undone_ids(), options, report)
    to_send, to_settle, to_update = work.send, work.settle, work.update
    if use_reference and (to_send or to_settle):
        try:
            to_send, to_settle = recognise_existing(runner, to_send, to_settle)
            to_send = recognise_by_workbook(runner, to_send, earlier)
        except (ApiError, JournalError) as exc:  # without it, rows could be doubled
            for unchecked in (item[0] for item in to_send):
                report.results[unchecked] = RowResult(
                    unchecked, NOT_SENT, error=_("not checked: {error}").format(error=exc)
                )
            for unsettled in (item[0] for item in to_settle):  # sent earlier: it may exist
                report.results[unsettled] = RowResult(
                    unsettled, UNKNOWN, error=_("not settled: {error}").format(error=exc)
                )
            report.stopped = _(
                "onOffice could not be asked which rows exist already ({error})"
            ).format(error=exc)
            report.stop_code = exc.exit_code
            return report
    work = _Work(to_send, to_settle, to_update)
    _execute(runner, work, plan, workers, progress, use_reference)
    with contextlib.suppress(JournalError):  # the next run then holds back, to be safe
        journal.set_meta(_invalid_key(input_path), invalid_record)
    for row in (item[0] for item in work.settle):
        report.results.setdefault(
            row, RowResult(row, UNKNOWN, error=_("not settled: the run stopped first"))
        )
    for row in [*(item[0] for item in work.send), *(item[0] for item in work.update)]:
        report.results.setdefault(
            row, RowResult(row, NOT_SENT, error=report.stopped or _("interrupted"))
        )
    return report


@dataclass
class _Work:
    """The rows a run sends, settles and updates, in that order of kind."""

    send: ToSend = field(default_factory=list)
    settle: ToSettle = field(default_factory=list)
    update: ToUpdate = field(default_factory=list)


def _sort(
    outcomes: list[RowOutcome],
    plan: identity.Plan,
    earlier: Earlier,
    undone: dict[int, str],
    options: RunOptions,
    report: RunReport,
) -> _Work:
    """Each row to its work, or straight to its result when nothing is to be sent."""
    work = _Work()
    for outcome in outcomes:
        row = outcome.row
        before = earlier.get(row, (None, None, row))
        step = plan.steps.get(row)
        if not outcome.valid:
            report.results[row] = RowResult(row, INVALID, error=joined_problems(outcome.errors))
            continue
        assert outcome.parameters is not None and step is not None
        entry = step.entry
        if step.action == identity.DUPLICATE:
            report.results[row] = RowResult(
                row,
                NOT_SENT,
                error=_(
                    "the same appointment as row {row} (use --allow-duplicates to send it)"
                ).format(row=step.same_as),
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
            work.update.append((row, step.key, outcome.parameters, entry, step.rekey))
        elif step.action == identity.SETTLE:
            assert entry is not None
            work.settle.append((row, step.key, outcome.parameters, entry.intent_at))
        else:
            work.send.append((row, step.key, outcome.parameters))
    return work


def _execute(
    runner: Runner,
    work: _Work,
    plan: identity.Plan,
    workers: int,
    progress: Progress | None,
    use_reference: bool,
) -> None:
    """Settle, update, then send in small batches asked about again; settle lost answers;
    cancel what left the file. A Ctrl-C stops new requests; in-flight ones are recorded."""
    report, stop = runner.report, runner.stop
    total = len(work.send) + len(work.settle) + len(work.update)
    done = 0
    counts = report.counts()  # kept up to date per row: counting anew each row is quadratic

    def tick(result: RowResult) -> None:
        nonlocal done
        earlier = report.results.get(result.row)
        if earlier is not None:
            counts[earlier.status] -= 1
        counts[result.status] += 1
        report.results[result.row] = result
        done += 1
        if progress:
            progress(done, total, +counts)

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="import") as pool:
            # Rows an earlier run left unsettled come first: the server has long finished.
            _drain(pool, workers, stop, tick, [(runner.settle, args) for args in work.settle])
            _drain(pool, workers, stop, tick, [(runner.update, args) for args in work.update])
            batch_size = max(EXISTENCE_BATCH_MIN, EXISTENCE_BATCH_PER_WORKER * workers)
            to_send = work.send
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
                            batch, _settle = recognise_existing(runner, batch, [], spread=True)
                        except (ApiError, JournalError) as exc:
                            runner.halt(f"onOffice could not be asked ({exc})", exc.exit_code)
                            return []
                        for row in set(report.results) - known:
                            tick(report.results[row])
                    if batch:
                        return [(runner.send, args) for args in batch]
                return []

            _drain(pool, workers, stop, tick, next_batch(), next_batch)
            _settle_pending(runner, pool, workers, runner.client, report, runner.options)
            report.removed = [runner.cancel_removed(entry) for entry in plan.removed]
    except KeyboardInterrupt:
        report.interrupted = True
        stop.set()


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
    checked: CheckReport,
    plan: identity.Plan,
    entries: dict[str, Entry],
    journal: Journal,
    input_path: str,
) -> tuple[str, str]:
    """Why the appointments of rows that left the file must not be cancelled ("" if they
    may be), and what the next run needs to tell an invalid row that was invalid already from
    one that broke (for the journal's meta, written after the run)."""
    raw = {
        row: hashlib.sha256(repr(cells).encode()).hexdigest()[:16]
        for row, cells in checked.table.records()
    }
    # invalid rows that cannot be tied to an entry (no key, or a key new to the journal)
    loose = [o.row for o in checked.outcomes if not o.valid and o.identity not in entries]
    last = json.loads(
        journal.get_meta(_invalid_key(input_path)) or '{"invalid": [], "present": []}'
    )
    record = json.dumps(
        {
            "invalid": sorted({raw[r] for r in loose}),
            # every valid row's key (its end): after this run, each names an appointment
            "present": sorted(s.key[-12:] for s in plan.steps.values() if s.key),
        }
    )
    if not plan.removed:
        return "", record
    if not plan.recognised:
        return (
            "no row of this file was imported before: it looks like another list saved "
            "under the same name, so nothing is cancelled"
        ), record
    # An invalid row is not a removed appointment's row when it was invalid, unchanged, at the
    # last run, while that appointment's row was still there (and valid).
    new_invalid = [r for r in loose if raw[r] not in set(last["invalid"])]
    unproven = [e for e in plan.removed if e.fingerprint[-12:] not in set(last["present"])]
    if loose and (new_invalid or unproven):
        return (
            f"{len(loose)} rows of the file are invalid and one of them may be its row; fix "
            "them, then run again"
        ), record
    return "", record


def _invalid_key(input_path: str) -> str:
    """The meta key of what the last run of this file knew of its invalid rows."""
    return f"invalid:{input_path}"


@dataclass(frozen=True)
class Planner:
    """What a run would do with the rows of one file, from one reading of the ledger: the
    plan (:meth:`plan`, :meth:`fill`) and the rows onOffice is not asked about double bookings
    for (:meth:`not_new`: an appointment of theirs would conflict with itself)."""

    prepared: tuple[Mapping, Table]
    entries: dict[str, Entry]
    input_path: str
    options: RunOptions
    same_places: bool  # no row deleted since the last run (:func:`_same_places`)

    def plan(self, outcomes: list[RowOutcome], earlier: Earlier | None = None) -> identity.Plan:
        """``earlier``: the outcome columns of a results workbook given as input, when they
        were set aside already (by default read from the table)."""
        mapping, table = self.prepared
        if earlier is None:
            earlier = earlier_outcomes(table)
        return _plan(
            outcomes,
            mapping,
            earlier,
            self.entries,
            self.input_path,
            self.options,
            self.same_places,
        )

    def not_new(self, outcomes: list[RowOutcome]) -> set[int]:
        steps = self.plan(outcomes).steps
        return {row for row, step in steps.items() if step.action != identity.CREATE}

    def fill(self, checked: CheckReport) -> None:
        """``checked.plan`` and ``checked.plan_removed``, for the check report."""
        plan = self.plan(checked.outcomes)
        checked.plan = {row: step.action for row, step in plan.steps.items()}
        checked.plan_removed = len(plan.removed)


def planner(
    client: OnOfficeClient,
    source: str | Path,
    prepared: tuple[Mapping, Table],
    journal_path: str | Path | None = None,
    allow_duplicates: bool = False,
) -> Planner:
    """A :class:`Planner` from this account's ledger, read only and without its lock (a run
    may be going on). onOffice itself is not searched, so a row planned as ``create`` may turn
    out to exist already when the run looks."""
    account = client.account()
    path = Path(journal_path) if journal_path is not None else ledger_path(account)
    entries, meta = jr.snapshot(path, account)
    input_path = str(Path(source).resolve())
    same = _same_places(meta.get(jr.rows_key(input_path)), len(prepared[1].row_numbers))
    return Planner(
        prepared, entries, input_path, RunOptions(allow_duplicates=allow_duplicates), same
    )


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
    """Fill ``checked.plan``: what a run would do with each valid row (see :func:`planner`)."""
    prepared = (checked.mapping, checked.table)
    planner(client, checked.source, prepared, journal_path, allow_duplicates).fill(checked)


def planned_check(
    client: OnOfficeClient,
    source: str | Path,
    prepared: tuple[Mapping, Table],
    *,
    journal_path: str | Path | None = None,
    allow_duplicates: bool = False,
    strict: bool = False,
    load_options: LoadOptions | None = None,
) -> CheckReport:
    """The dry run against this account, with its plan: look-ups and the double-booking check
    in onOffice (not asked for rows a run would not create: they would double-book
    themselves), and ``plan`` filled with what a run would do. No report is written. When the
    plan cannot be made, the check still runs and a notice says so."""
    plans: Planner | None = None
    unplanned = ""
    try:
        plans = planner(client, source, prepared, journal_path, allow_duplicates)
    except ApiError as exc:
        unplanned = _("what a run would do is not known ({why})").format(why=exc)
    checked = check(
        source,
        prepared[0],
        api=client,
        report=False,
        load_options=load_options,
        strict=strict,
        prepared=prepared,
        skip_conflicts_for=plans.not_new if plans is not None else None,
    )
    if plans is not None:
        plans.fill(checked)
    if unplanned:
        checked.notices.append(unplanned)
    return checked


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
    runner: Runner,
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
    for _round in range(options.settle_rounds):
        with runner.lock:
            pending, runner.pending = dict(runner.pending), {}
        if not pending:
            return
        ready = max(at for _, _, at in pending.values())
        time.sleep(max(0.0, ready - time.monotonic()))  # the server may still be busy
        tasks = []
        for row, (key, params, _at) in sorted(pending.items()):
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
