"""The check report workbook, in the user's language: which rows fail, why, in which cell.

Sheet *Rows*: ``Status`` (filled: green valid, red invalid, amber with warnings), ``Plan``
(when :func:`importer.run.submit.planned_check` filled it), ``Errors`` and ``Warnings`` first,
frozen so they stay in view; then the row as the user entered it, with its faulty cells red and
a note on each; then ``Source row`` (the row in the user's file).
Sheet *Summary*: the counts and the next step in words first, then what was not checked, the
plan, the technical details, and each problem code with what it means.
Sheet *Problems*: one line per problem with its stable code, each linked to its cell.
The cell helpers here are shared with the results workbook (:mod:`importer.output.results`), so both
show a problem the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.bulk import collector_paused
from ..core.errors import SourceFileError
from ..core.excel import (
    ERRORS,
    LIST_LABEL,
    OUTCOME_FILLS,
    PLAN,
    PROBLEMS_SHEET,
    ROWS_SHEET,
    SOURCE_ROW,
    STATUS,
    SUMMARY_SHEET,
    WARNINGS,
    column_letter,
    outcome_header,
    status_word,
)
from ..core.i18n import N_, _, as_typed, ngettext, number, when
from ..core.problems import CODES, UNCONFIRMED, Level, RowProblem, joined_problems, sentence, where
from ..onoffice.account import account_lines
from ..onoffice.reference import list_name
from ..source.load import TypedCells
from .workbook import RowsSheet, TableSheet, write_workbook
from .xlsx_write import Filled

if TYPE_CHECKING:
    from ..rules.check import CheckReport

FOR_SUPPORT = N_("For support")  # what a helpdesk asks for; the office needs none of it
# What a look-up checks, in words (the mapping's `lookup:` kinds).
LOOKUP_WORDS = {
    "estate": N_("estate numbers"),
    "address": N_("contacts"),
    "user": N_("agents (users)"),
    "group": N_("groups"),
    "resource": N_("resources"),
    "type": N_("appointment types"),
}
PLAN_WORDS = {
    "create": N_("create"),
    "update": N_("update"),
    "unchanged": N_("leave as it is"),
    "settle": N_("settle (an earlier answer was lost)"),
    "duplicate": N_("duplicate (not sent)"),
    "conflict": N_("conflict (not sent)"),
    "ambiguous": N_("ask which appointment (not sent)"),
    "hold": N_("wait (not sent)"),
}


@dataclass(frozen=True)
class ForWeb:
    """A workbook the web app writes for the office: it names the file as the office chose
    it and the mapping as it saved it, and no command line, option, folder or file of ours
    (the upload's copy, a mapping never saved, the ledger) the office never had."""

    file_name: str  # the file the office uploaded
    mapping: str | None = None  # the saved mapping's name; None: one not saved (a draft)

    def mapping_words(self) -> str:
        if self.mapping is None:
            return _("made in the web app, not saved")
        return _("“{name}” (saved in the web app)").format(name=self.mapping)


def write_report(
    result: CheckReport,
    target: str | Path | None = None,
    web: ForWeb | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the report workbook (default: <input>.check.xlsx beside the input; ``progress``:
    told rows written of rows, every few hundred rows: the web app's check page counts them)."""
    path = Path(target) if target is not None else default_report_path(result.source)
    try:
        with collector_paused():  # the sheets' rows are built here: millions of objects
            result.report_path = write_workbook(path, report_sheets(result, web, progress))
    except OSError as exc:
        raise SourceFileError(
            _("cannot write the report {path} ({why})").format(path=path, why=exc.strerror or exc),
            file=str(result.source),
            code="report-unwritable",
        ) from None
    return result.report_path


def _list_of(report: CheckReport, web: ForWeb | None) -> str:
    """The list the checked file is: the plan's, else the one our workbook's Summary names,
    else the file's name as the office chose it (not the web app's copy of it)."""
    if report.list_name or report.table.results_list:
        return str(report.list_name or report.table.results_list)
    return list_name(web.file_name if web is not None else report.source)


def default_report_path(source: Path) -> Path:
    return source.with_name(f"{source.stem}.check.xlsx")


def row_comments(index: dict[str, int], problems: list[RowProblem]) -> dict[int, str]:
    """Column index -> the errors of that cell, for red fills and notes (warnings are in their
    own column: a red cell always means the row is not sent)."""
    comments: dict[int, list[str]] = {}
    for p in problems:
        if p.is_error:
            for column in p.columns:
                if column in index:
                    comments.setdefault(index[column], []).append(sentence(p.message))
    return {i: "\n".join(dict.fromkeys(texts)) for i, texts in comments.items()}


class OutcomeCells(dict[tuple[str, bool], Filled]):
    """The Status cell of each outcome (with or without warnings), made once per workbook:
    a sheet of 100,000 rows has only a handful of different ones."""

    def __missing__(self, key: tuple[str, bool]) -> Filled:
        status, warned = key
        fill = OUTCOME_FILLS.get(status, "neutral")
        self[key] = Filled(status_word(status), "neutral" if warned and fill == "good" else fill)
        return self[key]


def summary_sheet(rows: list[list[Any]]) -> TableSheet:
    """A Summary as it prints on one readable page: labels, then sentences, then codes, each
    column as wide as a page allows and wrapped (a long value never widens the page)."""
    return TableSheet(
        _(SUMMARY_SHEET),
        rows,
        header=False,  # its first line is a title, not column names to repeat on every page
        wrap=frozenset({0, 1, 2}),
        widths={0: 30.0, 1: 70.0, 2: 26.0},
        left=True,
    )


def code_rows(counts: Counter[str], level: Level) -> list[list[Any]]:
    """A Summary block: the codes with their row counts and what each means."""
    if not counts:
        return []
    title = _("Errors") if level is Level.ERROR else _("Warnings")
    rows: list[list[Any]] = [[], [title, _("What it means, what to do"), _("Code (for scripts)")]]
    rows += [
        [ngettext("{n} row", "{n} rows", n).format(n=number(n)), _(CODES.get(code, "")), code]
        for code, n in counts.most_common()
    ]
    return rows


def lookups_not_checked(kinds: Sequence[str]) -> str:
    words = [_(LOOKUP_WORDS.get(k, k)) for k in dict.fromkeys(kinds)]
    return _("{things} were not checked against onOffice; add --resolve to check them").format(
        things=", ".join(words)
    )


def account_rows(report: CheckReport) -> list[list[Any]]:
    """A Summary block: what the account answered (the lines of `onoffice-import account`),
    when the check or run asked it."""
    if report.account is None:
        return []
    return [[], [_("The onOffice account"), ""], *map(list, account_lines(report.account))]


def _planned(action: str | None, note: str) -> str | None:
    """The Plan column: what a run would do, and with which appointment or why not."""
    if action is None:
        return None
    word = _(PLAN_WORDS.get(action, action))
    return f"{word}: {note}" if note else word


def report_sheets(
    report: CheckReport,
    web: ForWeb | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[RowsSheet | TableSheet]:
    table = report.table
    plan = report.plan
    taken = table.columns
    lead = [outcome_header(h, taken) for h in (STATUS, *([PLAN] if plan else []), ERRORS, WARNINGS)]
    columns = [*lead, *table.columns, outcome_header(SOURCE_ROW, taken)]
    message = len(lead) - 2  # the Errors column
    by_row = {o.row: o for o in report.outcomes}
    index = {name: i + len(lead) for i, name in enumerate(table.columns)}
    place = {row: n for n, row in enumerate(table.row_numbers, start=2)}  # row in the report

    outcome = OutcomeCells()

    def rows() -> Iterator[tuple[Sequence[Any], dict[int, str]]]:
        total = len(by_row)
        for n, (row, cells) in enumerate(table.records()):
            if progress is not None and n % 500 == 0:
                progress(n, total)
            problems = by_row[row].problems
            planned: tuple[str | None, ...] = (
                (_planned(plan.get(row), report.plan_notes.get(row, "")),) if plan else ()
            )
            if not problems:
                yield (outcome["valid", False], *planned, None, None, *cells, row), {}
                continue
            errors = [p for p in problems if p.is_error]
            warnings = [p for p in problems if not p.is_error]
            # a row the account has not confirmed: its own word (its cell named in Warnings)
            doubted = any(p.code == UNCONFIRMED for p in warnings)
            status = "invalid" if errors else "unconfirmed" if doubted else "valid"
            yield (
                (
                    outcome[status, bool(warnings)],
                    *planned,
                    joined_problems(errors),
                    joined_problems(warnings),
                    *cells,
                    row,
                ),
                row_comments(index, errors),
            )
        if progress is not None:
            progress(total, total)

    sheet = RowsSheet(
        _(ROWS_SHEET),
        columns,
        rows(),
        {},
        wrap=frozenset({message, message + 1}),
        frozen=message + 1,
    )
    return [
        sheet,
        summary_sheet(summary(report, web)),
        problems_sheet(report, index, place, sheet.name, message),
    ]


def problems_sheet(
    report: CheckReport,
    index: dict[str, int],
    place: dict[int, int],
    rows_sheet: str,
    message_column: int,
) -> TableSheet:
    """One line per problem, each linked to its cell in the Rows sheet; the value as the user
    typed it; the stable code last (for filters and scripts)."""
    quoted = "'" + rows_sheet.replace("'", "''") + "'"
    rows: list[list[Any]] = [
        [
            _("Row"),  # the file's, as the office knows it; linked to its cell in the report
            _("Level"),
            _("Column"),
            _("Message"),
            _("Value"),
            _("Code"),
        ]
    ]
    links = []
    level = {True: _("error"), False: _("warning")}
    typed = TypedCells(report.table)
    letters: dict[tuple[str, ...], str] = {}  # the problems of a file name few column sets
    places: dict[tuple[str, ...], str] = {}
    for p in report.problems:
        at = place.get(p.row)
        if p.columns not in letters:
            column = next((index[c] for c in p.columns if c in index), message_column)
            letters[p.columns] = f"{quoted}!{column_letter(column)}"
            places[p.columns] = where(p)
        if at is not None:
            links.append((len(rows), 0, f"{letters[p.columns]}{at}"))
        value = typed(p.row, p.columns) if p.columns else p.value
        rows.append(
            [
                p.row,
                level[p.is_error],
                places[p.columns] if p.columns else where(p),
                sentence(p.message),
                None if value is None else as_typed(value),  # 05.03.2027, as typed
                p.code,
            ]
        )
    return TableSheet(
        # one line a problem, for filtering; the Rows sheet shows each message whole, wrapped
        _(PROBLEMS_SHEET),
        rows,
        links=links,
        autofilter=True,
        wrap=frozenset({3}),
        widths={3: 70.0},
        left=True,  # row numbers beside the words they belong to, not into the next column
    )


def summary(report: CheckReport, web: ForWeb | None = None) -> list[list[Any]]:
    """The counts and the next step first, then what was not checked, the technical details,
    and the codes found."""
    table = report.table
    total, invalid = len(report.outcomes), report.invalid_count
    valid = total - invalid
    result = ngettext(  # the verb agrees with the first number: "1 von 3 Zeilen ist gültig"
        "{valid} of {total} rows is valid", "{valid} of {total} rows are valid", valid
    ).format(valid=number(valid), total=number(total))
    if invalid:
        result += "; " + ngettext(
            "{n} row has errors and will not be imported",
            "{n} rows have errors and will not be imported",
            invalid,
        ).format(n=number(invalid))
    unconfirmed = report.unconfirmed_count
    if unconfirmed:
        result += "; " + ngettext(
            "{n} row is unconfirmed: onOffice has not shown its appointment type yet and may "
            "refuse it",
            "{n} rows are unconfirmed: onOffice has not shown their appointment types yet and "
            "may refuse them",
            unconfirmed,
        ).format(n=number(unconfirmed))
    if invalid:
        step = _(
            "Fix the red cells in the sheet “{sheet}” (the column “{errors}” says why), "
            "then check the file again."
        ).format(sheet=_(ROWS_SHEET), errors=_(ERRORS))
    elif unconfirmed:
        step = _(
            "Check the appointment types of the unconfirmed rows (amber): a run sends them as "
            "written, and a type onOffice refuses is named as refused at the next check."
        )
    else:
        step = _("Every row can be imported: run the import with the same file and mapping.")
    rows: list[list[Any]] = [
        [_("Check of {file}").format(file=web.file_name if web else report.source.name), ""],
        [_("Result"), result],
        [_("Next step"), step],
    ]
    with_warnings = sum(1 for o in report.outcomes if o.warnings)
    if with_warnings:
        rows.append(
            [
                _("Warnings"),
                ngettext(
                    "{n} row has warnings: it will be imported; read the column “{column}”",
                    "{n} rows have warnings: they will be imported; read the column “{column}”",
                    with_warnings,
                ).format(n=number(with_warnings), column=_(WARNINGS)),
            ]
        )
    if report.unresolved:
        rows.append([_("Not checked"), lookups_not_checked(report.unresolved)])
    rows += [[_("Not checked"), n] for n in report.notices]
    rows += [[_("File warning"), w] for w in report.file_warnings]
    if report.plan:
        counts = Counter(report.plan.values())
        rows += [
            [_("Plan: {action}").format(action=_(PLAN_WORDS[a])), counts[a]]
            for a in PLAN_WORDS
            if counts[a] or a in ("create", "update", "unchanged")
        ]
        rows.append([_("Plan: appointments of rows no longer in the file"), report.plan_removed])
    rows += account_rows(report)
    encoding = (
        f"{table.encoding} / {table.delimiter!r}" if table.encoding else _("(Excel workbook)")
    )
    rows += [
        [],
        [_(FOR_SUPPORT), ""],
        [_("Input file"), web.file_name if web else str(report.source)],
        # read back when the report comes back corrected: its rows stay the list's
        [_(LIST_LABEL), _list_of(report, web)],
        [_("Sheet"), table.sheet or _("(CSV)")],
        [_("Header row"), table.header_row],
        [_("Encoding / delimiter"), encoding],
        [_("Mapping"), web.mapping_words() if web else str(report.mapping.path)],
        [_("Checked at"), when(report.started)],
        [_("Input SHA-256"), report.source_sha256],
    ]
    rows += code_rows(report.code_counts(Level.ERROR), Level.ERROR)
    rows += code_rows(report.code_counts(Level.WARNING), Level.WARNING)
    return rows
