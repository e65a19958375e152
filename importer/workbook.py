"""Writing report and results workbooks: the user's rows as they typed them, plus outcome columns.

- Text is always written as text (``=``, ``+``, ``-``, ``@`` never become formulas, no URLs, no
  numbers guessed); control characters are escaped, never crash the writer; over-long text is cut
  with a visible marker (the report is not the data).
- Faulty cells are filled red and carry a comment naming the problem.
- Written to a temporary file beside the target and renamed into place: never a half-written
  file. If the target cannot be replaced (open in Excel), an alternative name is used and
  returned.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

EXCEL_CELL_LIMIT = 32_767
_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "remove_timezone": True,
}
_NUMBER_FORMATS = {
    "datetime": "dd.mm.yyyy hh:mm",
    "date": "dd.mm.yyyy",
    "time": "hh:mm",
    "duration": "[h]:mm",
    "plain": None,
}


@dataclass
class RowsSheet:
    """One sheet of rows: the input columns, then the outcome columns."""

    name: str
    columns: Sequence[str]
    rows: Iterable[tuple[Sequence[Any], dict[int, str]]]  # values, {column index: comment}
    widths: dict[int, float] = field(default_factory=dict)


@dataclass
class TableSheet:
    """A plain sheet (summary, problem list)."""

    name: str
    rows: Sequence[Sequence[Any]]
    header: bool = True


def _kind(value: Any) -> str:
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, time):
        return "time"
    if isinstance(value, timedelta):
        return "duration"
    return "plain"


class _Formats:
    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
        self.cache: dict[tuple[str, bool], Any] = {}
        self.header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})

    def get(self, kind: str, bad: bool) -> Any:
        key = (kind, bad)
        if key not in self.cache:
            spec: dict[str, Any] = {}
            if _NUMBER_FORMATS[kind]:
                spec["num_format"] = _NUMBER_FORMATS[kind]
            if bad:
                spec.update(bg_color="#FFC7CE", font_color="#9C0006")
            self.cache[key] = self.book.add_format(spec) if spec else None
        return self.cache[key]


def safe_text(value: str) -> str:
    if len(value) > EXCEL_CELL_LIMIT:
        marker = " …[cut: the cell held more than Excel's 32,767 characters]"
        return value[: EXCEL_CELL_LIMIT - len(marker)] + marker
    return value


def write_cell(
    sheet: Worksheet, formats: _Formats, row: int, col: int, value: Any, bad: bool = False
) -> None:
    kind = _kind(value)
    fmt = formats.get(kind, bad)
    if value is None:
        if bad:
            sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            sheet.write_string(row, col, str(value), fmt)
        else:
            sheet.write_number(row, col, value, fmt)
    elif kind == "date":
        sheet.write_datetime(row, col, datetime.combine(value, time(0)), fmt)
    elif kind in ("datetime", "time"):
        sheet.write_datetime(row, col, value, fmt)
    elif kind == "duration":
        sheet.write_number(row, col, value.total_seconds() / 86400, fmt)
    else:
        sheet.write_string(
            row, col, safe_text(value if isinstance(value, str) else str(value)), fmt
        )


def _write_rows(book: xlsxwriter.Workbook, formats: _Formats, spec: RowsSheet) -> None:
    sheet = book.add_worksheet(spec.name[:31])
    for col, title in enumerate(spec.columns):
        sheet.write_string(0, col, safe_text(str(title)), formats.header)
        sheet.set_column(col, col, spec.widths.get(col, max(10, min(40, len(str(title)) + 4))))
    sheet.freeze_panes(1, 0)
    count = 0
    write_string = sheet.write_string
    for count, (values, comments) in enumerate(spec.rows, start=1):
        for col, value in enumerate(values):
            # Fast path for the common case: short text in a cell without a problem.
            if type(value) is str and len(value) <= EXCEL_CELL_LIMIT and col not in comments:
                write_string(count, col, value)
            elif value is not None or col in comments:
                write_cell(sheet, formats, count, col, value, bad=col in comments)
        for col, comment in comments.items():
            sheet.write_comment(
                count, col, safe_text(comment)[:30_000], {"x_scale": 2.5, "y_scale": 1.5}
            )
    sheet.autofilter(0, 0, max(count, 1), max(len(spec.columns) - 1, 0))


def _write_table(book: xlsxwriter.Workbook, formats: _Formats, spec: TableSheet) -> None:
    sheet = book.add_worksheet(spec.name[:31])
    widths: dict[int, int] = {}
    for r, values in enumerate(spec.rows):
        for col, value in enumerate(values):
            if r == 0 and spec.header:
                sheet.write_string(0, col, str(value), formats.header)
            else:
                write_cell(sheet, formats, r, col, value)
            widths[col] = max(widths.get(col, 8), min(80, len(str(value)) + 2))
    for col, width in widths.items():
        sheet.set_column(col, col, width)
    if spec.header:
        sheet.freeze_panes(1, 0)


def write_workbook(target: Path, sheets: Sequence[RowsSheet | TableSheet]) -> Path:
    """Write atomically; return the path written (another name if the target is locked)."""
    target = Path(target)
    temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        book = xlsxwriter.Workbook(str(temp), _OPTIONS)
        formats = _Formats(book)
        for spec in sheets:
            if isinstance(spec, RowsSheet):
                _write_rows(book, formats, spec)
            else:
                _write_table(book, formats, spec)
        book.close()
        return _move_into_place(temp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def _move_into_place(temp: Path, target: Path) -> Path:
    for n in range(0, 20):
        candidate = (
            target if n == 0 else target.with_name(f"{target.stem} ({n + 1}){target.suffix}")
        )
        try:
            os.replace(temp, candidate)
            return candidate
        except PermissionError:
            continue  # Windows: the file is open in Excel
    raise PermissionError(f"cannot write {target} or an alternative name beside it")
