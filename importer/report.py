"""The check report workbook: every row as the user entered it, its status and problems.

Sheet *Rows*: the input columns, then ``Status``, ``Errors``, ``Warnings``, ``Source row`` (and
``Plan`` when :func:`importer.submit.preview` filled it); faulty cells red with a comment.
Sheet *Summary*: the file, the mapping, counts, the plan, the codes found. Sheet *Problems*:
one line per problem. The cell helpers here are shared with the results workbook
(:mod:`importer.results`), so both show a problem the same way.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import SourceFileError
from .problems import Level, RowProblem
from .workbook import RowsSheet, TableSheet, write_workbook

if TYPE_CHECKING:
    from .check import CheckReport


def write_report(result: CheckReport, target: str | Path | None = None) -> Path:
    """Write the report workbook (default: <input>.check.xlsx beside the input)."""
    path = Path(target) if target is not None else default_report_path(result.source)
    try:
        result.report_path = write_workbook(path, report_sheets(result))
    except OSError as exc:
        raise SourceFileError(
            f"cannot write the report {path} ({exc.strerror or exc})",
            file=str(result.source),
            code="report-unwritable",
        ) from None
    return result.report_path


def default_report_path(source: Path) -> Path:
    return source.with_name(f"{source.stem}.check.xlsx")


def row_comments(index: dict[str, int], problems: list[RowProblem]) -> dict[int, str]:
    """Column index -> the problems of that cell, for red fills and comments.

    ``index`` maps the table's column names to their positions.
    """
    comments: dict[int, list[str]] = {}
    for p in problems:
        for column in p.columns:
            if column in index:
                comments.setdefault(index[column], []).append(
                    f"{'Warning' if not p.is_error else 'Error'} [{p.code}]: {p.message}"
                )
    return {
        i: "\n".join(dict.fromkeys(texts))
        for i, texts in comments.items()
        if any(t.startswith("Error") for t in texts)
    }


def joined_problems(problems: list[RowProblem]) -> str | None:
    lines = [
        f"[{p.code}] {p.message}" + (f" ({', '.join(p.columns)})" if p.columns else "")
        for p in problems
    ]
    return "\n".join(lines) or None


def report_sheets(report: CheckReport) -> list[RowsSheet | TableSheet]:
    table = report.table
    plan = report.plan
    columns = [*table.columns, "Status", "Errors", "Warnings", "Source row"]
    columns += ["Plan"] if plan else []
    by_row = {o.row: o for o in report.outcomes}
    index = {name: i for i, name in enumerate(table.columns)}

    def rows() -> Any:
        for row, cells in table.records():
            problems = by_row[row].problems
            planned = (plan.get(row),) if plan else ()
            if not problems:
                yield (*cells, "valid", None, None, row, *planned), {}
                continue
            errors = [p for p in problems if p.is_error]
            yield (
                (
                    *cells,
                    "invalid" if errors else "valid",
                    joined_problems(errors),
                    joined_problems([p for p in problems if not p.is_error]),
                    row,
                    *planned,
                ),
                row_comments(index, problems) if errors else {},  # red cells are errors only
            )

    widths = {len(table.columns) + 1: 60, len(table.columns) + 2: 40}
    summary: list[list[Any]] = [
        ["Item", "Value"],
        ["Input file", str(report.source)],
        ["Input SHA-256", report.source_sha256],
        ["Sheet", table.sheet or "(CSV)"],
        ["Header row", table.header_row],
        [
            "Encoding / delimiter",
            f"{table.encoding} / {table.delimiter!r}" if table.encoding else "(Excel)",
        ],
        ["Mapping file", str(report.mapping.path)],
        ["Checked at", report.started.strftime("%Y-%m-%d %H:%M:%S")],
        ["Rows read", len(report.outcomes)],
        ["Valid", report.valid_count],
        ["Invalid", report.invalid_count],
        [
            "Look-ups",
            "not checked (run with --resolve): " + ", ".join(report.unresolved)
            if report.unresolved
            else "checked",
        ],
    ]
    if plan:
        counts = Counter(plan.values())
        summary += [
            [f"Plan: {action}", counts.get(action, 0)]
            for action in ("create", "update", "unchanged")
        ]
        extra = {"settle": "settle (answer lost earlier)", "duplicate": "duplicate (not sent)"}
        summary += [[f"Plan: {label}", counts[a]] for a, label in extra.items() if counts[a]]
        summary += [["Plan: appointments of rows no longer in the file", report.plan_removed]]
    summary += [["File warning", w] for w in report.file_warnings]
    summary += [["Not checked", n] for n in report.notices]
    summary += report.code_table(Level.ERROR)
    if report.code_counts(Level.WARNING):
        summary += report.code_table(Level.WARNING)
    problem_rows: list[list[Any]] = [["Row", "Level", "Code", "Columns", "Message", "Value"]]
    problem_rows += [
        [
            p.row,
            p.level.value,
            p.code,
            ", ".join(p.columns),
            p.message,
            None if p.value is None else str(p.value),
        ]
        for p in report.problems
    ]
    return [
        RowsSheet("Rows", columns, rows(), widths),
        TableSheet("Summary", summary),
        TableSheet("Problems", problem_rows),
    ]
