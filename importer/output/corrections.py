"""Corrections typed into a results workbook by a program: the web app's "fix a row".

A person fixes a row by typing into the results workbook and sending the failed rows again
(``run results.xlsx --only-failed``). :func:`correct_cells` does the same typing for the web
app: it writes the new values into the named cells of the rows sheet and nothing else, so the
workbook stays the one the CLI reads.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..core.errors import SourceFileError
from ..core.i18n import _


def correct_cells(workbook: Path, cells: Mapping[tuple[int, str], str]) -> int:
    """Write ``cells`` ((row number, column header) -> text) into the first sheet of
    ``workbook``; returns how many cells changed. The file is replaced in one step, so a
    failure leaves it as it was."""
    from openpyxl import load_workbook

    name = str(workbook)
    try:
        book = load_workbook(workbook)
    except (OSError, ValueError, KeyError) as exc:
        raise SourceFileError(
            _("cannot open the results workbook ({why})").format(why=exc), file=name
        ) from None
    sheet = book.worksheets[0]
    header = {str(cell.value).strip(): cell.column for cell in sheet[1] if cell.value is not None}
    changed = 0
    for (row, column), text in cells.items():
        if column not in header:
            raise SourceFileError(
                _("no column {column!r} in the results workbook").format(column=column),
                file=name,
                column=column,
            )
        if row < 2 or row > sheet.max_row:
            raise SourceFileError(_("no such row in the results workbook"), file=name, row=row)
        cell = sheet.cell(row=row, column=header[column])
        value = text.strip() or None
        if cell.value != value:
            cell.value = value
            if value is not None:
                cell.data_type = "s"  # typed text, never a formula ("=== Besichtigung ===")
            changed += 1
    if changed:
        temporary = workbook.with_name(f".{workbook.name}.tmp")
        book.save(temporary)
        os.replace(temporary, workbook)
    return changed
