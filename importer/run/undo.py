"""Undo an import: remove (or cancel) exactly the appointments a run created, nothing else.

    report = importer.undo_import("viewings.results.xlsx", client=client, journal_path=...)

The ids come from the journal and from the results workbook; both must agree, and an id only
one of them knows is reported, never touched. Appointments changed in onOffice after the import's
last write (on any computer: its stamp says what it wrote and when,
:mod:`importer.onoffice.reference`)
are skipped and listed unless ``force``. Whatever later runs did to the import's appointments
(updated them, cancelled them because their rows left the file), undo removes them with the
rest: never makes one active that its list no longer holds. Every step is journaled: an undo
that is interrupted resumes, and a second undo does nothing. Undone rows are marked in the
journal, so a later `run` sends them again if asked to (an appointment undo cancelled is made
active again).
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from threading import Event
from typing import Any
from zoneinfo import ZoneInfo

from ..core import contract
from ..core.errors import ActionRefused, ApiError, ExitCode, JournalError
from ..core.excel import REMOVED_SHEET
from ..core.i18n import N_, _, every, when
from ..core.stopping import held, phase
from ..onoffice.client import OnOfficeClient
from ..onoffice.form import MEMO_KEY, learn_types, normalised, recall
from ..onoffice.readback import (
    Appointment,
    Who,
    days_of,
    find_appointment,
    first_day,
    holds,
    read_ids,
    read_period,
    stamp_holds,
)
from ..onoffice.reference import list_name, read_stamp
from ..source.load import load_table
from .journal import (
    CANCELED_REMOVED,
    CREATED,
    UNDO_CANCELED,
    UNDO_DELETED,
    UNDONE,
    Entry,
    Journal,
    entry_list,
    ledger_path,
)
from .state import INTACT, Wanted, collapse, every_user, read_state, restamped
from .submit import preflight, split_outcomes

DELETED, CANCELED, MODIFIED, GONE, DISAGREE, FAILED, KEPT = (
    "deleted",
    "canceled",
    "skipped-modified",
    "already-gone",
    "disagreement",
    "failed",
    "kept",
)


@dataclass
class UndoItem:
    appointment_id: int
    source_row: int | None
    status: str
    message: str = ""


@dataclass
class UndoReport:
    results_path: Path
    items: list[UndoItem] = field(default_factory=list)
    confirmed: bool = True
    stopped: str | None = None
    stopped_code: ExitCode = ExitCode.CONFIGURATION
    imported: dict[int, Imported] = field(default_factory=dict)  # what each import wrote
    workbook: WorkbookRows | None = None  # the rows as the user typed them

    def counts(self) -> Counter[str]:
        return Counter(i.status for i in self.items)

    @property
    def exit_code(self) -> ExitCode:
        if self.stopped:
            return self.stopped_code
        counts = self.counts()
        if counts[FAILED] or counts[DISAGREE] or counts[MODIFIED]:
            return ExitCode.ROWS_FAILED
        return ExitCode.OK


@dataclass(frozen=True)
class WorkbookRows:
    """The results workbook's rows that name an appointment, as the user typed them."""

    ids: dict[int, int]  # appointment id -> source row
    columns: list[str]  # the user's own columns
    cells: dict[int, tuple[Any, ...]]  # appointment id -> the row's cells in those columns
    list_name: str | None = None  # the list, as the workbook's Summary names it


def _workbook_rows(results: Path) -> WorkbookRows:
    """The rows the results workbook marks with an appointment (created, updated, …)."""
    table = load_table(results)
    earlier = split_outcomes(table)
    ids: dict[int, int] = {}
    cells: dict[int, tuple[Any, ...]] = {}
    for row, values in table.records():
        status, appointment, source = earlier.get(row, (None, None, row))
        if appointment and status != "invalid":  # a failed update names its appointment too
            ids[appointment], cells[appointment] = source, values
    return WorkbookRows(ids, table.columns, cells, table.results_list)


def _removed_sheet(results: Path) -> dict[int, int | None]:
    """Appointment id -> source row, for the appointments whose rows had left the file (the
    results workbook's Removed sheet, whatever the run did with them: cancelled or kept)."""
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(results))
    names = every(REMOVED_SHEET)
    sheet = next((name for name in book.sheet_names if name in names), None)
    if sheet is None:
        return {}
    rows = book.get_sheet_by_name(sheet).to_python()[1:]
    return {
        int(r[0]): int(r[1]) if isinstance(r[1], int | float) else None
        for r in rows
        if len(r) > 1 and isinstance(r[0], int | float)
    }


@dataclass(frozen=True)
class Imported:
    """What the journal knows of an appointment an import created."""

    source_row: int | None
    imported_at: str  # UTC, when the row's create (or last update) was recorded
    payload: dict[str, Any]  # what was sent: an appointment that no longer matches was edited
    pending: dict[str, Any] | None = None  # a modify whose answer was lost: it may hold this


def plan_undo(
    results: Path, journal: Journal, workbook: WorkbookRows | None = None
) -> tuple[dict[int, Imported], list[UndoItem]]:
    """The ids both sources agree on, and the disagreements."""
    in_workbook = (workbook or _workbook_rows(results)).ids
    in_journal = {
        e.appointment_id: Imported(e.source_row, e.intent_at or "", e.payload, e.pending)
        for e in journal.entries().values()
        if e.state in (CREATED, UNDONE) and e.appointment_id is not None
    }
    agreed = {i: in_journal[i] for i in in_workbook if i in in_journal}
    # The journal holds every import of the account; only the workbook's ids are in question.
    disagreements = [
        UndoItem(i, row, DISAGREE, _("in the results workbook, but not in the journal as created"))
        for i, row in sorted(in_workbook.items())
        if i not in in_journal
    ]
    return agreed, disagreements


def _changed_since(current: Appointment, written_at: datetime | None) -> bool:
    """`modified` later than the import's last write (beyond the clocks' margin, and the
    automation that touches an appointment right after it is written)."""
    if not current.modified or written_at is None:
        return False
    try:
        changed = datetime.strptime(current.modified, contract.DATETIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return False
    return changed > written_at + timedelta(seconds=contract.CLOCK_MARGIN_SECONDS)


CHANGED_AFTER = N_("changed in onOffice after the import ({when}); use --force to undo it anyway")


def _office_time(modified: str | None) -> str:
    """`modified` (the server's UTC, §5.2) as the office's wall clock says it (Berlin's)."""
    moment = _moment_utc(modified or "")
    if moment is None:
        return modified or ""
    return when(moment.astimezone(ZoneInfo(contract.LOCAL_TIMEZONE)).replace(tzinfo=None))


def _moment_utc(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, contract.DATETIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def changed_by_someone(current: Appointment, imported: Imported) -> str | None:
    """Why an import's appointment may have been changed in onOffice since the import's last
    write (None when it was not). The stamp tells on any computer what was written and when;
    appointments of versions before it are compared with what this computer's journal sent."""
    stamp = read_stamp(current.note)
    if stamp is not None and stamp.complete:
        if stamp_holds(current, stamp.fields, stamp.seen) is False:
            return _(
                "it no longer holds what the import wrote (someone edited it); use --force to "
                "undo it anyway"
            )
        written = datetime.fromtimestamp(stamp.at, UTC) if stamp.at else None
        if _changed_since(current, written or _moment_utc(imported.imported_at)):
            return _(CHANGED_AFTER).format(when=_office_time(current.modified))
        return None
    # a modify of ours whose answer was lost changed it after the import: that is no edit
    if imported.pending is not None and holds(current, imported.pending):
        return None
    if _changed_since(current, _moment_utc(imported.imported_at)):
        return _(CHANGED_AFTER).format(when=_office_time(current.modified))
    if not holds(current, imported.payload):
        return _(
            "it no longer holds what the import sent (someone edited it); use --force to "
            "undo it anyway"
        )
    return None


def undo_import(
    results: str | Path,
    *,
    client: OnOfficeClient,
    journal_path: str | Path | None = None,
    cancel: bool = False,
    force: bool = False,
    confirm: Callable[[list[UndoItem]], bool] | None = None,
    progress: Callable[[int, int, Counter[str]], None] | None = None,
    stop: Event | None = None,
) -> UndoReport:
    """Remove (``cancel``: set to canceled) the appointments an import created.

    ``journal_path`` defaults to the account's ledger, as for :func:`run_import`. ``progress``
    is told (done, total, counts) after each appointment; once ``stop`` is set, the ones not
    reached yet are left as they are (kept; an undo later goes on with them).
    """
    results = Path(results)
    report = UndoReport(results)
    try:
        account = preflight(client)
    except ApiError as exc:  # credentials, clock, unreachable: nothing is touched
        report.stopped = str(exc)
        return report
    path = Path(journal_path) if journal_path is not None else ledger_path(account)
    with Journal(path, account) as journal:
        recall(client, journal.get_meta(MEMO_KEY))  # how the account shows its types
        report.workbook = _workbook_rows(results)
        agreed, report.items = plan_undo(results, journal, report.workbook)
        done = journal.undone_ids()
        left, unread = _left_behind(client, results, journal, report.workbook, done)
        report.items += unread
        # made by the import on another computer: what its stamps say (issue 31)
        adopted, cancelled, report.items = _made_elsewhere(
            client, results, journal, report.workbook, report.items
        )
        agreed.update(adopted)
        left.update(cancelled)
        report.imported = {**agreed, **left}
        # a later run's cancel (its row left the file) is no undo: it is removed with the rest
        done = {i: action for i, action in done.items() if action != CANCELED_REMOVED}
        todo = [UndoItem(i, a.source_row, KEPT) for i, a in sorted(agreed.items()) if i not in done]
        todo += [
            UndoItem(i, a.source_row, KEPT, _("its row had left the file"))
            for i, a in sorted(left.items())
        ]
        report.items += [
            UndoItem(
                i,
                a.source_row,
                DELETED if done[i] == UNDO_DELETED else CANCELED,
                _(UNDONE_EARLIER),
            )
            for i, a in sorted(agreed.items())
            if i in done
        ]
        if not todo:
            return report
        if confirm is not None and not confirm(todo):
            report.confirmed = False
            report.items += todo
            return report
        _calibrate(client, {i.appointment_id: report.imported[i.appointment_id] for i in todo})
        run = secrets.token_hex(4)
        steps = [
            (
                item,
                partial(
                    _undo_one,
                    client,
                    journal,
                    item,
                    report.imported[item.appointment_id],
                    cancel,
                    force,
                    run,
                ),
            )
            for item in todo
        ]
        # Ctrl-C or SIGTERM (in the main thread) stops as ``stop`` does: the appointment in
        # flight finishes and is recorded, so that the undo workbook says what was done
        with held(stop) as stopping:
            _carry_out(report, steps, stopping, progress)
    return report


def _carry_out(
    report: UndoReport,
    steps: Sequence[tuple[UndoItem, Callable[[], UndoItem]]],
    stop: Event,
    progress: Callable[[int, int, Counter[str]], None] | None,
) -> None:
    done_now: Counter[str] = Counter()
    for n, (_item, step) in enumerate(steps):
        if stop.is_set():
            report.stopped, report.stopped_code = _(CANCELLED), ExitCode.INTERRUPTED
            report.items += [replace(i, message=_(STOPPED)) for i, _s in steps[n:]]
            break
        try:
            report.items.append(step())
            done_now[report.items[-1].status] += 1
            phase("deleting")
            if progress is not None:
                progress(n + 1, len(steps), done_now)
        except JournalError as exc:  # the disk: stop; what was done is read back next time
            report.stopped, report.stopped_code = str(exc), exc.exit_code
            why = _("{error}; run undo again").format(error=exc)
            report.items += [replace(i, status=FAILED, message=why) for i, _s in steps[n:]]
            break


def _calibrate(client: OnOfficeClient, imported: dict[int, Imported]) -> None:
    """How the account shows the types the import wrote, learned from these appointments
    before any is judged (:func:`importer.onoffice.form.learn_types`): a type shown as a text
    no type list explains is not taken for a person's edit. One read per 50 appointments,
    else (appointmentList, §5.1) one read of the days they were written for, among their
    agents and groups."""
    if not imported:
        return
    try:
        found = _read_imported(client, imported)
    except ApiError:
        return  # judged one by one as before
    written = [
        (a, str(imported[n].payload.get("data", {}).get("art") or ""))
        for n, a in found.items()
        if a is not None
    ]
    learn_types(client, written)


def _read_imported(
    client: OnOfficeClient, imported: dict[int, Imported]
) -> dict[int, Appointment | None]:
    """The imported appointments as onOffice shows them (those a read does not see: None)."""
    if "read calendar" not in client.unsupported:
        try:
            return read_ids(client, sorted(imported))
        except ActionRefused:
            if "read calendar" not in client.unsupported:  # else: the account has none
                raise
    payloads = [p for i in imported.values() for p in (i.payload, i.pending) if p and first_day(p)]
    if not payloads:
        return {}
    first, last = days_of(payloads)
    seen = collapse(read_period(client, first, last, Who.of_all(payloads)).appointments)
    return {n: seen.get(n) for n in imported}


def _left_behind(
    client: OnOfficeClient,
    results: Path,
    journal: Journal,
    workbook: WorkbookRows,
    done: dict[int, str],
) -> tuple[dict[int, Imported], list[UndoItem]]:
    """The list's appointments whose rows had left the file, which the import made too: undo
    removes them with the rows' (a cancelled one made active would be a viewing in no list).

    They are those of the results' Removed sheet (cancelled or kept), those a run of the list
    cancelled (the ledger says so), and the ledger's other appointments of the list that
    onOffice shows cancelled by the import (a run on another computer); an active one the
    workbook does not name is a later row's, left alone. Also: the Removed sheet's ids the ledger
    does not know (reported, never touched)."""
    name = workbook.list_name or list_name(str(results))
    on_sheet = _removed_sheet(results)
    entries = _entries_by_id(journal)
    unread = [
        UndoItem(i, row, DISAGREE, _("in the results workbook, but not in the journal as created"))
        for i, row in sorted(on_sheet.items())
        if i not in entries and i not in workbook.ids
    ]
    left: dict[int, Imported] = {}
    for n, e in sorted(entries.items()):
        if n in workbook.ids or (n not in on_sheet and entry_list(e) != name):
            continue
        action = done.get(n)
        if action is not None and action != CANCELED_REMOVED:
            continue  # undone earlier, or found gone by a run
        imported = Imported(on_sheet.get(n, e.source_row), e.intent_at or "", e.payload, e.pending)
        if n in on_sheet or action == CANCELED_REMOVED:
            left[n] = imported
            continue
        try:  # cancelled by the import elsewhere, or a later row's (active: not this undo's)
            current = find_appointment(client, n, [p for p in (e.payload, e.pending) if p])
        except ApiError:
            current = None  # not told: left for an undo of the workbook that names it
        if (
            current is not None
            and current.cancelled
            and changed_by_someone(current, imported) is None
        ):
            left[n] = imported
    return left, unread


def _made_elsewhere(
    client: OnOfficeClient,
    results: Path,
    journal: Journal,
    workbook: WorkbookRows,
    items: list[UndoItem],
) -> tuple[dict[int, Imported], dict[int, Imported], list[UndoItem]]:
    """Where this computer's ledger does not know the import (it ran on another computer), its
    appointments as their stamps tell: those the results workbook names (its rows and its
    Removed sheet) that carry the list's stamp, and the list's others that the import cancelled
    (their stamp says the import wrote the cancellation: rows that left the file in a later run
    whose workbook this computer may not have). An active one the workbook does not name is a
    later row's, and one without the list's stamp a person's: left alone. Returns the named,
    the cancelled, and ``items`` without the disagreements so resolved."""
    unknown = {i.appointment_id: i.source_row for i in items if i.status == DISAGREE}
    if not unknown:
        return {}, {}, items
    name = workbook.list_name or list_name(str(results))
    known = set(_entries_by_id(journal))
    done = journal.undone_ids()
    try:
        state = read_state(
            client,
            Wanted(
                name,
                secrets.token_hex(4),
                _payloads_of(client, sorted(unknown)),
                journal.entries(),
                named=sorted(unknown),
            ),
        )
    except ApiError:
        return {}, {}, items  # not told: the disagreements stay, nothing is touched
    named: dict[int, Imported] = {}
    cancelled: dict[int, Imported] = {}
    settled: list[UndoItem] = []
    # where reads do not show participants, the undo looks for it among every user's (§5.1)
    everyone: list[frozenset[int] | None] = []
    for prior in state.priors:
        n, found, stamp = prior.appointment_id, prior.found, prior.stamp
        if n in known:
            continue  # the ledger's: judged as before
        if found is None:  # undone here before (gone, or not told where it is now), else
            # not told whose it is: a disagreement
            if n in unknown and n in done:
                word = DELETED if done[n] == UNDO_DELETED else CANCELED
                settled.append(UndoItem(n, unknown[n], word, _(UNDONE_EARLIER)))
            continue
        if stamp is None or not stamp.complete or stamp.list_tag != state.list_tag:
            continue  # not the list's: a named one stays a disagreement
        if not (found.users or found.participants) and not everyone:
            everyone.append(every_user(client))
        imported = Imported(unknown.get(n, stamp.row), "", _payload_of(found, everyone))
        if n in unknown:
            named[n] = imported
        elif found.cancelled and prior.condition == INTACT and n not in done:
            cancelled[n] = imported
    resolved = set(named) | {i.appointment_id for i in settled}
    kept = [i for i in items if not (i.status == DISAGREE and i.appointment_id in resolved)]
    return named, cancelled, kept + settled


def _payloads_of(client: OnOfficeClient, ids: list[int]) -> list[dict[str, Any]]:
    """The days and agents of the appointments ``ids`` (where read calendar reads them by id),
    so that the list is read around them; else the list is read around today."""
    if "read calendar" in client.unsupported:
        return []
    try:
        found = read_ids(client, ids)
    except ActionRefused:
        return []
    return [_payload_of(a) for a in found.values() if a is not None and a.starts]


def _payload_of(
    found: Appointment, everyone: list[frozenset[int] | None] | None = None
) -> dict[str, Any]:
    """What undo needs of an appointment it knows only as read (no ledger entry): its day and
    agents (to find it again), its time and subject (for the undo workbook)."""
    data: dict[str, Any] = {"description": found.subject}
    if found.starts:
        data["start_dt"] = min(found.starts)
    if found.ends:
        data["end_dt"] = min(found.ends)
    shown = found.users or found.participants or (everyone[0] if everyone else None) or ()
    users = sorted(u for u in shown if isinstance(u, int))
    return {"data": data, "subscribers": {"users": users}} if users else {"data": data}


def _entries_by_id(journal: Journal) -> dict[int, Entry]:
    """The ledger's entry of each appointment an import created (the last written, should two
    name one)."""
    out: dict[int, Entry] = {}
    for e in sorted(journal.entries().values(), key=lambda e: e.intent_at or ""):
        if e.appointment_id is not None and e.state in (CREATED, UNDONE):
            out[e.appointment_id] = e
    return out


UNDONE_EARLIER = N_("undone earlier")
STOPPED = N_("cancelled before it was reached: undo again to remove it")
CANCELLED = N_(
    "cancelled; the appointments not reached yet are still in onOffice: undo again to remove them"
)
UNDO_WORDS = {
    DELETED: N_("deleted"),
    CANCELED: N_("canceled"),
    MODIFIED: N_("changed in onOffice: left alone"),
    GONE: N_("not in onOffice any more"),
    DISAGREE: N_("not in the journal: left alone"),
    FAILED: N_("failed"),
    KEPT: N_("kept"),
}


def undo_word(status: str) -> str:
    """What undo did with an appointment, in the user's words ("gelöscht")."""
    return _(UNDO_WORDS[status]) if status in UNDO_WORDS else status


def _undo_one(
    client: OnOfficeClient,
    journal: Journal,
    item: UndoItem,
    imported: Imported,
    cancel: bool,
    force: bool,
    run: str,
) -> UndoItem:
    appointment = item.appointment_id
    try:
        # found wherever a write of ours put it; "gone" only when the server surely says so
        written = [p for p in (imported.payload, imported.pending) if p]
        current = find_appointment(client, appointment, written)
        current = current and normalised(client, current)
        if current is None:
            journal.undone(appointment, UNDO_DELETED)
            return UndoItem(appointment, item.source_row, GONE, _("not in onOffice any more"))
        why = None if force else changed_by_someone(current, imported)
        if why is not None:
            return UndoItem(appointment, item.source_row, MODIFIED, why)
        if cancel:
            data = restamped(current, cancelled=True, run=run, at=int(client.server_now()))
            client.modify_appointment(appointment, {"data": data})
            journal.undone(appointment, UNDO_CANCELED)
            return UndoItem(appointment, item.source_row, CANCELED)
        client.delete_appointment(appointment)
        journal.undone(appointment, UNDO_DELETED)
        return UndoItem(appointment, item.source_row, DELETED)
    except ActionRefused as exc:
        return UndoItem(appointment, item.source_row, FAILED, exc.server_message)
    except ApiError as exc:  # transport: delete and cancel are safe to repeat, run undo again
        return UndoItem(
            appointment, item.source_row, FAILED, _("{error}; run undo again").format(error=exc)
        )
