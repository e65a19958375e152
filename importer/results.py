"""The results workbook: every input row as the user entered it, plus its outcome.

Sheet *Results*: the original columns, then ``Status``, ``Appointment ID``, ``Error``,
``Warnings`` (double bookings, past dates, …) and ``Source row``; faulty cells of invalid
rows are red with a comment, as in the check report.
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

from .excel import OUTCOME_COLUMNS, REMOVED_SHEET, RESULTS_SHEET, WARNINGS
from .problems import Level
from .report import joined_problems, row_comments
from .runner import STATUSES, RunReport
from .workbook import RowsSheet, TableSheet, write_workbook

REMOVED_COLUMNS = ("Appointment ID", "Source row", "Start", "Subject", "What happened", "Message")
STATUS_ORDER = STATUSES
MEANINGS = {
    "created": "created by this run",
    "updated": "the row changed since it was imported: its appointment was updated",
    "unchanged": "the row changed, but onOffice already held it so: nothing was sent",
    "already-created": "imported earlier exactly as it is now: nothing was sent",
    "exists": "found in onOffice by its import reference (imported earlier, on any computer)",
    "conflict": "its appointment was changed or deleted in onOffice since the import: not "
    "overwritten (run with --force to write the row over it)",
    "invalid": "not sent: the row has errors (see Error)",
    "failed": "onOffice refused it (see Error); run again after fixing it",
    "unknown": "sent, but the answer was lost: run again to settle it (it is never sent twice)",
    "not-sent": "not sent (see Error): the run stopped, or an identical row came first",
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


def is_results_name(path: Path) -> bool:
    return path.name.endswith(".results.xlsx")


def save_results(report: RunReport, target: Path) -> tuple[Path | None, list[str]]:
    """Write the results beside the input, else in the current folder, else in the temp
    folder: results are never lost to a read-only folder or a workbook open in Excel. Returns
    where they went (None: nowhere) and a line per place that failed."""
    import tempfile

    failures: list[str] = []
    for place in (target, Path.cwd() / target.name, Path(tempfile.gettempdir()) / target.name):
        try:
            return write_results(report, place), failures
        except OSError as exc:
            failures.append(f"cannot write {place} ({exc.strerror or exc})")
    return None, failures


def write_results(report: RunReport, target: Path) -> Path:
    """Write atomically; returns the path written (another name if the target is locked)."""
    checked = report.check
    table = checked.table
    outcomes = {o.row: o for o in checked.outcomes}
    status, appointment, error, source = OUTCOME_COLUMNS
    columns = [*table.columns, status, appointment, error, WARNINGS, source]
    index = {name: i for i, name in enumerate(table.columns)}

    def rows() -> Any:
        for row, cells in table.records():
            result = report.results[row]
            outcome = outcomes[row]
            invalid = result.status == "invalid"
            comments = row_comments(index, outcome.problems) if invalid else {}
            source_row = report.earlier.get(row, (None, None, row))[2]
            warnings = joined_problems(outcome.warnings)
            yield (
                [*cells, result.status, result.appointment_id, result.error, warnings, source_row],
                comments,
            )

    counts = report.counts()
    finished = report.finished or report.started
    summary: list[list[Any]] = [
        ["Item", "Value"],
        *[[f"Rows {status}", counts.get(status, 0)] for status in STATUS_ORDER],
        ["Rows in total", len(report.results)],
        ["Rows with warnings", sum(1 for o in checked.outcomes if o.warnings)],
        ["Started", report.started.strftime("%Y-%m-%d %H:%M:%S")],
        ["Finished", finished.strftime("%Y-%m-%d %H:%M:%S")],
        ["Duration (s)", round((finished - report.started).total_seconds(), 1)],
        [
            "Stopped early",
            report.stopped or ("interrupted (Ctrl-C)" if report.interrupted else "no"),
        ],
        ["Exit code", int(report.exit_code)],
        *[["Not checked", notice] for notice in checked.notices],
        ["Input file", str(checked.source)],
        ["Input SHA-256", checked.source_sha256],
        ["Sheet", table.sheet or "(CSV)"],
        ["Mapping file", str(checked.mapping.path)],
        ["API URL", report.api_url],
        ["Journal", str(report.journal_path)],
        ["Tool version", f"onoffice-import {tool_version()}"],
    ]
    if report.removed:
        summary.insert(
            len(STATUS_ORDER) + 2,
            ["Appointments of rows no longer in the file", len(report.removed)],
        )
    if checked.code_counts(Level.WARNING):
        summary += checked.code_table(Level.WARNING)
    widths = {len(table.columns) + 2: 60, len(table.columns) + 3: 50}
    sheets: list[RowsSheet | TableSheet] = [
        RowsSheet(RESULTS_SHEET, columns, rows(), widths),
        TableSheet("Summary", summary),
    ]
    if report.removed:
        removed: list[list[Any]] = [list(REMOVED_COLUMNS)]
        removed += [
            [r.appointment_id, r.source_row, r.start, r.subject, r.status, r.message]
            for r in report.removed
        ]
        sheets.append(TableSheet(REMOVED_SHEET, removed))
    statuses: list[list[Any]] = [["Status", "Meaning"]]
    statuses += [[status, MEANINGS[status]] for status in STATUS_ORDER]
    sheets.append(TableSheet("Statuses", statuses))
    return write_workbook(target, sheets)
