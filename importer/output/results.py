"""The results workbook: every input row as the user entered it, plus its outcome.

Sheet *Results*: ``Status``, ``Appointment ID``, ``Error``, ``Warnings`` (double bookings, past
dates, …), the original columns, ``onOffice answer`` (a refusal's code and text as the server
gave them, for support) and ``Source row``; faulty cells of invalid rows, and the cells a
refusal concerns, are red with a comment, as in the check report.
Sheet *Summary*: counts per status and per warning code, times, the input file and its
SHA-256, the mapping, the API URL (never a token or secret), the tool version.
Sheet *Removed* (only when there are some): appointments an earlier run imported from this
file whose rows are no longer in it, and what became of them (``kept``, ``canceled`` …).
Sheet *Statuses*: what each status means.
The workbook is a valid input again: the outcome columns are set aside when it is loaded,
and re-running it updates it in place.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ..core.excel import (
    ANSWER,
    APPOINTMENT_ID,
    ERROR,
    IN_ONOFFICE,
    LIST_LABEL,
    REMOVED_SHEET,
    REMOVED_WORDS,
    RESULTS_SHEET,
    SOURCE_ROW,
    STATUS,
    WARNINGS,
    outcome_header,
    status_word,
)
from ..core.i18n import N_, _, ngettext, number, took, when
from ..core.problems import Level, joined_problems
from ..run.runner import STATUSES, RunReport
from .report import (
    FOR_SUPPORT,
    ForWeb,
    OutcomeCells,
    account_rows,
    code_rows,
    row_comments,
    summary_sheet,
)
from .workbook import RowsSheet, TableSheet, write_workbook

STATUSES_SHEET = N_("Statuses")
STATUS_ORDER = STATUSES
MEANINGS = {
    "created": N_("created by this run"),
    "updated": N_("the row changed since it was imported: its appointment was updated"),
    "unchanged": N_("the row changed, but onOffice already held it so: nothing was sent"),
    "already-created": N_("imported earlier exactly as it is now: nothing was sent"),
    "exists": N_("found in onOffice by its import reference (imported earlier, on any computer)"),
    "conflict": N_(
        "its appointment was changed or deleted in onOffice since the import's last write, or "
        "another list wrote it last: not overwritten. Check the appointment in onOffice; to "
        "write the row over it all the same, import with the option “force” (--force)"
    ),
    "ambiguous": N_(
        "two rows could each be this appointment and nothing tells which: not sent; say which "
        "in the web app (or with --pair ROW=ID), or give the mapping a key"
    ),
    "invalid": N_("not sent: the row has errors (see the column “Error”)"),
    "failed": N_("onOffice refused it (see the column “Error”); run again after fixing it"),
    "unknown": N_("sent, but the answer was lost: run again to settle it (it is never sent twice)"),
    "not-sent": N_(
        "not sent (see the column “Error”): the run stopped, or an identical row came first"
    ),
}


# A workbook of the web app names what the office does there, never a command-line option.
WEB_MEANINGS = {
    "conflict": N_(
        "its appointment was changed or deleted in onOffice since the import's last write, or "
        "another list wrote it last: not overwritten. Check the appointment in onOffice and "
        "correct the row to match it"
    ),
    "ambiguous": N_(
        "two rows could each be this appointment and nothing tells which: not sent; open the "
        "import in the web app (History) and say which, or give the mapping a key"
    ),
}


def tool_version() -> str:
    try:
        return version("onoffice-import")
    except PackageNotFoundError:
        return "unknown"


def default_results_path(source: Path) -> Path:
    if is_results_name(source):
        return source
    return source.with_name(f"{source.stem}.results.xlsx")


def results_name(source: Path) -> str:
    """The results workbook's file name for ``source`` (the source itself when it is one)."""
    return default_results_path(source).name


def is_results_name(path: Path) -> bool:
    return path.name.endswith(".results.xlsx")


def save_results(
    report: RunReport, target: Path, web: ForWeb | None = None
) -> tuple[Path | None, list[str]]:
    """Write the results beside the input, else in the current folder, else in the temp
    folder: results are never lost to a read-only folder or a workbook open in Excel. Returns
    where they went (None: nowhere) and a line per place that failed."""
    import tempfile

    failures: list[str] = []
    for place in (target, Path.cwd() / target.name, Path(tempfile.gettempdir()) / target.name):
        try:
            return write_results(report, place, web), failures
        except OSError as exc:
            failures.append(
                _("cannot write {path} ({why})").format(path=place, why=exc.strerror or exc)
            )
    return None, failures


def sheet_rows(report: RunReport) -> dict[int, int]:
    """Where :func:`write_results` puts each row of ``report`` (a row number of the file the
    run read -> its row on the Results sheet): the header in row 1, then the rows in the
    file's order. For a program that types into the workbook afterwards (the web app)."""
    return {row: place + 2 for place, row in enumerate(report.check.table.row_numbers)}


def write_results(report: RunReport, target: Path, web: ForWeb | None = None) -> Path:
    """Write atomically; returns the path written (another name if the target is locked)."""
    checked = report.check
    table = checked.table
    outcomes = {o.row: o for o in checked.outcomes}
    lead = [outcome_header(h, table.columns) for h in (STATUS, APPOINTMENT_ID, ERROR, WARNINGS)]
    trail = [outcome_header(h, table.columns) for h in (ANSWER, SOURCE_ROW)]
    columns = [*lead, *table.columns, *trail]
    index = {name: i + len(lead) for i, name in enumerate(table.columns)}

    outcome_cells = OutcomeCells()

    def rows() -> Any:
        for row, cells in table.records():
            result = report.results[row]
            outcome = outcomes[row]
            invalid = result.status == "invalid"
            marked = outcome.problems if invalid else list(result.problems)
            comments = row_comments(index, marked) if marked else {}
            source_row = report.earlier.get(row, (None, None, row))[2]
            warnings = outcome.warnings
            yield (
                [
                    outcome_cells[result.status, bool(warnings)],
                    result.appointment_id,
                    result.error,
                    joined_problems(warnings),
                    *cells,
                    result.answer,
                    source_row,
                ],
                comments,
            )

    sheets: list[RowsSheet | TableSheet] = [
        RowsSheet(
            _(RESULTS_SHEET),
            columns,
            rows(),
            {},
            wrap=frozenset({2, 3}),
            frozen=3,
        ),
        summary_sheet(summary(report, web)),
    ]
    if report.removed:
        removed: list[list[Any]] = [
            [
                _(APPOINTMENT_ID),
                _(SOURCE_ROW),
                _("Start"),
                _("Subject"),
                _("What happened"),
                _("Message"),
            ]
        ]
        removed += [
            [
                r.appointment_id,
                r.source_row,
                r.start,
                r.subject,
                _(REMOVED_WORDS[r.status]) if r.status in REMOVED_WORDS else r.status,
                r.message,
            ]
            for r in report.removed
        ]
        sheets.append(TableSheet(_(REMOVED_SHEET), removed, wrap=frozenset({5})))
    statuses: list[list[Any]] = [[_("Status"), _("Meaning")]]
    meanings = {**MEANINGS, **(WEB_MEANINGS if web else {})}
    statuses += [[status_word(status), _(meanings[status])] for status in STATUS_ORDER]
    sheets.append(TableSheet(_(STATUSES_SHEET), statuses, wrap=frozenset({1}), widths={1: 80.0}))
    return write_workbook(target, sheets)


def summary(report: RunReport, web: ForWeb | None = None) -> list[list[Any]]:
    """The outcome and the next step first, then the counts, then what support asks for
    (``web``: written for the web app: its words, no command line, no paths)."""
    checked = report.check
    counts = report.counts()
    finished = report.finished or report.started
    total = len(report.results)
    done = sum(counts.get(s, 0) for s in IN_ONOFFICE)
    result = ngettext(  # the verb agrees with the first number
        "{done} of {total} rows is in onOffice", "{done} of {total} rows are in onOffice", done
    ).format(done=number(done), total=number(total))
    open_rows = total - done
    if open_rows:
        result += "; " + ngettext(
            "{n} row is not (its Status is red or amber in the sheet “{sheet}”)",
            "{n} rows are not (their Status is red or amber in the sheet “{sheet}”)",
            open_rows,
        ).format(n=number(open_rows), sheet=_(RESULTS_SHEET))
    if report.stopped or report.interrupted:
        step = _(
            "The import stopped early. Start it again (in the web app, or the same command): "
            "it goes on where it stopped."
        )
    elif counts.get("ambiguous") and web:
        step = _(
            "Say which appointment each row marked “{status}” is: open the import in the web "
            "app (History) and choose for each row."
        ).format(status=status_word("ambiguous"))
    elif counts.get("ambiguous"):
        step = _(
            "Say which appointment each row marked “{status}” is: in the web app, or run the file "
            "again with --pair ROW=ID (or ROW=new), as the column “{error}” says."
        ).format(status=status_word("ambiguous"), error=_(ERROR))
    elif open_rows:
        step = _(
            "Fix the red cells of those rows (the column “{error}” says why), then send the "
            "failed rows again: in the web app, type the fixes into the marked cells of the "
            "import's page and press “Send the failed rows again”; or fix them in this "
            "workbook, save it and import the workbook again. Only those rows are sent."
        ).format(error=_(ERROR))
    else:
        step = _("Nothing left to do.")
    command = (  # the options first: a printed line breaks between words, not in "--only-failed"
        f'onoffice-import run --only-failed -m "{checked.mapping.path}" '
        f'"{results_name(checked.source)}"'
        if open_rows and not (report.stopped or report.interrupted or web)
        else None
    )
    rows: list[list[Any]] = [
        [_("Import of {file}").format(file=web.file_name if web else checked.source.name), ""],
        [_("Result"), result],
        [_("Next step"), step],
        *([[_("On the command line"), command]] if command else []),
        *[[_("Not checked"), notice] for notice in checked.notices],
        *[[_("Good to know"), notice] for notice in report.notices],
        *[[_("File warning"), warning] for warning in checked.file_warnings],
        [],
        [_("Status"), _("Rows")],
        *[[status_word(status), counts[status]] for status in STATUS_ORDER if counts.get(status)],
        [_("Rows in total"), total],
        [_("Rows with warnings"), sum(1 for o in checked.outcomes if o.warnings)],
    ]
    if report.removed:
        rows.append([_("Appointments of rows no longer in the file"), len(report.removed)])
    rows += account_rows(checked)
    stopped = report.stopped or (_("interrupted (Ctrl-C)") if report.interrupted else _("no"))
    rows += [
        [],
        [_(FOR_SUPPORT), ""],
        [_("Started"), when(report.started)],
        [_("Finished"), when(finished)],
        [_("Took"), took((finished - report.started).total_seconds())],
        [_("Stopped early"), stopped],
        *([] if web else [[_("Exit code"), int(report.exit_code)]]),
        [_("Input file"), web.file_name if web else str(checked.source)],
        [_(LIST_LABEL), report.list_name],
        [_("Input SHA-256"), checked.source_sha256],
        [_("Sheet"), checked.table.sheet or _("(CSV)")],
        [_("Mapping"), web.mapping_words() if web else str(checked.mapping.path)],
        *(
            [[_("onOffice"), report.account or report.api_url]]
            if web
            else [[_("API URL"), report.api_url], [_("Journal"), str(report.journal_path)]]
        ),
        [_("Tool version"), f"onoffice-import {tool_version()}"],
    ]
    rows += code_rows(checked.code_counts(Level.WARNING), Level.WARNING)
    return rows
