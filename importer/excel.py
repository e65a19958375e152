"""Excel's geometry, and the layout of our own results workbook: shared by the reader
(:mod:`importer.load`, which takes a results workbook as input again) and the writers
(:mod:`importer.xlsx_write`, :mod:`importer.results`); neither depends on the other."""

from __future__ import annotations

from typing import Final

CELL_LIMIT: Final = 32_767  # characters a cell holds (Excel's specifications and limits)

# The results workbook: the input's columns, then these (Warnings before Source row).
RESULTS_SHEET: Final = "Results"
REMOVED_SHEET: Final = "Removed"  # appointments of rows no longer in the file
STATUS, APPOINTMENT_ID, ERROR, WARNINGS, SOURCE_ROW = (
    "Status",
    "Appointment ID",
    "Error",
    "Warnings",
    "Source row",
)
OUTCOME_COLUMNS: Final = (STATUS, APPOINTMENT_ID, ERROR, SOURCE_ROW)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
