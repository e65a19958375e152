"""The results workbook: every input row as the user entered it, plus its outcome.

Sheet *Results*: the original columns, then ``Status``, ``Appointment ID``, ``Error``,
``Warnings`` (double bookings, past dates, …) and ``Source row``; faulty cells of invalid
rows are red with a comment, as in the check report.
Sheet *Summary*: counts per status and per warning code, times, the input file and its
SHA-256, the mapping, the API URL (never a token or secret), the tool version.
The workbook is a valid input again: the outcome columns are set aside when it is loaded,
and re-running it updates it in place.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from .check import joined_problems, row_comments
from .problems import Level
from .submit import OUTCOME_COLUMNS, STATUSES, RunReport
from .workbook import RowsSheet, TableSheet, write_workbook

RESULTS_SHEET = "Results"
STATUS_ORDER = STATUSES


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


def write_results(report: RunReport, target: Path) -> Path:
    """Write atomically; returns the path written (another name if the target is locked)."""
    checked = report.check
    table = checked.table
    outcomes = {o.row: o for o in checked.outcomes}
    status, appointment, error, source = OUTCOME_COLUMNS
    columns = [*table.columns, status, appointment, error, "Warnings", source]
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
    if checked.code_counts(Level.WARNING):
        summary += checked.code_table(Level.WARNING)
    widths = {len(table.columns) + 2: 60, len(table.columns) + 3: 50}
    return write_workbook(
        target, [RowsSheet(RESULTS_SHEET, columns, rows(), widths), TableSheet("Summary", summary)]
    )
