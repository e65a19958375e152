"""Excel's geometry, shared by the reader (:mod:`importer.load`) and the writer
(:mod:`importer.xlsx_write`): neither depends on the other."""

from __future__ import annotations

from typing import Final

CELL_LIMIT: Final = 32_767  # characters a cell holds (Excel's specifications and limits)


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
